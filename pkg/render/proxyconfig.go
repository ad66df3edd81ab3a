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

	"github.com/inject-sidecar/inject-sidecar/pkg/config"
)

// effectiveProxyConfig is the mesh's defaultConfig overlaid with the pod's
// proxy.istio.io/config annotation, with the semantics of Istio's
// MergeProxyConfig (used by istioctl kube-inject; see
// config.MergeProxyConfig). The result is a new object; base is not
// modified.
func effectiveProxyConfig(base *meshconfig.ProxyConfig, annotations map[string]string) (*meshconfig.ProxyConfig, error) {
	pc := &meshconfig.ProxyConfig{}
	if base != nil {
		pc = proto.Clone(base).(*meshconfig.ProxyConfig)
	}
	value, ok := annotations[annotation.ProxyConfig.Name]
	if !ok {
		return pc, nil
	}
	js, err := proxyConfigJSON(value)
	if err == nil && js != nil {
		err = config.MergeProxyConfig(pc, js)
	}
	if err != nil {
		return nil, fmt.Errorf("could not parse proxy config: %w", err)
	}
	return pc, nil
}

// proxyConfigJSON converts a ProxyConfig in YAML (or JSON) to the JSON
// Istio's legacy jsonpb decoding reads (istio.io/api's generated
// UnmarshalJSON: camelCase or proto names, duration strings, enum names,
// unknown fields allowed). It is nil for an empty document, which sets
// nothing.
func proxyConfigJSON(text string) ([]byte, error) {
	js, err := yaml.YAMLToJSON([]byte(text))
	if err != nil {
		return nil, err
	}
	if bytes.Equal(bytes.TrimSpace(js), []byte("null")) {
		return nil, nil
	}
	var object map[string]json.RawMessage
	if err := json.Unmarshal(js, &object); err != nil {
		return nil, fmt.Errorf("proxy config must be a mapping: %w", err)
	}
	return js, nil
}

// validateProxyConfigAnnotation applies the annotation onto Istio's built-in
// proxy defaults (not the mesh's) and validates the result, as Istio does.
func validateProxyConfigAnnotation(value string) error {
	pc := builtinProxyDefaults()
	js, err := proxyConfigJSON(value)
	if err == nil && js != nil {
		err = pc.UnmarshalJSON(js)
	}
	if err != nil {
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
