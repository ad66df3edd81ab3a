package funcs

import (
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"
	"text/template"
	"time"

	"google.golang.org/protobuf/encoding/protojson"
	"google.golang.org/protobuf/types/known/durationpb"
	"google.golang.org/protobuf/types/known/wrapperspb"
	meshconfig "istio.io/api/mesh/v1alpha1"
	appsv1 "k8s.io/api/apps/v1"
	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"sigs.k8s.io/yaml"
)

// conformanceDir holds Istio's injector configurations; it lives outside
// the repository (see /work/shared/istio-conformance/README.md).
const conformanceDir = "../../../../shared/istio-conformance"

// data mirrors the fields of Istio's template data that the functions are
// called with, with the same Go types.
type data struct {
	ObjectMeta     metav1.ObjectMeta
	DeploymentMeta metav1.ObjectMeta
	Spec           corev1.PodSpec
	ProxyConfig    *meshconfig.ProxyConfig
	MeshConfig     *meshconfig.MeshConfig
	Values         map[string]any
	Labels         map[string]string
	Extra          map[string]string
}

// render parses and executes tmpl with Map(env).
func render(t *testing.T, env Env, tmpl string, d any) (string, error) {
	t.Helper()
	tp, err := template.New("t").Funcs(Map(env)).Parse(tmpl)
	if err != nil {
		t.Fatalf("parse %q: %v", tmpl, err)
	}
	var b strings.Builder
	err = tp.Execute(&b, d)
	return b.String(), err
}

// valuesJSON decodes JSON the way .Values is produced: generic maps, numbers
// as float64.
func valuesJSON(t *testing.T, s string) map[string]any {
	t.Helper()
	var v map[string]any
	if err := yaml.Unmarshal([]byte(s), &v); err != nil {
		t.Fatalf("values: %v", err)
	}
	return v
}

func otelMesh(mode meshconfig.MeshConfig_ExtensionProvider_ServiceAttributeEnrichment) *meshconfig.MeshConfig {
	return &meshconfig.MeshConfig{ExtensionProviders: []*meshconfig.MeshConfig_ExtensionProvider{
		{Name: "prometheus", Provider: &meshconfig.MeshConfig_ExtensionProvider_Prometheus{
			Prometheus: &meshconfig.MeshConfig_ExtensionProvider_PrometheusMetricsProvider{},
		}},
		{Name: "otel", Provider: &meshconfig.MeshConfig_ExtensionProvider_Opentelemetry{
			Opentelemetry: &meshconfig.MeshConfig_ExtensionProvider_OpenTelemetryTracingProvider{
				Service: "otel-collector", Port: 4317, ServiceAttributeEnrichment: mode,
			},
		}},
	}}
}

func TestFunctions(t *testing.T) {
	values := valuesJSON(t, `{"global":{"proxy":{"statusPort":15020,"excludeInboundPorts":"",
		"resources":{"limits":{"cpu":null,"memory":"1Gi"},"requests":{"cpu":"100m"}},
		"lifecycle":{"preStop":{"exec":{"command":["sleep","5"]}}}},"zero":0,"no":false,"empty":""}}`)
	containers := []corev1.Container{
		{Name: "app", Image: "docker.io/org/app:1.2", Ports: []corev1.ContainerPort{
			{ContainerPort: 8080},
			{ContainerPort: 53, Protocol: corev1.ProtocolUDP},
			{ContainerPort: 9090, Protocol: corev1.ProtocolTCP},
			{ContainerPort: 3868, Protocol: corev1.ProtocolSCTP},
		}},
		{Name: "istio-proxy", Ports: []corev1.ContainerPort{{ContainerPort: 15090}}},
	}
	withAnno := func(kv ...string) data {
		return data{ObjectMeta: metav1.ObjectMeta{Annotations: strdict(kv...)}, Values: values}
	}
	lookup := Env(func(k string) (string, bool) {
		v, ok := map[string]string{"ALLOWED": "yes", "BLANK": ""}[k]
		return v, ok
	})

	tests := []struct {
		name    string
		env     Env
		tmpl    string
		data    any
		want    string
		wantErr string
	}{
		// formatDuration
		{name: "formatDuration seconds", tmpl: `{{ formatDuration .ProxyConfig.TerminationDrainDuration }}`,
			data: data{ProxyConfig: &meshconfig.ProxyConfig{TerminationDrainDuration: durationpb.New(5 * time.Second)}}, want: "5s"},
		{name: "formatDuration minutes", tmpl: `{{ formatDuration .ProxyConfig.DrainDuration }}`,
			data: data{ProxyConfig: &meshconfig.ProxyConfig{DrainDuration: durationpb.New(90*time.Second + 500*time.Millisecond)}}, want: "1m30.5s"},
		{name: "formatDuration nil", tmpl: `{{ formatDuration .ProxyConfig.TerminationDrainDuration }}`,
			data: data{ProxyConfig: &meshconfig.ProxyConfig{}}, want: "0s"},

		// isset
		{name: "isset present but empty", tmpl: "{{ isset .ObjectMeta.Annotations `a` }}", data: withAnno("a", ""), want: "true"},
		{name: "isset absent", tmpl: "{{ isset .ObjectMeta.Annotations `b` }}", data: withAnno("a", "1"), want: "false"},
		{name: "isset nil map", tmpl: "{{ isset .ObjectMeta.Annotations `a` }}", data: data{}, want: "false"},
		{name: "isset wrong type is an error", tmpl: "{{ isset .Values `a` }}", data: data{Values: values},
			wantErr: "wrong type"},

		// excludeInboundPort, in the form the sidecar template uses
		{name: "excludeInboundPort adds status port",
			tmpl: "{{ excludeInboundPort (annotation .ObjectMeta `status.sidecar.istio.io/port` .Values.global.proxy.statusPort) (annotation .ObjectMeta `traffic.sidecar.istio.io/excludeInboundPorts` .Values.global.proxy.excludeInboundPorts) }}",
			data: withAnno(), want: "15020"},
		{name: "excludeInboundPort appends and trims",
			tmpl: "{{ excludeInboundPort (annotation .ObjectMeta `status.sidecar.istio.io/port` .Values.global.proxy.statusPort) (annotation .ObjectMeta `traffic.sidecar.istio.io/excludeInboundPorts` .Values.global.proxy.excludeInboundPorts) }}",
			data: withAnno("traffic.sidecar.istio.io/excludeInboundPorts", "8080, 9090,,"), want: "8080,9090,15020"},
		{name: "excludeInboundPort already listed keeps input", tmpl: `{{ excludeInboundPort 15020 "15020, 8080" }}`, want: "15020, 8080"},
		{name: "excludeInboundPort zero keeps input", tmpl: `{{ excludeInboundPort "0" "8080" }}`, want: "8080"},
		{name: "excludeInboundPort blank keeps input", tmpl: `{{ excludeInboundPort " " " 8080 " }}`, want: " 8080 "},

		// includeInboundPorts and applicationPorts
		{name: "includeInboundPorts all TCP ports", tmpl: `{{ includeInboundPorts .Spec.Containers }}`,
			data: data{Spec: corev1.PodSpec{Containers: containers}}, want: "8080,9090,15090"},
		{name: "includeInboundPorts none", tmpl: `{{ includeInboundPorts .Spec.Containers }}`, data: data{}, want: ""},
		{name: "applicationPorts skips the proxy", tmpl: `{{ applicationPorts .Spec.Containers }}`,
			data: data{Spec: corev1.PodSpec{Containers: containers}}, want: "8080,9090"},

		// kubevirtInterfaces and excludeInterfaces
		{name: "kubevirtInterfaces identity", tmpl: `{{ kubevirtInterfaces "net1,net2" }}`, want: "net1,net2"},
		{name: "excludeInterfaces identity", tmpl: "{{ excludeInterfaces (index .ObjectMeta.Annotations `x`) }}",
			data: withAnno("x", "eth1"), want: "eth1"},

		// annotation
		{name: "annotation present", tmpl: "{{ annotation .ObjectMeta `k` `d` }}", data: withAnno("k", "v"), want: "v"},
		{name: "annotation present empty wins", tmpl: "{{ annotation .ObjectMeta `k` `d` }}", data: withAnno("k", ""), want: ""},
		{name: "annotation default from values number", tmpl: "{{ annotation .ObjectMeta `k` .Values.global.proxy.statusPort }}",
			data: withAnno(), want: "15020"},
		{name: "annotation default missing value", tmpl: "{{ annotation .ObjectMeta `k` .Values.global.nothing }}",
			data: withAnno(), want: "<nil>"},
		{name: "annotation default string and bool", tmpl: "{{ annotation .ObjectMeta `k` `d` }} {{ annotation .ObjectMeta `k` true }} {{ annotation .ObjectMeta `k` 1.5 }}",
			data: withAnno(), want: "d true 1.5"},

		// valueOrDefault
		{name: "valueOrDefault empty string", tmpl: "{{ valueOrDefault .Values.global.empty `d` }}", data: data{Values: values}, want: "d"},
		{name: "valueOrDefault missing", tmpl: "{{ valueOrDefault .Values.global.missing `d` }}", data: data{Values: values}, want: "d"},
		{name: "valueOrDefault keeps zero", tmpl: "{{ valueOrDefault .Values.global.zero `d` }}", data: data{Values: values}, want: "0"},
		{name: "valueOrDefault keeps false", tmpl: "{{ valueOrDefault .Values.global.no `d` }}", data: data{Values: values}, want: "false"},

		// toJSON, fromJSON, structToJSON
		{name: "toJSON sorted and HTML-escaped", tmpl: `{{ toJSON .Labels }}`,
			data: data{Labels: map[string]string{"b": "<x>", "a": "1"}}, want: `{"a":"1","b":"\u003cx\u003e"}`},
		{name: "toJSON nil", tmpl: `{{ toJSON .Labels }}`, data: data{}, want: "{}"},
		{name: "fromJSON object", tmpl: `{{ range $k, $v := fromJSON "{\"b\":2,\"a\":\"x\"}" }}{{ $k }}={{ $v }};{{ end }}`, want: "a=x;b=2;"},
		{name: "fromJSON list", tmpl: `{{ range fromJSON "[{\"name\":\"v1\"}]" }}{{ .name }}{{ end }}`, want: "v1"},
		{name: "fromJSON invalid gives {} string", tmpl: `{{ fromJSON "not json" }}`, want: "{}"},
		{name: "structToJSON container port", tmpl: `{{ range .Spec.Containers }}{{ range .Ports }}{{ structToJSON . }}{{ end }}{{ end }}`,
			data: data{Spec: corev1.PodSpec{Containers: []corev1.Container{{Ports: []corev1.ContainerPort{{Name: "http", ContainerPort: 80}}}}}},
			want: `{"name":"http","containerPort":80}`},
		{name: "structToJSON nil", tmpl: `{{ structToJSON .Values.missing }}`, data: data{Values: values}, want: "{}"},

		// protoToJSON
		{name: "protoToJSON defaults only", tmpl: `{{ protoToJSON .ProxyConfig }}`, data: data{ProxyConfig: proxyDefaults()}, want: "{}"},
		{name: "protoToJSON nil", tmpl: `{{ protoToJSON .ProxyConfig }}`, data: data{}, want: "{}"},
		{name: "protoToJSON camelCase, durations, enums",
			tmpl: `{{ protoToJSON .ProxyConfig }}`,
			data: data{ProxyConfig: &meshconfig.ProxyConfig{
				DrainDuration:    durationpb.New(23 * time.Second),
				InterceptionMode: meshconfig.ProxyConfig_TPROXY,
				ProxyMetadata:    map[string]string{"FOO": "bar"},
			}},
			want: `{"drainDuration":"23s","interceptionMode":"TPROXY","proxyMetadata":{"FOO":"bar"}}`},

		// toYaml
		{name: "toYaml map", tmpl: `{{ toYaml .Values.global.proxy.lifecycle }}`, data: data{Values: values},
			want: "preStop:\n  exec:\n    command:\n    - sleep\n    - \"5\"\n"},
		{name: "toYaml nil", tmpl: `{{ toYaml .Values.missing }}`, data: data{Values: values}, want: "null\n"},
		{name: "toYaml struct uses JSON names", tmpl: `{{ toYaml .ObjectMeta }}`,
			data: data{ObjectMeta: metav1.ObjectMeta{Name: "p", Labels: map[string]string{"b": "2", "a": "1"}}},
			want: "labels:\n  a: \"1\"\n  b: \"2\"\nname: p\n"},

		// indent: every line but the first
		{name: "indent skips first line", tmpl: `{{ indent 2 "a\nb\n\nc" }}`, want: "a\n  b\n  \n  c"},
		{name: "indent in pipeline", tmpl: `x: {{ toYaml .Values.global.proxy.lifecycle | indent 2 }}`, data: data{Values: values},
			want: "x: preStop:\n    exec:\n      command:\n      - sleep\n      - \"5\"\n  "},
		{name: "indent single line unchanged", tmpl: `{{ indent 4 "abc" }}`, want: "abc"},
		{name: "indent negative uses magnitude", tmpl: `{{ indent -1 "a\nb" }}`, want: "a\n b"},
		{name: "nindent stays sprig's", tmpl: `{{ "a\nb" | nindent 2 }}`, want: "\n  a\n  b"},

		// directory, contains, toLower
		{name: "directory keeps trailing slash", tmpl: `{{ directory "/etc/certs/root-cert.pem" }}`, want: "/etc/certs/"},
		{name: "directory of bare file", tmpl: `{{ directory "root-cert.pem" }}`, want: ""},
		{name: "directory of nil tracing", tmpl: `{{ directory .ProxyConfig.GetTracing.GetTlsSettings.GetCaCertificates }}`,
			data: data{ProxyConfig: &meshconfig.ProxyConfig{}}, want: ""},
		{name: "contains needle first", tmpl: `{{ contains "/" "docker.io/istio/proxyv2" }}`, want: "true"},
		{name: "contains absent", tmpl: `{{ contains "/" "proxyv2" }}`, want: "false"},
		{name: "toLower", tmpl: `{{ toLower "Deployment" }}`, want: "deployment"},

		// appendMultusNetwork
		{name: "appendMultusNetwork empty", tmpl: `{{ appendMultusNetwork "" "default/istio-cni" }}`, want: "default/istio-cni"},
		{name: "appendMultusNetwork list", tmpl: `{{ appendMultusNetwork "alt_cni" "default/istio-cni" }}`, want: "alt_cni, default/istio-cni"},
		{name: "appendMultusNetwork list already present", tmpl: `{{ appendMultusNetwork "a, default/istio-cni" "default/istio-cni" }}`,
			want: "a, default/istio-cni"},
		{name: "appendMultusNetwork JSON",
			tmpl: "{{ appendMultusNetwork (index .ObjectMeta.Annotations `n`) `default/istio-cni` }}",
			data: withAnno("n", `[{"name": "alt_cni"}, {"name": "more_cni", "namespace": "kube-system"}]`),
			want: `[{"name": "alt_cni"}, {"name": "more_cni", "namespace": "kube-system"}, {"name": "istio-cni", "namespace": "default"}]`},
		{name: "appendMultusNetwork JSON without namespace", tmpl: `{{ appendMultusNetwork "[{\"name\":\"a\"}]" "istio-cni" }}`,
			want: `[{"name":"a"}, {"name": "istio-cni"}]`},
		{name: "appendMultusNetwork JSON already present", tmpl: `{{ appendMultusNetwork "[{\"name\":\"istio-cni\",\"namespace\":\"default\"}]" "default/istio-cni" }}`,
			want: `[{"name":"istio-cni","namespace":"default"}]`},
		{name: "appendMultusNetwork JSON other namespace", tmpl: `{{ appendMultusNetwork "[{\"name\":\"istio-cni\"}]" "default/istio-cni" }}`,
			want: `[{"name":"istio-cni"}, {"name": "istio-cni", "namespace": "default"}]`},
		{name: "appendMultusNetwork invalid JSON unchanged", tmpl: `{{ appendMultusNetwork "[oops]" "istio-cni" }}`, want: "[oops]"},
		{name: "appendMultusNetwork no closing bracket is a list", tmpl: `{{ appendMultusNetwork "[oops" "istio-cni" }}`, want: "[oops, istio-cni"},

		// env: two arguments, read only through Env
		{name: "env allowed key", env: lookup, tmpl: `{{ env "ALLOWED" "def" }}`, want: "yes"},
		{name: "env absent key gives default", env: lookup, tmpl: `{{ env "HOME" "def" }}`, want: "def"},
		{name: "env empty value gives default", env: lookup, tmpl: `{{ env "BLANK" "def" }}`, want: "def"},
		{name: "env nil Env gives default", tmpl: `{{ env "ALLOWED" "def" }}`, want: "def"},
		{name: "env needs two arguments", tmpl: `{{ env "ALLOWED" }}`, wantErr: "wrong number of args"},
		{name: "expandenv through Env", env: lookup, tmpl: `{{ expandenv "a=$ALLOWED b=${NOPE}." }}`, want: "a=yes b=."},
		{name: "expandenv nil Env", tmpl: `{{ expandenv "x${ALLOWED}y" }}`, want: "xy"},

		// omit, strdict, toJsonMap, mergeMaps, omitNil
		{name: "omit string map", tmpl: "{{ toJsonMap (omit .Labels `a` `c`) }}",
			data: data{Labels: map[string]string{"a": "1", "b": "2"}}, want: `{"b":"2"}`},
		{name: "omit nil map", tmpl: "{{ toJsonMap (omit .Labels `a`) }}", data: data{}, want: `{}`},
		{name: "strdict odd count", tmpl: `{{ toJsonMap (strdict "k" "v" "lone") }}`, want: `{"k":"v","lone":""}`},
		{name: "strdict with sprig default", tmpl: `{{ toJsonMap (strdict "istio.io/rev" (.Extra.rev | default "default")) }}`,
			data: data{}, want: `{"istio.io/rev":"default"}`},
		{name: "toJsonMap later maps win",
			tmpl: `{{ toJsonMap .Labels (strdict "a" "override" "c" "3") }}`,
			data: data{Labels: map[string]string{"a": "1", "b": "<2>"}}, want: `{"a":"override","b":"\u003c2\u003e","c":"3"}`},
		{name: "toJsonMap no arguments", tmpl: `{{ toJsonMap }}`, want: "null"},
		{name: "mergeMaps precedence", tmpl: `{{ $m := mergeMaps .Labels .Extra }}{{ index $m "k" }} {{ len $m }}`,
			data: data{Labels: map[string]string{"k": "first", "x": "1"}, Extra: map[string]string{"k": "second"}}, want: "second 2"},
		{name: "omitNil with toYaml", tmpl: `{{ toYaml (omitNil .Values.global.proxy.resources) }}`, data: data{Values: values},
			want: "limits:\n  memory: 1Gi\nrequests:\n  cpu: 100m\n"},

		// otelResourceAttributes, in the sidecar template's call form
		{name: "otelResourceAttributes semantic conventions",
			tmpl: `{{ otelResourceAttributes .MeshConfig .ObjectMeta.Annotations .ObjectMeta.Labels .DeploymentMeta.Namespace .Spec.Containers }}`,
			data: data{MeshConfig: otelMesh(meshconfig.MeshConfig_ExtensionProvider_OTEL_SEMANTIC_CONVENTIONS),
				ObjectMeta:     metav1.ObjectMeta{Labels: map[string]string{"app.kubernetes.io/version": "v1.2.3"}},
				DeploymentMeta: metav1.ObjectMeta{Namespace: "default"},
				Spec:           corev1.PodSpec{Containers: []corev1.Container{{Name: "hello", Image: "example.com/hello:1.0"}}}},
			want: "service.namespace=default,service.version=v1.2.3,service.instance.id=default.$(POD_NAME).hello"},
		{name: "otelResourceAttributes Istio canonical gives empty",
			tmpl: `{{ otelResourceAttributes .MeshConfig .ObjectMeta.Annotations .ObjectMeta.Labels .DeploymentMeta.Namespace .Spec.Containers }}`,
			data: data{MeshConfig: otelMesh(meshconfig.MeshConfig_ExtensionProvider_ISTIO_CANONICAL),
				DeploymentMeta: metav1.ObjectMeta{Namespace: "default"}},
			want: ""},
		{name: "otelResourceAttributes nil mesh gives empty",
			tmpl: `{{ otelResourceAttributes .MeshConfig .ObjectMeta.Annotations .ObjectMeta.Labels .DeploymentMeta.Namespace .Spec.Containers }}`,
			data: data{}, want: ""},

		// getHostByName is refused; other sprig functions are present
		{name: "getHostByName refuses", tmpl: `{{ getHostByName "localhost" }}`, wantErr: "network lookups are disabled"},
		{name: "sprig quote", tmpl: `{{ "x" | quote }}`, want: `"x"`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := render(t, tt.env, tt.tmpl, tt.data)
			if tt.wantErr != "" {
				if err == nil || !strings.Contains(err.Error(), tt.wantErr) {
					t.Fatalf("error = %v, want one containing %q (output %q)", err, tt.wantErr, got)
				}
				return
			}
			if err != nil {
				t.Fatalf("execute: %v", err)
			}
			if got != tt.want {
				t.Errorf("got  %q\nwant %q", got, tt.want)
			}
		})
	}
}

func TestMapHasIstioFunctions(t *testing.T) {
	m := Map(nil)
	for _, name := range []string{
		"formatDuration", "isset", "excludeInboundPort", "includeInboundPorts", "kubevirtInterfaces",
		"excludeInterfaces", "applicationPorts", "annotation", "valueOrDefault", "toJSON", "fromJSON",
		"structToJSON", "protoToJSON", "toYaml", "indent", "directory", "contains", "toLower",
		"appendMultusNetwork", "env", "omit", "strdict", "toJsonMap", "mergeMaps", "omitNil",
		"otelResourceAttributes", "expandenv", "getHostByName", "nindent", "default", "toJson",
	} {
		t.Run(name, func(t *testing.T) {
			if m[name] == nil {
				t.Fatalf("Map(nil) has no %q", name)
			}
		})
	}
}

func TestExpandenvDoesNotReadProcessEnv(t *testing.T) {
	t.Setenv("INJECT_SIDECAR_FUNCS_SECRET", "leaked")
	tests := []struct {
		name string
		env  Env
		tmpl string
		want string
	}{
		{name: "expandenv nil Env", tmpl: `[{{ expandenv "$INJECT_SIDECAR_FUNCS_SECRET" }}]`, want: "[]"},
		{name: "expandenv braces", tmpl: `[{{ expandenv "${INJECT_SIDECAR_FUNCS_SECRET}" }}]`, want: "[]"},
		{name: "env nil Env", tmpl: `{{ env "INJECT_SIDECAR_FUNCS_SECRET" "def" }}`, want: "def"},
		{name: "env other Env", env: func(string) (string, bool) { return "", false },
			tmpl: `{{ env "INJECT_SIDECAR_FUNCS_SECRET" "def" }}`, want: "def"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := render(t, tt.env, tt.tmpl, nil)
			if err != nil {
				t.Fatalf("execute: %v", err)
			}
			if got != tt.want {
				t.Errorf("got %q, want %q", got, tt.want)
			}
		})
	}
}

func TestProtoToJSON(t *testing.T) {
	withDefaults := func(change func(*meshconfig.ProxyConfig)) *meshconfig.ProxyConfig {
		pc := proxyDefaults()
		pc.ProxyMetadata = map[string]string{}
		change(pc)
		return pc
	}
	tests := []struct {
		name string
		in   *meshconfig.ProxyConfig
		want string
	}{
		{name: "all defaults dropped", in: withDefaults(func(*meshconfig.ProxyConfig) {}), want: "{}"},
		{name: "changed default kept", in: withDefaults(func(pc *meshconfig.ProxyConfig) { pc.DrainDuration = durationpb.New(23 * time.Second) }),
			want: `{"drainDuration":"23s"}`},
		{name: "explicit zero concurrency kept, declaration order",
			in: withDefaults(func(pc *meshconfig.ProxyConfig) {
				pc.DiscoveryAddress = "foo:123"
				pc.Concurrency = wrapperspb.Int32(0)
				pc.ProxyMetadata = map[string]string{"FOO": "bar", "A&B": "<c>"}
			}),
			want: `{"discoveryAddress":"foo:123","concurrency":0,"proxyMetadata":{"A\u0026B":"\u003cc\u003e","FOO":"bar"}}`},
		{name: "empty tracing is not the default", in: withDefaults(func(pc *meshconfig.ProxyConfig) { pc.Tracing = &meshconfig.Tracing{} }),
			want: `{"tracing":{}}`},
		{name: "other service cluster kept", in: withDefaults(func(pc *meshconfig.ProxyConfig) {
			pc.ClusterName = &meshconfig.ProxyConfig_ServiceCluster{ServiceCluster: "mine"}
		}), want: `{"serviceCluster":"mine"}`},
		{name: "wrapper and fractional duration", in: &meshconfig.ProxyConfig{
			HoldApplicationUntilProxyStarts: wrapperspb.Bool(true),
			TerminationDrainDuration:        durationpb.New(1500 * time.Millisecond),
		}, want: `{"terminationDrainDuration":"1.500s","holdApplicationUntilProxyStarts":true}`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			before := protojson.Format(tt.in)
			if got := protoToJSON(tt.in); got != tt.want {
				t.Errorf("got  %s\nwant %s", got, tt.want)
			}
			if after := protojson.Format(tt.in); after != before {
				t.Errorf("input was modified:\n%s\n%s", before, after)
			}
		})
	}
}

func TestOmitNil(t *testing.T) {
	emptyMap := map[string]any{}
	tests := []struct {
		name string
		in   any
		want any
	}{
		{name: "no nils", in: map[string]any{"a": 1.0, "b": "c"}, want: map[string]any{"a": 1.0, "b": "c"}},
		{name: "top-level nil", in: map[string]any{"a": nil, "b": "c"}, want: map[string]any{"b": "c"}},
		{name: "nested nil", in: map[string]any{"limits": map[string]any{"cpu": nil, "memory": "1Gi"}},
			want: map[string]any{"limits": map[string]any{"memory": "1Gi"}}},
		{name: "slice with nil", in: []any{1.0, nil, 3.0}, want: []any{1.0, 3.0}},
		{name: "emptied children vanish", in: map[string]any{"a": nil, "b": map[string]any{"x": nil}}, want: nil},
		{name: "emptied slice vanishes", in: map[string]any{"a": []any{nil, map[string]any{"x": nil}}, "k": "v"},
			want: map[string]any{"k": "v"}},
		{name: "originally empty map kept", in: map[string]any{"a": emptyMap, "b": nil}, want: map[string]any{"a": emptyMap}},
		{name: "nil", in: nil, want: nil},
		{name: "scalar", in: "x", want: "x"},
		{name: "typed string map untouched", in: map[string]string{"a": ""}, want: map[string]string{"a": ""}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := omitNil(tt.in); !reflect.DeepEqual(got, tt.want) {
				t.Errorf("got %#v, want %#v", got, tt.want)
			}
		})
	}
}

func TestMergeMaps(t *testing.T) {
	tests := []struct {
		name string
		in   []map[string]string
		want map[string]string
	}{
		{name: "no maps", in: nil, want: nil},
		{name: "later wins", in: []map[string]string{{"a": "1", "b": "1"}, {"b": "2"}, {"b": "3", "c": "3"}},
			want: map[string]string{"a": "1", "b": "3", "c": "3"}},
		{name: "nil maps ignored", in: []map[string]string{nil, {"a": "1"}, nil}, want: map[string]string{"a": "1"}},
		{name: "only nil map", in: []map[string]string{nil}, want: map[string]string{}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := mergeMaps(tt.in...); !reflect.DeepEqual(got, tt.want) {
				t.Errorf("got %#v, want %#v", got, tt.want)
			}
		})
	}
}

func TestOtelResourceAttributes(t *testing.T) {
	const digest = "sha256:0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef"
	one := func(image string) []corev1.Container { return []corev1.Container{{Name: "app", Image: image}} }
	on := otelMesh(meshconfig.MeshConfig_ExtensionProvider_OTEL_SEMANTIC_CONVENTIONS)
	tests := []struct {
		name        string
		mc          *meshconfig.MeshConfig
		annotations map[string]string
		labels      map[string]string
		namespace   string
		containers  []corev1.Container
		want        string
	}{
		{name: "no provider", mc: &meshconfig.MeshConfig{}, namespace: "ns", containers: one("app:1"), want: ""},
		{name: "annotations win", mc: on, namespace: "ns", containers: one("app:1"),
			annotations: map[string]string{
				"resource.opentelemetry.io/service.namespace":   "shop",
				"resource.opentelemetry.io/service.version":     "v9",
				"resource.opentelemetry.io/service.instance.id": "id-1",
			},
			labels: map[string]string{"app.kubernetes.io/version": "ignored"},
			want:   "service.namespace=shop,service.version=v9,service.instance.id=id-1"},
		{name: "version from image tag", mc: on, namespace: "ns", containers: one("registry:5000/org/app:2.1"),
			want: "service.namespace=ns,service.version=2.1,service.instance.id=ns.$(POD_NAME).app"},
		{name: "version from tag and digest", mc: on, namespace: "ns", containers: one("org/app:2.1@" + digest),
			want: "service.namespace=ns,service.version=2.1@" + digest + ",service.instance.id=ns.$(POD_NAME).app"},
		{name: "version from digest", mc: on, namespace: "ns", containers: one("org/app@" + digest),
			want: "service.namespace=ns,service.version=" + digest + ",service.instance.id=ns.$(POD_NAME).app"},
		{name: "untagged image has no version", mc: on, namespace: "ns", containers: one("nginx"),
			want: "service.namespace=ns,service.instance.id=ns.$(POD_NAME).app"},
		{name: "invalid image has no version", mc: on, namespace: "ns", containers: one("Upper/Case:1"),
			want: "service.namespace=ns,service.instance.id=ns.$(POD_NAME).app"},
		{name: "several containers: no image version, no container name", mc: on, namespace: "ns",
			containers: []corev1.Container{{Name: "a", Image: "a:1"}, {Name: "b", Image: "b:1"}},
			want:       "service.namespace=ns,service.instance.id=ns.$(POD_NAME)"},
		{name: "empty namespace", mc: on, containers: one("app"), want: "service.instance.id=$(POD_NAME).app"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got := otelResourceAttributes(tt.mc, tt.annotations, tt.labels, tt.namespace, tt.containers)
			if got != tt.want {
				t.Errorf("got  %q\nwant %q", got, tt.want)
			}
		})
	}
}

// conformanceFile reads a file of the shared Istio conformance corpus, or
// skips when the corpus is absent (fails instead under CI=true).
func conformanceFile(t *testing.T, rel string) []byte {
	t.Helper()
	p := filepath.Join(conformanceDir, rel)
	b, err := os.ReadFile(p)
	if err != nil {
		msg := "ISTIO CONFORMANCE CORPUS NOT FOUND at " + p + ": " + err.Error() +
			" -- the tests that check Istio's real templates did NOT run"
		// The test harness's own switch, not template input: the package
		// code never reads the process environment.
		if os.Getenv("CI") == "true" {
			t.Fatal(msg)
		}
		t.Skip(msg)
	}
	return b
}

func injectorTemplates(t *testing.T) map[string]string {
	t.Helper()
	var cfg struct {
		Templates map[string]string `json:"templates"`
	}
	if err := yaml.Unmarshal(conformanceFile(t, "configs/inject-config-d521712c8b.yaml"), &cfg); err != nil {
		t.Fatalf("injector config: %v", err)
	}
	if len(cfg.Templates) == 0 {
		t.Fatal("injector config has no templates")
	}
	return cfg.Templates
}

// TestIstioTemplatesParse parses every template Istio ships; parsing fails
// on any function name the map lacks.
func TestIstioTemplatesParse(t *testing.T) {
	templates := injectorTemplates(t)
	for _, name := range []string{"sidecar", "gateway", "grpc-simple", "grpc-agent", "waypoint", "kube-gateway"} {
		if _, ok := templates[name]; !ok {
			t.Errorf("template %q missing from the injector config", name)
		}
	}
	for name, src := range templates {
		t.Run(name, func(t *testing.T) {
			if _, err := template.New(name).Funcs(Map(nil)).Parse(src); err != nil {
				t.Fatalf("parse: %v", err)
			}
		})
	}
}

// sidecarData has the fields Istio's sidecar template reads.
type sidecarData struct {
	TypeMeta                 metav1.TypeMeta
	DeploymentMeta           metav1.ObjectMeta
	ObjectMeta               metav1.ObjectMeta
	Spec                     corev1.PodSpec
	ProxyConfig              *meshconfig.ProxyConfig
	MeshConfig               *meshconfig.MeshConfig
	Values                   map[string]any
	Revision                 string
	NativeSidecars           bool
	ProxyImage               string
	ProxyInitImage           string
	ProxyUID                 int64
	ProxyGID                 int64
	InboundTrafficPolicyMode string
	CompliancePolicy         string
}

// TestSidecarTemplateRenders executes Istio's sidecar template on the
// conformance case hello-otel-semconv and checks the values the functions
// produce against Istio's golden output.
func TestSidecarTemplateRenders(t *testing.T) {
	templates := injectorTemplates(t)
	var deploy appsv1.Deployment
	if err := yaml.Unmarshal(conformanceFile(t, "inject/hello-otel-semconv.yaml"), &deploy); err != nil {
		t.Fatalf("input: %v", err)
	}
	var values map[string]any
	if err := yaml.Unmarshal(conformanceFile(t, "configs/values-531e24e5ae.json"), &values); err != nil {
		t.Fatalf("values: %v", err)
	}
	meshJSON, err := yaml.YAMLToJSON(conformanceFile(t, "configs/mesh-2973052e37.yaml"))
	if err != nil {
		t.Fatalf("mesh: %v", err)
	}
	mesh := &meshconfig.MeshConfig{}
	if err := (protojson.UnmarshalOptions{DiscardUnknown: true}).Unmarshal(meshJSON, mesh); err != nil {
		t.Fatalf("mesh: %v", err)
	}
	d := sidecarData{
		TypeMeta:                 deploy.TypeMeta,
		DeploymentMeta:           deploy.ObjectMeta,
		ObjectMeta:               deploy.Spec.Template.ObjectMeta,
		Spec:                     deploy.Spec.Template.Spec,
		ProxyConfig:              mesh.GetDefaultConfig(),
		MeshConfig:               mesh,
		Values:                   values,
		NativeSidecars:           true,
		ProxyImage:               "registry.istio.io/testing/proxyv2:latest",
		ProxyInitImage:           "registry.istio.io/testing/proxyv2:latest",
		ProxyUID:                 1337,
		ProxyGID:                 1337,
		InboundTrafficPolicyMode: "passthrough",
	}
	out, err := render(t, nil, templates["sidecar"], d)
	if err != nil {
		t.Fatalf("execute: %v", err)
	}
	var pod corev1.Pod
	if err := yaml.Unmarshal([]byte(out), &pod); err != nil {
		t.Fatalf("rendered sidecar is not a pod: %v\n%s", err, out)
	}
	var proxy *corev1.Container
	for i := range pod.Spec.InitContainers {
		if pod.Spec.InitContainers[i].Name == "istio-proxy" {
			proxy = &pod.Spec.InitContainers[i]
		}
	}
	if proxy == nil {
		t.Fatalf("no native istio-proxy sidecar in:\n%s", out)
	}
	env := map[string]string{}
	for _, e := range proxy.Env {
		env[e.Name] = e.Value
	}
	tests := []struct {
		name string
		want string
	}{
		{name: "PROXY_CONFIG", want: "{}\n"},
		{name: "OTEL_RESOURCE_ATTRIBUTES", want: "service.namespace=default,service.version=v1.2.3,service.instance.id=default.$(POD_NAME).hello"},
		{name: "ISTIO_META_APP_CONTAINERS", want: "hello"},
		{name: "ISTIO_META_POD_PORTS", want: "[\n    {\"name\":\"http\",\"containerPort\":80}\n]"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got, ok := env[tt.name]; !ok || got != tt.want {
				t.Errorf("%s = %q (set %v), want %q", tt.name, got, ok, tt.want)
			}
		})
	}
}
