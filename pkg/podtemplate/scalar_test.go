package podtemplate

import (
	"fmt"
	"math/rand/v2"
	"reflect"
	"testing"

	"sigs.k8s.io/kustomize/kyaml/yaml"
)

// checkPlainScalar fails when plainScalarJSON accepts a node and differs
// from yaml.v3's decoder.
func checkPlainScalar(t *testing.T, n *yaml.Node) bool {
	t.Helper()
	got, ok := plainScalarJSON(n)
	if !ok {
		return false
	}
	want, err := decodedScalarJSON(n)
	if err != nil {
		t.Errorf("%q (tag %q, style %v): plainScalarJSON = %#v, the decoder fails: %s", n.Value, n.Tag, n.Style, got, err.msg)
		return true
	}
	if !reflect.DeepEqual(got, want) {
		t.Errorf("%q (tag %q, style %v): plainScalarJSON = %#v, the decoder %#v", n.Value, n.Tag, n.Style, got, want)
	}
	return true
}

var scalarTags = []string{"", "!!str", "!!int", "!!bool", "!!null", "!!float", "!!timestamp", "tag:yaml.org,2002:int"}

// TestPlainScalarJSON compares the shortcut with the decoder on values as
// parsed (tags as yaml.v3 resolves them) and with every tag and style.
func TestPlainScalarJSON(t *testing.T) {
	values := []string{"", "0", "1", "8080", "-1", "+1", "01", "007", "0x1F", "0o17", "1_000", "123456789012345678",
		"1234567890123456789", "9223372036854775807", "9223372036854775808", "1.5", "1e3", "true", "True", "TRUE", "tRUE",
		"false", "yes", "no", "on", "null", "~", "abc", "2001-12-14", " 1", "1 "}
	accepted := 0
	for _, v := range values {
		var doc yaml.Node
		if err := yaml.Unmarshal([]byte("k: "+v), &doc); err == nil && len(doc.Content) == 1 && len(doc.Content[0].Content) == 2 {
			if checkPlainScalar(t, doc.Content[0].Content[1]) {
				accepted++
			}
		}
		for _, tag := range scalarTags {
			for _, style := range []yaml.Style{0, yaml.DoubleQuotedStyle, yaml.SingleQuotedStyle} {
				checkPlainScalar(t, &yaml.Node{Kind: yaml.ScalarNode, Value: v, Tag: tag, Style: style})
			}
		}
	}
	if accepted < 10 {
		t.Errorf("plainScalarJSON accepted only %d parsed values", accepted)
	}
	r := rand.New(rand.NewPCG(4, 4))
	for range 20000 {
		v := fmt.Sprint(r.Int64N(1 << r.IntN(63)))
		if r.IntN(4) == 0 {
			v = "0" + v
		}
		checkPlainScalar(t, &yaml.Node{Kind: yaml.ScalarNode, Value: v, Tag: scalarTags[r.IntN(len(scalarTags))]})
	}
}

// FuzzPlainScalarJSON compares the shortcut with the decoder.
func FuzzPlainScalarJSON(f *testing.F) {
	f.Add("8080", uint8(2))
	f.Add("true", uint8(3))
	f.Fuzz(func(t *testing.T, v string, tag uint8) {
		checkPlainScalar(t, &yaml.Node{Kind: yaml.ScalarNode, Value: v, Tag: scalarTags[int(tag)%len(scalarTags)]})
	})
}
