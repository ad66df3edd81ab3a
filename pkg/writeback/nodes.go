package writeback

import (
	"fmt"

	"sigs.k8s.io/kustomize/kyaml/yaml"
)

// maxDepth bounds recursion on hostile input.
const maxDepth = 200

// content unwraps a document node.
func content(n *yaml.Node) *yaml.Node {
	if n != nil && n.Kind == yaml.DocumentNode && len(n.Content) == 1 {
		return n.Content[0]
	}
	return n
}

func resolve(n *yaml.Node) *yaml.Node {
	for i := 0; n != nil && n.Kind == yaml.AliasNode && i < maxDepth; i++ {
		n = n.Alias
	}
	return n
}

func isNull(n *yaml.Node) bool {
	n = resolve(n)
	return n == nil || (n.Kind == yaml.ScalarNode && n.ShortTag() == "!!null")
}

// isMergeKey reports whether k is "<<" as the parser tags it, or untagged
// and plain as a caller may have built it.
func isMergeKey(k *yaml.Node) bool {
	return k.Kind == yaml.ScalarNode && k.Value == "<<" &&
		(k.ShortTag() == "!!merge" || (k.Tag == "" && k.Style == 0))
}

func describe(n *yaml.Node) string {
	n = resolve(n)
	switch {
	case n == nil:
		return "nothing"
	case n.Kind == yaml.MappingNode:
		return "an object"
	case n.Kind == yaml.SequenceNode:
		return "a list"
	case isNull(n):
		return "null"
	}
	v := []rune(n.Value)
	if len(v) > 60 {
		v = append(v[:57], []rune("...")...)
	}
	return fmt.Sprintf("the scalar %q", string(v))
}

// mergedValue returns the value key takes through the merge keys ("<<") of
// the mapping node, earlier sources first, or nil.
func mergedValue(node *yaml.Node, key string, depth int) *yaml.Node {
	if depth > maxDepth {
		return nil
	}
	for i := 0; i+1 < len(node.Content); i += 2 {
		if !isMergeKey(node.Content[i]) {
			continue
		}
		v := resolve(node.Content[i+1])
		var sources []*yaml.Node
		switch {
		case v == nil:
		case v.Kind == yaml.SequenceNode:
			for _, e := range v.Content {
				sources = append(sources, resolve(e))
			}
		default:
			sources = []*yaml.Node{v}
		}
		for _, src := range sources {
			if src == nil || src.Kind != yaml.MappingNode {
				continue
			}
			if found := lookup(src, key); found != nil {
				return found
			}
			if found := mergedValue(src, key, depth+1); found != nil {
				return found
			}
		}
	}
	return nil
}

// copyNode copies a tree deeply, without its anchors (the original keeps
// them); aliases in it still point at their anchors.
func copyNode(n *yaml.Node) *yaml.Node {
	return copyDepth(n, 0)
}

func copyDepth(n *yaml.Node, depth int) *yaml.Node {
	if n == nil {
		return nil
	}
	c := *n
	c.Anchor = ""
	if n.Kind == yaml.AliasNode || depth > maxDepth {
		return &c
	}
	c.Content = make([]*yaml.Node, len(n.Content))
	for i, e := range n.Content {
		c.Content[i] = copyDepth(e, depth+1)
	}
	return &c
}

// editable makes n safe to change in place and returns it. An alias
// becomes a copy of what it points at, so the anchored original stays; an
// anchored node gives each of its aliases a copy of its current value
// first, so they keep reading as they did.
func (s *syncer[V]) editable(n *yaml.Node) *yaml.Node {
	if n.Kind == yaml.AliasNode && n.Alias != nil {
		target := resolve(n)
		c := copyNode(target)
		c.HeadComment, c.LineComment, c.FootComment = n.HeadComment, n.LineComment, n.FootComment
		*n = *c
		s.moved(n)
	}
	if n.Anchor != "" {
		s.expandAliases(n)
		n.Anchor = ""
	}
	return n
}

// release is called before n's subtree leaves the document: aliases
// elsewhere to anchors inside it are expanded to copies, so none dangles.
func (s *syncer[V]) release(n *yaml.Node) {
	s.releaseDepth(n, 0)
}

func (s *syncer[V]) releaseDepth(n *yaml.Node, depth int) {
	if n == nil || n.Kind == yaml.AliasNode || depth > maxDepth {
		return
	}
	if n.Anchor != "" {
		s.expandAliases(n)
	}
	for _, c := range n.Content {
		s.releaseDepth(c, depth+1)
	}
}

// expandAliases replaces every alias to target in the document with a copy
// of target's current value.
func (s *syncer[V]) expandAliases(target *yaml.Node) {
	var walk func(n *yaml.Node, depth int)
	walk = func(n *yaml.Node, depth int) {
		if n == nil || depth > maxDepth {
			return
		}
		for _, c := range n.Content {
			if c.Kind == yaml.AliasNode {
				if c.Alias == target {
					cp := copyNode(target)
					cp.HeadComment, cp.LineComment, cp.FootComment = c.HeadComment, c.LineComment, c.FootComment
					*c = *cp
					s.moved(c)
				}
				continue
			}
			walk(c, depth+1)
		}
	}
	walk(s.root, 0)
}

// moved records a node that took over the comments of a scalar or alias.
func (s *syncer[V]) moved(n *yaml.Node) {
	if n.LineComment == "" || n.Kind == yaml.ScalarNode {
		return
	}
	if s.relocated == nil {
		s.relocated = map[*yaml.Node]bool{}
	}
	s.relocated[n] = true
}

// placeComments puts the line comment of each block collection recorded by
// moved where the parser keeps it, on the key (or on the first value of a
// list item), so the encoder writes it on its original line rather than
// after the collection.
func (s *syncer[V]) placeComments() {
	if len(s.relocated) == 0 {
		return
	}
	var walk func(n *yaml.Node, depth int)
	walk = func(n *yaml.Node, depth int) {
		if n == nil || n.Kind == yaml.AliasNode || depth > maxDepth {
			return
		}
		block := func(v *yaml.Node) bool {
			return s.relocated[v] && v.LineComment != "" && v.Style&yaml.FlowStyle == 0 && len(v.Content) > 0
		}
		switch n.Kind {
		case yaml.MappingNode:
			for i := 0; i+1 < len(n.Content); i += 2 {
				if k, v := n.Content[i], n.Content[i+1]; block(v) {
					k.LineComment = joinComments(k.LineComment, v.LineComment)
					v.LineComment = ""
				}
			}
		case yaml.SequenceNode:
			for _, v := range n.Content {
				if !block(v) {
					continue
				}
				if v.Kind == yaml.MappingNode && len(v.Content) >= 2 && v.Content[1].Kind == yaml.ScalarNode && v.Content[1].LineComment == "" {
					v.Content[1].LineComment = v.LineComment
				} else {
					v.HeadComment = joinComments(v.HeadComment, v.LineComment)
				}
				v.LineComment = ""
			}
		}
		for _, c := range n.Content {
			walk(c, depth+1)
		}
	}
	walk(s.root, 0)
	s.relocated = nil
}

func joinComments(a, b string) string {
	switch {
	case a == "":
		return b
	case b == "":
		return a
	}
	return a + " " + b
}
