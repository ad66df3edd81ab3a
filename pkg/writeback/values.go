package writeback

import (
	"encoding/json"

	"sigs.k8s.io/kustomize/kyaml/yaml"

	"github.com/inject-sidecar/inject-sidecar/pkg/internal/typedjson"
)

// value is how the syncer reads the values it compares: in the JSON data
// model (modelValue), or laid out flat on a typedjson.Tape (tapeValue),
// which takes one pass over the typed pod and no maps. Both answer every
// question alike for the same value (TestValuesAgree), so one algorithm
// serves both and a tape write-back edits exactly the nodes a model one
// does (TestTypedMatchesModel). The zero value is null.
type value[V any] interface {
	// isNull: nil in the model.
	isNull() bool
	// object: a map[string]any; list: a []any.
	object() bool
	list() bool
	// keys are an object's keys, sorted; size is their number.
	keys() []string
	size() int
	// get is an object's value for key, and whether it has the key.
	get(key string) (V, bool)
	// length is a list's length, 0 for anything else; index an element.
	length() int
	index(i int) V
	// str is a string's value.
	str() (string, bool)
	// text is scalarText of a string, json.Number or bool.
	text() (string, bool)
	// equal is modelEqual.
	equal(V) bool
	// node is newNode.
	node(b *builder) (*yaml.Node, error)
}

// modelValue is a value of the JSON data model.
type modelValue struct{ v any }

func (m modelValue) isNull() bool { return m.v == nil }

func (m modelValue) object() bool {
	_, ok := m.v.(map[string]any)
	return ok
}

func (m modelValue) list() bool {
	_, ok := m.v.([]any)
	return ok
}

func (m modelValue) keys() []string {
	o, _ := m.v.(map[string]any)
	return sortedKeys(o)
}

func (m modelValue) size() int {
	o, _ := m.v.(map[string]any)
	return len(o)
}

func (m modelValue) get(key string) (modelValue, bool) {
	o, _ := m.v.(map[string]any)
	v, ok := o[key]
	return modelValue{v}, ok
}

func (m modelValue) length() int {
	l, _ := m.v.([]any)
	return len(l)
}

func (m modelValue) index(i int) modelValue { return modelValue{m.v.([]any)[i]} }

func (m modelValue) str() (string, bool) {
	s, ok := m.v.(string)
	return s, ok
}

func (m modelValue) text() (string, bool) {
	switch m.v.(type) {
	case string, json.Number, bool:
		return scalarText(m.v), true
	}
	return "", false
}

func (m modelValue) equal(o modelValue) bool { return modelEqual(m.v, o.v) }

func (m modelValue) node(b *builder) (*yaml.Node, error) { return newNode(m.v) }

// tapeValue is the value at position i of a typedjson.Tape; the zero
// tapeValue is null.
type tapeValue struct {
	t *typedjson.Tape
	i int
}

func (v tapeValue) kind() typedjson.Kind {
	if v.t == nil {
		return typedjson.KindNull
	}
	return v.t.Kind(v.i)
}

func (v tapeValue) isNull() bool { return v.kind() == typedjson.KindNull }
func (v tapeValue) object() bool { return v.kind() == typedjson.KindObject }
func (v tapeValue) list() bool   { return v.kind() == typedjson.KindList }

func (v tapeValue) keys() []string {
	if !v.object() {
		return nil
	}
	keys := make([]string, 0, v.t.Len(v.i))
	j := v.t.First(v.i)
	for range v.t.Len(v.i) {
		keys = append(keys, v.t.Key(j))
		j = v.t.Next(j)
	}
	return keys
}

func (v tapeValue) size() int {
	if !v.object() {
		return 0
	}
	return v.t.Len(v.i)
}

func (v tapeValue) get(key string) (tapeValue, bool) {
	if !v.object() {
		return tapeValue{}, false
	}
	j := v.t.Field(v.i, key)
	if j < 0 {
		return tapeValue{}, false
	}
	return tapeValue{v.t, j}, true
}

func (v tapeValue) length() int {
	if !v.list() {
		return 0
	}
	return v.t.Len(v.i)
}

func (v tapeValue) index(i int) tapeValue {
	j := v.t.First(v.i)
	for range i {
		j = v.t.Next(j)
	}
	return tapeValue{v.t, j}
}

func (v tapeValue) str() (string, bool) {
	if v.kind() != typedjson.KindString {
		return "", false
	}
	return v.t.Str(v.i), true
}

func (v tapeValue) text() (string, bool) {
	if v.t == nil {
		return "", false
	}
	return v.t.Text(v.i)
}

func (v tapeValue) equal(o tapeValue) bool {
	if v.t == nil || o.t == nil {
		return v.isNull() && o.isNull()
	}
	return typedjson.Equal(v.t, v.i, o.t, o.i)
}

func (v tapeValue) node(b *builder) (*yaml.Node, error) {
	if v.t == nil {
		return newNode(nil)
	}
	return b.tape(v.t, v.i)
}
