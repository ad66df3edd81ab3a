package config

import (
	"bytes"
	"fmt"

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
