package typedjson

import (
	"encoding"
	"encoding/json"
	"reflect"
	"sort"
	"strings"
	"sync"
	"unicode"

	corev1 "k8s.io/api/core/v1"
)

// typeInfo is what the conversions need to know of one Go type, worked
// out once from the same rules encoding/json applies.
type typeInfo struct {
	t    reflect.Type
	kind reflect.Kind

	// marshaler: t has a MarshalJSON method; addrMarshaler: only *t has
	// one, which encoding/json uses when the value is addressable.
	marshaler, addrMarshaler bool
	// unmarshaler: *t has an UnmarshalJSON method.
	unmarshaler bool
	// text: a text (un)marshaler that encoding/json would use in some
	// case; such values are left to encoding/json.
	text bool
	// unsupported: a kind converted here only through JSON text (floats,
	// arrays, []byte, maps with other keys, conflicting field names...).
	unsupported bool

	elem   *typeInfo // of a pointer, slice or map
	fields []field   // of a struct, in encoding/json's order
	byName map[string]*field
	// sorted are the indexes of fields in the order of their names, the
	// order the model's keys are written in.
	sorted []int
	// folded holds the lower-cased field names: a key equal to one only
	// case-insensitively is one encoding/json would still match.
	folded map[string]bool
}

// field is one JSON field of a struct.
type field struct {
	name      string
	index     int   // when the field is not promoted
	path      []int // when it is, through embedded structs (never pointers)
	typ       *typeInfo
	omitEmpty bool
	omitZero  bool
	isZero    func(reflect.Value) bool // set when the type has IsZero
	quoted    bool                     // the ",string" option
}

// of returns the field's value in v, a struct of the field's struct type.
func (f *field) of(v reflect.Value) reflect.Value {
	if f.index >= 0 {
		return v.Field(f.index)
	}
	return v.FieldByIndex(f.path)
}

var (
	marshalerType       = reflect.TypeFor[json.Marshaler]()
	unmarshalerType     = reflect.TypeFor[json.Unmarshaler]()
	textMarshalerType   = reflect.TypeFor[encoding.TextMarshaler]()
	textUnmarshalerType = reflect.TypeFor[encoding.TextUnmarshaler]()
	isZeroerType        = reflect.TypeFor[interface{ IsZero() bool }]()
)

// table holds every type reachable from corev1.Pod, built on first use
// and never changed afterwards. Types outside it (the dynamic value of
// an interface field, say) are left to encoding/json.
var table = sync.OnceValue(func() map[reflect.Type]*typeInfo {
	b := builder{seen: map[reflect.Type]*typeInfo{}}
	b.info(reflect.TypeFor[corev1.Pod]())
	return b.seen
})

func lookup(t reflect.Type) *typeInfo {
	return table()[t]
}

type builder struct {
	seen map[reflect.Type]*typeInfo
}

func (b *builder) info(t reflect.Type) *typeInfo {
	if ti, ok := b.seen[t]; ok {
		return ti
	}
	ti := &typeInfo{t: t, kind: t.Kind()}
	b.seen[t] = ti
	pt := reflect.PointerTo(t)
	ti.marshaler = t.Implements(marshalerType)
	ti.addrMarshaler = !ti.marshaler && t.Kind() != reflect.Pointer && pt.Implements(marshalerType)
	ti.unmarshaler = pt.Implements(unmarshalerType)
	hasText := t.Implements(textMarshalerType) || pt.Implements(textMarshalerType) || pt.Implements(textUnmarshalerType)
	// A JSON marshaler on the value and unmarshaler on the pointer win in
	// every case (metav1.Time, which has time.Time's text methods too).
	ti.text = hasText && !(ti.marshaler && ti.unmarshaler)
	switch t.Kind() {
	case reflect.Bool, reflect.String,
		reflect.Int, reflect.Int8, reflect.Int16, reflect.Int32, reflect.Int64,
		reflect.Uint, reflect.Uint8, reflect.Uint16, reflect.Uint32, reflect.Uint64, reflect.Uintptr,
		reflect.Interface:
	case reflect.Pointer:
		ti.elem = b.info(t.Elem())
	case reflect.Slice:
		ti.elem = b.info(t.Elem())
		// []byte is base64 text in JSON.
		ti.unsupported = t.Elem().Kind() == reflect.Uint8
	case reflect.Map:
		ti.elem = b.info(t.Elem())
		kt := t.Key()
		ti.unsupported = kt.Kind() != reflect.String || reflect.PointerTo(kt).Implements(textUnmarshalerType)
	case reflect.Struct:
		if !ti.marshaler && !ti.addrMarshaler {
			b.structFields(ti)
		}
	default:
		// Floats (formatting rules), arrays, complex numbers, channels, functions.
		ti.unsupported = true
	}
	return ti
}

// structFields lists a struct's JSON fields as encoding/json does:
// tagged or exported fields, the fields of untagged embedded structs
// promoted in their place. Conflicting names, promotion through a
// pointer and unusual tags leave the struct to encoding/json.
func (b *builder) structFields(ti *typeInfo) {
	var walk func(t reflect.Type, path []int, depth int)
	walk = func(t reflect.Type, path []int, depth int) {
		if depth > 10 {
			ti.unsupported = true
			return
		}
		for i := range t.NumField() {
			sf := t.Field(i)
			if sf.Anonymous {
				ft := sf.Type
				if ft.Kind() == reflect.Pointer {
					ft = ft.Elem()
				}
				if !sf.IsExported() && ft.Kind() != reflect.Struct {
					continue
				}
			} else if !sf.IsExported() {
				continue
			}
			tag := sf.Tag.Get("json")
			if tag == "-" {
				continue
			}
			name, opts, _ := strings.Cut(tag, ",")
			if !validName(name) {
				name = ""
			}
			at := append(append([]int(nil), path...), i)
			if name == "" && sf.Anonymous {
				ft := sf.Type
				if ft.Kind() == reflect.Pointer && ft.Name() == "" {
					// Promotion through a pointer: encoding/json
					// allocates or skips it; not done here.
					ti.unsupported = true
					return
				}
				if ft.Kind() == reflect.Struct {
					walk(ft, at, depth+1)
					continue
				}
			}
			f := field{name: name, typ: b.info(sf.Type), index: -1}
			if f.name == "" {
				f.name = sf.Name
			}
			if len(at) == 1 {
				f.index = at[0]
			} else {
				f.path = at
			}
			for opt := range strings.SplitSeq(opts, ",") {
				switch opt {
				case "omitempty":
					f.omitEmpty = true
				case "omitzero":
					f.omitZero = true
					f.isZero = zeroFunc(sf.Type)
				case "string":
					f.quoted = true
				}
			}
			ti.fields = append(ti.fields, f)
		}
	}
	walk(ti.t, nil, 0)
	ti.byName = make(map[string]*field, len(ti.fields))
	ti.folded = make(map[string]bool, len(ti.fields))
	ti.sorted = make([]int, len(ti.fields))
	for i := range ti.sorted {
		ti.sorted[i] = i
	}
	sort.SliceStable(ti.sorted, func(a, b int) bool {
		return ti.fields[ti.sorted[a]].name < ti.fields[ti.sorted[b]].name
	})
	for i := range ti.fields {
		f := &ti.fields[i]
		if _, dup := ti.byName[f.name]; dup {
			// encoding/json's dominance rules decide; not repeated here.
			ti.unsupported = true
		}
		ti.byName[f.name] = f
		ti.folded[strings.ToLower(f.name)] = true
	}
}

// zeroFunc is how encoding/json decides omitzero for a type with an
// IsZero method; nil means reflect's IsZero.
func zeroFunc(t reflect.Type) func(reflect.Value) bool {
	switch {
	case t.Kind() == reflect.Interface && t.Implements(isZeroerType):
		return func(v reflect.Value) bool {
			return v.IsNil() || (v.Elem().Kind() == reflect.Pointer && v.Elem().IsNil()) ||
				v.Interface().(interface{ IsZero() bool }).IsZero()
		}
	case t.Kind() == reflect.Pointer && t.Implements(isZeroerType):
		return func(v reflect.Value) bool {
			return v.IsNil() || v.Interface().(interface{ IsZero() bool }).IsZero()
		}
	case t.Implements(isZeroerType):
		return func(v reflect.Value) bool {
			return v.Interface().(interface{ IsZero() bool }).IsZero()
		}
	case reflect.PointerTo(t).Implements(isZeroerType):
		return func(v reflect.Value) bool {
			if !v.CanAddr() {
				c := reflect.New(v.Type()).Elem()
				c.Set(v)
				v = c
			}
			return v.Addr().Interface().(interface{ IsZero() bool }).IsZero()
		}
	}
	return nil
}

// validName reports whether a tag's name is one encoding/json uses (it
// falls back to the Go field name otherwise).
func validName(s string) bool {
	if s == "" {
		return false
	}
	for _, c := range s {
		switch {
		case strings.ContainsRune("!#$%&()*+-./:;<=>?@[]^_{|}~ ", c):
		case !unicode.IsLetter(c) && !unicode.IsDigit(c):
			return false
		}
	}
	return true
}
