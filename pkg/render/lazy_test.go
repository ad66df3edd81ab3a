package render

import (
	"strings"
	"testing"

	"github.com/inject-sidecar/inject-sidecar/pkg/config"
)

// TestPrepare: Prepare renders with the templates a pod selects before
// the others are known to parse, and Wait then reports the first broken
// one in name order, exactly as New does.
func TestPrepare(t *testing.T) {
	tests := []struct {
		name      string
		templates map[string]string
		annotate  map[string]string // the pod's annotations
		render    string            // "" when Render must fail
		wait      string            // "" when every template parses, else what the error names
	}{
		{
			name:      "all parse",
			templates: map[string]string{"sidecar": "a: {{ .Revision }}", "gateway": "b"},
			render:    "a: default",
		},
		{
			name:      "an unused template is broken",
			templates: map[string]string{"sidecar": "a: 1", "gateway": "{{ if }}", "zz": "{{ nope }}"},
			render:    "a: 1",
			wait:      `template "gateway"`,
		},
		{
			name:      "the selected template is broken",
			templates: map[string]string{"sidecar": "{{ end }}", "gateway": "b"},
			wait:      `template "sidecar"`,
		},
		{
			name:      "another template is selected",
			templates: map[string]string{"sidecar": "{{ if }}", "gateway": "b: 2"},
			annotate:  map[string]string{"inject.istio.io/templates": "gateway"},
			render:    "b: 2",
			wait:      `template "sidecar"`,
		},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			inj := tinyInjector(tc.templates)
			e, err := Prepare(inj, config.Options{})
			if err != nil {
				t.Fatal(err)
			}
			out, err := e.Render(podWithAnnotations(tc.annotate), testWorkload())
			switch {
			case tc.render == "" && err == nil:
				t.Errorf("Render succeeded with a broken template")
			case tc.render != "" && err != nil:
				t.Errorf("Render: %v", err)
			case tc.render != "" && string(out.Overlays[0].YAML) != tc.render:
				t.Errorf("rendered %q, want %q", out.Overlays[0].YAML, tc.render)
			}
			waitErr := e.Wait()
			_, newErr := New(inj, config.Options{})
			if tc.wait == "" {
				if waitErr != nil || newErr != nil {
					t.Fatalf("Wait: %v, New: %v", waitErr, newErr)
				}
				return
			}
			if waitErr == nil || !strings.Contains(waitErr.Error(), tc.wait) {
				t.Fatalf("Wait = %v, want an error naming %s", waitErr, tc.wait)
			}
			if newErr == nil || newErr.Error() != waitErr.Error() {
				t.Fatalf("New = %v, Wait = %v: want the same error", newErr, waitErr)
			}
			if again := e.Wait(); again == nil || again.Error() != waitErr.Error() {
				t.Fatalf("second Wait = %v", again)
			}
		})
	}
}
