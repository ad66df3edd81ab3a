package render

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"sync"
	"testing"
	"time"

	"google.golang.org/protobuf/encoding/protojson"
	"google.golang.org/protobuf/proto"
	meshconfig "istio.io/api/mesh/v1alpha1"
	networking "istio.io/api/networking/v1beta1"
	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/types"
	"sigs.k8s.io/yaml"

	"github.com/inject-sidecar/inject-sidecar/pkg/config"
)

// loadCases reads testdata/<file>, a YAML document with a "cases" list.
func loadCases[T any](t *testing.T, file string) []T {
	t.Helper()
	raw, err := os.ReadFile(filepath.Join("testdata", file))
	if err != nil {
		t.Fatal(err)
	}
	var doc struct {
		Cases []T `json:"cases"`
	}
	if err := yaml.UnmarshalStrict(raw, &doc); err != nil {
		t.Fatalf("%s: %v", file, err)
	}
	if len(doc.Cases) == 0 {
		t.Fatalf("%s: no cases", file)
	}
	return doc.Cases
}

// tinyInjector is an injector with the given templates, empty values and an
// empty mesh default config.
func tinyInjector(templates map[string]string) *config.Injector {
	return &config.Injector{
		Revision:  config.DefaultRevision,
		Templates: templates,
		Values:    map[string]any{},
		Mesh:      &meshconfig.MeshConfig{DefaultConfig: &meshconfig.ProxyConfig{}},
	}
}

func newEngine(t *testing.T, inj *config.Injector, opts config.Options) *Engine {
	t.Helper()
	e, err := New(inj, opts)
	if err != nil {
		t.Fatal(err)
	}
	return e
}

func testWorkload() Workload {
	return Workload{
		TypeMeta:  metav1.TypeMeta{APIVersion: "apps/v1", Kind: "Deployment"},
		Name:      "hello",
		Namespace: "ns",
	}
}

func podWithAnnotations(annotations map[string]string) *corev1.Pod {
	return &corev1.Pod{
		ObjectMeta: metav1.ObjectMeta{Annotations: annotations, Labels: map[string]string{"app": "hello"}},
		Spec:       corev1.PodSpec{Containers: []corev1.Container{{Name: "hello", Image: "hello:1"}}},
	}
}

// renderOne renders a single-template engine and returns its output text.
func renderOne(t *testing.T, e *Engine, pod *corev1.Pod) (string, *Output) {
	t.Helper()
	out, err := e.Render(pod, testWorkload())
	if err != nil {
		t.Fatal(err)
	}
	if len(out.Overlays) != 1 {
		t.Fatalf("got %d overlays, want 1", len(out.Overlays))
	}
	return string(out.Overlays[0].YAML), out
}

func TestSelectTemplates(t *testing.T) {
	raw, err := os.ReadFile(filepath.Join("testdata", "select.yaml"))
	if err != nil {
		t.Fatal(err)
	}
	var doc struct {
		Templates map[string]string   `json:"templates"`
		Aliases   map[string][]string `json:"aliases"`
		Cases     []struct {
			Name             string   `json:"name"`
			DefaultTemplates []string `json:"defaultTemplates"`
			Annotation       *string  `json:"annotation"`
			Want             []string `json:"want"`
			Error            string   `json:"error"`
		} `json:"cases"`
	}
	if err := yaml.UnmarshalStrict(raw, &doc); err != nil {
		t.Fatal(err)
	}
	for _, tc := range doc.Cases {
		t.Run(tc.Name, func(t *testing.T) {
			inj := tinyInjector(doc.Templates)
			inj.Aliases = doc.Aliases
			inj.DefaultTemplates = tc.DefaultTemplates
			e := newEngine(t, inj, config.Options{})
			annotations := map[string]string{}
			if tc.Annotation != nil {
				annotations["inject.istio.io/templates"] = *tc.Annotation
			}
			out, err := e.Render(podWithAnnotations(annotations), testWorkload())
			if tc.Error != "" {
				if err == nil || !strings.Contains(err.Error(), tc.Error) {
					t.Fatalf("error = %v, want it to contain %q", err, tc.Error)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			var got []string
			for _, o := range out.Overlays {
				if string(o.YAML) != o.Template {
					t.Errorf("overlay %q rendered %q", o.Template, o.YAML)
				}
				got = append(got, o.Template)
			}
			if !reflect.DeepEqual(got, tc.Want) {
				t.Errorf("templates = %q, want %q", got, tc.Want)
			}
		})
	}
}

func TestValidateAnnotations(t *testing.T) {
	type testCase struct {
		Name        string            `json:"name"`
		Annotations map[string]string `json:"annotations"`
		Error       string            `json:"error"`
		Contains    []string          `json:"contains"`
	}
	e := newEngine(t, tinyInjector(map[string]string{"sidecar": "{}"}), config.Options{})
	for _, tc := range loadCases[testCase](t, "annotations.yaml") {
		t.Run(tc.Name, func(t *testing.T) {
			_, err := e.Render(podWithAnnotations(tc.Annotations), testWorkload())
			if tc.Error == "" && len(tc.Contains) == 0 {
				if err != nil {
					t.Fatalf("unexpected error: %v", err)
				}
				return
			}
			if err == nil {
				t.Fatal("no error")
			}
			if tc.Error != "" {
				if want := "Deployment ns/hello: " + tc.Error; err.Error() != want {
					t.Errorf("error:\n got %s\nwant %s", err, want)
				}
			}
			for _, s := range tc.Contains {
				if !strings.Contains(err.Error(), s) {
					t.Errorf("error %q does not contain %q", err, s)
				}
			}
		})
	}
}

// protoFromYAML reads a ProxyConfig written as YAML in protobuf JSON form.
func protoFromYAML(t *testing.T, v any) *meshconfig.ProxyConfig {
	t.Helper()
	js, err := yaml.Marshal(v)
	if err != nil {
		t.Fatal(err)
	}
	js, err = yaml.YAMLToJSON(js)
	if err != nil {
		t.Fatal(err)
	}
	pc := &meshconfig.ProxyConfig{}
	if err := protojson.Unmarshal(js, pc); err != nil {
		t.Fatalf("bad test ProxyConfig %s: %v", js, err)
	}
	return pc
}

func TestEffectiveProxyConfig(t *testing.T) {
	type testCase struct {
		Name        string         `json:"name"`
		MeshDefault map[string]any `json:"meshDefault"`
		Annotation  *string        `json:"annotation"`
		Want        map[string]any `json:"want"`
		Error       string         `json:"error"`
	}
	for _, tc := range loadCases[testCase](t, "proxyconfig.yaml") {
		t.Run(tc.Name, func(t *testing.T) {
			base := protoFromYAML(t, tc.MeshDefault)
			baseCopy := proto.Clone(base)
			annotations := map[string]string{}
			if tc.Annotation != nil {
				annotations["proxy.istio.io/config"] = *tc.Annotation
			}
			got, err := effectiveProxyConfig(base, annotations)
			if !proto.Equal(base, baseCopy) {
				t.Errorf("mesh default was modified: %v", base)
			}
			if tc.Error != "" {
				if err == nil || !strings.Contains(err.Error(), tc.Error) {
					t.Fatalf("error = %v, want it to contain %q", err, tc.Error)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if want := protoFromYAML(t, tc.Want); !proto.Equal(got, want) {
				t.Errorf("effective config:\n got %v\nwant %v", got, want)
			}
		})
	}
}

func TestRenderUsesEffectiveProxyConfig(t *testing.T) {
	inj := tinyInjector(map[string]string{
		"sidecar": `{{ .ProxyConfig.StatusPort }} {{ .ProxyConfig.HoldApplicationUntilProxyStarts.GetValue }} {{ index .ProxyConfig.ProxyMetadata "A" }} {{ .MeshConfig.DefaultConfig.StatusPort }}`,
	})
	inj.Mesh.DefaultConfig = &meshconfig.ProxyConfig{StatusPort: 15020, ProxyMetadata: map[string]string{"A": "mesh"}}
	e := newEngine(t, inj, config.Options{})
	pod := podWithAnnotations(map[string]string{"proxy.istio.io/config": "{statusPort: 15099, holdApplicationUntilProxyStarts: true}"})
	text, out := renderOne(t, e, pod)
	// .MeshConfig is the mesh as configured, as the webhook passes it.
	if want := "15099 true mesh 15020"; text != want {
		t.Errorf("rendered %q, want %q", text, want)
	}
	if out.ProxyConfig.GetStatusPort() != 15099 || !out.ProxyConfig.GetHoldApplicationUntilProxyStarts().GetValue() {
		t.Errorf("Output.ProxyConfig = %v", out.ProxyConfig)
	}
	if inj.Mesh.DefaultConfig.StatusPort != 15020 {
		t.Error("the injector's mesh was modified")
	}
}

func TestProxyImages(t *testing.T) {
	type testCase struct {
		Name        string            `json:"name"`
		Values      map[string]any    `json:"values"`
		ImageType   *string           `json:"imageType"`
		Annotations map[string]string `json:"annotations"`
		Proxy       string            `json:"proxy"`
		Init        string            `json:"init"`
	}
	for _, tc := range loadCases[testCase](t, "images.yaml") {
		t.Run(tc.Name, func(t *testing.T) {
			inj := tinyInjector(map[string]string{"sidecar": "{{ .ProxyImage }} {{ .ProxyInitImage }}"})
			inj.Values = tc.Values
			if tc.ImageType != nil {
				inj.Mesh.DefaultConfig.Image = &networking.ProxyImage{ImageType: *tc.ImageType}
			}
			text, out := renderOne(t, newEngine(t, inj, config.Options{}), podWithAnnotations(tc.Annotations))
			if want := tc.Proxy + " " + tc.Init; text != want {
				t.Errorf("rendered %q, want %q", text, want)
			}
			if out.ProxyImage != tc.Proxy || out.ProxyInitImage != tc.Init {
				t.Errorf("Output images = %q, %q", out.ProxyImage, out.ProxyInitImage)
			}
		})
	}
}

func TestProxyImageFromAnnotationConfig(t *testing.T) {
	inj := tinyInjector(map[string]string{"sidecar": "{{ .ProxyImage }}"})
	inj.Values = map[string]any{"global": map[string]any{"hub": "h", "tag": "1"}}
	pod := podWithAnnotations(map[string]string{"proxy.istio.io/config": "image: {imageType: distroless}"})
	if text, _ := renderOne(t, newEngine(t, inj, config.Options{}), pod); text != "h/proxyv2:1-distroless" {
		t.Errorf("rendered %q", text)
	}
}

func TestOpenShiftProxyIDs(t *testing.T) {
	type testCase struct {
		Name        string            `json:"name"`
		Annotations map[string]string `json:"annotations"`
		UID         int64             `json:"uid"`
		GID         int64             `json:"gid"`
	}
	tmpl := map[string]string{"sidecar": "{{ .ProxyUID }}/{{ .ProxyGID }}"}
	for _, tc := range loadCases[testCase](t, "openshift.yaml") {
		t.Run(tc.Name, func(t *testing.T) {
			opts := config.Options{
				Platform:   "openshift",
				Namespaces: map[string]config.Namespace{"ns": {Annotations: tc.Annotations}},
			}
			text, out := renderOne(t, newEngine(t, tinyInjector(tmpl), opts), podWithAnnotations(nil))
			if want := fmt.Sprintf("%d/%d", tc.UID, tc.GID); text != want {
				t.Errorf("rendered %q, want %q", text, want)
			}
			if out.ProxyUID != tc.UID || out.ProxyGID != tc.GID {
				t.Errorf("Output IDs = %d/%d", out.ProxyUID, out.ProxyGID)
			}
		})
	}
	t.Run("ignored off OpenShift", func(t *testing.T) {
		opts := config.Options{Namespaces: map[string]config.Namespace{
			"ns": {Annotations: map[string]string{openShiftUIDRange: "1000620000/10000"}},
		}}
		if text, _ := renderOne(t, newEngine(t, tinyInjector(tmpl), opts), podWithAnnotations(nil)); text != "1337/1337" {
			t.Errorf("rendered %q", text)
		}
	})
	t.Run("unknown namespace", func(t *testing.T) {
		opts := config.Options{Platform: "openshift"}
		if text, _ := renderOne(t, newEngine(t, tinyInjector(tmpl), opts), podWithAnnotations(nil)); text != "1337/1337" {
			t.Errorf("rendered %q", text)
		}
	})
}

func TestWorkloadIdentity(t *testing.T) {
	type testCase struct {
		Name     string `json:"name"`
		Workload struct {
			metav1.TypeMeta `json:",inline"`
			Name            string `json:"name"`
			Namespace       string `json:"namespace"`
		} `json:"workload"`
		Pod        corev1.Pod           `json:"pod"`
		TypeMeta   metav1.TypeMeta      `json:"typeMeta"`
		DeployMeta types.NamespacedName `json:"deployMeta"`
	}
	e := newEngine(t, tinyInjector(map[string]string{
		"sidecar": "{{ .TypeMeta.APIVersion }} {{ .TypeMeta.Kind }} {{ .DeploymentMeta.Namespace }}/{{ .DeploymentMeta.Name }}",
	}), config.Options{})
	for _, tc := range loadCases[testCase](t, "identity.yaml") {
		t.Run(tc.Name, func(t *testing.T) {
			w := Workload{TypeMeta: tc.Workload.TypeMeta, Name: tc.Workload.Name, Namespace: tc.Workload.Namespace}
			out, err := e.Render(&tc.Pod, w)
			if err != nil {
				t.Fatal(err)
			}
			if out.TypeMeta != tc.TypeMeta || out.DeploymentMeta != tc.DeployMeta {
				t.Errorf("got %v %v, want %v %v", out.TypeMeta, out.DeploymentMeta, tc.TypeMeta, tc.DeployMeta)
			}
			want := fmt.Sprintf("%s %s %s/%s", tc.TypeMeta.APIVersion, tc.TypeMeta.Kind, tc.DeployMeta.Namespace, tc.DeployMeta.Name)
			if got := string(out.Overlays[0].YAML); got != want {
				t.Errorf("rendered %q, want %q", got, want)
			}
		})
	}
}

func TestTemplateDataFields(t *testing.T) {
	inj := tinyInjector(map[string]string{"sidecar": strings.Join([]string{
		"{{ .Revision }}", "{{ .NativeSidecars }}", "{{ .CompliancePolicy }}", "{{ .InboundTrafficPolicyMode }}",
		"{{ (index .Spec.Containers 0).Name }}", "{{ .ObjectMeta.Labels.app }}", "{{ .MeshConfig.TrustDomain }}",
		"{{ .Values.global.x }}",
	}, "|")})
	inj.Revision = "canary"
	inj.Values = map[string]any{"global": map[string]any{"x": "y"}}
	inj.Mesh.TrustDomain = "td"
	inj.Mesh.InboundTrafficPolicy = &meshconfig.MeshConfig_InboundTrafficPolicy{Mode: meshconfig.MeshConfig_InboundTrafficPolicy_LOCALHOST}
	opts := config.Options{NativeSidecars: config.NativeSidecarsTrue, CompliancePolicy: "fips-140-3"}
	text, out := renderOne(t, newEngine(t, inj, opts), podWithAnnotations(nil))
	if want := "canary|true|fips-140-3|localhost|hello|hello|td|y"; text != want {
		t.Errorf("rendered %q, want %q", text, want)
	}
	if !out.NativeSidecar {
		t.Error("Output.NativeSidecar = false")
	}
}

func TestNativeSidecarAnnotation(t *testing.T) {
	inj := tinyInjector(map[string]string{"sidecar": "{{ .NativeSidecars }}"})
	for _, tc := range []struct {
		configured config.NativeSidecarMode
		annotation string // "" means absent
		want       bool
	}{
		{config.NativeSidecarsTrue, "", true},
		{config.NativeSidecarsFalse, "", false},
		{config.NativeSidecarsFalse, "true", true},
		{config.NativeSidecarsTrue, "false", false},
		{config.NativeSidecarsTrue, "yes", true},    // only exact true/false count
		{config.NativeSidecarsFalse, "TRUE", false}, // likewise
	} {
		annotations := map[string]string{}
		if tc.annotation != "" {
			annotations["sidecar.istio.io/nativeSidecar"] = tc.annotation
		}
		text, out := renderOne(t, newEngine(t, inj, config.Options{NativeSidecars: tc.configured}), podWithAnnotations(annotations))
		if out.NativeSidecar != tc.want {
			t.Errorf("%s with annotation %q: NativeSidecar = %v, want %v", tc.configured, tc.annotation, out.NativeSidecar, tc.want)
		}
		// Templates get the configured mode and read the annotation themselves.
		if want := fmt.Sprint(tc.configured == config.NativeSidecarsTrue); text != want {
			t.Errorf("%s: .NativeSidecars = %s", tc.configured, text)
		}
	}
}

func TestProxyEnv(t *testing.T) {
	inj := tinyInjector(map[string]string{"sidecar": "{}"})
	inj.Values = map[string]any{"global": map[string]any{
		"network":      "net-values",
		"multiCluster": map[string]any{"clusterName": "c1"},
	}}
	e := newEngine(t, inj, config.Options{})
	_, out := renderOne(t, e, podWithAnnotations(nil))
	want := []corev1.EnvVar{{Name: "ISTIO_META_CLUSTER_ID", Value: "c1"}, {Name: "ISTIO_META_NETWORK", Value: "net-values"}}
	if !reflect.DeepEqual(out.ProxyEnv, want) {
		t.Errorf("ProxyEnv = %v, want %v", out.ProxyEnv, want)
	}
	pod := podWithAnnotations(nil)
	pod.Labels["topology.istio.io/network"] = "net-label"
	_, out = renderOne(t, e, pod)
	if want[1].Value = "net-label"; !reflect.DeepEqual(out.ProxyEnv, want) {
		t.Errorf("ProxyEnv = %v, want %v", out.ProxyEnv, want)
	}
}

func TestOutputLimit(t *testing.T) {
	opts := config.Options{MaxTemplateOutput: 1000}
	t.Run("one template", func(t *testing.T) {
		e := newEngine(t, tinyInjector(map[string]string{"sidecar": `{{ range until 1000 }}0123456789{{ end }}`}), opts)
		_, err := e.Render(podWithAnnotations(nil), testWorkload())
		if !errors.Is(err, ErrOutputTooLarge) {
			t.Fatalf("error = %v, want ErrOutputTooLarge", err)
		}
		if want := `template "sidecar" for Deployment ns/hello: output exceeds 1000 bytes`; err.Error() != want {
			t.Errorf("error = %q, want %q", err, want)
		}
	})
	t.Run("all templates together", func(t *testing.T) {
		inj := tinyInjector(map[string]string{
			"a": `{{ range until 60 }}0123456789{{ end }}`, // 600 bytes
			"b": `{{ range until 60 }}0123456789{{ end }}`,
		})
		inj.DefaultTemplates = []string{"a", "b"}
		_, err := newEngine(t, inj, opts).Render(podWithAnnotations(nil), testWorkload())
		if !errors.Is(err, ErrOutputTooLarge) || !strings.Contains(err.Error(), `template "b"`) {
			t.Fatalf("error = %v, want template b to exceed the limit", err)
		}
	})
	t.Run("exactly at the limit", func(t *testing.T) {
		e := newEngine(t, tinyInjector(map[string]string{"sidecar": `{{ range until 100 }}0123456789{{ end }}`}), opts)
		if text, _ := renderOne(t, e, podWithAnnotations(nil)); len(text) != 1000 {
			t.Errorf("rendered %d bytes", len(text))
		}
	})
	t.Run("default is 1 MiB", func(t *testing.T) {
		e := newEngine(t, tinyInjector(map[string]string{"sidecar": `{{ range until 1100 }}{{ repeat 1000 "x" }}{{ end }}`}), config.Options{})
		_, err := e.Render(podWithAnnotations(nil), testWorkload())
		if !errors.Is(err, ErrOutputTooLarge) || !strings.Contains(err.Error(), "output exceeds 1048576 bytes") {
			t.Fatalf("error = %v", err)
		}
	})
}

func TestTimeout(t *testing.T) {
	opts := config.Options{TemplateTimeout: 50 * time.Millisecond}
	for name, tmpl := range map[string]string{
		// Writes often: the abandoned execution stops at its next write.
		"writing": `{{ range until 100000 }}{{ range until 10000 }}{{ end }}.{{ end }}`,
		// Never writes: only the abandoned goroutine's own end stops it;
		// about a second of CPU here.
		"silent": `{{ range until 3000 }}{{ range until 3000 }}{{ end }}{{ end }}`,
	} {
		t.Run(name, func(t *testing.T) {
			e := newEngine(t, tinyInjector(map[string]string{"slow": tmpl, "sidecar": "ok"}), opts)
			pod := podWithAnnotations(map[string]string{"inject.istio.io/templates": "sidecar,slow"})
			start := time.Now()
			_, err := e.Render(pod, testWorkload())
			if elapsed := time.Since(start); elapsed > 2*time.Second {
				t.Errorf("Render returned after %s", elapsed)
			}
			if !errors.Is(err, ErrTimeout) {
				t.Fatalf("error = %v, want ErrTimeout", err)
			}
			if want := `template "slow" for Deployment ns/hello: execution exceeds 50ms`; err.Error() != want {
				t.Errorf("error = %q, want %q", err, want)
			}
		})
	}
}

func TestEnvIsRestricted(t *testing.T) {
	t.Setenv("RENDER_TEST_SECRET", "s3cret")
	t.Setenv("RENDER_TEST_OTHER", "other")
	tmpl := map[string]string{"sidecar": `{{ env "RENDER_TEST_SECRET" "d" }}|{{ expandenv "$RENDER_TEST_SECRET" }}|{{ env "RENDER_TEST_OTHER" "d" }}|{{ expandenv "${RENDER_TEST_OTHER}" }}`}
	for _, tc := range []struct {
		name string
		opts config.Options
		want string
	}{
		{"nothing allowed", config.Options{Env: os.LookupEnv}, "d||d|"},
		{"allowed but no lookup", config.Options{AllowedEnv: []string{"RENDER_TEST_SECRET"}}, "d||d|"},
		{"one allowed", config.Options{AllowedEnv: []string{"RENDER_TEST_SECRET"}, Env: os.LookupEnv}, "s3cret|s3cret|d|"},
		{"lookup is the only source", config.Options{
			AllowedEnv: []string{"RENDER_TEST_OTHER"},
			Env:        func(k string) (string, bool) { return "from-options", true },
		}, "d||from-options|from-options"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			if text, _ := renderOne(t, newEngine(t, tinyInjector(tmpl), tc.opts), podWithAnnotations(nil)); text != tc.want {
				t.Errorf("rendered %q, want %q", text, tc.want)
			}
		})
	}
}

func TestNew(t *testing.T) {
	t.Run("parse error names the template", func(t *testing.T) {
		_, err := New(tinyInjector(map[string]string{"good": "ok", "broken": "{{ if }}"}), config.Options{})
		if err == nil || !strings.Contains(err.Error(), `template "broken"`) {
			t.Fatalf("error = %v", err)
		}
	})
	t.Run("unknown function", func(t *testing.T) {
		_, err := New(tinyInjector(map[string]string{"sidecar": "{{ noSuchFunc }}"}), config.Options{})
		if err == nil || !strings.Contains(err.Error(), `template "sidecar"`) {
			t.Fatalf("error = %v", err)
		}
	})
	t.Run("no mesh", func(t *testing.T) {
		inj := tinyInjector(nil)
		inj.Mesh = nil
		if _, err := New(inj, config.Options{}); err == nil {
			t.Fatal("no error")
		}
	})
	t.Run("no values", func(t *testing.T) {
		inj := tinyInjector(nil)
		inj.Values = nil
		if _, err := New(inj, config.Options{}); err == nil {
			t.Fatal("no error")
		}
	})
	t.Run("nil injector", func(t *testing.T) {
		if _, err := New(nil, config.Options{}); err == nil {
			t.Fatal("no error")
		}
	})
}

func TestExecutionErrorNamesTemplateAndWorkload(t *testing.T) {
	e := newEngine(t, tinyInjector(map[string]string{"sidecar": `{{ fail "boom" }}`}), config.Options{})
	_, err := e.Render(podWithAnnotations(nil), testWorkload())
	if err == nil || !strings.HasPrefix(err.Error(), `template "sidecar" for Deployment ns/hello: `) {
		t.Fatalf("error = %v", err)
	}
	if _, err := e.Render(nil, testWorkload()); err == nil {
		t.Fatal("nil pod: no error")
	}
}

func TestRenderIsolation(t *testing.T) {
	// A template that modifies its data must not affect the caller or later pods.
	inj := tinyInjector(map[string]string{
		"sidecar": `{{ .Values.global.seen }}{{ $_ := set .Values.global "seen" "dirty" }}`,
	})
	inj.Values = map[string]any{"global": map[string]any{"seen": "clean"}}
	inj.Mesh.TrustDomain = "td"
	e := newEngine(t, inj, config.Options{})
	pod := podWithAnnotations(map[string]string{"a": "b"})
	for i := 0; i < 2; i++ {
		if text, _ := renderOne(t, e, pod); text != "clean" {
			t.Fatalf("render %d saw %q", i, text)
		}
	}
	if inj.Values["global"].(map[string]any)["seen"] != "clean" || inj.Mesh.TrustDomain != "td" {
		t.Error("the injector configuration was modified")
	}
}

func TestConcurrentRender(t *testing.T) {
	inj := tinyInjector(map[string]string{
		"sidecar": `{{ .DeploymentMeta.Name }} {{ .ProxyConfig.StatusPort }} {{ .Values.global.hub }}`,
	})
	inj.Values = map[string]any{"global": map[string]any{"hub": "h"}}
	inj.Mesh.DefaultConfig.StatusPort = 15020
	e := newEngine(t, inj, config.Options{})
	var wg sync.WaitGroup
	errs := make(chan error, 8)
	for g := 0; g < 8; g++ {
		wg.Add(1)
		go func(g int) {
			defer wg.Done()
			for i := 0; i < 50; i++ {
				w := testWorkload()
				w.Name = fmt.Sprintf("w%d-%d", g, i)
				pod := podWithAnnotations(map[string]string{"proxy.istio.io/config": fmt.Sprintf("statusPort: %d", 1000+i)})
				out, err := e.Render(pod, w)
				if err != nil {
					errs <- err
					return
				}
				if want := fmt.Sprintf("%s %d h", w.Name, 1000+i); string(out.Overlays[0].YAML) != want {
					errs <- fmt.Errorf("rendered %q, want %q", out.Overlays[0].YAML, want)
					return
				}
			}
		}(g)
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Error(err)
	}
}
