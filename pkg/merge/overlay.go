package merge

import (
	"math"
	"strconv"
	"unicode/utf8"

	yamlv2 "go.yaml.in/yaml/v2"
)

// parseOverlayDirect reads a rendered template as sigs.k8s.io/yaml does
// into a map (yaml.v2, so YAML 1.1: "on" and "yes" are booleans, 0777
// is octal), without the JSON text that library goes through: with the
// subset reader for what templates render, else with yaml.v2 and a
// direct conversion. ok is false for anything it would not read exactly
// so (and for every error): the caller then asks sigs.k8s.io/yaml
// itself.
func parseOverlayDirect(overlay []byte) (map[string]any, bool) {
	if m, ok := parseBlockYAML(overlay); ok {
		return m, true
	}
	var doc any
	if err := yamlv2.Unmarshal(overlay, &doc); err != nil {
		return nil, false
	}
	switch doc := doc.(type) {
	case nil:
		// An empty document, or null: the patch is empty.
		return map[string]any{}, true
	case map[any]any:
		m, ok := overlayMap(doc, 0)
		return m, ok
	}
	return nil, false // not a mapping: an error, told by the slow road
}

// maxOverlayDepth bounds recursion; deeper overlays take the slow road.
const maxOverlayDepth = 1000

// overlayMap converts a yaml.v2 mapping as sigs.k8s.io/yaml's conversion
// to JSON and encoding/json's decoding into an any do together: keys
// become strings, numbers float64.
func overlayMap(m map[any]any, depth int) (map[string]any, bool) {
	if depth > maxOverlayDepth {
		return nil, false
	}
	out := make(map[string]any, len(m))
	for k, v := range m {
		key, ok := overlayKey(k)
		if !ok {
			return nil, false
		}
		if _, dup := out[key]; dup {
			// 1 and "1": which one wins depends on map order there.
			return nil, false
		}
		val, ok := overlayValue(v, depth+1)
		if !ok {
			return nil, false
		}
		out[key] = val
	}
	return out, true
}

// overlayKey is the string a yaml.v2 key becomes in sigs.k8s.io/yaml.
func overlayKey(k any) (string, bool) {
	switch k := k.(type) {
	case string:
		return k, utf8.ValidString(k)
	case int:
		return strconv.Itoa(k), true
	case int64:
		return strconv.FormatInt(k, 10), true
	case bool:
		return strconv.FormatBool(k), true
	case float64:
		// sigs.k8s.io/yaml formats float keys at 32-bit precision.
		if math.IsInf(k, 0) || math.IsNaN(k) {
			return "", false
		}
		return strconv.FormatFloat(k, 'g', -1, 32), true
	}
	return "", false // null, uint64 and other keys are errors there
}

func overlayValue(x any, depth int) (any, bool) {
	// Scalars that stay as they are return x itself: boxing them again
	// would allocate.
	switch v := x.(type) {
	case nil, bool:
		return x, true
	case string:
		return x, utf8.ValidString(v)
	case int:
		return float64(v), true
	case int64:
		return float64(v), true
	case uint64:
		return float64(v), true
	case float64:
		// encoding/json refuses infinities and NaN.
		return x, !math.IsInf(v, 0) && !math.IsNaN(v)
	case map[any]any:
		return overlayMap(v, depth)
	case []any:
		if depth > maxOverlayDepth {
			return nil, false
		}
		out := make([]any, len(v))
		for i, e := range v {
			y, ok := overlayValue(e, depth+1)
			if !ok {
				return nil, false
			}
			out[i] = y
		}
		return out, true
	}
	// Timestamps tagged !!timestamp and anything else yaml.v2 may give.
	return nil, false
}
