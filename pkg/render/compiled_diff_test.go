package render

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"

	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	"github.com/inject-sidecar/inject-sidecar/examples/bench/workloadgen"
	"github.com/inject-sidecar/inject-sidecar/pkg/config"
	"github.com/inject-sidecar/inject-sidecar/pkg/render/compiled"
)

// diffResult counts what a differential run compared.
type diffResult struct {
	executions, declines, errors int
}

// diffTemplates executes every template of e (selected or not) for one
// pod with text/template and with the compiled program, and fails unless
// both give the same bytes, or text/template fails and the program
// declines. A program that declines where text/template succeeds is
// counted: the output is still right, but it is a missed shortcut.
func diffTemplates(t *testing.T, e *Engine, p corpusPod, res *diffResult) {
	t.Helper()
	for _, name := range e.templates.names {
		entry, err := e.templates.entry(name)
		if err != nil {
			t.Fatalf("template %q: %v", name, err)
		}
		if entry.prog == nil {
			t.Errorf("template %q does not compile: %v", name, entry.progErr)
			continue
		}
		// Private data for text/template, as Render gives it: the
		// program must not see what text/template's functions could do.
		textData, _, _, err := e.prepare(p.pod, p.workload)
		if err != nil {
			return // validation failed: no template runs for this pod
		}
		textData = privateData(textData)
		progData, _, _, err := e.prepare(p.pod, p.workload)
		if err != nil {
			t.Fatalf("%s: second prepare failed: %v", p.workload, err)
		}
		var want bytes.Buffer
		wantErr := entry.t.Execute(&want, textData)
		got, gotErr := entry.prog.Execute(nil, progData, compiled.Limits{MaxOutput: 1 << 30})
		res.executions++
		switch {
		case wantErr != nil:
			res.errors++
			if !errors.Is(gotErr, compiled.ErrDecline) {
				t.Errorf("%s, template %q: text/template fails (%v), compiled gives err=%v and\n%s", p.workload, name, wantErr, gotErr, got)
			}
		case errors.Is(gotErr, compiled.ErrDecline):
			res.declines++
		case gotErr != nil:
			t.Errorf("%s, template %q: compiled fails: %v", p.workload, name, gotErr)
		case !bytes.Equal(got, want.Bytes()):
			t.Errorf("%s, template %q: output differs\n%s", p.workload, name, firstDifference(want.Bytes(), got))
		}
	}
}

// firstDifference shows both outputs around the first byte they differ at.
func firstDifference(want, got []byte) string {
	i := 0
	for i < len(want) && i < len(got) && want[i] == got[i] {
		i++
	}
	from := max(0, i-120)
	return fmt.Sprintf("at byte %d:\n--- text/template\n%s\n--- compiled\n%s", i, want[from:min(len(want), i+120)], got[from:min(len(got), i+120)])
}

// TestCompiledMatchesTextTemplateCorpus runs every template of the three
// Istio injector configurations for every pod of Istio's corpus, with each
// case's values, mesh config and options, through both executors.
func TestCompiledMatchesTextTemplateCorpus(t *testing.T) {
	dir := conformanceDir(t)
	engines := map[string]*Engine{}
	var res diffResult
	configs := map[string]bool{}
	for _, c := range loadCorpusCases(t, dir) {
		opts := corpusOptions(c)
		key := fmt.Sprint(c.InjectConfig, c.Values, c.Mesh, opts.NativeSidecars, opts.CompliancePolicy, opts.Platform)
		e := engines[key]
		if e == nil {
			e = newEngine(t, corpusInjector(t, dir, c), opts)
			engines[key] = e
		}
		configs[c.InjectConfig] = true
		input, err := os.ReadFile(filepath.Join(dir, c.Input))
		if err != nil {
			t.Fatal(err)
		}
		for _, p := range corpusPods(t, input) {
			if opts.Platform == platformOpenShift && p.workload.Namespace == "" {
				p.workload.Namespace = "test-ns"
			}
			diffTemplates(t, e, p, &res)
		}
	}
	if len(configs) != 3 {
		t.Errorf("corpus uses %d injector configurations, want 3", len(configs))
	}
	t.Logf("%d executions over %d configurations: %d text/template errors, %d declines", res.executions, len(engines), res.errors, res.declines)
	if res.executions < 1000 {
		t.Errorf("only %d executions compared", res.executions)
	}
	if res.declines != 0 {
		t.Errorf("%d executions declined where text/template succeeds", res.declines)
	}
}

// TestCompiledMatchesTextTemplateWorkloads does the same for the generated
// benchmark workloads, with the configuration the benchmark uses.
func TestCompiledMatchesTextTemplateWorkloads(t *testing.T) {
	dir := conformanceDir(t)
	var bench corpusCase
	for _, c := range loadCorpusCases(t, dir) {
		if c.InjectConfig == "configs/inject-config-d521712c8b.yaml" && c.Values == "configs/values-c17411c347.json" &&
			c.Mesh == "configs/mesh-d3ed38e8ee.yaml" {
			bench = c
			break
		}
	}
	if bench.ID == "" {
		t.Fatal("no corpus case with the benchmark's configuration")
	}
	e := newEngine(t, corpusInjector(t, dir, bench), corpusOptions(bench))
	var manifests bytes.Buffer
	if _, err := workloadgen.Generate(&manifests, workloadgen.Options{Workloads: 300, Seed: 7}); err != nil {
		t.Fatal(err)
	}
	var res diffResult
	pods := corpusPods(t, manifests.Bytes())
	for _, p := range pods {
		diffTemplates(t, e, p, &res)
	}
	t.Logf("%d pods, %d executions: %d text/template errors, %d declines", len(pods), res.executions, res.errors, res.declines)
	if len(pods) < 250 {
		t.Errorf("only %d generated pods", len(pods))
	}
	if res.declines != 0 {
		t.Errorf("%d executions declined where text/template succeeds", res.declines)
	}
}

// FuzzCompiledMatchesTextTemplate mutates a generated workload's pod
// (annotations, labels, container names and ports) and the values, then
// runs every template of Istio's injector configuration both ways. Values
// lines read "dotted.path=JSON", e.g. global.proxy.privileged=true.
func FuzzCompiledMatchesTextTemplate(f *testing.F) {
	dir := filepath.Join("..", "..", "..", "shared", "istio-conformance")
	if d := os.Getenv("ISTIO_CONFORMANCE_DIR"); d != "" {
		dir = d
	}
	if _, err := os.Stat(filepath.Join(dir, "cases.json")); err != nil {
		msg := "!!! ISTIO CONFORMANCE CORPUS NOT FOUND: FuzzCompiledMatchesTextTemplate did NOT run: " + err.Error()
		if os.Getenv("CI") == "true" {
			f.Fatal(msg)
		}
		f.Skip(msg)
	}
	var bench corpusCase
	raw, err := os.ReadFile(filepath.Join(dir, "cases.json"))
	if err != nil {
		f.Fatal(err)
	}
	var cases []corpusCase
	if err := json.Unmarshal(raw, &cases); err != nil {
		f.Fatal(err)
	}
	for _, c := range cases {
		if c.InjectConfig == "configs/inject-config-d521712c8b.yaml" && c.Values == "configs/values-c17411c347.json" {
			bench = c
			break
		}
	}
	inj := fuzzInjector(f, dir, bench)
	e, err := New(inj, corpusOptions(bench))
	if err != nil {
		f.Fatal(err)
	}
	for _, a := range corpusAnnotations(f) {
		f.Add(encodeAnnotations(a), "app=web\nversion=v1", "app", "8080", "")
	}
	f.Add("sidecar.istio.io/interceptionMode=TPROXY\nsidecar.istio.io/nativeSidecar=true", "", "istio-proxy", "", "global.proxy.privileged=true")
	f.Add("proxy.istio.io/config=holdApplicationUntilProxyStarts: true", "", "app", "80", "global.proxy.lifecycle={\"preStop\":{\"exec\":{\"command\":[\"x\"]}}}")
	f.Add("", "", "app", "", "pilot.cni.enabled=true\npilot.cni.provider=\"multus\"\nglobal.proxy.tracer=\"datadog\"")
	f.Add("apm.datadoghq.com/env={\"a\":\"b\"}", "", "app", "", "global.proxy.tracer=\"datadog\"\nglobal.meshID=null")
	f.Fuzz(func(t *testing.T, annotations, labels, container, port, values string) {
		pod := &corev1.Pod{
			ObjectMeta: metav1.ObjectMeta{Annotations: fuzzAnnotations(annotations), Labels: fuzzAnnotations(labels)},
			Spec:       corev1.PodSpec{Containers: []corev1.Container{{Name: container, Image: "app:1"}}},
		}
		if p, err := strconv.Atoi(port); err == nil {
			pod.Spec.Containers[0].Ports = []corev1.ContainerPort{{ContainerPort: int32(p), Name: "p" + port}}
		}
		w := Workload{TypeMeta: metav1.TypeMeta{APIVersion: "apps/v1", Kind: "Deployment"}, Name: "web", Namespace: "ns"}
		for _, name := range e.templates.names {
			entry, err := e.templates.entry(name)
			if err != nil || entry.prog == nil {
				t.Fatalf("template %q: %v %v", name, err, entry.progErr)
			}
			fresh := func() *TemplateData {
				d, _, _, err := e.prepare(pod, w)
				if err != nil {
					return nil
				}
				d = privateData(d)
				for _, line := range strings.Split(values, "\n") {
					path, js, ok := strings.Cut(line, "=")
					var v any
					if !ok || json.Unmarshal([]byte(js), &v) != nil {
						continue
					}
					setPath(d.Values, strings.Split(path, "."), v)
				}
				return d
			}
			textData := fresh()
			if textData == nil {
				return // the pod's annotations do not validate
			}
			var want bytes.Buffer
			wantErr := entry.t.Execute(&want, textData)
			got, gotErr := entry.prog.Execute(nil, fresh(), compiled.Limits{MaxOutput: 1 << 30})
			switch {
			case errors.Is(gotErr, compiled.ErrDecline):
			case gotErr != nil:
				t.Fatalf("template %q: %v", name, gotErr)
			case wantErr != nil:
				t.Fatalf("template %q: text/template fails (%v), compiled succeeds", name, wantErr)
			case !bytes.Equal(got, want.Bytes()):
				t.Fatalf("template %q: %s", name, firstDifference(want.Bytes(), got))
			}
		}
	})
}

func fuzzInjector(f *testing.F, dir string, c corpusCase) *config.Injector {
	read := func(name string) []byte {
		b, err := os.ReadFile(filepath.Join(dir, name))
		if err != nil {
			f.Fatal(err)
		}
		return b
	}
	ic, err := config.ParseInjectorConfig(read(c.InjectConfig))
	if err != nil {
		f.Fatal(err)
	}
	values, err := config.ParseValues(read(c.Values))
	if err != nil {
		f.Fatal(err)
	}
	mesh, err := config.ParseMesh(read(c.Mesh))
	if err != nil {
		f.Fatal(err)
	}
	return &config.Injector{Revision: config.DefaultRevision, DefaultTemplates: ic.DefaultTemplates,
		Aliases: ic.Aliases, Templates: ic.Templates, Values: values, Mesh: mesh}
}

// setPath sets m[path[0]][path[1]]... = v, creating maps on the way.
func setPath(m map[string]any, path []string, v any) {
	for _, k := range path[:len(path)-1] {
		next, ok := m[k].(map[string]any)
		if !ok {
			next = map[string]any{}
			m[k] = next
		}
		m = next
	}
	m[path[len(path)-1]] = v
}
