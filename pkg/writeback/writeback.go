// Package writeback puts an injected pod back into the user's resource. It
// edits the resource's YAML nodes in place and only where injection changed
// something: comments, key order, quoting and fields unknown to k8s.io/api
// survive everywhere else.
package writeback

import (
	"bytes"
	"encoding/json"
	"fmt"
	"sort"
	"strconv"
	"strings"

	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"sigs.k8s.io/kustomize/kyaml/yaml"

	"github.com/inject-sidecar/inject-sidecar/pkg/internal/typedjson"
	"github.com/inject-sidecar/inject-sidecar/pkg/podtemplate"
)

// Pod writes the difference between before (the pod as read from t) and
// after (the injected pod) into t's metadata and spec nodes. It reports
// whether anything changed. Anchors and aliases in t's resource keep
// their meaning: an alias to a node that changes is expanded to a copy of
// the old value first. After an error the resource may be partly edited
// and must not be written out.
func Pod(t *podtemplate.Target, before, after *corev1.Pod) (bool, error) {
	return podWith(t, before, after, true)
}

// podWith is Pod; typed says whether to read the pods as tapes
// (tapeValue), which is quicker, rather than in the JSON data model
// (modelValue). Both write the same nodes (TestTypedMatchesModel).
func podWith(t *podtemplate.Target, before, after *corev1.Pod, typed bool) (bool, error) {
	if t == nil || t.Object == nil || t.Object.YNode() == nil {
		return false, fmt.Errorf("writeback: no pod template to write to")
	}
	if before == nil || after == nil {
		return false, fmt.Errorf("%s: writeback: missing the pod before or after injection", t)
	}
	root := t.Object.YNode()
	if t.Resource != nil && t.Resource.YNode() != nil {
		root = t.Resource.YNode()
	}
	if typed {
		// The pod's four tapes share one arena.
		var arena typedjson.Arena
		of := func(p any) (tapeValue, error) { return tapeOf(&arena, p) }
		return writePod(&syncer[tapeValue]{root: root, of: of, fresh: map[*yaml.Node]bool{}}, t, before, after)
	}
	return writePod(&syncer[modelValue]{root: root, of: modelOf}, t, before, after)
}

// tapeOf lays out p, a pointer to a part of a pod, as generic converts
// the value it points to: directly, or through encoding/json.
func tapeOf(arena *typedjson.Arena, p any) (tapeValue, error) {
	if t, ok := arena.TapeOf(p); ok {
		return tapeValue{t: t}, nil
	}
	m, err := generic(deref(p))
	if err != nil {
		return tapeValue{}, err
	}
	t, err := typedjson.TapeOfModel(m)
	return tapeValue{t: t}, err
}

// deref is the value p points to, for the parts of a pod Pod reads; it
// is a copy, which encoding/json sees as not addressable, as it sees
// the parts Pod passed before it took pointers.
func deref(p any) any {
	switch x := p.(type) {
	case *metav1.ObjectMeta:
		return *x
	case *corev1.PodSpec:
		return *x
	case *corev1.Container:
		return *x
	}
	return p
}

// modelOf converts p, a pointer to a part of a pod, to the JSON data
// model (the value it points to, as encoding/json sees that).
func modelOf(p any) (modelValue, error) {
	m, err := generic(deref(p))
	return modelValue{m}, err
}

// writePod is Pod's work, reading values as V.
func writePod[V value[V]](s *syncer[V], t *podtemplate.Target, before, after *corev1.Pod) (bool, error) {
	metaWasEmpty := isEmptyMapping(walkPath(t.Object.YNode(), t.MetaPath))
	metaChanged, _, err := s.syncField(t, t.MetaPath, &before.ObjectMeta, &after.ObjectMeta)
	if err != nil {
		s.placeComments()
		return metaChanged, err
	}
	if metaChanged && !metaWasEmpty {
		dropEmptyMapping(t.Object.YNode(), t.MetaPath)
	}
	specChanged, spec, err := s.syncField(t, t.SpecPath, &before.Spec, &after.Spec)
	if err == nil && specChanged {
		err = s.canonicalInjected(t, after, spec)
	}
	s.placeComments()
	return metaChanged || specChanged, err
}

// canonicalInjected writes the containers that after's
// sidecar.istio.io/status lists as the typed model writes them: injection
// owns them, and the user's own declaration merged into one of them
// (istio-proxy with "cpu: 3000m") reads as Istio writes it ("3").
// Comments, key order and unknown fields stay. spec is after.Spec read
// as V.
func (s *syncer[V]) canonicalInjected(t *podtemplate.Target, after *corev1.Pod, spec V) error {
	raw, ok := after.Annotations["sidecar.istio.io/status"]
	if !ok {
		return nil
	}
	var st map[string]any
	if err := json.Unmarshal([]byte(raw), &st); err != nil {
		return nil
	}
	injected := map[string]bool{}
	for _, key := range []string{"containers", "initContainers"} {
		list, _ := st[key].([]any)
		for _, n := range list {
			if name, ok := n.(string); ok {
				injected[name] = true
			}
		}
	}
	node := walkPath(t.Object.YNode(), t.SpecPath)
	if node == nil || node.Kind != yaml.MappingNode {
		return nil
	}
	for _, list := range []struct {
		key string
		cs  []corev1.Container
	}{{"containers", after.Spec.Containers}, {"initContainers", after.Spec.InitContainers}} {
		seq := resolve(lookup(node, list.key))
		if seq == nil || seq.Kind != yaml.SequenceNode || len(seq.Content) != len(list.cs) {
			continue
		}
		// The containers as the spec has them.
		models, _ := spec.get(list.key)
		for i, c := range list.cs {
			if !injected[c.Name] {
				continue
			}
			var want V
			var err error
			if models.length() == len(list.cs) {
				want = models.index(i)
			} else {
				want, err = s.of(&list.cs[i])
			}
			if err != nil {
				return fmt.Errorf("%s: field %s: %w", t, t.Field(append(append([]string(nil), t.SpecPath...), list.key)...), err)
			}
			if err := s.canonical(seq.Content[i], want, indexPath(list.key, i)); err != nil {
				return fmt.Errorf("%s: field %s: %w", t, t.Field(append(append([]string(nil), t.SpecPath...), list.key)...), err)
			}
		}
	}
	return nil
}

// syncField writes the change from before to after, pointers to parts of
// the pods, into the mapping at path; it also returns after read as V.
func (s *syncer[V]) syncField(t *podtemplate.Target, path []string, before, after any) (bool, V, error) {
	var none V
	fail := func(err error) error {
		fe, ok := err.(*fieldError)
		if !ok {
			return fmt.Errorf("%s: field %s: %w", t, t.Field(path...), err)
		}
		return fmt.Errorf("%s: field %s: %s", t, t.Field(append(append([]string(nil), path...), fe.path)...), fe.msg)
	}
	b, err := s.of(before)
	if err != nil {
		return false, none, fail(err)
	}
	a, err := s.of(after)
	if err != nil {
		return false, none, fail(err)
	}
	if b.equal(a) {
		return false, a, nil
	}
	n, err := s.ensure(t.Object.YNode(), path)
	if err != nil {
		// ensure's path leads from the object, not from path.
		fe := err.(*fieldError)
		return false, none, fmt.Errorf("%s: field %s: %s", t, t.Field(fe.path), fe.msg)
	}
	if err := s.sync(n, b, a, ""); err != nil {
		return true, none, fail(err)
	}
	return true, a, nil
}

// walkPath returns the node at path below obj, nil when a step is
// missing or not a mapping.
func walkPath(obj *yaml.Node, path []string) *yaml.Node {
	n := resolve(content(obj))
	for _, key := range path {
		if n == nil || n.Kind != yaml.MappingNode {
			return nil
		}
		n = resolve(lookup(n, key))
	}
	return n
}

func isEmptyMapping(n *yaml.Node) bool {
	return n != nil && n.Kind == yaml.MappingNode && len(n.Content) == 0
}

// dropEmptyMapping removes the mapping at path when it is empty: the pod
// template metadata that injection created, once uninject has taken its
// labels and annotations out again, reads the same absent and is then
// as the user wrote it.
func dropEmptyMapping(obj *yaml.Node, path []string) {
	if len(path) == 0 {
		return
	}
	parent := walkPath(obj, path[:len(path)-1])
	if parent == nil || parent.Kind != yaml.MappingNode {
		return
	}
	key := path[len(path)-1]
	for i := 0; i+1 < len(parent.Content); i += 2 {
		k, v := parent.Content[i], parent.Content[i+1]
		if isMergeKey(k) || k.Value != key {
			continue
		}
		if v.Kind == yaml.MappingNode && len(v.Content) == 0 && v.Anchor == "" &&
			k.HeadComment == "" && k.LineComment == "" && v.LineComment == "" && v.HeadComment == "" {
			parent.Content = append(parent.Content[:i], parent.Content[i+2:]...)
		}
		return
	}
}

// ensure returns the mapping at path below obj, creating what is absent or
// null, and makes every node on the way safe to edit. Its errors are
// *fieldError with a path from obj.
func (s *syncer[V]) ensure(obj *yaml.Node, path []string) (*yaml.Node, error) {
	n := s.editable(content(obj))
	for i, key := range path {
		if n.Kind != yaml.MappingNode {
			return nil, &fieldError{path: strings.Join(path[:i], "."), msg: "expected an object, got " + describe(n)}
		}
		v := lookup(n, key)
		if v == nil {
			if mv := mergedValue(n, key, 0); mv != nil {
				v = copyNode(mv)
			} else {
				v = &yaml.Node{Kind: yaml.MappingNode, Tag: "!!map"}
			}
			n.Content = append(n.Content, keyNode(key), v)
		}
		n = s.editable(v)
		if isNull(n) {
			n.Kind, n.Tag, n.Value, n.Style = yaml.MappingNode, "!!map", "", 0
		}
	}
	if n.Kind != yaml.MappingNode {
		return nil, &fieldError{path: strings.Join(path, "."), msg: "expected an object, got " + describe(n)}
	}
	return n, nil
}

// generic turns a typed value into the JSON data model (maps, slices,
// strings, json.Number, bools, nil), the form both sides are compared in.
func generic(v any) (any, error) {
	if out, ok := typedjson.ToModel(v, typedjson.Number); ok {
		return out, nil
	}
	raw, err := json.Marshal(v)
	if err != nil {
		return nil, err
	}
	d := json.NewDecoder(bytes.NewReader(raw))
	d.UseNumber()
	var out any
	if err := d.Decode(&out); err != nil {
		return nil, err
	}
	return out, nil
}

// Sync edits node, which holds a value that reads as before, so that it
// reads as after. Parts equal in before and after are not touched, so
// whatever the node holds beyond before (unknown fields, comments, style)
// stays. before and after are in the JSON data model (json.Number or
// float64 for numbers). node is taken as the whole document for anchors:
// an alias inside it to an anchor that changes is expanded first; aliases
// elsewhere are not seen.
func Sync(node *yaml.Node, before, after any) error {
	if node == nil {
		return fmt.Errorf("writeback: no node to write to")
	}
	node = content(node)
	s := &syncer[modelValue]{root: node, of: modelOf}
	err := s.sync(node, modelValue{before}, modelValue{after}, "")
	s.placeComments()
	return err
}

// fieldError is a fault at path below the node being synced.
type fieldError struct{ path, msg string }

func (e *fieldError) Error() string {
	if e.path == "" {
		return e.msg
	}
	return "field " + e.path + ": " + e.msg
}

// syncer edits nodes of one document; root is that document, searched for
// aliases when an anchored node changes. It reads values as V.
type syncer[V value[V]] struct {
	root *yaml.Node
	// of reads a pointer to a part of a pod as V.
	of func(any) (V, error)
	// build makes the nodes of new typed values.
	build builder
	// fresh are nodes made from after's values (see made), which
	// canonical would leave as they are: it skips them. Nil when not
	// recorded, as for the model, which the tape syncer is tested
	// against.
	fresh map[*yaml.Node]bool
	// relocated are collections that took a scalar's or alias's place and
	// its line comment; see placeComments.
	relocated map[*yaml.Node]bool
	// transfers are the user's list elements that injection moves to a
	// sibling list, by the mapping holding both lists, then the key of
	// the list they move to, then their name; see movedElements.
	transfers map[*yaml.Node]map[string]map[string]orphan[V]
}

// orphan is a list element's node, and what it read as, on its way from
// one list to a sibling list.
type orphan[V any] struct {
	node   *yaml.Node
	before V
}

func (s *syncer[V]) sync(node *yaml.Node, before, after V, path string) error {
	if before.equal(after) {
		return nil
	}
	node = s.editable(content(node))
	if before.object() && after.object() && node.Kind == yaml.MappingNode {
		return s.syncMap(node, before, after, path)
	}
	if before.list() && after.list() && node.Kind == yaml.SequenceNode && len(node.Content) == before.length() {
		return s.syncList(node, before, after, path)
	}
	return s.replace(node, after, path)
}

// removed reports whether injection took key away: set before, unset (or
// null) after.
func removed[V value[V]](before, after V, key string) bool {
	bv, _ := before.get(key)
	av, _ := after.get(key)
	return !bv.isNull() && av.isNull()
}

func (s *syncer[V]) syncMap(node *yaml.Node, before, after V, path string) error {
	s.movedElements(node, before, after)
	unflowEmpty(node)
	// Delete what injection removed, keeping the order of the rest and
	// the places of the removed keys, where new keys go (a probe's
	// tcpSocket becomes an httpGet in the same place).
	kept := node.Content[:0:0]
	var slots []slot
	for i := 0; i+1 < len(node.Content); i += 2 {
		k, v := node.Content[i], node.Content[i+1]
		if !isMergeKey(k) && (removed(before, after, k.Value) || emptiedStruct(before, after, k.Value)) {
			s.release(v)
			slots = append(slots, slot{at: len(kept), value: v})
			continue
		}
		kept = append(kept, k, v)
	}
	node.Content = kept
	for _, k := range before.keys() {
		if removed(before, after, k) && mergedValue(node, k, 0) != nil {
			return &fieldError{path: joinPath(path, k), msg: "cannot remove the field: its value comes from a YAML merge key (<<)"}
		}
	}
	// Change what changed in place; append what is new, in sorted order so
	// the output does not depend on map iteration.
	for _, k := range after.keys() {
		av, _ := after.get(k)
		bv, inBefore := before.get(k)
		if v := lookup(node, k); v != nil {
			adopt := s.transfers[node][k]
			switch {
			case av.isNull():
				// Null after and before, or removed above.
			case inBefore && len(adopt) == 0 && bv.equal(av):
				// Unchanged (what sync would find first).
			case !inBefore:
				// The node has a value the typed model did not see (null,
				// or a zero value that marshals to nothing): replace it.
				if err := s.replace(v, av, joinPath(path, k)); err != nil {
					return err
				}
			default:
				if err := s.syncAdopting(v, bv, av, joinPath(path, k), adopt); err != nil {
					return err
				}
			}
			continue
		}
		if av.isNull() || (inBefore && bv.equal(av)) || emptiedStruct(before, after, k) {
			// Null fields are not written; a field the typed model adds
			// (e.g. resources: {}) that injection left alone neither.
			continue
		}
		p := joinPath(path, k)
		var v *yaml.Node
		if mv := mergedValue(node, k, 0); mv != nil && inBefore {
			// The value comes through a merge key: override it with an
			// edited copy, which keeps what the typed model does not see.
			v = copyNode(mv)
			if err := s.sync(v, bv, av, p); err != nil {
				return err
			}
		} else if adopt := s.transfers[node][k]; len(adopt) > 0 {
			var none, list V
			if av.list() {
				list = av
			}
			v = &yaml.Node{Kind: yaml.SequenceNode, Tag: "!!seq"}
			if err := s.syncListAdopting(v, none, list, p, adopt); err != nil {
				return err
			}
		} else {
			var err error
			if v, err = av.node(&s.build); err != nil {
				return &fieldError{path: p, msg: err.Error()}
			}
			s.made(v)
		}
		slots = insertKey(node, keyNode(k), v, slots)
	}
	return nil
}

// structFields are the fields whose type is a struct, not a pointer: the
// typed model writes them even when empty ("resources: {}"), and an empty
// one reads as none.
var structFields = map[string]bool{"resources": true}

// emptiedStruct reports whether key is a struct field that had content
// before and is empty after: it is then removed rather than written as
// {}, which reads the same and is what the user wrote when it was the
// user's (an istio-proxy declaration restored by uninject, say).
func emptiedStruct[V value[V]](before, after V, key string) bool {
	if !structFields[key] {
		return false
	}
	b, _ := before.get(key)
	a, _ := after.get(key)
	return b.object() && a.object() && b.size() > 0 && a.size() == 0
}

// slot is the place a removed key left in a mapping, with the removed
// value, whose flow style the value that takes the place inherits. Its
// comments are not carried over: they were about what was removed.
type slot struct {
	at    int
	value *yaml.Node
}

// insertKey adds a key to a mapping: in the first free slot a removed key
// left (the new key replaces it, as an httpGet replaces a probe's
// tcpSocket, and takes its flow style), else in its sorted
// place when the mapping's keys are sorted (as in what injection or the
// API server writes), else at the end, after the user's own keys. It
// returns the remaining slots.
func insertKey(m, k, v *yaml.Node, slots []slot) []slot {
	keys := make([]string, 0, len(m.Content)/2)
	for i := 0; i+1 < len(m.Content); i += 2 {
		if isMergeKey(m.Content[i]) {
			m.Content = append(m.Content, k, v)
			return slots
		}
		keys = append(keys, m.Content[i].Value)
	}
	at := len(m.Content)
	switch {
	case len(slots) > 0:
		sl := slots[0]
		at, slots = sl.at, slots[1:]
		if v.Kind != yaml.ScalarNode && v.Kind == sl.value.Kind && len(sl.value.Content) > 0 {
			v.Style |= sl.value.Style & yaml.FlowStyle
		}
	case len(keys) >= 1 && sort.StringsAreSorted(keys):
		at = sort.SearchStrings(keys, k.Value) * 2
	}
	m.Content = append(m.Content[:at], append([]*yaml.Node{k, v}, m.Content[at:]...)...)
	for i := range slots {
		if slots[i].at >= at {
			slots[i].at += 2
		}
	}
	return slots
}

// movedElements finds, in a mapping about to be synced, the elements of a
// list that injection moves to a sibling list: an element with a name
// that leaves one list while an element of that name, new there, appears
// in another (istio-proxy declared among the containers, which native
// sidecars make an init container). Their nodes are kept for the list
// they move to, so that their comments and unknown fields go with them.
func (s *syncer[V]) movedElements(node *yaml.Node, before, after V) {
	names := func(v V) map[string]int {
		if !v.list() {
			return nil
		}
		out := map[string]int{}
		for i := range v.length() {
			if e := v.index(i); e.object() {
				nv, _ := e.get("name")
				if n, ok := nv.str(); ok {
					out[n] = i
				}
			}
		}
		return out
	}
	field := func(v V, key string) V {
		x, _ := v.get(key)
		return x
	}
	for _, from := range before.keys() {
		bl := field(before, from)
		src := lookup(node, from)
		if bl.length() == 0 || src == nil || src.Kind != yaml.SequenceNode || len(src.Content) != bl.length() {
			continue
		}
		leaving, staying := names(bl), names(field(after, from))
		for name, i := range leaving {
			if _, ok := staying[name]; ok {
				continue
			}
			for _, to := range after.keys() {
				if to == from {
					continue
				}
				if _, arrives := names(field(after, to))[name]; !arrives {
					continue
				}
				if _, there := names(field(before, to))[name]; there {
					continue
				}
				if s.transfers == nil {
					s.transfers = map[*yaml.Node]map[string]map[string]orphan[V]{}
				}
				if s.transfers[node] == nil {
					s.transfers[node] = map[string]map[string]orphan[V]{}
				}
				if s.transfers[node][to] == nil {
					s.transfers[node][to] = map[string]orphan[V]{}
				}
				s.transfers[node][to][name] = orphan[V]{node: src.Content[i], before: bl.index(i)}
				break
			}
		}
	}
}

// made records a node built from after's value, and the elements of a
// list so built (canonical starts at a list's elements), as fresh.
func (s *syncer[V]) made(n *yaml.Node) {
	if s.fresh == nil {
		return
	}
	s.fresh[n] = true
	if n.Kind == yaml.SequenceNode {
		for _, e := range n.Content {
			s.fresh[e] = true
		}
	}
}

// syncAdopting is sync for a value that may receive moved list elements.
func (s *syncer[V]) syncAdopting(node *yaml.Node, before, after V, path string, adopt map[string]orphan[V]) error {
	if len(adopt) > 0 {
		n := s.editable(content(node))
		if before.list() && after.list() && n.Kind == yaml.SequenceNode && len(n.Content) == before.length() {
			return s.syncListAdopting(n, before, after, path, adopt)
		}
	}
	return s.sync(node, before, after, path)
}

func lookup(node *yaml.Node, key string) *yaml.Node {
	for i := 0; i+1 < len(node.Content); i += 2 {
		if k := node.Content[i]; !isMergeKey(k) && k.Value == key {
			return node.Content[i+1]
		}
	}
	return nil
}

// syncList rebuilds a list in after's order from the user's element nodes,
// matched to after's elements, so an element injection kept keeps its
// comments and unknown fields even when it moved.
func (s *syncer[V]) syncList(node *yaml.Node, before, after V, path string) error {
	return s.syncListAdopting(node, before, after, path, nil)
}

// elements are the elements of a list, none for anything else.
func elements[V value[V]](list V) []V {
	out := make([]V, list.length())
	for i := range out {
		out[i] = list.index(i)
	}
	return out
}

// syncListAdopting is syncList where new elements named in adopt reuse
// the node they had in a sibling list. before and after are lists, or
// null for none.
func (s *syncer[V]) syncListAdopting(node *yaml.Node, beforeList, afterList V, path string, adopt map[string]orphan[V]) error {
	unflowEmpty(node)
	before, after := elements(beforeList), elements(afterList)
	from, same := matchElements(before, after)
	used := make([]bool, len(before))
	for _, j := range from {
		if j >= 0 {
			used[j] = true
		}
	}
	for j, u := range used {
		if !u {
			s.release(node.Content[j])
		}
	}
	out := make([]*yaml.Node, 0, len(after))
	for i, av := range after {
		j := from[i]
		if j >= 0 && same[i] {
			// Unchanged (what sync would find first).
			out = append(out, node.Content[j])
			continue
		}
		p := indexPath(path, i)
		if j < 0 {
			if o, ok := adopt[elementName(av)]; ok && o.node != nil {
				delete(adopt, elementName(av))
				if err := s.sync(o.node, o.before, av, p); err != nil {
					return err
				}
				out = append(out, o.node)
				continue
			}
			v, err := av.node(&s.build)
			if err != nil {
				return &fieldError{path: p, msg: err.Error()}
			}
			s.made(v)
			out = append(out, v)
			continue
		}
		if err := s.sync(node.Content[j], before[j], av, p); err != nil {
			return err
		}
		out = append(out, node.Content[j])
	}
	node.Content = out
	return nil
}

// canonical writes every scalar below node as after has it ("3" for a
// quantity written "3000m"); comments, key order and fields unknown to the
// typed model stay.
func (s *syncer[V]) canonical(node *yaml.Node, after V, path string) error {
	if s.fresh[node] {
		return nil
	}
	node = content(node)
	switch {
	case after.object():
		if node.Kind != yaml.MappingNode {
			return nil
		}
		for i := 0; i+1 < len(node.Content); i += 2 {
			k := node.Content[i]
			if av, ok := after.get(k.Value); ok && !isMergeKey(k) {
				if err := s.canonical(node.Content[i+1], av, joinPath(path, k.Value)); err != nil {
					return err
				}
			}
		}
	case after.list():
		if node.Kind != yaml.SequenceNode || len(node.Content) != after.length() {
			return nil
		}
		for i := range after.length() {
			if err := s.canonical(node.Content[i], after.index(i), indexPath(path, i)); err != nil {
				return err
			}
		}
	default:
		if text, ok := after.text(); ok && node.Kind == yaml.ScalarNode && node.Value != text {
			return s.replace(s.editable(node), after, path)
		}
	}
	return nil
}

// unflowEmpty gives an empty collection block style: "[]" and "{}" are
// the only ways to write one, so its flow style says nothing of how the
// user would write it with content.
func unflowEmpty(n *yaml.Node) {
	if len(n.Content) == 0 {
		n.Style &^= yaml.FlowStyle
	}
}

// elementName is the name of a list element, "" when it has none.
func elementName[V value[V]](v V) string {
	if !v.object() {
		return ""
	}
	nv, _ := v.get("name")
	n, _ := nv.str()
	return n
}

// identityKeys are the fields that identify an element of the pod's lists
// (containers, volumes, env, ports, volume mounts, host aliases, devices).
var identityKeys = []string{"name", "mountPath", "containerPort", "ip", "devicePath"}

// matchElements says, for each element of after, which element of before
// it continues, or -1 for a new one: first an equal element (at the same
// position, then anywhere), then one with the same identity (all identity
// keys equal, then the first one), then, for elements without identity
// keys, the one at the same position. same says which elements of after
// equal the element they continue: those matched by equality, as one
// matched otherwise was found unequal to it first.
func matchElements[V value[V]](before, after []V) (from []int, same []bool) {
	from = make([]int, len(after))
	same = make([]bool, len(after))
	used := make([]bool, len(before))
	pick := func(i int, ok func(bv V) bool) {
		if from[i] >= 0 {
			return
		}
		for j, bv := range before {
			if !used[j] && ok(bv) {
				from[i], used[j] = j, true
				return
			}
		}
	}
	for i := range from {
		from[i] = -1
	}
	for i, av := range after {
		if i < len(before) && before[i].equal(av) {
			from[i], used[i], same[i] = i, true, true
		}
	}
	for i, av := range after {
		pick(i, func(bv V) bool { return bv.equal(av) })
		same[i] = from[i] >= 0
	}
	field := func(v V, key string) V {
		x, _ := v.get(key)
		return x
	}
	for i, av := range after {
		keys := identity(av)
		if len(keys) == 0 {
			continue
		}
		pick(i, func(bv V) bool {
			if !bv.object() {
				return false
			}
			for _, k := range keys {
				if !field(bv, k).equal(field(av, k)) {
					return false
				}
			}
			return true
		})
		pick(i, func(bv V) bool {
			return bv.object() && field(bv, keys[0]).equal(field(av, keys[0]))
		})
	}
	for i, av := range after {
		if from[i] < 0 && i < len(before) && !used[i] && len(identity(av)) == 0 && len(identity(before[i])) == 0 {
			from[i], used[i] = i, true
		}
	}
	return from, same
}

// identity returns the identity keys v has, in identityKeys order.
func identity[V value[V]](v V) []string {
	if !v.object() {
		return nil
	}
	var keys []string
	for _, k := range identityKeys {
		if x, ok := v.get(k); ok && !x.isNull() {
			keys = append(keys, k)
		}
	}
	return keys
}

// replace gives node after's value, keeping the node's comments, the
// user's quoting when a string stays a string, and flow style when a
// collection stays one.
func (s *syncer[V]) replace(node *yaml.Node, after V, path string) error {
	v, err := after.node(&s.build)
	if err != nil {
		return &fieldError{path: path, msg: err.Error()}
	}
	s.release(node)
	v.HeadComment, v.LineComment, v.FootComment = node.HeadComment, node.LineComment, node.FootComment
	switch {
	case node.Kind == yaml.ScalarNode && v.Kind == yaml.ScalarNode && node.ShortTag() == "!!str" && v.Tag == "!!str" && keepQuoting(node, v):
		v.Style = node.Style &^ yaml.TaggedStyle
	case node.Kind == v.Kind && v.Kind != yaml.ScalarNode && len(node.Content) > 0 && len(v.Content) > 0:
		v.Style = node.Style & yaml.FlowStyle
	}
	*node = *v
	s.moved(node)
	return nil
}

// keepQuoting says whether the new string value v takes the old node's
// style: a plain or quoted style the user chose for a value that needed
// no quotes carries over to a value that needs none either; a quote
// character ('9090' or "9090") carries over to a value that needs quotes.
// Quotes the old value needed ("" or "0") say nothing of the user's
// taste for a value that needs none.
func keepQuoting(old, v *yaml.Node) bool {
	quoted := old.Style&(yaml.SingleQuotedStyle|yaml.DoubleQuotedStyle) != 0
	switch {
	case v.Style == 0:
		return !needsQuotes(old.Value)
	case v.Style&(yaml.SingleQuotedStyle|yaml.DoubleQuotedStyle) != 0:
		// The single-quoted style cannot hold every character.
		return quoted && (old.Style&yaml.DoubleQuotedStyle != 0 || !strings.ContainsAny(v.Value, "\n\t\r"))
	}
	return false
}

// needsQuotes reports whether a string must be quoted to read as one.
func needsQuotes(s string) bool {
	n, err := newNode(s)
	return err != nil || n.Style != 0
}

// newNode builds YAML for a JSON-model value, with map keys sorted and null
// fields left out, as the API server would store it.
func newNode(v any) (*yaml.Node, error) {
	switch x := v.(type) {
	case map[string]any:
		n := &yaml.Node{Kind: yaml.MappingNode, Tag: "!!map"}
		for _, k := range sortedKeys(x) {
			if x[k] == nil {
				continue
			}
			c, err := newNode(x[k])
			if err != nil {
				return nil, err
			}
			n.Content = append(n.Content, keyNode(k), c)
		}
		return n, nil
	case []any:
		n := &yaml.Node{Kind: yaml.SequenceNode, Tag: "!!seq"}
		for _, e := range x {
			c, err := newNode(e)
			if err != nil {
				return nil, err
			}
			n.Content = append(n.Content, c)
		}
		return n, nil
	case json.Number:
		tag := "!!float"
		if !strings.ContainsAny(string(x), ".eE") {
			tag = "!!int"
		}
		return &yaml.Node{Kind: yaml.ScalarNode, Tag: tag, Value: string(x)}, nil
	}
	if n := plainScalar(v); n != nil {
		return n, nil
	}
	// Strings, bools, null and other numbers: let the encoder choose
	// quoting, so that a string such as "true", "on" or "15020" stays a
	// string for YAML 1.1 readers too.
	n := &yaml.Node{}
	if err := n.Encode(v); err != nil {
		return nil, err
	}
	return n, nil
}

// keyNode is a mapping key, quoted when it would read as something else.
func keyNode(k string) *yaml.Node {
	n, err := newNode(k)
	if err != nil {
		return &yaml.Node{Kind: yaml.ScalarNode, Tag: "!!str", Value: k, Style: yaml.DoubleQuotedStyle}
	}
	return n
}

func sortedKeys(m map[string]any) []string {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	return keys
}

// indexPath is path and a list index, "containers[2]".
func indexPath(path string, i int) string {
	return path + "[" + strconv.Itoa(i) + "]"
}

// scalarText is fmt.Sprint of a scalar of the JSON data model.
func scalarText(v any) string {
	switch x := v.(type) {
	case string:
		return x
	case json.Number:
		return string(x)
	case bool:
		return strconv.FormatBool(x)
	}
	return fmt.Sprint(v)
}

func joinPath(path, key string) string {
	if path == "" {
		return key
	}
	return path + "." + key
}
