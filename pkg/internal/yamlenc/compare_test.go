package yamlenc_test

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"testing"

	"sigs.k8s.io/kustomize/kyaml/yaml"

	"github.com/inject-sidecar/inject-sidecar/pkg/internal/yamlenc"
)

var styles = []yaml.SequenceIndentStyle{yaml.WideSequenceStyle, yaml.CompactSequenceStyle}

// reference is what manifest does without this package: kyaml's encoder.
func reference(doc *yaml.Node, style yaml.SequenceIndentStyle) (out []byte, err error) {
	defer func() {
		// yaml.v3 panics on some malformed nodes; that is a failure too.
		if r := recover(); r != nil {
			err = fmt.Errorf("kyaml encoder panicked: %v", r)
		}
	}()
	var b bytes.Buffer
	enc := yaml.NewEncoderWithOptions(&b, &yaml.EncoderOptions{SeqIndent: style})
	if err := enc.Encode(doc); err != nil {
		return nil, err
	}
	if err := enc.Close(); err != nil {
		return nil, err
	}
	return b.Bytes(), nil
}

// compare encodes doc both ways in style and fails when Encode accepts
// and differs; it reports whether Encode accepted.
func compare(t testing.TB, name string, doc *yaml.Node, style yaml.SequenceIndentStyle) bool {
	t.Helper()
	got, ok := yamlenc.Encode(doc, style)
	appended, appendOK := yamlenc.Append([]byte("prefix"), doc, style)
	if appendOK != ok || ok && string(appended) != "prefix"+string(got) {
		t.Errorf("%s (%s): Append (%v) disagrees with Encode (%v)", name, style, appendOK, ok)
	}
	compareUntaggedMerge(t, name, doc, style)
	if !ok {
		return false
	}
	want, err := reference(doc, style)
	if err != nil {
		t.Errorf("%s (%s): Encode accepted a node kyaml's encoder rejects: %v\ngot:\n%s", name, style, err, got)
		return true
	}
	if !bytes.Equal(got, want) {
		t.Errorf("%s (%s): Encode differs from kyaml's encoder\ngot:\n%q\nwant:\n%q", name, style, got, want)
	}
	return true
}

// decodeAll parses every document of data with yaml.v3 (as manifest
// does); it stops at the first error, returning what it read.
func decodeAll(data []byte) ([]*yaml.Node, error) {
	dec := yaml.NewDecoder(bytes.NewReader(data))
	var docs []*yaml.Node
	for {
		var doc yaml.Node
		err := dec.Decode(&doc)
		if errors.Is(err, io.EOF) {
			return docs, nil
		}
		if err != nil {
			return docs, err
		}
		docs = append(docs, &doc)
	}
}

// compareUntaggedMerge fails when AppendUntaggedMerge accepts doc and
// differs from Append on doc with its merge keys' tags cleared (as
// manifest clears them for kyaml's encoder), or from kyaml's encoder on
// that document. It may decline where Append accepts: a merge key node
// that is also a value elsewhere keeps its tag there, and is declined.
func compareUntaggedMerge(t testing.TB, name string, doc *yaml.Node, style yaml.SequenceIndentStyle) {
	t.Helper()
	got, ok := yamlenc.AppendUntaggedMerge([]byte("prefix"), doc, style)
	restore := clearMergeTags(doc)
	defer restore()
	want, wantOK := yamlenc.Append([]byte("prefix"), doc, style)
	if ok && (!wantOK || string(got) != string(want)) || !ok && string(got) != "prefix" {
		t.Errorf("%s (%s): AppendUntaggedMerge (%v) differs from Append on untagged merge keys (%v)\ngot:\n%q\nwant:\n%q",
			name, style, ok, wantOK, got, want)
		return
	}
	if !ok {
		return
	}
	ref, err := reference(doc, style)
	if err != nil || "prefix"+string(ref) != string(got) {
		t.Errorf("%s (%s): AppendUntaggedMerge differs from kyaml's encoder on untagged merge keys (%v)\ngot:\n%q\nwant:\n%q",
			name, style, err, got, ref)
	}
}

// clearMergeTags clears the tag of every plain "<<" key whose ShortTag is
// !!merge until the returned function restores them.
func clearMergeTags(n *yaml.Node) (restore func()) {
	type saved struct {
		n   *yaml.Node
		tag string
	}
	var keys []saved
	var walk func(n *yaml.Node, depth int)
	walk = func(n *yaml.Node, depth int) {
		if n == nil || n.Kind == yaml.AliasNode || depth > 1000 {
			return
		}
		for i, c := range n.Content {
			if n.Kind == yaml.MappingNode && i%2 == 0 && c != nil && c.Kind == yaml.ScalarNode &&
				c.Value == "<<" && c.Style == 0 && c.ShortTag() == "!!merge" {
				keys = append(keys, saved{c, c.Tag})
				c.Tag = ""
				continue
			}
			walk(c, depth+1)
		}
	}
	walk(n, 0)
	return func() {
		for _, k := range keys {
			k.n.Tag = k.tag
		}
	}
}
