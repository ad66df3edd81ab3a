package main

import (
	"bytes"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// fnSeeds returns the project's KRM and bad-input cases as ResourceLists,
// and Istio's corpus inputs wrapped in ResourceLists with the bad-input
// configuration (said loudly when the corpus is absent).
func fnSeeds(f *testing.F) (lists [][]byte, workloads [][]byte) {
	f.Helper()
	inputs, _ := filepath.Glob(filepath.Join("testdata", "krm", "*", "input.yaml"))
	for _, name := range inputs {
		b, err := os.ReadFile(name)
		if err != nil {
			f.Fatal(err)
		}
		lists = append(lists, b)
	}
	cfgPath := filepath.Join("testdata", "badinput", "config.yaml")
	cfg, err := os.ReadFile(cfgPath)
	if err != nil {
		f.Fatal(err)
	}
	dirs, _ := filepath.Glob(filepath.Join("testdata", "badinput", "*"))
	for _, dir := range dirs {
		res, err := os.ReadFile(filepath.Join(dir, "resources.yaml"))
		if err == nil {
			workloads = append(workloads, res)
			lists = append(lists, resourceList(cfg, res))
		}
		if l, err := os.ReadFile(filepath.Join(dir, "list.yaml")); err == nil {
			lists = append(lists, l)
		}
	}
	corpus := filepath.Join("..", "..", "shared", "istio-conformance", "inject")
	files, _ := filepath.Glob(filepath.Join(corpus, "*.yaml"))
	if len(files) == 0 {
		msg := "ISTIO CONFORMANCE CORPUS NOT FOUND at " + corpus + ": fuzzing with the project's seeds only"
		if os.Getenv("CI") == "true" {
			f.Fatal(msg)
		}
		f.Log(msg)
	}
	for _, name := range files {
		if strings.HasSuffix(name, ".iop.yaml") {
			continue
		}
		b, err := os.ReadFile(name)
		if err != nil {
			f.Fatal(err)
		}
		workloads = append(workloads, b)
		lists = append(lists, resourceList(cfg, b))
	}
	return lists, workloads
}

// FuzzResourceList runs the KRM function mode end to end, in-process, on
// arbitrary input. Whatever happens, no panic may escape into an internal
// error, and no resource may be lost: a successful run returns every item;
// a failed one returns nothing, or the items exactly as given with an
// error result.
func FuzzResourceList(f *testing.F) {
	lists, _ := fnSeeds(f)
	for _, l := range lists {
		f.Add(l)
	}
	f.Fuzz(func(t *testing.T, input []byte) {
		out, _, err := runKRM(input, fakeEnv{})
		var pe *panicError
		if errors.As(err, &pe) {
			t.Fatalf("panic: %v\n%s", pe.value, pe.stack)
		}
		if len(out) == 0 {
			return
		}
		in, rerr := readItems(input)
		if rerr != nil {
			t.Fatalf("output written for input that does not read: %v", rerr)
		}
		got, rerr := readItems(out)
		if rerr != nil {
			t.Fatalf("output is not a ResourceList: %v\n%s", rerr, out)
		}
		if err != nil {
			assertSameItems(t, in, got)
			if !bytes.Contains(out, []byte("severity: error")) {
				t.Fatalf("failed run without an error result:\n%s", out)
			}
			return
		}
		assertSameObjects(t, in, got)
	})
}

// FuzzInjectWorkload injects arbitrary manifests (the project's and
// Istio's inputs, mutated) with the inject command end to end and the
// bad-input configuration. A failed run writes nothing; a successful one
// writes every object, in order, and what it writes reads back.
func FuzzInjectWorkload(f *testing.F) {
	_, workloads := fnSeeds(f)
	for _, w := range workloads {
		f.Add(w)
	}
	fuzzInject(f, []string{"inject", "-f", "-", "--config", filepath.Join("testdata", "badinput", "config.yaml")})
}

// FuzzInjectWorkloadIstio is FuzzInjectWorkload with Istio's own
// configuration from the corpus, whose templates read far more of the pod.
// It is seeded with a few inputs only: each run parses Istio's templates.
func FuzzInjectWorkloadIstio(f *testing.F) {
	dir := filepath.Join("..", "..", "shared", "istio-conformance")
	if _, err := os.Stat(filepath.Join(dir, "cases.json")); err != nil {
		msg := "ISTIO CONFORMANCE CORPUS NOT FOUND at " + dir + ": this fuzz target needs its configuration"
		if os.Getenv("CI") == "true" {
			f.Fatal(msg)
		}
		f.Skip(msg)
	}
	for _, name := range []string{"hello.yaml", "list.yaml", "cronjob.yaml", "traffic-params.yaml",
		"resource_annotations.yaml", "status_params.yaml", "readiness.yaml", "proxy-override.yaml"} {
		b, err := os.ReadFile(filepath.Join(dir, "inject", name))
		if err == nil {
			f.Add(b)
		}
	}
	configs := filepath.Join(dir, "configs")
	fuzzInject(f, []string{"inject", "-f", "-",
		"--injectConfigFile", filepath.Join(configs, "inject-config-8172d953e7.yaml"),
		"--valuesFile", filepath.Join(configs, "values-224ecb5620.json"),
		"--meshConfigFile", filepath.Join(configs, "mesh-d3ed38e8ee.yaml")})
}

func fuzzInject(f *testing.F, args []string) {
	f.Fuzz(func(t *testing.T, input []byte) {
		out, _, err := runCommand(args, input, fakeEnv{})
		var pe *panicError
		if errors.As(err, &pe) {
			t.Fatalf("panic: %v\n%s", pe.value, pe.stack)
		}
		if err != nil {
			if len(out) != 0 {
				t.Fatalf("failed run wrote %d bytes", len(out))
			}
			return
		}
		inDocs, rerr := splitForTest(input)
		if rerr != nil {
			t.Fatalf("succeeded on input that does not read: %v", rerr)
		}
		outDocs, rerr := splitForTest(out)
		if rerr != nil {
			t.Fatalf("output does not read: %v\n%s", rerr, out)
		}
		assertSameObjects(t, inDocs, outDocs)
	})
}
