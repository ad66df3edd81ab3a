package inject

import (
	"os"
	"path/filepath"
	"strings"
	"testing"

	"sigs.k8s.io/kustomize/kyaml/kio"
	"sigs.k8s.io/kustomize/kyaml/yaml"

	"github.com/inject-sidecar/inject-sidecar/pkg/config"
	"github.com/inject-sidecar/inject-sidecar/pkg/report"
)

// readItems reads the resources of the named files of testdata/dir.
func readItems(t *testing.T, dir string, names ...string) []*yaml.RNode {
	t.Helper()
	var out []*yaml.RNode
	for _, name := range names {
		data, err := os.ReadFile(filepath.Join("testdata", dir, name))
		if err != nil {
			t.Fatal(err)
		}
		nodes, err := kio.FromBytes(data)
		if err != nil {
			t.Fatalf("%s: %v", name, err)
		}
		out = append(out, nodes...)
	}
	return out
}

func loadConfig(t *testing.T, items, extra []*yaml.RNode, opts string) *config.Config {
	t.Helper()
	in := config.Input{Items: items, Extra: extra}
	if opts != "" {
		fc, err := yaml.Parse("apiVersion: inject-sidecar.dev/v1alpha1\nkind: SidecarInjector\nmetadata: {name: t}\nspec: " + opts)
		if err != nil {
			t.Fatal(err)
		}
		in.FunctionConfig = fc
	}
	cfg, err := config.Load(in)
	if err != nil {
		t.Fatal(err)
	}
	return cfg
}

func snapshot(items []*yaml.RNode) []string {
	out := make([]string, len(items))
	for i, n := range items {
		out[i] = n.MustString()
	}
	return out
}

// TestExplainAgreesWithRun: on the same items, Explain's decisions are
// Run's outcomes, and Explain leaves the items alone.
func TestExplainAgreesWithRun(t *testing.T) {
	tests := []struct {
		name     string
		files    []string
		opts     string
		webhooks string
		// outcome per workload name: injected, skipped or failed
		want map[string]report.Outcome
	}{
		{name: "input webhooks", files: []string{"input.yaml"}, webhooks: WebhooksInput,
			want: map[string]report.Outcome{"web": report.Injected, "batch": report.Skipped, "tool": report.Skipped}},
		{name: "a pod template that cannot be read", files: []string{"input.yaml", "broken.yaml"}, webhooks: WebhooksInput,
			want: map[string]report.Outcome{"web": report.Injected, "batch": report.Skipped, "tool": report.Skipped, "broken": report.Failed}},
		{name: "kube-inject mode reads no webhooks", files: []string{"input.yaml"}, opts: "{decisionMode: kube-inject}", webhooks: WebhooksNone,
			want: map[string]report.Outcome{"web": report.Injected, "batch": report.Injected, "tool": report.Injected}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			items := readItems(t, "explain", tt.files...)
			cfg := loadConfig(t, items, nil, tt.opts)
			before := snapshot(items)
			ex, err := Explain(cfg, items)
			if err != nil {
				t.Fatal(err)
			}
			if after := snapshot(items); strings.Join(after, "---\n") != strings.Join(before, "---\n") {
				t.Fatal("Explain modified the items")
			}
			if ex.Webhooks != tt.webhooks {
				t.Errorf("Webhooks = %q, want %q", ex.Webhooks, tt.webhooks)
			}

			rep, runErr := Run(cfg, readItems(t, "explain", tt.files...))
			if len(rep.Entries) != len(ex.Workloads) {
				t.Fatalf("Run reports %d workloads, Explain %d", len(rep.Entries), len(ex.Workloads))
			}
			for i, e := range rep.Entries {
				w := ex.Workloads[i]
				got := report.Skipped
				switch {
				case w.Err != nil:
					got = report.Failed
				case w.Inject:
					got = report.Injected
				}
				name := w.Target.Name
				if got != tt.want[name] {
					t.Errorf("%s: Explain %s, want %s", name, got, tt.want[name])
				}
				// A failed run edits nothing and says so of the workloads
				// it would have injected.
				wantRun := tt.want[name]
				if runErr != nil && wantRun == report.Injected {
					wantRun = report.Skipped
				}
				if e.Outcome != wantRun {
					t.Errorf("%s: Run %s, want %s", name, e.Outcome, wantRun)
				}
				switch {
				case e.Outcome == report.Failed:
					if !strings.Contains(e.Reason, w.Err.Error()) {
						t.Errorf("%s: Run fails with %q, Explain with %q", name, e.Reason, w.Err)
					}
				case !strings.Contains(e.Reason, w.Reason) || e.Revision != w.Revision:
					t.Errorf("%s: Run says %q (revision %q), Explain %q (revision %q)", name, e.Reason, e.Revision, w.Reason, w.Revision)
				case runErr == nil && e.Reason != w.Reason:
					t.Errorf("%s: Run says %q, Explain %q", name, e.Reason, w.Reason)
				}
			}
			if failed := rep.Count(report.Failed) > 0; failed != (ex.Err() != nil) {
				t.Errorf("Run failed: %v, Explain.Err: %v", failed, ex.Err())
			}
		})
	}
}

// TestExplainClusterObjects: Namespaces and webhooks of --config files
// count like those of the input.
func TestExplainClusterObjects(t *testing.T) {
	items := append(readItems(t, "explain", "input.yaml")[:1], readItems(t, "explain", "ext-workload.yaml")...)
	cfg := loadConfig(t, items, readItems(t, "explain", "namespace-config.yaml"), "")
	if len(cfg.ClusterObjects) != 2 {
		t.Fatalf("ClusterObjects = %d, want the Namespace and the webhook configuration", len(cfg.ClusterObjects))
	}
	ex, err := Explain(cfg, items)
	if err != nil {
		t.Fatal(err)
	}
	if ex.Webhooks != WebhooksInput || len(ex.Workloads) != 1 {
		t.Fatalf("Explain = %+v", ex)
	}
	w := ex.Workloads[0]
	want := "webhook namespace.sidecar-injector.istio.io selected it (namespace ext: istio-injection=enabled)"
	if !w.Inject || w.Reason != want {
		t.Errorf("ext: inject %v, %q; want injected, %q", w.Inject, w.Reason, want)
	}
}

func TestExplainErrors(t *testing.T) {
	items := readItems(t, "explain", "input.yaml")
	cfg := loadConfig(t, items, nil, "")
	if _, err := Explain(nil, items); err == nil {
		t.Error("no error without configuration")
	}
	// A webhook configuration without istio.io/rev: nothing can be decided.
	bad, err := yaml.Parse("apiVersion: admissionregistration.k8s.io/v1\nkind: MutatingWebhookConfiguration\nmetadata: {name: x}\nwebhooks: [{name: sidecar-injector.istio.io}]")
	if err != nil {
		t.Fatal(err)
	}
	_, err = Explain(cfg, append(items, bad))
	if err == nil || !strings.Contains(err.Error(), `MutatingWebhookConfiguration "x": field metadata.labels.istio.io/rev`) {
		t.Errorf("err = %v", err)
	}
	// Run fails the same way.
	if _, err := Run(cfg, append(readItems(t, "explain", "input.yaml"), bad)); err == nil || !strings.Contains(err.Error(), `MutatingWebhookConfiguration "x"`) {
		t.Errorf("Run err = %v", err)
	}
}

func TestExplanationErr(t *testing.T) {
	items := readItems(t, "explain", "input.yaml", "broken.yaml")
	cfg := loadConfig(t, items, nil, "{unknownNamespace: error}")
	ghost, err := yaml.Parse("apiVersion: v1\nkind: Pod\nmetadata: {name: ghost, namespace: nowhere}\nspec: {containers: [{name: a, image: b}]}")
	if err != nil {
		t.Fatal(err)
	}
	ex, err := Explain(cfg, append(items, ghost))
	if err != nil {
		t.Fatal(err)
	}
	got := ex.Err()
	if got == nil {
		t.Fatal("no error")
	}
	for _, want := range []string{"2 workloads cannot be decided:\n  Deployment shop/broken: field spec.template.spec.containers",
		"\n  Pod nowhere/ghost: namespace labels unknown: namespace nowhere"} {
		if !strings.Contains(got.Error(), want) {
			t.Errorf("Err = %q, want it to contain %q", got, want)
		}
	}
}
