package writeback_test

import (
	"testing"

	"github.com/inject-sidecar/inject-sidecar/examples/bench/benchstages"
	"github.com/inject-sidecar/inject-sidecar/pkg/writeback"
)

// BenchmarkPod writes one injected pod back into a copy of its resource;
// copying the resource is not timed.
func BenchmarkPod(b *testing.B) {
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
		if _, err := writeback.Pod(t, w.Pod, w.Final); err != nil {
			b.Fatal(err)
		}
	}
}
