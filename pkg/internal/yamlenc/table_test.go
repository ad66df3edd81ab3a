package yamlenc_test

import (
	"bufio"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"

	"sigs.k8s.io/kustomize/kyaml/yaml"

	"github.com/inject-sidecar/inject-sidecar/pkg/internal/yamlenc"
)

// TestCases compares every document of testdata/cases, as parsed and with
// FuzzEncode's mutations, with kyaml's encoder. Files not named decline-*
// must be accepted as parsed.
func TestCases(t *testing.T) {
	files, err := filepath.Glob(filepath.Join("testdata", "cases", "*.yaml"))
	if err != nil || len(files) == 0 {
		t.Fatalf("no cases: %v", err)
	}
	for _, file := range files {
		name := filepath.Base(file)
		t.Run(name, func(t *testing.T) {
			data, err := os.ReadFile(file)
			if err != nil {
				t.Fatal(err)
			}
			for mut := range uint8(1 << 5) {
				docs, err := decodeAll(data)
				if err != nil || len(docs) == 0 {
					t.Fatalf("parsing: %v", err)
				}
				for _, doc := range docs {
					mutate(doc, mut, 0)
					for _, style := range styles {
						accepted := compare(t, name, doc, style)
						if mut == 0 && !accepted && !strings.HasPrefix(name, "decline-") {
							t.Errorf("%s (%s): declined", name, style)
						}
					}
				}
			}
		})
	}
}

// scalarValues reads testdata/scalars.txt: one Go-quoted value per line.
func scalarValues(t *testing.T) []string {
	f, err := os.Open(filepath.Join("testdata", "scalars.txt"))
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	var values []string
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		line := sc.Text()
		if line == "" || strings.HasPrefix(line, "#") {
			continue
		}
		v, err := strconv.Unquote(line)
		if err != nil {
			t.Fatalf("testdata/scalars.txt: %q: %v", line, err)
		}
		values = append(values, v)
	}
	if err := sc.Err(); err != nil {
		t.Fatal(err)
	}
	return values
}

func scalar(value, tag string, style yaml.Style) *yaml.Node {
	return &yaml.Node{Kind: yaml.ScalarNode, Value: value, Tag: tag, Style: style}
}

func mapping(style yaml.Style, kv ...*yaml.Node) *yaml.Node {
	return &yaml.Node{Kind: yaml.MappingNode, Tag: "!!map", Style: style, Content: kv}
}

func sequence(style yaml.Style, items ...*yaml.Node) *yaml.Node {
	return &yaml.Node{Kind: yaml.SequenceNode, Tag: "!!seq", Style: style, Content: items}
}

func document(root *yaml.Node) *yaml.Node {
	return &yaml.Node{Kind: yaml.DocumentNode, Content: []*yaml.Node{root}}
}

// positions place a scalar everywhere the emitter treats differently.
var positions = []struct {
	name  string
	place func(s *yaml.Node) *yaml.Node
}{
	{"root", func(s *yaml.Node) *yaml.Node { return s }},
	{"value", func(s *yaml.Node) *yaml.Node {
		return mapping(0, scalar("k", "", 0), s, scalar("next", "", 0), scalar("v", "", 0))
	}},
	{"key", func(s *yaml.Node) *yaml.Node {
		return mapping(0, scalar("k", "", 0), mapping(0, s, scalar("v", "", 0), scalar("next", "", 0), scalar("v", "", 0)))
	}},
	{"seq item", func(s *yaml.Node) *yaml.Node {
		return mapping(0, scalar("k", "", 0), sequence(0, s, s), scalar("next", "", 0), scalar("v", "", 0))
	}},
	{"nested seq item", func(s *yaml.Node) *yaml.Node {
		return sequence(0, sequence(0, s), mapping(0, scalar("k", "", 0), s))
	}},
	{"flow seq item", func(s *yaml.Node) *yaml.Node {
		return mapping(0, scalar("k", "", 0), sequence(yaml.FlowStyle, s, s))
	}},
	{"flow mapping", func(s *yaml.Node) *yaml.Node {
		return mapping(0, scalar("k", "", 0), mapping(yaml.FlowStyle, s, s, scalar("x", "", 0), s))
	}},
}

// TestScalars writes each value of testdata/scalars.txt in every style,
// with every tag and in every position, and compares with kyaml's encoder.
// Untagged and !!str style-0 values (what injection produces) must be
// accepted everywhere but as complex keys.
func TestScalars(t *testing.T) {
	tags := []string{"", "!!str", "tag:yaml.org,2002:str", "!!int", "!!bool", "!!null", "!!float", "!!timestamp", "!!merge", "!custom"}
	nodeStyles := []yaml.Style{0, yaml.DoubleQuotedStyle, yaml.SingleQuotedStyle, yaml.LiteralStyle, yaml.FoldedStyle, yaml.FlowStyle, yaml.TaggedStyle}
	var total, accepted int
	for _, value := range scalarValues(t) {
		for _, tag := range tags {
			for _, st := range nodeStyles {
				for _, pos := range positions {
					for _, seq := range styles {
						doc := document(pos.place(scalar(value, tag, st)))
						ok := compare(t, pos.name+" "+strconv.Quote(value)+" "+tag, doc, seq)
						total++
						if ok {
							accepted++
						}
						mustAccept := (tag == "" || tag == "!!str") && st == 0 &&
							!((pos.name == "key" || pos.name == "flow mapping") && (len(value) > 128 || strings.ContainsAny(value, "\n\r\u0085\u2028\u2029")))
						if mustAccept && !ok {
							t.Errorf("%s %q tag %q (%s): declined", pos.name, value, tag, seq)
						}
					}
				}
			}
		}
	}
	t.Logf("accepted %d of %d scalar cases", accepted, total)
}

// TestDeclines lists nodes Encode must decline: what it does not
// reproduce, and what kyaml's encoder rejects.
func TestDeclines(t *testing.T) {
	alias := &yaml.Node{Kind: yaml.AliasNode, Value: "x"}
	for _, tc := range []struct {
		name string
		doc  *yaml.Node
	}{
		{"nil", nil},
		{"not a document", mapping(0)},
		{"empty document", &yaml.Node{Kind: yaml.DocumentNode}},
		{"head comment", document(&yaml.Node{Kind: yaml.MappingNode, HeadComment: "# c"})},
		{"document foot comment", &yaml.Node{Kind: yaml.DocumentNode, FootComment: "# c", Content: []*yaml.Node{mapping(0)}}},
		{"value head comment", document(mapping(0, scalar("a", "", 0), &yaml.Node{Kind: yaml.ScalarNode, Value: "b", HeadComment: "# c"}))},
		{"anchor", document(&yaml.Node{Kind: yaml.MappingNode, Anchor: "x"})},
		{"alias", document(mapping(0, scalar("a", "", 0), alias))},
		{"odd mapping", document(mapping(0, scalar("a", "", 0)))},
		{"zero node", document(mapping(0, scalar("a", "", 0), &yaml.Node{}))},
		{"invalid utf-8", document(mapping(0, scalar("a", "", 0), scalar("\xff", "", 0)))},
		{"custom tag", document(mapping(0, scalar("a", "", 0), scalar("b", "!x", 0)))},
		{"mismatched tag", document(mapping(0, scalar("a", "", 0), scalar("b", "!!int", 0)))},
		{"folded", document(mapping(0, scalar("a", "", 0), scalar("b", "", yaml.FoldedStyle)))},
		{"sequence key", document(mapping(0, sequence(0, scalar("a", "", 0)), scalar("b", "", 0)))},
		{"long key", document(mapping(0, scalar(strings.Repeat("k", 129), "", 0), scalar("b", "", 0)))},
		{"nil value", document(mapping(0, scalar("a", "", 0), nil))},
		{"nil key", document(mapping(0, nil, scalar("a", "", 0)))},
		{"nil item", document(sequence(0, nil))},
		{"multi-line key", document(mapping(0, scalar("a\nb", "", 0), scalar("b", "", 0)))},
	} {
		for _, style := range styles {
			if out, ok := yamlenc.Encode(tc.doc, style); ok {
				t.Errorf("%s (%s): accepted, wrote %q", tc.name, style, out)
			}
			// Append has no separate check pass: it must decline alone.
			if out, ok := yamlenc.Append([]byte("x"), tc.doc, style); ok || string(out) != "x" {
				t.Errorf("%s (%s): Append: %v, wrote %q", tc.name, style, ok, out)
			}
		}
	}
	// A cycle is declined, not followed forever.
	loop := mapping(0, scalar("a", "", 0))
	loop.Content = append(loop.Content, loop)
	if _, ok := yamlenc.Encode(document(loop), yaml.WideSequenceStyle); ok {
		t.Error("cycle: accepted")
	}
}

// TestUntaggedMerge checks that AppendUntaggedMerge accepts parsed merge
// keys, which Append declines for their !!merge tag, and writes them as
// kyaml's encoder writes them untagged (compare checks the bytes).
func TestUntaggedMerge(t *testing.T) {
	data, err := os.ReadFile(filepath.Join("testdata", "cases", "decline-merge-keys.yaml"))
	if err != nil {
		t.Fatal(err)
	}
	docs, err := decodeAll(data)
	if err != nil || len(docs) != 2 {
		t.Fatalf("parsing: %d documents, %v", len(docs), err)
	}
	for i, doc := range docs {
		for _, style := range styles {
			if _, ok := yamlenc.Append(nil, doc, style); ok {
				t.Errorf("document %d (%s): Append accepted tagged merge keys", i, style)
			}
			out, ok := yamlenc.AppendUntaggedMerge(nil, doc, style)
			if !ok {
				t.Errorf("document %d (%s): AppendUntaggedMerge declined", i, style)
			}
			if strings.Contains(string(out), "!!merge <<") {
				t.Errorf("document %d (%s): wrote a merge tag:\n%s", i, style, out)
			}
			compare(t, "merge keys", doc, style)
		}
	}
}
