package config

import (
	"strings"
	"testing"

	"sigs.k8s.io/kustomize/kyaml/yaml"
)

// TestMode reads the mode setting (inject, uninject or check) from a
// SidecarInjector and from a ConfigMap of function settings, and its
// precedence: the typed configuration wins.
func TestMode(t *testing.T) {
	const injector = "config: |\n    policy: enabled\n    templates: {sidecar: '{}'}\n  values: '{}'\n"
	typed := func(mode string) *yaml.RNode {
		return yaml.MustParse("apiVersion: inject-sidecar.dev/v1alpha1\nkind: SidecarInjector\nmetadata: {name: t}\n" +
			"spec:\n  mode: " + mode + "\n  injector:\n    " + strings.ReplaceAll(injector, "\n  ", "\n    "))
	}
	configMap := func(mode string) *yaml.RNode {
		return yaml.MustParse("apiVersion: v1\nkind: ConfigMap\nmetadata: {name: settings}\ndata:\n  mode: " + mode + "\n  " + injector)
	}
	tests := []struct {
		name    string
		in      Input
		want    Mode
		wantErr string
	}{
		{name: "empty", in: Input{FunctionConfig: configMap(`""`)}, wantErr: `data.mode: "" is not one of inject, uninject, check`},
		{name: "typed", in: Input{FunctionConfig: typed("check")}, want: ModeCheck},
		{name: "config map", in: Input{FunctionConfig: configMap("uninject")}, want: ModeUninject},
		{name: "typed wins", in: Input{FunctionConfig: configMap("uninject"), Extra: []*yaml.RNode{typed("inject")}}, want: ModeInject},
		{name: "invalid typed", in: Input{FunctionConfig: typed("eject")}, wantErr: `SidecarInjector.spec.mode: "eject" is not one of inject, uninject, check`},
		{name: "not a string", in: Input{FunctionConfig: typed("[check]")}, wantErr: "SidecarInjector.spec.mode"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			cfg, err := Load(tc.in)
			if !checkErr(t, err, tc.wantErr) {
				return
			}
			if cfg.Options.Mode != tc.want {
				t.Errorf("Mode = %q, want %q", cfg.Options.Mode, tc.want)
			}
		})
	}
	// Without any setting the mode is empty, which means inject.
	cfg, err := Load(Input{FunctionConfig: configMap("inject")})
	if err != nil {
		t.Fatal(err)
	}
	if cfg.Options.Mode != ModeInject {
		t.Errorf("Mode = %q", cfg.Options.Mode)
	}
}
