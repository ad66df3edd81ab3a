package funcs

import (
	"bytes"
	"encoding/json"
	"fmt"
	"time"

	"google.golang.org/protobuf/encoding/protojson"
	"google.golang.org/protobuf/proto"
	"google.golang.org/protobuf/types/known/durationpb"
	meshconfig "istio.io/api/mesh/v1alpha1"
)

// protoToJSON encodes a protobuf message as compact canonical proto JSON
// (camelCase JSON names, durations as "45s", enums by name, int64 as
// strings, unset fields omitted). A ProxyConfig is first stripped of fields
// equal to Istio's proxy defaults, which keeps the PROXY_CONFIG env small. A
// nil message or one that cannot be encoded gives "{}".
func protoToJSON(msg proto.Message) string {
	if msg == nil || !msg.ProtoReflect().IsValid() {
		return "{}"
	}
	if pc, ok := msg.(*meshconfig.ProxyConfig); ok {
		msg = withoutProxyDefaults(pc)
	}
	out, err := canonicalJSON(msg)
	if err != nil {
		return "{}"
	}
	return out
}

// canonicalJSON produces the bytes Istio's legacy jsonpb marshaller
// produces. protojson emits the same fields, order and value forms, but its
// whitespace is deliberately unstable and it does not escape HTML
// characters; compacting and HTML-escaping its output removes both
// differences.
func canonicalJSON(msg proto.Message) (string, error) {
	raw, err := protojson.Marshal(msg)
	if err != nil {
		return "", fmt.Errorf("encoding %s as JSON: %w", msg.ProtoReflect().Descriptor().FullName(), err)
	}
	var compact bytes.Buffer
	if err := json.Compact(&compact, raw); err != nil {
		return "", fmt.Errorf("compacting JSON of %s: %w", msg.ProtoReflect().Descriptor().FullName(), err)
	}
	var escaped bytes.Buffer
	json.HTMLEscape(&escaped, compact.Bytes())
	return escaped.String(), nil
}

// proxyDefaults are Istio's built-in ProxyConfig defaults
// (mesh.DefaultProxyConfig), the values protoToJSON leaves out. A function,
// not a variable, so that no caller can alter shared state.
func proxyDefaults() *meshconfig.ProxyConfig {
	return &meshconfig.ProxyConfig{
		ConfigPath:               "./etc/istio/proxy",
		ClusterName:              &meshconfig.ProxyConfig_ServiceCluster{ServiceCluster: "istio-proxy"},
		DrainDuration:            durationpb.New(45 * time.Second),
		TerminationDrainDuration: durationpb.New(5 * time.Second),
		ProxyAdminPort:           15000,
		ControlPlaneAuthPolicy:   meshconfig.AuthenticationPolicy_MUTUAL_TLS,
		DiscoveryAddress:         "istiod.istio-system.svc:15012",
		BinaryPath:               "/usr/local/bin/envoy",
		StatNameLength:           189,
		StatusPort:               15020,
	}
}

// withoutProxyDefaults returns a copy of pc with the fields Istio compares
// against its defaults cleared when they hold the default value. Other
// fields are kept even when they equal a default: this is the exact set
// Istio clears, so output matches Istio's.
func withoutProxyDefaults(pc *meshconfig.ProxyConfig) *meshconfig.ProxyConfig {
	out := proto.Clone(pc).(*meshconfig.ProxyConfig)
	def := proxyDefaults()
	if out.ConfigPath == def.ConfigPath {
		out.ConfigPath = ""
	}
	if out.BinaryPath == def.BinaryPath {
		out.BinaryPath = ""
	}
	if out.ControlPlaneAuthPolicy == def.ControlPlaneAuthPolicy {
		out.ControlPlaneAuthPolicy = 0
	}
	if sc, ok := out.ClusterName.(*meshconfig.ProxyConfig_ServiceCluster); ok && sc.ServiceCluster == def.GetServiceCluster() {
		out.ClusterName = nil
	}
	if proto.Equal(out.DrainDuration, def.DrainDuration) {
		out.DrainDuration = nil
	}
	if proto.Equal(out.TerminationDrainDuration, def.TerminationDrainDuration) {
		out.TerminationDrainDuration = nil
	}
	if out.DiscoveryAddress == def.DiscoveryAddress {
		out.DiscoveryAddress = ""
	}
	if proto.Equal(out.EnvoyMetricsService, def.EnvoyMetricsService) {
		out.EnvoyMetricsService = nil
	}
	if proto.Equal(out.EnvoyAccessLogService, def.EnvoyAccessLogService) {
		out.EnvoyAccessLogService = nil
	}
	if proto.Equal(out.Tracing, def.Tracing) {
		out.Tracing = nil
	}
	if out.ProxyAdminPort == def.ProxyAdminPort {
		out.ProxyAdminPort = 0
	}
	if out.StatNameLength == def.StatNameLength {
		out.StatNameLength = 0
	}
	if out.StatusPort == def.StatusPort {
		out.StatusPort = 0
	}
	if proto.Equal(out.Concurrency, def.Concurrency) {
		out.Concurrency = nil
	}
	if len(out.ProxyMetadata) == 0 {
		out.ProxyMetadata = nil
	}
	return out
}
