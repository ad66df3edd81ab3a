package merge

import (
	"os"
	"path/filepath"
	"testing"

	corev1 "k8s.io/api/core/v1"
	"sigs.k8s.io/yaml"

	"github.com/inject-sidecar/inject-sidecar/pkg/config"
)

// robustPod is a pod with every feature post-processing looks at, and a
// status annotation of the wrong shape.
func robustPod() *corev1.Pod {
	sc := &corev1.SecurityContext{}
	uid := int64(5)
	sc.RunAsUser = &uid
	return &corev1.Pod{Spec: corev1.PodSpec{Containers: []corev1.Container{
		{Name: "a", Image: "a"},
		{Name: "istio-proxy", Image: "auto", SecurityContext: sc},
	}}}
}

func robustParams() Params {
	return Params{
		Injector: &config.Injector{Values: map[string]any{"sidecarInjectorWebhook": map[string]any{"rewriteAppHTTPProbe": true}}},
		Options:  config.Options{NativeSidecars: config.NativeSidecarsTrue, Platform: "openshift"},
	}
}

func loadBadOverlays(t testing.TB) []string {
	b, err := os.ReadFile(filepath.Join("testdata", "bad_overlays.yaml"))
	if err != nil {
		t.Fatal(err)
	}
	var list []string
	if err := yaml.Unmarshal(b, &list); err != nil {
		t.Fatal(err)
	}
	return list
}

func TestApplyBadOverlaysDoNotPanic(t *testing.T) {
	for _, o := range loadBadOverlays(t) {
		for _, status := range []string{"", `{"containers":[1,{},"x"],"initContainers":"y"}`, "null"} {
			pod := robustPod()
			if status != "" {
				pod.Annotations = map[string]string{"sidecar.istio.io/status": status}
			}
			// Only the absence of a panic is checked; errors are fine.
			_, _ = Apply(pod, [][]byte{[]byte(o)}, robustParams())
			_, _ = Strip(pod, robustParams())
		}
	}
}

func FuzzApply(f *testing.F) {
	for _, o := range loadBadOverlays(f) {
		f.Add(o, `{"containers":["istio-proxy"]}`)
	}
	f.Fuzz(func(t *testing.T, overlay, status string) {
		pod := robustPod()
		pod.Annotations = map[string]string{"sidecar.istio.io/status": status, "prometheus.io/port": "1"}
		_, _ = Apply(pod, [][]byte{[]byte(overlay)}, robustParams())
		_, _ = Strip(pod, robustParams())
	})
}
