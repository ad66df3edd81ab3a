package inject_test

import (
	"testing"

	"github.com/inject-sidecar/inject-sidecar/examples/bench/benchstages"
	"github.com/inject-sidecar/inject-sidecar/pkg/inject"
	"github.com/inject-sidecar/inject-sidecar/pkg/manifest"
)

// BenchmarkRun is the whole pipeline over the generated input, parsed
// afresh for every op (not timed); one op is the whole input.
func BenchmarkRun(b *testing.B) {
	f := benchstages.ForBenchmark(b, 200)
	b.ReportAllocs()
	for b.Loop() {
		b.StopTimer()
		docs, err := manifest.Split("generated", f.Input)
		if err != nil {
			b.Fatal(err)
		}
		b.StartTimer()
		if _, err := inject.Run(f.Config, manifest.Nodes(docs)); err != nil {
			b.Fatal(err)
		}
	}
	b.ReportMetric(float64(b.Elapsed().Nanoseconds())/float64(b.N)/float64(len(f.Workloads)), "ns/workload")
}
