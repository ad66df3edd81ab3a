package manifest

import (
	"bytes"
	"fmt"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"sigs.k8s.io/kustomize/kyaml/yaml"

	"github.com/inject-sidecar/inject-sidecar/pkg/writeback"
)

// spliceEdits are the changes TestSplice makes to a document's object.
var spliceEdits = map[string]func(*yaml.RNode) error{
	"add-label": func(n *yaml.RNode) error {
		return n.PipeE(yaml.SetLabel("security.istio.io/tlsMode", "istio"))
	},
	"change-label": func(n *yaml.RNode) error {
		return n.PipeE(yaml.SetLabel("app", "web-v2"))
	},
	"add-container": func(n *yaml.RNode) error {
		list, err := n.Pipe(yaml.Lookup("spec", "template", "spec", "containers"))
		if err != nil || list == nil {
			return fmt.Errorf("no containers: %v", err)
		}
		c, err := yaml.Parse("name: istio-proxy\nimage: proxyv2:1.27\nports:\n- containerPort: 15090\n  name: http-envoy-prom\n")
		if err != nil {
			return err
		}
		return list.PipeE(yaml.Append(c.YNode()))
	},
	"comment-labels": func(n *yaml.RNode) error {
		m, err := n.Pipe(yaml.Lookup("metadata"))
		if err != nil || m == nil {
			return fmt.Errorf("no metadata: %v", err)
		}
		for i := 0; i+1 < len(m.YNode().Content); i += 2 {
			if k := m.YNode().Content[i]; k.Value == "labels" {
				k.LineComment = "# set by the platform"
				return nil
			}
		}
		return fmt.Errorf("no labels")
	},
	// The tag of a plain string can go without changing a byte.
	"untag-name": func(n *yaml.RNode) error {
		v, err := n.Pipe(yaml.Lookup("metadata", "name"))
		if err != nil || v == nil {
			return fmt.Errorf("no name: %v", err)
		}
		v.YNode().Tag = ""
		return nil
	},
	// New nodes, which say nothing of where the old ones were.
	"reverse-items": func(n *yaml.RNode) error {
		list, err := n.Pipe(yaml.Lookup("items"))
		if err != nil || list == nil {
			return fmt.Errorf("no items: %v", err)
		}
		items := list.YNode().Content
		for i, e := range items {
			items[i] = &yaml.Node{Kind: e.Kind, Tag: e.Tag, Value: e.Value}
		}
		slices.Reverse(items)
		return nil
	},
}

// longList is a document whose items, reversed, differ from it by more
// lines than the splice matches.
func longList() []byte {
	var b strings.Builder
	b.WriteString("kind: List\n\nitems:\n")
	for i := range 1600 {
		fmt.Fprintf(&b, "- item-%d\n", i)
	}
	return []byte(b.String())
}

// TestSplice writes a changed document of testdata/splice/<file> (or of
// text) and checks which way its text was made, the text itself (the
// golden <name>.out.yaml), that it reads as the whole document encoded
// again does, and that the user's lines listed in kept survive as
// written.
func TestSplice(t *testing.T) {
	tests := []struct {
		name, file string
		text       []byte
		edits      []string
		want       writeback.How
		kept       []string
	}{
		// The edited encoding holds every line the edit did not change:
		// it is the result without matching lines or checking.
		{name: "canonical-change", file: "canonical.yaml", edits: []string{"change-label"}, want: writeback.AllLines},
		{name: "canonical-add", file: "canonical.yaml", edits: []string{"add-label", "add-container"}, want: writeback.AllLines},
		// The encoder's own text, where which lines the edit changed is
		// not told (a comment on a collection): the same.
		{name: "canonical-comment", file: "canonical.yaml", edits: []string{"comment-labels", "change-label"}, want: writeback.Canonical},
		// Written by hand: blank lines, trailing spaces, four-space
		// indentation, the spacing of comments, a flow list over two lines.
		{name: "hand-written", file: "hand-written.yaml", edits: []string{"add-label", "change-label", "add-container"},
			want: writeback.Spliced, kept: []string{
				"# The web front end.\napiVersion: apps/v1\nkind: Deployment\nmetadata:\n    name: web     # the name\n    labels:\n",
				"\nspec:\n    replicas: 2   \n    template:\n        spec:\n            containers:\n              - name: web\n",
				"                args: [serve,\n                       --port=8080]\n\n              - name: cache\n                image: redis:7\n",
			}},
		{name: "no-final-newline", file: "no-final-newline.yaml", edits: []string{"add-container"},
			want: writeback.Spliced, kept: []string{"    replicas: 2   \n", "args: [serve,\n                       --port=8080]\n\n"}},
		// Carriage returns: the splice declines; the whole document is
		// encoded, with the original's line endings.
		{name: "crlf", file: "crlf.yaml", edits: []string{"add-container"}, want: writeback.Declined},
		{name: "encodes-alike", file: "encodes-alike.yaml", edits: []string{"untag-name"}, want: writeback.Unchanged,
			kept: []string{"    name:    settings\n\ndata:\n"}},
		// Too different from the original to match line by line.
		{name: "too-different", text: longList(), edits: []string{"reverse-items"}, want: writeback.Declined},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			raw := tc.text
			if tc.file != "" {
				raw = read(t, filepath.Join("testdata", "splice", tc.file))
			}
			docs, err := Split(tc.name, raw)
			if err != nil {
				t.Fatal(err)
			}
			if len(docs) != 1 || docs[0].Node == nil {
				t.Fatalf("test bug: want one object, got %d documents", len(docs))
			}
			// With the original nodes kept, and without.
			kept, err := Split(tc.name, raw)
			if err != nil {
				t.Fatal(err)
			}
			KeepOriginals(kept)
			d := docs[0]
			for _, e := range tc.edits {
				for _, n := range []*yaml.RNode{d.Node, kept[0].Node} {
					if err := spliceEdits[e](n); err != nil {
						t.Fatalf("%s: %v", e, err)
					}
				}
			}
			out, how, err := d.encodeText()
			if err != nil {
				t.Fatal(err)
			}
			if how != tc.want {
				t.Errorf("made %s, want %s", how, tc.want)
			}
			if out2, how2, err := kept[0].encodeText(); err != nil || how2 != how || !bytes.Equal(out2, out) {
				t.Errorf("with the original nodes kept: made %s (%v):\n%s", how2, err, out2)
			}
			// Write writes the same.
			var w bytes.Buffer
			if err := Write(&w, docs, func(*Document) bool { return true }); err != nil {
				t.Fatal(err)
			}
			if !bytes.Equal(w.Bytes(), out) {
				t.Errorf("Write wrote\n%q\nwant\n%q", w.Bytes(), out)
			}
			if tc.file != "" {
				golden(t, filepath.Join("testdata", "splice", tc.name+".out.yaml"), out)
			}
			enc := d.encoder()
			whole, err := enc(d.doc)
			if err != nil {
				t.Fatal(err)
			}
			switch tc.want {
			case writeback.Unchanged:
				if !bytes.Equal(out, raw) {
					t.Errorf("not the original text:\n%s", out)
				}
			case writeback.Spliced:
				if bytes.Equal(out, whole) {
					t.Errorf("spliced text is the whole encoding")
				}
			default:
				if !bytes.Equal(out, whole) {
					t.Errorf("not the whole encoding:\n%s\nwant\n%s", out, whole)
				}
			}
			var back yaml.Node
			if err := yaml.Unmarshal(out, &back); err != nil {
				t.Fatalf("the text does not parse: %v\n%s", err, out)
			}
			if again, err := enc(&back); err != nil || !bytes.Equal(again, whole) {
				t.Errorf("the text does not read as the whole encoding (%v):\n%s\nwant\n%s", err, again, whole)
			}
			for _, k := range tc.kept {
				if !bytes.Contains(raw, []byte(k)) {
					t.Errorf("test bug: %q is not in the input", k)
				}
				if !bytes.Contains(out, []byte(k)) {
					t.Errorf("%q was not kept as written:\n%s", k, out)
				}
			}
			if bytes.HasSuffix(raw, []byte("\n")) != bytes.HasSuffix(out, []byte("\n")) {
				t.Errorf("final newline not kept")
			}
			if crlf := bytes.Contains(raw, []byte("\r\n")); crlf && bytes.Count(out, []byte("\n")) != bytes.Count(out, []byte("\r\n")) {
				t.Errorf("line endings not kept:\n%q", out)
			}
		})
	}
}

// TestKeepOriginals: the copy is the document as read, node for node and
// position for position, aliases included, and editing the document
// leaves it alone.
func TestKeepOriginals(t *testing.T) {
	raw := []byte("# head\na: &x {b: 'c'} # line\nd:\n- *x\n- !!str 1\n- |\n  lit\ne: []\n# foot\n")
	docs, err := Split("anchors.yaml", raw)
	if err != nil {
		t.Fatal(err)
	}
	KeepOriginals(docs)
	d := docs[0]
	var fresh yaml.Node
	if err := yaml.Unmarshal(raw, &fresh); err != nil {
		t.Fatal(err)
	}
	var same func(a, b *yaml.Node) bool
	same = func(a, b *yaml.Node) bool {
		if a.Kind != b.Kind || a.Tag != b.Tag || a.Style != b.Style || a.Value != b.Value || a.Anchor != b.Anchor ||
			a.HeadComment != b.HeadComment || a.LineComment != b.LineComment || a.FootComment != b.FootComment ||
			a.Line != b.Line || a.Column != b.Column || len(a.Content) != len(b.Content) {
			return false
		}
		for i := range a.Content {
			if !same(a.Content[i], b.Content[i]) {
				return false
			}
		}
		return true
	}
	if d.orig == d.doc || !same(d.orig, &fresh) {
		t.Fatalf("the copy is not the document as read")
	}
	alias := d.orig.Content[0].Content[3].Content[0]
	if alias.Kind != yaml.AliasNode || alias.Alias != d.orig.Content[0].Content[1] {
		t.Errorf("the alias does not point at the copy of its anchor")
	}
	d.doc.Content[0].Content[1].Content[1].Value = "changed"
	if !same(d.orig, &fresh) {
		t.Errorf("editing the document changed the copy")
	}
}
