// Package typedjson converts typed Kubernetes pod values to the JSON data
// model (map[string]any, []any, string, bool, nil, and float64 or
// json.Number for numbers) and back, directly rather than through JSON
// text, with the results encoding/json gives through text: encoding with
// json.Marshal then decoding into an any, and encoding the model with
// json.Marshal then decoding into a typed value.
//
// What it cannot reproduce exactly it declines (ok == false): floats,
// text marshalers, keys encoding/json would match case-insensitively,
// invalid UTF-8, type mismatches and the like. The caller then takes the
// JSON text road, so results and error messages stay encoding/json's.
// Only types reachable from corev1.Pod are known.
//
// A Tape holds the same model laid out flat, for readers that compare
// and walk it rather than keep it (TapeOf, TapeOfModel).
package typedjson

import (
	"encoding/json"
	"math"
	"reflect"
	"strconv"
	"unicode/utf8"
)

// Numbers says how numbers appear in the model.
type Numbers int

const (
	// Float64 numbers, as json.Unmarshal into an any gives them.
	Float64 Numbers = iota
	// Number numbers (json.Number), as a json.Decoder with UseNumber
	// gives them.
	Number
)

// maxDepth bounds recursion; deeper values are left to encoding/json.
const maxDepth = 1000

// ToModel returns what decoding json.Marshal(v) into an any gives, with
// numbers as n says. ok is false when it cannot tell; use encoding/json.
func ToModel(v any, n Numbers) (out any, ok bool) {
	rv := reflect.ValueOf(v)
	for rv.Kind() == reflect.Pointer && lookup(rv.Type()) == nil {
		if rv.IsNil() {
			return nil, true
		}
		rv = rv.Elem()
	}
	if !rv.IsValid() {
		return nil, true
	}
	ti := lookup(rv.Type())
	if ti == nil {
		return nil, false
	}
	e := encoder{numbers: n}
	return e.value(rv, ti, 0)
}

type encoder struct {
	numbers Numbers
}

func (e *encoder) value(v reflect.Value, ti *typeInfo, depth int) (any, bool) {
	if depth > maxDepth {
		return nil, false
	}
	if ti.addrMarshaler && v.CanAddr() {
		return e.marshaled(v.Addr().Interface().(json.Marshaler))
	}
	if ti.marshaler {
		if (ti.kind == reflect.Pointer || ti.kind == reflect.Interface) && v.IsNil() {
			return nil, true
		}
		return e.marshaled(v.Interface().(json.Marshaler))
	}
	if ti.text || ti.unsupported {
		return nil, false
	}
	switch ti.kind {
	case reflect.String:
		s := v.String()
		return s, utf8.ValidString(s)
	case reflect.Bool:
		return v.Bool(), true
	case reflect.Int, reflect.Int8, reflect.Int16, reflect.Int32, reflect.Int64:
		if e.numbers == Number {
			return json.Number(strconv.FormatInt(v.Int(), 10)), true
		}
		return float64(v.Int()), true
	case reflect.Uint, reflect.Uint8, reflect.Uint16, reflect.Uint32, reflect.Uint64, reflect.Uintptr:
		if e.numbers == Number {
			return json.Number(strconv.FormatUint(v.Uint(), 10)), true
		}
		return float64(v.Uint()), true
	case reflect.Pointer:
		if v.IsNil() {
			return nil, true
		}
		return e.value(v.Elem(), ti.elem, depth+1)
	case reflect.Interface:
		if v.IsNil() {
			return nil, true
		}
		elem := v.Elem()
		eti := lookup(elem.Type())
		if eti == nil {
			return nil, false
		}
		return e.value(elem, eti, depth+1)
	case reflect.Struct:
		return e.structValue(v, ti, depth)
	case reflect.Slice:
		if v.IsNil() {
			return nil, true
		}
		out := make([]any, v.Len())
		for i := range out {
			x, ok := e.value(v.Index(i), ti.elem, depth+1)
			if !ok {
				return nil, false
			}
			out[i] = x
		}
		return out, true
	case reflect.Map:
		if v.IsNil() {
			return nil, true
		}
		out := make(map[string]any, v.Len())
		iter := v.MapRange()
		for iter.Next() {
			k := iter.Key().String()
			if !utf8.ValidString(k) {
				return nil, false
			}
			x, ok := e.value(iter.Value(), ti.elem, depth+1)
			if !ok {
				return nil, false
			}
			out[k] = x
		}
		return out, true
	}
	return nil, false
}

func (e *encoder) structValue(v reflect.Value, ti *typeInfo, depth int) (any, bool) {
	out := make(map[string]any)
	for i := range ti.fields {
		f := &ti.fields[i]
		fv := f.of(v)
		if omitted(f, fv) {
			continue
		}
		if f.quoted {
			return nil, false
		}
		x, ok := e.value(fv, f.typ, depth+1)
		if !ok {
			return nil, false
		}
		out[f.name] = x
	}
	return out, true
}

// IsEmpty is encoding/json's omitempty test.
func IsEmpty(v reflect.Value) bool {
	switch v.Kind() {
	case reflect.Array, reflect.Map, reflect.Slice, reflect.String:
		return v.Len() == 0
	case reflect.Bool:
		return !v.Bool()
	case reflect.Int, reflect.Int8, reflect.Int16, reflect.Int32, reflect.Int64:
		return v.Int() == 0
	case reflect.Uint, reflect.Uint8, reflect.Uint16, reflect.Uint32, reflect.Uint64, reflect.Uintptr:
		return v.Uint() == 0
	case reflect.Float32, reflect.Float64:
		return v.Float() == 0
	case reflect.Interface, reflect.Pointer:
		return v.IsNil()
	}
	return false
}

// omitted reports whether a struct field is left out of the model.
func omitted(f *field, fv reflect.Value) bool {
	if f.omitEmpty && IsEmpty(fv) {
		return true
	}
	if f.omitZero {
		return f.isZero != nil && f.isZero(fv) || f.isZero == nil && fv.IsZero()
	}
	return false
}

// marshaled reads a MarshalJSON result in the shapes the pod's types
// write (quantities, int-or-strings, timestamps): plain strings, integers
// and null.
func (e *encoder) marshaled(m json.Marshaler) (any, bool) {
	b, err := m.MarshalJSON()
	if err != nil {
		return nil, false
	}
	if s, ok := plainString(b); ok {
		return s, true
	}
	if string(b) == "null" {
		return nil, true
	}
	if isInteger(b) {
		if e.numbers == Number {
			return json.Number(b), true
		}
		f, err := strconv.ParseFloat(string(b), 64)
		return f, err == nil
	}
	return nil, false
}

// plainString returns the string a JSON string literal holds when it
// needs no unescaping: printable ASCII between the quotes, and none of
// the characters encoding/json escapes.
func plainString(b []byte) (string, bool) {
	if len(b) < 2 || b[0] != '"' || b[len(b)-1] != '"' {
		return "", false
	}
	for _, c := range b[1 : len(b)-1] {
		if !plainByte(c) {
			return "", false
		}
	}
	return string(b[1 : len(b)-1]), true
}

func plainByte(c byte) bool {
	return c >= 0x20 && c < 0x7f && c != '"' && c != '\\' && c != '<' && c != '>' && c != '&'
}

// isInteger reports whether b is a JSON number without fraction or
// exponent.
func isInteger(b []byte) bool {
	if len(b) > 0 && b[0] == '-' {
		b = b[1:]
	}
	if len(b) == 0 || (b[0] == '0' && len(b) > 1) {
		return false
	}
	for _, c := range b {
		if c < '0' || c > '9' {
			return false
		}
	}
	return true
}

// FromModel decodes the model m into into, a pointer to a zero value, as
// json.Unmarshal(json.Marshal(m), into) does. On false into may be
// partly written: decode into a fresh value with encoding/json instead.
func FromModel(m any, into any) bool {
	rv := reflect.ValueOf(into)
	if rv.Kind() != reflect.Pointer || rv.IsNil() {
		return false
	}
	ti := lookup(rv.Type().Elem())
	if ti == nil {
		return false
	}
	return decode(rv.Elem(), ti, m, 0)
}

func decode(v reflect.Value, ti *typeInfo, x any, depth int) bool {
	if depth > maxDepth || (ti.text && ti.kind != reflect.Pointer) {
		return false
	}
	if x == nil {
		switch ti.kind {
		case reflect.Interface, reflect.Pointer, reflect.Map, reflect.Slice:
			v.SetZero()
			return true
		}
		if ti.unmarshaler {
			return v.Addr().Interface().(json.Unmarshaler).UnmarshalJSON([]byte("null")) == nil
		}
		return true // null leaves other values alone
	}
	if ti.kind == reflect.Pointer {
		if v.IsNil() {
			v.Set(reflect.New(ti.t.Elem()))
		}
		return decode(v.Elem(), ti.elem, x, depth+1)
	}
	if ti.unmarshaler {
		b, ok := literal(x)
		if !ok {
			return false
		}
		return v.Addr().Interface().(json.Unmarshaler).UnmarshalJSON(b) == nil
	}
	if ti.unsupported {
		return false
	}
	switch ti.kind {
	case reflect.String:
		s, ok := x.(string)
		if !ok || !utf8.ValidString(s) {
			return false
		}
		v.SetString(s)
		return true
	case reflect.Bool:
		b, ok := x.(bool)
		if ok {
			v.SetBool(b)
		}
		return ok
	case reflect.Int, reflect.Int8, reflect.Int16, reflect.Int32, reflect.Int64:
		n, ok := toInt(x)
		if !ok || v.OverflowInt(n) {
			return false
		}
		v.SetInt(n)
		return true
	case reflect.Uint, reflect.Uint8, reflect.Uint16, reflect.Uint32, reflect.Uint64, reflect.Uintptr:
		n, ok := toUint(x)
		if !ok || v.OverflowUint(n) {
			return false
		}
		v.SetUint(n)
		return true
	case reflect.Struct:
		m, ok := x.(map[string]any)
		if !ok {
			return false
		}
		for k, val := range m {
			f, ok := ti.byName[k]
			if !ok {
				if !asciiKey(k) || ti.folded[lowerASCII(k)] {
					return false // encoding/json matches case-insensitively
				}
				continue // unknown fields are dropped
			}
			if f.quoted {
				return false
			}
			fv := f.of(v)
			if !decode(fv, f.typ, val, depth+1) {
				return false
			}
		}
		return true
	case reflect.Slice:
		l, ok := x.([]any)
		if !ok {
			return false
		}
		s := reflect.MakeSlice(ti.t, len(l), len(l))
		for i, e := range l {
			if !decode(s.Index(i), ti.elem, e, depth+1) {
				return false
			}
		}
		v.Set(s)
		return true
	case reflect.Map:
		m, ok := x.(map[string]any)
		if !ok {
			return false
		}
		if v.IsNil() {
			v.Set(reflect.MakeMapWithSize(ti.t, len(m)))
		}
		kt := ti.t.Key()
		for k, val := range m {
			if !utf8.ValidString(k) {
				return false
			}
			ev := reflect.New(ti.elem.t).Elem()
			if !decode(ev, ti.elem, val, depth+1) {
				return false
			}
			kv := reflect.ValueOf(k)
			if kv.Type() != kt {
				kv = kv.Convert(kt)
			}
			v.SetMapIndex(kv, ev)
		}
		return true
	}
	return false
}

// literal is the JSON text encoding/json hands an UnmarshalJSON method
// for x: that of json.Marshal(x).
func literal(x any) ([]byte, bool) {
	switch x := x.(type) {
	case string:
		ok := true
		for i := 0; i < len(x) && ok; i++ {
			ok = plainByte(x[i])
		}
		if ok {
			b := make([]byte, 0, len(x)+2)
			return append(append(append(b, '"'), x...), '"'), true
		}
	case json.Number:
		if isInteger([]byte(x)) {
			return []byte(x), true
		}
	case float64:
		if x == math.Trunc(x) && math.Abs(x) < 1e15 && !(x == 0 && math.Signbit(x)) {
			return strconv.AppendInt(nil, int64(x), 10), true
		}
	}
	b, err := json.Marshal(x)
	return b, err == nil
}

// toInt reads a model number as encoding/json reads it into an integer:
// from its text, which must be an integer.
func toInt(x any) (int64, bool) {
	switch x := x.(type) {
	case float64:
		// json.Marshal writes the shortest text that reads back as x,
		// which has x's digits only below 2^53.
		if x != math.Trunc(x) || math.Abs(x) >= 1<<53 {
			return 0, false
		}
		return int64(x), true
	case json.Number:
		n, err := strconv.ParseInt(string(x), 10, 64)
		return n, err == nil
	}
	return 0, false
}

func toUint(x any) (uint64, bool) {
	switch x := x.(type) {
	case float64:
		// -0 is written "-0", which does not parse as unsigned.
		if x != math.Trunc(x) || x < 0 || math.Signbit(x) || x >= 1<<53 {
			return 0, false
		}
		return uint64(x), true
	case json.Number:
		n, err := strconv.ParseUint(string(x), 10, 64)
		return n, err == nil
	}
	return 0, false
}

func asciiKey(s string) bool {
	for i := range len(s) {
		if s[i] >= utf8.RuneSelf {
			return false
		}
	}
	return true
}

func lowerASCII(s string) string {
	for i := range len(s) {
		if c := s[i]; c >= 'A' && c <= 'Z' {
			b := []byte(s)
			for j := i; j < len(b); j++ {
				if c := b[j]; c >= 'A' && c <= 'Z' {
					b[j] = c + 'a' - 'A'
				}
			}
			return string(b)
		}
	}
	return s
}
