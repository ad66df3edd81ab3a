package inject

import (
	"os"
	"path/filepath"
	"strings"
	"testing"

	"sigs.k8s.io/kustomize/kyaml/kio"

	"github.com/inject-sidecar/inject-sidecar/pkg/uninject"
)

// TestUninjectSpelling: uninject writes back what the user wrote where
// the typed pod cannot tell (the record's sources), and only where that
// still reads as the pod does.
func TestUninjectSpelling(t *testing.T) {
	tests := []struct {
		name string
		// tamper edits the injected record annotation's value.
		tamper func(string) string
		// holds and lacks are substrings of the uninjected Deployment.
		holds, lacks []string
		warning      string
	}{{
		name:  "as the user wrote it",
		holds: []string{"cpu: 3000m # three cores", "memory: 1024Mi", "env: []"},
	}, {
		name:    "a source that no longer reads as the pod does is not written",
		tamper:  func(rec string) string { return strings.Replace(rec, `"yaml":"3000m"`, `"yaml":"4"`, 1) },
		holds:   []string{`cpu: "3" # three cores`, "memory: 1Gi"},
		lacks:   []string{"3000m", "cpu: 4", "1024Mi"},
		warning: "Deployment shop/cart: the spelling inject-sidecar.dev/injected records for some values no longer reads as they do",
	}}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			data, err := os.ReadFile(filepath.Join("testdata", "spelling", "workloads.yaml"))
			if err != nil {
				t.Fatal(err)
			}
			items, err := kio.FromBytes(data)
			if err != nil {
				t.Fatal(err)
			}
			source := snapshot(items)
			injectWith("1.0", "webhook")(t, items)
			if !strings.Contains(snapshot(items)[1], `cpu: "3" # three cores`) {
				t.Fatalf("injection kept the user's spelling; nothing to test:\n%s", snapshot(items)[1])
			}
			if tc.tamper != nil {
				meta := items[1].Field("spec").Value.Field("template").Value.Field("metadata").Value
				ann := meta.Field("annotations").Value
				rec := ann.Field(uninject.Annotation).Value
				rec.YNode().Value = tc.tamper(rec.YNode().Value)
			}
			rep, err := Uninject(items)
			if err != nil {
				t.Fatal(err)
			}
			got := snapshot(items)[1]
			if tc.tamper == nil && got != source[1] {
				t.Errorf("not uninjected as written:\n%s\nwant\n%s", got, source[1])
			}
			for _, h := range tc.holds {
				if !strings.Contains(got, h) {
					t.Errorf("uninjected Deployment lacks %q:\n%s", h, got)
				}
			}
			for _, l := range tc.lacks {
				if strings.Contains(got, l) {
					t.Errorf("uninjected Deployment holds %q:\n%s", l, got)
				}
			}
			var warnings []string
			for _, e := range rep.Entries {
				warnings = append(warnings, e.Warnings...)
			}
			if w := strings.Join(warnings, "\n"); (tc.warning == "") != (w == "") || !strings.Contains(w, tc.warning) {
				t.Errorf("warnings %q, want %q", warnings, tc.warning)
			}
		})
	}
}
