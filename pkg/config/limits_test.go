package config

import (
	"strings"
	"testing"
	"time"

	"sigs.k8s.io/kustomize/kyaml/yaml"
)

// TestLimitSettings reads the input and run limits in both forms: the
// SidecarInjector's spec.limits and the flat keys of a settings ConfigMap.
func TestLimitSettings(t *testing.T) {
	cases := []struct {
		name string
		// limits is the YAML of spec.limits; data the ConfigMap's data.
		limits, data string
		want         Limits
		wantErr      string
	}{
		{name: "typed, every limit",
			limits: "{maxInputSize: 1Gi, maxNestingDepth: 50, maxAliasExpansion: 1000, runTimeout: 90s}",
			want:   Limits{MaxInputSize: 1 << 30, MaxNestingDepth: 50, MaxAliasExpansion: 1000, RunTimeout: 90 * time.Second}},
		{name: "typed, size in bytes", limits: "{maxInputSize: 4096}", want: Limits{MaxInputSize: 4096}},
		{name: "typed, size too large", limits: "{maxInputSize: 4Gi}",
			wantErr: "SidecarInjector.spec.limits.maxInputSize: 4294967296 is not in 1..2147483647"},
		{name: "typed, size not a quantity", limits: "{maxInputSize: lots}",
			wantErr: `SidecarInjector.spec.limits.maxInputSize: "lots" is not a byte size (like 1048576 or 1Mi)`},
		{name: "typed, depth zero", limits: "{maxNestingDepth: 0}",
			wantErr: "SidecarInjector.spec.limits.maxNestingDepth: 0 is not in 1..10000"},
		{name: "typed, depth beyond the parser's", limits: "{maxNestingDepth: 20000}",
			wantErr: "SidecarInjector.spec.limits.maxNestingDepth: 20000 is not in 1..10000"},
		{name: "typed, depth a fraction", limits: "{maxNestingDepth: 1.5}",
			wantErr: `SidecarInjector.spec.limits.maxNestingDepth: "1.5" is not a whole number`},
		{name: "typed, depth a list", limits: "{maxNestingDepth: [1]}",
			wantErr: "SidecarInjector.spec.limits.maxNestingDepth: must be a whole number, got a list"},
		{name: "typed, aliases negative", limits: "{maxAliasExpansion: -1}",
			wantErr: "SidecarInjector.spec.limits.maxAliasExpansion: -1 is not in 1..2147483647"},
		{name: "typed, run timeout a number", limits: "{runTimeout: 30}",
			wantErr: `SidecarInjector.spec.limits.runTimeout: must be a duration string like "2s", got a number`},
		{name: "typed, run timeout zero", limits: "{runTimeout: 0s}",
			wantErr: `SidecarInjector.spec.limits.runTimeout: "0s" must be positive`},
		{name: "configmap, every limit",
			data: "{maxInputSize: 64Mi, maxNestingDepth: '200', maxAliasExpansion: '5000', runTimeout: 1m}",
			want: Limits{MaxInputSize: 64 << 20, MaxNestingDepth: 200, MaxAliasExpansion: 5000, RunTimeout: time.Minute}},
		{name: "configmap, depth not a number", data: "{maxNestingDepth: deep}",
			wantErr: `ConfigMap "settings" data.maxNestingDepth: "deep" is not a whole number`},
		{name: "configmap, run timeout not a duration", data: "{runTimeout: soon}",
			wantErr: `ConfigMap "settings" data.runTimeout: "soon" is not a duration like "2s"`},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			var doc string
			if tc.data != "" {
				doc = "apiVersion: v1\nkind: ConfigMap\nmetadata: {name: settings}\ndata: " + tc.data + "\n"
			} else {
				doc = "apiVersion: inject-sidecar.dev/v1alpha1\nkind: SidecarInjector\nmetadata: {name: x}\nspec:\n  limits: " + tc.limits + "\n"
			}
			node, err := yaml.Parse(doc)
			if err != nil {
				t.Fatal(err)
			}
			got, err := ReadLimits([]*yaml.RNode{node})
			if !checkErr(t, err, tc.wantErr) {
				return
			}
			if got != tc.want {
				t.Errorf("limits %+v, want %+v", got, tc.want)
			}
		})
	}
}

// TestReadLimitsMerges lays the SidecarInjector's limits over those of a
// settings ConfigMap, as Load does, and ignores Istio's ConfigMaps.
func TestReadLimitsMerges(t *testing.T) {
	var nodes []*yaml.RNode
	for _, doc := range []string{
		"apiVersion: v1\nkind: ConfigMap\nmetadata: {name: settings}\ndata: {maxNestingDepth: '300', runTimeout: 10s}\n",
		"apiVersion: inject-sidecar.dev/v1alpha1\nkind: SidecarInjector\nmetadata: {name: x}\nspec: {limits: {runTimeout: 20s}}\n",
		"apiVersion: v1\nkind: ConfigMap\nmetadata: {name: istio-sidecar-injector}\ndata: {config: 'policy: enabled', values: '{}'}\n",
	} {
		n, err := yaml.Parse(doc)
		if err != nil {
			t.Fatal(err)
		}
		nodes = append(nodes, n)
	}
	got, err := ReadLimits(nodes)
	if err != nil {
		t.Fatal(err)
	}
	if want := (Limits{MaxNestingDepth: 300, RunTimeout: 20 * time.Second}); got != want {
		t.Errorf("limits %+v, want %+v", got, want)
	}
	// Load resolves the same settings into Options, defaults filled in.
	cfg, err := Load(Input{Extra: nodes})
	if err != nil {
		t.Fatal(err)
	}
	o := cfg.Options
	if o.MaxNestingDepth != 300 || o.RunTimeout != 20*time.Second || o.MaxInputSize != DefaultMaxInputSize ||
		o.MaxAliasExpansion != DefaultMaxAliasExpansion {
		t.Errorf("options %+v", o)
	}
	// A --config object of another kind is refused, as Load refuses it.
	bad, _ := yaml.Parse("apiVersion: v1\nkind: Secret\nmetadata: {name: s}\n")
	if _, err := ReadLimits([]*yaml.RNode{bad}); err == nil || !strings.Contains(err.Error(), `unsupported object v1 Secret "s"`) {
		t.Errorf("error %v", err)
	}
}
