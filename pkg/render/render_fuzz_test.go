package render

import (
	"os"
	"path/filepath"
	"sort"
	"strings"
	"testing"

	meshconfig "istio.io/api/mesh/v1alpha1"
	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"sigs.k8s.io/yaml"

	"github.com/inject-sidecar/inject-sidecar/pkg/config"
)

// fuzzAnnotations reads "key=value" lines, a value running to the end of
// its line; "\n" in a value is written "\\n".
func fuzzAnnotations(s string) map[string]string {
	m := map[string]string{}
	for _, line := range strings.Split(s, "\n") {
		if k, v, ok := strings.Cut(line, "="); ok {
			m[k] = strings.ReplaceAll(v, `\n`, "\n")
		}
	}
	return m
}

func encodeAnnotations(m map[string]string) string {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	var b strings.Builder
	for _, k := range keys {
		b.WriteString(k + "=" + strings.ReplaceAll(m[k], "\n", `\n`) + "\n")
	}
	return b.String()
}

// FuzzAnnotations renders a pod with arbitrary annotations: Istio's
// annotation validation, template selection, the proxy.istio.io/config
// overlay and image overrides must return output or an error, never panic.
// Seeds are the annotation cases of testdata and the pod annotations of
// Istio's corpus.
func FuzzAnnotations(f *testing.F) {
	raw, err := os.ReadFile(filepath.Join("testdata", "annotations.yaml"))
	if err != nil {
		f.Fatal(err)
	}
	var doc struct {
		Cases []struct {
			Annotations map[string]string `json:"annotations"`
		} `json:"cases"`
	}
	if err := yaml.Unmarshal(raw, &doc); err != nil {
		f.Fatal(err)
	}
	for _, c := range doc.Cases {
		f.Add(encodeAnnotations(c.Annotations))
	}
	for _, a := range corpusAnnotations(f) {
		f.Add(encodeAnnotations(a))
	}
	inj := &config.Injector{
		Revision: config.DefaultRevision,
		Templates: map[string]string{
			"sidecar": "spec:\n  containers:\n  - name: istio-proxy\n    image: {{ .ProxyImage | quote }}\n" +
				"    args: [{{ .ProxyConfig.DiscoveryAddress | quote }}, {{ annotation .ObjectMeta `sidecar.istio.io/logLevel` `info` | quote }}]\n",
			"gateway": "metadata: {labels: {gateway: {{ .DeploymentMeta.Name | quote }}}}\n",
		},
		DefaultTemplates: []string{"sidecar"},
		Values:           map[string]any{"global": map[string]any{"hub": "docker.io/istio", "tag": "1.28.1"}},
		Mesh:             &meshconfig.MeshConfig{DefaultConfig: config.DefaultProxyConfig()},
	}
	e, err := New(inj, config.Options{})
	if err != nil {
		f.Fatal(err)
	}
	f.Fuzz(func(t *testing.T, annotations string) {
		pod := &corev1.Pod{
			ObjectMeta: metav1.ObjectMeta{Annotations: fuzzAnnotations(annotations), Labels: map[string]string{"app": "web"}},
			Spec:       corev1.PodSpec{Containers: []corev1.Container{{Name: "web", Image: "nginx"}}},
		}
		w := Workload{TypeMeta: metav1.TypeMeta{APIVersion: "apps/v1", Kind: "Deployment"}, Name: "web", Namespace: "shop"}
		out, err := e.Render(pod, w)
		if err != nil {
			if !strings.Contains(err.Error(), "Deployment shop/web") {
				t.Fatalf("error does not name the workload: %v", err)
			}
			return
		}
		if out == nil || len(out.Overlays) == 0 {
			t.Fatalf("no error and no output")
		}
	})
}

// corpusAnnotations returns the pod template annotations of the inputs of
// Istio's corpus, or none (said loudly) when it is absent.
func corpusAnnotations(f *testing.F) []map[string]string {
	dir := filepath.Join("..", "..", "..", "shared", "istio-conformance", "inject")
	files, _ := filepath.Glob(filepath.Join(dir, "*.yaml"))
	if len(files) == 0 {
		msg := "ISTIO CONFORMANCE CORPUS NOT FOUND at " + dir + ": fuzzing with the project's seeds only"
		if os.Getenv("CI") == "true" {
			f.Fatal(msg)
		}
		f.Log(msg)
		return nil
	}
	var out []map[string]string
	for _, name := range files {
		b, err := os.ReadFile(name)
		if err != nil {
			f.Fatal(err)
		}
		for _, doc := range strings.Split(string(b), "\n---") {
			var obj struct {
				Metadata struct {
					Annotations map[string]string `json:"annotations"`
				} `json:"metadata"`
				Spec struct {
					Template struct {
						Metadata struct {
							Annotations map[string]string `json:"annotations"`
						} `json:"metadata"`
					} `json:"template"`
				} `json:"spec"`
			}
			if yaml.Unmarshal([]byte(doc), &obj) != nil {
				continue
			}
			for _, a := range []map[string]string{obj.Metadata.Annotations, obj.Spec.Template.Metadata.Annotations} {
				if len(a) > 0 {
					out = append(out, a)
				}
			}
		}
	}
	return out
}
