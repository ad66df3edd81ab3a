package decide_test

import (
	"testing"

	"github.com/inject-sidecar/inject-sidecar/examples/bench/benchstages"
	"github.com/inject-sidecar/inject-sidecar/pkg/decide"
)

// BenchmarkDecide decides one generated workload; BenchmarkNew builds the
// decider from the generated input's Namespaces and webhooks, once per run.
func BenchmarkDecide(b *testing.B) {
	f := benchstages.ForBenchmark(b, 200)
	b.ReportAllocs()
	i := 0
	for b.Loop() {
		w := f.Workloads[i%len(f.Workloads)]
		i++
		if d := f.Decider.Decide(decide.PodOf(w.Target, w.Pod)); d.Err != nil {
			b.Fatal(d.Err)
		}
	}
}

func BenchmarkNew(b *testing.B) {
	f := benchstages.ForBenchmark(b, 200)
	b.ReportAllocs()
	for b.Loop() {
		if _, err := benchstages.NewDecider(f.Config, f.Items); err != nil {
			b.Fatal(err)
		}
	}
}
