package config

import (
	"bytes"
	"encoding/json"
	"fmt"
	"sort"
	"time"

	"google.golang.org/protobuf/proto"
	"google.golang.org/protobuf/reflect/protoreflect"
	"google.golang.org/protobuf/types/known/durationpb"
	"google.golang.org/protobuf/types/known/wrapperspb"
	meshconfig "istio.io/api/mesh/v1alpha1"
	networking "istio.io/api/networking/v1alpha3"
	sigsyaml "sigs.k8s.io/yaml"
)

// DefaultProxyConfig returns the proxy defaults Istio applies under a mesh
// configuration's defaultConfig (Istio 1.2x-1.32: no default concurrency,
// tracer or parent shutdown duration). A new value on every call.
func DefaultProxyConfig() *meshconfig.ProxyConfig {
	return &meshconfig.ProxyConfig{
		ConfigPath:               "./etc/istio/proxy",
		BinaryPath:               "/usr/local/bin/envoy",
		ClusterName:              &meshconfig.ProxyConfig_ServiceCluster{ServiceCluster: "istio-proxy"},
		DrainDuration:            durationpb.New(45 * time.Second),
		TerminationDrainDuration: durationpb.New(5 * time.Second),
		ProxyAdminPort:           15000,
		ControlPlaneAuthPolicy:   meshconfig.AuthenticationPolicy_MUTUAL_TLS,
		DiscoveryAddress:         "istiod.istio-system.svc:15012",
		StatNameLength:           189,
		StatusPort:               15020,
		// InterceptionMode REDIRECT is the enum's zero value.
	}
}

// DefaultMeshConfig returns the mesh configuration Istio uses when the istio
// ConfigMap is absent, and the base that data.mesh is read over. A new value
// on every call.
func DefaultMeshConfig() *meshconfig.MeshConfig {
	return &meshconfig.MeshConfig{
		DefaultConfig:            DefaultProxyConfig(),
		EnableTracing:            true,
		AccessLogEncoding:        meshconfig.MeshConfig_TEXT,
		ProtocolDetectionTimeout: durationpb.New(0),
		IngressService:           "istio-ingressgateway",
		IngressControllerMode:    meshconfig.MeshConfig_STRICT,
		IngressClass:             "istio",
		TrustDomain:              "cluster.local",
		TrustDomainAliases:       []string{},
		EnableAutoMtls:           wrapperspb.Bool(true),
		OutboundTrafficPolicy: &meshconfig.MeshConfig_OutboundTrafficPolicy{
			Mode: meshconfig.MeshConfig_OutboundTrafficPolicy_ALLOW_ANY,
		},
		InboundTrafficPolicy: &meshconfig.MeshConfig_InboundTrafficPolicy{
			Mode: meshconfig.MeshConfig_InboundTrafficPolicy_PASSTHROUGH,
		},
		LocalityLbSetting:              &networking.LocalityLoadBalancerSetting{Enabled: wrapperspb.Bool(true)},
		Certificates:                   []*meshconfig.Certificate{},
		RootNamespace:                  "istio-system",
		ProxyListenPort:                15001,
		ProxyInboundListenPort:         15006,
		ConnectTimeout:                 durationpb.New(10 * time.Second),
		DefaultServiceExportTo:         []string{"*"},
		DefaultVirtualServiceExportTo:  []string{"*"},
		DefaultDestinationRuleExportTo: []string{"*"},
		DnsRefreshRate:                 durationpb.New(60 * time.Second),
		ServiceSettings:                []*meshconfig.MeshConfig_ServiceSettings{},
		EnablePrometheusMerge:          wrapperspb.Bool(true),
		DefaultProviders:               &meshconfig.MeshConfig_DefaultProviders{},
		ExtensionProviders: []*meshconfig.MeshConfig_ExtensionProvider{
			{
				Name: "prometheus",
				Provider: &meshconfig.MeshConfig_ExtensionProvider_Prometheus{
					Prometheus: &meshconfig.MeshConfig_ExtensionProvider_PrometheusMetricsProvider{},
				},
			},
			{
				Name: "stackdriver",
				Provider: &meshconfig.MeshConfig_ExtensionProvider_Stackdriver{
					Stackdriver: &meshconfig.MeshConfig_ExtensionProvider_StackdriverProvider{},
				},
			},
			{
				Name: "envoy",
				Provider: &meshconfig.MeshConfig_ExtensionProvider_EnvoyFileAccessLog{
					EnvoyFileAccessLog: &meshconfig.MeshConfig_ExtensionProvider_EnvoyFileAccessLogProvider{
						Path: "/dev/stdout",
					},
				},
			},
		},
	}
}

// ParseMesh reads data.mesh over DefaultMeshConfig with the semantics of
// Istio's ApplyMeshConfig:
//
//   - The YAML is read as YAML 1.1 and converted to JSON, then decoded with
//     the legacy protobuf JSON rules Istio uses: a top-level field present in
//     the input replaces the default (a nested message is replaced whole, a
//     null keeps the default), durations are Go durations ("1m30s"), enums
//     are names or numbers, and unknown fields are ignored (the parser here
//     reports them as warnings; Istio drops them silently).
//   - defaultConfig is merged field by field over the default proxy config;
//     its proxyMetadata map is merged key by key; proxyHeaders keeps
//     defaults for the sub-fields it does not set.
//   - defaultProviders is merged over the default's; extensionProviders
//     replace same-named defaults and append the others; trustDomainAliases
//     are unioned and sorted.
//   - The result is validated like Istio validates a mesh configuration
//     (ports, durations, addresses, trust domains, locality settings); an
//     invalid configuration is an error.
//
// Empty input gives the defaults.
func ParseMesh(data []byte) (*meshconfig.MeshConfig, error) {
	mc, _, err := parseMesh(data)
	return mc, err
}

// parseMesh is ParseMesh that also returns warnings.
func parseMesh(data []byte) (*meshconfig.MeshConfig, []string, error) {
	mc := DefaultMeshConfig()
	if len(bytes.TrimSpace(data)) == 0 {
		return mc, nil, nil
	}
	js, raw, err := yamlObject(data)
	if err != nil {
		return nil, nil, fmt.Errorf("mesh config: %w", err)
	}
	if raw == nil {
		return mc, nil, nil
	}
	var warnings []string
	for _, f := range unknownProtoFields(mc.ProtoReflect().Descriptor(), raw, "") {
		warnings = append(warnings, fmt.Sprintf("mesh config: unknown field %q ignored", f))
	}

	// Everything but the three merged fields is an override. The proxy
	// config is decoded into a scratch default and then discarded, so that
	// only the exact key "defaultConfig" is merged below (as in Istio).
	prevProxy := mc.DefaultConfig
	prevProviders := mc.DefaultProviders
	prevExtensions := mc.ExtensionProviders
	prevAliases := mc.TrustDomainAliases
	mc.DefaultConfig = DefaultProxyConfig()
	if err := mc.UnmarshalJSON(js); err != nil {
		return nil, nil, fmt.Errorf("mesh config: %s%w", errorPath(&meshconfig.MeshConfig{}, raw, ""), err)
	}
	mc.DefaultConfig = prevProxy

	if pc, ok := raw["defaultConfig"]; ok && pc != nil {
		pcJSON, err := json.Marshal(pc)
		if err != nil {
			return nil, nil, fmt.Errorf("mesh config: defaultConfig: %w", err)
		}
		if err := MergeProxyConfig(mc.DefaultConfig, pcJSON); err != nil {
			return nil, nil, fmt.Errorf("mesh config: defaultConfig: %w", err)
		}
	}

	mc.DefaultProviders = prevProviders
	if dp, ok := raw["defaultProviders"]; ok && dp != nil {
		dpJSON, err := json.Marshal(dp)
		if err != nil {
			return nil, nil, fmt.Errorf("mesh config: defaultProviders: %w", err)
		}
		if mc.DefaultProviders == nil {
			mc.DefaultProviders = &meshconfig.MeshConfig_DefaultProviders{}
		}
		if err := mc.DefaultProviders.UnmarshalJSON(dpJSON); err != nil {
			return nil, nil, fmt.Errorf("mesh config: defaultProviders: %w", err)
		}
	}

	added := mc.ExtensionProviders
	mc.ExtensionProviders = prevExtensions
	for _, p := range added {
		replaced := false
		for _, e := range mc.ExtensionProviders {
			if e.Name == p.Name {
				e.Provider = p.Provider
				replaced = true
				break
			}
		}
		if !replaced {
			mc.ExtensionProviders = append(mc.ExtensionProviders, p)
		}
	}

	mc.TrustDomainAliases = sortedUnique(append(mc.TrustDomainAliases, prevAliases...))

	vw, err := validateMeshConfig(mc)
	if err != nil {
		return nil, nil, fmt.Errorf("mesh config: invalid: %w", err)
	}
	for _, w := range vw {
		warnings = append(warnings, "mesh config: "+w)
	}
	return mc, warnings, nil
}

// ApplyProxyConfig merges a proxy configuration in YAML or JSON (the form of
// the proxy.istio.io/config annotation and of a mesh's defaultConfig) over
// base the way Istio does, and returns the result. base is not modified.
func ApplyProxyConfig(data []byte, base *meshconfig.ProxyConfig) (*meshconfig.ProxyConfig, error) {
	var pc *meshconfig.ProxyConfig
	if base == nil {
		pc = DefaultProxyConfig()
	} else {
		pc = proto.Clone(base).(*meshconfig.ProxyConfig)
	}
	if len(bytes.TrimSpace(data)) == 0 {
		return pc, nil
	}
	js, raw, err := yamlObject(data)
	if err != nil {
		return nil, fmt.Errorf("proxy config: %w", err)
	}
	if raw == nil {
		return pc, nil
	}
	if err := MergeProxyConfig(pc, js); err != nil {
		return nil, fmt.Errorf("proxy config: %s%w", errorPath(&meshconfig.ProxyConfig{}, raw, ""), err)
	}
	return pc, nil
}

// MergeProxyConfig overlays the proxy configuration JSON js on pc in
// place, as Istio merges a pod's proxy.istio.io/config over the mesh's
// defaultConfig: every top-level field js sets replaces pc's, except
// proxyMetadata, whose entries are merged (js wins), and proxyHeaders,
// whose unset sub-fields keep pc's.
func MergeProxyConfig(pc *meshconfig.ProxyConfig, js []byte) error {
	origMetadata := pc.ProxyMetadata
	origHeaders := pc.ProxyHeaders
	if err := pc.UnmarshalJSON(js); err != nil {
		return err
	}
	if origMetadata != nil || pc.ProxyMetadata != nil {
		merged := make(map[string]string, len(origMetadata)+len(pc.ProxyMetadata))
		for k, v := range origMetadata {
			merged[k] = v
		}
		for k, v := range pc.ProxyMetadata {
			merged[k] = v
		}
		pc.ProxyMetadata = merged
	}
	if ph := pc.ProxyHeaders; ph != nil && origHeaders != nil && ph != origHeaders {
		if ph.ForwardedClientCert == meshconfig.ForwardClientCertDetails_UNDEFINED {
			ph.ForwardedClientCert = origHeaders.ForwardedClientCert
		}
		if ph.RequestId == nil {
			ph.RequestId = origHeaders.RequestId
		}
		if ph.AttemptCount == nil {
			ph.AttemptCount = origHeaders.AttemptCount
		}
		if ph.Server == nil {
			ph.Server = origHeaders.Server
		}
		if ph.EnvoyDebugHeaders == nil {
			ph.EnvoyDebugHeaders = origHeaders.EnvoyDebugHeaders
		}
	}
	return nil
}

// yamlObject converts YAML (1.1, as Istio reads it) to JSON and decodes the
// top level, which must be a mapping or null (raw is then nil).
func yamlObject(data []byte) (js []byte, raw map[string]any, err error) {
	js, err = sigsyaml.YAMLToJSON(data)
	if err != nil {
		return nil, nil, err
	}
	dec := json.NewDecoder(bytes.NewReader(js))
	dec.UseNumber()
	var v any
	if err := dec.Decode(&v); err != nil {
		return nil, nil, err
	}
	switch t := v.(type) {
	case nil:
		return js, nil, nil
	case map[string]any:
		return js, t, nil
	default:
		return nil, nil, fmt.Errorf("must be a YAML mapping, got %s", describeJSON(v))
	}
}

// errorPath finds the field of raw (the JSON object of a message like m)
// that the protobuf JSON reader rejects, and returns its path followed by
// ": ", or "" when it cannot tell. The reader's own errors do not name the
// field.
func errorPath(m proto.Message, raw map[string]any, prefix string) string {
	keys := make([]string, 0, len(raw))
	for k := range raw {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	md := m.ProtoReflect().Descriptor()
	for _, k := range keys {
		if decodes(m, map[string]any{k: raw[k]}) {
			continue
		}
		path := prefix + k
		fd := md.Fields().ByName(protoreflect.Name(k))
		if fd == nil {
			fd = md.Fields().ByJSONName(k)
		}
		if fd == nil || fd.Message() == nil || fd.IsMap() {
			return path + ": "
		}
		child := m.ProtoReflect().NewField(fd)
		if fd.IsList() {
			list, ok := raw[k].([]any)
			if !ok {
				return path + ": "
			}
			for i, e := range list {
				if decodes(m, map[string]any{k: []any{e}}) {
					continue
				}
				elemPath := fmt.Sprintf("%s[%d]", path, i)
				if obj, ok := e.(map[string]any); ok {
					if p := errorPath(child.List().NewElement().Message().Interface(), obj, elemPath+"."); p != "" {
						return p
					}
				}
				return elemPath + ": "
			}
			return path + ": "
		}
		if obj, ok := raw[k].(map[string]any); ok {
			if p := errorPath(child.Message().Interface(), obj, path+"."); p != "" {
				return p
			}
		}
		return path + ": "
	}
	return ""
}

// decodes reports whether the JSON form of obj reads into a new message of
// m's type; false as well when that type has no JSON reader of its own.
func decodes(m proto.Message, obj map[string]any) bool {
	js, err := json.Marshal(obj)
	if err != nil {
		return false
	}
	u, ok := m.ProtoReflect().New().Interface().(json.Unmarshaler)
	return ok && u.UnmarshalJSON(js) == nil
}

// unknownProtoFields lists the keys of a decoded JSON object (and of nested
// objects) that name no field of md, as dotted paths.
func unknownProtoFields(md protoreflect.MessageDescriptor, v any, prefix string) []string {
	obj, ok := v.(map[string]any)
	if !ok || md.FullName().Parent() == "google.protobuf" {
		// Well-known types (Struct, Value, Duration, wrappers) take any shape.
		return nil
	}
	keys := make([]string, 0, len(obj))
	for k := range obj {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	var out []string
	fields := md.Fields()
	for _, k := range keys {
		fd := fields.ByName(protoreflect.Name(k))
		if fd == nil {
			fd = fields.ByJSONName(k)
		}
		if fd == nil {
			out = append(out, prefix+k)
			continue
		}
		path := prefix + k
		switch {
		case fd.IsMap():
			if vd := fd.MapValue(); vd.Message() != nil {
				if m, ok := obj[k].(map[string]any); ok {
					mk := make([]string, 0, len(m))
					for key := range m {
						mk = append(mk, key)
					}
					sort.Strings(mk)
					for _, key := range mk {
						out = append(out, unknownProtoFields(vd.Message(), m[key], path+"."+key+".")...)
					}
				}
			}
		case fd.Message() == nil:
		case fd.IsList():
			if l, ok := obj[k].([]any); ok {
				for i, e := range l {
					out = append(out, unknownProtoFields(fd.Message(), e, fmt.Sprintf("%s[%d].", path, i))...)
				}
			}
		default:
			out = append(out, unknownProtoFields(fd.Message(), obj[k], path+".")...)
		}
	}
	return out
}

func sortedUnique(in []string) []string {
	seen := make(map[string]bool, len(in))
	out := make([]string, 0, len(in))
	for _, s := range in {
		if !seen[s] {
			seen[s] = true
			out = append(out, s)
		}
	}
	sort.Strings(out)
	return out
}
