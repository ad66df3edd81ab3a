package writeback_test

import (
	"testing"

	corev1 "k8s.io/api/core/v1"

	"github.com/inject-sidecar/inject-sidecar/examples/bench/benchstages"
	"github.com/inject-sidecar/inject-sidecar/pkg/podtemplate"
	"github.com/inject-sidecar/inject-sidecar/pkg/writeback"
)

// BenchmarkPod writes one injected pod back into a copy of its resource;
// copying the resource is not timed.
func BenchmarkPod(b *testing.B) {
	benchmarkPod(b, writeback.Pod)
}

// BenchmarkPodModel is BenchmarkPod reading the pods in the JSON data
// model, as before the typed shortcut: the difference is the shortcut's.
func BenchmarkPodModel(b *testing.B) {
	benchmarkPod(b, writeback.PodModel)
}

func benchmarkPod(b *testing.B, pod func(*podtemplate.Target, *corev1.Pod, *corev1.Pod) (bool, error)) {
	f := benchstages.ForBenchmark(b, 200)
	b.ReportAllocs()
	i := 0
	for b.Loop() {
		w := f.Injected[i%len(f.Injected)]
		i++
		b.StopTimer()
		t, err := w.Writable()
		if err != nil {
			b.Fatal(err)
		}
		b.StartTimer()
		if _, err := pod(t, w.Pod, w.Final); err != nil {
			b.Fatal(err)
		}
	}
}
