package manifest_test

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"math/rand/v2"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"sigs.k8s.io/kustomize/kyaml/yaml"

	"github.com/inject-sidecar/inject-sidecar/examples/bench/workloadgen"
	"github.com/inject-sidecar/inject-sidecar/pkg/manifest"
)

// referenceParse is what parse does without fastParse: yaml.v3's
// decoder, and no second document.
func referenceParse(raw []byte) (*yaml.Node, error) {
	dec := yaml.NewDecoder(bytes.NewReader(raw))
	var doc yaml.Node
	if err := dec.Decode(&doc); err != nil {
		return nil, err
	}
	var extra yaml.Node
	if err := dec.Decode(&extra); !errors.Is(err, io.EOF) {
		return nil, fmt.Errorf("a second document: %v", err)
	}
	return &doc, nil
}

// nodeDiff describes the first difference between two node trees, every
// field compared; "" when they are the same.
func nodeDiff(a, b *yaml.Node, path string) string {
	if a == nil || b == nil {
		if a != b {
			return path + ": one node is nil"
		}
		return ""
	}
	if a.Kind != b.Kind || a.Style != b.Style || a.Tag != b.Tag || a.Value != b.Value || a.Anchor != b.Anchor ||
		a.HeadComment != b.HeadComment || a.LineComment != b.LineComment || a.FootComment != b.FootComment ||
		a.Line != b.Line || a.Column != b.Column || (a.Alias == nil) != (b.Alias == nil) || len(a.Content) != len(b.Content) {
		return fmt.Sprintf("%s:\n got %+v\nwant %+v", path, *a, *b)
	}
	for i := range a.Content {
		if d := nodeDiff(a.Content[i], b.Content[i], fmt.Sprintf("%s/%d", path, i)); d != "" {
			return d
		}
	}
	return ""
}

// checkFastParse fails when fastParse accepts raw and yaml.v3 reads it
// otherwise (or not at all); it reports whether fastParse accepted.
func checkFastParse(t testing.TB, name string, raw []byte) bool {
	t.Helper()
	got, ok := manifest.FastParse(raw)
	if !ok {
		return false
	}
	want, err := referenceParse(raw)
	if err != nil {
		t.Errorf("%s: fastParse accepted text yaml.v3 refuses (%v):\n%s", name, err, raw)
		return true
	}
	if d := nodeDiff(got, want, ""); d != "" {
		t.Errorf("%s: fastParse differs from yaml.v3 at %s\ntext:\n%s", name, d, raw)
	}
	return true
}

func TestFastParseTable(t *testing.T) {
	for _, tc := range []struct {
		text   string
		accept bool
	}{
		{"a: b\n", true},
		{"a: b", true},
		{"\n\na: b\n\n", true},
		{"  a: b\n  c: d\n", true},
		{"a:\n  b: c\n  d:\n    e: f\ng: h\n", true},
		{"a:\n- b\n- c\nd: e\n", true},
		{"a:\n  - b\n  -   c\n", true},
		{"a:\n- b: c\n  d: e\n- f\n", true},
		{"a:\n-\n- \nb:\nc:   \n", true},
		{"a: 'b'\nc: \"d\"\n'e': 1\n\"f\": true\n", true},
		{"a: [b, 'c', \"d\"]\ne: []\nf: [ ]\ng: {}\nh: { }\ni: [ x , y ]\n", true},
		{"a: b # c\nd: 'e'   # f\ng:\n- h #i\n", true},
		{"a: b#c\nd: e:f\ng: http://x/y?z=1&w=2\nh: -1\ni: --x\nj: a, b [c] {d}\n", true},
		{"a: 1\nb: 1.5\nc: 0x1F\nd: 1e3\ne: .5\nf: ~\ng: null\nh: 2001-12-14\ni: <<\nj: yes\nk: +1\nl: 0o17\nm: .inf\n", true},
		{"1: a\ntrue: b\nnull: c\n", true},
		{"<<: {}\n", true},
		{"a: [--once, /bin/x]\n", true},
		{"a: b  \nc: d\n", true},
		{"# c\na: b\n", true},
		{"# Source: chart/templates/a.yaml\n# two  \n#three\napiVersion: v1\nkind: A\n", true},
		{"\n\n# c\na:\n  b: c\n", true},
		{"# c\n- a\n", false},
		{"# c\n  a: b\n  c: d\n", true},
		// Declined: yaml.v3 reads these, in ways not reproduced.
		{"# c\n\na: b\n", false},
		{"# c\n\n# d\na: b\n", false},
		{"  # c\na: b\n", false},
		{"# c\n  \na: b\n", false},
		{"a: b\n# c\n", false},
		{"a: # c\n  b: c\n", false},
		{"a: [b] # c\n", false},
		{"a: b # c \n", false},
		{"a: |\n  b\n", true},
		{"a: |-\n  b\n   c \n\n  d\n\n\ne: f\n", true},
		{"a:\n- |\n  {\n    \"x\": 1\n  }\n- b\n", true},
		{"a:\n  - k: |\n      x: y\n    l: m\n", true},
		{"a: |\n  b", false},
		{"a: |+\n  b\n", false},
		{"a: |2\n  b\n", false},
		{"a: | # c\n  b\n", false},
		{"a: |\n\n  b\n", false},
		{"a: |\n  b\n     \n  c\n", false},
		{"a: |\n  # b\n", false},
		{"a: |\nb: c\n", false},
		{"a: >\n  b\n", false},
		{"a: &x b\nc: *x\n", false},
		{"a: !!str b\n", false},
		{"a: b\n  c\n", false},
		{"a: 'b\n  c'\n", false},
		{"a: \"b\\n\"\n", false},
		{"a: 'b''c'\n", false},
		{"a: [b, [c]]\n", false},
		{"a: {b: c}\n", false},
		{"a: [b, ]\n", false},
		{"a: [-, b]\n", false},
		{"a: [-]\n", false},
		{"a: [-b, c]\n", true},
		{nested(99), true},
		{nested(100), false},
		{strings.Repeat("k", 1000) + ": v\n", true},
		{strings.Repeat("k", 1001) + ": v\n", false},
		{strings.Repeat("k", 1100) + ": v\n", false},
		{"'" + strings.Repeat("k", 1100) + "': v\n", false},
		{"a:\n- - b\n", false},
		{"a:\n-\n  b: c\n", false},
		{"? a\n: b\n", false},
		{"a:\tb\n", false},
		{"a: b\r\n", false},
		{"a: é\n", false},
		{"--- \na: b\n", false},
		{"a: b\n...\n", false},
		{"%YAML 1.2\na: b\n", false},
		{"- a\n", false},
		{"a\n", false},
		{"", false},
		{"\n  \n", false},
		// Not YAML (yaml.v3 refuses them): declined too.
		{"a: b: c\n", false},
		{"a: b:\n", false},
		{"a: b\n  c: d\n", false},
		{"a:\n  b: c\n d: e\n", false},
		{"a: - b\n", false},
		{"a: 'b' c\n", false},
		{"a: [b\n", false},
		{"a: [b] c\n", false},
		{"a:b\n", false},
		{"a : b\n", false},
		{"a: b\n- c\n", false},
		{"a:\n  - b\n  c: d\n", false},
	} {
		name := fmt.Sprintf("%q", tc.text)
		if got := checkFastParse(t, name, []byte(tc.text)); got != tc.accept {
			t.Errorf("%s: accepted = %v, want %v", name, got, tc.accept)
		}
	}
}

// TestFastParseFiles compares fastParse with yaml.v3 on every document
// of the package's testdata, Istio's conformance corpus and generated
// workloads; most generated documents must be accepted.
func TestFastParseFiles(t *testing.T) {
	for _, root := range []string{"testdata", corpusRoot} {
		t.Run(filepath.Base(root), func(t *testing.T) {
			if _, err := os.Stat(root); err != nil {
				if os.Getenv("CI") == "true" {
					t.Fatalf("Istio's conformance corpus is missing at %s: %v", root, err)
				}
				t.Skipf("SKIPPING: Istio's conformance corpus is missing at %s (%v); check it out next to the repository", root, err)
			}
			var files []string
			err := filepath.WalkDir(root, func(path string, d fs.DirEntry, err error) error {
				if err == nil && !d.IsDir() && strings.Contains(d.Name(), ".yaml") {
					files = append(files, path)
				}
				return err
			})
			if err != nil || len(files) == 0 {
				t.Fatalf("no YAML files under %s: %v", root, err)
			}
			docs, accepted := 0, 0
			for _, f := range files {
				data, err := os.ReadFile(f)
				if err != nil {
					t.Fatal(err)
				}
				for i, raw := range cutDocuments(data) {
					docs++
					if checkFastParse(t, fmt.Sprintf("%s, document %d", f, i+1), raw) {
						accepted++
					}
				}
			}
			t.Logf("%s: fastParse accepted %d of %d documents", root, accepted, docs)
		})
	}

	var gen bytes.Buffer
	if _, err := workloadgen.Generate(&gen, workloadgen.Options{Workloads: 300}); err != nil {
		t.Fatal(err)
	}
	docs, accepted := 0, 0
	for i, raw := range cutDocuments(gen.Bytes()) {
		docs++
		if checkFastParse(t, fmt.Sprintf("generated document %d", i+1), raw) {
			accepted++
		}
	}
	t.Logf("generated: fastParse accepted %d of %d documents", accepted, docs)
	if accepted*2 < docs {
		t.Errorf("fastParse accepted only %d of %d generated documents", accepted, docs)
	}
}

const corpusRoot = "../../../shared/istio-conformance"

// cutDocuments cuts data as Split does, without parsing.
func cutDocuments(data []byte) [][]byte {
	sc := manifest.NewScanner("x", bytes.NewReader(data), manifest.Limits{})
	var out [][]byte
	for {
		docs, err := sc.Next(100)
		for _, d := range docs {
			out = append(out, d.Raw)
		}
		if err != nil {
			return out
		}
	}
}

// randomDocument writes a random document mostly of the subset, with
// the odd construct outside it.
func randomDocument(r *rand.Rand) []byte {
	scalars := []string{"a", "b c", "1", "-1", "1.5", "true", "null", "~", "", "'q'", "\"d\"", "''", "\"\"", "x:y", "x #c",
		"http://h/p", "--f", "-", "<<", "a#b", "[]", "{}", "[a, 'b']", "[ a ,b ]", "a,b", "a]", "'a''b'", "\"a\\\"b\"", "&x a", "*x",
		"!t a", "|", "a: b", "2001-12-14", "0x1F", ".5", "a  b", "a ", "? x", ":x", "%a", "@a", "{a: b}", "[a, [b]]"}
	comments := []string{"", "", "", " # c", "  #c", " #", "# c", " # c "}
	var b strings.Builder
	var block func(indent, depth int)
	line := func(indent int, s string) {
		b.WriteString(strings.Repeat(" ", indent))
		b.WriteString(s)
		if r.IntN(20) == 0 {
			b.WriteString(strings.Repeat(" ", r.IntN(3)))
		}
		b.WriteByte('\n')
		if r.IntN(15) == 0 {
			b.WriteString(strings.Repeat(" ", r.IntN(4)) + "\n")
		}
	}
	value := func() string {
		return scalars[r.IntN(len(scalars))] + comments[r.IntN(len(comments))]
	}
	block = func(indent, depth int) {
		n := 1 + r.IntN(4)
		seq := depth > 0 && r.IntN(3) == 0
		for i := 0; i < n; i++ {
			prefix := scalars[r.IntN(8)] + ":"
			if seq {
				prefix = "-"
			}
			switch k := r.IntN(6); {
			case k == 0 && depth < 4:
				line(indent, prefix)
				step := 2
				if !seq && r.IntN(3) == 0 {
					step = 0 // a sequence at its key's column
				}
				if step == 0 {
					m := 1 + r.IntN(3)
					for j := 0; j < m; j++ {
						line(indent, "- "+value())
					}
					continue
				}
				block(indent+step+r.IntN(2), depth+1)
			case k == 1 && seq:
				// A compact mapping in a sequence entry.
				line(indent, "- "+scalars[r.IntN(8)]+": "+value())
				for j := r.IntN(3); j > 0; j-- {
					line(indent+2, scalars[r.IntN(8)]+": "+value())
				}
			case k == 2:
				line(indent, prefix)
			case k == 3:
				// A literal block scalar, its lines deeper than the entry.
				line(indent, prefix+" "+[]string{"|", "|-", "|+", "| ", "|1"}[r.IntN(5)])
				in := indent + 1 + r.IntN(3)
				for j := 1 + r.IntN(4); j > 0; j-- {
					switch r.IntN(6) {
					case 0:
						b.WriteString(strings.Repeat(" ", r.IntN(in+2)) + "\n")
					case 1:
						line(in+1+r.IntN(2), value())
					default:
						line(in, value())
					}
				}
			default:
				line(indent, prefix+" "+value())
			}
		}
	}
	heads := []string{"", "", "# c\n", "# Source: x.yaml\n", "#a  \n# b\n", "\n# c\n", "# c\n\n", "  # c\n", "# c\n \n"}
	b.WriteString(heads[r.IntN(len(heads))])
	block(0, 0)
	text := []byte(b.String())
	// Now and then, a stray character anywhere.
	if r.IntN(4) == 0 && len(text) > 0 {
		i := r.IntN(len(text))
		const stray = " :-#'\"\n[]x\t"
		text = append(text[:i], append([]byte{stray[r.IntN(len(stray))]}, text[i:]...)...)
	}
	return text
}

func TestFastParseRandom(t *testing.T) {
	r := rand.New(rand.NewPCG(1, 2))
	docs, accepted := 20000, 0
	for i := 0; i < docs; i++ {
		if checkFastParse(t, fmt.Sprintf("random document %d", i), randomDocument(r)) {
			accepted++
		}
	}
	t.Logf("random: fastParse accepted %d of %d documents", accepted, docs)
	if accepted*10 < docs {
		t.Errorf("fastParse accepted only %d of %d random documents", accepted, docs)
	}
}

func FuzzFastParse(f *testing.F) {
	r := rand.New(rand.NewPCG(5, 8))
	for range 20 {
		f.Add(randomDocument(r))
	}
	f.Add([]byte("a:\n- b: c\n  d: [e, 'f']\ng: h # i\n"))
	f.Fuzz(func(t *testing.T, data []byte) {
		checkFastParse(t, "fuzz", data)
	})
}

// TestPlainTag compares plainTag with yaml.v3's resolution (ShortTag) on
// values starting with every printable character, and a few words.
func TestPlainTag(t *testing.T) {
	values := []string{"", "true", "True", "TRUE", "tRUE", "false", "FALSE", "False", "null", "Null", "NULL", "nULL", "~", "~a",
		"yes", "no", "on", "off", "y", "n", "Yes", "ON", "nginx", "tcp", "<<", ".inf", "-.Inf", "+.INF", ".nan", ".5", "1", "-1",
		"+1", "0x1F", "0o17", "0b1", "1_000", "1e3", "2001-12-14", "1.2.3", "8080", "-", "+", ".", "..."}
	for c := 0x20; c <= 0x7e; c++ {
		values = append(values, string(rune(c)), string(rune(c))+"x", string(rune(c))+"1")
	}
	for _, v := range values {
		n := &yaml.Node{Kind: yaml.ScalarNode, Value: v}
		if got, want := manifest.PlainTag(n), n.ShortTag(); got != want {
			t.Errorf("plainTag(%q) = %s, ShortTag = %s", v, got, want)
		}
	}
}

// nested is a document of depth+1 mappings, each the value of the one
// before.
func nested(depth int) string {
	var b strings.Builder
	for i := range depth {
		b.WriteString(strings.Repeat(" ", i) + "k:\n")
	}
	b.WriteString(strings.Repeat(" ", depth) + "v: 1\n")
	return b.String()
}
