package manifest

import "sigs.k8s.io/kustomize/kyaml/yaml"

// copyTree copies a parsed node tree (each node reached once) into two
// allocations: one for the nodes, one for their content lists. An alias
// points at the copy of its anchor.
func copyTree(root *yaml.Node) *yaml.Node {
	nodes, links := 0, 0
	var count func(n *yaml.Node)
	count = func(n *yaml.Node) {
		nodes++
		links += len(n.Content)
		for _, c := range n.Content {
			count(c)
		}
	}
	count(root)
	// Capacity is exact: appending never moves the copies made so far.
	arena := make([]yaml.Node, 0, nodes)
	content := make([]*yaml.Node, 0, links)
	var anchors map[*yaml.Node]*yaml.Node
	var aliases []*yaml.Node
	var cp func(n *yaml.Node) *yaml.Node
	cp = func(n *yaml.Node) *yaml.Node {
		arena = append(arena, *n)
		c := &arena[len(arena)-1]
		if n.Anchor != "" {
			if anchors == nil {
				anchors = map[*yaml.Node]*yaml.Node{}
			}
			anchors[n] = c
		}
		if n.Kind == yaml.AliasNode {
			aliases = append(aliases, c)
		}
		if len(n.Content) > 0 {
			start := len(content)
			content = content[:start+len(n.Content)]
			kids := content[start:len(content):len(content)]
			for i, k := range n.Content {
				kids[i] = cp(k)
			}
			c.Content = kids
		}
		return c
	}
	out := cp(root)
	for _, a := range aliases {
		if c, ok := anchors[a.Alias]; ok {
			a.Alias = c
		}
	}
	return out
}
