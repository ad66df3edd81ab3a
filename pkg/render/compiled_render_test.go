package render

import (
	"bytes"
	"errors"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/inject-sidecar/inject-sidecar/examples/bench/workloadgen"
	"github.com/inject-sidecar/inject-sidecar/pkg/config"
)

// mustCompile fails unless the engine runs the template compiled.
func mustCompile(t *testing.T, e *Engine, name string) {
	t.Helper()
	entry, err := e.templates.entry(name)
	if err != nil || entry.prog == nil {
		t.Fatalf("template %q is not compiled: %v %v", name, err, entry.progErr)
	}
}

// TestCompiledOutputLimit: a compiled template that writes too much gets
// text/template's error, word for word.
func TestCompiledOutputLimit(t *testing.T) {
	e := newEngine(t, tinyInjector(map[string]string{"sidecar": `{{ range 1000 }}0123456789{{ end }}`}), config.Options{MaxTemplateOutput: 1000})
	mustCompile(t, e, "sidecar")
	_, err := e.Render(podWithAnnotations(nil), testWorkload())
	if want := `template "sidecar" for Deployment ns/hello: output exceeds 1000 bytes`; !errors.Is(err, ErrOutputTooLarge) || err.Error() != want {
		t.Fatalf("error = %v, want %q", err, want)
	}
	e = newEngine(t, tinyInjector(map[string]string{"sidecar": `{{ range 100 }}0123456789{{ end }}`}), config.Options{MaxTemplateOutput: 1000})
	if text, _ := renderOne(t, e, podWithAnnotations(nil)); len(text) != 1000 {
		t.Errorf("rendered %d bytes at the limit", len(text))
	}
}

// TestCompiledTimeout: a compiled template looping without writing stops
// at the deadline, on the caller's goroutine.
func TestCompiledTimeout(t *testing.T) {
	e := newEngine(t, tinyInjector(map[string]string{"slow": `{{ range 100000000000 }}{{ end }}`, "sidecar": "ok"}),
		config.Options{TemplateTimeout: 50 * time.Millisecond})
	mustCompile(t, e, "slow")
	start := time.Now()
	_, err := e.Render(podWithAnnotations(map[string]string{"inject.istio.io/templates": "sidecar,slow"}), testWorkload())
	if elapsed := time.Since(start); elapsed > 2*time.Second {
		t.Errorf("Render returned after %s", elapsed)
	}
	if want := `template "slow" for Deployment ns/hello: execution exceeds 50ms`; !errors.Is(err, ErrTimeout) || err.Error() != want {
		t.Fatalf("error = %v, want %q", err, want)
	}
}

// TestCompiledDeclineKeepsTextTemplateSemantics: a template the program
// declines (set is not called compiled) runs on text/template with data
// of the render's own, which later templates of the same pod then see,
// while other pods and the configuration do not.
func TestCompiledDeclineKeepsTextTemplateSemantics(t *testing.T) {
	inj := tinyInjector(map[string]string{
		"a": `{{ $_ := set .Values "x" "changed" }}a:{{ .Values.x }}`,
		"b": `b:{{ .Values.x }}`,
		"c": `{{ index .Values.missing 1 }}`,
	})
	inj.Values = map[string]any{"x": "orig"}
	inj.DefaultTemplates = []string{"b", "a", "b"}
	e := newEngine(t, inj, config.Options{})
	mustCompile(t, e, "b")
	for i := range 2 {
		out, err := e.Render(podWithAnnotations(nil), testWorkload())
		if err != nil {
			t.Fatal(err)
		}
		var got []string
		for _, o := range out.Overlays {
			got = append(got, string(o.YAML))
		}
		if want := "b:orig a:changed b:changed"; strings.Join(got, " ") != want {
			t.Errorf("render %d: %q, want %q", i, strings.Join(got, " "), want)
		}
	}
	if inj.Values["x"] != "orig" {
		t.Error("the configuration's values changed")
	}
	_, err := e.Render(podWithAnnotations(map[string]string{"inject.istio.io/templates": "c"}), testWorkload())
	if want := `template "c" for Deployment ns/hello: template: c:1:3: executing "c" at <index .Values.missing 1>: error calling index: index of untyped nil`; err == nil || err.Error() != want {
		t.Errorf("error = %v, want %q", err, want)
	}
}

// TestCompiledConcurrentRenders renders generated workloads with Istio's
// templates from several goroutines (sharing the engine's values, mesh
// config, compiled programs and memos) and compares with one goroutine.
func TestCompiledConcurrentRenders(t *testing.T) {
	dir := conformanceDir(t)
	var bench corpusCase
	for _, c := range loadCorpusCases(t, dir) {
		if c.InjectConfig == "configs/inject-config-d521712c8b.yaml" && c.Values == "configs/values-c17411c347.json" {
			bench = c
			break
		}
	}
	e := newEngine(t, corpusInjector(t, dir, bench), corpusOptions(bench))
	var manifests bytes.Buffer
	if _, err := workloadgen.Generate(&manifests, workloadgen.Options{Workloads: 40, Seed: 3}); err != nil {
		t.Fatal(err)
	}
	pods := corpusPods(t, manifests.Bytes())
	render := func(p corpusPod) string {
		out, err := e.Render(p.pod, p.workload)
		if err != nil {
			return "error: " + err.Error()
		}
		var b strings.Builder
		for _, o := range out.Overlays {
			b.Write(o.YAML)
		}
		return b.String()
	}
	want := make([]string, len(pods))
	for i, p := range pods {
		want[i] = render(p)
	}
	var wg sync.WaitGroup
	for g := range 4 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := range pods {
				j := (i + g*7) % len(pods)
				if got := render(pods[j]); got != want[j] {
					t.Errorf("goroutine %d, %s: output differs from the sequential render", g, pods[j].workload)
					return
				}
			}
		}()
	}
	wg.Wait()
}
