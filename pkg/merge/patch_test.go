package merge

import (
	"reflect"
	"testing"
)

// TestCopyJSON: a copy reads the same and shares nothing that a merge
// could modify.
func TestCopyJSON(t *testing.T) {
	tests := []struct {
		name string
		in   map[string]any
	}{
		{"empty", map[string]any{}},
		{"scalars", map[string]any{"a": "x", "b": 1.5, "c": true, "d": nil}},
		{"nested", map[string]any{"spec": map[string]any{"containers": []any{map[string]any{"name": "istio-proxy", "args": []any{"proxy"}}}}}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			c := copyJSON(tc.in)
			if !reflect.DeepEqual(c, tc.in) {
				t.Fatalf("copy %v, want %v", c, tc.in)
			}
			// Modify every map and slice of the copy: the original stays.
			want := copyJSON(tc.in)
			scramble(c)
			if !reflect.DeepEqual(tc.in, want) {
				t.Errorf("modifying the copy changed the original: %v", tc.in)
			}
		})
	}
}

func scramble(v any) {
	switch x := v.(type) {
	case map[string]any:
		keys := make([]string, 0, len(x))
		for k := range x {
			keys = append(keys, k)
		}
		for _, k := range keys {
			scramble(x[k])
			x[k+"'"] = "added"
		}
	case []any:
		for i, e := range x {
			scramble(e)
			x[i] = "replaced"
		}
	}
}
