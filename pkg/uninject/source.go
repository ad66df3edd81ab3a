package uninject

import (
	"encoding/json"
	"fmt"
	"reflect"
	"slices"
	"strconv"
	"strings"

	corev1 "k8s.io/api/core/v1"
	"sigs.k8s.io/kustomize/kyaml/yaml"
)

// Source is how the user wrote one node of a pod template where uninject,
// which works on the typed pod, would write it back spelled otherwise:
//   - a label or annotation that injection removed, quoted (Prometheus
//     merging removes prometheus.istio.io/scrape-targets; uninject puts
//     it back in the default style);
//   - in the user's own declaration of a container that injection owns
//     (istio-proxy), a value Istio writes in its own form ("cpu: 3000m"
//     becomes "3"), and an empty "resources: {}", which reads as none.
//
// Sources do not change what the pod reads as: RestoreSources checks
// that they apply to what reads the same, and its caller that the pod
// reads as before.
type Source struct {
	// Path leads from the pod template to the node: "metadata" or
	// "spec", then mapping keys and list positions (in decimal).
	Path []string `json:"path"`
	// YAML is the node as the user wrote it, without comments.
	YAML string `json:"yaml"`
	// After is the key before the node's in its mapping, "" when it is
	// the first: where to put back a key that uninject leaves out.
	After string `json:"after,omitempty"`
}

// Sources returns the Source of every node of the pod template (its
// metadata and spec nodes, as the user wrote them) that uninjecting
// injected, the pod injection made from original, would write back
// spelled otherwise. meta or spec may be nil (no such node).
func Sources(meta, spec *yaml.Node, original, injected *corev1.Pod) []Source {
	if original == nil || injected == nil {
		return nil
	}
	st, ok, _ := readStatus(injected)
	if !ok {
		return nil
	}
	var out []Source
	// Labels and annotations that injection removed come back in the
	// default style: keep the user's quoting.
	for _, m := range []struct {
		key           string
		before, after map[string]string
	}{{"labels", original.Labels, injected.Labels}, {"annotations", original.Annotations, injected.Annotations}} {
		for k := range m.before {
			if _, kept := m.after[k]; kept {
				continue
			}
			v := mappingValue(mappingValue(meta, m.key), k)
			if v == nil || v.Kind != yaml.ScalarNode || v.Style == 0 || v.Anchor != "" {
				continue
			}
			if text, ok := nodeText(v); ok {
				out = append(out, Source{Path: []string{"metadata", m.key, k}, YAML: text})
			}
		}
	}
	out = sortSources(out)
	// The user's declarations of containers that injection owns are
	// written as Istio writes them.
	owned := map[string]bool{}
	for _, n := range append(append([]string{}, st.Containers...), st.InitContainers...) {
		owned[n] = true
	}
	for _, list := range []struct {
		key string
		cs  []corev1.Container
	}{{"containers", original.Spec.Containers}, {"initContainers", original.Spec.InitContainers}} {
		seq := mappingValue(spec, list.key)
		if seq == nil || seq.Kind != yaml.SequenceNode || len(seq.Content) != len(list.cs) {
			continue
		}
		for i, c := range list.cs {
			if !owned[c.Name] || hasAliases(seq.Content[i]) {
				continue
			}
			typed, err := generic(c)
			if err != nil {
				continue
			}
			collectSources(seq.Content[i], typed, containerType, []string{"spec", list.key, strconv.Itoa(i)}, &out)
		}
	}
	return out
}

// Carry returns the sources of a previous record that Sources would
// find for injected, the pod a re-injection makes of original (the pod
// that record brought back): those of the labels and annotations
// injected has not, and of the containers it owns. A record made from the
// injected nodes would describe injected, not the user's text, which only
// the previous record still holds.
func Carry(previous []Source, original, injected *corev1.Pod) []Source {
	if original == nil || injected == nil {
		return nil
	}
	st, ok, _ := readStatus(injected)
	if !ok {
		return nil
	}
	owned := map[string]bool{}
	for _, n := range append(append([]string{}, st.Containers...), st.InitContainers...) {
		owned[n] = true
	}
	var out []Source
	for _, s := range previous {
		if len(s.Path) < 3 {
			continue
		}
		keep := false
		switch {
		case s.Path[0] == "metadata" && (s.Path[1] == "labels" || s.Path[1] == "annotations") && len(s.Path) == 3:
			before, after := original.Labels, injected.Labels
			if s.Path[1] == "annotations" {
				before, after = original.Annotations, injected.Annotations
			}
			_, had := before[s.Path[2]]
			_, kept := after[s.Path[2]]
			keep = had && !kept
		case s.Path[0] == "spec" && (s.Path[1] == "containers" || s.Path[1] == "initContainers"):
			list := original.Spec.Containers
			if s.Path[1] == "initContainers" {
				list = original.Spec.InitContainers
			}
			i, err := strconv.Atoi(s.Path[2])
			keep = err == nil && i >= 0 && i < len(list) && owned[list[i].Name]
		}
		if keep {
			out = append(out, s)
		}
	}
	return out
}

var containerType = reflect.TypeOf(corev1.Container{})

// collectSources walks a container's node n beside what it reads as (v,
// in the JSON data model; nil where the typed model leaves it out) and
// its Go type, and collects the scalars spelled otherwise than Istio
// writes them, and the empty collections of fields the typed model knows
// (it leaves them out, or writes "{}" for a struct). Fields it does not
// know are not its to restore: writeback keeps them.
func collectSources(n *yaml.Node, v any, t reflect.Type, path []string, out *[]Source) {
	for t.Kind() == reflect.Pointer {
		t = t.Elem()
	}
	switch n.Kind {
	case yaml.MappingNode:
		m, _ := v.(map[string]any)
		after := ""
		for i := 0; i+1 < len(n.Content); i += 2 {
			k, c := n.Content[i], n.Content[i+1]
			at := append(append([]string{}, path...), k.Value)
			if ct, known := fieldType(t, k.Value); known {
				if isEmptyCollection(c) {
					if text, ok := nodeText(c); ok {
						*out = append(*out, Source{Path: at, YAML: text, After: after})
					}
				} else if cv, ok := m[k.Value]; ok {
					collectSources(c, cv, ct, at, out)
				}
			}
			after = k.Value
		}
	case yaml.SequenceNode:
		l, ok := v.([]any)
		if !ok || len(l) != len(n.Content) || t.Kind() != reflect.Slice {
			return
		}
		for i, c := range n.Content {
			collectSources(c, l[i], t.Elem(), append(append([]string{}, path...), strconv.Itoa(i)), out)
		}
	case yaml.ScalarNode:
		switch v.(type) {
		case string, json.Number, bool:
			if n.Value != fmt.Sprint(v) {
				if text, ok := nodeText(n); ok {
					*out = append(*out, Source{Path: path, YAML: text})
				}
			}
		}
	}
}

// fieldType is the type of the value at key in a value of type t: the
// field of that JSON name of a struct, the element of a map; false when t
// has no such field.
func fieldType(t reflect.Type, key string) (reflect.Type, bool) {
	switch t.Kind() {
	case reflect.Map:
		return t.Elem(), true
	case reflect.Struct:
		for i := 0; i < t.NumField(); i++ {
			f := t.Field(i)
			name, _, _ := strings.Cut(f.Tag.Get("json"), ",")
			if f.Anonymous && name == "" {
				if ft, ok := fieldType(f.Type, key); ok {
					return ft, true
				}
				continue
			}
			if name == key {
				return f.Type, true
			}
		}
	}
	return nil, false
}

// RestoreSources writes each source's text back into the pod template's
// metadata and spec nodes, where the node at its path reads as a value of
// the same kind (a scalar, an empty collection, or no node at all for an
// empty collection): the caller checks that the pod reads as before. It
// returns how many it wrote.
func RestoreSources(meta, spec *yaml.Node, sources []Source) int {
	n := 0
	for _, s := range sources {
		if len(s.Path) < 2 {
			continue
		}
		var root *yaml.Node
		switch s.Path[0] {
		case "metadata":
			root = meta
		case "spec":
			root = spec
		}
		parent := root
		for _, step := range s.Path[1 : len(s.Path)-1] {
			parent = child(parent, step)
		}
		if parent == nil || parent.Anchor != "" {
			continue
		}
		var doc yaml.Node
		if err := yaml.Unmarshal([]byte(s.YAML), &doc); err != nil || len(doc.Content) != 1 {
			continue
		}
		want := doc.Content[0]
		last := s.Path[len(s.Path)-1]
		cur := child(parent, last)
		switch {
		case cur == nil && parent.Kind == yaml.MappingNode && mappingValue(parent, last) == nil && isEmptyCollection(want):
			insertAfter(parent, s.After, &yaml.Node{Kind: yaml.ScalarNode, Tag: "!!str", Value: last}, want)
		case cur == nil || cur.Anchor != "":
			continue
		case cur.Kind == yaml.ScalarNode && want.Kind == yaml.ScalarNode:
			cur.Value, cur.Tag, cur.Style = want.Value, want.Tag, want.Style
		case isEmptyCollection(cur) && isEmptyCollection(want) && cur.Kind == want.Kind:
			cur.Style = want.Style
		default:
			continue
		}
		n++
	}
	return n
}

// child is the node at key (a mapping) or position (a list) of n; nil
// when there is none, or it is an alias.
func child(n *yaml.Node, step string) *yaml.Node {
	if n == nil {
		return nil
	}
	var c *yaml.Node
	switch n.Kind {
	case yaml.MappingNode:
		c = mappingValue(n, step)
	case yaml.SequenceNode:
		if i, err := strconv.Atoi(step); err == nil && i >= 0 && i < len(n.Content) {
			c = n.Content[i]
		}
	}
	if c == nil || c.Kind == yaml.AliasNode {
		return nil
	}
	return c
}

// mappingValue is the value of key in the mapping m, nil when m is not a
// mapping or has no such key.
func mappingValue(m *yaml.Node, key string) *yaml.Node {
	if m == nil || m.Kind != yaml.MappingNode {
		return nil
	}
	for i := 0; i+1 < len(m.Content); i += 2 {
		if m.Content[i].Value == key && m.Content[i].Kind == yaml.ScalarNode {
			return m.Content[i+1]
		}
	}
	return nil
}

// insertAfter puts key: value in the mapping m after the key after, first
// when after is "", last when m has no such key.
func insertAfter(m *yaml.Node, after string, key, value *yaml.Node) {
	at := len(m.Content)
	if after == "" {
		at = 0
	}
	for i := 0; i+1 < len(m.Content); i += 2 {
		if after != "" && m.Content[i].Value == after {
			at = i + 2
			break
		}
	}
	m.Content = append(m.Content[:at], append([]*yaml.Node{key, value}, m.Content[at:]...)...)
}

func isEmptyCollection(n *yaml.Node) bool {
	return (n.Kind == yaml.MappingNode || n.Kind == yaml.SequenceNode) && len(n.Content) == 0
}

// hasAliases reports whether anchors or aliases are in n, whose nodes
// other places may share.
func hasAliases(n *yaml.Node) bool {
	if n.Kind == yaml.AliasNode || n.Anchor != "" {
		return true
	}
	for _, c := range n.Content {
		if hasAliases(c) {
			return true
		}
	}
	return false
}

// nodeText is n's YAML, without comments.
func nodeText(n *yaml.Node) (string, bool) {
	c := *n
	c.HeadComment, c.LineComment, c.FootComment = "", "", ""
	b, err := yaml.Marshal(&c)
	if err != nil {
		return "", false
	}
	return strings.TrimSuffix(string(b), "\n"), true
}

// sortSources orders sources by path, so that a record is the same
// whatever order maps were walked in.
func sortSources(s []Source) []Source {
	slices.SortFunc(s, func(a, b Source) int { return slices.Compare(a.Path, b.Path) })
	return s
}
