package writeback

import (
	"encoding/json"
	"reflect"
	"testing"
)

// TestModelEqual holds modelEqual to reflect.DeepEqual on every pair of a
// set of JSON-model values that differ in the ways that matter: type,
// nil against empty, length, keys, nesting.
func TestModelEqual(t *testing.T) {
	values := []any{
		nil, "", "a", "1", json.Number("1"), json.Number("1.0"), 1.0, true, false,
		map[string]any(nil), map[string]any{}, map[string]any{"a": nil}, map[string]any{"a": "1"},
		map[string]any{"a": json.Number("1")}, map[string]any{"b": "1"}, map[string]any{"a": "1", "b": nil},
		[]any(nil), []any{}, []any{nil}, []any{"a"}, []any{"a", "b"}, []any{"b", "a"},
		[]any{map[string]any{"name": "x"}}, []any{map[string]any{"name": "y"}},
		map[string]any{"l": []any{}}, map[string]any{"l": []any(nil)}, map[string]any{"l": nil},
		[]string{"a"}, 1,
	}
	for _, a := range values {
		for _, b := range values {
			if got, want := modelEqual(a, b), reflect.DeepEqual(a, b); got != want {
				t.Errorf("modelEqual(%#v, %#v) = %v, reflect.DeepEqual says %v", a, b, got, want)
			}
		}
	}
}
