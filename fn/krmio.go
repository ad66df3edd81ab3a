package main

import (
	"bytes"

	"sigs.k8s.io/kustomize/kyaml/errors"
	"sigs.k8s.io/kustomize/kyaml/fn/framework"
	"sigs.k8s.io/kustomize/kyaml/kio"
	"sigs.k8s.io/kustomize/kyaml/yaml"

	"github.com/inject-sidecar/inject-sidecar/pkg/manifest"
)

// executeFunction is framework.Execute with one change: the ResourceList
// is written by writeList. kyaml's writer encodes the whole list as one
// YAML document, and yaml.v3's encoder keeps every event of a document
// until its end: for 5000 injected workloads that was about 4 GiB, several
// times the output, and a large part of the run's time.
func executeFunction(p framework.ResourceListProcessor, rw *kio.ByteReadWriter) error {
	rl := framework.ResourceList{}
	var err error
	if rl.Items, err = rw.Read(); err != nil {
		return errors.WrapPrefixf(err, "failed to read ResourceList input")
	}
	rl.FunctionConfig = rw.FunctionConfig
	annotations, err := kio.PreprocessResourcesForInternalAnnotationMigration(rl.Items)
	if err != nil {
		return err
	}
	processErr := p.Process(&rl)
	if err := kio.ReconcileInternalAnnotations(rl.Items, annotations); err != nil {
		return err
	}
	if len(rl.Results) > 0 {
		b, err := yaml.Marshal(rl.Results)
		if err != nil {
			return errors.Wrap(err)
		}
		if rw.Results, err = yaml.Parse(string(b)); err != nil {
			return errors.Wrap(err)
		}
	}
	if err := writeList(rw, rl.Items); err != nil {
		return err
	}
	return processErr
}

// writeList writes what rw.Write writes, a ResourceList item at a time
// when that gives the same bytes: each part is encoded as a document of
// its own (the head with the first item, each further item, then the
// function config and results), in the context it has in the whole list,
// and the parts are joined. Whatever it cannot prove alike (anchors or
// aliases, which tie items together; comments on items themselves; an
// encoder that closes a part as a document; no items) goes to rw.Write.
func writeList(rw *kio.ByteReadWriter, items []*yaml.RNode) error {
	if !spliceable(rw, items) {
		return rw.Write(items)
	}
	var out bytes.Buffer
	ok, err := spliceList(&out, rw, items)
	if err != nil {
		return err
	}
	if !ok {
		return rw.Write(items)
	}
	_, err = rw.Writer.Write(out.Bytes())
	return err
}

func spliceable(rw *kio.ByteReadWriter, items []*yaml.RNode) bool {
	if rw.NoWrap || rw.WrappingKind == "" || rw.Style != 0 || !rw.KeepReaderAnnotations || len(items) == 0 {
		return false
	}
	for _, n := range []*yaml.RNode{rw.FunctionConfig, rw.Results} {
		if n != nil && tied(n.YNode()) {
			return false
		}
	}
	for _, it := range items {
		n := it.YNode()
		if n == nil || n.Kind != yaml.MappingNode || n.HeadComment != "" || n.LineComment != "" || n.FootComment != "" || tied(n) {
			return false
		}
	}
	return true
}

// tied reports whether n holds an anchor or an alias.
func tied(n *yaml.Node) bool {
	if n == nil {
		return false
	}
	if n.Kind == yaml.AliasNode || n.Anchor != "" {
		return true
	}
	for _, c := range n.Content {
		if tied(c) {
			return true
		}
	}
	return false
}

// spliceList writes the parts; false when a part did not come out as it
// would inside the whole list.
func spliceList(out *bytes.Buffer, rw *kio.ByteReadWriter, items []*yaml.RNode) (bool, error) {
	for i, it := range items {
		b, ok, err := encodeItem(rw.WrappingAPIVersion, rw.WrappingKind, i, it)
		if err != nil || !ok {
			return false, err
		}
		out.Write(b)
	}
	b, err := encodeTail(rw.FunctionConfig, rw.Results)
	if err != nil {
		return false, err
	}
	out.Write(b)
	return true, nil
}

// encodeItem is the part of item i in a list of apiVersion and kind:
// with the list's head for the first item. false when it did not come out
// as it would inside the whole list.
func encodeItem(apiVersion, kind string, i int, it *yaml.RNode) ([]byte, bool, error) {
	// As kio.ByteWriter: a copy, its empty annotations cleared. An item
	// with nothing to clear is encoded as it is: copying it was a tenth
	// of KRM mode's time.
	c := it
	if mayClear(it.YNode()) {
		c = it.Copy()
		if err := yaml.ClearEmptyAnnotations(c); err != nil {
			return nil, false, err
		}
	}
	seq := &yaml.Node{Kind: yaml.SequenceNode, Content: []*yaml.Node{c.YNode()}}
	part := &yaml.Node{Kind: yaml.MappingNode, Content: []*yaml.Node{scalarKey("items"), seq}}
	if i == 0 {
		part.Content = append([]*yaml.Node{
			scalarKey("apiVersion"), scalarKey(apiVersion), scalarKey("kind"), scalarKey(kind),
		}, part.Content...)
	}
	b, err := encodePart(part)
	if err != nil {
		return nil, false, err
	}
	if i > 0 {
		var ok bool
		if b, ok = bytes.CutPrefix(b, []byte("items:\n")); !ok {
			return nil, false, nil
		}
	}
	if bytes.HasSuffix(b, []byte("\n...\n")) {
		return nil, false, nil // the encoder ended the part as a document
	}
	return b, true, nil
}

// mayClear reports whether yaml.ClearEmptyAnnotations may change n: it
// clears metadata.annotations and metadata when their values are empty
// (any value without content, scalars included), under any of their keys.
func mayClear(n *yaml.Node) bool {
	for _, md := range fieldValues(n, yaml.MetadataField) {
		if len(md.Content) == 0 {
			return true
		}
		for _, a := range fieldValues(md, yaml.AnnotationsField) {
			if len(a.Content) == 0 {
				return true
			}
		}
	}
	return false
}

// fieldValues returns the values of every key named name in the mapping n.
func fieldValues(n *yaml.Node, name string) []*yaml.Node {
	var out []*yaml.Node
	if n == nil || n.Kind != yaml.MappingNode {
		return nil
	}
	for i := 0; i+1 < len(n.Content); i += 2 {
		if n.Content[i].Value == name {
			out = append(out, n.Content[i+1])
		}
	}
	return out
}

// encodeTail is the last part of a list: its function config and results,
// nothing when it has neither.
func encodeTail(functionConfig, results *yaml.RNode) ([]byte, error) {
	tail := &yaml.Node{Kind: yaml.MappingNode}
	if functionConfig != nil {
		tail.Content = append(tail.Content, scalarKey("functionConfig"), functionConfig.YNode())
	}
	if results != nil {
		tail.Content = append(tail.Content, scalarKey("results"), results.YNode())
	}
	if len(tail.Content) == 0 {
		return nil, nil
	}
	return encodePart(tail)
}

func scalarKey(s string) *yaml.Node { return &yaml.Node{Kind: yaml.ScalarNode, Value: s} }

// encodePart encodes one part as kio.ByteWriter's encoder does.
func encodePart(n *yaml.Node) ([]byte, error) {
	b, err := manifest.EncodeNode(n)
	if err != nil {
		return nil, errors.Wrap(err)
	}
	return b, nil
}
