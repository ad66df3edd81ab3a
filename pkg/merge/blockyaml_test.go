package merge

import (
	"maps"
	"math/rand"
	"os"
	"path/filepath"
	"reflect"
	"slices"
	"strings"
	"testing"

	"sigs.k8s.io/yaml"
)

// viaSigsYAML is how Istio reads an overlay.
func viaSigsYAML(doc string) (map[string]any, error) {
	var m map[string]any
	err := yaml.Unmarshal([]byte(doc), &m)
	if err == nil && m == nil {
		m = map[string]any{}
	}
	return m, err
}

// checkBlockYAML fails when parseBlockYAML reads doc, and
// sigs.k8s.io/yaml refuses it or reads something else.
func checkBlockYAML(t *testing.T, doc string) bool {
	t.Helper()
	got, ok := parseBlockYAML([]byte(doc))
	if !ok {
		return false
	}
	want, err := viaSigsYAML(doc)
	if err != nil {
		t.Fatalf("read what sigs.k8s.io/yaml refuses (%v):\n%s", err, doc)
	}
	if !reflect.DeepEqual(got, want) {
		t.Fatalf("reads differently:\n%s\n got %#v\nwant %#v", doc, got, want)
	}
	return true
}

// TestParseBlockYAML pins, construct by construct, what the subset reader
// takes (and then reads as sigs.k8s.io/yaml does) and what it leaves to
// yaml.v2.
func TestParseBlockYAML(t *testing.T) {
	for _, tc := range []struct {
		name, yaml string
		taken      bool
	}{
		{"nested mappings", "a:\n  b:\n    c: d\n  e: f\ng: h\n", true},
		{"sequences, indented and not", "a:\n- x\n- y\nb:\n  - 1\n  - 2\n", true},
		{"compact mappings in entries", "l:\n- name: a\n  value: b\n- name: c\n  valueFrom:\n    fieldRef:\n      fieldPath: x\n", true},
		{"an indentless sequence in an entry", "l:\n- args:\n  - a\n  - b\n  name: x\n", true},
		{"empty values are null", "a:\nb:\n  c:\n  d: 1\n", true},
		{"YAML 1.1 scalars", "a: on\nb: off\nc: yes\nd: No\ne: ~\nf: null\ng: 0777\nh: 0x1F\ni: 1_000\nj: 1.5\nk: -2\nl: 0b11\nm: 1e3\nn: 1:30\n", true},
		{"timestamps stay text", "a: 2024-01-02\nb: 2001-12-14t21:59:43.10-05:00\n", true},
		{"strings that look like others", "a: 2000m\nb: 1024Mi\nc: --domain\nd: $(POD_NAMESPACE).svc.cluster.local\ne: istiod.istio-system.svc:15012\nf: kubernetes://apis/apps/v1\ng: a#b\nh: a  b\n", true},
		{"comments", "# head\na: b # tail\n  # inside\nc:\n  # before\n  d: e\n", true},
		{"blank lines with spaces", "a:\n  \n  b: c\n    \nd: e\n", true},
		{"quoted scalars", "a: \"x: y\"\nb: 'it''s'\nc: \"q\\\"\\\\\\n\"\nd: \"\"\ne: ''\nf: \"1337\" \n", true},
		{"quoted keys", "\"a b\": 1\n'c': 2\n", true},
		{"keys that resolve", "1: a\ntrue: b\nno: c\n0x10: d\n1.5: e\n", true},
		{"keys that collide once resolved", "true: a\nyes: b\n", false},
		{"extra spaces", "a:  1 \nl:\n-  \"x\" \n-   y\n", true},
		{"literal blocks", "a: |\n  x\n   y\n\n  z\nb: |-\n    {}\nc: |+\n  k\n\nd: e\n", true},
		{"literal in an entry", "env:\n- name: P\n  value: |\n         {}\n- name: Q\n  value: |-\n    [\n        {\"a\":1}\n    ]\n", true},
		{"literal of spaces only lines", "a: |\n  x\n     \n  y\n", true},
		{"flow mapping over lines", "annotations: {\n  a: \"1\",\n\n  b/c.d: x,\n  \n}\nz: 1\n", true},
		{"flow collections", "a: {}\nb: []\nc: [1, \"two\", {d: e}]\nd: {x: [y]}\n", true},
		{"flow with comments", "a: { # c\n  b: 1, # d\n  c: 2 }\n", true},
		{"empty", "", true},
		{"comments only", "# x\n\n", true},
		{"no final line break", "a: b", true},

		// Left to yaml.v2.
		{"anchors and aliases", "a: &x 1\nb: *x\n", false},
		{"merge keys", "a:\n  <<: {b: 1}\n", false},
		{"tags", "a: !!str 1\n", false},
		{"multi-line plain", "a: b\n  c\n", false},
		{"multi-line quoted", "a: \"b\n  c\"\n", false},
		{"folded", "a: >\n  b\n", false},
		{"indentation indicator", "a: |2\n   b\n", false},
		{"literal without final line break", "a: |\n  b", false},
		{"literal starting blank", "a: |\n\n  b\n", false},
		{"tabs", "a:\tb\n", false},
		{"non-ASCII", "a: ü\n", false},
		{"document markers", "---\na: b\n", false},
		{"top-level list", "- a\n", false},
		{"top-level scalar", "a\n", false},
		{"indented top level", "  a: b\n", false},
		{"mapping value on its line", "a: b: c\n", false},
		{"scalar after key on next line", "a:\n  b\n", false},
		{"misindented key", "a:\n  b: 1\n c: 2\n", false},
		{"deeper key after scalar", "a: 1\n  b: 2\n", false},
		{"duplicate keys", "a: 1\na: 2\n", false},
		{"null key", "~: 1\n", false},
		{"infinity", "a: .inf\n", false},
		{"nested sequences", "a:\n- - b\n", false},
		{"empty entry", "a:\n-\n  b: 1\n", false},
		{"unknown escape", "a: \"\\x41\"\n", false},
		{"flow multi-line plain", "a: {b: c\n d}\n", false},
		{"flow value on the next line", "a: {b:\n c}\n", false},
		{"flow JSON colon", "a: {\"b\":1}\n", false},
		{"unclosed flow", "a: {b: c\n", false},
		{"garbage after flow", "a: {} x\n", false},
		{"space before colon", "a : b\n", false},
		{"alias-like value", "a: *b\n", false},
		{"percent", "a: %b\n", false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			if taken := checkBlockYAML(t, tc.yaml); taken != tc.taken {
				t.Fatalf("taken %v, want %v", taken, tc.taken)
			}
		})
	}
}

// TestParseBlockYAMLMutations reads mutated template outputs both ways:
// indentation shifted, characters YAML gives a meaning inserted, lines
// cut, doubled and joined. Whatever the subset reader takes, it must read
// as sigs.k8s.io/yaml does.
func TestParseBlockYAMLMutations(t *testing.T) {
	mutateBlockYAML(t, overlaySamples(t), 300, func(doc string) bool { return checkBlockYAML(t, doc) })
}

// overlaySamples are the overlays of the test tables, and the tables.
func overlaySamples(t *testing.T) []string {
	files, _ := filepath.Glob(filepath.Join("testdata", "*.yaml"))
	var out []string
	for _, f := range files {
		raw, err := os.ReadFile(f)
		if err != nil {
			t.Fatal(err)
		}
		out = append(out, string(raw))
		var cf caseFile
		if err := yaml.Unmarshal(raw, &cf); err != nil {
			continue
		}
		for _, name := range slices.Sorted(maps.Keys(cf.Overlays)) {
			out = append(out, cf.Overlays[name])
		}
	}
	if len(out) < 5 {
		t.Fatalf("only %d overlay samples in testdata", len(out))
	}
	return out
}

// mutateBlockYAML reads perRound mutations of every seed with check, which
// reports whether the subset reader took the document.
func mutateBlockYAML(t *testing.T, seeds []string, perSeed int, check func(string) bool) {
	r := rand.New(rand.NewSource(7))
	const alphabet = " \n-:#,'\"{}[]|>&*!%@`?.0aZ~\\"
	taken, total := 0, 0
	for _, seed := range seeds {
		for range perSeed {
			lines := strings.Split(seed, "\n")
			for range 1 + r.Intn(3) {
				k := r.Intn(len(lines))
				l := lines[k]
				switch r.Intn(6) {
				case 0:
					lines[k] = strings.Repeat(" ", r.Intn(3)) + l
				case 1:
					lines[k] = strings.TrimPrefix(l, " ")
				case 2:
					at := r.Intn(len(l) + 1)
					lines[k] = l[:at] + string(alphabet[r.Intn(len(alphabet))]) + l[at:]
				case 3:
					if len(l) > 0 {
						at := r.Intn(len(l))
						lines[k] = l[:at] + l[at+1:]
					}
				case 4:
					lines = append(lines[:k+1], lines[k:]...)
				case 5:
					if k+1 < len(lines) {
						lines[k] += lines[k+1]
						lines = append(lines[:k+1], lines[k+2:]...)
					}
				}
			}
			total++
			if check(strings.Join(lines, "\n")) {
				taken++
			}
		}
	}
	t.Logf("%d of %d mutated overlays read by the subset reader", taken, total)
	if taken < total/20 {
		t.Errorf("only %d of %d mutated overlays taken: the test no longer exercises the reader", taken, total)
	}
}

// FuzzParseBlockYAML holds the subset reader to sigs.k8s.io/yaml on any
// input.
func FuzzParseBlockYAML(f *testing.F) {
	for _, s := range []string{
		"a: b\n", "a:\n- x\n", "a: {b: c}\n", "a: |\n  x\n", "l:\n- n: a\n  v: b\n", "a: 'x'\nb: \"y\"\n",
	} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, doc string) {
		checkBlockYAML(t, doc)
	})
}
