package merge

import (
	"encoding"
	"encoding/json"
	"reflect"
	"slices"
	"strings"
	"sync"
	"unicode/utf8"

	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/api/resource"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/util/intstr"

	"github.com/inject-sidecar/inject-sidecar/pkg/internal/typedjson"
)

// The typed merge applies an overlay straight to a typed pod, with the
// results applyPatchMap gives (pod -> JSON model -> strategic merge ->
// JSON model -> pod), compared as JSON: everything downstream reads the
// pod as JSON. It walks only what the overlay mentions (its description,
// a pnode), moving the values from the overlay decoded on its own (ov,
// from decodeBlockTyped or decodeOverlay). It takes the overlays
// templates render: no $patch-like directive, nulls only as values of
// struct fields, merge lists whose keys are present and unique on both
// sides, and pods that the trip through the JSON model leaves as they are
// (jsonStable). For anything else it declines, before changing anything,
// and the caller takes the general road.

// tmKind is how the typed merge treats a Go type.
type tmKind int

const (
	// tmUnsupported: declined when the overlay mentions it.
	tmUnsupported tmKind = iota
	// tmLeaf: a JSON scalar (strings, booleans, integers, pointers to
	// them, quantities, int-or-strings, timestamps): replaced.
	tmLeaf
	// tmStruct and tmPtrStruct: a JSON object merged key by key.
	tmStruct
	tmPtrStruct
	// tmMap: a map of leaves, merged key by key.
	tmMap
	// tmSlice: a list, replaced or merged by key (per field).
	tmSlice
)

type tmType struct {
	t    reflect.Type
	kind tmKind
	elem *tmType // slice element, map value
	// Of a struct (tmStruct, or the element of tmPtrStruct):
	fields map[string]*tmField
	list   []*tmField // the same, in declaration order
	folded map[string]bool
}

type tmField struct {
	name      string
	path      []int
	index     int // path[0] when the field is not promoted, else -1
	ord       int // its place in the struct's list
	typ       *tmType
	omitEmpty bool
	// merge: the field's patch strategy merges lists; key is the merge
	// key, keyField its field in the element type.
	merge    bool
	key      string
	keyField *tmField
	// odd: a patch strategy or tag the typed merge does not know.
	odd bool
}

var (
	quantityType    = reflect.TypeFor[resource.Quantity]()
	intOrStringType = reflect.TypeFor[intstr.IntOrString]()
	timeType        = reflect.TypeFor[metav1.Time]()
	marshalerIface  = reflect.TypeFor[json.Marshaler]()
	unmarshalIface  = reflect.TypeFor[json.Unmarshaler]()

	textMarshalerIface   = reflect.TypeFor[encoding.TextMarshaler]()
	textUnmarshalerIface = reflect.TypeFor[encoding.TextUnmarshaler]()
)

// tmTable holds the types reachable from corev1.Pod, built once and read
// only afterwards.
var tmTable = sync.OnceValue(func() *tmType {
	seen := map[reflect.Type]*tmType{}
	return tmBuild(reflect.TypeFor[corev1.Pod](), seen)
})

func tmBuild(t reflect.Type, seen map[reflect.Type]*tmType) *tmType {
	if tt, ok := seen[t]; ok {
		return tt
	}
	tt := &tmType{t: t}
	seen[t] = tt
	switch t {
	case quantityType, intOrStringType, timeType:
		tt.kind = tmLeaf
		return tt
	}
	if t.Implements(marshalerIface) || reflect.PointerTo(t).Implements(marshalerIface) ||
		reflect.PointerTo(t).Implements(unmarshalIface) ||
		t.Implements(textMarshalerIface) || reflect.PointerTo(t).Implements(textMarshalerIface) ||
		reflect.PointerTo(t).Implements(textUnmarshalerIface) {
		// Other custom JSON forms (raw managed fields...): not merged here.
		return tt
	}
	switch t.Kind() {
	case reflect.String, reflect.Bool, reflect.Int, reflect.Int8, reflect.Int16, reflect.Int32, reflect.Int64:
		tt.kind = tmLeaf
	case reflect.Pointer:
		e := tmBuild(t.Elem(), seen)
		switch {
		case e.kind == tmLeaf && e.t.Kind() != reflect.Pointer:
			tt.kind, tt.elem = tmLeaf, e
		case e.kind == tmStruct:
			tt.kind, tt.elem = tmPtrStruct, e
		}
	case reflect.Slice:
		if t.Elem().Kind() == reflect.Uint8 {
			return tt // base64 text
		}
		tt.kind, tt.elem = tmSlice, tmBuild(t.Elem(), seen)
	case reflect.Map:
		e := tmBuild(t.Elem(), seen)
		if t.Key().Kind() == reflect.String && e.kind == tmLeaf && e.t.Kind() != reflect.Pointer {
			tt.kind, tt.elem = tmMap, e
		}
	case reflect.Struct:
		tt.kind = tmStruct
		tt.fields = map[string]*tmField{}
		tt.folded = map[string]bool{}
		if !tmFields(tt, t, nil, seen) {
			tt.kind, tt.fields, tt.list, tt.folded = tmUnsupported, nil, nil, nil
		}
	}
	return tt
}

// tmFields lists a struct's JSON fields, promoting untagged embedded
// structs as encoding/json does; false for what it does not handle.
func tmFields(tt *tmType, t reflect.Type, path []int, seen map[reflect.Type]*tmType) bool {
	for i := range t.NumField() {
		sf := t.Field(i)
		tag := sf.Tag.Get("json")
		if tag == "-" || (!sf.IsExported() && !sf.Anonymous) {
			continue
		}
		name, opts, _ := strings.Cut(tag, ",")
		at := append(append([]int(nil), path...), i)
		if name == "" && sf.Anonymous {
			if sf.Type.Kind() != reflect.Struct {
				return false
			}
			if !tmFields(tt, sf.Type, at, seen) {
				return false
			}
			continue
		}
		if !sf.IsExported() {
			continue
		}
		if name == "" || !asciiName(name) {
			return false
		}
		f := &tmField{name: name, path: at, index: -1, typ: tmBuild(sf.Type, seen)}
		if len(at) == 1 {
			f.index = at[0]
		}
		for o := range strings.SplitSeq(opts, ",") {
			switch o {
			case "", "inline":
			case "omitempty":
				f.omitEmpty = true
			default:
				f.odd = true // omitzero, string...
			}
		}
		for s := range strings.SplitSeq(sf.Tag.Get("patchStrategy"), ",") {
			switch s {
			case "", "retainKeys":
			case "merge":
				f.merge = true
			default:
				f.odd = true
			}
		}
		f.key = sf.Tag.Get("patchMergeKey")
		if _, dup := tt.fields[name]; dup {
			return false
		}
		tt.fields[name] = f
		f.ord = len(tt.list)
		tt.list = append(tt.list, f)
		tt.folded[strings.ToLower(name)] = true
	}
	return true
}

func asciiName(s string) bool {
	for i := range len(s) {
		c := s[i]
		if !(c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9' || c == '_') {
			return false
		}
	}
	return true
}

// keyOf returns the merge key field of a merge list's element type, or
// nil when the list is not one the typed merge handles.
func (f *tmField) keyOf() *tmField {
	if f.keyField != nil {
		return f.keyField
	}
	e := f.typ.elem
	if e == nil || e.kind != tmStruct || f.key == "" {
		return nil
	}
	k := e.fields[f.key]
	if k == nil || k.odd || k.typ.kind != tmLeaf {
		return nil
	}
	switch k.typ.t.Kind() {
	case reflect.String, reflect.Int32, reflect.Int64, reflect.Int:
		return k
	}
	return nil
}

// pnode is what the typed merge needs of an overlay besides its decoded
// value: which keys each mapping had (a key present with a zero value
// still replaces), which were null, and the items of lists.
type pnode struct {
	kind   pkind
	fields []pfield // of a mapping read into a struct: its known keys
	items  []*pnode // of a list
}

type pkind uint8

const (
	pLeaf pkind = iota
	pNull
	pMap
	pList
)

type pfield struct {
	f *tmField
	n *pnode
}

// Shared nodes for values with nothing below.
var (
	leafNode = &pnode{kind: pLeaf}
	nullNode = &pnode{kind: pNull}
	mapNode  = &pnode{kind: pMap} // a map of leaves: the decoded map has the keys
)

// mergeTyped merges the overlay, decoded on its own as ov and described
// by n, into dst in place. It returns false, having changed nothing, when
// it cannot tell the result exactly. ov's values are moved into dst: ov
// must not be used afterwards.
func mergeTyped(dst, ov *corev1.Pod, n *pnode) bool {
	root := tmTable()
	d, s := reflect.ValueOf(dst).Elem(), reflect.ValueOf(ov).Elem()
	if n.kind != pMap || !tmStructWalk(d, s, n, root, false, 0) {
		return false
	}
	tmStructWalk(d, s, n, root, true, 0)
	return true
}

// decodeOverlay decodes a parsed patch into a new pod, exactly as
// encoding/json would, when the strategic merge would read it the same:
// no directive ($patch, $setElementOrder...), and nulls only as values of
// struct fields (the merge deletes those, or drops them, or keeps them,
// and the decoding reads zero in each case). Otherwise it reports false.
func decodeOverlay(patch map[string]any) (*corev1.Pod, *pnode, bool) {
	n, ok := pnodeOf(patch, tmTable(), 0)
	if !ok {
		return nil, nil, false
	}
	pod := new(corev1.Pod)
	if !typedjson.FromModel(patch, pod) {
		return nil, nil, false
	}
	return pod, n, true
}

// pnodeOf describes the patch value v of type tt; false when v holds a
// directive, or a null but as the value of a struct field.
func pnodeOf(v any, tt *tmType, depth int) (*pnode, bool) {
	if depth > maxTypedDepth {
		return nil, false
	}
	switch v := v.(type) {
	case nil:
		return nullNode, true // the caller tells whether null may be here
	case map[string]any:
		st := tt
		if tt.kind == tmPtrStruct {
			st = tt.elem
		}
		if st.kind != tmStruct {
			return mapNode, tmNullsOK(v, tt, depth)
		}
		n := &pnode{kind: pMap, fields: make([]pfield, 0, len(v))}
		for k, x := range v {
			if strings.HasPrefix(k, "$") {
				return nil, false
			}
			f := st.fields[k]
			if f == nil {
				// Dropped by the decoding, yet directives count.
				if !tmNullsOK(x, unknownType, depth+1) {
					return nil, false
				}
				continue
			}
			c, ok := pnodeOf(x, f.typ, depth+1)
			if !ok {
				return nil, false
			}
			n.fields = append(n.fields, pfield{f, c})
		}
		return n, true
	case []any:
		et := unknownType
		if tt.kind == tmSlice {
			et = tt.elem
		}
		n := &pnode{kind: pList, items: make([]*pnode, len(v))}
		for i, x := range v {
			if x == nil {
				return nil, false
			}
			c, ok := pnodeOf(x, et, depth+1)
			if !ok {
				return nil, false
			}
			n.items[i] = c
		}
		return n, true
	}
	return leafNode, true
}

// tmNullsOK reports whether the patch value v of type tt holds no
// directive and no null but as the value of a struct field.
func tmNullsOK(v any, tt *tmType, depth int) bool {
	if depth > maxTypedDepth {
		return false
	}
	switch v := v.(type) {
	case nil:
		return false
	case map[string]any:
		st := tt
		if tt.kind == tmPtrStruct {
			st = tt.elem
		}
		for k, x := range v {
			if strings.HasPrefix(k, "$") {
				return false
			}
			switch x.(type) {
			case string, float64, bool:
				continue // nothing below
			}
			var ft *tmType
			switch st.kind {
			case tmStruct:
				f := st.fields[k]
				if f == nil {
					ft = unknownType // dropped, yet directives count
				} else if x == nil {
					continue
				} else {
					ft = f.typ
				}
			case tmMap:
				ft = st.elem
			default:
				ft = unknownType
			}
			if !tmNullsOK(x, ft, depth+1) {
				return false
			}
		}
	case []any:
		et := unknownType
		if tt.kind == tmSlice {
			et = tt.elem
		}
		for _, x := range v {
			if !tmNullsOK(x, et, depth+1) {
				return false
			}
		}
	}
	return true
}

// unknownType stands for what a patch holds where the pod has no field:
// no null is allowed there.
var unknownType = &tmType{}

const maxTypedDepth = 100

// of returns the field f of the struct v.
func (f *tmField) of(v reflect.Value) reflect.Value {
	if f.index >= 0 {
		return v.Field(f.index)
	}
	return v.FieldByIndex(f.path)
}

// tmStructWalk merges the mapping n into the struct d, taking values
// from s (the same struct type decoded from the overlay). With apply
// false it only checks.
func tmStructWalk(d, s reflect.Value, n *pnode, tt *tmType, apply bool, depth int) bool {
	if depth > maxTypedDepth {
		return false
	}
	for _, pf := range n.fields {
		if pf.f.odd {
			return false
		}
		if !tmFieldWalk(pf.f.of(d), pf.f.of(s), pf.n, pf.f, apply, depth+1) {
			return false
		}
	}
	return true
}

func tmFieldWalk(d, s reflect.Value, n *pnode, f *tmField, apply bool, depth int) bool {
	tt := f.typ
	if n.kind == pNull {
		// Deleted from the pod (or dropped from a value taken whole):
		// zero either way once decoded.
		if apply {
			d.SetZero()
		}
		return true
	}
	switch tt.kind {
	case tmLeaf:
		// A JSON scalar replaces (a map or list here was refused when
		// decoding ov, except for int-or-strings and the like: check).
		if n.kind != pLeaf {
			return false
		}
		if apply {
			d.Set(s)
		}
		return true
	case tmStruct:
		if n.kind != pMap {
			return false
		}
		return tmStructWalk(d, s, n, tt, apply, depth)
	case tmPtrStruct:
		if n.kind != pMap || s.IsNil() {
			return false
		}
		if d.IsNil() {
			// Absent (or null) in the pod: the overlay's value is taken.
			if apply {
				d.Set(s)
			}
			return true
		}
		return tmStructWalk(d.Elem(), s.Elem(), n, tt.elem, apply, depth)
	case tmMap:
		if n.kind != pMap || s.IsNil() {
			return false
		}
		if !apply {
			return true
		}
		if d.IsNil() {
			d.Set(s)
			return true
		}
		iter := s.MapRange()
		for iter.Next() {
			d.SetMapIndex(iter.Key(), iter.Value())
		}
		return true
	case tmSlice:
		if n.kind != pList || s.Len() != len(n.items) {
			return false
		}
		if !f.merge {
			if apply {
				d.Set(s)
			}
			return true
		}
		return tmMergeList(d, s, n.items, f, apply, depth)
	}
	return false
}

// tmMergeList merges a list by key as the strategic merge does without
// directives: elements of the pod that the patch names are merged in
// place, new ones are added; the result has the patch's elements in the
// patch's order, the pod's other elements kept in their order and put
// before a patch element that followed them in the pod.
func tmMergeList(d, s reflect.Value, l []*pnode, f *tmField, apply bool, depth int) bool {
	kf := f.keyOf()
	if kf == nil {
		return false // scalar merge lists, no merge key: not handled
	}
	// The patch's elements: each must name its key, once.
	pk := make([]tmKey, len(l))
	for j, x := range l {
		if x.kind != pMap || !x.hasValue(kf) {
			return false
		}
		pk[j] = keyValue(kf.of(s.Index(j)))
		if !apply && slices.Contains(pk[:j], pk[j]) {
			return false
		}
	}
	n := d.Len()
	if n == 0 {
		// Absent, null or empty in the pod: the patch's list.
		if apply {
			d.Set(s)
		}
		return true
	}
	// The pod's elements: each must have its key in JSON, once.
	dk := make([]tmKey, n)
	for i := range n {
		kv := kf.of(d.Index(i))
		if !apply && kf.omitEmpty && kv.IsZero() {
			return false
		}
		dk[i] = keyValue(kv)
		if !apply && slices.Contains(dk[:i], dk[i]) {
			return false
		}
	}
	// at[j]: the pod's index of the patch's element j, or -1.
	at := make([]int, len(l))
	inPatch := make([]bool, n)
	for j, x := range l {
		at[j] = slices.Index(dk, pk[j])
		if i := at[j]; i >= 0 {
			inPatch[i] = true
			if !tmStructWalk(d.Index(i), s.Index(j), x, f.typ.elem, apply, depth+1) {
				return false
			}
		}
	}
	if !apply {
		return true
	}
	out := reflect.MakeSlice(d.Type(), n+len(l), n+len(l))
	k, i, j := 0, 0, 0
	for {
		for i < n && inPatch[i] {
			i++
		}
		if i >= n && j >= len(l) {
			break
		}
		switch {
		case j >= len(l) || (i < n && at[j] >= 0 && i < at[j]):
			out.Index(k).Set(d.Index(i))
			i++
		case at[j] >= 0:
			out.Index(k).Set(d.Index(at[j]))
			j++
		default:
			out.Index(k).Set(s.Index(j))
			j++
		}
		k++
	}
	d.Set(out.Slice(0, k))
	return true
}

// hasValue reports whether the mapping has the field f, not null.
func (n *pnode) hasValue(f *tmField) bool {
	for _, pf := range n.fields {
		if pf.f == f {
			return pf.n.kind != pNull
		}
	}
	return false
}

// tmKey is a merge key's value: a string or an integer.
type tmKey struct {
	s string
	i int64
}

func keyValue(v reflect.Value) tmKey {
	if v.Kind() == reflect.String {
		return tmKey{s: v.String()}
	}
	return tmKey{i: v.Int()}
}

// jsonStable reports whether the pod reads back the same after its trip
// through the JSON model on the general road: every string valid UTF-8,
// every integer below 2^53 in magnitude (the model holds float64), and no
// custom JSON form but quantities, int-or-strings and timestamps.
func jsonStable(pod *corev1.Pod) bool {
	return tmStable(reflect.ValueOf(pod).Elem(), tmTable(), 0)
}

func tmStable(v reflect.Value, tt *tmType, depth int) bool {
	if depth > maxTypedDepth {
		return false
	}
	switch v.Kind() {
	case reflect.String:
		return utf8.ValidString(v.String())
	case reflect.Int, reflect.Int8, reflect.Int16, reflect.Int32, reflect.Int64:
		n := v.Int()
		return n < 1<<53 && n > -(1<<53)
	case reflect.Bool:
		return true
	}
	switch tt.t {
	case quantityType, timeType:
		return true
	case intOrStringType:
		if v.CanAddr() {
			return utf8.ValidString(v.Addr().Interface().(*intstr.IntOrString).StrVal)
		}
		return utf8.ValidString(v.Interface().(intstr.IntOrString).StrVal)
	}
	switch tt.kind {
	case tmLeaf, tmPtrStruct:
		if v.Kind() == reflect.Pointer {
			return v.IsNil() || tmStable(v.Elem(), tt.elem, depth+1)
		}
		return false
	case tmStruct:
		for _, f := range tt.list {
			if !tmStable(f.of(v), f.typ, depth+1) {
				return false
			}
		}
		return true
	case tmMap:
		iter := v.MapRange()
		for iter.Next() {
			if !utf8.ValidString(iter.Key().String()) || !tmStable(iter.Value(), tt.elem, depth+1) {
				return false
			}
		}
		return true
	case tmSlice:
		for i := range v.Len() {
			if !tmStable(v.Index(i), tt.elem, depth+1) {
				return false
			}
		}
		return true
	}
	// Unsupported types: stable only when empty (nothing to trip).
	return v.IsZero()
}

// skeleton keeps of the template-only pod what is read of it: the names
// of its containers, init containers, volumes and pull secrets (see
// applyOverlays, reapplyUserContainers and statusAnnotation).
func skeleton(pod *corev1.Pod) *corev1.Pod {
	out := &corev1.Pod{}
	out.Spec.Containers = namesOnly(pod.Spec.Containers)
	out.Spec.InitContainers = namesOnly(pod.Spec.InitContainers)
	if v := pod.Spec.Volumes; v != nil {
		out.Spec.Volumes = make([]corev1.Volume, len(v))
		for i := range v {
			out.Spec.Volumes[i].Name = v[i].Name
		}
	}
	if r := pod.Spec.ImagePullSecrets; r != nil {
		out.Spec.ImagePullSecrets = make([]corev1.LocalObjectReference, len(r))
		for i := range r {
			out.Spec.ImagePullSecrets[i].Name = r[i].Name
		}
	}
	return out
}

func namesOnly(cs []corev1.Container) []corev1.Container {
	if cs == nil {
		return nil
	}
	out := make([]corev1.Container, len(cs))
	for i := range cs {
		out[i].Name = cs[i].Name
	}
	return out
}
