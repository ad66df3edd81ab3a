package render

import (
	"bufio"
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"

	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/api/equality"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	utilyaml "k8s.io/apimachinery/pkg/util/yaml"
	"sigs.k8s.io/yaml"

	"github.com/inject-sidecar/inject-sidecar/pkg/config"
)

// These tests use Istio's golden corpus, which stays outside the repository
// (/work/shared/istio-conformance, i.e. ../shared/istio-conformance from the
// repository root; ISTIO_CONFORMANCE_DIR overrides). Without it they skip
// loudly, or fail when CI=true.

func conformanceDir(t *testing.T) string {
	t.Helper()
	dir := os.Getenv("ISTIO_CONFORMANCE_DIR")
	if dir == "" {
		dir = filepath.Join("..", "..", "..", "shared", "istio-conformance")
	}
	if _, err := os.Stat(filepath.Join(dir, "cases.json")); err != nil {
		msg := fmt.Sprintf("!!! ISTIO CONFORMANCE CORPUS NOT FOUND (%v): the golden-corpus tests of package render did NOT run; "+
			"set ISTIO_CONFORMANCE_DIR or provide ../shared/istio-conformance !!!", err)
		if os.Getenv("CI") == "true" {
			t.Fatal(msg)
		}
		t.Skip(msg)
	}
	return dir
}

type corpusCase struct {
	ID               string            `json:"id"`
	Input            string            `json:"input"`
	Expected         string            `json:"expected"`
	ExpectedError    string            `json:"expectedError"`
	InjectConfig     string            `json:"injectConfig"`
	Values           string            `json:"values"`
	Mesh             string            `json:"mesh"`
	Env              map[string]string `json:"env"`
	NativeSidecars   bool              `json:"nativeSidecars"`
	KubeInjectTested bool              `json:"kubeInjectTested"`
}

func loadCorpusCases(t *testing.T, dir string) []corpusCase {
	t.Helper()
	raw, err := os.ReadFile(filepath.Join(dir, "cases.json"))
	if err != nil {
		t.Fatal(err)
	}
	var cases []corpusCase
	if err := json.Unmarshal(raw, &cases); err != nil {
		t.Fatal(err)
	}
	return cases
}

// corpusInjector reads a case's three configuration files with pkg/config's
// parsers, as the pipeline does.
func corpusInjector(t *testing.T, dir string, c corpusCase) *config.Injector {
	t.Helper()
	read := func(name string) []byte {
		b, err := os.ReadFile(filepath.Join(dir, name))
		if err != nil {
			t.Fatal(err)
		}
		return b
	}
	ic, err := config.ParseInjectorConfig(read(c.InjectConfig))
	if err != nil {
		t.Fatalf("%s: %v", c.InjectConfig, err)
	}
	values, err := config.ParseValues(read(c.Values))
	if err != nil {
		t.Fatalf("%s: %v", c.Values, err)
	}
	mesh, err := config.ParseMesh(read(c.Mesh))
	if err != nil {
		t.Fatalf("%s: %v", c.Mesh, err)
	}
	return &config.Injector{
		Revision:         config.DefaultRevision,
		DefaultTemplates: ic.DefaultTemplates,
		Aliases:          ic.Aliases,
		Templates:        ic.Templates,
		Values:           values,
		Mesh:             mesh,
	}
}

// corpusOptions turns a case's environment into options.
func corpusOptions(c corpusCase) config.Options {
	opts := config.Options{
		NativeSidecars:   config.NativeSidecarsFalse,
		CompliancePolicy: c.Env["COMPLIANCE_POLICY"],
		Platform:         c.Env["PLATFORM"],
		// Istio's webhook test gives its namespace these OpenShift annotations.
		Namespaces: map[string]config.Namespace{"test-ns": {Annotations: map[string]string{
			"openshift.io/sa.scc.uid-range":           "1000620000/10000",
			"openshift.io/sa.scc.supplemental-groups": "1000620000/10000",
		}}},
	}
	if c.NativeSidecars {
		opts.NativeSidecars = config.NativeSidecarsTrue
	}
	return opts
}

type corpusPod struct {
	pod      *corev1.Pod
	workload Workload
}

// corpusPods finds the pod templates of an input file the way istioctl
// kube-inject does: per kind, Lists recursively; other kinds are skipped.
func corpusPods(t *testing.T, data []byte) []corpusPod {
	t.Helper()
	var pods []corpusPod
	reader := utilyaml.NewYAMLReader(bufio.NewReader(bytes.NewReader(data)))
	for {
		doc, err := reader.Read()
		if errors.Is(err, io.EOF) {
			break
		}
		if err != nil {
			t.Fatal(err)
		}
		pods = append(pods, podsOfDocument(t, doc)...)
	}
	return pods
}

func podsOfDocument(t *testing.T, doc []byte) []corpusPod {
	t.Helper()
	var obj struct {
		metav1.TypeMeta `json:",inline"`
		Metadata        metav1.ObjectMeta `json:"metadata"`
		Spec            struct {
			Template    *corev1.PodTemplateSpec `json:"template"`
			JobTemplate *struct {
				Metadata metav1.ObjectMeta `json:"metadata"`
				Spec     struct {
					Template corev1.PodTemplateSpec `json:"template"`
				} `json:"spec"`
			} `json:"jobTemplate"`
		} `json:"spec"`
		Items []json.RawMessage `json:"items"`
	}
	if err := yaml.Unmarshal(doc, &obj); err != nil {
		t.Fatal(err)
	}
	w := Workload{TypeMeta: obj.TypeMeta, Name: obj.Metadata.Name, Namespace: obj.Metadata.Namespace}
	switch obj.Kind {
	case "List":
		var pods []corpusPod
		for _, item := range obj.Items {
			pods = append(pods, podsOfDocument(t, item)...)
		}
		return pods
	case "Pod":
		var pod corev1.Pod
		if err := yaml.Unmarshal(doc, &pod); err != nil {
			t.Fatal(err)
		}
		return []corpusPod{{pod: &corev1.Pod{ObjectMeta: pod.ObjectMeta, Spec: pod.Spec}, workload: w}}
	case "CronJob":
		jt := obj.Spec.JobTemplate
		return []corpusPod{{pod: &corev1.Pod{ObjectMeta: jt.Metadata, Spec: jt.Spec.Template.Spec}, workload: w}}
	case "Deployment", "DaemonSet", "ReplicaSet", "StatefulSet", "Job", "DeploymentConfig", "ReplicationController":
		tpl := obj.Spec.Template
		return []corpusPod{{pod: &corev1.Pod{ObjectMeta: tpl.ObjectMeta, Spec: tpl.Spec}, workload: w}}
	}
	return nil
}

func findContainer(containers []corev1.Container, name string) *corev1.Container {
	for i := range containers {
		if containers[i].Name == name {
			return &containers[i]
		}
	}
	return nil
}

// TestRenderSidecarFromCorpus renders the chart's real sidecar template for
// hello.yaml and checks it against Istio's golden output
// (hello.yaml.cni.injected: CNI, native sidecars, network1).
func TestRenderSidecarFromCorpus(t *testing.T) {
	dir := conformanceDir(t)
	var c corpusCase
	for _, cc := range loadCorpusCases(t, dir) {
		if cc.Expected == "inject/hello.yaml.cni.injected" {
			c = cc
		}
	}
	if c.InjectConfig != "configs/inject-config-d521712c8b.yaml" || c.Values != "configs/values-c17411c347.json" ||
		c.Mesh != "configs/mesh-d3ed38e8ee.yaml" {
		t.Fatalf("corpus case for hello.yaml.cni.injected changed: %+v", c)
	}
	e := newEngine(t, corpusInjector(t, dir, c), corpusOptions(c))
	input, err := os.ReadFile(filepath.Join(dir, c.Input))
	if err != nil {
		t.Fatal(err)
	}
	pods := corpusPods(t, input)
	if len(pods) != 1 {
		t.Fatalf("%d pods in %s", len(pods), c.Input)
	}
	out, err := e.Render(pods[0].pod, pods[0].workload)
	if err != nil {
		t.Fatal(err)
	}
	if len(out.Overlays) != 1 || out.Overlays[0].Template != "sidecar" {
		t.Fatalf("overlays: %+v", out.Overlays)
	}
	var overlay corev1.Pod
	if err := yaml.Unmarshal(out.Overlays[0].YAML, &overlay); err != nil {
		t.Fatalf("overlay is not a Pod in YAML: %v\n%s", err, out.Overlays[0].YAML)
	}

	goldenRaw, err := os.ReadFile(filepath.Join(dir, c.Expected))
	if err != nil {
		t.Fatal(err)
	}
	golden := corpusPods(t, goldenRaw)[0].pod

	const wantImage = "registry.istio.io/testing/proxyv2:latest"
	proxy := findContainer(overlay.Spec.InitContainers, "istio-proxy") // native sidecar
	goldenProxy := findContainer(golden.Spec.InitContainers, "istio-proxy")
	if proxy == nil || goldenProxy == nil {
		t.Fatalf("istio-proxy init container missing: rendered %v, golden %v", proxy != nil, goldenProxy != nil)
	}
	if proxy.Image != wantImage || goldenProxy.Image != wantImage || out.ProxyImage != wantImage {
		t.Errorf("istio-proxy image: rendered %q, golden %q, Output %q; want %q", proxy.Image, goldenProxy.Image, out.ProxyImage, wantImage)
	}
	if proxy.RestartPolicy == nil || *proxy.RestartPolicy != corev1.ContainerRestartPolicyAlways {
		t.Errorf("istio-proxy restartPolicy = %v, want Always", proxy.RestartPolicy)
	}
	if !reflect.DeepEqual(proxy.Args, goldenProxy.Args) {
		t.Errorf("istio-proxy args:\n got %q\nwant %q", proxy.Args, goldenProxy.Args)
	}
	// istio-validation comes from the template alone: it must match (quantities compared by value).
	validation := findContainer(overlay.Spec.InitContainers, "istio-validation")
	goldenValidation := findContainer(golden.Spec.InitContainers, "istio-validation")
	if validation == nil || goldenValidation == nil || !equality.Semantic.DeepEqual(*validation, *goldenValidation) {
		t.Errorf("istio-validation differs from the golden:\n got %+v\nwant %+v", validation, goldenValidation)
	}
	if got, want := overlay.Labels["service.istio.io/canonical-name"], golden.Labels["service.istio.io/canonical-name"]; got != want {
		t.Errorf("canonical-name label = %q, want %q", got, want)
	}
	// After merging, Istio moves Output.ProxyEnv to the end of the proxy's
	// env; with that done, the rendered istio-proxy is the golden's.
	moved := map[string]bool{}
	for _, v := range out.ProxyEnv {
		moved[v.Name] = true
	}
	var env []corev1.EnvVar
	for _, v := range proxy.Env {
		if !moved[v.Name] {
			env = append(env, v)
		}
	}
	proxy.Env = append(env, out.ProxyEnv...)
	if !equality.Semantic.DeepEqual(*proxy, *goldenProxy) {
		t.Errorf("istio-proxy differs from the golden:\n got %+v\nwant %+v", proxy, goldenProxy)
	}
	if want := []corev1.EnvVar{{Name: "ISTIO_META_NETWORK", Value: "network1"}}; !reflect.DeepEqual(out.ProxyEnv, want) {
		t.Errorf("ProxyEnv = %v, want %v", out.ProxyEnv, want)
	}
}

// TestRenderCorpus renders every pod template of the corpus: only the
// cases that expect an error may fail, with Istio's message; every overlay
// must be a Pod in YAML. On OpenShift the proxy must run as the top of
// test-ns's range, as in the goldens.
func TestRenderCorpus(t *testing.T) {
	dir := conformanceDir(t)
	engines := map[string]*Engine{}
	for _, c := range loadCorpusCases(t, dir) {
		t.Run(c.ID, func(t *testing.T) {
			opts := corpusOptions(c)
			key := fmt.Sprint(c.InjectConfig, c.Values, c.Mesh, opts.NativeSidecars, opts.CompliancePolicy, opts.Platform)
			e := engines[key]
			if e == nil {
				e = newEngine(t, corpusInjector(t, dir, c), opts)
				engines[key] = e
			}
			input, err := os.ReadFile(filepath.Join(dir, c.Input))
			if err != nil {
				t.Fatal(err)
			}
			var renderErr error
			for _, p := range corpusPods(t, input) {
				if opts.Platform == platformOpenShift && p.workload.Namespace == "" {
					p.workload.Namespace = "test-ns"
				}
				out, err := e.Render(p.pod, p.workload)
				if err != nil {
					renderErr = err
					continue
				}
				for _, o := range out.Overlays {
					var overlay corev1.Pod
					if err := yaml.Unmarshal(o.YAML, &overlay); err != nil {
						t.Errorf("%s: overlay %q is not a Pod in YAML: %v", p.workload, o.Template, err)
					}
				}
				if opts.Platform == platformOpenShift && (out.ProxyUID != 1000629999 || out.ProxyGID != 1000629999) {
					t.Errorf("%s: proxy IDs %d/%d, want 1000629999", p.workload, out.ProxyUID, out.ProxyGID)
				}
			}
			if c.ExpectedError != "" {
				if renderErr == nil || !strings.Contains(strings.ToLower(renderErr.Error()), c.ExpectedError) {
					t.Errorf("error = %v, want it to contain %q", renderErr, c.ExpectedError)
				}
				return
			}
			if renderErr != nil {
				t.Errorf("unexpected error: %v", renderErr)
			}
		})
	}
}
