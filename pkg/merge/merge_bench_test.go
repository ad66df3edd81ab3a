package merge_test

import (
	"testing"

	corev1 "k8s.io/api/core/v1"

	"github.com/inject-sidecar/inject-sidecar/examples/bench/benchstages"
	"github.com/inject-sidecar/inject-sidecar/pkg/merge"
)

const benchWorkloads = 200

// BenchmarkStrip removes a previous injection (none, in generated input:
// the cost of finding that out and copying the pod).
func BenchmarkStrip(b *testing.B) {
	f := benchstages.ForBenchmark(b, benchWorkloads)
	b.ReportAllocs()
	i := 0
	for b.Loop() {
		w := f.Injected[i%len(f.Injected)]
		i++
		if _, err := merge.Strip(w.Pod, w.Params); err != nil {
			b.Fatal(err)
		}
	}
}

// BenchmarkApply is the whole merge stage for one workload: BenchmarkMerge
// plus BenchmarkPostProcess.
func BenchmarkApply(b *testing.B) {
	f := benchstages.ForBenchmark(b, benchWorkloads)
	b.ReportAllocs()
	i := 0
	for b.Loop() {
		w := f.Injected[i%len(f.Injected)]
		i++
		if _, err := merge.Apply(w.Pod, w.Overlays, w.Params); err != nil {
			b.Fatal(err)
		}
	}
}

// BenchmarkMerge applies the rendered overlays and the user's container
// declarations (strategic merge patches).
func BenchmarkMerge(b *testing.B) {
	f := benchstages.ForBenchmark(b, benchWorkloads)
	b.ReportAllocs()
	i := 0
	for b.Loop() {
		w := f.Injected[i%len(f.Injected)]
		i++
		if _, _, _, err := merge.MergeStage(w.Pod, w.Overlays, w.Params); err != nil {
			b.Fatal(err)
		}
	}
}

// BenchmarkPostProcess runs Istio's post-processing (probes, Prometheus,
// status annotation, ordering) on a merged pod; copying the merged pod
// is not timed.
func BenchmarkPostProcess(b *testing.B) {
	f := benchstages.ForBenchmark(b, benchWorkloads)
	type merged struct{ pod, orig, templ *corev1.Pod }
	in := make([]merged, len(f.Injected))
	for i, w := range f.Injected {
		m, o, t, err := merge.MergeStage(w.Pod, w.Overlays, w.Params)
		if err != nil {
			b.Fatal(err)
		}
		in[i] = merged{m, o, t}
	}
	b.ReportAllocs()
	i := 0
	for b.Loop() {
		k := i % len(in)
		i++
		b.StopTimer()
		pod := in[k].pod.DeepCopy()
		b.StartTimer()
		if err := merge.PostProcessStage(pod, in[k].orig, in[k].templ, f.Injected[k].Params); err != nil {
			b.Fatal(err)
		}
	}
}
