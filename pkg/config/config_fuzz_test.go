package config

import (
	"os"
	"path/filepath"
	"testing"

	"sigs.k8s.io/kustomize/kyaml/yaml"
)

// Fuzz targets for every form the configuration comes in. Each must return
// a value or an error for any input, never panic; the properties checked
// beyond that are the ones callers rely on.

// seedFiles adds the files matching the globs under testdata and, when
// present, under Istio's conformance corpus (../shared, beside the
// repository; said loudly when absent, required when CI=true).
func seedFiles(f *testing.F, globs ...string) {
	f.Helper()
	n := 0
	for _, g := range globs {
		names, err := filepath.Glob(g)
		if err != nil {
			f.Fatal(err)
		}
		for _, name := range names {
			b, err := os.ReadFile(name)
			if err != nil {
				f.Fatal(err)
			}
			f.Add(b)
			n++
		}
	}
	if n == 0 {
		f.Fatalf("no seeds in %v", globs)
	}
}

// conformanceGlob is a glob under Istio's corpus, or "" when the corpus is
// absent.
func conformanceGlob(f *testing.F, pattern string) string {
	f.Helper()
	dir := filepath.Join("..", "..", "..", "shared", "istio-conformance")
	if _, err := os.Stat(filepath.Join(dir, "cases.json")); err != nil {
		msg := "ISTIO CONFORMANCE CORPUS NOT FOUND at " + dir + ": fuzzing with the project's seeds only"
		if os.Getenv("CI") == "true" {
			f.Fatal(msg)
		}
		f.Log(msg)
		return filepath.Join("testdata", "no-such-dir", "*")
	}
	return filepath.Join(dir, pattern)
}

func FuzzInjectorConfig(f *testing.F) {
	seedFiles(f, filepath.Join("testdata", "injector", "*"), filepath.Join("testdata", "load", "inject-config.yaml"),
		conformanceGlob(f, "configs/inject-config-*.yaml"))
	f.Fuzz(func(t *testing.T, data []byte) {
		c, err := ParseInjectorConfig(data)
		if err != nil {
			return
		}
		if c.Templates == nil || len(c.DefaultTemplates) == 0 {
			t.Fatalf("accepted config without templates map or default templates: %+v", c)
		}
	})
}

func FuzzInjectConfigFile(f *testing.F) {
	seedFiles(f, filepath.Join("testdata", "injector", "*"), conformanceGlob(f, "configs/inject-config-*.yaml"))
	f.Fuzz(func(t *testing.T, data []byte) {
		c, err := ParseInjectConfigFile(data)
		if err != nil {
			return
		}
		if c.Bare && c.Templates[SidecarTemplate] != string(data) {
			t.Fatalf("bare template not kept verbatim")
		}
	})
}

func FuzzValues(f *testing.F) {
	seedFiles(f, filepath.Join("testdata", "values", "*"), filepath.Join("testdata", "load", "values.json"),
		conformanceGlob(f, "configs/values-*.json"))
	f.Fuzz(func(t *testing.T, data []byte) {
		v, err := ParseValues(data)
		if err == nil && v == nil {
			t.Fatal("no values and no error")
		}
	})
}

func FuzzMesh(f *testing.F) {
	seedFiles(f, filepath.Join("testdata", "mesh", "*"), filepath.Join("testdata", "load", "mesh.yaml"),
		conformanceGlob(f, "configs/mesh-*.yaml"))
	f.Fuzz(func(t *testing.T, data []byte) {
		m, err := ParseMesh(data)
		if err == nil && m == nil {
			t.Fatal("no mesh config and no error")
		}
	})
}

func FuzzOperator(f *testing.F) {
	seedFiles(f, filepath.Join("testdata", "operator", "*"), conformanceGlob(f, "istioctl-kubeinject/*.yaml"))
	f.Fuzz(func(t *testing.T, data []byte) {
		_, _, _ = ParseOperator(data)
	})
}

// FuzzFunctionConfig loads any object as the function config (the typed
// SidecarInjector, a settings ConfigMap, anything else), with Istio's
// ConfigMaps in the items, as the KRM mode does.
func FuzzFunctionConfig(f *testing.F) {
	seedFiles(f, filepath.Join("testdata", "load", "fn-*.yaml"), filepath.Join("testdata", "sidecarinjector", "*"))
	items, err := os.ReadFile(filepath.Join("testdata", "load", "items.yaml"))
	if err != nil {
		f.Fatal(err)
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		fc, err := yaml.Parse(string(data))
		if err != nil {
			return
		}
		nodes, err := yaml.Parse(string(items))
		if err != nil {
			t.Fatal(err)
		}
		cfg, err := Load(Input{FunctionConfig: fc, Items: []*yaml.RNode{nodes}})
		if err != nil {
			return
		}
		if len(cfg.Injectors) == 0 || cfg.Injectors[cfg.Options.Revision] == nil {
			t.Fatalf("loaded without the selected revision's injector: %+v", cfg)
		}
		o := cfg.Options
		if o.MaxInputSize <= 0 || o.MaxNestingDepth <= 0 || o.MaxAliasExpansion <= 0 || o.RunTimeout <= 0 ||
			o.MaxTemplateOutput <= 0 || o.TemplateTimeout <= 0 {
			t.Fatalf("limits not all set: %+v", o)
		}
		if _, err := ReadLimits([]*yaml.RNode{fc}); err != nil && fc.GetKind() == SidecarInjectorKind {
			t.Fatalf("Load accepted what ReadLimits refuses: %v", err)
		}
	})
}
