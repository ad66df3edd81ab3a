package config

import (
	"encoding/json"
	"fmt"

	meshconfig "istio.io/api/mesh/v1alpha1"
	"sigs.k8s.io/kustomize/kyaml/kio"
	sigsyaml "sigs.k8s.io/yaml"
)

// ParseOperator reads an IstioOperator file as istioctl kube-inject
// --operatorFileName does and returns the injector values and, when the file
// has spec.meshConfig, the mesh configuration (read over Istio's defaults as
// in ParseMesh); mesh is nil otherwise.
//
// The values are spec.values over the top-level settings istioctl
// translates into values: spec.hub → global.hub, spec.tag → global.tag,
// spec.revision → revision, spec.meshConfig → meshConfig,
// spec.compatibilityVersion → compatibilityVersion, and pilot.enabled /
// pilot.cni.enabled from spec.components (pilot enabled and CNI disabled
// unless the file says otherwise, as in the default profile); spec.values
// wins where both set a key.
//
// Not reproduced: istioctl also merges the built-in installation profile
// (spec.profile, "default" when unset) under the file, which adds the
// profile's values and meshConfig. Only what the file states is used.
//
// How istioctl combines the flags (applied by Load): values from the
// operator file replace --valuesFile entirely; spec.meshConfig, when
// present, replaces --meshConfigFile.
func ParseOperator(data []byte) (values map[string]any, mesh *meshconfig.MeshConfig, err error) {
	values, mesh, _, err = parseOperator(data)
	return values, mesh, err
}

func parseOperator(data []byte) (map[string]any, *meshconfig.MeshConfig, []string, error) {
	docs, err := kio.FromBytes(data)
	if err != nil {
		return nil, nil, nil, fmt.Errorf("IstioOperator: %w", err)
	}
	switch len(docs) {
	case 0:
		return nil, nil, nil, fmt.Errorf("IstioOperator: no document found")
	case 1:
	default:
		return nil, nil, nil, fmt.Errorf("IstioOperator: %d documents found; only one IstioOperator per file is supported", len(docs))
	}
	// Decode the original text (YAML 1.1, as istioctl does), not kyaml's
	// re-serialization of it.
	var iop map[string]any
	if err := sigsyaml.Unmarshal(data, &iop); err != nil {
		return nil, nil, nil, fmt.Errorf("IstioOperator: %w", err)
	}
	if kind, _ := iop["kind"].(string); kind != "" && kind != "IstioOperator" {
		return nil, nil, nil, fmt.Errorf("IstioOperator: the file has kind %q, want IstioOperator", kind)
	}
	spec := map[string]any{}
	if s, ok := iop["spec"]; ok && s != nil {
		m, ok := s.(map[string]any)
		if !ok {
			return nil, nil, nil, fmt.Errorf("IstioOperator: spec must be a mapping, got %s", describeJSON(s))
		}
		spec = m
	}

	var warnings []string
	if p, _ := spec["profile"].(string); p != "" && p != "default" {
		warnings = append(warnings, fmt.Sprintf("IstioOperator: spec.profile %q is not applied; only the values and meshConfig the file states are used", p))
	}

	translated := map[string]any{}
	setPath := func(v any, path ...string) {
		m := translated
		for _, p := range path[:len(path)-1] {
			next, ok := m[p].(map[string]any)
			if !ok {
				next = map[string]any{}
				m[p] = next
			}
			m = next
		}
		m[path[len(path)-1]] = v
	}
	for _, t := range []struct {
		from string
		to   []string
	}{
		{"hub", []string{"global", "hub"}},
		{"tag", []string{"global", "tag"}},
		{"revision", []string{"revision"}},
		{"meshConfig", []string{"meshConfig"}},
		{"compatibilityVersion", []string{"compatibilityVersion"}},
	} {
		if v, ok := spec[t.from]; ok && v != nil {
			setPath(v, t.to...)
		}
	}
	components, _ := spec["components"].(map[string]any)
	setPath(componentEnabled(components, "pilot", true), "pilot", "enabled")
	setPath(componentEnabled(components, "cni", false), "pilot", "cni", "enabled")

	if v, ok := spec["values"]; ok && v != nil {
		userValues, ok := v.(map[string]any)
		if !ok {
			return nil, nil, nil, fmt.Errorf("IstioOperator: spec.values must be a mapping, got %s", describeJSON(v))
		}
		mergeInto(translated, userValues)
	}
	js, err := json.Marshal(translated)
	if err != nil {
		return nil, nil, nil, fmt.Errorf("IstioOperator: spec.values: %w", err)
	}
	values, err := ParseValues(js)
	if err != nil {
		return nil, nil, nil, fmt.Errorf("IstioOperator: spec.%w", err)
	}

	var mesh *meshconfig.MeshConfig
	if mc, ok := spec["meshConfig"]; ok && mc != nil {
		if _, ok := mc.(map[string]any); !ok {
			return nil, nil, nil, fmt.Errorf("IstioOperator: spec.meshConfig must be a mapping, got %s", describeJSON(mc))
		}
		mjs, err := json.Marshal(mc)
		if err != nil {
			return nil, nil, nil, fmt.Errorf("IstioOperator: spec.meshConfig: %w", err)
		}
		var mw []string
		mesh, mw, err = parseMesh(mjs)
		if err != nil {
			return nil, nil, nil, fmt.Errorf("IstioOperator: spec.meshConfig: %w", err)
		}
		for _, w := range mw {
			warnings = append(warnings, "IstioOperator: spec.meshConfig: "+w)
		}
	}
	return values, mesh, warnings, nil
}

// componentEnabled reads spec.components.<name>.enabled.
func componentEnabled(components map[string]any, name string, def bool) bool {
	c, ok := components[name].(map[string]any)
	if !ok {
		return def
	}
	if b, ok := c["enabled"].(bool); ok {
		return b
	}
	return def
}

// mergeInto deep-merges src into dst: nested mappings merge, anything else
// replaces.
func mergeInto(dst, src map[string]any) {
	for k, v := range src {
		if sm, ok := v.(map[string]any); ok {
			if dm, ok := dst[k].(map[string]any); ok {
				mergeInto(dm, sm)
				continue
			}
		}
		dst[k] = v
	}
}
