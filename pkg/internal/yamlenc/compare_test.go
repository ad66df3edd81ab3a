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
