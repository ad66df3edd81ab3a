package merge_test

import (
	"encoding/json"
	"math/rand"
	"reflect"
	"testing"

	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/api/resource"

	"github.com/inject-sidecar/inject-sidecar/examples/bench/benchstages"
	"github.com/inject-sidecar/inject-sidecar/pkg/merge"
)

// sameBothRoads runs Apply and the general road on one workload and fails
// on any difference (pod as JSON, error, input modified).
func sameBothRoads(t *testing.T, what string, pod *corev1.Pod, overlays [][]byte, p merge.Params) {
	t.Helper()
	before := pod.DeepCopy()
	got, gotErr := merge.Apply(pod, overlays, p)
	if !reflect.DeepEqual(pod, before) {
		t.Fatalf("%s: Apply modified its input pod", what)
	}
	want, wantErr := merge.ApplyGeneral(pod, overlays, p)
	if (gotErr == nil) != (wantErr == nil) || gotErr != nil && gotErr.Error() != wantErr.Error() {
		t.Fatalf("%s: errors differ: typed %v, general %v", what, gotErr, wantErr)
	}
	if gotErr != nil {
		return
	}
	g, err := json.Marshal(got)
	if err != nil {
		t.Fatal(err)
	}
	w, err := json.Marshal(want)
	if err != nil {
		t.Fatal(err)
	}
	if string(g) != string(w) {
		t.Fatalf("%s: Apply differs from the general road:\n got %s\nwant %s", what, g, w)
	}
}

// typedTakes reports whether the typed merge takes the first overlay for
// the pod (so that the tests know they exercise it).
func typedTakes(t *testing.T, pod *corev1.Pod, overlay []byte) bool {
	patch, err := merge.ParseOverlay(overlay)
	if err != nil || !merge.JSONStable(pod) {
		return false
	}
	ov, node, ok := merge.DecodeOverlay(patch)
	return ok && merge.MergeTyped(pod.DeepCopy(), ov, node)
}

// TestTypedMergeGenerated: the generated workloads with Istio's
// templates, as they are and mutated, give the same pods both ways.
func TestTypedMergeGenerated(t *testing.T) {
	f := benchstages.ForBenchmark(t, 200)
	r := rand.New(rand.NewSource(11))
	taken := 0
	for _, w := range f.Injected {
		if len(w.Overlays) > 0 && typedTakes(t, w.Pod, w.Overlays[0]) {
			taken++
		}
		sameBothRoads(t, w.Target.String(), w.Pod, w.Overlays, w.Params)
		for k := range 4 {
			pod := w.Pod.DeepCopy()
			mutatePod(r, pod)
			sameBothRoads(t, w.Target.String()+" mutated", pod, w.Overlays, w.Params)
			if k == 0 && len(w.Overlays) > 0 {
				// Two overlays: the second merges into a typed-merged pod.
				sameBothRoads(t, w.Target.String()+" twice", pod, [][]byte{w.Overlays[0], w.Overlays[0]}, w.Params)
			}
		}
	}
	t.Logf("typed merge took %d of %d generated workloads", taken, len(f.Injected))
	if taken < len(f.Injected)*9/10 {
		t.Errorf("the typed merge took only %d of %d generated workloads", taken, len(f.Injected))
	}
}

// TestTypedMergeMutatedOverlays: mutated template outputs (see
// TestParseBlockYAMLMutations) give the same pods, or errors, both ways.
func TestTypedMergeMutatedOverlays(t *testing.T) {
	f := benchstages.ForBenchmark(t, 30)
	var seeds []string
	var pods []*corev1.Pod
	var params []merge.Params
	for _, w := range f.Injected {
		if len(w.Overlays) == 1 && len(seeds) < 6 {
			seeds = append(seeds, string(w.Overlays[0]))
			pods = append(pods, w.Pod)
			params = append(params, w.Params)
		}
	}
	if len(seeds) == 0 {
		t.Fatal("no generated workload with one overlay")
	}
	n := 0
	merge.MutateBlockYAML(t, seeds, 300, func(doc string) bool {
		k := n % len(pods)
		n++
		sameBothRoads(t, "mutated overlay", pods[k], [][]byte{[]byte(doc)}, params[k])
		return typedTakes(t, pods[k], []byte(doc))
	})
}

// mutatePod changes a pod the ways that matter to the merge: the user
// declares injected containers and volumes, lists become empty, keys
// repeat or go missing, values would not survive JSON.
func mutatePod(r *rand.Rand, pod *corev1.Pod) {
	for range 1 + r.Intn(3) {
		switch r.Intn(11) {
		case 0:
			uid := int64(r.Intn(3) * 1000)
			pod.Spec.Containers = append(pod.Spec.Containers, corev1.Container{
				Name: "istio-proxy", Image: "auto",
				Env:             []corev1.EnvVar{{Name: "PILOT_CERT_PROVIDER", Value: "mine"}, {Name: "EXTRA", Value: "x"}},
				Resources:       corev1.ResourceRequirements{Limits: corev1.ResourceList{"memory": resource.MustParse("2Gi")}},
				SecurityContext: &corev1.SecurityContext{RunAsUser: &uid},
			})
		case 1:
			pod.Spec.Volumes = append(pod.Spec.Volumes, corev1.Volume{Name: "istio-envoy",
				VolumeSource: corev1.VolumeSource{ConfigMap: &corev1.ConfigMapVolumeSource{LocalObjectReference: corev1.LocalObjectReference{Name: "cm"}}}})
		case 2:
			pod.Spec.InitContainers = append(pod.Spec.InitContainers, corev1.Container{Name: "istio-validation", Args: []string{"-u", "5"}})
		case 3:
			if len(pod.Spec.Containers) > 0 {
				c := &pod.Spec.Containers[r.Intn(len(pod.Spec.Containers))]
				c.Env = append(c.Env, corev1.EnvVar{Name: "DUP"}, corev1.EnvVar{Name: "DUP", Value: "2"})
				c.Ports = []corev1.ContainerPort{}
			}
		case 4:
			pod.Spec.Containers = append(pod.Spec.Containers, pod.Spec.Containers...)
		case 5:
			pod.Spec.Volumes = []corev1.Volume{}
			pod.Spec.InitContainers = []corev1.Container{}
		case 6:
			pod.Labels, pod.Annotations = map[string]string{}, nil
		case 7:
			big := int64(1<<53 + 1)
			pod.Spec.ActiveDeadlineSeconds = &big
		case 8:
			if pod.Annotations == nil {
				pod.Annotations = map[string]string{}
			}
			pod.Annotations["bad"] = "\xff"
		case 9:
			pod.Spec.ImagePullSecrets = append(pod.Spec.ImagePullSecrets, corev1.LocalObjectReference{})
		case 10:
			pod.Spec.Containers = append(pod.Spec.Containers, corev1.Container{Name: "istio-proxy",
				Ports:          []corev1.ContainerPort{{ContainerPort: 15090, Name: "mine"}, {ContainerPort: 8080}},
				ReadinessProbe: &corev1.Probe{InitialDelaySeconds: 7}})
		}
	}
}

// TestDecodeBlockTypedRendered: what Istio's templates render for the
// generated workloads is read straight into pods (or nothing is saved),
// as the model road reads it; then mutations of it.
func TestDecodeBlockTypedRendered(t *testing.T) {
	f := benchstages.ForBenchmark(t, 60)
	var seeds []string
	taken, total := 0, 0
	for _, w := range f.Injected {
		for _, o := range w.Overlays {
			total++
			if merge.CompareBlockTyped(t, string(o)) {
				taken++
			}
			if len(seeds) < 8 {
				seeds = append(seeds, string(o))
			}
		}
	}
	if taken != total {
		t.Errorf("decodeBlockTyped took only %d of %d rendered overlays", taken, total)
	}
	merge.MutateBlockYAML(t, seeds, 400, func(doc string) bool { return merge.CompareBlockTyped(t, doc) })
}
