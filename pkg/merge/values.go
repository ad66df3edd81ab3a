package merge

import (
	"strconv"
)

// valueAt walks the generic values tree (data.values as decoded JSON).
func valueAt(values map[string]any, path ...string) (any, bool) {
	var cur any = values
	for _, key := range path {
		m, ok := cur.(map[string]any)
		if !ok {
			return nil, false
		}
		if cur, ok = m[key]; !ok {
			return nil, false
		}
	}
	return cur, true
}

// valueString returns a string value, "" when absent or not a string
// (Istio reads these fields through typed protobuf, where they are strings).
func valueString(values map[string]any, path ...string) string {
	v, _ := valueAt(values, path...)
	s, _ := v.(string)
	return s
}

// valueBool returns a boolean value, false when absent (a wrapped protobuf
// bool in Istio reads as false when unset). A string that parses as a bool
// is accepted too, since Helm values often carry "true".
func valueBool(values map[string]any, path ...string) bool {
	v, _ := valueAt(values, path...)
	switch b := v.(type) {
	case bool:
		return b
	case string:
		parsed, err := strconv.ParseBool(b)
		return err == nil && parsed
	}
	return false
}
