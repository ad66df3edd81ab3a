package config

import (
	"math"
	"unicode/utf8"

	yamlv2 "go.yaml.in/yaml/v2"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
)

// decodeInjectorFast decodes an injector configuration with one reading
// of it instead of sigs.k8s.io/yaml's four (YAML to generic values, to
// JSON, from JSON: once typed, once generic for the warnings), which for
// Istio's hundred kilobytes of templates was most of a short run's
// configuration time. It only takes documents for which the result is
// certainly the same as that reading's: sigs.k8s.io/yaml starts with the
// same yaml.v2 decoding into generic values, and where every key is a
// string spelled exactly as the field it sets and every value already has
// its field's type, its conversions (scalars to strings, case-insensitive
// keys) and the JSON round trip change nothing. ok is false for anything
// else (including documents that do not decode), which the caller then
// reads the general way, errors and all.
//
// keys are the document's top-level keys, as the generic reading gives
// them for ignoredInjectorKeys.
func decodeInjectorFast(data []byte) (doc injectorDocument, keys []string, ok bool) {
	var v any
	if err := yamlv2.Unmarshal(data, &v); err != nil {
		return doc, nil, false
	}
	m, isMap := v.(map[any]any)
	if !isMap {
		return doc, nil, false
	}
	for k, val := range m {
		key, isString := k.(string)
		if !isString || !utf8.ValidString(key) {
			return doc, nil, false
		}
		keys = append(keys, key)
		var good bool
		switch key {
		case "policy":
			doc.Policy, good = nullableString(val)
		case "defaultTemplates":
			doc.DefaultTemplates, good = stringList(val)
		case "templates":
			doc.Templates, good = stringMap(val)
		case "aliases":
			doc.Aliases, good = aliasMap(val)
		case "neverInjectSelector", "alwaysInjectSelector":
			// Selectors take the general way unless empty.
			list, isList := val.([]any)
			good = val == nil || (isList && len(list) == 0)
			if good && isList {
				if key == "neverInjectSelector" {
					doc.NeverInjectSelector = []metav1.LabelSelector{}
				} else {
					doc.AlwaysInjectSelector = []metav1.LabelSelector{}
				}
			}
		case "injectedAnnotations":
			doc.InjectedAnnotations, good = stringMap(val)
		default:
			// A key that differs from a field's name only in case sets the
			// field in the general reading; a value that does not convert
			// to JSON fails it.
			good = !isInjectorKey(key) && jsonable(val)
		}
		if !good {
			return injectorDocument{}, nil, false
		}
	}
	return doc, keys, true
}

// nullableString is a string field's value: a string, or null (the field
// stays empty).
func nullableString(v any) (string, bool) {
	switch s := v.(type) {
	case nil:
		return "", true
	case string:
		return s, utf8.ValidString(s)
	}
	return "", false
}

// stringList is a []string field's value: null, or a list of strings.
func stringList(v any) ([]string, bool) {
	if v == nil {
		return nil, true
	}
	list, ok := v.([]any)
	if !ok {
		return nil, false
	}
	out := make([]string, len(list))
	for i, e := range list {
		s, ok := e.(string)
		if !ok || !utf8.ValidString(s) {
			return nil, false
		}
		out[i] = s
	}
	return out, true
}

// stringMap is a map[string]string field's value: null, or a mapping of
// strings to strings.
func stringMap(v any) (map[string]string, bool) {
	if v == nil {
		return nil, true
	}
	m, ok := v.(map[any]any)
	if !ok {
		return nil, false
	}
	out := make(map[string]string, len(m))
	for k, e := range m {
		key, ok1 := k.(string)
		s, ok2 := e.(string)
		if !ok1 || !ok2 || !utf8.ValidString(key) || !utf8.ValidString(s) {
			return nil, false
		}
		out[key] = s
	}
	return out, true
}

// aliasMap is the aliases field's value: null, or a mapping of strings to
// lists of strings.
func aliasMap(v any) (map[string][]string, bool) {
	if v == nil {
		return nil, true
	}
	m, ok := v.(map[any]any)
	if !ok {
		return nil, false
	}
	out := make(map[string][]string, len(m))
	for k, e := range m {
		key, ok1 := k.(string)
		if !ok1 || !utf8.ValidString(key) || e == nil {
			return nil, false
		}
		list, ok2 := stringList(e)
		if !ok2 {
			return nil, false
		}
		out[key] = list
	}
	return out, true
}

// jsonable reports whether a value of an ignored key converts to JSON
// unchanged: strings (valid UTF-8), booleans, finite numbers, null, lists
// of those and mappings with string keys.
func jsonable(v any) bool {
	switch x := v.(type) {
	case nil, bool, int, int64, uint64:
		return true
	case string:
		return utf8.ValidString(x)
	case float64:
		return !math.IsInf(x, 0) && !math.IsNaN(x)
	case []any:
		for _, e := range x {
			if !jsonable(e) {
				return false
			}
		}
		return true
	case map[any]any:
		for k, e := range x {
			key, ok := k.(string)
			if !ok || !utf8.ValidString(key) || !jsonable(e) {
				return false
			}
		}
		return true
	}
	return false
}
