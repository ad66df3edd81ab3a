package manifest

import (
	"bytes"
	"flag"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"sigs.k8s.io/kustomize/kyaml/yaml"

	"github.com/inject-sidecar/inject-sidecar/pkg/writeback"
)

var update = flag.Bool("update", false, "rewrite the expected files in testdata from the code's output")

// golden compares got with the expected file, or rewrites it with -update.
func golden(t *testing.T, name string, got []byte) {
	t.Helper()
	if *update {
		if err := os.WriteFile(name, got, 0o644); err != nil {
			t.Fatal(err)
		}
		return
	}
	want, err := os.ReadFile(name)
	if err != nil {
		t.Fatalf("%v (run with -update to create it)", err)
	}
	if !bytes.Equal(got, want) {
		t.Errorf("output differs from %s (run with -update and review the diff)\n--- got:\n%q\n--- want:\n%q", name, got, want)
	}
}

func read(t testing.TB, name string) []byte {
	t.Helper()
	data, err := os.ReadFile(name)
	if err != nil {
		t.Fatal(err)
	}
	return data
}

func names(t *testing.T, docs []*Document) []string {
	t.Helper()
	var out []string
	for _, n := range Nodes(docs) {
		out = append(out, n.GetName())
	}
	return out
}

// TestRoundTrip writes unchanged documents back: the bytes must not move.
func TestRoundTrip(t *testing.T) {
	tests := []struct {
		file string
		// docs is how many documents Split finds, objects the names of
		// those that hold an object.
		docs    int
		objects []string
	}{
		{file: "plain.yaml", docs: 2, objects: []string{"a", "b"}},
		{file: "crlf.yaml", docs: 2, objects: []string{"a", "b"}},
		{file: "leading-separator.yaml", docs: 1, objects: []string{"a"}},
		{file: "trailing-separator.yaml", docs: 2, objects: []string{"a"}},
		{file: "trailing-bare-separator.yaml", docs: 2, objects: []string{"a"}},
		{file: "comment-only.yaml", docs: 4, objects: []string{"a"}},
		{file: "separator-comments.yaml", docs: 3, objects: []string{"a", "b"}},
		{file: "no-trailing-newline.yaml", docs: 1, objects: []string{"a"}},
		{file: "empty-documents.yaml", docs: 5, objects: []string{"a"}},
		{file: "empty.yaml", docs: 1},
		{file: "blank.yaml", docs: 1},
		{file: "document-end.yaml", docs: 2, objects: []string{"a", "b"}},
		{file: "null-document.yaml", docs: 3, objects: []string{"a"}},
		{file: "not-separators.yaml", docs: 1, objects: []string{"a"}},
		{file: "odd-style.yaml", docs: 1, objects: []string{"a"}},
		{file: "directive.yaml", docs: 1, objects: []string{"a"}},
	}
	for _, tc := range tests {
		t.Run(tc.file, func(t *testing.T) {
			data := read(t, filepath.Join("testdata", "roundtrip", tc.file))
			docs, err := Split(tc.file, data)
			if err != nil {
				t.Fatal(err)
			}
			if len(docs) != tc.docs {
				t.Errorf("%d documents, want %d", len(docs), tc.docs)
			}
			if got := names(t, docs); strings.Join(got, ",") != strings.Join(tc.objects, ",") {
				t.Errorf("objects %q, want %q", got, tc.objects)
			}
			var joined []byte
			for i, d := range docs {
				if d.Index != i || d.Source != tc.file {
					t.Errorf("document %d: Index %d, Source %q", i, d.Index, d.Source)
				}
				joined = append(append(joined, d.Separator...), d.Raw...)
			}
			if !bytes.Equal(joined, data) {
				t.Errorf("separators and texts do not add up to the input:\n%q", joined)
			}
			for _, changed := range []func(*Document) bool{nil, func(*Document) bool { return false }} {
				var out bytes.Buffer
				if err := Write(&out, docs, changed); err != nil {
					t.Fatal(err)
				}
				if !bytes.Equal(out.Bytes(), data) {
					t.Errorf("Write changed the bytes:\n got %q\nwant %q", out.Bytes(), data)
				}
			}
		})
	}
}

// TestJoin writes the documents of several files as one stream.
func TestJoin(t *testing.T) {
	tests := []struct {
		name  string
		files []string
	}{
		{name: "files", files: []string{"no-trailing-newline.yaml", "plain.yaml", "leading-separator.yaml", "comment-only.yaml"}},
		{name: "same-file-twice", files: []string{"no-trailing-newline.yaml", "no-trailing-newline.yaml"}},
		{name: "empty-files", files: []string{"empty.yaml", "plain.yaml", "empty.yaml"}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			var docs []*Document
			var objects int
			for _, f := range tc.files {
				d, err := Split(f, read(t, filepath.Join("testdata", "roundtrip", f)))
				if err != nil {
					t.Fatal(err)
				}
				objects += len(Nodes(d))
				docs = append(docs, d...)
			}
			var out bytes.Buffer
			if err := Write(&out, docs, nil); err != nil {
				t.Fatal(err)
			}
			golden(t, filepath.Join("testdata", "join", tc.name+".yaml"), out.Bytes())
			// The stream holds every object once: nothing ran together.
			again, err := Split("joined", out.Bytes())
			if err != nil {
				t.Fatalf("the joined stream does not parse: %v", err)
			}
			if got := len(Nodes(again)); got != objects {
				t.Errorf("the joined stream holds %d objects, want %d", got, objects)
			}
		})
	}
}

// TestChanged re-encodes changed documents and leaves the others alone.
func TestChanged(t *testing.T) {
	tests := []struct {
		file string
		// change are the indexes of the documents to change.
		change []int
	}{
		{file: "neighbours.yaml", change: []int{1}},
		{file: "wide.yaml", change: []int{0}},
		{file: "compact.yaml", change: []int{0}},
		{file: "crlf.yaml", change: []int{0}},
		{file: "no-trailing-newline.yaml", change: []int{1}},
		{file: "merge-keys.yaml", change: []int{0}},
		// Merge keys without aliases: yamlenc writes them untagged.
		{file: "merge-inline.yaml", change: []int{0}},
	}
	for _, tc := range tests {
		t.Run(tc.file, func(t *testing.T) {
			data := read(t, filepath.Join("testdata", "changed", tc.file))
			docs, err := Split(tc.file, data)
			if err != nil {
				t.Fatal(err)
			}
			changed := map[*Document]bool{}
			for _, i := range tc.change {
				if err := docs[i].Node.PipeE(yaml.SetLabel("security.istio.io/tlsMode", "istio")); err != nil {
					t.Fatal(err)
				}
				changed[docs[i]] = true
			}
			var out bytes.Buffer
			if err := Write(&out, docs, func(d *Document) bool { return changed[d] }); err != nil {
				t.Fatal(err)
			}
			golden(t, filepath.Join("testdata", "changed", strings.TrimSuffix(tc.file, ".yaml")+".out.yaml"), out.Bytes())
			// Unchanged documents appear byte for byte, in order.
			rest := out.Bytes()
			for _, d := range docs {
				text := append(append([]byte(nil), d.Separator...), d.Raw...)
				if changed[d] {
					if !bytes.HasPrefix(rest, d.Separator) {
						t.Fatalf("%s: separator %q lost", d.Name(), d.Separator)
					}
					rest = rest[len(d.Separator):]
					if crlf := bytes.Contains(d.Raw, []byte("\r\n")); crlf != bytes.Contains(rest, []byte("\r\n")) || (crlf && bytes.Contains(bytes.ReplaceAll(rest, []byte("\r\n"), nil), []byte("\n"))) {
						t.Errorf("%s: line endings not kept", d.Name())
					}
					next := len(rest)
					if i := bytes.Index(rest, []byte("\n---")); i >= 0 {
						next = i + 1
					}
					rest = rest[next:]
					continue
				}
				if !bytes.HasPrefix(rest, text) {
					t.Fatalf("%s is not written byte for byte:\n got %q\nwant %q", d.Name(), rest, text)
				}
				rest = rest[len(text):]
			}
			if len(rest) != 0 {
				t.Errorf("unexpected trailing output %q", rest)
			}
			// The output reads back with the change.
			again, err := Split("out", out.Bytes())
			if err != nil {
				t.Fatalf("the output does not parse: %v", err)
			}
			for _, i := range tc.change {
				if got := again[i].Node.GetLabels()["security.istio.io/tlsMode"]; got != "istio" {
					t.Errorf("document %d: label = %q after reading back", i, got)
				}
			}
			if bytes.Contains(out.Bytes(), []byte("!!merge")) {
				t.Error("merge key written with its tag")
			}
		})
	}
}

func TestErrors(t *testing.T) {
	tests := []struct {
		file    string
		wantErr string
	}{
		{"scalar.yaml", `scalar.yaml, document 2: line 5: expected a Kubernetes object (a YAML mapping), got the scalar "just a string"`},
		{"long-scalar.yaml", `long-scalar.yaml, document 1: line 1: expected a Kubernetes object (a YAML mapping), got the scalar "xxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxx..."`},
		{"list.yaml", "list.yaml, document 1: line 2: expected a Kubernetes object (a YAML mapping), got a list"},
		{"malformed.yaml", "malformed.yaml, document 2: line 8: mapping values are not allowed in this context"},
		{"tabs.yaml", "tabs.yaml, document 1: line 4: found character that cannot start any token (the line is indented with a tab; YAML indentation must use spaces)"},
		{"tab-after-spaces.yaml", "tab-after-spaces.yaml, document 2: line 8: found a tab character that violates indentation (the line is indented with a tab; YAML indentation must use spaces)"},
		{"first-line.yaml", "first-line.yaml, document 2: line 3: did not find expected node content"},
		{"unclosed-flow.yaml", "unclosed-flow.yaml, document 2: line 5: did not find expected ',' or '}'"},
		{"document-on-separator-line.yaml", `document-on-separator-line.yaml, document 1: line 4: a second document starts inside this one; put "---" on a line of its own before it`},
		{"document-after-end-marker.yaml", "document-after-end-marker.yaml, document 1: line 4: did not find expected <document start>"},
		{"unknown-anchor.yaml", "unknown-anchor.yaml, document 1: yaml: unknown anchor 'nothing' referenced"},
		{"tag-directive.yaml", "tag-directive.yaml, document 1: line 4: found undefined tag handle"},
		{"latin1.yaml", "latin1.yaml, document 1: line 4: byte 0xe9 in column 12 is not UTF-8; YAML must be UTF-8: convert the file (from Latin-1: iconv -f latin1 -t utf-8)"},
		{"control-character.yaml", "control-character.yaml, document 2: line 7: control character U+0007 in column 14; YAML text cannot hold one (write it as an escape in a double-quoted string)"},
	}
	for _, tc := range tests {
		t.Run(tc.file, func(t *testing.T) {
			docs, err := Split(tc.file, read(t, filepath.Join("testdata", "errors", tc.file)))
			if err == nil {
				t.Fatalf("no error; %d documents", len(docs))
			}
			if !strings.Contains(err.Error(), tc.wantErr) {
				t.Errorf("error\n  %v\ndoes not hold\n  %s", err, tc.wantErr)
			}
			if docs != nil {
				t.Errorf("Split returned documents with its error")
			}
		})
	}
}

func TestIsSeparator(t *testing.T) {
	tests := []struct {
		line string
		want bool
	}{
		{"---\n", true},
		{"---", true},
		{"---\r\n", true},
		{"--- \n", true},
		{"---\t\n", true},
		{"--- # comment\n", true},
		{"---   #comment\n", true},
		{"---#x\n", false},
		{"----\n", false},
		{"---x\n", false},
		{"--- {a: b}\n", false},
		{"--- |\n", false},
		{" ---\n", false},
		{"--\n", false},
		{"...\n", false},
	}
	for _, tc := range tests {
		if got := isSeparator([]byte(tc.line)); got != tc.want {
			t.Errorf("isSeparator(%q) = %v, want %v", tc.line, got, tc.want)
		}
	}
}

// FuzzSplit feeds arbitrary bytes to Split and Write: unchanged documents
// must come back byte for byte, and nothing may panic.
func FuzzSplit(f *testing.F) {
	for _, dir := range []string{"roundtrip", "changed", "errors"} {
		files, _ := filepath.Glob(filepath.Join("testdata", dir, "*.yaml"))
		for _, name := range files {
			f.Add(read(f, name))
		}
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		docs, err := Split("fuzz.yaml", data)
		if err != nil {
			return
		}
		var out bytes.Buffer
		if err := Write(&out, docs, nil); err != nil {
			t.Fatal(err)
		}
		if !bytes.Equal(out.Bytes(), data) {
			t.Fatalf("round trip changed the bytes:\n got %q\nwant %q", out.Bytes(), data)
		}
		out.Reset()
		if err := Write(&out, docs, func(*Document) bool { return true }); err != nil {
			return
		}
		if _, err := Split("again", out.Bytes()); err != nil {
			t.Fatalf("re-encoded output does not parse: %v\n%q", err, out.Bytes())
		}
		// Edited (a key added, the first one moved last): a spliced text
		// must read as the edited nodes encoded; any other is the
		// original text (unchanged) or that encoding.
		KeepOriginals(docs)
		for _, d := range docs {
			if d.doc == nil {
				continue
			}
			root := d.doc.Content[0]
			if len(root.Content) >= 2 {
				root.Content = append(root.Content[2:], root.Content[:2]...)
			}
			root.Content = append(root.Content, &yaml.Node{Kind: yaml.ScalarNode, Value: "zz-added"},
				&yaml.Node{Kind: yaml.ScalarNode, Value: "1"})
			text, how, err := d.encodeText()
			if err != nil {
				continue
			}
			whole, err := d.encoder()(d.doc)
			if err != nil {
				t.Fatal(err)
			}
			switch how {
			case writeback.Spliced:
				var back yaml.Node
				if err := yaml.Unmarshal(text, &back); err != nil {
					t.Fatalf("spliced text does not parse: %v\n%q", err, text)
				}
				if again, err := d.encoder()(&back); err != nil || !bytes.Equal(again, whole) {
					t.Fatalf("spliced text does not read as the edited document:\n%q\nwant\n%q", again, whole)
				}
			case writeback.Unchanged:
				if !bytes.Equal(text, d.Raw) {
					t.Fatalf("unchanged, yet not the original text:\n%q", text)
				}
			default:
				if !bytes.Equal(text, whole) {
					t.Fatalf("%s, yet not the edited document encoded:\n%q\nwant\n%q", how, text, whole)
				}
			}
		}
	})
}
