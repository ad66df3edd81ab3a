package config

import (
	"reflect"
	"testing"
	"time"
)

func TestParseSidecarInjector(t *testing.T) {
	cases := []struct {
		name    string
		file    string
		wantErr string
		check   func(t *testing.T, s *SidecarInjectorSpec)
	}{
		{
			name: "every field",
			file: "sidecarinjector/full.yaml",
			check: func(t *testing.T, s *SidecarInjectorSpec) {
				str := func(p *string) any {
					if p == nil {
						return nil
					}
					return *p
				}
				checks := []struct {
					field string
					got   any
					want  any
				}{
					{"revision", s.Revision, "canary"},
					{"nativeSidecars", s.NativeSidecars, NativeSidecarsTrue},
					{"kubeVersion", str(s.KubeVersion), "1.30"},
					{"compliancePolicy", str(s.CompliancePolicy), "fips-140-3"},
					{"platform", str(s.Platform), "openshift"},
					{"decisionMode", s.DecisionMode, DecideLikeKubeInject},
					{"defaultNamespace", str(s.DefaultNamespace), "apps"},
					{"unknownNamespace", s.UnknownNamespace, UnknownNamespaceError},
					{"namespaces", s.Namespaces, map[string]Namespace{
						"shop": {
							Labels:      map[string]string{"istio-injection": "enabled"},
							Annotations: map[string]string{"openshift.io/sa.scc.uid-range": "1000620000/10000"},
						},
						"batch": {Labels: map[string]string{}, Annotations: map[string]string{}},
					}},
					{"allowedEnv", s.AllowedEnv, []string{"CLUSTER_NAME", "REGION"}},
					{"limits", s.Limits, Limits{MaxTemplateOutput: 2 << 20, TemplateTimeout: 500 * time.Millisecond}},
					{"injector.config (object kept as JSON)", string(s.Injector.Config), `{"policy":"enabled","templates":{"sidecar":"spec: {}\n"}}`},
					{"injector.values", string(s.Injector.Values), `{"global": {"tag": "1.32.0"}}`},
					{"injector.mesh", string(s.Injector.Mesh), "trustDomain: example.org\n"},
					{"fromConfigMaps", s.FromConfigMaps, ConfigMapNames{Injector: "sidecar-injector", Mesh: "mesh", Namespace: "istio-system"}},
					{"revisions", s.Revisions, []RevisionConfigMaps{
						{Name: "canary", InjectorConfigMap: "sidecar-injector-canary", MeshConfigMap: "mesh-canary"},
						{Name: "stable"},
					}},
					{"tags", s.Tags, map[string]string{"prod": "canary"}},
				}
				for _, c := range checks {
					if !reflect.DeepEqual(c.got, c.want) {
						t.Errorf("%s = %#v, want %#v", c.field, c.got, c.want)
					}
				}
			},
		},
		{
			name: "no spec",
			file: "sidecarinjector/empty.yaml",
			check: func(t *testing.T, s *SidecarInjectorSpec) {
				if !reflect.DeepEqual(s, &SidecarInjectorSpec{}) {
					t.Errorf("got %#v, want an empty spec", s)
				}
			},
		},
		{name: "unknown field under spec", file: "sidecarinjector/unknown-field.yaml",
			wantErr: "SidecarInjector.spec.limits.maxOutput: unknown field (known fields: maxTemplateOutput, templateTimeout, maxInputSize, maxNestingDepth, maxAliasExpansion, runTimeout)"},
		{name: "setting at the top level", file: "sidecarinjector/top-level-field.yaml",
			wantErr: "SidecarInjector.revision: unknown field; the settings of a SidecarInjector belong under spec"},
		{name: "wrong apiVersion", file: "sidecarinjector/wrong-apiversion.yaml",
			wantErr: `unsupported apiVersion "inject-sidecar.dev/v1beta1"`},
		{name: "unquoted kubeVersion", file: "sidecarinjector/unquoted-version.yaml",
			wantErr: "SidecarInjector.spec.kubeVersion: must be a string, got a number (quote it)"},
		{name: "bad nativeSidecars", file: "sidecarinjector/bad-native.yaml",
			wantErr: `SidecarInjector.spec.nativeSidecars: "sometimes" is not one of auto, true, false`},
		{name: "templateTimeout not a string", file: "sidecarinjector/bad-timeout.yaml",
			wantErr: "SidecarInjector.spec.limits.templateTimeout: must be a duration string"},
		{name: "unknown namespace field", file: "sidecarinjector/bad-namespace-field.yaml",
			wantErr: "SidecarInjector.spec.namespaces.shop.label: unknown field"},
		{name: "inline values of the wrong type", file: "sidecarinjector/bad-inline.yaml",
			wantErr: "SidecarInjector.spec.injector.values: must be a string or a mapping, got a list"},
		{name: "revision listed twice", file: "sidecarinjector/duplicate-revision.yaml",
			wantErr: `SidecarInjector.spec.revisions[1].name: revision "canary" is listed twice`},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			s, err := ParseSidecarInjector(readNode(t, tc.file))
			if checkErr(t, err, tc.wantErr) && tc.check != nil {
				tc.check(t, s)
			}
		})
	}
}

func TestParseConfigMapSettings(t *testing.T) {
	cases := []struct {
		name    string
		data    map[string]string
		want    *SidecarInjectorSpec
		wantErr string
	}{
		{
			name: "kpt fn eval key=value settings",
			data: map[string]string{
				"config": "c", "values": "v", "mesh": "m", "nativeSidecars": "False", "decisionMode": "kube-inject",
				"allowedEnv": " A, B ,", "maxTemplateOutput": "1Ki", "templateTimeout": "3s",
			},
			want: &SidecarInjectorSpec{
				Injector:       InlineInjector{Config: []byte("c"), Values: []byte("v"), Mesh: []byte("m")},
				NativeSidecars: NativeSidecarsFalse,
				DecisionMode:   DecideLikeKubeInject,
				AllowedEnv:     []string{"A", "B"},
				Limits:         Limits{MaxTemplateOutput: 1024, TemplateTimeout: 3 * time.Second},
			},
		},
		{name: "unknown key", data: map[string]string{"nativeSidecar": "true"}, wantErr: "ConfigMap \"x\" data.nativeSidecar: unknown key"},
		{name: "bad size", data: map[string]string{"maxTemplateOutput": "-1"}, wantErr: "data.maxTemplateOutput: -1 is not in 1.."},
		{name: "bad env name", data: map[string]string{"allowedEnv": "A=B"}, wantErr: `data.allowedEnv[0]: "A=B" is not an environment variable name`},
		{name: "bad compliance policy", data: map[string]string{"compliancePolicy": "fips"}, wantErr: "not a supported compliance policy"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			got, err := parseConfigMapSettings(tc.data, `ConfigMap "x" data`)
			if checkErr(t, err, tc.wantErr) && !reflect.DeepEqual(got, tc.want) {
				t.Errorf("got %#v\nwant %#v", got, tc.want)
			}
		})
	}
}
