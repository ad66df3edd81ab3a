package inject

import (
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"

	"sigs.k8s.io/kustomize/kyaml/fn/framework"
	"sigs.k8s.io/kustomize/kyaml/yaml"

	"github.com/inject-sidecar/inject-sidecar/pkg/config"
	"github.com/inject-sidecar/inject-sidecar/pkg/report"
	"github.com/inject-sidecar/inject-sidecar/pkg/uninject"
)

// checkConfig is testdata/check/injector.yaml with the given tag, in the
// given decision mode.
func checkConfig(t *testing.T, items []*yaml.RNode, tag, mode string) *config.Config {
	t.Helper()
	injector, err := os.ReadFile(filepath.Join("testdata", "check", "injector.yaml"))
	if err != nil {
		t.Fatal(err)
	}
	cfg, err := config.Load(config.Input{
		Items:        items,
		InjectConfig: injector,
		Values:       []byte(`{"global": {"hub": "example.com/istio", "tag": "` + tag + `", "proxy": {"image": "proxyv2"}, "proxy_init": {"image": "proxyv2"}}}`),
		Extra: []*yaml.RNode{yaml.MustParse("apiVersion: inject-sidecar.dev/v1alpha1\nkind: SidecarInjector\n" +
			"metadata: {name: t}\nspec: {decisionMode: " + mode + "}\n")},
	})
	if err != nil {
		t.Fatal(err)
	}
	return cfg
}

type checkWant struct {
	workload string
	state    State
	changes  string // a substring of the changed fields, for Stale
}

func TestCheck(t *testing.T) {
	tests := []struct {
		name string
		// prepare turns the source workloads into the checked ones.
		prepare func(t *testing.T, items []*yaml.RNode)
		tag     string
		want    []checkWant
		err     string // a substring of CheckReport.Err
	}{{
		name: "the source: the selected workload misses its injection",
		tag:  "1.0",
		want: []checkWant{{"cart", Missing, ""}, {"batch", Current, ""}},
		err:  "1 of 2 workloads need attention (1 missing)",
	}, {
		name:    "injected with the same configuration: current",
		prepare: injectWith("1.0", "webhook"),
		tag:     "1.0",
		want:    []checkWant{{"cart", Current, ""}, {"batch", Current, ""}},
	}, {
		name:    "injected by kube-inject mode, without a record: current all the same",
		prepare: injectWith("1.0", "kube-inject"),
		tag:     "1.0",
		want:    []checkWant{{"cart", Current, ""}, {"batch", Current, ""}},
	}, {
		name:    "injected with another proxy image: stale",
		prepare: injectWith("1.0", "webhook"),
		tag:     "1.1",
		want:    []checkWant{{"cart", Stale, "spec.containers[istio-proxy].image"}, {"batch", Current, ""}},
		err:     "1 of 2 workloads need attention (1 stale)",
	}, {
		name: "injected, then opted out: unwanted",
		prepare: func(t *testing.T, items []*yaml.RNode) {
			injectWith("1.0", "webhook")(t, items)
			cart := items[1]
			if err := cart.PipeE(yaml.LookupCreate(yaml.MappingNode, "spec", "template", "metadata", "labels"),
				yaml.SetField("sidecar.istio.io/inject", yaml.NewStringRNode("false"))); err != nil {
				t.Fatal(err)
			}
		},
		tag:  "1.0",
		want: []checkWant{{"cart", Unwanted, ""}, {"batch", Current, ""}},
		err:  "(1 unwanted)",
	}, {
		name: "a workload that cannot be injected: error",
		prepare: func(t *testing.T, items []*yaml.RNode) {
			if err := items[1].PipeE(yaml.LookupCreate(yaml.MappingNode, "spec", "template", "metadata", "annotations"),
				yaml.SetField("inject.istio.io/templates", yaml.NewStringRNode("missing"))); err != nil {
				t.Fatal(err)
			}
		},
		tag:  "1.0",
		want: []checkWant{{"cart", Broken, ""}, {"batch", Current, ""}},
		err:  "(1 error)",
	}}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			items := readItems(t, "check", "workloads.yaml")
			if tc.prepare != nil {
				tc.prepare(t, items)
			}
			before := snapshot(items)
			rep, err := Check(checkConfig(t, items, tc.tag, "webhook"), items)
			if err != nil {
				t.Fatal(err)
			}
			if got := snapshot(items); !reflect.DeepEqual(got, before) {
				t.Errorf("Check changed the items")
			}
			if len(rep.Workloads) != len(tc.want) {
				t.Fatalf("%d workloads, want %d", len(rep.Workloads), len(tc.want))
			}
			for i, w := range tc.want {
				got := rep.Workloads[i]
				if got.Target.Name != w.workload || got.State != w.state {
					t.Errorf("workload %d: %s is %s (%s), want %s is %s", i, got.Target.Name, got.State, got.Message(), w.workload, w.state)
				}
				if w.changes != "" && !strings.Contains(strings.Join(got.Changes, " "), w.changes) {
					t.Errorf("%s: changes %q do not mention %s", got.Target.Name, got.Changes, w.changes)
				}
				if got.State != Broken && got.Reason == "" {
					t.Errorf("%s: no decision reason", got.Target.Name)
				}
				for _, msg := range got.Warnings {
					if strings.HasPrefix(msg, unwantedPrefix) {
						t.Errorf("%s: the unwanted warning repeats the state: %s", got.Target.Name, msg)
					}
				}
			}
			err = rep.Err()
			if tc.err == "" {
				if err != nil {
					t.Errorf("Err() = %v, want nil", err)
				}
			} else if err == nil || !strings.Contains(err.Error(), tc.err) {
				t.Errorf("Err() = %v, want one holding %q", err, tc.err)
			}
			// Every workload that needs attention is an error result.
			errors := 0
			for _, r := range rep.Results() {
				if r.Severity == framework.Error {
					errors++
				}
			}
			if errors != rep.Problems() {
				t.Errorf("%d error results for %d problems", errors, rep.Problems())
			}
		})
	}
}

// injectWith injects the items in place with the given tag and mode.
func injectWith(tag, mode string) func(t *testing.T, items []*yaml.RNode) {
	return func(t *testing.T, items []*yaml.RNode) {
		t.Helper()
		if _, err := Run(checkConfig(t, items, tag, mode), items); err != nil {
			t.Fatal(err)
		}
	}
}

// TestUninject: the items come back exactly from a webhook-mode injection
// (it keeps a record), and as far as Istio's annotations prove from a
// kube-inject-mode one, with a warning.
func TestUninject(t *testing.T) {
	for _, mode := range []string{"webhook", "kube-inject"} {
		t.Run(mode, func(t *testing.T) {
			items := readItems(t, "check", "workloads.yaml")
			source := snapshot(items)
			injectWith("1.0", mode)(t, items)
			injected := snapshot(items)
			if reflect.DeepEqual(injected, source) {
				t.Fatal("nothing was injected")
			}
			rep, err := Uninject(items)
			if err != nil {
				t.Fatal(err)
			}
			var outcomes []report.Outcome
			for _, e := range rep.Entries {
				outcomes = append(outcomes, e.Outcome)
			}
			if want := []report.Outcome{Uninjected, report.Skipped}; !reflect.DeepEqual(outcomes, want) {
				t.Errorf("outcomes %q, want %q", outcomes, want)
			}
			cart := rep.Entries[0]
			got := snapshot(items)
			switch mode {
			case "webhook":
				if !reflect.DeepEqual(got, source) {
					t.Errorf("not uninjected exactly:\n%s", strings.Join(got, "---\n"))
				}
				if len(cart.Warnings) > 0 || !strings.Contains(cart.Reason, "exactly, from "+uninject.Annotation) {
					t.Errorf("reason %q, warnings %q", cart.Reason, cart.Warnings)
				}
			default:
				// Without a record the labels the template added stay.
				if !strings.Contains(got[1], "security.istio.io/tlsMode") || strings.Contains(got[1], "istio-proxy") {
					t.Errorf("kube-inject injection not uninjected as far as proven:\n%s", got[1])
				}
				if len(cart.Warnings) != 1 || !strings.Contains(cart.Warnings[0], "kept labels security.istio.io/tlsMode, service.istio.io/canonical-name; annotations istio.io/rev") {
					t.Errorf("warnings %q", cart.Warnings)
				}
			}
			for _, want := range []string{"removed init container istio-init", "container istio-proxy", "volume istio-envoy", "annotation sidecar.istio.io/status"} {
				if !strings.Contains(cart.Reason, want) {
					t.Errorf("reason %q does not say %q", cart.Reason, want)
				}
			}
		})
	}
}

// TestUninjectFailsWhole: one workload that cannot be uninjected fails the
// run, and no item changes.
func TestUninjectFailsWhole(t *testing.T) {
	items := readItems(t, "check", "workloads.yaml")
	injectWith("1.0", "webhook")(t, items)
	if err := items[1].PipeE(yaml.Lookup("spec", "template", "metadata", "annotations"),
		yaml.SetField(uninject.Annotation, yaml.NewStringRNode("{broken"))); err != nil {
		t.Fatal(err)
	}
	before := snapshot(items)
	rep, err := Uninject(items)
	if err == nil || !strings.Contains(err.Error(), "Deployment shop/cart: annotation inject-sidecar.dev/injected is not a valid record") {
		t.Fatalf("error = %v", err)
	}
	if !rep.Failed() || !reflect.DeepEqual(snapshot(items), before) {
		t.Errorf("a failed uninject changed the items")
	}
}
