package config

import (
	"bytes"
	"fmt"
	"sort"
	"strings"

	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	sigsyaml "sigs.k8s.io/yaml"
)

// SidecarTemplate is the name of the template Istio renders when a pod names
// none and the configuration sets no defaultTemplates, and the name a bare
// template given to kube-inject is stored under.
const SidecarTemplate = "sidecar"

// InjectorConfig is one data.config document of Istio's
// istio-sidecar-injector ConfigMap, read the way Istio reads it.
type InjectorConfig struct {
	// Policy is verbatim ("enabled", "disabled", or anything else, which
	// Istio treats as a policy that never injects).
	Policy               string
	NeverInjectSelector  []metav1.LabelSelector
	AlwaysInjectSelector []metav1.LabelSelector
	// DefaultTemplates is ["sidecar"] when the document sets none.
	DefaultTemplates []string
	Aliases          map[string][]string
	// Templates is never nil.
	Templates           map[string]string
	InjectedAnnotations map[string]string
	// Bare reports that the input was not an injector configuration but a
	// single template (accepted by ParseInjectConfigFile only), stored as the
	// "sidecar" template with policy "enabled".
	Bare bool
	// Warnings are findings that Istio tolerates: ignored keys, a document
	// without templates.
	Warnings []string
}

// injectorDocument mirrors the JSON names of Istio's injector configuration.
// It is decoded with sigs.k8s.io/yaml like Istio does: YAML 1.1 scalars,
// case-insensitive keys, unknown keys ignored, scalars converted to the
// string fields' type.
type injectorDocument struct {
	Policy               string                 `json:"policy"`
	DefaultTemplates     []string               `json:"defaultTemplates"`
	Templates            map[string]string      `json:"templates"`
	Aliases              map[string][]string    `json:"aliases"`
	NeverInjectSelector  []metav1.LabelSelector `json:"neverInjectSelector"`
	AlwaysInjectSelector []metav1.LabelSelector `json:"alwaysInjectSelector"`
	InjectedAnnotations  map[string]string      `json:"injectedAnnotations"`
}

// isInjectorKey reports whether k names a field of injectorDocument, matched
// case-insensitively as encoding/json does.
func isInjectorKey(k string) bool {
	switch strings.ToLower(k) {
	case "policy", "defaulttemplates", "templates", "aliases",
		"neverinjectselector", "alwaysinjectselector", "injectedannotations":
		return true
	}
	return false
}

// legacyTemplateKey is the pre-1.8 single template key, which current Istio
// ignores (its chart still writes it, as a template that fails on purpose in
// old injectors).
const legacyTemplateKey = "template"

// ParseInjectorConfig reads a data.config document with the semantics of
// Istio's injector (pkg/kube/inject UnmarshalConfig): keys are matched
// case-insensitively, unknown keys (including the legacy "template") are
// ignored and reported in Warnings, defaultTemplates defaults to ["sidecar"],
// and a document without templates is accepted with a warning. Malformed
// YAML and values of the wrong type are errors. Templates are not parsed
// here; their syntax is checked where they are rendered.
func ParseInjectorConfig(data []byte) (*InjectorConfig, error) {
	if doc, keys, ok := decodeInjectorFast(data); ok {
		return fromDocument(&doc, keys), nil
	}
	raw := decodeRaw(data)
	var doc injectorDocument
	if err := sigsyaml.Unmarshal(data, &doc); err != nil {
		// Name fields as the document does, not by this package's type.
		return nil, fmt.Errorf("injector config: %s", strings.ReplaceAll(err.Error(), "injectorDocument.", ""))
	}
	return fromDocument(&doc, rawKeys(<-raw)), nil
}

// decodeRaw decodes data as a generic mapping, for the warnings about
// ignored keys, on its own goroutine: Istio's configuration is a hundred
// kilobytes of templates, and this second reading of it then costs no
// time while the typed one runs. The result is nil when data is not a
// mapping.
func decodeRaw(data []byte) <-chan map[string]any {
	out := make(chan map[string]any, 1)
	go func() {
		var raw map[string]any
		if err := sigsyaml.Unmarshal(data, &raw); err != nil {
			raw = nil
		}
		out <- raw
	}()
	return out
}

// rawKeys are the keys of a document decoded generically; nil when that
// failed.
func rawKeys(raw map[string]any) []string {
	if raw == nil {
		return nil
	}
	keys := make([]string, 0, len(raw))
	for k := range raw {
		keys = append(keys, k)
	}
	return keys
}

// fromDocument completes a decoded document; keys are its top-level keys
// (nil when its generic decoding failed).
func fromDocument(doc *injectorDocument, keys []string) *InjectorConfig {
	c := &InjectorConfig{
		Policy:               doc.Policy,
		NeverInjectSelector:  doc.NeverInjectSelector,
		AlwaysInjectSelector: doc.AlwaysInjectSelector,
		DefaultTemplates:     doc.DefaultTemplates,
		Aliases:              doc.Aliases,
		Templates:            doc.Templates,
		InjectedAnnotations:  doc.InjectedAnnotations,
	}
	if c.Templates == nil {
		c.Templates = map[string]string{}
	}
	if len(c.DefaultTemplates) == 0 {
		c.DefaultTemplates = []string{SidecarTemplate}
	}

	// The typed decode succeeded, so the document is a mapping (or empty).
	if keys != nil {
		c.Warnings = append(c.Warnings, ignoredInjectorKeys(keys, len(c.Templates) == 0)...)
	}
	if len(c.Templates) == 0 {
		c.Warnings = append(c.Warnings, "injector config has no templates: every injection will fail with "+
			"\"template not found\" (a bare template is accepted only as an --injectConfigFile)")
	}
	return c
}

func ignoredInjectorKeys(keys []string, noTemplates bool) []string {
	var unknown, warnings []string
	for _, k := range keys {
		switch {
		case isInjectorKey(k):
		case k == legacyTemplateKey:
			// Current charts write it on purpose; only worth a word when it
			// is all the document has.
			if noTemplates {
				warnings = append(warnings, "injector config uses the legacy \"template\" key, which Istio "+
					"ignores; put the template under \"templates: {sidecar: ...}\"")
			}
		default:
			unknown = append(unknown, k)
		}
	}
	if len(unknown) > 0 {
		sort.Strings(unknown)
		warnings = append(warnings, fmt.Sprintf("injector config: unknown keys ignored: %s", strings.Join(unknown, ", ")))
	}
	return warnings
}

// ParseInjectConfigFile reads what istioctl kube-inject accepts as
// --injectConfigFile: an injector configuration as in ParseInjectorConfig, or
// a bare template. Like istioctl, the input is a configuration when it
// decodes as one and has at least one template; anything else (including
// text that is not YAML, as templates often are not) is a bare template,
// which becomes the "sidecar" template with policy "enabled" and
// defaultTemplates ["sidecar"]. An empty input is an error.
func ParseInjectConfigFile(data []byte) (*InjectorConfig, error) {
	if len(bytes.TrimSpace(data)) == 0 {
		return nil, fmt.Errorf("injector config file is empty")
	}
	if doc, keys, ok := decodeInjectorFast(data); ok {
		if len(doc.Templates) > 0 {
			return fromDocument(&doc, keys), nil
		}
		return bareTemplate(data), nil
	}
	raw := decodeRaw(data)
	var doc injectorDocument
	if err := sigsyaml.Unmarshal(data, &doc); err == nil && len(doc.Templates) > 0 {
		return fromDocument(&doc, rawKeys(<-raw)), nil
	}
	return bareTemplate(data), nil
}

// bareTemplate is a template given as the whole --injectConfigFile.
func bareTemplate(data []byte) *InjectorConfig {
	return &InjectorConfig{
		Policy:           "enabled",
		DefaultTemplates: []string{SidecarTemplate},
		Templates:        map[string]string{SidecarTemplate: string(data)},
		Bare:             true,
	}
}
