package typedjson_test

import (
	"bytes"
	"encoding/json"
	"testing"

	corev1 "k8s.io/api/core/v1"

	"github.com/inject-sidecar/inject-sidecar/examples/bench/benchstages"
	"github.com/inject-sidecar/inject-sidecar/pkg/internal/typedjson"
)

// BenchmarkToModel converts an injected pod to the JSON data model, the
// way the merge stage reads pods; BenchmarkToModelViaText is the JSON
// text road it replaces.
func BenchmarkToModel(b *testing.B) {
	f := benchstages.ForBenchmark(b, 50)
	b.ReportAllocs()
	i := 0
	for b.Loop() {
		if _, ok := typedjson.ToModel(f.Injected[i%len(f.Injected)].Final, typedjson.Float64); !ok {
			b.Fatal("declined")
		}
		i++
	}
}

// BenchmarkTapeOf lays out the metadata and spec of an injected pod and
// of the pod before injection, as the write-back does for every pod.
func BenchmarkTapeOf(b *testing.B) {
	f := benchstages.ForBenchmark(b, 50)
	b.ReportAllocs()
	i := 0
	for b.Loop() {
		w := f.Injected[i%len(f.Injected)]
		var arena typedjson.Arena
		for _, p := range []any{&w.Pod.ObjectMeta, &w.Final.ObjectMeta, &w.Pod.Spec, &w.Final.Spec} {
			if _, ok := arena.TapeOf(p); !ok {
				b.Fatal("declined")
			}
		}
		i++
	}
}

func BenchmarkToModelViaText(b *testing.B) {
	f := benchstages.ForBenchmark(b, 50)
	b.ReportAllocs()
	i := 0
	for b.Loop() {
		raw, err := json.Marshal(f.Injected[i%len(f.Injected)].Final)
		if err != nil {
			b.Fatal(err)
		}
		var m map[string]any
		if err := json.NewDecoder(bytes.NewReader(raw)).Decode(&m); err != nil {
			b.Fatal(err)
		}
		i++
	}
}

// BenchmarkFromModel decodes the model of an injected pod into a typed
// Pod, the way the merge stage builds the merged pod.
func BenchmarkFromModel(b *testing.B) {
	f := benchstages.ForBenchmark(b, 50)
	models := make([]any, len(f.Injected))
	for i, w := range f.Injected {
		models[i], _ = typedjson.ToModel(w.Final, typedjson.Float64)
	}
	b.ReportAllocs()
	i := 0
	for b.Loop() {
		var pod corev1.Pod
		if !typedjson.FromModel(models[i%len(models)], &pod) {
			b.Fatal("declined")
		}
		i++
	}
}
