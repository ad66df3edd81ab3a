package render

import (
	"bytes"
	"encoding/json"
	"fmt"
	"time"

	"google.golang.org/protobuf/proto"
	"google.golang.org/protobuf/types/known/durationpb"
	"istio.io/api/annotation"
	meshconfig "istio.io/api/mesh/v1alpha1"
	"sigs.k8s.io/yaml"
)

// effectiveProxyConfig is the mesh's defaultConfig overlaid with the pod's
// proxy.istio.io/config annotation, with the semantics of Istio's
// MergeProxyConfig (used by istioctl kube-inject): every top-level field the
// annotation sets replaces the default's field as a whole, except
// proxyMetadata, whose entries are merged (annotation wins), and
// proxyHeaders, whose unset sub-fields keep the default's. The result is a
// new object; base is not modified.
func effectiveProxyConfig(base *meshconfig.ProxyConfig, annotations map[string]string) (*meshconfig.ProxyConfig, error) {
	pc := &meshconfig.ProxyConfig{}
	if base != nil {
		pc = proto.Clone(base).(*meshconfig.ProxyConfig)
	}
	value, ok := annotations[annotation.ProxyConfig.Name]
	if !ok {
		return pc, nil
	}
	origMetadata := pc.ProxyMetadata
	origHeaders := pc.ProxyHeaders
	if err := applyProxyConfigYAML(value, pc); err != nil {
		return nil, fmt.Errorf("could not parse proxy config: %w", err)
	}
	pc.ProxyMetadata = mergeStringMaps(origMetadata, pc.ProxyMetadata)
	keepUnsetProxyHeaders(pc.ProxyHeaders, origHeaders)
	return pc, nil
}

// applyProxyConfigYAML applies a ProxyConfig in YAML (or JSON) onto pc with
// the legacy jsonpb decoding Istio uses (istio.io/api's generated
// UnmarshalJSON is exactly that, unknown fields allowed): each top-level
// field present and not null replaces pc's field; absent and null fields
// leave pc's alone; values follow protobuf JSON rules (camelCase or proto
// names, duration strings, enum names).
func applyProxyConfigYAML(text string, pc *meshconfig.ProxyConfig) error {
	js, err := yaml.YAMLToJSON([]byte(text))
	if err != nil {
		return err
	}
	if isJSONNull(js) { // an empty document: nothing to apply
		return nil
	}
	var object map[string]json.RawMessage
	if err := json.Unmarshal(js, &object); err != nil {
		return fmt.Errorf("proxy config must be a mapping: %w", err)
	}
	return pc.UnmarshalJSON(js)
}

func isJSONNull(b []byte) bool {
	return bytes.Equal(bytes.TrimSpace(b), []byte("null"))
}

// mergeStringMaps adds merger's entries to original (merger wins) and
// returns it; nil only when both are nil.
func mergeStringMaps(original, merger map[string]string) map[string]string {
	if original == nil && merger == nil {
		return nil
	}
	out := make(map[string]string, len(original)+len(merger))
	for k, v := range original {
		out[k] = v
	}
	for k, v := range merger {
		out[k] = v
	}
	return out
}

// keepUnsetProxyHeaders fills the header settings an annotation's
// proxyHeaders leaves unset from the mesh default, as Istio does.
func keepUnsetProxyHeaders(ph, orig *meshconfig.ProxyConfig_ProxyHeaders) {
	if ph == nil || orig == nil || ph == orig {
		return
	}
	if ph.ForwardedClientCert == meshconfig.ForwardClientCertDetails_UNDEFINED {
		ph.ForwardedClientCert = orig.ForwardedClientCert
	}
	if ph.RequestId == nil {
		ph.RequestId = orig.RequestId
	}
	if ph.AttemptCount == nil {
		ph.AttemptCount = orig.AttemptCount
	}
	if ph.Server == nil {
		ph.Server = orig.Server
	}
	if ph.EnvoyDebugHeaders == nil {
		ph.EnvoyDebugHeaders = orig.EnvoyDebugHeaders
	}
}

// validateProxyConfigAnnotation applies the annotation onto Istio's built-in
// proxy defaults (not the mesh's) and validates the result, as Istio does.
func validateProxyConfigAnnotation(value string) error {
	pc := builtinProxyDefaults()
	if err := applyProxyConfigYAML(value, pc); err != nil {
		return fmt.Errorf("failed to convert to apply proxy config: %w", err)
	}
	return validateProxyConfig(pc)
}

// builtinProxyDefaults holds Istio's code defaults for the fields that
// validateProxyConfig checks; the other defaults cannot fail validation.
func builtinProxyDefaults() *meshconfig.ProxyConfig {
	return &meshconfig.ProxyConfig{
		ConfigPath:             "./etc/istio/proxy",
		BinaryPath:             "/usr/local/bin/envoy",
		ClusterName:            &meshconfig.ProxyConfig_ServiceCluster{ServiceCluster: "istio-proxy"},
		DrainDuration:          durationpb.New(45 * time.Second),
		DiscoveryAddress:       "istiod.istio-system.svc:15012",
		ProxyAdminPort:         15000,
		ControlPlaneAuthPolicy: meshconfig.AuthenticationPolicy_MUTUAL_TLS,
		StatusPort:             15020,
	}
}
