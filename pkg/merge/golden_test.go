package merge

import (
	"encoding/json"
	"os"
	"path/filepath"
	"strconv"
	"testing"

	"google.golang.org/protobuf/encoding/protojson"
	"google.golang.org/protobuf/proto"
	"istio.io/api/annotation"
	meshconfig "istio.io/api/mesh/v1alpha1"
	corev1 "k8s.io/api/core/v1"
	"sigs.k8s.io/yaml"

	"github.com/inject-sidecar/inject-sidecar/pkg/config"
)

// goldenCase adds the configuration files of a corpus case.
type goldenCase struct {
	conformanceCase
	Values         string `json:"values"`
	Mesh           string `json:"mesh"`
	NativeSidecars bool   `json:"nativeSidecars"`
}

// TestApplyGoldens replays the post-processing half of Istio's golden
// corpus. The renderer is not part of this package, so the "rendered
// template" is reconstructed from each golden: its injected containers,
// volumes and pull secrets (those the status annotation lists) and its
// metadata, minus everything post-processing produces
// (ISTIO_KUBE_APP_PROBERS, ISTIO_PROMETHEUS_ANNOTATIONS, the status,
// overrides and Prometheus annotations). Apply on the case's input with
// that overlay must give the golden pod back exactly (compared as JSON,
// after Istio's own re-serialization: resources {} etc. appear on both
// sides alike). This checks the merge, the user overrides, probe
// rewriting, Prometheus merging, cluster/network handling, the status
// annotation and container order against Istio's real output.
func TestApplyGoldens(t *testing.T) {
	dir := conformanceDir(t)
	b, err := os.ReadFile(filepath.Join(dir, "cases.json"))
	if err != nil {
		t.Fatal(err)
	}
	var cases []goldenCase
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
			for i := range in {
				if _, injected := out[i].Annotations[annotation.SidecarStatus.Name]; !injected {
					continue // not injected (hostNetwork): nothing to replay
				}
				p := goldenParams(t, dir, c, in[i])
				overlay := overlayFromGolden(t, out[i])
				got, err := Apply(in[i], [][]byte{overlay}, p)
				if err != nil {
					t.Fatalf("pod %d: Apply: %v", i, err)
				}
				if !sameJSON(t, got, out[i]) {
					t.Errorf("pod %d mismatch\n--- got\n%s\n--- want\n%s", i, toYAML(t, got), toYAML(t, out[i]))
				}
			}
		})
		checked++
	}
	if checked < 100 {
		t.Errorf("only %d golden cases replayed", checked)
	}
}

func goldenParams(t *testing.T, dir string, c goldenCase, pod *corev1.Pod) Params {
	t.Helper()
	var values map[string]any
	vb, err := os.ReadFile(filepath.Join(dir, c.Values))
	if err != nil {
		t.Fatal(err)
	}
	if err := json.Unmarshal(vb, &values); err != nil {
		t.Fatalf("values: %v", err)
	}
	mesh := &meshconfig.MeshConfig{}
	mb, err := os.ReadFile(filepath.Join(dir, c.Mesh))
	if err != nil {
		t.Fatal(err)
	}
	readProtoYAML(t, mb, mesh)
	if mesh.DefaultConfig == nil {
		mesh.DefaultConfig = &meshconfig.ProxyConfig{}
	}
	if mesh.DefaultConfig.StatusPort == 0 {
		mesh.DefaultConfig.StatusPort = 15020 // Istio's default
	}
	// The effective ProxyConfig: mesh defaultConfig overlaid with the
	// pod's proxy.istio.io/config, as istioctl does.
	pc := proto.Clone(mesh.DefaultConfig).(*meshconfig.ProxyConfig)
	if raw, ok := pod.Annotations[annotation.ProxyConfig.Name]; ok {
		overlay := &meshconfig.ProxyConfig{}
		readProtoYAML(t, []byte(raw), overlay)
		proto.Merge(pc, overlay)
	}
	native := config.NativeSidecarsFalse
	if c.NativeSidecars {
		native = config.NativeSidecarsTrue
	}
	decision := config.DecideLikeKubeInject
	if !c.KubeInjectTested {
		decision = config.DecideLikeWebhook
	}
	return Params{
		Injector:    &config.Injector{Revision: config.DefaultRevision, Values: values, Mesh: mesh},
		Options:     config.Options{NativeSidecars: native, Platform: c.Env["PLATFORM"], DecisionMode: decision},
		ProxyConfig: pc,
	}
}

func readProtoYAML(t *testing.T, y []byte, m proto.Message) {
	t.Helper()
	j, err := yaml.YAMLToJSON(y)
	if err != nil {
		t.Fatalf("yaml: %v", err)
	}
	if err := (protojson.UnmarshalOptions{DiscardUnknown: true}).Unmarshal(j, m); err != nil {
		t.Fatalf("proto: %v", err)
	}
}

// overlayFromGolden reconstructs what the templates rendered for an
// injected golden pod (see TestApplyGoldens).
func overlayFromGolden(t *testing.T, g *corev1.Pod) []byte {
	t.Helper()
	var status injectionStatus
	if err := json.Unmarshal([]byte(g.Annotations[annotation.SidecarStatus.Name]), &status); err != nil {
		t.Fatalf("golden status: %v", err)
	}
	o := g.DeepCopy()
	o.Spec.Containers = pick(t, g.Spec.Containers, status.Containers)
	o.Spec.InitContainers = pick(t, g.Spec.InitContainers, status.InitContainers)
	o.Spec.Volumes = nil
	for _, name := range status.Volumes {
		for _, v := range g.Spec.Volumes {
			if v.Name == name {
				o.Spec.Volumes = append(o.Spec.Volumes, v)
			}
		}
	}
	o.Spec.ImagePullSecrets = nil
	for _, name := range status.ImagePullSecrets {
		o.Spec.ImagePullSecrets = append(o.Spec.ImagePullSecrets, corev1.LocalObjectReference{Name: name})
	}
	for k := range o.Annotations {
		switch sanitizeLabelName(k) {
		case promScrape, promPort, promPath:
			delete(o.Annotations, k)
		}
	}
	delete(o.Annotations, annotation.SidecarStatus.Name)
	delete(o.Annotations, annotation.ProxyOverrides.Name)
	delete(o.Annotations, annoSecurePort)
	m, ok := jsonValue(t, o).(map[string]any)
	if !ok {
		t.Fatal("pod is not an object")
	}
	if spec, ok := m["spec"].(map[string]any); ok && spec["containers"] == nil {
		// A template that injects no container does not mention the list;
		// a null would delete the pod's containers.
		delete(spec, "containers")
	}
	b, err := json.Marshal(m)
	if err != nil {
		t.Fatal(err)
	}
	return b
}

// pick returns the named containers of list (the status names them in the
// list the template put them in), without the variables post-processing
// adds.
func pick(t *testing.T, list []corev1.Container, names []string) []corev1.Container {
	t.Helper()
	var out []corev1.Container
	for _, name := range names {
		c := findContainer(list, name)
		if c == nil {
			t.Fatalf("golden lists %s but has no such container", strconv.Quote(name))
		}
		cc := c.DeepCopy()
		var env []corev1.EnvVar
		for _, e := range cc.Env {
			if e.Name != envKubeAppProbers && e.Name != envPrometheusAnnotations {
				env = append(env, e)
			}
		}
		cc.Env = env
		out = append(out, *cc)
	}
	return out
}
