package uninject

import (
	"encoding/json"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"

	corev1 "k8s.io/api/core/v1"
	"sigs.k8s.io/yaml"
)

// podCase is one case of testdata/pod.yaml: an injected pod, what Pod
// must make of it, and what it must say.
type podCase struct {
	Name string     `json:"name"`
	Pod  corev1.Pod `json:"pod"`
	// Want is the expected pod; absent means "unchanged".
	Want *corev1.Pod `json:"want"`
	// Injected and Recorded are the expected Result flags.
	Injected bool `json:"injected"`
	Recorded bool `json:"recorded"`
	// Warnings are substrings, one per expected warning, in order.
	Warnings []string `json:"warnings"`
	// Restored are substrings the Restored list must hold.
	Restored []string `json:"restored"`
	// Sources are the expected Result.Sources, each as JSON.
	Sources []string `json:"sources"`
	// Error is a substring of the expected error.
	Error string `json:"error"`
}

func loadPodCases(t *testing.T, name string) []podCase {
	t.Helper()
	b, err := os.ReadFile(filepath.Join("testdata", name))
	if err != nil {
		t.Fatal(err)
	}
	var cases []podCase
	if err := yaml.UnmarshalStrict(b, &cases); err != nil {
		t.Fatalf("%s: %v", name, err)
	}
	if len(cases) == 0 {
		t.Fatalf("%s: no cases", name)
	}
	return cases
}

func TestPod(t *testing.T) {
	for _, tc := range loadPodCases(t, "pod.yaml") {
		t.Run(tc.Name, func(t *testing.T) {
			before := tc.Pod.DeepCopy()
			got, res, err := Pod(&tc.Pod)
			if tc.Error != "" {
				if err == nil || !strings.Contains(err.Error(), tc.Error) {
					t.Fatalf("error = %v, want one holding %q", err, tc.Error)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if !Equal(&tc.Pod, before) {
				t.Errorf("Pod modified its argument")
			}
			want := tc.Want
			if want == nil {
				want = before
			}
			if !Equal(got, want) {
				t.Errorf("pod differs:\n--- got\n%s\n--- want\n%s", toYAML(t, got), toYAML(t, want))
			}
			if res.Injected != tc.Injected || res.Recorded != tc.Recorded {
				t.Errorf("Injected, Recorded = %v, %v, want %v, %v", res.Injected, res.Recorded, tc.Injected, tc.Recorded)
			}
			if len(res.Warnings) != len(tc.Warnings) {
				t.Fatalf("%d warnings, want %d:\n  %s", len(res.Warnings), len(tc.Warnings), strings.Join(res.Warnings, "\n  "))
			}
			for i, w := range tc.Warnings {
				if !strings.Contains(res.Warnings[i], w) {
					t.Errorf("warning %d = %q, want one holding %q", i+1, res.Warnings[i], w)
				}
			}
			for _, r := range tc.Restored {
				if !strings.Contains(strings.Join(res.Restored, "\n"), r) {
					t.Errorf("Restored %q does not mention %q", res.Restored, r)
				}
			}
			var sources []string
			for _, s := range res.Sources {
				b, err := json.Marshal(s)
				if err != nil {
					t.Fatal(err)
				}
				sources = append(sources, string(b))
			}
			if strings.Join(sources, "\n") != strings.Join(tc.Sources, "\n") {
				t.Errorf("Sources %q, want %q", sources, tc.Sources)
			}
		})
	}
}

func toYAML(t *testing.T, v any) string {
	t.Helper()
	b, err := yaml.Marshal(v)
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}

// TestRecord checks that a record brings back the original exactly,
// whatever injection did that Istio's annotations do not say, and that
// Pod then warns about nothing.
func TestRecord(t *testing.T) {
	for _, tc := range loadRecordCases(t) {
		t.Run(tc.Name, func(t *testing.T) {
			injectedBefore, originalBefore := tc.Injected.DeepCopy(), tc.Original.DeepCopy()
			rec, err := Record(&tc.Injected, &tc.Original, tc.Source)
			// Record works on shallow copies: it must not write through.
			if !reflect.DeepEqual(&tc.Injected, injectedBefore) || !reflect.DeepEqual(&tc.Original, originalBefore) {
				t.Errorf("Record modified its arguments")
			}
			if tc.Error != "" {
				if err == nil || !strings.Contains(err.Error(), tc.Error) {
					t.Fatalf("error = %v, want one holding %q", err, tc.Error)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if tc.Record != "" && rec != tc.Record {
				t.Errorf("record =\n  %s\nwant\n  %s", rec, tc.Record)
			}
			if !strings.Contains(rec, tc.RecordHas) {
				t.Errorf("record %s does not hold %s", rec, tc.RecordHas)
			}
			var parsed map[string]any
			if err := json.Unmarshal([]byte(rec), &parsed); err != nil {
				t.Fatalf("record is not JSON: %v", err)
			}
			injected := tc.Injected.DeepCopy()
			injected.Annotations[Annotation] = rec
			got, res, err := Pod(injected)
			if err != nil {
				t.Fatal(err)
			}
			if !Equal(got, &tc.Original) {
				t.Errorf("uninjected pod differs:\n--- got\n%s\n--- want\n%s", toYAML(t, got), toYAML(t, &tc.Original))
			}
			if !res.Recorded || len(res.Warnings) > 0 {
				t.Errorf("Recorded = %v, warnings %q; want a recorded result without warnings", res.Recorded, res.Warnings)
			}
		})
	}
}

type recordCase struct {
	Name     string     `json:"name"`
	Original corev1.Pod `json:"original"`
	Injected corev1.Pod `json:"injected"`
	// Source is given to Record, which keeps it in the record.
	Source []Source `json:"source"`
	// Record, when set, is the exact expected annotation value;
	// RecordHas a substring of it.
	Record    string `json:"record"`
	RecordHas string `json:"recordHas"`
	Error     string `json:"error"`
}

func loadRecordCases(t *testing.T) []recordCase {
	t.Helper()
	b, err := os.ReadFile(filepath.Join("testdata", "record.yaml"))
	if err != nil {
		t.Fatal(err)
	}
	var cases []recordCase
	if err := yaml.UnmarshalStrict(b, &cases); err != nil {
		t.Fatal(err)
	}
	if len(cases) == 0 {
		t.Fatal("record.yaml: no cases")
	}
	return cases
}

func TestPodNil(t *testing.T) {
	if _, _, err := Pod(nil); err == nil {
		t.Error("Pod(nil) did not fail")
	}
	if _, err := Record(nil, &corev1.Pod{}, nil); err == nil {
		t.Error("Record(nil, pod) did not fail")
	}
}
