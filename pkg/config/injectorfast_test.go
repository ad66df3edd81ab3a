package config

import (
	"os"
	"path/filepath"
	"reflect"
	"slices"
	"strings"
	"testing"

	sigsyaml "sigs.k8s.io/yaml"
)

// TestDecodeInjectorFast holds the one-reading decoder to the general
// one: whatever it takes must decode exactly as sigs.k8s.io/yaml decodes
// it (typed, and generically for the keys), and what it declines is left
// to that reading. wantFast pins which documents take the fast way, so
// that the comparison is not vacuous.
func TestDecodeInjectorFast(t *testing.T) {
	wantFast := map[string]bool{
		"anchors.yaml":         true,
		"bad-utf8.yaml":        true, // \xff is U+00FF, valid UTF-8
		"empty-map.yaml":       true,
		"istio-like.yaml":      true,
		"key-case.yaml":        false,
		"key-number.yaml":      false,
		"malformed.yaml":       false,
		"merge-key.yaml":       true,
		"nan.yaml":             false,
		"not-a-map.yaml":       false,
		"null-element.yaml":    false,
		"null-policy.yaml":     true,
		"policy-bool.yaml":     false,
		"policy-number.yaml":   false,
		"selector.yaml":        false,
		"template-number.yaml": false,
		"unknown-keys.yaml":    true,
	}
	files, err := filepath.Glob("testdata/injectorfast/*.yaml")
	if err != nil {
		t.Fatal(err)
	}
	if len(files) != len(wantFast) {
		t.Fatalf("%d files in testdata/injectorfast, %d expectations", len(files), len(wantFast))
	}
	others, err := filepath.Glob("testdata/injector/*")
	if err != nil {
		t.Fatal(err)
	}
	files = append(files, others...)
	corpus := corpusFiles(t, "configs/inject-config-*.yaml")
	for _, f := range corpus {
		wantFast[filepath.Base(f)] = true // Istio's own must take the fast way
	}
	files = append(files, corpus...)
	for _, f := range files {
		t.Run(filepath.Base(f), func(t *testing.T) {
			data, err := os.ReadFile(f)
			if err != nil {
				t.Fatal(err)
			}
			doc, keys, ok := decodeInjectorFast(data)
			if want, pinned := wantFast[filepath.Base(f)]; pinned && ok != want {
				t.Fatalf("fast = %v, want %v", ok, want)
			}
			if !ok {
				return
			}
			var general injectorDocument
			if err := sigsyaml.Unmarshal(data, &general); err != nil {
				t.Fatalf("the fast way took a document the general one refuses: %v", err)
			}
			if !reflect.DeepEqual(doc, general) {
				t.Errorf("fast:\n%#v\ngeneral:\n%#v", doc, general)
			}
			var raw map[string]any
			if err := sigsyaml.Unmarshal(data, &raw); err != nil {
				t.Fatalf("generic reading: %v", err)
			}
			got, want := slices.Sorted(slices.Values(keys)), slices.Sorted(slices.Values(rawKeys(raw)))
			if !reflect.DeepEqual(got, want) {
				t.Errorf("keys %q, generic reading %q", got, want)
			}
		})
	}
}

// TestParseValuesJSON holds the encoding/json reading of values to
// sigs.k8s.io/yaml's, on Istio's values and on the edges where the two
// could part.
func TestParseValuesJSON(t *testing.T) {
	cases := []struct {
		name, data string
		fast       bool
	}{
		{"numbers", `{"i": 1, "f": 1.0, "e": 1e2, "big": 12345678901234567890, "tenth": 0.1, "neg": -3}`, true},
		{"literals", `{"t": true, "f": false, "n": null, "yes": "yes", "s": "a #b: c"}`, true},
		{"nested", "{\n  \"a\": {\"b\": [1, [2, {\"c\": []}]]},\n  \"d\": {}\r\n}\n", true},
		{"duplicate key", `{"a": 1, "a": 2}`, true},
		{"empty", `{}`, true},
		{"negative zero", `{"z": -0}`, false},
		{"escape", `{"s": "a\u00e9"}`, false},
		{"not ASCII", `{"s": "é"}`, false},
		{"tab", "{\t\"a\": 1}", false},
		{"YAML", "a: 1\n", false},
		{"list", `[1]`, false},
		{"trailing text", `{"a": 1} x`, false},
	}
	for _, f := range corpusFiles(t, "configs/values-*.json") {
		data, err := os.ReadFile(f)
		if err != nil {
			t.Fatal(err)
		}
		fast := !strings.Contains(string(data), `\`)
		cases = append(cases, struct {
			name, data string
			fast       bool
		}{filepath.Base(f), string(data), fast})
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			got, ok := parseValuesJSON([]byte(tc.data))
			if ok != tc.fast {
				t.Fatalf("fast = %v, want %v", ok, tc.fast)
			}
			if !ok {
				return
			}
			var want map[string]any
			if err := sigsyaml.Unmarshal([]byte(tc.data), &want); err != nil {
				t.Fatalf("the fast way took values the general one refuses: %v", err)
			}
			if !reflect.DeepEqual(got, want) {
				t.Errorf("fast:\n%#v\ngeneral:\n%#v", got, want)
			}
		})
	}
}
