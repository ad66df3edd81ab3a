package config

import (
	"testing"

	"sigs.k8s.io/kustomize/kyaml/yaml"
)

// TestFunctionConfigNotAnObject checks that a function config that is not
// a mapping is an error, not a panic in kyaml's getters.
func TestFunctionConfigNotAnObject(t *testing.T) {
	cases := []struct {
		doc, want string
	}{
		{"[a, b]", "function config: expected an object (a ConfigMap or a SidecarInjector), got a list"},
		{"just text", "function config: expected an object (a ConfigMap or a SidecarInjector), got a scalar"},
	}
	for _, tc := range cases {
		t.Run(tc.doc, func(t *testing.T) {
			fc, err := yaml.Parse(tc.doc)
			if err != nil {
				t.Fatal(err)
			}
			_, err = Load(Input{FunctionConfig: fc})
			if err == nil || err.Error() != tc.want {
				t.Fatalf("error %v, want %s", err, tc.want)
			}
		})
	}
}
