package inject

import (
	"bytes"
	"fmt"
	"runtime"
	"strings"
	"testing"
	"time"

	corev1 "k8s.io/api/core/v1"
	"sigs.k8s.io/kustomize/kyaml/yaml"

	"github.com/inject-sidecar/inject-sidecar/examples/bench/workloadgen"
	"github.com/inject-sidecar/inject-sidecar/pkg/config"
	"github.com/inject-sidecar/inject-sidecar/pkg/manifest"
	"github.com/inject-sidecar/inject-sidecar/pkg/podtemplate"
	"github.com/inject-sidecar/inject-sidecar/pkg/report"
)

// scaleConfig is Istio's configuration, or the quickstart's (said in the
// log) when Istio's is absent, with a template time limit out of reach.
func scaleConfig(t *testing.T) *config.Config {
	t.Helper()
	cfg, warning, err := workloadgen.LoadConfig(".")
	if err != nil {
		t.Fatal(err)
	}
	if warning != "" {
		t.Log(warning)
	}
	// These tests compare outputs; a template timing out on a loaded
	// machine would fail them for nothing.
	cfg.Options.TemplateTimeout = 10 * time.Minute
	return cfg
}

// generated is n generated workloads, then extra documents.
func generated(t *testing.T, n int, extra string) []byte {
	t.Helper()
	var buf bytes.Buffer
	if _, err := workloadgen.Generate(&buf, workloadgen.Options{Workloads: n}); err != nil {
		t.Fatal(err)
	}
	buf.WriteString(extra)
	return buf.Bytes()
}

// runOn injects data in one Run and returns the output, the report's
// messages and the error.
func runOn(t *testing.T, cfg *config.Config, data []byte) (string, string, error) {
	t.Helper()
	docs, err := manifest.Split("in.yaml", data)
	if err != nil {
		t.Fatal(err)
	}
	rep, err := Run(cfg, manifest.Nodes(docs))
	return write(t, docs, rep), describe(rep), err
}

// write writes the documents as the commands do, re-encoding the changed
// ones; after a failed run, every one, so that any edit left in the
// nodes shows.
func write(t *testing.T, docs []*manifest.Document, rep *report.Report) string {
	t.Helper()
	changed := rep.Changed()
	all := rep.Failed()
	var out bytes.Buffer
	if err := manifest.Write(&out, docs, func(d *manifest.Document) bool { return all || changed[d.Node] }); err != nil {
		t.Fatal(err)
	}
	return out.String()
}

// encoded is data with every document encoded again: what write gives
// for a failed run that left the nodes as they were.
func encoded(t *testing.T, data []byte) string {
	t.Helper()
	docs, err := manifest.Split("in.yaml", data)
	if err != nil {
		t.Fatal(err)
	}
	var out bytes.Buffer
	if err := manifest.Write(&out, docs, func(*manifest.Document) bool { return true }); err != nil {
		t.Fatal(err)
	}
	return out.String()
}

func describe(rep *report.Report) string {
	var b strings.Builder
	for _, e := range rep.Entries {
		b.WriteString(string(e.Outcome) + " " + e.Reason + "\n")
	}
	for _, w := range rep.Warnings() {
		b.WriteString("warning: " + w + "\n")
	}
	return b.String()
}

// noContainers fails injection: a pod template must have containers.
const noContainers = "---\napiVersion: apps/v1\nkind: Deployment\nmetadata: {name: empty, namespace: payments}\n" +
	"spec: {template: {metadata: {labels: {app: empty}}, spec: {containers: []}}}\n"

// runChunked injects data a few workloads at a time, as Run does a chunk
// at a time, and returns the output, the report's messages and the error.
func runChunked(t *testing.T, cfg *config.Config, data []byte, size int) (string, string, error) {
	t.Helper()
	docs, err := manifest.Split("in.yaml", data)
	if err != nil {
		t.Fatal(err)
	}
	items := manifest.Nodes(docs)
	targets, err := findTargets(cfg, items)
	if err != nil {
		t.Fatal(err)
	}
	p, err := newPipeline(cfg, items)
	if err != nil {
		t.Fatal(err)
	}
	rep := &report.Report{}
	err = p.runChunks(rep, targets, size)
	return write(t, docs, rep), describe(rep), err
}

// TestRunChunks: in chunks of any size, the output, report and error are
// those of one Run, on one core as on four, and a workload failing in the
// last chunk leaves the input exactly as it was, chunks already written
// included.
func TestRunChunks(t *testing.T) {
	cfg := scaleConfig(t)
	defer runtime.GOMAXPROCS(runtime.GOMAXPROCS(0))
	tests := []struct {
		name    string
		data    []byte
		wantErr string
	}{
		{"all injected", generated(t, 30, ""), ""},
		{"last fails", generated(t, 30, noContainers), "has no containers"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			runtime.GOMAXPROCS(2)
			want, wantMsgs, wantErr := runOn(t, cfg, tc.data)
			if (wantErr == nil) != (tc.wantErr == "") || (wantErr != nil && !strings.Contains(wantErr.Error(), tc.wantErr)) {
				t.Fatalf("error %v, want %q", wantErr, tc.wantErr)
			}
			if tc.wantErr != "" && want != encoded(t, tc.data) {
				t.Fatal("a failed run changed the input")
			}
			if tc.wantErr == "" && strings.Count(want, "sidecar.istio.io/status") < 20 {
				t.Fatal("too few workloads injected")
			}
			for _, procs := range []int{1, 4} {
				for _, size := range []int{1, 7, 1000} {
					runtime.GOMAXPROCS(procs)
					out, msgs, err := runChunked(t, cfg, tc.data, size)
					if fmt.Sprint(err) != fmt.Sprint(wantErr) || out != want || msgs != wantMsgs {
						t.Errorf("GOMAXPROCS=%d, chunks of %d: output, report or error differ from one Run's (error %v)", procs, size, err)
					}
				}
			}
		})
	}
}

// TestInjectorBatches: an input run in batches by an Injector prepared
// with its configuration objects gives the output, report and messages of
// one Run, though the Namespace that opts workloads out comes after them.
func TestInjectorBatches(t *testing.T) {
	cfg := scaleConfig(t)
	data := generated(t, 60, "")
	wantOut, wantMsgs, err := runOn(t, cfg, data)
	if err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(wantMsgs, "legacy-batch") {
		t.Fatal("the generated input has no workload in the namespace declared last")
	}
	docs, err := manifest.Split("in.yaml", data)
	if err != nil {
		t.Fatal(err)
	}
	var objects []*yaml.RNode
	for _, n := range manifest.Nodes(docs) {
		if k := n.GetKind(); k == "Namespace" || k == "ConfigMap" {
			objects = append(objects, n)
		}
	}
	inj, err := New(cfg, objects)
	if err != nil {
		t.Fatal(err)
	}
	var out bytes.Buffer
	var msgs strings.Builder
	w := manifest.NewWriter(&out)
	first := 0
	for start := 0; start < len(docs); start += 7 {
		batch := docs[start:min(start+7, len(docs))]
		items := manifest.Nodes(batch)
		rep, err := inj.Run(items, first)
		if err != nil {
			t.Fatal(err)
		}
		first += len(items)
		msgs.WriteString(describe(rep))
		changed := rep.Changed()
		if err := w.Write(batch, func(d *manifest.Document) bool { return changed[d.Node] }); err != nil {
			t.Fatal(err)
		}
	}
	if out.String() != wantOut {
		t.Error("output in batches differs from one Run's")
	}
	if msgs.String() != wantMsgs {
		t.Errorf("report in batches differs from one Run's:\n%s\nwant\n%s", msgs.String(), wantMsgs)
	}
}

// TestWriterRestores: a write back that fails restores every resource
// written before it, in earlier calls too, and reports the first failing
// edit in order.
func TestWriterRestores(t *testing.T) {
	cfg := scaleConfig(t)
	data := generated(t, 4, "---\napiVersion: v1\nkind: Thing\nmetadata: {name: bad}\nspec: 1\n")
	docs, err := manifest.Split("in.yaml", data)
	if err != nil {
		t.Fatal(err)
	}
	items := manifest.Nodes(docs)
	// Every document encoded again: restored nodes must encode as before.
	encode := func() string {
		var out bytes.Buffer
		if err := manifest.Write(&out, docs, func(*manifest.Document) bool { return true }); err != nil {
			t.Fatal(err)
		}
		return out.String()
	}
	before := encode()
	p, err := newPipeline(cfg, items)
	if err != nil {
		t.Fatal(err)
	}
	targets, err := findTargets(cfg, items)
	if err != nil {
		t.Fatal(err)
	}
	var good []edit
	for i := range targets {
		if _, e := p.injectOne(&targets[i]); e != nil {
			good = append(good, *e)
		}
	}
	if len(good) < 2 {
		t.Fatalf("%d workloads injected, want at least 2", len(good))
	}
	thing := items[len(items)-1]
	bad := func(name string) edit {
		return edit{
			target: &podtemplate.Target{Resource: thing, Object: thing, Name: name, TypeMeta: good[0].target.TypeMeta,
				MetaPath: []string{"metadata"}, SpecPath: []string{"spec"}},
			before: &corev1.Pod{}, after: good[0].after,
		}
	}
	w := &writer{}
	if err := w.write(good[:1]); err != nil {
		t.Fatal(err)
	}
	err = w.write(append(append([]edit{}, good[1:]...), bad("first"), bad("second")))
	if err == nil || !strings.Contains(err.Error(), "first") {
		t.Fatalf("error %v, want the first bad edit's", err)
	}
	if encode() != before {
		t.Error("resources not restored after a failed write back")
	}
	if len(w.changed) != 0 {
		t.Errorf("%d workloads still recorded as changed", len(w.changed))
	}
}
