package yamlenc_test

import (
	"testing"

	"sigs.k8s.io/kustomize/kyaml/yaml"
)

// Mutations FuzzEncode applies to parsed nodes, to reach what programs
// (not parsers) build: untagged-style tags, style-0 strings, no comments.
const (
	mutClearTaggedStyle = 1 << iota
	mutTagStr
	mutPlainStyle
	mutDropComments
	mutFlowToBlock
)

func mutate(n *yaml.Node, mut uint8, depth int) {
	if n == nil || depth > 200 {
		return
	}
	if mut&mutClearTaggedStyle != 0 {
		n.Style &^= yaml.TaggedStyle
	}
	if mut&mutDropComments != 0 {
		n.HeadComment, n.LineComment, n.FootComment = "", "", ""
	}
	if mut&mutFlowToBlock != 0 {
		n.Style &^= yaml.FlowStyle
	}
	if n.Kind == yaml.ScalarNode {
		if mut&mutTagStr != 0 {
			n.Tag = "!!str"
		}
		if mut&mutPlainStyle != 0 {
			n.Style &^= yaml.SingleQuotedStyle | yaml.DoubleQuotedStyle | yaml.LiteralStyle | yaml.FoldedStyle
		}
	}
	for _, c := range n.Content {
		mutate(c, mut, depth+1)
	}
}

func FuzzEncode(f *testing.F) {
	for _, s := range seedDocuments(f) {
		for _, mut := range []uint8{0, mutDropComments, mutDropComments | mutClearTaggedStyle | mutTagStr, mutDropComments | mutPlainStyle | mutTagStr} {
			f.Add(s, mut)
		}
	}
	f.Fuzz(func(t *testing.T, src string, mut uint8) {
		docs, _ := decodeAll([]byte(src))
		for _, doc := range docs {
			mutate(doc, mut, 0)
			for _, style := range styles {
				compare(t, "fuzz", doc, style)
			}
		}
	})
}
