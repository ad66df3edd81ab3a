package funcs

import (
	"encoding/json"
	"math"
	"regexp"
	"strconv"
	"strings"
	"unicode/utf8"
)

// yamlValue is what sigs.k8s.io/yaml.Marshal hands yaml.v2 for v: the
// value yaml.v2 reads back from v's JSON text (json.Marshal), built
// without that text. It takes the types values and template functions
// produce (generic maps and lists, strings, booleans, numbers); ok is
// false for anything else, and for what encoding/json would change or
// refuse (invalid UTF-8, infinities), which toYaml then encodes the
// long way.
func yamlValue(v any, depth int) (any, bool) {
	if depth > 1000 {
		return nil, false
	}
	switch x := v.(type) {
	case nil, bool:
		return x, true
	case string:
		return x, utf8.ValidString(x)
	case float64:
		if math.IsInf(x, 0) || math.IsNaN(x) {
			return nil, false
		}
		// The number as encoding/json writes it, read as yaml.v2 reads
		// a plain scalar: integers become ints.
		b, err := json.Marshal(x)
		if err != nil {
			return nil, false
		}
		return yamlNumber(string(b))
	case int:
		return x, true
	case int64:
		return yamlNumber(strconv.FormatInt(x, 10))
	case json.Number:
		b, err := json.Marshal(x)
		if err != nil {
			return nil, false
		}
		return yamlNumber(string(b))
	case map[string]any:
		out := make(map[any]any, len(x))
		for k, e := range x {
			if !utf8.ValidString(k) {
				return nil, false
			}
			y, ok := yamlValue(e, depth+1)
			if !ok {
				return nil, false
			}
			out[k] = y
		}
		return out, true
	case map[string]string:
		out := make(map[any]any, len(x))
		for k, e := range x {
			if !utf8.ValidString(k) || !utf8.ValidString(e) {
				return nil, false
			}
			out[k] = e
		}
		return out, true
	case []any:
		out := make([]any, len(x))
		for i, e := range x {
			y, ok := yamlValue(e, depth+1)
			if !ok {
				return nil, false
			}
			out[i] = y
		}
		return out, true
	case []string:
		out := make([]any, len(x))
		for i, e := range x {
			if !utf8.ValidString(e) {
				return nil, false
			}
			out[i] = e
		}
		return out, true
	}
	return nil, false
}

var yaml11Float = regexp.MustCompile(`^[-+]?(\.[0-9]+|[0-9]+(\.[0-9]*)?)([eE][-+]?[0-9]+)?$`)

// yamlNumber is the value yaml.v2 gives the JSON number text s.
func yamlNumber(s string) (any, bool) {
	if i, err := strconv.ParseInt(s, 10, 64); err == nil {
		return int(i), true
	}
	if !strings.ContainsAny(s, ".eE") {
		if u, err := strconv.ParseUint(s, 10, 64); err == nil {
			return u, true
		}
	}
	if yaml11Float.MatchString(s) {
		if f, err := strconv.ParseFloat(s, 64); err == nil {
			return f, true
		}
	}
	return nil, false
}
