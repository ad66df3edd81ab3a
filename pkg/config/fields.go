package config

import (
	"bytes"
	"encoding/json"
	"fmt"
	"sort"
	"strings"

	"sigs.k8s.io/kustomize/kyaml/yaml"
)

// Helpers that read generic decoded JSON (objects decoded with UseNumber)
// and name the offending field by its path in errors.

// nodeObject decodes an RNode holding a mapping.
func nodeObject(node *yaml.RNode) (map[string]any, error) {
	if node.YNode().Kind != yaml.MappingNode {
		return nil, fmt.Errorf("not a YAML mapping")
	}
	js, err := node.MarshalJSON()
	if err != nil {
		return nil, err
	}
	dec := json.NewDecoder(bytes.NewReader(js))
	dec.UseNumber()
	var m map[string]any
	if err := dec.Decode(&m); err != nil {
		return nil, err
	}
	if m == nil {
		m = map[string]any{}
	}
	return m, nil
}

func asObject(v any, path string) (map[string]any, error) {
	switch t := v.(type) {
	case nil:
		return map[string]any{}, nil
	case map[string]any:
		return t, nil
	}
	return nil, fmt.Errorf("%s: must be a mapping, got %s", path, describeJSON(v))
}

// checkFields rejects the first key (in sorted order) of m that is not known.
func checkFields(m map[string]any, path string, known ...string) error {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	for _, k := range keys {
		found := false
		for _, n := range known {
			if k == n {
				found = true
				break
			}
		}
		if !found {
			return fmt.Errorf("%s.%s: unknown field (known fields: %s)", path, k, strings.Join(known, ", "))
		}
	}
	return nil
}

// asString accepts only strings: YAML numbers and booleans are rejected so
// that "1.30" written unquoted does not silently become 1.3.
func asString(v any, path string) (string, error) {
	switch t := v.(type) {
	case nil:
		return "", nil
	case string:
		return t, nil
	}
	return "", fmt.Errorf("%s: must be a string, got %s (quote it)", path, describeJSON(v))
}

func asStringMap(v any, path string) (map[string]string, error) {
	m, err := asObject(v, path)
	if err != nil {
		return nil, err
	}
	out := make(map[string]string, len(m))
	for k, e := range m {
		s, err := asString(e, path+"."+k)
		if err != nil {
			return nil, err
		}
		out[k] = s
	}
	return out, nil
}

func asStringList(v any, path string) ([]string, error) {
	switch t := v.(type) {
	case nil:
		return nil, nil
	case []any:
		out := make([]string, 0, len(t))
		for i, e := range t {
			s, err := asString(e, fmt.Sprintf("%s[%d]", path, i))
			if err != nil {
				return nil, err
			}
			out = append(out, s)
		}
		return out, nil
	}
	return nil, fmt.Errorf("%s: must be a list of strings, got %s", path, describeJSON(v))
}
