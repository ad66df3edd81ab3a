package merge_test

import (
	"reflect"
	"testing"

	"github.com/inject-sidecar/inject-sidecar/examples/bench/benchstages"
	"github.com/inject-sidecar/inject-sidecar/pkg/merge"
)

// TestParseBlockYAMLRendered reads what Istio's templates render for the
// generated workloads with the subset reader, which must take every one
// (or it saves nothing) and read it as sigs.k8s.io/yaml does; then
// mutations of them.
func TestParseBlockYAMLRendered(t *testing.T) {
	f := benchstages.ForBenchmark(t, 60)
	var seeds []string
	check := func(doc string) bool {
		got, ok := merge.ParseBlockYAML([]byte(doc))
		if !ok {
			return false
		}
		want, err := merge.ViaSigsYAML(doc)
		if err != nil || !reflect.DeepEqual(got, want) {
			t.Fatalf("reads differently from sigs.k8s.io/yaml (%v):\n%s\n got %#v\nwant %#v", err, doc, got, want)
		}
		return true
	}
	for _, w := range f.Injected {
		for i, o := range w.Overlays {
			if !check(string(o)) {
				t.Errorf("%s: overlay %d not taken by the subset reader:\n%s", w.Target, i, o)
			}
			if len(seeds) < 8 {
				seeds = append(seeds, string(o))
			}
		}
	}
	merge.MutateBlockYAML(t, seeds, 400, check)
}
