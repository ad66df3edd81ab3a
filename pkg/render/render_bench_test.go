package render_test

import (
	"testing"

	"github.com/inject-sidecar/inject-sidecar/examples/bench/benchstages"
	"github.com/inject-sidecar/inject-sidecar/pkg/render"
)

// BenchmarkRender renders Istio's templates for one generated workload.
func BenchmarkRender(b *testing.B) {
	f := benchstages.ForBenchmark(b, 200)
	b.ReportAllocs()
	i := 0
	for b.Loop() {
		w := f.Injected[i%len(f.Injected)]
		i++
		t := w.Target
		if _, err := f.Engine.Render(w.Stripped, render.Workload{TypeMeta: t.TypeMeta, Name: t.Name, Namespace: t.Namespace}); err != nil {
			b.Fatal(err)
		}
	}
}

// BenchmarkNew parses the injector's templates, once per run.
func BenchmarkNew(b *testing.B) {
	f := benchstages.ForBenchmark(b, 1)
	inj := f.Config.Injectors[f.Config.Options.Revision]
	b.ReportAllocs()
	for b.Loop() {
		if _, err := render.New(inj, f.Config.Options); err != nil {
			b.Fatal(err)
		}
	}
}
