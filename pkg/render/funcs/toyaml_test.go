package funcs

import (
	"encoding/json"
	"math"
	"testing"

	"sigs.k8s.io/yaml"
)

// TestToYamlDirect holds toYaml's direct road to sigs.k8s.io/yaml (JSON
// text, then yaml.v2), value by value where JSON and YAML 1.1 disagree,
// and pins which values take the long road.
func TestToYamlDirect(t *testing.T) {
	for _, tc := range []struct {
		name   string
		v      any
		direct bool
	}{
		{"nil", nil, true},
		{"values as Helm gives them", map[string]any{
			"resources": map[string]any{"limits": map[string]any{"cpu": "2000m", "memory": "1Gi"}},
			"lifecycle": map[string]any{}, "enabled": true, "count": float64(3), "list": []any{"a", float64(1), nil, false},
		}, true},
		{"floats", []any{1.0, 1.5, math.Copysign(0, -1), 1e21, 1e-7, 123456789.0, 1 << 53, 1e300, -2.5e-10, 0.1}, true},
		{"integers", []any{0, -1, int64(math.MaxInt64), int64(math.MinInt64)}, true},
		{"JSON numbers", []any{json.Number("1.0"), json.Number("12345678901234567890"), json.Number("-99999999999999999999"), json.Number("1e3")}, true},
		{"strings YAML reads as others", []any{"on", "yes", "y", "No", "1", "0777", "1e3", "", "~", "null", "2024-01-01", "a: b", "- a", "#", "'", "\"", "\n", " a ", "ünïcödé", "\u2028"}, true},
		{"keys YAML reads as others", map[string]any{"on": 1.0, "1": 2.0, "": 3.0, "a b": 4.0, "true": 5.0, "~": 6.0}, true},
		{"typed maps and lists", map[string]any{"m": map[string]string{"b": "1", "a": "on"}, "l": []string{"x", "yes"}}, true},
		{"invalid UTF-8", "\xff", false},
		{"infinity", math.Inf(1), false},
		{"a struct", struct{ A int }{1}, false},
		{"an invalid JSON number", json.Number("x"), false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			y, ok := yamlValue(tc.v, 0)
			if ok != tc.direct {
				t.Fatalf("direct %v, want %v", ok, tc.direct)
			}
			want := ""
			if b, err := yaml.Marshal(tc.v); err == nil {
				want = string(b)
			}
			if got := toYaml(tc.v); got != want {
				t.Fatalf("toYaml = %q, sigs.k8s.io/yaml gives %q", got, want)
			}
			if ok && y == nil && tc.v != nil {
				t.Fatalf("direct value lost")
			}
		})
	}
}
