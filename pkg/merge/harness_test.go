package merge

import (
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"

	"google.golang.org/protobuf/encoding/protojson"
	"google.golang.org/protobuf/proto"
	meshconfig "istio.io/api/mesh/v1alpha1"
	corev1 "k8s.io/api/core/v1"
	"sigs.k8s.io/yaml"

	"github.com/inject-sidecar/inject-sidecar/pkg/config"
)

// caseFile is one table of Apply cases in testdata: shared overlays that
// cases refer to by name, and the cases.
type caseFile struct {
	Overlays map[string]string `json:"overlays"`
	Cases    []applyCase       `json:"cases"`
}

type applyCase struct {
	Name     string          `json:"name"`
	Params   caseParams      `json:"params"`
	Pod      json.RawMessage `json:"pod"`
	Overlays []string        `json:"overlays"`
	Want     caseWant        `json:"want"`
}

// caseParams describes Params in YAML. Defaults: classic sidecars,
// webhook decision mode, values with rewriteAppHTTPProbe true, mesh
// defaultConfig statusPort 15020, ProxyConfig = mesh defaultConfig.
type caseParams struct {
	Native              *bool             `json:"native"`
	Decision            string            `json:"decision"`
	Platform            string            `json:"platform"`
	Revision            string            `json:"revision"`
	Values              map[string]any    `json:"values"`
	Mesh                json.RawMessage   `json:"mesh"`
	ProxyConfig         json.RawMessage   `json:"proxyConfig"`
	InjectedAnnotations map[string]string `json:"injectedAnnotations"`
}

// caseWant lists what is checked; every field is optional.
type caseWant struct {
	// Error, when set, is a substring the error must contain.
	Error string `json:"error"`
	// Pod is the whole expected pod (compared semantically).
	Pod json.RawMessage `json:"pod"`
	// Annotations and Labels are subsets; a null value means "absent".
	Annotations map[string]*string `json:"annotations"`
	Labels      map[string]*string `json:"labels"`
	// Containers and InitContainers are the expected names, in order.
	Containers     []string `json:"containers"`
	InitContainers []string `json:"initContainers"`
	// ProxyEnv is the exact env of istio-proxy.
	ProxyEnv []corev1.EnvVar `json:"proxyEnv"`
	// ContainerSpecs / InitContainerSpecs: exact named containers.
	ContainerSpecs []corev1.Container `json:"containerSpecs"`
}

func (c caseParams) build(t *testing.T) Params {
	t.Helper()
	mesh := &meshconfig.MeshConfig{DefaultConfig: &meshconfig.ProxyConfig{StatusPort: 15020}}
	if len(c.Mesh) > 0 {
		mesh = &meshconfig.MeshConfig{}
		unmarshalProto(t, c.Mesh, mesh)
	}
	pc := proto.Clone(mesh.GetDefaultConfig()).(*meshconfig.ProxyConfig)
	if len(c.ProxyConfig) > 0 {
		pc = &meshconfig.ProxyConfig{}
		unmarshalProto(t, c.ProxyConfig, pc)
	}
	values := c.Values
	if values == nil {
		values = map[string]any{"sidecarInjectorWebhook": map[string]any{"rewriteAppHTTPProbe": true}}
	}
	opts := config.Options{NativeSidecars: config.NativeSidecarsFalse, Platform: c.Platform, DecisionMode: config.DecisionMode(c.Decision)}
	if c.Native != nil && *c.Native {
		opts.NativeSidecars = config.NativeSidecarsTrue
	}
	return Params{
		Injector: &config.Injector{
			Revision:            c.Revision,
			Values:              values,
			Mesh:                mesh,
			InjectedAnnotations: c.InjectedAnnotations,
		},
		Options:     opts,
		ProxyConfig: pc,
	}
}

func unmarshalProto(t *testing.T, raw json.RawMessage, m proto.Message) {
	t.Helper()
	if err := (protojson.UnmarshalOptions{DiscardUnknown: true}).Unmarshal(raw, m); err != nil {
		t.Fatalf("bad proto in case: %v", err)
	}
}

func loadCaseFile(t *testing.T, name string) caseFile {
	t.Helper()
	b, err := os.ReadFile(filepath.Join("testdata", name))
	if err != nil {
		t.Fatalf("reading testdata: %v", err)
	}
	var f caseFile
	if err := yaml.Unmarshal(b, &f); err != nil {
		t.Fatalf("parsing %s: %v", name, err)
	}
	if len(f.Cases) == 0 {
		t.Fatalf("%s has no cases", name)
	}
	return f
}

func decodePod(t *testing.T, raw json.RawMessage) *corev1.Pod {
	t.Helper()
	pod := &corev1.Pod{}
	if len(raw) == 0 {
		return pod
	}
	dec := json.NewDecoder(strings.NewReader(string(raw)))
	dec.DisallowUnknownFields()
	if err := dec.Decode(pod); err != nil {
		t.Fatalf("bad pod in case: %v", err)
	}
	return pod
}

// runCaseFile runs every case of a testdata table through Apply.
func runCaseFile(t *testing.T, name string) {
	f := loadCaseFile(t, name)
	for _, tc := range f.Cases {
		t.Run(tc.Name, func(t *testing.T) {
			pod := decodePod(t, tc.Pod)
			before := pod.DeepCopy()
			var overlays [][]byte
			for _, o := range tc.Overlays {
				if shared, ok := f.Overlays[o]; ok {
					o = shared
				}
				overlays = append(overlays, []byte(o))
			}
			got, err := Apply(pod, overlays, tc.Params.build(t))
			if !reflect.DeepEqual(pod, before) {
				t.Errorf("Apply modified its input pod")
			}
			if tc.Want.Error != "" {
				if err == nil || !strings.Contains(err.Error(), tc.Want.Error) {
					t.Fatalf("error = %v, want one containing %q", err, tc.Want.Error)
				}
				return
			}
			if err != nil {
				t.Fatalf("Apply: %v", err)
			}
			checkWant(t, got, tc.Want)
		})
	}
}

func checkWant(t *testing.T, got *corev1.Pod, w caseWant) {
	t.Helper()
	if len(w.Pod) > 0 {
		want := decodePod(t, w.Pod)
		if !sameJSON(t, got, want) {
			t.Errorf("pod mismatch\n--- got\n%s\n--- want\n%s", toYAML(t, got), toYAML(t, want))
		}
	}
	for k, v := range w.Annotations {
		checkMapEntry(t, "annotation", got.Annotations, k, v)
	}
	for k, v := range w.Labels {
		checkMapEntry(t, "label", got.Labels, k, v)
	}
	if w.Containers != nil {
		if names := containerNames(got.Spec.Containers); !reflect.DeepEqual(names, w.Containers) {
			t.Errorf("containers = %v, want %v", names, w.Containers)
		}
	}
	if w.InitContainers != nil {
		if names := containerNames(got.Spec.InitContainers); !reflect.DeepEqual(names, w.InitContainers) {
			t.Errorf("initContainers = %v, want %v", names, w.InitContainers)
		}
	}
	if w.ProxyEnv != nil {
		proxy := findInPod(got, proxyName)
		if proxy == nil {
			t.Fatalf("no istio-proxy in result")
		}
		if !sameJSON(t, proxy.Env, w.ProxyEnv) {
			t.Errorf("istio-proxy env mismatch\n--- got\n%s\n--- want\n%s", toYAML(t, proxy.Env), toYAML(t, w.ProxyEnv))
		}
	}
	for _, want := range w.ContainerSpecs {
		c := findInPod(got, want.Name)
		if c == nil {
			t.Errorf("container %s missing", want.Name)
			continue
		}
		if !sameJSON(t, c, &want) {
			t.Errorf("container %s mismatch\n--- got\n%s\n--- want\n%s", want.Name, toYAML(t, c), toYAML(t, want))
		}
	}
}

func checkMapEntry(t *testing.T, what string, m map[string]string, k string, want *string) {
	t.Helper()
	got, ok := m[k]
	switch {
	case want == nil && ok:
		t.Errorf("%s %s = %q, want it absent", what, k, got)
	case want != nil && !ok:
		t.Errorf("%s %s absent, want %q", what, k, *want)
	case want != nil && got != *want:
		t.Errorf("%s %s = %q, want %q", what, k, got, *want)
	}
}

func containerNames(cs []corev1.Container) []string {
	names := []string{}
	for _, c := range cs {
		names = append(names, c.Name)
	}
	return names
}

// sameJSON compares two values by their JSON form, so that nil and empty
// optional fields that serialize alike compare equal.
func sameJSON(t *testing.T, a, b any) bool {
	t.Helper()
	return reflect.DeepEqual(jsonValue(t, a), jsonValue(t, b))
}

func jsonValue(t *testing.T, v any) any {
	t.Helper()
	b, err := json.Marshal(v)
	if err != nil {
		t.Fatalf("marshal: %v", err)
	}
	var out any
	if err := json.Unmarshal(b, &out); err != nil {
		t.Fatalf("unmarshal: %v", err)
	}
	return out
}

func toYAML(t *testing.T, v any) string {
	t.Helper()
	b, err := yaml.Marshal(v)
	if err != nil {
		return fmt.Sprintf("<%v>", err)
	}
	return string(b)
}

// conformanceDir locates Istio's conformance corpus next to the checkout.
// Without it the test is skipped, loudly, unless CI=true.
func conformanceDir(t *testing.T) string {
	t.Helper()
	dir := os.Getenv("ISTIO_CONFORMANCE_DIR")
	if dir == "" {
		dir = filepath.Join("..", "..", "..", "shared", "istio-conformance")
	}
	if _, err := os.Stat(filepath.Join(dir, "cases.json")); err != nil {
		msg := fmt.Sprintf("Istio conformance corpus not found at %s (set ISTIO_CONFORMANCE_DIR): %v", dir, err)
		if os.Getenv("CI") == "true" {
			t.Fatal(msg)
		}
		t.Skip("SKIPPING: " + msg)
	}
	return dir
}
