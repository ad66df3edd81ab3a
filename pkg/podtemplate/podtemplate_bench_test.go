package podtemplate_test

import (
	"testing"

	"github.com/inject-sidecar/inject-sidecar/examples/bench/benchstages"
	"github.com/inject-sidecar/inject-sidecar/pkg/podtemplate"
)

// benchWorkloads is the size of the generated input the stage benchmarks
// cycle over; one op is one workload unless said otherwise.
const benchWorkloads = 200

// BenchmarkFind finds the pod templates of the whole generated input; one
// op is the whole input.
func BenchmarkFind(b *testing.B) {
	f := benchstages.ForBenchmark(b, benchWorkloads)
	b.ReportAllocs()
	for b.Loop() {
		if _, err := podtemplate.Find(f.Items); err != nil {
			b.Fatal(err)
		}
	}
	b.ReportMetric(float64(b.Elapsed().Nanoseconds())/float64(b.N)/float64(len(f.Workloads)), "ns/workload")
}

// BenchmarkPod reads one pod template as a typed Pod.
func BenchmarkPod(b *testing.B) {
	f := benchstages.ForBenchmark(b, benchWorkloads)
	b.ReportAllocs()
	i := 0
	for b.Loop() {
		w := f.Workloads[i%len(f.Workloads)]
		i++
		if _, err := w.Target.Pod(); err != nil {
			b.Fatal(err)
		}
	}
}
