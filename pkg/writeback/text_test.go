package writeback

import (
	"bytes"
	"math/rand/v2"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"sigs.k8s.io/kustomize/kyaml/yaml"
)

// encoderFor writes a document node as the manifest package does: the
// sequence indentation of the original text.
func encoderFor(raw []byte) func(*yaml.Node) ([]byte, error) {
	style := yaml.DeriveSeqIndentStyle(string(raw))
	return func(n *yaml.Node) ([]byte, error) {
		var b bytes.Buffer
		enc := yaml.NewEncoderWithOptions(&b, &yaml.EncoderOptions{SeqIndent: yaml.SequenceIndentStyle(style)})
		if err := enc.Encode(n); err != nil {
			return nil, err
		}
		if err := enc.Close(); err != nil {
			return nil, err
		}
		return b.Bytes(), nil
	}
}

// TestText splices testdata/text/<case>.edited.yaml into <case>.in.yaml;
// <case>.out.yaml is the golden. Besides, the output must read as the
// edited document, and every kept line listed must survive as written.
func TestText(t *testing.T) {
	tests := []struct {
		name string
		kept []string
	}{
		{name: "blank-lines", kept: []string{"  name: web   # aligned comment\n  namespace: demo\n\nspec:",
			"    matchLabels: \n", "        args: [serve,\n               --port=8080]\n\n      - name: side   # second"}},
		{name: "four-spaces", kept: []string{"    name: web\n    labels:\n        app: web\n", "        -   name: web\n            image: nginx\n"}},
		{name: "removal", kept: []string{"    team: payments    # owner", "# head comment\n"}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			raw, err := os.ReadFile(filepath.Join("testdata", "text", tc.name+".in.yaml"))
			if err != nil {
				t.Fatal(err)
			}
			edited := unplaced(parse(t, mustRead(t, filepath.Join("testdata", "text", tc.name+".edited.yaml"))))
			enc := encoderFor(raw)
			out, ok := Text(raw, edited, enc)
			if !ok {
				t.Fatalf("Text declined")
			}
			golden(t, filepath.Join("testdata", "text", tc.name+".out.yaml"), out)
			want, _ := enc(edited)
			got, _ := enc(parse(t, out))
			if !bytes.Equal(got, want) {
				t.Errorf("output does not read as the edited document:\n%s", lineDiff(want, got))
			}
			for _, k := range tc.kept {
				if !bytes.Contains(raw, []byte(k)) {
					t.Errorf("test bug: %q is not in the input", k)
				}
				if !bytes.Contains(out, []byte(k)) {
					t.Errorf("%q was not kept as written", k)
				}
			}
		})
	}
}

func mustRead(t *testing.T, path string) []byte {
	t.Helper()
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	return b
}

// TestTextDeclines: what Text cannot splice with certainty it leaves to
// the caller's encoder.
func TestTextDeclines(t *testing.T) {
	edited := parse(t, []byte("a: 2\n"))
	enc := encoderFor(nil)
	for name, raw := range map[string]string{
		"carriage returns": "a: 1\r\n",
		"not YAML":         "a: [\n",
	} {
		if _, ok := Text([]byte(raw), edited, enc); ok {
			t.Errorf("%s: Text did not decline", name)
		}
	}
	if out, ok := Text([]byte("a: 1\n"), nil, enc); ok || out != nil {
		t.Errorf("no edited node: Text did not decline")
	}
	// Unchanged: the text as it was.
	raw := []byte("a: 2    # two\n\n")
	if out, ok := Text(raw, parse(t, raw), enc); !ok || !bytes.Equal(out, raw) {
		t.Errorf("unchanged document came back as %q, %v", out, ok)
	}
}

// TestLCS checks the line matching on small cases against a simple
// dynamic programme's length.
func TestLCS(t *testing.T) {
	for _, tc := range []struct{ a, b string }{
		{"", ""}, {"a b c", ""}, {"", "a b"}, {"a b c", "a b c"}, {"a b c d", "a c d e"},
		{"x a b y c", "a b c"}, {"a a a b", "a b a a"}, {"p q r s t", "t s r q p"},
	} {
		a, b := strings.Fields(tc.a), strings.Fields(tc.b)
		pairs, ok := lcs(a, b)
		if !ok {
			t.Fatalf("%q %q: declined", tc.a, tc.b)
		}
		for i, p := range pairs {
			if a[p.a] != b[p.b] || (i > 0 && (p.a <= pairs[i-1].a || p.b <= pairs[i-1].b)) {
				t.Fatalf("%q %q: bad pairs %v", tc.a, tc.b, pairs)
			}
		}
		if want := lcsLength(a, b); len(pairs) != want {
			t.Errorf("%q %q: %d pairs, want %d", tc.a, tc.b, len(pairs), want)
		}
	}
}

// TestLCSRandom compares lcs with the dynamic programme on random texts
// over small alphabets, where lines the other text lacks are common.
func TestLCSRandom(t *testing.T) {
	r := rand.New(rand.NewPCG(1, 2))
	text := func(n, alphabet int) []string {
		out := make([]string, n)
		for i := range out {
			out[i] = string(rune('a' + r.IntN(alphabet)))
		}
		return out
	}
	for range 2000 {
		a, b := text(r.IntN(12), 1+r.IntN(8)), text(r.IntN(12), 1+r.IntN(8))
		pairs, ok := lcs(a, b)
		if !ok {
			t.Fatalf("%q %q: declined", a, b)
		}
		for i, p := range pairs {
			if a[p.a] != b[p.b] || (i > 0 && (p.a <= pairs[i-1].a || p.b <= pairs[i-1].b)) {
				t.Fatalf("%q %q: bad pairs %v", a, b, pairs)
			}
		}
		if want := lcsLength(a, b); len(pairs) != want {
			t.Fatalf("%q %q: %d pairs, want %d", a, b, len(pairs), want)
		}
	}
}

// TestLCSPreferring: the preferred lines kept are as many as any common
// subsequence keeps, on random texts.
func TestLCSPreferring(t *testing.T) {
	r := rand.New(rand.NewPCG(3, 4))
	for range 2000 {
		n, m := r.IntN(12), r.IntN(12)
		a, b := make([]string, n), make([]string, m)
		prefer := make([]bool, n)
		for i := range a {
			a[i] = string(rune('a' + r.IntN(4)))
			prefer[i] = r.IntN(3) == 0
		}
		for i := range b {
			b[i] = string(rune('a' + r.IntN(4)))
		}
		pairs, ok := lcsPreferring(a, b, prefer)
		if !ok {
			t.Fatalf("%q %q: declined", a, b)
		}
		kept := 0
		for i, p := range pairs {
			if a[p.a] != b[p.b] || (i > 0 && (p.a <= pairs[i-1].a || p.b <= pairs[i-1].b)) {
				t.Fatalf("%q %q: bad pairs %v", a, b, pairs)
			}
			if prefer[p.a] {
				kept++
			}
		}
		// The most preferred lines a common subsequence can keep.
		dp := make([][]int, n+1)
		for i := range dp {
			dp[i] = make([]int, m+1)
		}
		for i := n - 1; i >= 0; i-- {
			for j := m - 1; j >= 0; j-- {
				dp[i][j] = max(dp[i+1][j], dp[i][j+1])
				if a[i] == b[j] {
					w := 0
					if prefer[i] {
						w = 1
					}
					dp[i][j] = max(dp[i][j], dp[i+1][j+1]+w)
				}
			}
		}
		if kept != dp[0][0] {
			t.Fatalf("%q %q %v: %d preferred lines kept, %d can be", a, b, prefer, kept, dp[0][0])
		}
	}
}

func lcsLength(a, b []string) int {
	dp := make([][]int, len(a)+1)
	for i := range dp {
		dp[i] = make([]int, len(b)+1)
	}
	for i := len(a) - 1; i >= 0; i-- {
		for j := len(b) - 1; j >= 0; j-- {
			if a[i] == b[j] {
				dp[i][j] = dp[i+1][j+1] + 1
			} else {
				dp[i][j] = max(dp[i+1][j], dp[i][j+1])
			}
		}
	}
	return dp[0][0]
}

// TestSplice checks which way Splice makes its result, on small cases of
// each.
func TestSplice(t *testing.T) {
	tests := []struct {
		name, raw, edited string
		// edit, when set, edits raw's own nodes instead.
		edit func(root *yaml.Node)
		want How
		out  string
	}{
		{name: "edit encodes alike", raw: "a:   1   # one\n\nb: 2\n", edited: "a: 1 # one\nb: 2\n", want: Unchanged,
			out: "a:   1   # one\n\nb: 2\n"},
		{name: "only additions", raw: "a: 1\nb: 2\n", edited: "a: 1\nc: 3\nb: 2\nd: [4]\n", want: AllLines,
			out: "a: 1\nc: 3\nb: 2\nd: [4]\n"},
		// What the edit changed is all that differs.
		{name: "changes", raw: "a: 1\nb:\n- 2\n", edited: "a: 1\nb:\n- 3\n", want: AllLines, out: "a: 1\nb:\n- 3\n"},
		{name: "changes written by hand", raw: "a:    1\nb:\n- 2\n", edited: "a: 5\nb:\n- 2\n- 3\n", want: AllLines,
			out: "a: 5\nb:\n- 2\n- 3\n"},
		// A comment of a collection changed: which lines that changes is
		// not told, but the original is the encoder's own text.
		{name: "encoder's text", raw: "a:\n  b: 1 # one\n", edited: "a: # new\n  b: 1 # one\n", want: Canonical,
			out: "a: # new\n  b: 1 # one\n"},
		{name: "hand-written", raw: "a:   1\n\nb:\n    - 2    # two\n", edited: "a: 1\nb:\n- 3 # two\n- 4\n", want: Spliced,
			out: "a:   1\n\nb:\n    - 3 # two\n    - 4\n"},
		// The edit moves a long block of the encoder's text before a short
		// one of the user's: the user's keeps its place and its layout.
		{name: "moved block", raw: "a:\n- |\n    user's\n    own\nb:\n- x\n- y\n- z\n- w\n",
			edited: "b:\n- x\n- y\n- z\n- w\na:\n- |\n  user's\n  own\n", want: Spliced,
			out: "b:\n- x\n- y\n- z\n- w\na:\n- |\n    user's\n    own\n"},
		// The edit moves a long item of the user's to another list, across
		// a short one that stays: the one that stays keeps its text, the
		// moved one is written anew (its nodes say where they were read).
		{name: "moved item", raw: "init:\n    - name: a\nmain:\n    - name: b\n    # p's\n    - name: p\n      big: 1\n      more: 2\n      lines: 3\n",
			edit: func(root *yaml.Node) {
				p := root.Content[3].Content[1]
				root.Content[3].Content = root.Content[3].Content[:1]
				root.Content[1].Content = append([]*yaml.Node{p}, root.Content[1].Content...)
			},
			want: Spliced, out: "init:\n    # p's\n    - name: p\n      big: 1\n      more: 2\n      lines: 3\n    - name: a\nmain:\n    - name: b\n"},
		// A line rewritten next to a block removed whole, which raw
		// indents otherwise: the line is indented as its own block is.
		{name: "next to a removed block", raw: "items:\n    - name: a\n      probe:\n          path: /new\n    - name: b\n      env:\n        - name: X\n          value: y\n",
			edited: "items:\n- name: a\n  probe:\n    path: /old\n", want: Spliced,
			out: "items:\n    - name: a\n      probe:\n          path: /old\n"},
		{name: "carriage returns", raw: "a: 1\r\n", edited: "a: 2\n", want: Declined},
		{name: "not YAML", raw: "a: [\n", edited: "a: 2\n", want: Declined},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			enc := encoderFor([]byte(tc.raw))
			var edited *yaml.Node
			if tc.edit != nil {
				edited = parse(t, []byte(tc.raw))
				tc.edit(edited.Content[0])
			} else {
				edited = unplaced(parse(t, []byte(tc.edited)))
			}
			e1, err := enc(edited)
			if err != nil {
				t.Fatal(err)
			}
			out, how := Splice([]byte(tc.raw), nil, edited, e1, enc)
			if how != tc.want {
				t.Errorf("made %s, want %s", how, tc.want)
			}
			if string(out) != tc.out {
				t.Errorf("got %q, want %q", out, tc.out)
			}
			if how == Declined {
				return
			}
			if got, _ := enc(parse(t, out)); !bytes.Equal(got, e1) {
				t.Errorf("%q does not read as the edited document", out)
			}
		})
	}
	if _, how := Splice([]byte("a: 1\n"), nil, nil, []byte("a: 2\n"), encoderFor(nil)); how != Declined {
		t.Errorf("no edited node: made %s", how)
	}
}

// unplaced forgets where a document's nodes were read: they were not
// read from the text they are spliced into.
func unplaced(n *yaml.Node) *yaml.Node {
	n.Line, n.Column = 0, 0
	for _, c := range n.Content {
		unplaced(c)
	}
	return n
}

// TestCanonicalSplice holds Splice's fast paths to the splice they skip:
// when the original text is the encoder's own, splicing the edit into it
// gives the edited encoding itself, and the check passes. The pairs are
// the package's documents before and after an edit, each written in the
// encoder's text first.
func TestCanonicalSplice(t *testing.T) {
	var pairs [][2]string
	for _, glob := range []string{"text/*.in.yaml", "pod/*.in.yaml"} {
		ins, err := filepath.Glob(filepath.Join("testdata", glob))
		if err != nil {
			t.Fatal(err)
		}
		for _, in := range ins {
			for _, suffix := range []string{".edited.yaml", ".out.yaml"} {
				after := strings.TrimSuffix(in, ".in.yaml") + suffix
				if _, err := os.Stat(after); err == nil {
					pairs = append(pairs, [2]string{in, after})
				}
			}
		}
	}
	if len(pairs) < 10 {
		t.Fatalf("only %d pairs of documents in testdata", len(pairs))
	}
	spliced := 0
	for _, p := range pairs {
		t.Run(filepath.Base(p[1]), func(t *testing.T) {
			source := mustRead(t, p[0])
			enc := encoderFor(source)
			raw, err := enc(parse(t, source))
			if err != nil {
				t.Fatal(err)
			}
			if again, _ := enc(parse(t, raw)); !bytes.Equal(again, raw) {
				t.Skipf("the encoder does not read its own text back the same")
			}
			edited := unplaced(parse(t, mustRead(t, p[1])))
			e1, err := enc(edited)
			if err != nil {
				t.Fatal(err)
			}
			if bytes.Equal(raw, e1) {
				return // no edit
			}
			lines, final := splitLines(raw)
			out, ok := spliceText(lines, final, parse(t, raw), raw, edited, e1, true, enc)
			if !ok {
				t.Fatalf("the splice declined")
			}
			spliced++
			if !bytes.Equal(out, e1) {
				t.Errorf("the splice differs from the edited encoding:\n%s", lineDiff(e1, out))
			}
			if got, how := Splice(raw, nil, edited, e1, enc); !bytes.Equal(got, e1) || (how != Canonical && how != AllLines) {
				t.Errorf("Splice made %s", how)
			}
		})
	}
	if spliced == 0 {
		t.Errorf("no pair was spliced")
	}
}

// TestHoldsLines checks holdsLines against every way of picking lines.
func TestHoldsLines(t *testing.T) {
	text := "a\nb\n\na\nc\n"
	lines := strings.SplitAfter(text, "\n")
	lines = lines[:len(lines)-1]
	// Every subsequence of text's lines is held, with or without its
	// final newline.
	for mask := 0; mask < 1<<len(lines); mask++ {
		var sub string
		for i, l := range lines {
			if mask&(1<<i) != 0 {
				sub += l
			}
		}
		for _, s := range []string{sub, strings.TrimSuffix(sub, "\n")} {
			if !holdsLines([]byte(text), []byte(s), nil) {
				t.Errorf("%q not found in %q", s, text)
			}
		}
	}
	for _, sub := range []string{"c\na\n", "a\na\na\n", "b\nb\n", "d\n", "a \n", "\n\n"} {
		if holdsLines([]byte(text), []byte(sub), nil) {
			t.Errorf("%q found in %q", sub, text)
		}
	}
}

// TestSameNodes: nodes sameNodes takes for the same encode the same, and
// a change of any field the encoder reads makes them differ.
func TestSameNodes(t *testing.T) {
	text := []byte("# head\na: &x {b: 'c'} # line\nd:\n- *x\n- !!str 1\n- |\n  lit\ne: []\n# foot\n")
	base := parse(t, text)
	if !sameNodes(base, parse(t, text), 0) {
		t.Fatalf("a document differs from itself")
	}
	enc := encoderFor(text)
	want, _ := enc(base)
	// An empty collection is "{}" or "[]" in either style.
	block := parse(t, text)
	block.Content[0].Content[5].Style = 0
	if !sameNodes(base, block, 0) {
		t.Errorf("an empty list in block style differs")
	}
	if got, _ := enc(block); !bytes.Equal(got, want) {
		t.Errorf("an empty list in block style encodes differently:\n%s", got)
	}
	// The first node of a document with the comment, for the edits.
	withComment := func(n *yaml.Node, get func(*yaml.Node) *string) *string {
		var found *string
		var walk func(n *yaml.Node)
		walk = func(n *yaml.Node) {
			if found == nil && *get(n) != "" {
				found = get(n)
			}
			for _, c := range n.Content {
				walk(c)
			}
		}
		walk(n)
		if found == nil {
			t.Fatalf("test bug: no such comment")
		}
		return found
	}
	edits := map[string]func(doc *yaml.Node){
		"kind":  func(d *yaml.Node) { d.Content[0].Content[1].Kind = yaml.SequenceNode },
		"tag":   func(d *yaml.Node) { d.Content[0].Content[3].Content[1].Tag = "!!int" },
		"style": func(d *yaml.Node) { d.Content[0].Content[1].Style = 0 },
		"value": func(d *yaml.Node) { d.Content[0].Content[1].Content[1].Value = "C" },
		"anchor": func(d *yaml.Node) {
			d.Content[0].Content[1].Anchor = "y"
		},
		"alias": func(d *yaml.Node) { d.Content[0].Content[3].Content[0].Value = "y" },
		"head comment": func(d *yaml.Node) {
			*withComment(d, func(n *yaml.Node) *string { return &n.HeadComment }) = "# other"
		},
		"line comment": func(d *yaml.Node) {
			*withComment(d, func(n *yaml.Node) *string { return &n.LineComment }) = ""
		},
		"foot comment": func(d *yaml.Node) {
			*withComment(d, func(n *yaml.Node) *string { return &n.FootComment }) = ""
		},
		"content": func(d *yaml.Node) { d.Content[0].Content[3].Content = d.Content[0].Content[3].Content[:2] },
	}
	for name, edit := range edits {
		n := parse(t, text)
		edit(n)
		if sameNodes(base, n, 0) {
			t.Errorf("%s: a change went unnoticed", name)
		}
		if got, _ := enc(n); bytes.Equal(got, want) {
			t.Errorf("test bug: %s encodes alike", name)
		}
	}
}

// TestEditedLines: the lines of raw that what the edit changed spans, or
// that it cannot tell. Edits are made on raw's own nodes, as the
// manifest package makes them.
func TestEditedLines(t *testing.T) {
	raw := "a: 1\nb:\n  # c's\n  c: [x, y]\n  d: 2\ne:\n  - name: f\n    v: 1\n  - name: g\n    v: 2\n" +
		"h: |\n  text\n  more\ni: 3\n"
	tests := []struct {
		name string
		edit func(root *yaml.Node)
		// want are the changed lines, from 1; nil: cannot tell.
		want []int
	}{
		{name: "nothing", edit: func(*yaml.Node) {}, want: []int{}},
		{name: "scalar", edit: func(r *yaml.Node) { r.Content[1].Value = "9" }, want: []int{1}},
		{name: "added key", edit: func(r *yaml.Node) {
			r.Content = append(r.Content, &yaml.Node{Kind: yaml.ScalarNode, Value: "z"}, &yaml.Node{Kind: yaml.ScalarNode, Value: "0"})
		}, want: []int{}},
		{name: "removed key with its comment", edit: func(r *yaml.Node) {
			b := r.Content[3]
			b.Content = b.Content[2:]
		}, want: []int{3, 4}},
		{name: "flow list", edit: func(r *yaml.Node) {
			c := r.Content[3].Content[1]
			c.Content = append(c.Content, &yaml.Node{Kind: yaml.ScalarNode, Value: "z"})
		}, want: []int{4}},
		{name: "list element by name", edit: func(r *yaml.Node) {
			e := r.Content[5]
			e.Content = e.Content[1:]
		}, want: []int{7, 8}},
		{name: "list emptied", edit: func(r *yaml.Node) { r.Content[5].Content = nil }, want: []int{6, 7, 8, 9, 10}},
		{name: "literal", edit: func(r *yaml.Node) { r.Content[7].Value = "other\n" }, want: []int{11, 12, 13}},
		{name: "moved element", edit: func(r *yaml.Node) {
			e := r.Content[5]
			e.Content[0], e.Content[1] = e.Content[1], e.Content[0]
		}},
		{name: "comment of a collection", edit: func(r *yaml.Node) { r.Content[2].LineComment = "# b" }},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			orig, edited := parse(t, []byte(raw)), parse(t, []byte(raw))
			tc.edit(edited.Content[0])
			lines, _ := splitLines([]byte(raw))
			marks, ok := editedLines(orig, edited, lines)
			if tc.want == nil {
				if ok {
					t.Fatalf("told %v", marks)
				}
				return
			}
			if !ok {
				t.Fatalf("cannot tell")
			}
			got := []int{}
			for i, m := range marks {
				if m {
					got = append(got, i+1)
				}
			}
			if !slices.Equal(got, tc.want) {
				t.Errorf("lines %v, want %v", got, tc.want)
			}
		})
	}
}

// FuzzSplice edits arbitrary documents in place and checks Splice's
// result: a spliced text reads as the edit; the fast paths' (the edited
// encoding) keeps every line of the original that the splice itself
// would keep but those of nodes the edit changed, and on the encoder's
// own text it is what the splice gives.
func FuzzSplice(f *testing.F) {
	for _, glob := range []string{"text/*.in.yaml", "pod/*.in.yaml"} {
		files, _ := filepath.Glob(filepath.Join("testdata", glob))
		for _, name := range files {
			b, err := os.ReadFile(name)
			if err != nil {
				f.Fatal(err)
			}
			for edit := range byte(5) {
				f.Add(b, edit)
			}
		}
	}
	f.Fuzz(func(t *testing.T, raw []byte, edit byte) {
		var orig, edited yaml.Node
		if yaml.Unmarshal(raw, &orig) != nil || yaml.Unmarshal(raw, &edited) != nil ||
			len(edited.Content) != 1 || edited.Content[0].Kind != yaml.MappingNode || len(edited.Content[0].Content) < 2 {
			return
		}
		root := edited.Content[0]
		switch edit % 5 {
		case 0: // a scalar value changed
			for i := 1; i < len(root.Content); i += 2 {
				if root.Content[i].Kind == yaml.ScalarNode {
					root.Content[i].Value += "-changed"
					break
				}
			}
		case 1: // a key added
			root.Content = append(root.Content, &yaml.Node{Kind: yaml.ScalarNode, Value: "zz-added"},
				&yaml.Node{Kind: yaml.ScalarNode, Value: "1"})
		case 2: // the first key removed
			root.Content = root.Content[2:]
		case 3: // an element added to the first list
			for i := 1; i < len(root.Content); i += 2 {
				if root.Content[i].Kind == yaml.SequenceNode {
					root.Content[i].Content = append(root.Content[i].Content, &yaml.Node{Kind: yaml.ScalarNode, Value: "added"})
					break
				}
			}
		default: // the first key moved last
			root.Content = append(root.Content[2:], root.Content[:2]...)
		}
		enc := encoderFor(raw)
		e1, err := enc(&edited)
		if err != nil {
			return
		}
		out, how := Splice(raw, &orig, &edited, e1, enc)
		switch how {
		case Spliced:
			if got, err := enc(parse(t, out)); err != nil || !bytes.Equal(got, e1) {
				t.Fatalf("spliced text does not read as the edit:\n%s", out)
			}
		case AllLines, Canonical:
			if !bytes.Equal(out, e1) {
				t.Fatalf("%s is not the edited encoding", how)
			}
			e0, err := enc(&orig)
			if err != nil {
				return
			}
			rawLines, final := splitLines(raw)
			forced, ok := spliceText(rawLines, final, &orig, e0, &edited, e1, true, enc)
			if !ok {
				return
			}
			fl, _ := splitLines(forced)
			el, _ := splitLines(e1)
			count := func(lines []string) map[string]int {
				m := map[string]int{}
				for _, l := range lines {
					m[l]++
				}
				return m
			}
			if how == Canonical && !bytes.Equal(forced, e1) {
				t.Fatalf("the splice of the encoder's own text is not the edited encoding:\n%s\nwant\n%s", forced, e1)
			}
			// Lines the edited encoding lacks and the splice keeps must be
			// lines of nodes the edit changed.
			changed := map[string]int{}
			if marks, told := editedLines(&orig, &edited, rawLines); told {
				for i, m := range marks {
					if m {
						changed[rawLines[i]]++
					}
				}
			}
			inRaw, inForced, inE1 := count(rawLines), count(fl), count(el)
			for l, n := range inRaw {
				if lost := min(n, inForced[l]) - min(n, inE1[l]); lost > changed[l] {
					t.Fatalf("%s: the splice keeps %q, the edited encoding does not:\nraw:\n%s\nspliced:\n%s\nencoded:\n%s",
						how, l, raw, forced, e1)
				}
			}
		}
	})
}
