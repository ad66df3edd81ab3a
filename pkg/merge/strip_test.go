package merge

import (
	"bufio"
	"bytes"
	"encoding/json"
	"errors"
	"io"
	"os"
	"path/filepath"
	"reflect"
	"sort"
	"strings"
	"testing"

	"istio.io/api/annotation"
	meshconfig "istio.io/api/mesh/v1alpha1"
	corev1 "k8s.io/api/core/v1"
	utilyaml "k8s.io/apimachinery/pkg/util/yaml"
	"sigs.k8s.io/yaml"

	"github.com/inject-sidecar/inject-sidecar/pkg/config"
)

func TestStripTable(t *testing.T) {
	f := loadCaseFile(t, "strip.yaml")
	for _, tc := range f.Cases {
		t.Run(tc.Name, func(t *testing.T) {
			pod := decodePod(t, tc.Pod)
			before := pod.DeepCopy()
			got, err := Strip(pod, tc.Params.build(t))
			if !reflect.DeepEqual(pod, before) {
				t.Errorf("Strip modified its input pod")
			}
			if tc.Want.Error != "" {
				if err == nil || !strings.Contains(err.Error(), tc.Want.Error) {
					t.Fatalf("error = %v, want one containing %q", err, tc.Want.Error)
				}
				return
			}
			if err != nil {
				t.Fatalf("Strip: %v", err)
			}
			checkWant(t, got, tc.Want)
		})
	}
}

func TestStripNil(t *testing.T) {
	if _, err := Strip(nil, Params{}); err == nil {
		t.Fatal("Strip(nil) gave no error")
	}
	if _, err := Apply(nil, nil, Params{}); err == nil {
		t.Fatal("Apply(nil) gave no error")
	}
	if _, err := Apply(&corev1.Pod{}, nil, Params{}); err == nil {
		t.Fatal("Apply without injector gave no error")
	}
}

// conformanceCase is the part of cases.json these tests read.
type conformanceCase struct {
	ID               string            `json:"id"`
	Input            string            `json:"input"`
	Expected         string            `json:"expected"`
	Env              map[string]string `json:"env"`
	KubeInjectTested bool              `json:"kubeInjectTested"`
}

// TestStripGoldens strips every injected pod of Istio's golden corpus and
// checks that what remains is the input's own containers: the names of
// the containers and init containers of Strip(expected) equal those of
// Strip(input) (the latter matters for inputs that were injected already).
// Volumes are checked to be left as they are, since Istio does not strip
// them either, and the status annotation and the agent's scrape port must
// be gone.
func TestStripGoldens(t *testing.T) {
	dir := conformanceDir(t)
	b, err := os.ReadFile(filepath.Join(dir, "cases.json"))
	if err != nil {
		t.Fatal(err)
	}
	var cases []conformanceCase
	if err := json.Unmarshal(b, &cases); err != nil {
		t.Fatalf("cases.json: %v", err)
	}
	checked := 0
	for _, c := range cases {
		if c.Expected == "" {
			continue
		}
		t.Run(c.ID, func(t *testing.T) {
			in := goldenPods(t, filepath.Join(dir, c.Input))
			out := goldenPods(t, filepath.Join(dir, c.Expected))
			if len(in) != len(out) {
				t.Fatalf("%d pod templates in the input, %d in the golden", len(in), len(out))
			}
			p := Params{
				Injector: &config.Injector{Mesh: &meshconfig.MeshConfig{DefaultConfig: &meshconfig.ProxyConfig{StatusPort: 15020}}},
				Options:  config.Options{Platform: strings.ToLower(c.Env["PLATFORM"]), DecisionMode: config.DecideLikeKubeInject},
			}
			if !c.KubeInjectTested {
				p.Options.DecisionMode = config.DecideLikeWebhook
			}
			for i := range in {
				wantPod, err := Strip(in[i], p)
				if err != nil {
					t.Fatalf("strip input %d: %v", i, err)
				}
				got, err := Strip(out[i], p)
				if err != nil {
					t.Fatalf("strip golden %d: %v", i, err)
				}
				// Compared over both lists: a user's istio-proxy recorded in
				// proxy.istio.io/overrides under native sidecars comes back
				// among the init containers, as in Istio.
				if g, w := allNames(got), allNames(wantPod); !reflect.DeepEqual(g, w) {
					t.Errorf("pod %d: containers %v, want %v", i, g, w)
				}
				if !sameJSON(t, got.Spec.Volumes, out[i].Spec.Volumes) {
					t.Errorf("pod %d: volumes changed by Strip", i)
				}
				if _, ok := got.Annotations[annotation.SidecarStatus.Name]; ok {
					t.Errorf("pod %d: status annotation left", i)
				}
				if port, ok := prometheusAnnotation(got.Annotations, promPort); ok && port == "15020" {
					t.Errorf("pod %d: agent scrape port left", i)
				}
			}
		})
		checked++
	}
	if checked < 100 {
		t.Errorf("only %d golden cases checked", checked)
	}
}

// allNames lists "containers/<name>" and "initContainers/<name>" entries,
// except that istio-proxy counts alike in both lists; sorted.
func allNames(pod *corev1.Pod) []string {
	var names []string
	for _, c := range pod.Spec.Containers {
		names = append(names, listName("containers", c.Name))
	}
	for _, c := range pod.Spec.InitContainers {
		names = append(names, listName("initContainers", c.Name))
	}
	sort.Strings(names)
	return names
}

func listName(list, name string) string {
	if name == proxyName {
		return name
	}
	return list + "/" + name
}

// goldenPods returns the pod templates of a corpus file, in document
// order: Pods, the templates of workloads (spec.template, or
// spec.jobTemplate.spec.template for CronJobs), recursing into Lists.
func goldenPods(t *testing.T, path string) []*corev1.Pod {
	t.Helper()
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	var pods []*corev1.Pod
	r := utilyaml.NewYAMLReader(bufio.NewReader(bytes.NewReader(b)))
	for {
		doc, err := r.Read()
		if errors.Is(err, io.EOF) {
			break
		}
		if err != nil {
			t.Fatalf("%s: %v", path, err)
		}
		var obj map[string]any
		if err := yaml.Unmarshal(doc, &obj); err != nil {
			t.Fatalf("%s: %v", path, err)
		}
		pods = append(pods, podsOf(t, obj)...)
	}
	return pods
}

func podsOf(t *testing.T, obj map[string]any) []*corev1.Pod {
	t.Helper()
	if obj == nil {
		return nil
	}
	get := func(m map[string]any, keys ...string) map[string]any {
		for _, k := range keys {
			next, _ := m[k].(map[string]any)
			if next == nil {
				return nil
			}
			m = next
		}
		return m
	}
	var tmpl map[string]any
	switch obj["kind"] {
	case "List":
		items, _ := obj["items"].([]any)
		var out []*corev1.Pod
		for _, it := range items {
			m, _ := it.(map[string]any)
			out = append(out, podsOf(t, m)...)
		}
		return out
	case "Pod":
		tmpl = obj
	case "CronJob":
		// The pod metadata Istio edits is the job template's.
		tmpl = map[string]any{
			"metadata": get(obj, "spec", "jobTemplate", "metadata"),
			"spec":     get(obj, "spec", "jobTemplate", "spec", "template", "spec"),
		}
	default:
		tmpl = get(obj, "spec", "template")
	}
	if tmpl == nil {
		return nil
	}
	b, err := json.Marshal(map[string]any{"metadata": tmpl["metadata"], "spec": tmpl["spec"]})
	if err != nil {
		t.Fatal(err)
	}
	pod := &corev1.Pod{}
	if err := json.Unmarshal(b, pod); err != nil {
		t.Fatalf("pod template: %v", err)
	}
	return []*corev1.Pod{pod}
}
