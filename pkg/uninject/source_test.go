package uninject

import (
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"

	corev1 "k8s.io/api/core/v1"
	kyaml "sigs.k8s.io/kustomize/kyaml/yaml"
	"sigs.k8s.io/yaml"
)

// sourceCase is one case of testdata/sources.yaml or
// testdata/restore-sources.yaml.
type sourceCase struct {
	Name string `json:"name"`
	// Template is a pod template's text: metadata and spec.
	Template string `json:"template"`
	// Injected is the pod injection made of it (sources.yaml).
	Injected corev1.Pod `json:"injected"`
	// Sources are the sources as JSON: expected (sources.yaml) or given
	// (restore-sources.yaml).
	Sources []string `json:"sources"`
	// Want is the template with the sources written in, and Restored how
	// many were (restore-sources.yaml).
	Want     string `json:"want"`
	Restored int    `json:"restored"`
}

func loadSourceCases(t *testing.T, name string) []sourceCase {
	t.Helper()
	b, err := os.ReadFile(filepath.Join("testdata", name))
	if err != nil {
		t.Fatal(err)
	}
	var cases []sourceCase
	if err := yaml.UnmarshalStrict(b, &cases); err != nil {
		t.Fatalf("%s: %v", name, err)
	}
	if len(cases) == 0 {
		t.Fatalf("%s: no cases", name)
	}
	return cases
}

// templateNodes parses a template's text and returns it with its
// metadata and spec nodes.
func templateNodes(t *testing.T, text string) (root, meta, spec *kyaml.Node) {
	t.Helper()
	var doc kyaml.Node
	if err := kyaml.Unmarshal([]byte(text), &doc); err != nil {
		t.Fatal(err)
	}
	root = doc.Content[0]
	return root, mappingValue(root, "metadata"), mappingValue(root, "spec")
}

func TestSources(t *testing.T) {
	for _, tc := range loadSourceCases(t, "sources.yaml") {
		t.Run(tc.Name, func(t *testing.T) {
			_, meta, spec := templateNodes(t, tc.Template)
			var original corev1.Pod
			if err := yaml.Unmarshal([]byte(tc.Template), &original); err != nil {
				t.Fatal(err)
			}
			var got []string
			for _, s := range Sources(meta, spec, &original, &tc.Injected) {
				b, err := json.Marshal(s)
				if err != nil {
					t.Fatal(err)
				}
				got = append(got, string(b))
			}
			if strings.Join(got, "\n") != strings.Join(tc.Sources, "\n") {
				t.Errorf("sources:\n  %s\nwant\n  %s", strings.Join(got, "\n  "), strings.Join(tc.Sources, "\n  "))
			}
		})
	}
}

func TestRestoreSources(t *testing.T) {
	for _, tc := range loadSourceCases(t, "restore-sources.yaml") {
		t.Run(tc.Name, func(t *testing.T) {
			root, meta, spec := templateNodes(t, tc.Template)
			var sources []Source
			for _, raw := range tc.Sources {
				var s Source
				if err := json.Unmarshal([]byte(raw), &s); err != nil {
					t.Fatal(err)
				}
				sources = append(sources, s)
			}
			n := RestoreSources(meta, spec, sources)
			b, err := kyaml.Marshal(root)
			if err != nil {
				t.Fatal(err)
			}
			if got := string(b); got != tc.Want {
				t.Errorf("template:\n%s\nwant\n%s", got, tc.Want)
			}
			if n != tc.Restored {
				t.Errorf("restored %d, want %d", n, tc.Restored)
			}
		})
	}
}

// carryCase is one case of testdata/carry.yaml.
type carryCase struct {
	Name     string     `json:"name"`
	Previous []string   `json:"previous"`
	Original corev1.Pod `json:"original"`
	Injected corev1.Pod `json:"injected"`
	Want     []string   `json:"want"`
}

func TestCarry(t *testing.T) {
	b, err := os.ReadFile(filepath.Join("testdata", "carry.yaml"))
	if err != nil {
		t.Fatal(err)
	}
	var cases []carryCase
	if err := yaml.UnmarshalStrict(b, &cases); err != nil || len(cases) == 0 {
		t.Fatalf("carry.yaml: %d cases, %v", len(cases), err)
	}
	for _, tc := range cases {
		t.Run(tc.Name, func(t *testing.T) {
			var previous []Source
			for _, raw := range tc.Previous {
				var s Source
				if err := json.Unmarshal([]byte(raw), &s); err != nil {
					t.Fatal(err)
				}
				previous = append(previous, s)
			}
			var got []string
			for _, s := range Carry(previous, &tc.Original, &tc.Injected) {
				b, err := json.Marshal(s)
				if err != nil {
					t.Fatal(err)
				}
				got = append(got, string(b))
			}
			if strings.Join(got, "\n") != strings.Join(tc.Want, "\n") {
				t.Errorf("carried:\n  %s\nwant\n  %s", strings.Join(got, "\n  "), strings.Join(tc.Want, "\n  "))
			}
		})
	}
}
