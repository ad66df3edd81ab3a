package config

import (
	"path/filepath"
	"reflect"
	"strings"
	"testing"
	"time"
)

// loadCase describes a Load input by testdata file names (relative to
// testdata/) and checks the result.
type loadCase struct {
	name                                 string
	fn                                   string // function config
	extra, items                         []string
	injectConfig, values, mesh, operator string // kube-inject flag files
	revision                             string
	env                                  map[string]string
	envFallback                          bool
	wantErr                              string
	check                                func(t *testing.T, c *Config)
}

func (tc loadCase) input(t *testing.T) Input {
	t.Helper()
	in := Input{Revision: tc.revision, IstioEnvFallback: tc.envFallback}
	if tc.fn != "" {
		in.FunctionConfig = readNode(t, tc.fn)
	}
	for _, f := range tc.extra {
		in.Extra = append(in.Extra, readNodes(t, f)...)
	}
	for _, f := range tc.items {
		in.Items = append(in.Items, readNodes(t, f)...)
	}
	flag := func(name string, data *[]byte, path *string) {
		if name != "" {
			*data, *path = readTestdata(t, name), filepath.Join("testdata", name)
		}
	}
	flag(tc.injectConfig, &in.InjectConfig, &in.InjectConfigPath)
	flag(tc.values, &in.Values, &in.ValuesPath)
	flag(tc.mesh, &in.Mesh, &in.MeshPath)
	flag(tc.operator, &in.Operator, &in.OperatorPath)
	if tc.env != nil {
		in.Getenv = func(k string) (string, bool) {
			v, ok := tc.env[k]
			return v, ok
		}
	}
	return in
}

func getInjector(t *testing.T, c *Config, rev string) *Injector {
	t.Helper()
	inj, ok := c.Injectors[rev]
	if !ok {
		t.Fatalf("no injector for revision %q (have %v)", rev, sortedKeys(c.Injectors))
	}
	if inj.Revision != rev || inj.Mesh == nil || inj.Values == nil || inj.Templates == nil {
		t.Fatalf("injector %q incomplete: %+v", rev, inj)
	}
	return inj
}

// wantInjector checks where a revision's parts came from: the sidecar
// template text, .Values.global.tag, the mesh trust domain, and substrings
// of the three sources.
func wantInjector(t *testing.T, c *Config, rev, template, tag, trustDomain string, sources [3]string) {
	t.Helper()
	inj := getInjector(t, c, rev)
	if got := inj.Templates[SidecarTemplate]; got != template {
		t.Errorf("%s: sidecar template = %q, want %q", rev, got, template)
	}
	global, _ := inj.Values["global"].(map[string]any)
	if got, _ := global["tag"].(string); got != tag {
		t.Errorf("%s: values global.tag = %q, want %q", rev, got, tag)
	}
	if got := inj.Mesh.GetTrustDomain(); got != trustDomain {
		t.Errorf("%s: mesh trustDomain = %q, want %q", rev, got, trustDomain)
	}
	for i, got := range []string{inj.Sources.Config, inj.Sources.Values, inj.Sources.Mesh} {
		if !strings.Contains(got, sources[i]) {
			t.Errorf("%s: source %d = %q, want it to contain %q", rev, i, got, sources[i])
		}
	}
}

func wantRevisions(t *testing.T, c *Config, revs ...string) {
	t.Helper()
	if got := sortedKeys(c.Injectors); !reflect.DeepEqual(got, revs) {
		t.Errorf("revisions = %v, want %v", got, revs)
	}
}

func wantWarning(t *testing.T, c *Config, substr string) {
	t.Helper()
	if !hasWarning(c.Warnings, substr) {
		t.Errorf("no warning containing %q in %q", substr, c.Warnings)
	}
}

const (
	itemsDefault = "ConfigMap istio-system/istio-sidecar-injector (input items)"
	itemsMesh    = "ConfigMap istio-system/istio (input items) data.mesh"
)

func TestLoadPrecedence(t *testing.T) {
	cases := []loadCase{
		{
			name:  "ConfigMaps in the items",
			items: []string{"load/items.yaml"},
			check: func(t *testing.T, c *Config) {
				wantRevisions(t, c, "canary", "default")
				wantInjector(t, c, "default", "# items default", "items", "items.example",
					[3]string{itemsDefault + " data.config", itemsDefault + " data.values", itemsMesh})
				wantInjector(t, c, "canary", "# items canary", "items-canary", "canary.example",
					[3]string{"istio-sidecar-injector-canary (input items) data.config", "-canary (input items) data.values",
						"ConfigMap istio-system/istio-canary (input items) data.mesh"})
				if inj := getInjector(t, c, "default"); inj.Policy != "enabled" || !reflect.DeepEqual(inj.DefaultTemplates, []string{"sidecar"}) {
					t.Errorf("policy %q defaultTemplates %v", inj.Policy, inj.DefaultTemplates)
				}
				if len(c.Warnings) != 0 {
					t.Errorf("warnings: %q", c.Warnings)
				}
			},
		},
		{
			name:         "flag files over the items",
			items:        []string{"load/items.yaml"},
			injectConfig: "load/inject-config.yaml", values: "load/values.json", mesh: "load/mesh.yaml",
			check: func(t *testing.T, c *Config) {
				wantInjector(t, c, "default", "# flag file", "flag", "flag.example",
					[3]string{"--injectConfigFile testdata/load/inject-config.yaml", "--valuesFile testdata/load/values.json",
						"--meshConfigFile testdata/load/mesh.yaml"})
				wantInjector(t, c, "canary", "# items canary", "items-canary", "canary.example", [3]string{"canary", "canary", "canary"})
			},
		},
		{
			name:         "bare template as --injectConfigFile",
			items:        []string{"load/items.yaml"},
			injectConfig: "injector/bare-template.txt",
			check: func(t *testing.T, c *Config) {
				inj := getInjector(t, c, "default")
				if !strings.HasPrefix(inj.Templates["sidecar"], "{{- $containers := list }}") || inj.Policy != "enabled" {
					t.Errorf("templates %v policy %q", inj.Templates, inj.Policy)
				}
				if inj.Sources.Values != itemsDefault+" data.values" {
					t.Errorf("values from %q", inj.Sources.Values)
				}
			},
		},
		{
			name:  "function ConfigMap over flag files",
			fn:    "load/fn-configmap.yaml",
			items: []string{"load/items.yaml"}, injectConfig: "load/inject-config.yaml", values: "load/values.json", mesh: "load/mesh.yaml",
			check: func(t *testing.T, c *Config) {
				fnSrc := `ConfigMap "function-input" (function config)`
				wantInjector(t, c, "default", "# function configmap", "fn", "flag.example",
					[3]string{fnSrc + " data.config", fnSrc + " data.values", "--meshConfigFile"})
				o := c.Options
				if o.NativeSidecars != NativeSidecarsFalse || o.KubeVersion != "1.34" || o.Native() ||
					!reflect.DeepEqual(o.AllowedEnv, []string{"CLUSTER_NAME", "REGION"}) || o.MaxTemplateOutput != 4096 {
					t.Errorf("options %+v", o)
				}
			},
		},
		{
			name:  "each part separately: values from the function, the rest from the items",
			fn:    "load/fn-configmap-values.yaml",
			items: []string{"load/items.yaml"},
			check: func(t *testing.T, c *Config) {
				wantInjector(t, c, "default", "# items default", "fn-values-only", "items.example",
					[3]string{itemsDefault, "function-input", itemsMesh})
			},
		},
		{
			name:  "an empty function ConfigMap",
			fn:    "load/fn-configmap-empty.yaml",
			items: []string{"load/items.yaml"},
			check: func(t *testing.T, c *Config) {
				wantInjector(t, c, "default", "# items default", "items", "items.example", [3]string{itemsDefault, itemsDefault, itemsMesh})
			},
		},
		{
			name:  "SidecarInjector inline config over everything",
			fn:    "load/fn-sidecarinjector.yaml",
			extra: []string{"load/fn-configmap.yaml"},
			items: []string{"load/items.yaml"}, injectConfig: "load/inject-config.yaml", values: "load/values.json", mesh: "load/mesh.yaml",
			check: func(t *testing.T, c *Config) {
				src := `SidecarInjector "inject-sidecar" (function config) spec.injector.`
				wantInjector(t, c, "default", "# inline", "inline", "inline.example",
					[3]string{src + "config", src + "values", src + "mesh"})
				if !reflect.DeepEqual(c.Tags, map[string]string{"prod": "canary"}) {
					t.Errorf("tags %v", c.Tags)
				}
				// Settings of the --config ConfigMap still apply where the
				// SidecarInjector has none.
				if c.Options.MaxTemplateOutput != 4096 || c.Options.NativeSidecars != NativeSidecarsFalse {
					t.Errorf("options %+v", c.Options)
				}
			},
		},
		{
			name:  "--config ConfigMaps over the items; --config SidecarInjector",
			extra: []string{"load/extra.yaml"},
			items: []string{"load/items.yaml"},
			check: func(t *testing.T, c *Config) {
				wantInjector(t, c, "default", "# extra", "extra", "items.example",
					[3]string{`ConfigMap "istio-sidecar-injector" (--config) data.config`, "(--config) data.values", itemsMesh})
				if c.Options.DecisionMode != DecideLikeKubeInject {
					t.Errorf("decisionMode %q", c.Options.DecisionMode)
				}
			},
		},
		{
			name:  "settings ConfigMap in --config",
			extra: []string{"load/extra-settings-configmap.yaml"},
			items: []string{"load/items.yaml"},
			check: func(t *testing.T, c *Config) {
				wantInjector(t, c, "default", "# items default", "items", "extra-settings.example",
					[3]string{itemsDefault, itemsDefault, `ConfigMap "my-settings" (--config) data.mesh`})
				if c.Options.UnknownNamespace != UnknownNamespaceSkip {
					t.Errorf("unknownNamespace %q", c.Options.UnknownNamespace)
				}
			},
		},
		{
			name:         "operator values replace --valuesFile; its meshConfig replaces --meshConfigFile",
			injectConfig: "load/inject-config.yaml", values: "load/values.json", mesh: "load/mesh.yaml", operator: "operator/translations.yaml",
			check: func(t *testing.T, c *Config) {
				wantInjector(t, c, "default", "# flag file", "1.32.1-distroless", "example.org",
					[3]string{"--injectConfigFile", "--operatorFileName testdata/operator/translations.yaml spec.values",
						"--operatorFileName testdata/operator/translations.yaml spec.meshConfig"})
				wantWarning(t, c, "--valuesFile testdata/load/values.json is ignored")
				wantWarning(t, c, "--meshConfigFile testdata/load/mesh.yaml is ignored")
			},
		},
		{
			name:         "operator without meshConfig: --meshConfigFile is used",
			injectConfig: "load/inject-config.yaml", mesh: "load/mesh.yaml", operator: "operator/no-mesh.yaml",
			check: func(t *testing.T, c *Config) {
				wantInjector(t, c, "default", "# flag file", "", "flag.example",
					[3]string{"--injectConfigFile", "spec.values", "--meshConfigFile"})
				wantWarning(t, c, `spec.profile "minimal" is not applied`)
			},
		},
		{
			name:         "no mesh anywhere: Istio's defaults",
			injectConfig: "load/inject-config.yaml", values: "load/values.json",
			check: func(t *testing.T, c *Config) {
				wantInjector(t, c, "default", "# flag file", "flag", "cluster.local", [3]string{"--injectConfigFile", "--valuesFile", "Istio's defaults"})
			},
		},
	}
	runLoadCases(t, cases)
}

func TestLoadRevisions(t *testing.T) {
	cases := []loadCase{
		{
			name:     "-r selects a revision from the items",
			items:    []string{"load/items.yaml"},
			revision: "canary",
			check: func(t *testing.T, c *Config) {
				if c.Options.Revision != "canary" {
					t.Errorf("revision %q", c.Options.Revision)
				}
				wantRevisions(t, c, "canary", "default")
			},
		},
		{
			name:     "-r names the revision the flag files serve",
			items:    []string{"load/items.yaml"},
			revision: "canary", injectConfig: "load/inject-config.yaml",
			check: func(t *testing.T, c *Config) {
				wantInjector(t, c, "canary", "# flag file", "items-canary", "canary.example",
					[3]string{"--injectConfigFile", "-canary (input items) data.values", "istio-canary"})
				wantInjector(t, c, "default", "# items default", "items", "items.example", [3]string{itemsDefault, itemsDefault, itemsMesh})
			},
		},
		{
			name:     "-r agrees with the configured revision",
			fn:       "load/fn-sidecarinjector-settings.yaml",
			items:    []string{"load/items.yaml"},
			revision: "canary",
		},
		{
			name:     "-r conflicts with the configured revision",
			fn:       "load/fn-sidecarinjector-settings.yaml",
			items:    []string{"load/items.yaml"},
			revision: "blue",
			wantErr:  `--revision "blue" conflicts with revision "canary" set in SidecarInjector "inject-sidecar" (function config)`,
		},
		{
			name:     "-r names a tag from the configuration: its revision's config",
			fn:       "load/fn-sidecarinjector-revisions.yaml",
			items:    []string{"load/items.yaml"},
			revision: "prod",
			check: func(t *testing.T, c *Config) {
				if c.Options.Revision != "prod" {
					t.Errorf("revision %q, want the tag kept for the decision", c.Options.Revision)
				}
				wantRevisions(t, c, "default", "green")
			},
		},
		{
			name:     "-r names a tag known only from a rendered tag webhook",
			items:    []string{"load/items.yaml", "load/items-tag-webhook.yaml"},
			revision: "prod",
			check: func(t *testing.T, c *Config) {
				wantRevisions(t, c, "canary", "default")
			},
		},
		{
			name:     "a revision without a mesh ConfigMap gets Istio's defaults",
			items:    []string{"load/items-no-mesh.yaml"},
			revision: "blue",
			check: func(t *testing.T, c *Config) {
				wantInjector(t, c, "blue", "# blue", "", "cluster.local", [3]string{"istio-sidecar-injector-blue", "-blue", "Istio's defaults"})
				wantWarning(t, c, `revision "blue": no mesh ConfigMap "istio-blue"`)
			},
		},
		{
			name:  "listed revisions only, with their ConfigMap names, and a tag",
			fn:    "load/fn-sidecarinjector-revisions.yaml",
			items: []string{"load/items.yaml"},
			check: func(t *testing.T, c *Config) {
				wantRevisions(t, c, "default", "green")
				wantInjector(t, c, "green", "# items canary", "items-canary", "canary.example",
					[3]string{"istio-sidecar-injector-canary", "istio-sidecar-injector-canary", "istio-canary"})
				if !reflect.DeepEqual(c.Tags, map[string]string{"prod": "green"}) {
					t.Errorf("tags %v", c.Tags)
				}
			},
		},
		{
			name:  "renamed ConfigMaps",
			fn:    "load/fn-sidecarinjector-renamed.yaml",
			items: []string{"load/items-renamed.yaml"},
			check: func(t *testing.T, c *Config) {
				wantRevisions(t, c, "default")
				wantInjector(t, c, "default", "# renamed", "", "renamed.example", [3]string{`"my-injector"`, `"my-injector"`, `"my-mesh"`})
			},
		},
		{
			name:    "two injector ConfigMaps of one name",
			items:   []string{"load/items-duplicate.yaml"},
			wantErr: `several ConfigMaps named "istio-sidecar-injector": ConfigMap istio-system/istio-sidecar-injector (input items), ConfigMap other/istio-sidecar-injector (input items); set SidecarInjector spec.fromConfigMaps.namespace`,
		},
		{
			name:  "fromConfigMaps.namespace picks one",
			fn:    "load/fn-sidecarinjector-namespace.yaml",
			items: []string{"load/items-duplicate.yaml"},
			check: func(t *testing.T, c *Config) {
				wantInjector(t, c, "default", "# two", "", "cluster.local", [3]string{"other/istio-sidecar-injector", "other/", "Istio's defaults"})
			},
		},
		{
			name:    "tag to an unknown revision",
			fn:      "load/fn-sidecarinjector-bad-tag.yaml",
			items:   []string{"load/items.yaml"},
			wantErr: `SidecarInjector spec.tags.prod: revision "missing" has no injector configuration (known revisions: canary, default)`,
		},
	}
	runLoadCases(t, cases)
}

func TestLoadErrors(t *testing.T) {
	cases := []loadCase{
		{
			name: "no injector configuration anywhere",
			wantErr: `no injector configuration (data.config) for revision "default"; looked in: the function config (none given); ` +
				`--injectConfigFile (not given); ConfigMap "istio-sidecar-injector" data.config in --config files and in the input items (not found)`,
		},
		{
			name:    "only another revision's ConfigMaps",
			items:   []string{"load/items-no-mesh.yaml"},
			wantErr: "(ConfigMaps exist for revisions: blue; select one with revision or -r)",
		},
		{
			name:         "no values anywhere",
			injectConfig: "load/inject-config.yaml",
			wantErr: `no injector values (data.values) for revision "default"; looked in: the function config (none given); ` +
				`--operatorFileName (not given); --valuesFile (not given); ConfigMap "istio-sidecar-injector" data.values in --config files and in the input items (not found)`,
		},
		{
			name:    "function config of another kind",
			fn:      "load/fn-deployment.yaml",
			wantErr: `function config: unsupported object apps/v1 Deployment "not-a-config"; want a v1 ConfigMap (keys config, values, mesh) or an inject-sidecar.dev/v1alpha1 SidecarInjector`,
		},
		{
			name:    "function ConfigMap with an unknown key",
			fn:      "load/fn-configmap-unknown-key.yaml",
			wantErr: `function config: ConfigMap "function-input" data.nativeSidecar: unknown key`,
		},
		{
			name:    "function ConfigMap with bad values",
			fn:      "load/fn-configmap-bad-values.yaml",
			wantErr: `ConfigMap "function-input" (function config) data.values: values: error converting YAML to JSON`,
		},
		{
			name:    "function SidecarInjector with an unknown field",
			fn:      "sidecarinjector/unknown-field.yaml",
			wantErr: "function config: SidecarInjector.spec.limits.maxOutput: unknown field",
		},
		{
			name:    "injector ConfigMap without data.config",
			items:   []string{"load/items-missing-key.yaml"},
			wantErr: `ConfigMap istio-system/istio-sidecar-injector (input items): no key "config"`,
		},
		{
			name:    "invalid mesh in the items",
			items:   []string{"load/items-bad-mesh.yaml"},
			wantErr: "ConfigMap istio-system/istio (input items) data.mesh: mesh config: invalid: proxyListenPort: port -1",
		},
		{
			name:         "invalid --meshConfigFile",
			injectConfig: "load/inject-config.yaml", values: "load/values.json", mesh: "mesh/bad-enum.yaml",
			wantErr: "--meshConfigFile testdata/mesh/bad-enum.yaml: mesh config: outboundTrafficPolicy.mode: unknown value",
		},
		{
			name:         "invalid --operatorFileName",
			injectConfig: "load/inject-config.yaml", operator: "operator/two-docs.yaml",
			wantErr: "--operatorFileName testdata/operator/two-docs.yaml: IstioOperator: 2 documents found",
		},
		{
			name:    "two SidecarInjectors",
			fn:      "load/fn-sidecarinjector.yaml",
			extra:   []string{"load/extra.yaml"},
			wantErr: `two SidecarInjector configurations: SidecarInjector "inject-sidecar" (function config) and SidecarInjector "from-config-file" (--config)`,
		},
		{
			name:    "two settings ConfigMaps",
			fn:      "load/fn-configmap.yaml",
			extra:   []string{"load/extra-settings-configmap.yaml"},
			wantErr: "two ConfigMaps of function settings",
		},
		{
			name:    "unsupported --config object",
			extra:   []string{"load/extra-unsupported.yaml"},
			wantErr: `--config: unsupported object v1 Secret "oops"`,
		},
		{
			name:        "ENABLE_NATIVE_SIDECARS not a boolean",
			items:       []string{"load/items.yaml"},
			env:         map[string]string{"ENABLE_NATIVE_SIDECARS": "maybe"},
			envFallback: true,
			wantErr:     `environment ENABLE_NATIVE_SIDECARS="maybe": not a boolean`,
		},
	}
	runLoadCases(t, cases)
}

func TestLoadOptions(t *testing.T) {
	cases := []loadCase{
		{
			name:  "defaults",
			items: []string{"load/items.yaml"},
			check: func(t *testing.T, c *Config) {
				want := Options{
					Revision:          "default",
					NativeSidecars:    NativeSidecarsAuto,
					DecisionMode:      DecideLikeWebhook,
					DefaultNamespace:  "default",
					UnknownNamespace:  UnknownNamespaceInject,
					Namespaces:        map[string]Namespace{},
					MaxTemplateOutput: 1 << 20,
					TemplateTimeout:   2 * time.Second,
					MaxInputSize:      128 << 20,
					MaxNestingDepth:   1000,
					MaxAliasExpansion: 1_000_000,
					RunTimeout:        5 * time.Minute,
				}
				if !reflect.DeepEqual(c.Options, want) {
					t.Errorf("options\n got %+v\nwant %+v", c.Options, want)
				}
				if c.Options.Native() {
					t.Error("Native() without a Kubernetes version")
				}
				if c.Tags == nil || len(c.Tags) != 0 {
					t.Errorf("tags %v", c.Tags)
				}
			},
		},
		{
			name:        "Istio's environment in the inject command",
			items:       []string{"load/items.yaml"},
			envFallback: true,
			env: map[string]string{
				"ENABLE_NATIVE_SIDECARS": "true", "COMPLIANCE_POLICY": "fips-140-3", "PLATFORM": "openshift",
				"KUBE_VERSION": "1.29", "ARGOCD_APP_NAMESPACE": "argo-apps",
			},
			check: func(t *testing.T, c *Config) {
				o := c.Options
				if o.NativeSidecars != NativeSidecarsTrue || !o.Native() || o.CompliancePolicy != "fips-140-3" ||
					o.Platform != "openshift" || o.KubeVersion != "1.29" || o.DefaultNamespace != "argo-apps" {
					t.Errorf("options %+v", o)
				}
			},
		},
		{
			name:  "Istio's environment is not read by the function",
			items: []string{"load/items.yaml"},
			env: map[string]string{
				"ENABLE_NATIVE_SIDECARS": "false", "COMPLIANCE_POLICY": "fips-140-3", "PLATFORM": "openshift",
				"KUBE_VERSION": "v1.34.1", "ARGOCD_APP_NAMESPACE": "argo-apps",
			},
			check: func(t *testing.T, c *Config) {
				o := c.Options
				if o.NativeSidecars != NativeSidecarsAuto || !o.Native() || o.CompliancePolicy != "" || o.Platform != "" ||
					o.KubeVersion != "v1.34.1" || o.DefaultNamespace != "argo-apps" {
					t.Errorf("options %+v", o)
				}
			},
		},
		{
			name:        "configured settings win over the environment",
			fn:          "load/fn-sidecarinjector-settings.yaml",
			items:       []string{"load/items.yaml"},
			envFallback: true,
			env:         map[string]string{"ENABLE_NATIVE_SIDECARS": "true", "COMPLIANCE_POLICY": "fips-140-3"},
			check: func(t *testing.T, c *Config) {
				if o := c.Options; o.NativeSidecars != NativeSidecarsAuto || o.CompliancePolicy != "" || o.Revision != "canary" {
					t.Errorf("options %+v", o)
				}
			},
		},
		{
			name: "templates read only allowed variables",
			fn:   "load/fn-configmap.yaml",
			env:  map[string]string{"REGION": "eu", "HOME": "/root"},
			check: func(t *testing.T, c *Config) {
				env := c.Options.Env
				if env == nil {
					t.Fatal("Env is nil")
				}
				if v, ok := env("REGION"); !ok || v != "eu" {
					t.Errorf("Env(REGION) = %q, %v", v, ok)
				}
				if _, ok := env("HOME"); ok {
					t.Error("Env(HOME) allowed")
				}
				if _, ok := env("CLUSTER_NAME"); ok {
					t.Error("Env(CLUSTER_NAME) set although the environment lacks it")
				}
			},
		},
		{
			name:  "a bad KUBE_VERSION is a warning",
			items: []string{"load/items.yaml"},
			env:   map[string]string{"KUBE_VERSION": "latest"},
			check: func(t *testing.T, c *Config) {
				wantWarning(t, c, `KUBE_VERSION="latest" is not a Kubernetes version`)
			},
		},
	}
	runLoadCases(t, cases)
}

func runLoadCases(t *testing.T, cases []loadCase) {
	t.Helper()
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			c, err := Load(tc.input(t))
			if checkErr(t, err, tc.wantErr) && tc.check != nil {
				tc.check(t, c)
			}
		})
	}
}
