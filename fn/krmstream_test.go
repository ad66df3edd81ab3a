package main

import (
	"bytes"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"sigs.k8s.io/kustomize/kyaml/kio"
	"sigs.k8s.io/kustomize/kyaml/yaml"

	"github.com/inject-sidecar/inject-sidecar/examples/bench/workloadgen"
)

// krmBothWays runs a ResourceList streamed and whole. Whenever the
// streamed run takes it, it must succeed where the whole one does, with
// the same bytes.
func krmBothWays(t *testing.T, input []byte, env lookupEnv) (streamed bool) {
	t.Helper()
	var out bytes.Buffer
	streamed = streamResourceList(newRun(), env, input, &out)
	whole, err := processWholeList(newRun(), env, input)
	if !streamed {
		return false
	}
	if err != nil {
		t.Fatalf("streamed a run that fails whole: %v", err)
	}
	if !bytes.Equal(out.Bytes(), whole) {
		t.Fatalf("streamed output differs from the whole list's:\n%s", firstDiff(whole, out.Bytes()))
	}
	return true
}

// firstDiff shows the first line where two outputs differ.
func firstDiff(want, got []byte) string {
	w, g := strings.Split(string(want), "\n"), strings.Split(string(got), "\n")
	for i := 0; i < len(w) || i < len(g); i++ {
		var a, b string
		if i < len(w) {
			a = w[i]
		}
		if i < len(g) {
			b = g[i]
		}
		if a != b {
			return fmt.Sprintf("line %d:\n whole:    %q\n streamed: %q", i+1, a, b)
		}
	}
	return "(same lines)"
}

// TestKRMStreamMatchesWholeList holds KRM mode's streamed reading to the
// whole list's on the edge cases of testdata/krmstream (each file's first
// line says whether it must be streamed) and on every ResourceList the
// other KRM tests use.
func TestKRMStreamMatchesWholeList(t *testing.T) {
	cases, err := filepath.Glob("testdata/krmstream/*.yaml")
	if err != nil || len(cases) == 0 {
		t.Fatalf("no cases in testdata/krmstream: %v", err)
	}
	for _, f := range cases {
		t.Run(filepath.Base(f), func(t *testing.T) {
			input, err := os.ReadFile(f)
			if err != nil {
				t.Fatal(err)
			}
			first, _, _ := strings.Cut(string(input), "\n")
			want, ok := strings.CutPrefix(strings.TrimSpace(first), "# stream: ")
			if !ok || (want != "yes" && want != "no") {
				t.Fatalf("first line %q: want \"# stream: yes\" or \"# stream: no\"", first)
			}
			if got := krmBothWays(t, input, fakeEnv{}.lookup); got != (want == "yes") {
				t.Fatalf("streamed = %v, want %s", got, want)
			}
		})
	}
	others, err := filepath.Glob("testdata/krm/*/input.yaml")
	if err != nil || len(others) == 0 {
		t.Fatalf("no cases in testdata/krm: %v", err)
	}
	for _, f := range others {
		t.Run(filepath.Base(filepath.Dir(f)), func(t *testing.T) {
			input, err := os.ReadFile(f)
			if err != nil {
				t.Fatal(err)
			}
			krmBothWays(t, input, readEnvFile(t, filepath.Dir(f)).lookup)
		})
	}
}

// generatedList is n generated workloads as a ResourceList, as kustomize
// writes it, with Istio's configuration (or the quickstart's) as the
// function config; edit changes the items first.
func generatedList(t *testing.T, n int, edit func([]*yaml.RNode)) []byte {
	t.Helper()
	var buf bytes.Buffer
	if _, err := workloadgen.Generate(&buf, workloadgen.Options{Workloads: n}); err != nil {
		t.Fatal(err)
	}
	nodes, err := (&kio.ByteReader{Reader: &buf, OmitReaderAnnotations: true}).Read()
	if err != nil {
		t.Fatal(err)
	}
	if edit != nil {
		edit(nodes)
	}
	fc, err := yaml.Parse(string(istioFunctionConfig(t)))
	if err != nil {
		t.Fatal(err)
	}
	var rl bytes.Buffer
	w := kio.ByteWriter{Writer: &rl, FunctionConfig: fc, WrappingKind: kio.ResourceListKind, WrappingAPIVersion: kio.ResourceListAPIVersion}
	if err := w.Write(nodes); err != nil {
		t.Fatal(err)
	}
	return rl.Bytes()
}

// istioFunctionConfig is Istio's injector configuration as one ConfigMap,
// or the quickstart's (loudly) when Istio's is not there.
func istioFunctionConfig(t *testing.T) []byte {
	t.Helper()
	root, err := workloadgen.RepoRoot(".")
	if err != nil {
		t.Fatal(err)
	}
	files, err := workloadgen.IstioConfig(root)
	if err != nil {
		if os.Getenv("CI") == "true" {
			t.Fatal(workloadgen.FallbackWarning(err))
		}
		t.Log(workloadgen.FallbackWarning(err))
		data, err := os.ReadFile(filepath.Join(root, workloadgen.FallbackConfig))
		if err != nil {
			t.Fatal(err)
		}
		return data
	}
	data := map[string]string{}
	for key, path := range map[string]string{"config": files.InjectConfig, "values": files.Values, "mesh": files.Mesh} {
		b, err := os.ReadFile(path)
		if err != nil {
			t.Fatal(err)
		}
		data[key] = string(b)
	}
	fc, err := yaml.Parse("apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: istio-sidecar-injector\n  namespace: istio-system\n")
	if err != nil {
		t.Fatal(err)
	}
	fc.SetDataMap(data)
	s, err := fc.String()
	if err != nil {
		t.Fatal(err)
	}
	return []byte(s)
}

// TestKRMStreamBatches streams lists of several batches, where what one
// batch decides (kyaml's annotation format) must hold across batches.
func TestKRMStreamBatches(t *testing.T) {
	if testing.Short() {
		t.Skip("several batches of generated workloads: not in -short")
	}
	annotate := func(i int, keys ...string) func([]*yaml.RNode) {
		return func(items []*yaml.RNode) {
			for _, k := range keys {
				if err := items[i].PipeE(yaml.SetAnnotation(k, fmt.Sprintf("item-%d.yaml", i))); err != nil {
					t.Fatal(err)
				}
			}
		}
	}
	for _, tc := range []struct {
		name   string
		edit   func([]*yaml.RNode)
		stream bool
	}{
		{"plain", nil, true},
		// The format is first seen in the third batch; the items before
		// it are unannotated, which any format leaves alone.
		{"annotated late", annotate(520, "config.kubernetes.io/path", "internal.config.kubernetes.io/path"), true},
		{"legacy only, late", annotate(520, "config.kubernetes.io/path"), true},
		// The first batch says internal only, a later one legacy only:
		// kyaml refuses the whole list.
		{"inconsistent across batches", func(items []*yaml.RNode) {
			annotate(3, "internal.config.kubernetes.io/path")(items)
			annotate(520, "config.kubernetes.io/path")(items)
		}, false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			input := generatedList(t, 300, tc.edit) // about 560 items: three batches
			if got := krmBothWays(t, input, fakeEnv{}.lookup); got != tc.stream {
				t.Fatalf("streamed = %v, want %v", got, tc.stream)
			}
		})
	}
}

// FuzzKRMStream: whatever the streamed reading takes, it writes exactly
// what the whole list's reading writes, and only for runs that succeed.
func FuzzKRMStream(f *testing.F) {
	lists, _ := fnSeeds(f)
	cases, _ := filepath.Glob("testdata/krmstream/*.yaml")
	for _, name := range cases {
		b, err := os.ReadFile(name)
		if err != nil {
			f.Fatal(err)
		}
		lists = append(lists, b)
	}
	for _, l := range lists {
		f.Add(l)
	}
	f.Fuzz(func(t *testing.T, input []byte) {
		krmBothWays(t, input, fakeEnv{}.lookup)
	})
}
