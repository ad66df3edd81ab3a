package manifest

import (
	"bytes"
	"os"
	"path/filepath"
	"testing"

	"sigs.k8s.io/kustomize/kyaml/kio"
	"sigs.k8s.io/kustomize/kyaml/yaml"
)

// TestEncodeNode: EncodeNode writes what kyaml's encoder writes, for every
// object of the package's testdata, including those the fast encoder
// declines (anchors, folded scalars, foot comments).
func TestEncodeNode(t *testing.T) {
	files, err := filepath.Glob(filepath.Join("testdata", "*", "*.yaml"))
	if err != nil {
		t.Fatal(err)
	}
	extra := []string{
		"a: &x {b: c}\nd: *x\n",
		"a: >\n  folded\n  text\n",
		"a: b\n# foot\n",
		"a:\n- b\n- c: d\n",
	}
	var nodes []*yaml.Node
	for _, f := range files {
		b, err := os.ReadFile(f)
		if err != nil {
			t.Fatal(err)
		}
		items, err := (&kio.ByteReader{Reader: bytes.NewReader(b), OmitReaderAnnotations: true}).Read()
		if err != nil {
			continue // not readable as a whole: the split tests' business
		}
		for _, it := range items {
			nodes = append(nodes, it.YNode())
		}
	}
	for _, s := range extra {
		n, err := yaml.Parse(s)
		if err != nil {
			t.Fatal(err)
		}
		nodes = append(nodes, n.YNode())
	}
	if len(nodes) < 10 {
		t.Fatalf("only %d objects read from testdata", len(nodes))
	}
	for i, n := range nodes {
		var want bytes.Buffer
		e := yaml.NewEncoder(&want)
		if err := e.Encode(&yaml.Node{Kind: yaml.DocumentNode, Content: []*yaml.Node{n}}); err != nil {
			t.Fatal(err)
		}
		if err := e.Close(); err != nil {
			t.Fatal(err)
		}
		got, err := EncodeNode(n)
		if err != nil {
			t.Fatalf("object %d: %v", i, err)
		}
		if !bytes.Equal(got, want.Bytes()) {
			t.Errorf("object %d:\ngot:\n%s\nwant:\n%s", i, got, want.Bytes())
		}
	}
}
