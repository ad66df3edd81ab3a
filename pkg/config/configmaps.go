package config

import (
	"fmt"
	"sort"
	"strings"

	"k8s.io/apimachinery/pkg/util/validation"
	"sigs.k8s.io/kustomize/kyaml/yaml"
)

// configMapRef is one of Istio's ConfigMaps found in the input.
type configMapRef struct {
	name, namespace, origin string
	data                    map[string]string
}

func (c *configMapRef) describe() string {
	id := fmt.Sprintf("%q", c.name)
	if c.namespace != "" {
		id = c.namespace + "/" + c.name
	}
	return fmt.Sprintf("ConfigMap %s (%s)", id, c.origin)
}

func (c *configMapRef) source(key string) string {
	return fmt.Sprintf("%s data.%s", c.describe(), key)
}

func (c *configMapRef) injectorConfig() (*InjectorConfig, string, error) {
	data, ok := c.data["config"]
	if !ok {
		return nil, "", fmt.Errorf("%s: no key \"config\"", c.describe())
	}
	src := c.source("config")
	cfg, err := ParseInjectorConfig([]byte(data))
	if err != nil {
		return nil, "", fmt.Errorf("%s: %w", src, err)
	}
	return cfg, src, nil
}

func (c *configMapRef) values() (map[string]any, string, error) {
	data, ok := c.data["values"]
	if !ok {
		return nil, "", fmt.Errorf("%s: no key \"values\"", c.describe())
	}
	src := c.source("values")
	v, err := ParseValues([]byte(data))
	if err != nil {
		return nil, "", fmt.Errorf("%s: %w", src, err)
	}
	return v, src, nil
}

// configMapIndex finds Istio's ConfigMaps by name: first among the --config
// objects, then among the input items.
type configMapIndex struct {
	injectorBase, meshBase string
	// explicit maps a listed revision to its ConfigMap names; nil when
	// revisions are discovered from the injector ConfigMaps' names.
	explicit map[string]RevisionConfigMaps
	tiers    [2][]*configMapRef
}

func newConfigMapIndex(names ConfigMapNames, revisions []RevisionConfigMaps, extra, items []*yaml.RNode) *configMapIndex {
	x := &configMapIndex{injectorBase: names.Injector, meshBase: names.Mesh}
	if x.injectorBase == "" {
		x.injectorBase = defaultInjectorConfigMap
	}
	if x.meshBase == "" {
		x.meshBase = defaultMeshConfigMap
	}
	if len(revisions) > 0 {
		x.explicit = make(map[string]RevisionConfigMaps, len(revisions))
		for _, r := range revisions {
			x.explicit[r.Name] = r
		}
	}
	for i, t := range []struct {
		nodes  []*yaml.RNode
		origin string
	}{{extra, "--config"}, {items, "input items"}} {
		for _, n := range t.nodes {
			if n == nil || n.IsNil() || n.GetKind() != "ConfigMap" ||
				(n.GetApiVersion() != "v1" && n.GetApiVersion() != "") {
				continue
			}
			ns := n.GetNamespace()
			if names.Namespace != "" && ns != "" && ns != names.Namespace {
				continue
			}
			if !isIstioConfigMapName(n.GetName(), names, revisions) {
				continue
			}
			x.tiers[i] = append(x.tiers[i], &configMapRef{
				name: n.GetName(), namespace: ns, origin: t.origin, data: n.GetDataMap(),
			})
		}
	}
	return x
}

// isIstioConfigMapName reports whether name is one of Istio's injector or
// mesh ConfigMap names under the given naming.
func isIstioConfigMapName(name string, names ConfigMapNames, revisions []RevisionConfigMaps) bool {
	inj, mesh := names.Injector, names.Mesh
	if inj == "" {
		inj = defaultInjectorConfigMap
	}
	if mesh == "" {
		mesh = defaultMeshConfigMap
	}
	if name == inj || name == mesh || strings.HasPrefix(name, inj+"-") || strings.HasPrefix(name, mesh+"-") {
		return true
	}
	for _, r := range revisions {
		if name == r.InjectorConfigMap || name == r.MeshConfigMap {
			return true
		}
	}
	return false
}

func (x *configMapIndex) injectorName(rev string) string {
	if r, ok := x.explicit[rev]; ok && r.InjectorConfigMap != "" {
		return r.InjectorConfigMap
	}
	if rev == DefaultRevision {
		return x.injectorBase
	}
	return x.injectorBase + "-" + rev
}

func (x *configMapIndex) meshName(rev string) string {
	if r, ok := x.explicit[rev]; ok && r.MeshConfigMap != "" {
		return r.MeshConfigMap
	}
	if rev == DefaultRevision {
		return x.meshBase
	}
	return x.meshBase + "-" + rev
}

// find returns the ConfigMap of that name, nil when there is none. Two of
// the same name in one tier (different namespaces) are an error.
func (x *configMapIndex) find(name string) (*configMapRef, error) {
	for _, tier := range x.tiers {
		var found []*configMapRef
		for _, c := range tier {
			if c.name == name {
				found = append(found, c)
			}
		}
		switch len(found) {
		case 0:
			continue
		case 1:
			return found[0], nil
		default:
			var ids []string
			for _, c := range found {
				ids = append(ids, c.describe())
			}
			return nil, fmt.Errorf("several ConfigMaps named %q: %s; set %s spec.fromConfigMaps.namespace",
				name, strings.Join(ids, ", "), SidecarInjectorKind)
		}
	}
	return nil, nil
}

// revisions lists the revisions other ConfigMaps provide: the listed ones
// when spec.revisions is set (plus the default revision when its ConfigMap
// exists), otherwise every <injector>-<rev> ConfigMap and the default one.
func (x *configMapIndex) revisions() []string {
	set := map[string]bool{}
	for rev := range x.explicit {
		set[rev] = true
	}
	for _, tier := range x.tiers {
		for _, c := range tier {
			switch {
			case c.name == x.injectorBase:
				set[DefaultRevision] = true
			case x.explicit == nil && strings.HasPrefix(c.name, x.injectorBase+"-"):
				rev := strings.TrimPrefix(c.name, x.injectorBase+"-")
				if len(validation.IsDNS1123Label(rev)) == 0 {
					set[rev] = true
				}
			}
		}
	}
	out := make([]string, 0, len(set))
	for rev := range set {
		out = append(out, rev)
	}
	sort.Strings(out)
	return out
}
