package config

import (
	"bytes"
	"encoding/json"
	"fmt"
	"math"

	sigsyaml "sigs.k8s.io/yaml"
)

// ParseValues reads data.values (Helm values as JSON) the way Istio does:
// through sigs.k8s.io/yaml into generic maps, so YAML is accepted as well
// (istioctl's --valuesFile is routinely YAML) and every number is a float64,
// exactly what templates see under .Values. Empty input or null gives an
// empty map; a document that is not a mapping is an error.
//
// Istio additionally decodes the values into its typed Values message and
// fails on a known field of the wrong type; that check is not reproduced.
func ParseValues(data []byte) (map[string]any, error) {
	if len(bytes.TrimSpace(data)) == 0 {
		return map[string]any{}, nil
	}
	if m, ok := parseValuesJSON(data); ok {
		return m, nil
	}
	var v any
	if err := sigsyaml.Unmarshal(data, &v); err != nil {
		return nil, fmt.Errorf("values: %w", err)
	}
	switch m := v.(type) {
	case nil:
		return map[string]any{}, nil
	case map[string]any:
		return m, nil
	default:
		return nil, fmt.Errorf("values: must be a JSON object or YAML mapping, got %s", describeJSON(v))
	}
}

// describeJSON names the JSON type of a decoded value for messages.
func describeJSON(v any) string {
	switch v.(type) {
	case nil:
		return "null"
	case map[string]any:
		return "an object"
	case []any:
		return "a list"
	case string:
		return "a string"
	case bool:
		return "a boolean"
	default:
		return "a number"
	}
}

// parseValuesJSON reads values that are plain JSON with encoding/json
// alone, where sigs.k8s.io/yaml reads them as YAML, writes them as JSON
// and reads that back; the result is the same for the JSON it takes: an
// object of printable ASCII without escapes (YAML and JSON escapes differ
// at the edges, as do the characters each lets through) and without a
// negative zero (YAML's -0 is the integer 0). ok is false for anything
// else, which ParseValues reads the general way.
func parseValuesJSON(data []byte) (map[string]any, bool) {
	t := bytes.TrimSpace(data)
	if len(t) == 0 || t[0] != '{' {
		return nil, false
	}
	for _, c := range t {
		if (c < 0x20 || c > 0x7e || c == '\\') && c != '\n' && c != '\r' {
			return nil, false
		}
	}
	var m map[string]any
	if err := json.Unmarshal(t, &m); err != nil || m == nil || negativeZero(m) {
		return nil, false
	}
	return m, true
}

// negativeZero reports whether v holds the number -0.
func negativeZero(v any) bool {
	switch x := v.(type) {
	case float64:
		return x == 0 && math.Signbit(x)
	case map[string]any:
		for _, e := range x {
			if negativeZero(e) {
				return true
			}
		}
	case []any:
		for _, e := range x {
			if negativeZero(e) {
				return true
			}
		}
	}
	return false
}
