package report

import (
	"bytes"
	"errors"
	"flag"
	"io"
	"os"
	"path/filepath"
	"testing"

	"sigs.k8s.io/kustomize/kyaml/fn/framework"
	"sigs.k8s.io/kustomize/kyaml/yaml"

	"github.com/inject-sidecar/inject-sidecar/pkg/podtemplate"
)

var update = flag.Bool("update", false, "rewrite the expected files in testdata from the code's output")

// golden compares got with the expected file, or rewrites it with -update.
func golden(t *testing.T, name string, got []byte) {
	t.Helper()
	if *update {
		if err := os.WriteFile(name, got, 0o644); err != nil {
			t.Fatal(err)
		}
		return
	}
	want, err := os.ReadFile(name)
	if err != nil {
		t.Fatalf("%v (run with -update to create it)", err)
	}
	if !bytes.Equal(got, want) {
		t.Errorf("output differs from %s (run with -update and review the diff)\n--- got:\n%s", name, got)
	}
}

// targets finds the workloads of testdata/workloads.yaml: Deployment
// demo/web (internal annotations), CronJob report (legacy annotations),
// Pod no-file (none), StatefulSet db (in a List, index not a number).
func targets(t *testing.T) []podtemplate.Target {
	t.Helper()
	data, err := os.ReadFile(filepath.Join("testdata", "workloads.yaml"))
	if err != nil {
		t.Fatal(err)
	}
	dec := yaml.NewDecoder(bytes.NewReader(data))
	var items []*yaml.RNode
	for {
		var doc yaml.Node
		if err := dec.Decode(&doc); errors.Is(err, io.EOF) {
			break
		} else if err != nil {
			t.Fatal(err)
		}
		items = append(items, yaml.NewRNode(doc.Content[0]))
	}
	found, err := podtemplate.Find(items)
	if err != nil || len(found) != 4 {
		t.Fatalf("Find: %d targets, %v", len(found), err)
	}
	return found
}

func TestReport(t *testing.T) {
	// entry is an Entry with its target given by position (-1: the run).
	type entry struct {
		target int
		Entry
	}
	tests := []struct {
		name    string
		entries []entry
		// fail are Fail calls, after the entries.
		fail []struct {
			target int
			field  string
			err    error
		}
		severities               []framework.Severity
		injected, skipped, fails int
		// err is Err()'s text, "" for nil.
		err string
	}{
		{
			name: "all-outcomes",
			entries: []entry{
				{0, Entry{Outcome: Injected, Revision: "canary", Reason: "namespace label istio.io/rev=canary"}},
				{1, Entry{Outcome: Skipped, Reason: "annotation sidecar.istio.io/inject=false", Warnings: []string{"hostNetwork pods are never injected by the webhook"}}},
				{2, Entry{Outcome: Injected, Warnings: []string{"first warning", "second warning"}}},
				{3, Entry{Outcome: Skipped}},
			},
			severities: []framework.Severity{framework.Info, framework.Info, framework.Warning, framework.Info, framework.Warning, framework.Warning, framework.Info},
			injected:   2, skipped: 2,
		},
		{
			name: "one-failure",
			entries: []entry{
				{0, Entry{Outcome: Injected, Revision: "default", Reason: "namespace label istio-injection=enabled"}},
			},
			fail: []struct {
				target int
				field  string
				err    error
			}{
				{1, "spec.jobTemplate.spec.template.spec.containers", errors.New("expected a list, got an object")},
			},
			severities: []framework.Severity{framework.Info, framework.Error},
			injected:   1, fails: 1,
			err: "CronJob report: field spec.jobTemplate.spec.template.spec.containers: expected a list, got an object",
		},
		{
			name: "several-failures",
			entries: []entry{
				// A reason that names its workload and field already is
				// not prefixed again.
				{0, Entry{Outcome: Failed, Field: "spec.template.metadata.labels.a",
					Reason:   "Deployment demo/web: field spec.template.metadata.labels.a: expected a string, got the number 1",
					Warnings: []string{"kept going"}}},
				{3, Entry{Outcome: Failed, Reason: "template rendering failed"}},
			},
			fail: []struct {
				target int
				field  string
				err    error
			}{
				{-1, "", errors.New("no injector configuration for revision canary")},
				{2, "", nil},
			},
			severities: []framework.Severity{framework.Error, framework.Warning, framework.Error, framework.Error, framework.Error},
			fails:      4,
			err: "4 failures:\n" +
				"  Deployment demo/web: field spec.template.metadata.labels.a: expected a string, got the number 1\n" +
				"  StatefulSet db (items[0] of List bundle): template rendering failed\n" +
				"  no injector configuration for revision canary\n" +
				"  Pod no-file: unknown error",
		},
		{
			name: "empty",
		},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			found := targets(t)
			pick := func(i int) *podtemplate.Target {
				if i < 0 {
					return nil
				}
				return &found[i]
			}
			var r Report
			for _, e := range tc.entries {
				e.Entry.Target = pick(e.target)
				r.Add(e.Entry)
			}
			for _, f := range tc.fail {
				r.Fail(pick(f.target), f.field, f.err)
			}
			results := r.Results()
			var sev []framework.Severity
			for _, res := range results {
				sev = append(sev, res.Severity)
			}
			if !equal(sev, tc.severities) {
				t.Errorf("severities %v, want %v", sev, tc.severities)
			}
			if r.Count(Injected) != tc.injected || r.Count(Skipped) != tc.skipped || r.Count(Failed) != tc.fails {
				t.Errorf("counts: %s", r.Summary())
			}
			if r.Failed() != (tc.fails > 0) {
				t.Errorf("Failed() = %v", r.Failed())
			}
			err := r.Err()
			switch {
			case tc.err == "" && err != nil:
				t.Errorf("Err() = %v, want nil", err)
			case tc.err != "" && (err == nil || err.Error() != tc.err):
				t.Errorf("Err() = %v\nwant %s", err, tc.err)
			}
			out, mErr := yaml.Marshal(results)
			if mErr != nil {
				t.Fatal(mErr)
			}
			golden(t, filepath.Join("testdata", tc.name+".results.yaml"), out)
			// Results are independent values: changing one leaves the rest.
			for i, res := range results {
				for j, other := range results {
					if i != j && ((res.ResourceRef != nil && res.ResourceRef == other.ResourceRef) ||
						(res.File != nil && res.File == other.File) || (res.Field != nil && res.Field == other.Field)) {
						t.Errorf("results %d and %d share a pointer", i, j)
					}
				}
			}
		})
	}
}

func TestSummary(t *testing.T) {
	r := Report{Entries: []Entry{{Outcome: Injected}, {Outcome: Injected}, {Outcome: Skipped}, {Outcome: Failed}}}
	if got, want := r.Summary(), "2 injected, 1 skipped, 1 failed"; got != want {
		t.Errorf("Summary() = %q, want %q", got, want)
	}
}

func equal(a, b []framework.Severity) bool {
	if len(a) != len(b) {
		return false
	}
	for i := range a {
		if a[i] != b[i] {
			return false
		}
	}
	return true
}
