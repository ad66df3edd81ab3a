package merge

import (
	"math"
	"reflect"
	"strings"
	"unicode/utf8"

	corev1 "k8s.io/api/core/v1"

	"github.com/inject-sidecar/inject-sidecar/pkg/internal/typedjson"
)

// decodeBlockTyped reads a rendered overlay straight into a typed pod,
// giving what parseBlockYAML and then decodeOverlay give, without the
// JSON data model in between for block mappings and sequences: those are
// read into the pod's structs, lists and maps as they come, and only
// scalars and flow collections go through the model (then into their
// field as typedjson decodes them). ok is false wherever the two could
// differ, and for everything either would refuse: the caller then takes
// that road.
func decodeBlockTyped(overlay []byte) (*corev1.Pod, *pnode, bool) {
	r := typedReader{}
	if !r.p.split(string(overlay)) {
		return nil, nil, false
	}
	pod := new(corev1.Pod)
	i := r.p.next(0)
	if i == len(r.p.lines) {
		return pod, &pnode{kind: pMap}, true // only blank lines and comments
	}
	if r.p.lines[i].col != 0 {
		return nil, nil, false
	}
	n, i, ok := r.structMapping(i, 0, reflect.ValueOf(pod).Elem(), tmTable())
	if !ok || i != len(r.p.lines) {
		return nil, nil, false
	}
	return pod, n, true
}

// typedReader reads block YAML with blockParser's rules into typed values.
type typedReader struct {
	p blockParser
	// stack holds the fields of the mappings being read.
	stack []pfield
	// nodes and fields are slabs the descriptions are cut from: a few
	// allocations per overlay rather than two per mapping.
	nodes  []pnode
	fields []pfield
}

func (r *typedReader) node(kind pkind) *pnode {
	if len(r.nodes) == cap(r.nodes) {
		r.nodes = make([]pnode, 0, 32)
	}
	r.nodes = append(r.nodes, pnode{kind: kind})
	return &r.nodes[len(r.nodes)-1]
}

// keep copies fields into the slab.
func (r *typedReader) keep(fields []pfield) []pfield {
	if cap(r.fields)-len(r.fields) < len(fields) {
		r.fields = make([]pfield, 0, max(128, len(fields)))
	}
	at := len(r.fields)
	r.fields = append(r.fields, fields...)
	return r.fields[at:len(r.fields):len(r.fields)]
}

// structMapping reads the block mapping at column indent from line i into
// the struct v of type st (see blockParser.mapping).
func (r *typedReader) structMapping(i, indent int, v reflect.Value, st *tmType) (*pnode, int, bool) {
	p := &r.p
	if p.depth++; p.depth > maxBlockDepth || len(st.list) > 64 {
		return nil, 0, false
	}
	defer func() { p.depth-- }()
	base := len(r.stack)
	var seen uint64
	var unknown []string
	for i < len(p.lines) {
		key, rest, end, ok := p.entry(i, indent)
		if end {
			break
		}
		if !ok {
			return nil, 0, false
		}
		f := st.fields[key]
		if f == nil {
			// Dropped by the decoding; read as the model all the same,
			// for the text's errors and directives.
			if strings.HasPrefix(key, "$") || st.folded[strings.ToLower(key)] || !utf8.ValidString(key) {
				return nil, 0, false
			}
			for _, u := range unknown {
				if u == key {
					return nil, 0, false
				}
			}
			unknown = append(unknown, key)
			var x any
			if x, i, ok = p.value(i, indent, rest); !ok || !tmNullsOK(x, unknownType, 0) {
				return nil, 0, false
			}
			continue
		}
		if bit := uint64(1) << f.ord; seen&bit != 0 || f.odd {
			return nil, 0, false
		} else {
			seen |= bit
		}
		var c *pnode
		if c, i, ok = r.fieldValue(i, indent, rest, f.of(v), f.typ); !ok {
			return nil, 0, false
		}
		r.stack = append(r.stack, pfield{f, c})
	}
	n := r.node(pMap)
	n.fields = r.keep(r.stack[base:])
	r.stack = r.stack[:base]
	return n, i, true
}

// fieldValue reads a mapping's value into the field fv of type ft (see
// blockParser.value).
func (r *typedReader) fieldValue(i, indent int, rest string, fv reflect.Value, ft *tmType) (*pnode, int, bool) {
	p := &r.p
	pl, rest, j, col := p.place(i, indent, rest)
	switch pl {
	case placeNull:
		return nullNode, j, true
	case placeBlock:
		if isEntry(p.text(j)) {
			return r.sequenceInto(j, col, fv, ft)
		}
		return r.mappingInto(j, col, fv, ft)
	case placeLiteral:
		x, j, ok := p.literal(i, indent, rest)
		if !ok {
			return nil, 0, false
		}
		n, ok := modelInto(x, fv, ft)
		return n, j, ok
	}
	n, after, ok := r.scalarInto(i, rest, fv, ft)
	if !ok {
		return nil, 0, false
	}
	if j, ok = p.afterInline(after, indent); !ok {
		return nil, 0, false
	}
	return n, j, true
}

// scalarInto reads a scalar or flow collection at the start of text (on
// line i) into fv, as scalarOrFlow and then modelInto do; text going into
// a string field is set without the model's boxing. It returns the last
// line read.
func (r *typedReader) scalarInto(i int, text string, fv reflect.Value, ft *tmType) (*pnode, int, bool) {
	if fv.Kind() == reflect.String && ft.kind == tmLeaf {
		switch text[0] {
		case '{', '[':
		case '"', '\'':
			s, n, ok := quotedScalar(text)
			if !ok || !emptyRest(text[n:]) || !utf8.ValidString(s) {
				return nil, 0, false
			}
			fv.SetString(s)
			return leafNode, i, true
		default:
			raw, ok := blockPlain(text)
			if !ok {
				return nil, 0, false
			}
			if _, isText, ok := resolvePlainKind(raw); ok && isText {
				fv.SetString(raw)
				return leafNode, i, true
			}
		}
	}
	x, after, ok := scalarOrFlow(&r.p, i, text)
	if !ok {
		return nil, 0, false
	}
	n, ok := modelInto(x, fv, ft)
	return n, after, ok
}

// mappingInto reads the block mapping at line i (column col) into fv.
func (r *typedReader) mappingInto(i, col int, fv reflect.Value, ft *tmType) (*pnode, int, bool) {
	switch ft.kind {
	case tmStruct:
		return r.structMapping(i, col, fv, ft)
	case tmPtrStruct:
		ptr := reflect.New(ft.elem.t)
		n, j, ok := r.structMapping(i, col, ptr.Elem(), ft.elem)
		if ok {
			fv.Set(ptr)
		}
		return n, j, ok
	case tmMap:
		if m, ok := fv.Addr().Interface().(*map[string]string); ok {
			return r.stringMap(i, col, m)
		}
	}
	x, j, ok := r.p.mapping(i, col)
	if !ok {
		return nil, 0, false
	}
	n, ok := modelInto(x, fv, ft)
	return n, j, ok
}

// stringMap reads a block mapping of strings (labels, annotations...).
func (r *typedReader) stringMap(i, indent int, m *map[string]string) (*pnode, int, bool) {
	p := &r.p
	out := map[string]string{}
	for i < len(p.lines) {
		key, rest, end, ok := p.entry(i, indent)
		if end {
			break
		}
		if !ok || strings.HasPrefix(key, "$") || !utf8.ValidString(key) {
			return nil, 0, false
		}
		if _, dup := out[key]; dup {
			return nil, 0, false
		}
		var x any
		if x, i, ok = p.value(i, indent, rest); !ok {
			return nil, 0, false
		}
		s, ok := x.(string)
		if !ok || !utf8.ValidString(s) {
			return nil, 0, false // null, numbers...: the model road decides
		}
		out[key] = s
	}
	*m = out
	return mapNode, i, true
}

// sequenceInto reads the block sequence at line i (dashes at column
// indent) into fv (see blockParser.sequence).
func (r *typedReader) sequenceInto(i, indent int, fv reflect.Value, ft *tmType) (*pnode, int, bool) {
	p := &r.p
	if ft.kind != tmSlice || ft.elem.kind == tmUnsupported {
		x, j, ok := p.sequence(i, indent)
		if !ok {
			return nil, 0, false
		}
		n, ok := modelInto(x, fv, ft)
		return n, j, ok
	}
	if p.depth++; p.depth > maxBlockDepth {
		return nil, 0, false
	}
	defer func() { p.depth-- }()
	// Count the entries first to make the slice once; a miscount (text
	// the count reads otherwise than the reader) is refused below.
	count := 0
	for k := i; k < len(p.lines); k++ {
		if p.blank(k) {
			continue
		}
		l := p.lines[k]
		if l.col < indent || (l.col == indent && !isEntry(p.text(k))) {
			break
		}
		if l.col == indent {
			count++
		}
	}
	s := reflect.MakeSlice(ft.t, count, count)
	n := r.node(pList)
	n.items = make([]*pnode, 0, count)
	for i < len(p.lines) {
		l := p.lines[i]
		if l.col < indent || (l.col == indent && !isEntry(p.text(i))) {
			break
		}
		if l.col > indent || len(n.items) == count {
			return nil, 0, false
		}
		ev := s.Index(len(n.items))
		t := p.text(i)
		item := strings.TrimLeft(t[1:], " ")
		if item == "" || item[0] == '#' || isEntry(item) || item[0] == '|' || item[0] == '>' {
			return nil, 0, false
		}
		col := l.col + len(t) - len(item)
		if _, _, isKey := splitKey(item); isKey {
			p.lines[i].col = col
			c, next, ok := r.mappingInto(i, col, ev, ft.elem)
			if !ok {
				return nil, 0, false
			}
			n.items = append(n.items, c)
			i = next
			continue
		}
		c, after, ok := r.scalarInto(i, item, ev, ft.elem)
		if !ok || c.kind == pNull {
			return nil, 0, false // a null item: refused by the typed merge
		}
		j, ok := p.afterInline(after, indent)
		if !ok {
			return nil, 0, false
		}
		n.items = append(n.items, c)
		i = j
	}
	if len(n.items) != count {
		return nil, 0, false
	}
	fv.Set(s)
	return n, i, true
}

// modelInto decodes the model value x (a scalar or a flow collection)
// into the zero field fv of type ft, as typedjson does within a whole
// overlay, and describes it.
func modelInto(x any, fv reflect.Value, ft *tmType) (*pnode, bool) {
	if x == nil {
		return nullNode, true // zero, as decoding null into a zero value gives
	}
	n, ok := pnodeOf(x, ft, 0)
	if !ok {
		return nil, false
	}
	if ft.kind == tmLeaf {
		if ok, done := basicInto(x, fv); done {
			return n, ok
		}
	}
	return n, typedjson.FromModel(x, fv.Addr().Interface())
}

// basicInto decodes a model scalar into a string, boolean or integer
// field, or a pointer to one, with typedjson's rules; done is false for
// other fields (quantities, int-or-strings...).
func basicInto(x any, fv reflect.Value) (ok, done bool) {
	v := fv
	if v.Kind() == reflect.Pointer {
		v = reflect.New(fv.Type().Elem()).Elem()
	}
	switch v.Kind() {
	case reflect.String:
		s, isString := x.(string)
		if !isString || !utf8.ValidString(s) {
			return false, true
		}
		v.SetString(s)
	case reflect.Bool:
		b, isBool := x.(bool)
		if !isBool {
			return false, true
		}
		v.SetBool(b)
	case reflect.Int, reflect.Int8, reflect.Int16, reflect.Int32, reflect.Int64:
		f, isFloat := x.(float64)
		// json.Marshal writes such numbers with all their digits only
		// below 2^53 (see typedjson).
		if !isFloat || f != math.Trunc(f) || math.Abs(f) >= 1<<53 || v.OverflowInt(int64(f)) {
			return false, true
		}
		v.SetInt(int64(f))
	default:
		return false, false
	}
	if fv.Kind() == reflect.Pointer {
		fv.Set(v.Addr())
	}
	return true, true
}
