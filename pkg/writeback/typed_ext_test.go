package writeback_test

import (
	"fmt"
	"math/rand/v2"
	"testing"

	corev1 "k8s.io/api/core/v1"
	"sigs.k8s.io/kustomize/kyaml/yaml"

	"github.com/inject-sidecar/inject-sidecar/examples/bench/benchstages"
	"github.com/inject-sidecar/inject-sidecar/pkg/writeback"
)

// TestTypedMatchesModelGenerated writes generated workloads as the
// pipeline injects them, both ways, and with random edits on top.
func TestTypedMatchesModelGenerated(t *testing.T) {
	f := benchstages.ForBenchmark(t, 60)
	if len(f.Injected) == 0 {
		t.Fatal("no injected workloads")
	}
	for n, w := range f.Injected {
		typedTarget, err := w.Writable()
		if err != nil {
			t.Fatal(err)
		}
		src, err := yaml.Marshal(typedTarget.Resource.YNode())
		if err != nil {
			t.Fatal(err)
		}
		for _, seed := range []int{-1, n} {
			writeback.Differential(t, src, func(i int, p *corev1.Pod) {
				*p = *w.Final.DeepCopy()
				if seed >= 0 {
					writeback.MutatePod(p, rand.New(rand.NewPCG(uint64(seed), 7)))
				}
			})
		}
	}
}

// TestValuesAgreeGenerated compares the model and typed readings of
// generated workloads, before and after injection and with random edits.
func TestValuesAgreeGenerated(t *testing.T) {
	f := benchstages.ForBenchmark(t, 20)
	for n, w := range f.Injected {
		edited := w.Final.DeepCopy()
		writeback.MutatePod(edited, rand.New(rand.NewPCG(uint64(n), 1)))
		for _, p := range []*corev1.Pod{w.Pod, w.Final, edited} {
			for _, part := range []any{&p.ObjectMeta, &p.Spec} {
				if d := writeback.AgreeOn(part, fmt.Sprintf("workload %d", n)); d != "" {
					t.Fatal(d)
				}
			}
		}
	}
}
