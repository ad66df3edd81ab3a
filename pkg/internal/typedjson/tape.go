package typedjson

import (
	"bytes"
	"encoding/json"
	"reflect"
	"slices"
	"sort"
	"strconv"
	"strings"
	"unicode/utf8"

	"k8s.io/apimachinery/pkg/util/intstr"
)

// Kind is what a value is in the JSON data model.
type Kind uint8

const (
	// KindNull is nil in the model: a nil pointer, slice, map or
	// interface, or a marshaler that writes null.
	KindNull Kind = iota
	// KindObject is a map[string]any: a struct or a map.
	KindObject
	// KindList is a []any.
	KindList
	// KindString is a string.
	KindString
	// KindNumber is a json.Number (ToModel with Number).
	KindNumber
	// KindBool is a bool.
	KindBool
)

// Tape is a value of the JSON data model laid out flat, depth first: an
// object or list is followed by its members or elements, an object's
// members in the order of their keys. It holds what the model holds (a
// member whose value is null included) without a map, an interface or a
// boxed string, so reading and comparing it is cheap. Positions are
// indexes; 0 is the value itself.
type Tape struct {
	nodes []tapeNode
}

type tapeNode struct {
	kind Kind
	b    bool
	// n is the number of members or elements; end the position after
	// the value's last descendant.
	n, end int32
	// key is a member's key; text a string, or a number's digits.
	key, text string
}

// Arena holds the nodes of tapes laid out one after the other, so that
// a few tapes take one allocation. Its zero value is ready to use.
type Arena struct {
	nodes []tapeNode
}

// arenaSize is an arena's first capacity: a pod's metadata and spec,
// before and after injection, take about 400 nodes; 512 stay below the
// size of a large allocation (32 KiB), which costs more.
const arenaSize = 512

// TapeOf lays out ToModel(v, Number): v's value as encoding/json writes
// it; a pointer to a value reads as the value. ok is false where ToModel
// declines; use TapeOfModel on what encoding/json gives.
func TapeOf(v any) (t *Tape, ok bool) {
	var a Arena
	return a.TapeOf(v)
}

// TapeOf is TapeOf with its nodes in the arena.
func (a *Arena) TapeOf(v any) (t *Tape, ok bool) {
	rv := reflect.ValueOf(v)
	for rv.Kind() == reflect.Pointer && lookup(rv.Type()) == nil {
		if rv.IsNil() {
			return nullTape(), true
		}
		rv = rv.Elem()
	}
	if !rv.IsValid() {
		return nullTape(), true
	}
	ti := lookup(rv.Type())
	if ti == nil {
		return nil, false
	}
	if a.nodes == nil {
		a.nodes = make([]tapeNode, 0, arenaSize)
	}
	// The tape appends to the arena's free space; when it outgrows it,
	// append moves it, and the arena continues after it there.
	t = &Tape{nodes: a.nodes[len(a.nodes):]}
	if !t.typed("", rv, ti, 0) {
		return nil, false
	}
	a.nodes = t.nodes[len(t.nodes):]
	t.nodes = t.nodes[:len(t.nodes):len(t.nodes)]
	return t, true
}

// nullTape is the tape of null.
func nullTape() *Tape {
	return &Tape{nodes: []tapeNode{{kind: KindNull, end: 1}}}
}

// TapeOfModel lays out m, a value of the JSON data model with numbers as
// json.Number. Anything else in it is laid out as encoding/json writes
// and reads it back (numbers as json.Number); the error is its.
func TapeOfModel(m any) (*Tape, error) {
	t := &Tape{}
	if err := t.model("", m); err != nil {
		return nil, err
	}
	return t, nil
}

func (t *Tape) scalar(key string, kind Kind, text string, b bool) bool {
	at := int32(len(t.nodes))
	t.nodes = append(t.nodes, tapeNode{kind: kind, key: key, text: text, b: b, end: at + 1})
	return true
}

// open starts an object or list; closes it with its count.
func (t *Tape) open(key string, kind Kind) int {
	t.nodes = append(t.nodes, tapeNode{kind: kind, key: key})
	return len(t.nodes) - 1
}

func (t *Tape) close(at, n int) {
	t.nodes[at].n, t.nodes[at].end = int32(n), int32(len(t.nodes))
}

// typed mirrors encoder.value, writing to the tape.
func (t *Tape) typed(key string, v reflect.Value, ti *typeInfo, depth int) bool {
	if depth > maxDepth {
		return false
	}
	if ti.addrMarshaler {
		// encoding/json uses the method when the value is addressable,
		// which depends on how the caller passed it: declined, so that
		// TapeOf(&x) always reads as ToModel(x).
		return false
	}
	if ti.marshaler {
		if (ti.kind == reflect.Pointer || ti.kind == reflect.Interface) && v.IsNil() {
			return t.scalar(key, KindNull, "", false)
		}
		if ti.t == intOrStringType && v.CanAddr() {
			if done := t.intOrString(key, v.Addr().Interface().(*intstr.IntOrString)); done {
				return true
			}
		}
		return t.marshaled(key, v.Interface().(json.Marshaler))
	}
	if ti.text || ti.unsupported {
		return false
	}
	switch ti.kind {
	case reflect.String:
		s := v.String()
		return utf8.ValidString(s) && t.scalar(key, KindString, s, false)
	case reflect.Bool:
		return t.scalar(key, KindBool, "", v.Bool())
	case reflect.Int, reflect.Int8, reflect.Int16, reflect.Int32, reflect.Int64:
		return t.scalar(key, KindNumber, strconv.FormatInt(v.Int(), 10), false)
	case reflect.Uint, reflect.Uint8, reflect.Uint16, reflect.Uint32, reflect.Uint64, reflect.Uintptr:
		return t.scalar(key, KindNumber, strconv.FormatUint(v.Uint(), 10), false)
	case reflect.Pointer:
		if v.IsNil() {
			return t.scalar(key, KindNull, "", false)
		}
		return t.typed(key, v.Elem(), ti.elem, depth+1)
	case reflect.Interface:
		if v.IsNil() {
			return t.scalar(key, KindNull, "", false)
		}
		elem := v.Elem()
		eti := lookup(elem.Type())
		return eti != nil && t.typed(key, elem, eti, depth+1)
	case reflect.Struct:
		at := t.open(key, KindObject)
		n := 0
		for _, i := range ti.sorted {
			f := &ti.fields[i]
			fv := f.of(v)
			if !f.quoted && !f.omitZero && depth < maxDepth && f.typ.plainString() {
				// What omitted and typed do for a string field, without
				// the calls: most of a pod's fields are strings.
				s := fv.String()
				if f.omitEmpty && s == "" {
					continue
				}
				if !utf8.ValidString(s) {
					return false
				}
				t.scalar(f.name, KindString, s, false)
				n++
				continue
			}
			if omitted(f, fv) {
				continue
			}
			if f.quoted || !t.typed(f.name, fv, f.typ, depth+1) {
				return false
			}
			n++
		}
		t.close(at, n)
		return true
	case reflect.Slice:
		if v.IsNil() {
			return t.scalar(key, KindNull, "", false)
		}
		at := t.open(key, KindList)
		n := v.Len()
		for i := range n {
			if !t.typed("", v.Index(i), ti.elem, depth+1) {
				return false
			}
		}
		t.close(at, n)
		return true
	case reflect.Map:
		if v.IsNil() {
			return t.scalar(key, KindNull, "", false)
		}
		// Keys and values are read into one Value each, which copies
		// nothing (MapIter.Key and MapIndex copy every one).
		type entry struct {
			key, str string // str: the value, when plain
			val      reflect.Value
		}
		entries := make([]entry, 0, v.Len())
		kv := reflect.New(ti.t.Key()).Elem()
		plain := ti.elem.plainString()
		var ev reflect.Value
		if plain {
			ev = reflect.New(ti.t.Elem()).Elem()
		}
		var iter reflect.MapIter
		iter.Reset(v)
		for iter.Next() {
			kv.SetIterKey(&iter)
			k := kv.String()
			if !utf8.ValidString(k) {
				return false
			}
			e := entry{key: k}
			if plain {
				ev.SetIterValue(&iter)
				e.str = ev.String()
			} else {
				e.val = iter.Value()
			}
			entries = append(entries, e)
		}
		slices.SortFunc(entries, func(a, b entry) int { return strings.Compare(a.key, b.key) })
		at := t.open(key, KindObject)
		for _, e := range entries {
			if plain {
				if !utf8.ValidString(e.str) {
					return false
				}
				t.scalar(e.key, KindString, e.str, false)
				continue
			}
			if !t.typed(e.key, e.val, ti.elem, depth+1) {
				return false
			}
		}
		t.close(at, len(entries))
		return true
	}
	return false
}

// plainString reports whether values of the type are strings that
// encoder.value writes as they are (after checking their UTF-8).
func (ti *typeInfo) plainString() bool {
	return ti.kind == reflect.String && !ti.marshaler && !ti.addrMarshaler && !ti.text && !ti.unsupported
}

// intOrStringType is the type of probe and port numbers-or-names.
var intOrStringType = reflect.TypeFor[intstr.IntOrString]()

// intOrString writes what marshaled writes for x, without its MarshalJSON
// (which goes through encoding/json for a few bytes) and without boxing
// it, when that is plain: a number, or a string encoding/json writes as
// it is. done is false otherwise: the caller takes the general road.
func (t *Tape) intOrString(key string, x *intstr.IntOrString) (done bool) {
	switch x.Type {
	case intstr.Int:
		return t.scalar(key, KindNumber, strconv.FormatInt(int64(x.IntVal), 10), false)
	case intstr.String:
		for k := 0; k < len(x.StrVal); k++ {
			if !plainByte(x.StrVal[k]) {
				return false
			}
		}
		return t.scalar(key, KindString, x.StrVal, false)
	}
	return false
}

// marshaled is encoder.marshaled, writing to the tape.
func (t *Tape) marshaled(key string, m json.Marshaler) bool {
	e := encoder{numbers: Number}
	x, ok := e.marshaled(m)
	// x is a string, a json.Number or nil: model cannot fail on it.
	return ok && t.model(key, x) == nil
}

// model writes a value of the JSON data model; anything else goes
// through JSON text.
func (t *Tape) model(key string, m any) error {
	switch x := m.(type) {
	case nil:
		t.scalar(key, KindNull, "", false)
	case string:
		t.scalar(key, KindString, x, false)
	case json.Number:
		t.scalar(key, KindNumber, string(x), false)
	case bool:
		t.scalar(key, KindBool, "", x)
	case []any:
		at := t.open(key, KindList)
		for _, e := range x {
			if err := t.model("", e); err != nil {
				return err
			}
		}
		t.close(at, len(x))
	case map[string]any:
		keys := make([]string, 0, len(x))
		for k := range x {
			keys = append(keys, k)
		}
		sort.Strings(keys)
		at := t.open(key, KindObject)
		for _, k := range keys {
			if err := t.model(k, x[k]); err != nil {
				return err
			}
		}
		t.close(at, len(keys))
	default:
		raw, err := json.Marshal(m)
		if err != nil {
			return err
		}
		d := json.NewDecoder(bytes.NewReader(raw))
		d.UseNumber()
		var v any
		if err := d.Decode(&v); err != nil {
			return err
		}
		return t.model(key, v)
	}
	return nil
}

// Kind is the kind of the value at i.
func (t *Tape) Kind(i int) Kind { return t.nodes[i].kind }

// Len is the number of members or elements of the object or list at i.
func (t *Tape) Len(i int) int { return int(t.nodes[i].n) }

// First is the position of the first member or element of the object
// or list at i.
func (t *Tape) First(i int) int { return i + 1 }

// Next is the position after the value at i and its descendants: that of
// its next sibling, if any.
func (t *Tape) Next(i int) int { return int(t.nodes[i].end) }

// Key is the key of the member at i.
func (t *Tape) Key(i int) string { return t.nodes[i].key }

// Str is the string at i.
func (t *Tape) Str(i int) string { return t.nodes[i].text }

// Text is the scalar at i as text: a string, a number's digits, "true"
// or "false"; ok is false for null, objects and lists.
func (t *Tape) Text(i int) (string, bool) {
	n := &t.nodes[i]
	switch n.kind {
	case KindString, KindNumber:
		return n.text, true
	case KindBool:
		return strconv.FormatBool(n.b), true
	}
	return "", false
}

// Field is the position of key's value in the object at i, -1 when the
// object has no such key.
func (t *Tape) Field(i int, key string) int {
	j := i + 1
	for range t.nodes[i].n {
		switch k := t.nodes[j].key; {
		case k == key:
			return j
		case k > key:
			return -1 // members are sorted
		}
		j = int(t.nodes[j].end)
	}
	return -1
}

// Equal reports whether the value at i of a and that at j of b are
// equal, as reflect.DeepEqual compares models.
func Equal(a *Tape, i int, b *Tape, j int) bool {
	x, y := &a.nodes[i], &b.nodes[j]
	if x.kind != y.kind || x.n != y.n {
		return false
	}
	switch x.kind {
	case KindNull:
		return true
	case KindString, KindNumber:
		return x.text == y.text
	case KindBool:
		return x.b == y.b
	}
	if a == b && i == j {
		return true
	}
	ci, cj := i+1, j+1
	for range x.n {
		if x.kind == KindObject && a.nodes[ci].key != b.nodes[cj].key {
			return false
		}
		if !Equal(a, ci, b, cj) {
			return false
		}
		ci, cj = int(a.nodes[ci].end), int(b.nodes[cj].end)
	}
	return true
}
