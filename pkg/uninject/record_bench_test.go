package uninject_test

import (
	"testing"

	"github.com/inject-sidecar/inject-sidecar/examples/bench/benchstages"
	"github.com/inject-sidecar/inject-sidecar/pkg/uninject"
)

// BenchmarkRecord makes the record of one injected generated workload;
// one op is one workload.
func BenchmarkRecord(b *testing.B) {
	f := benchstages.ForBenchmark(b, 200)
	b.ReportAllocs()
	i := 0
	for b.Loop() {
		w := f.Injected[i%len(f.Injected)]
		i++
		if _, err := uninject.Record(w.Final, w.Pod, nil); err != nil {
			b.Fatal(err)
		}
	}
}
