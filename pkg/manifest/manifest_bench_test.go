package manifest_test

import (
	"io"
	"testing"

	"github.com/inject-sidecar/inject-sidecar/examples/bench/benchstages"
	"github.com/inject-sidecar/inject-sidecar/pkg/manifest"
)

const benchWorkloads = 200

// BenchmarkSplit parses the whole generated input; one op is the input.
func BenchmarkSplit(b *testing.B) {
	f := benchstages.ForBenchmark(b, benchWorkloads)
	b.ReportAllocs()
	b.SetBytes(int64(len(f.Input)))
	for b.Loop() {
		if _, err := manifest.Split("generated", f.Input); err != nil {
			b.Fatal(err)
		}
	}
	b.ReportMetric(float64(b.Elapsed().Nanoseconds())/float64(b.N)/float64(len(f.Workloads)), "ns/workload")
}

// BenchmarkWrite writes the injected input (every injected document
// encoded again, the others copied); one op is the whole output.
func BenchmarkWrite(b *testing.B) {
	f := benchstages.ForBenchmark(b, benchWorkloads)
	changed, err := f.WriteBack()
	if err != nil {
		b.Fatal(err)
	}
	isChanged := func(d *manifest.Document) bool { return changed[d] }
	b.ReportAllocs()
	for b.Loop() {
		if err := manifest.Write(io.Discard, f.Docs, isChanged); err != nil {
			b.Fatal(err)
		}
	}
	b.ReportMetric(float64(b.Elapsed().Nanoseconds())/float64(b.N)/float64(len(f.Workloads)), "ns/workload")
}
