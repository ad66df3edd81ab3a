package writeback

import (
	"strings"

	"sigs.k8s.io/kustomize/kyaml/yaml"

	"github.com/inject-sidecar/inject-sidecar/pkg/internal/typedjson"
)

// builder makes the YAML of new values from tapes as newNode makes it
// from their models (TestValuesAgree), with nodes and Content slices
// from slabs: a few allocations for a container's hundreds of nodes.
type builder struct {
	slab []yaml.Node
	// ptrs is a slab of Content slices.
	ptrs []*yaml.Node
	// stack holds the children of the collections being built.
	stack []*yaml.Node
}

func (b *builder) alloc() *yaml.Node {
	if len(b.slab) == 0 {
		b.slab = make([]yaml.Node, 128)
	}
	n := &b.slab[0]
	b.slab = b.slab[1:]
	return n
}

// tape is newNode of the value at i of t.
func (b *builder) tape(t *typedjson.Tape, i int) (*yaml.Node, error) {
	switch t.Kind(i) {
	case typedjson.KindObject:
		n := b.alloc()
		n.Kind, n.Tag = yaml.MappingNode, "!!map"
		mark := len(b.stack)
		j := t.First(i)
		for range t.Len(i) {
			if t.Kind(j) != typedjson.KindNull {
				c, err := b.tape(t, j)
				if err != nil {
					b.stack = b.stack[:mark]
					return nil, err
				}
				b.stack = append(b.stack, b.key(t.Key(j)), c)
			}
			j = t.Next(j)
		}
		n.Content = b.pop(mark)
		return n, nil
	case typedjson.KindList:
		n := b.alloc()
		n.Kind, n.Tag = yaml.SequenceNode, "!!seq"
		mark := len(b.stack)
		j := t.First(i)
		for range t.Len(i) {
			c, err := b.tape(t, j)
			if err != nil {
				b.stack = b.stack[:mark]
				return nil, err
			}
			b.stack = append(b.stack, c)
			j = t.Next(j)
		}
		n.Content = b.pop(mark)
		return n, nil
	case typedjson.KindNumber:
		text, _ := t.Text(i)
		tag := "!!float"
		if !strings.ContainsAny(text, ".eE") {
			tag = "!!int"
		}
		n := b.alloc()
		n.Kind, n.Tag, n.Value = yaml.ScalarNode, tag, text
		return n, nil
	case typedjson.KindBool:
		text, _ := t.Text(i)
		n := b.alloc()
		n.Kind, n.Tag, n.Value = yaml.ScalarNode, "!!bool", text
		return n, nil
	case typedjson.KindString:
		s := t.Str(i)
		if v, ok := stringScalar(s); ok {
			n := b.alloc()
			*n = v
			return n, nil
		}
		return newNode(s)
	}
	return newNode(nil)
}

// pop returns the children pushed since mark, in a slice of their own.
func (b *builder) pop(mark int) []*yaml.Node {
	kids := b.stack[mark:]
	var out []*yaml.Node
	if n := len(kids); n > 0 {
		if n > len(b.ptrs) {
			b.ptrs = make([]*yaml.Node, max(n, 512))
		}
		// Capped, so that a slice grown later moves rather than
		// overwrite its neighbour's.
		out, b.ptrs = b.ptrs[:n:n], b.ptrs[n:]
		copy(out, kids)
	}
	clear(kids)
	b.stack = b.stack[:mark]
	return out
}

// key is keyNode(k).
func (b *builder) key(k string) *yaml.Node {
	if v, ok := stringScalar(k); ok {
		n := b.alloc()
		*n = v
		return n
	}
	return keyNode(k)
}
