package merge

import (
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"

	"sigs.k8s.io/yaml"
)

// TestParseOverlayDirect holds the direct reading of rendered templates
// to sigs.k8s.io/yaml's (what Istio uses), scalar by scalar where YAML
// 1.1 and JSON disagree, and pins which inputs take the slow road.
func TestParseOverlayDirect(t *testing.T) {
	for _, tc := range []struct {
		name, yaml string
		direct     bool // read without sigs.k8s.io/yaml
		// random: sigs.k8s.io/yaml's result depends on map order.
		random bool
	}{
		{"YAML 1.1 booleans", "a: on\nb: off\nc: yes\nd: no\ne: y\nf: n\ng: True\nh: NO\n", true, false},
		{"quoted booleans stay strings", "a: 'on'\nb: \"yes\"\n", true, false},
		{"octal, hex, binary, sexagesimal", "a: 0777\nb: 0x1F\nc: 0b101\nd: 1:30\ne: -0o17\n", true, false},
		{"floats", "a: 1.5\nb: 1e3\nc: -0.0\nd: .5\ne: 6.8523015e+5\nf: 1_000\n", true, false},
		{"large integers", "a: 9007199254740993\nb: 18446744073709551615\nc: -9223372036854775808\nd: 99999999999999999999\n", true, false},
		{"infinity and NaN refused", "a: .inf\n", false, false},
		{"NaN refused", "a: .nan\n", false, false},
		{"nulls", "a: ~\nb: null\nc:\nd: Null\n", true, false},
		{"timestamps stay strings", "a: 2001-12-14t21:59:43.10-05:00\nb: 2024-01-01\n", true, false},
		{"explicit timestamp", "a: !!timestamp 2024-01-01\n", true, false},
		{"binary", "a: !!binary aGVsbG8=\n", true, false},
		{"invalid UTF-8 from binary", "a: !!binary /w==\n", false, false},
		{"non-string keys", "1: a\n2.5: b\ntrue: c\n0x10: d\n", true, false},
		{"float key at 32-bit precision", "0.1: a\n3.14159265358979: b\n", true, false},
		{"colliding keys", "1: a\n\"1\": b\n", false, true},
		{"null key refused", "~: a\n", false, false},
		{"merge keys", "base: &b {x: 1, y: 2}\nitem:\n  <<: *b\n  y: 3\n", true, false},
		{"nested lists and maps", "spec:\n  containers:\n  - name: a\n    args: [1, '2', on]\n    env: [{name: X, value: '1'}]\n", true, false},
		{"empty document", "", true, false},
		{"only comments", "# nothing\n", true, false},
		{"explicit null document", "null\n", true, false},
		{"flow mapping with trailing comma", "annotations: {\n  a: \"1\",\n  b: x,\n}\n", true, false},
		{"a list is not a patch", "- a\n", false, false},
		{"a scalar is not a patch", "hello\n", false, false},
		{"syntax error", "a: [\n", false, false},
		{"unicode", "a: ünïcödé\nb: \"\\u2028\"\nc: \"\\x41\"\n", true, false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			direct, ok := parseOverlayDirect([]byte(tc.yaml))
			if ok != tc.direct {
				t.Fatalf("read directly: %v, want %v", ok, tc.direct)
			}
			var want map[string]any
			err := yaml.Unmarshal([]byte(tc.yaml), &want)
			if want == nil && err == nil {
				want = map[string]any{}
			}
			if !ok && !tc.random {
				// The slow road: parseOverlay is sigs.k8s.io/yaml.
				got, gerr := parseOverlay([]byte(tc.yaml))
				if (gerr == nil) != (err == nil) || (err == nil && !reflect.DeepEqual(got, want)) {
					t.Fatalf("parseOverlay = %#v, %v; sigs.k8s.io/yaml = %#v, %v", got, gerr, want, err)
				}
			}
			if !ok {
				return
			}
			if err != nil {
				t.Fatalf("read directly what sigs.k8s.io/yaml refuses: %v", err)
			}
			if !reflect.DeepEqual(direct, want) {
				t.Fatalf("got  %#v\nwant %#v", direct, want)
			}
		})
	}
}

// TestParseOverlayCorpus reads every overlay of the merge test data both
// ways.
func TestParseOverlayCorpus(t *testing.T) {
	files, _ := filepath.Glob(filepath.Join("testdata", "*.yaml"))
	if len(files) == 0 {
		t.Fatal("no testdata/*.yaml")
	}
	read := 0
	for _, file := range files {
		raw, err := os.ReadFile(file)
		if err != nil {
			t.Fatal(err)
		}
		for i, doc := range strings.Split(string(raw), "\n---\n") {
			direct, ok := parseOverlayDirect([]byte(doc))
			var want map[string]any
			err := yaml.Unmarshal([]byte(doc), &want)
			if !ok {
				continue
			}
			read++
			if want == nil && err == nil {
				want = map[string]any{}
			}
			if err != nil || !reflect.DeepEqual(direct, want) {
				t.Errorf("%s document %d: direct %#v\nsigs.k8s.io/yaml %#v (%v)", file, i, direct, want, err)
			}
		}
	}
	if read == 0 {
		t.Fatal("nothing read directly")
	}
}
