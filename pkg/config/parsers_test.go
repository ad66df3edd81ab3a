package config

import (
	"reflect"
	"testing"
	"time"

	"google.golang.org/protobuf/proto"
	meshconfig "istio.io/api/mesh/v1alpha1"
)

func TestParseInjectorConfig(t *testing.T) {
	cases := []struct {
		name    string
		file    string
		wantErr string
		check   func(t *testing.T, c *InjectorConfig)
	}{
		{
			name: "every field",
			file: "injector/full.yaml",
			check: func(t *testing.T, c *InjectorConfig) {
				if c.Policy != "disabled" {
					t.Errorf("Policy = %q", c.Policy)
				}
				if !reflect.DeepEqual(c.DefaultTemplates, []string{"sidecar", "extra"}) {
					t.Errorf("DefaultTemplates = %v", c.DefaultTemplates)
				}
				if !reflect.DeepEqual(c.Aliases, map[string][]string{"both": {"sidecar", "extra"}}) {
					t.Errorf("Aliases = %v", c.Aliases)
				}
				if len(c.NeverInjectSelector) != 1 || c.NeverInjectSelector[0].MatchLabels["never"] != "true" {
					t.Errorf("NeverInjectSelector = %v", c.NeverInjectSelector)
				}
				if len(c.AlwaysInjectSelector) != 1 || c.AlwaysInjectSelector[0].MatchExpressions[0].Key != "always" {
					t.Errorf("AlwaysInjectSelector = %v", c.AlwaysInjectSelector)
				}
				// A YAML number under a string map becomes its text, as in Istio.
				want := map[string]string{"example.com/injected": "true", "example.com/count": "3"}
				if !reflect.DeepEqual(c.InjectedAnnotations, want) {
					t.Errorf("InjectedAnnotations = %v", c.InjectedAnnotations)
				}
				if len(c.Templates) != 2 || c.Templates["extra"] == "" {
					t.Errorf("Templates = %v", c.Templates)
				}
				if c.Bare {
					t.Error("Bare = true")
				}
				if !hasWarning(c.Warnings, "unknown keys ignored: unknownKey") {
					t.Errorf("no warning about unknownKey: %v", c.Warnings)
				}
				if hasWarning(c.Warnings, "legacy") {
					t.Errorf("legacy template warned although templates exist: %v", c.Warnings)
				}
			},
		},
		{
			name: "only the legacy template key",
			file: "injector/no-templates.yaml",
			check: func(t *testing.T, c *InjectorConfig) {
				if len(c.Templates) != 0 || c.Templates == nil {
					t.Errorf("Templates = %#v, want empty non-nil", c.Templates)
				}
				if !reflect.DeepEqual(c.DefaultTemplates, []string{"sidecar"}) {
					t.Errorf("DefaultTemplates = %v", c.DefaultTemplates)
				}
				if !hasWarning(c.Warnings, "legacy \"template\" key") || !hasWarning(c.Warnings, "no templates") {
					t.Errorf("Warnings = %v", c.Warnings)
				}
			},
		},
		{
			name: "a bare template is not a data.config",
			file: "injector/bare-yaml-template.yaml",
			check: func(t *testing.T, c *InjectorConfig) {
				if len(c.Templates) != 0 || c.Bare {
					t.Errorf("Templates = %v, Bare = %v", c.Templates, c.Bare)
				}
				if !hasWarning(c.Warnings, "unknown keys ignored: spec") {
					t.Errorf("Warnings = %v", c.Warnings)
				}
			},
		},
		{name: "malformed YAML", file: "injector/malformed.yaml", wantErr: "injector config: error converting YAML to JSON"},
		{name: "templates is a list", file: "injector/wrong-type.yaml", wantErr: "field templates of type map[string]string"},
		{name: "selector is not a list", file: "injector/wrong-selector.yaml", wantErr: "field neverInjectSelector of type"},
		{name: "bare non-YAML template", file: "injector/bare-template.txt", wantErr: "injector config:"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			c, err := ParseInjectorConfig(readTestdata(t, tc.file))
			if checkErr(t, err, tc.wantErr) && tc.check != nil {
				tc.check(t, c)
			}
		})
	}
}

func TestParseInjectConfigFile(t *testing.T) {
	cases := []struct {
		name     string
		data     []byte
		wantBare bool
		wantErr  string
	}{
		{name: "configuration", data: readTestdata(t, "injector/full.yaml")},
		{name: "bare template that is not YAML", data: readTestdata(t, "injector/bare-template.txt"), wantBare: true},
		{name: "bare template that is YAML", data: readTestdata(t, "injector/bare-yaml-template.yaml"), wantBare: true},
		// Like istioctl: no templates means the whole file is the template.
		{name: "configuration without templates", data: readTestdata(t, "injector/no-templates.yaml"), wantBare: true},
		{name: "empty", data: []byte("\n  \n"), wantErr: "empty"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			c, err := ParseInjectConfigFile(tc.data)
			if !checkErr(t, err, tc.wantErr) {
				return
			}
			if c.Bare != tc.wantBare {
				t.Fatalf("Bare = %v, want %v", c.Bare, tc.wantBare)
			}
			if tc.wantBare {
				if c.Templates[SidecarTemplate] != string(tc.data) || len(c.Templates) != 1 {
					t.Errorf("Templates = %v, want the whole file as sidecar", c.Templates)
				}
				if c.Policy != "enabled" || !reflect.DeepEqual(c.DefaultTemplates, []string{"sidecar"}) {
					t.Errorf("Policy = %q, DefaultTemplates = %v", c.Policy, c.DefaultTemplates)
				}
			}
		})
	}
}

func TestParseValues(t *testing.T) {
	cases := []struct {
		name    string
		data    []byte
		want    map[string]any
		wantErr string
	}{
		{
			name: "YAML with YAML 1.1 booleans and float numbers",
			data: readTestdata(t, "values/yaml.yaml"),
			want: map[string]any{"global": map[string]any{
				"hub": "registry.example", "tag": "1.2.3",
				"proxy": map[string]any{"privileged": true, "statusPort": float64(15020)},
			}},
		},
		{name: "JSON", data: []byte(`{"a": {"b": [1, "x"]}}`), want: map[string]any{"a": map[string]any{"b": []any{float64(1), "x"}}}},
		{name: "empty", data: []byte(" \n"), want: map[string]any{}},
		{name: "null", data: []byte("null"), want: map[string]any{}},
		{name: "list", data: readTestdata(t, "values/list.json"), wantErr: "values: must be a JSON object or YAML mapping, got a list"},
		{name: "string", data: readTestdata(t, "values/scalar.json"), wantErr: "got a string"},
		{name: "malformed JSON", data: readTestdata(t, "values/malformed.json"), wantErr: "values: error converting YAML to JSON"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			got, err := ParseValues(tc.data)
			if checkErr(t, err, tc.wantErr) && !reflect.DeepEqual(got, tc.want) {
				t.Errorf("got %#v, want %#v", got, tc.want)
			}
		})
	}
}

// TestMeshDefaults pins the Istio defaults the templates and the proxy
// config cleanup depend on.
func TestMeshDefaults(t *testing.T) {
	for name, data := range map[string][]byte{"no input": nil, "empty document": []byte("# nothing\n"), "null": []byte("null")} {
		t.Run(name, func(t *testing.T) {
			mc, err := ParseMesh(data)
			if err != nil {
				t.Fatal(err)
			}
			if !proto.Equal(mc, DefaultMeshConfig()) {
				t.Fatalf("ParseMesh(%q) differs from DefaultMeshConfig()", data)
			}
			pc := mc.GetDefaultConfig()
			checks := []struct {
				field string
				got   any
				want  any
			}{
				{"trustDomain", mc.GetTrustDomain(), "cluster.local"},
				{"rootNamespace", mc.GetRootNamespace(), "istio-system"},
				{"proxyListenPort", mc.GetProxyListenPort(), int32(15001)},
				{"proxyInboundListenPort", mc.GetProxyInboundListenPort(), int32(15006)},
				{"connectTimeout", mc.GetConnectTimeout().AsDuration(), 10 * time.Second},
				{"dnsRefreshRate", mc.GetDnsRefreshRate().AsDuration(), 60 * time.Second},
				{"enableTracing", mc.GetEnableTracing(), true},
				{"enablePrometheusMerge", mc.GetEnablePrometheusMerge().GetValue(), true},
				{"enableAutoMtls", mc.GetEnableAutoMtls().GetValue(), true},
				{"outboundTrafficPolicy", mc.GetOutboundTrafficPolicy().GetMode(), meshconfig.MeshConfig_OutboundTrafficPolicy_ALLOW_ANY},
				{"inboundTrafficPolicy", mc.GetInboundTrafficPolicy().GetMode(), meshconfig.MeshConfig_InboundTrafficPolicy_PASSTHROUGH},
				{"ingressService", mc.GetIngressService(), "istio-ingressgateway"},
				{"extensionProviders", len(mc.GetExtensionProviders()), 3},
				{"defaultConfig.discoveryAddress", pc.GetDiscoveryAddress(), "istiod.istio-system.svc:15012"},
				{"defaultConfig.configPath", pc.GetConfigPath(), "./etc/istio/proxy"},
				{"defaultConfig.binaryPath", pc.GetBinaryPath(), "/usr/local/bin/envoy"},
				{"defaultConfig.serviceCluster", pc.GetServiceCluster(), "istio-proxy"},
				{"defaultConfig.statusPort", pc.GetStatusPort(), int32(15020)},
				{"defaultConfig.proxyAdminPort", pc.GetProxyAdminPort(), int32(15000)},
				{"defaultConfig.statNameLength", pc.GetStatNameLength(), int32(189)},
				{"defaultConfig.drainDuration", pc.GetDrainDuration().AsDuration(), 45 * time.Second},
				{"defaultConfig.terminationDrainDuration", pc.GetTerminationDrainDuration().AsDuration(), 5 * time.Second},
				{"defaultConfig.controlPlaneAuthPolicy", pc.GetControlPlaneAuthPolicy(), meshconfig.AuthenticationPolicy_MUTUAL_TLS},
				{"defaultConfig.interceptionMode", pc.GetInterceptionMode(), meshconfig.ProxyConfig_REDIRECT},
				// Current Istio sets no default for these.
				{"defaultConfig.concurrency set", pc.GetConcurrency() != nil, false},
				{"defaultConfig.tracing set", pc.GetTracing() != nil, false},
				{"defaultConfig.holdApplicationUntilProxyStarts set", pc.GetHoldApplicationUntilProxyStarts() != nil, false},
			}
			for _, c := range checks {
				if !reflect.DeepEqual(c.got, c.want) {
					t.Errorf("%s = %v, want %v", c.field, c.got, c.want)
				}
			}
		})
	}
	if DefaultMeshConfig() == DefaultMeshConfig() || DefaultMeshConfig().DefaultConfig == DefaultMeshConfig().DefaultConfig {
		t.Error("DefaultMeshConfig must return a new value on every call")
	}
}

func TestParseMesh(t *testing.T) {
	cases := []struct {
		name    string
		file    string
		wantErr string
		check   func(t *testing.T, mc *meshconfig.MeshConfig, warnings []string)
	}{
		{
			name: "overrides and merges",
			file: "mesh/override.yaml",
			check: func(t *testing.T, mc *meshconfig.MeshConfig, warnings []string) {
				pc := mc.GetDefaultConfig()
				checks := []struct {
					field string
					got   any
					want  any
				}{
					{"trustDomain", mc.GetTrustDomain(), "example.org"},
					{"trustDomainAliases (sorted, unique)", mc.GetTrustDomainAliases(), []string{"alpha.example", "zeta.example"}},
					{"connectTimeout (Go duration)", mc.GetConnectTimeout().AsDuration(), 90 * time.Second},
					{"enableTracing", mc.GetEnableTracing(), false},
					{"outboundTrafficPolicy", mc.GetOutboundTrafficPolicy().GetMode(), meshconfig.MeshConfig_OutboundTrafficPolicy_REGISTRY_ONLY},
					{"inboundTrafficPolicy", mc.GetInboundTrafficPolicy().GetMode(), meshconfig.MeshConfig_InboundTrafficPolicy_LOCALHOST},
					{"dnsRefreshRate (null keeps default)", mc.GetDnsRefreshRate().AsDuration(), 60 * time.Second},
					{"defaultProviders.tracing", mc.GetDefaultProviders().GetTracing(), []string{"otel"}},
					{"rootNamespace (untouched default)", mc.GetRootNamespace(), "istio-system"},
					// defaultConfig is merged over the default proxy config.
					{"defaultConfig.discoveryAddress", pc.GetDiscoveryAddress(), "istiod-canary.istio-system.svc:15012"},
					{"defaultConfig.interceptionMode", pc.GetInterceptionMode(), meshconfig.ProxyConfig_TPROXY},
					{"defaultConfig.concurrency", pc.GetConcurrency().GetValue(), int32(4)},
					{"defaultConfig.drainDuration", pc.GetDrainDuration().AsDuration(), time.Minute},
					{"defaultConfig.holdApplicationUntilProxyStarts", pc.GetHoldApplicationUntilProxyStarts().GetValue(), true},
					{"defaultConfig.proxyMetadata", pc.GetProxyMetadata(), map[string]string{"DNS_CAPTURE": "true"}},
					{"defaultConfig.tracing set and empty", pc.GetTracing() != nil && pc.GetTracing().GetTracer() == nil, true},
					{"defaultConfig.statusPort (default kept)", pc.GetStatusPort(), int32(15020)},
					{"defaultConfig.configPath (default kept)", pc.GetConfigPath(), "./etc/istio/proxy"},
				}
				for _, c := range checks {
					if !reflect.DeepEqual(c.got, c.want) {
						t.Errorf("%s = %v, want %v", c.field, c.got, c.want)
					}
				}
				var names []string
				for _, p := range mc.GetExtensionProviders() {
					names = append(names, p.GetName())
				}
				if !reflect.DeepEqual(names, []string{"prometheus", "stackdriver", "envoy", "otel"}) {
					t.Errorf("extensionProviders = %v", names)
				}
				if got := mc.GetExtensionProviders()[2].GetEnvoyFileAccessLog().GetPath(); got != "/dev/stderr" {
					t.Errorf("envoy provider path = %q, want the override", got)
				}
				for _, w := range []string{`"unknownTopLevel"`, `"defaultConfig.connectTimeout"`} {
					if !hasWarning(warnings, w) {
						t.Errorf("no warning for %s: %v", w, warnings)
					}
				}
			},
		},
		{
			name: "proto names; default_config is not merged",
			file: "mesh/proto-name.yaml",
			check: func(t *testing.T, mc *meshconfig.MeshConfig, _ []string) {
				if mc.GetTrustDomain() != "snake.example" {
					t.Errorf("trustDomain = %q", mc.GetTrustDomain())
				}
				if got := mc.GetDefaultConfig().GetDiscoveryAddress(); got != "istiod.istio-system.svc:15012" {
					t.Errorf("discoveryAddress = %q, want the default", got)
				}
			},
		},
		{name: "port out of range", file: "mesh/invalid-port.yaml", wantErr: "mesh config: invalid: proxyListenPort: port 70000"},
		{name: "bad discovery address", file: "mesh/invalid-discovery.yaml", wantErr: "defaultConfig: discoveryAddress"},
		{name: "unknown enum value", file: "mesh/bad-enum.yaml", wantErr: `mesh config: outboundTrafficPolicy.mode: unknown value "\"SOMETIMES\""`},
		{name: "wrong type", file: "mesh/wrong-type.yaml", wantErr: "mesh config: enableTracing: json: cannot unmarshal array"},
		{name: "bad duration", file: "mesh/bad-duration.yaml", wantErr: "mesh config: connectTimeout: bad Duration"},
		{name: "a list", file: "mesh/list.yaml", wantErr: "mesh config: must be a YAML mapping, got a list"},
		{name: "malformed YAML", file: "mesh/malformed.yaml", wantErr: "mesh config: yaml:"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			data := readTestdata(t, tc.file)
			mc, warnings, err := parseMesh(data)
			if !checkErr(t, err, tc.wantErr) {
				return
			}
			if pub, err := ParseMesh(data); err != nil || !proto.Equal(pub, mc) {
				t.Fatalf("ParseMesh and parseMesh disagree: %v", err)
			}
			tc.check(t, mc, warnings)
		})
	}
}

func TestApplyProxyConfig(t *testing.T) {
	base := DefaultProxyConfig()
	base.ProxyMetadata = map[string]string{"KEEP": "1", "OVERRIDE": "old"}
	before := proto.Clone(base)
	cases := []struct {
		name    string
		data    string
		wantErr string
		check   func(t *testing.T, pc *meshconfig.ProxyConfig)
	}{
		{
			name: "annotation overlays and merges metadata",
			data: "discoveryAddress: foo:123\nconcurrency: 0\nproxyMetadata:\n  OVERRIDE: new\n  ADDED: x\n",
			check: func(t *testing.T, pc *meshconfig.ProxyConfig) {
				if pc.GetDiscoveryAddress() != "foo:123" || pc.GetConcurrency() == nil || pc.GetConcurrency().GetValue() != 0 {
					t.Errorf("discoveryAddress %q concurrency %v", pc.GetDiscoveryAddress(), pc.GetConcurrency())
				}
				want := map[string]string{"KEEP": "1", "OVERRIDE": "new", "ADDED": "x"}
				if !reflect.DeepEqual(pc.GetProxyMetadata(), want) {
					t.Errorf("proxyMetadata = %v", pc.GetProxyMetadata())
				}
			},
		},
		{
			name: "JSON form",
			data: `{ "holdApplicationUntilProxyStarts": true }`,
			check: func(t *testing.T, pc *meshconfig.ProxyConfig) {
				if !pc.GetHoldApplicationUntilProxyStarts().GetValue() || pc.GetStatusPort() != 15020 {
					t.Errorf("got %v", pc)
				}
			},
		},
		{name: "not a mapping", data: "[1]", wantErr: "proxy config: must be a YAML mapping"},
		{name: "bad enum", data: "interceptionMode: SOMETIMES", wantErr: "proxy config: interceptionMode: unknown value"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			pc, err := ApplyProxyConfig([]byte(tc.data), base)
			if checkErr(t, err, tc.wantErr) {
				tc.check(t, pc)
			}
			if !proto.Equal(base, before) {
				t.Fatal("ApplyProxyConfig modified its base")
			}
		})
	}
}

func TestParseOperator(t *testing.T) {
	cases := []struct {
		name       string
		file       string
		wantErr    string
		wantValues map[string]any
		wantMesh   func(t *testing.T, mc *meshconfig.MeshConfig)
		wantWarn   string
	}{
		{
			name: "translations under spec.values",
			file: "operator/translations.yaml",
			wantValues: map[string]any{
				"global":   map[string]any{"hub": "registry.example", "tag": "1.32.1-distroless", "proxy": map[string]any{"statusPort": float64(15020)}},
				"revision": "canary",
				"pilot":    map[string]any{"enabled": true, "cni": map[string]any{"enabled": true}},
				"meshConfig": map[string]any{
					"trustDomain":   "example.org",
					"defaultConfig": map[string]any{"holdApplicationUntilProxyStarts": true},
				},
			},
			wantMesh: func(t *testing.T, mc *meshconfig.MeshConfig) {
				if mc.GetTrustDomain() != "example.org" || !mc.GetDefaultConfig().GetHoldApplicationUntilProxyStarts().GetValue() {
					t.Errorf("mesh = %v", mc)
				}
				if mc.GetDefaultConfig().GetStatusPort() != 15020 {
					t.Error("mesh not read over the defaults")
				}
			},
		},
		{
			name: "no meshConfig; profile not applied",
			file: "operator/no-mesh.yaml",
			wantValues: map[string]any{
				"global": map[string]any{"hub": "registry.example"},
				"pilot":  map[string]any{"enabled": true, "cni": map[string]any{"enabled": false}},
			},
			wantWarn: `spec.profile "minimal" is not applied`,
		},
		{name: "two documents", file: "operator/two-docs.yaml", wantErr: "IstioOperator: 2 documents found"},
		{name: "another kind", file: "operator/wrong-kind.yaml", wantErr: `IstioOperator: the file has kind "ConfigMap"`},
		{name: "values not a mapping", file: "operator/bad-values.yaml", wantErr: "IstioOperator: spec.values must be a mapping"},
		{name: "invalid meshConfig", file: "operator/bad-mesh.yaml", wantErr: "IstioOperator: spec.meshConfig: mesh config: invalid: proxyListenPort"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			data := readTestdata(t, tc.file)
			values, mesh, warnings, err := parseOperator(data)
			if !checkErr(t, err, tc.wantErr) {
				return
			}
			if !reflect.DeepEqual(values, tc.wantValues) {
				t.Errorf("values = %#v\nwant %#v", values, tc.wantValues)
			}
			if tc.wantMesh == nil && mesh != nil {
				t.Errorf("mesh = %v, want nil", mesh)
			}
			if tc.wantMesh != nil {
				tc.wantMesh(t, mesh)
			}
			if tc.wantWarn != "" && !hasWarning(warnings, tc.wantWarn) {
				t.Errorf("warnings = %v, want %q", warnings, tc.wantWarn)
			}
			pv, pm, err := ParseOperator(data)
			if err != nil || !reflect.DeepEqual(pv, values) || !proto.Equal(pm, mesh) {
				t.Error("ParseOperator and parseOperator disagree")
			}
		})
	}
}
