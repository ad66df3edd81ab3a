package typedjson_test

import (
	"bytes"
	"encoding/json"
	"os"
	"path/filepath"
	"reflect"
	"testing"

	corev1 "k8s.io/api/core/v1"
	"sigs.k8s.io/yaml"

	"github.com/inject-sidecar/inject-sidecar/examples/bench/benchstages"
	"github.com/inject-sidecar/inject-sidecar/pkg/internal/typedjson"
)

// TestRealPods checks that realistic pods (testdata, and the generated
// workloads before and after injection) convert directly both ways, and
// as encoding/json converts them: a fallback there would cost every
// workload, a difference would change the output.
func TestRealPods(t *testing.T) {
	pods := map[string]*corev1.Pod{}
	files, _ := filepath.Glob(filepath.Join("testdata", "*.yaml"))
	if len(files) == 0 {
		t.Fatal("no testdata/*.yaml")
	}
	for _, file := range files {
		raw, err := os.ReadFile(file)
		if err != nil {
			t.Fatal(err)
		}
		var pod corev1.Pod
		if err := yaml.Unmarshal(raw, &pod); err != nil {
			t.Fatal(err)
		}
		pods[filepath.Base(file)] = &pod
	}
	f := benchstages.ForBenchmark(t, 40)
	for _, w := range f.Injected {
		pods[w.Target.String()+" before"] = w.Pod
		pods[w.Target.String()+" after"] = w.Final
	}
	for name, pod := range pods {
		for _, n := range []typedjson.Numbers{typedjson.Float64, typedjson.Number} {
			got, ok := typedjson.ToModel(pod, n)
			if !ok {
				t.Fatalf("%s: ToModel declined (numbers %d)", name, n)
			}
			raw, err := json.Marshal(pod)
			if err != nil {
				t.Fatal(err)
			}
			d := json.NewDecoder(bytes.NewReader(raw))
			if n == typedjson.Number {
				d.UseNumber()
			}
			var want any
			if err := d.Decode(&want); err != nil {
				t.Fatal(err)
			}
			if !reflect.DeepEqual(got, want) {
				t.Fatalf("%s: ToModel differs:\n got %#v\nwant %#v", name, got, want)
			}
			var back, wantBack corev1.Pod
			if !typedjson.FromModel(got, &back) {
				t.Fatalf("%s: FromModel declined (numbers %d)", name, n)
			}
			if err := json.Unmarshal(raw, &wantBack); err != nil {
				t.Fatal(err)
			}
			if !reflect.DeepEqual(back, wantBack) {
				t.Fatalf("%s: FromModel differs", name)
			}
		}
	}
}
