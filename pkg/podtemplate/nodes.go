package podtemplate

import (
	"encoding/json"
	"errors"
	"fmt"
	"math"
	"reflect"
	"strconv"
	"strings"

	"k8s.io/apimachinery/pkg/api/resource"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/util/intstr"
	"sigs.k8s.io/kustomize/kyaml/yaml"
)

// The helpers below read YAML nodes without kyaml's RNode getters, which
// index past the end of malformed nodes (a list where metadata should be)
// and panic.

// maxDepth bounds recursion on hostile input.
const maxDepth = 200

// nodeError is a fault at path below the node being read.
type nodeError struct{ path, msg string }

func (e *nodeError) within(seg string) *nodeError {
	return &nodeError{path: joinPath(seg, e.path), msg: e.msg}
}

// content unwraps a document node.
func content(n *yaml.Node) *yaml.Node {
	if n != nil && n.Kind == yaml.DocumentNode && len(n.Content) == 1 {
		return n.Content[0]
	}
	return n
}

// resolve follows aliases to the anchored node.
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

func isMergeKey(k *yaml.Node) bool {
	return k.Kind == yaml.ScalarNode && k.Value == "<<" && k.ShortTag() == "!!merge"
}

// field returns the value of key in the mapping n (aliases followed, merge
// keys honoured), or nil.
func field(n *yaml.Node, key string) *yaml.Node {
	return fieldDepth(n, key, 0)
}

func fieldDepth(n *yaml.Node, key string, depth int) *yaml.Node {
	n = resolve(n)
	if n == nil || n.Kind != yaml.MappingNode || depth > maxDepth {
		return nil
	}
	var merges []*yaml.Node
	for i := 0; i+1 < len(n.Content); i += 2 {
		k := n.Content[i]
		if isMergeKey(k) {
			merges = append(merges, n.Content[i+1])
		} else if k.Value == key {
			return resolve(n.Content[i+1])
		}
	}
	for _, m := range merges {
		for _, src := range mergeSources(m) {
			if v := fieldDepth(src, key, depth+1); v != nil {
				return v
			}
		}
	}
	return nil
}

// mergeSources lists the mappings a "<<" value merges in, first first.
func mergeSources(v *yaml.Node) []*yaml.Node {
	v = resolve(v)
	if v == nil {
		return nil
	}
	if v.Kind == yaml.SequenceNode {
		out := make([]*yaml.Node, 0, len(v.Content))
		for _, e := range v.Content {
			out = append(out, resolve(e))
		}
		return out
	}
	return []*yaml.Node{v}
}

// scalar returns a scalar's text, or "" for anything else and for null.
func scalar(n *yaml.Node) string {
	n = resolve(n)
	if n == nil || n.Kind != yaml.ScalarNode || n.ShortTag() == "!!null" {
		return ""
	}
	return n.Value
}

// walk follows path from the mapping n. It returns nil when a field on the
// way is absent or null, and an error when one is not an object.
func walk(n *yaml.Node, path []string) (*yaml.Node, *nodeError) {
	n = resolve(n)
	for i, key := range path {
		if n == nil {
			return nil, nil
		}
		if n.Kind != yaml.MappingNode {
			return nil, &nodeError{path: strings.Join(path[:i], "."), msg: "expected an object, got " + describeNode(n)}
		}
		n = field(n, key)
		if isNull(n) {
			return nil, nil
		}
	}
	return n, nil
}

// describeNode says what a value is, for "expected X, got Y" messages.
func describeNode(n *yaml.Node) string {
	n = resolve(n)
	if n == nil {
		return "nothing"
	}
	switch n.Kind {
	case yaml.MappingNode:
		return "an object"
	case yaml.SequenceNode:
		return "a list"
	case yaml.ScalarNode:
		switch n.ShortTag() {
		case "!!null":
			return "null"
		case "!!int", "!!float":
			return "the number " + shorten(n.Value)
		case "!!bool":
			return "the boolean " + n.Value
		}
		return fmt.Sprintf("the string %q", shorten(n.Value))
	}
	return "an unresolved alias"
}

// shorten cuts a value quoted in a message to a readable length.
func shorten(s string) string {
	const max = 60
	if r := []rune(s); len(r) > max {
		return string(r[:max-3]) + "..."
	}
	return s
}

// keySegment renders a map key as a path segment: bare, or bracketed and
// quoted when it holds dots or brackets (annotation and label keys).
func keySegment(k string) string {
	if k == "" || strings.ContainsAny(k, ".[]\"") {
		return "[" + strconv.Quote(k) + "]"
	}
	return k
}

// toJSON converts n to the JSON data model the way kubectl reads YAML,
// except that scalars keep their text: an unquoted 2024-01-01 is the
// string "2024-01-01", not a timestamp.
func toJSON(n *yaml.Node, depth int) (any, *nodeError) {
	n = resolve(n)
	if depth > maxDepth {
		return nil, &nodeError{msg: "nested too deeply"}
	}
	if n == nil {
		return nil, nil
	}
	switch n.Kind {
	case yaml.MappingNode:
		m := make(map[string]any, len(n.Content)/2)
		var merges []*yaml.Node
		for i := 0; i+1 < len(n.Content); i += 2 {
			k, v := resolve(n.Content[i]), n.Content[i+1]
			if isMergeKey(k) {
				merges = append(merges, v)
				continue
			}
			if k == nil || k.Kind != yaml.ScalarNode {
				return nil, &nodeError{msg: "expected keys to be strings, got " + describeNode(k)}
			}
			if _, dup := m[k.Value]; dup {
				return nil, &nodeError{path: keySegment(k.Value), msg: "the key appears more than once"}
			}
			val, err := toJSON(v, depth+1)
			if err != nil {
				return nil, err.within(keySegment(k.Value))
			}
			m[k.Value] = val
		}
		// Explicit keys win over merged ones, earlier sources over later.
		for _, mv := range merges {
			for _, src := range mergeSources(mv) {
				if src == nil || src.Kind != yaml.MappingNode {
					return nil, &nodeError{path: "<<", msg: "expected an object or a list of objects to merge, got " + describeNode(src)}
				}
				sv, err := toJSON(src, depth+1)
				if err != nil {
					return nil, err.within("<<")
				}
				for k, v := range sv.(map[string]any) {
					if _, set := m[k]; !set {
						m[k] = v
					}
				}
			}
		}
		return m, nil
	case yaml.SequenceNode:
		l := make([]any, 0, len(n.Content))
		for i, e := range n.Content {
			v, err := toJSON(e, depth+1)
			if err != nil {
				return nil, err.within(fmt.Sprintf("[%d]", i))
			}
			l = append(l, v)
		}
		return l, nil
	case yaml.ScalarNode:
		return scalarJSON(n)
	}
	return nil, &nodeError{msg: "expected a value, got " + describeNode(n)}
}

func scalarJSON(n *yaml.Node) (any, *nodeError) {
	if v, ok := plainScalarJSON(n); ok {
		return v, nil
	}
	return decodedScalarJSON(n)
}

// plainScalarJSON is scalarJSON for the common spellings, without
// yaml.v3's decoder: booleans as YAML 1.2 writes them and decimal
// integers without a sign, leading zero or separator, which every
// reading gives the same value. ok is false for anything else.
func plainScalarJSON(n *yaml.Node) (v any, ok bool) {
	switch n.ShortTag() {
	case "!!null":
		return nil, true
	case "!!bool":
		switch n.Value {
		case "true", "True", "TRUE":
			return true, true
		case "false", "False", "FALSE":
			return false, true
		}
	case "!!int":
		s := n.Value
		if s == "" || len(s) > 18 || s[0] == '0' && len(s) > 1 {
			return nil, false
		}
		for i := 0; i < len(s); i++ {
			if s[i] < '0' || s[i] > '9' {
				return nil, false
			}
		}
		return json.Number(s), true
	case "!!str":
		return n.Value, true
	}
	return nil, false
}

// decodedScalarJSON is scalarJSON through yaml.v3's decoder.
func decodedScalarJSON(n *yaml.Node) (any, *nodeError) {
	switch n.ShortTag() {
	case "!!null":
		return nil, nil
	case "!!bool":
		var b bool
		if err := n.Decode(&b); err != nil {
			return nil, &nodeError{msg: err.Error()}
		}
		return b, nil
	case "!!int":
		var i int64
		if err := n.Decode(&i); err == nil {
			return json.Number(strconv.FormatInt(i, 10)), nil
		}
		var u uint64
		if err := n.Decode(&u); err == nil {
			return json.Number(strconv.FormatUint(u, 10)), nil
		}
		fallthrough
	case "!!float":
		var f float64
		if err := n.Decode(&f); err != nil {
			return nil, &nodeError{msg: fmt.Sprintf("%s is not a number JSON can hold", describeNode(n))}
		}
		if math.IsInf(f, 0) || math.IsNaN(f) {
			return nil, &nodeError{msg: fmt.Sprintf("%s is not a number JSON can hold", describeNode(n))}
		}
		b, _ := json.Marshal(f)
		return json.Number(b), nil
	}
	// Strings, timestamps, binary and custom tags: the text as written.
	return n.Value, nil
}

var (
	unmarshalerType = reflect.TypeFor[json.Unmarshaler]()
	quantityType    = reflect.TypeFor[resource.Quantity]()
	intOrStringType = reflect.TypeFor[intstr.IntOrString]()
	timeType        = reflect.TypeFor[metav1.Time]()
	microTimeType   = reflect.TypeFor[metav1.MicroTime]()
)

func typeOf(into any) reflect.Type {
	return reflect.TypeOf(into).Elem()
}

// locate finds, below n, the first value that does not decode as typ: the
// standard library names fields without list indexes or map keys, and not
// at all when a type's own UnmarshalJSON fails (quantities).
func locate(n *yaml.Node, typ reflect.Type, decodeErr error) *nodeError {
	return locateDepth(n, typ, decodeErr, 0)
}

func locateDepth(n *yaml.Node, typ reflect.Type, decodeErr error, depth int) *nodeError {
	n = resolve(n)
	for typ.Kind() == reflect.Pointer {
		typ = typ.Elem()
	}
	custom := reflect.PointerTo(typ).Implements(unmarshalerType)
	if !custom && n != nil && depth < maxDepth {
		switch {
		case typ.Kind() == reflect.Struct && n.Kind == yaml.MappingNode:
			for i := 0; i+1 < len(n.Content); i += 2 {
				k := resolve(n.Content[i])
				if isMergeKey(k) {
					continue
				}
				f, ok := jsonField(typ, k.Value)
				if !ok {
					continue
				}
				if e := check(n.Content[i+1], f.Type, k.Value, depth); e != nil {
					return e
				}
			}
		case typ.Kind() == reflect.Map && n.Kind == yaml.MappingNode:
			for i := 0; i+1 < len(n.Content); i += 2 {
				k := resolve(n.Content[i])
				if isMergeKey(k) {
					continue
				}
				if e := check(n.Content[i+1], typ.Elem(), keySegment(k.Value), depth); e != nil {
					return e
				}
			}
		case typ.Kind() == reflect.Slice && n.Kind == yaml.SequenceNode:
			for i, el := range n.Content {
				if e := check(el, typ.Elem(), fmt.Sprintf("[%d]", i), depth); e != nil {
					return e
				}
			}
		}
	}
	return &nodeError{msg: problem(n, typ, custom, decodeErr)}
}

// check decodes n alone as typ and, when that fails, locates the fault
// inside it; seg is n's path segment.
func check(n *yaml.Node, typ reflect.Type, seg string, depth int) *nodeError {
	v, nerr := toJSON(n, 0)
	if nerr != nil {
		return nerr.within(seg)
	}
	raw, err := json.Marshal(v)
	if err == nil {
		err = json.Unmarshal(raw, reflect.New(typ).Interface())
	}
	if err == nil {
		return nil
	}
	return locateDepth(n, typ, err, depth+1).within(seg)
}

// jsonField finds the struct field encoding/json would fill from key:
// exact name first, then case-insensitively, through inlined structs.
func jsonField(typ reflect.Type, key string) (reflect.StructField, bool) {
	if f, ok := jsonFieldMatch(typ, key, func(a, b string) bool { return a == b }, 0); ok {
		return f, true
	}
	return jsonFieldMatch(typ, key, strings.EqualFold, 0)
}

func jsonFieldMatch(typ reflect.Type, key string, eq func(a, b string) bool, depth int) (reflect.StructField, bool) {
	if depth > 10 {
		return reflect.StructField{}, false
	}
	for i := 0; i < typ.NumField(); i++ {
		f := typ.Field(i)
		tag := f.Tag.Get("json")
		if tag == "-" {
			continue
		}
		name, _, _ := strings.Cut(tag, ",")
		if f.Anonymous && name == "" {
			t := f.Type
			if t.Kind() == reflect.Pointer {
				t = t.Elem()
			}
			if t.Kind() == reflect.Struct {
				if sf, ok := jsonFieldMatch(t, key, eq, depth+1); ok {
					return sf, true
				}
				continue
			}
		}
		if !f.IsExported() {
			continue
		}
		if name == "" {
			name = f.Name
		}
		if eq(name, key) {
			return f, true
		}
	}
	return reflect.StructField{}, false
}

// problem words a decode failure of n as typ.
func problem(n *yaml.Node, typ reflect.Type, custom bool, err error) string {
	var te *json.UnmarshalTypeError
	if errors.As(err, &te) {
		want := expected(typ)
		if !custom && isInt(typ.Kind()) && strings.HasPrefix(te.Value, "number ") && !strings.ContainsAny(te.Value[len("number "):], ".eE") {
			want = fmt.Sprintf("an integer that fits in %d bits", typ.Bits())
		}
		return fmt.Sprintf("expected %s, got %s", want, describeNode(n))
	}
	msg := strings.TrimPrefix(err.Error(), "json: ")
	if custom {
		return fmt.Sprintf("%s is not %s: %s", describeNode(n), expected(typ), msg)
	}
	return msg
}

func isInt(k reflect.Kind) bool {
	switch k {
	case reflect.Int, reflect.Int8, reflect.Int16, reflect.Int32, reflect.Int64,
		reflect.Uint, reflect.Uint8, reflect.Uint16, reflect.Uint32, reflect.Uint64:
		return true
	}
	return false
}

// expected names what a Go type reads from JSON.
func expected(typ reflect.Type) string {
	switch typ {
	case quantityType:
		return `a quantity such as "100m" or "1Gi"`
	case intOrStringType:
		return "an integer or a string"
	case timeType, microTimeType:
		return "a timestamp"
	}
	switch typ.Kind() {
	case reflect.Struct, reflect.Map:
		return "an object"
	case reflect.Slice, reflect.Array:
		if typ.Elem().Kind() == reflect.Uint8 {
			return "a base64 string"
		}
		return "a list"
	case reflect.String:
		return "a string"
	case reflect.Bool:
		return "a boolean"
	case reflect.Float32, reflect.Float64:
		return "a number"
	case reflect.Uint, reflect.Uint8, reflect.Uint16, reflect.Uint32, reflect.Uint64:
		return "a non-negative integer"
	case reflect.Int, reflect.Int8, reflect.Int16, reflect.Int32, reflect.Int64:
		return "an integer"
	}
	return "a value of type " + typ.String()
}
