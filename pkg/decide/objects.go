package decide

import (
	"bytes"
	"encoding/json"
	"fmt"
	"reflect"
	"slices"
	"strings"

	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"sigs.k8s.io/kustomize/kyaml/yaml"
)

// Identity of Istio's injection webhook configurations.
const (
	KindMutatingWebhookConfiguration = "MutatingWebhookConfiguration"
	AdmissionAPIVersion              = "admissionregistration.k8s.io/v1"
	// KeyTag labels the configuration a revision tag installed
	// (istio-revision-tag-<tag>); KeyRevision labels every configuration
	// with the revision that serves it. istioctl tag list reads the same.
	KeyTag = "istio.io/tag"
	// injectionWebhookName is the name of Istio's injection webhooks; the
	// chart adds a prefix (rev.namespace., object., ...) per webhook.
	injectionWebhookName = "sidecar-injector.istio.io"
)

// WebhookSet is what the input says about the webhooks installed in the
// cluster: the injection webhooks of Istio's MutatingWebhookConfigurations.
type WebhookSet struct {
	// Webhooks in input order, each with its revision, tag and configuration.
	Webhooks []Webhook
	// Configurations are the names of Istio's injection configurations
	// found, in input order; empty when there is none, and the built-in
	// table then applies.
	Configurations []string
	// Warnings about webhooks that were read but cannot be called for pods,
	// or whose settings are not evaluated offline.
	Warnings []string
}

// IsInjectionWebhook reports whether a webhook name is one of Istio's
// injection webhooks: sidecar-injector.istio.io, with or without a prefix.
func IsInjectionWebhook(name string) bool {
	return name == injectionWebhookName || strings.HasSuffix(name, "."+injectionWebhookName)
}

// WebhooksIn reads Istio's injection webhooks from the admissionregistration.k8s.io/v1
// MutatingWebhookConfigurations among objs. A configuration counts when one of
// its webhooks is named like Istio's (IsInjectionWebhook); its other webhooks
// are ignored, and so are other configurations. Each one must carry the
// label istio.io/rev (the revision whose injector serves it), and
// istio.io/tag when a revision tag installed it.
//
// A configuration named twice is read once; the later object wins, with a
// warning when the two differ. Selectors are checked here, so that a bad
// one is reported with its object and field rather than per pod.
func WebhooksIn(objs []*yaml.RNode) (WebhookSet, error) {
	var set WebhookSet
	byConfig := map[string][]Webhook{}
	warningsOf := map[string][]string{}
	for _, n := range objs {
		// Only objects: kyaml's accessors assume a mapping.
		if n == nil || n.IsNil() || n.YNode().Kind != yaml.MappingNode || n.GetKind() != KindMutatingWebhookConfiguration {
			continue
		}
		if n.GetApiVersion() != AdmissionAPIVersion {
			// v1beta1 is gone from every API server Istio supports; say so
			// only when it looks like Istio's.
			if hasInjectionWebhook(n) {
				set.Warnings = append(set.Warnings, fmt.Sprintf("%s %s %q is ignored: only %s is read",
					n.GetApiVersion(), KindMutatingWebhookConfiguration, n.GetName(), AdmissionAPIVersion))
			}
			continue
		}
		hooks, warnings, err := parseWebhookConfiguration(n)
		if err != nil {
			return WebhookSet{}, err
		}
		if hooks == nil {
			continue
		}
		name := n.GetName()
		if prev, ok := byConfig[name]; ok {
			if !reflect.DeepEqual(prev, hooks) {
				set.Warnings = append(set.Warnings, fmt.Sprintf(
					"%s %q is given twice with different webhooks; the later one is used", KindMutatingWebhookConfiguration, name))
			}
		} else {
			set.Configurations = append(set.Configurations, name)
		}
		byConfig[name], warningsOf[name] = hooks, warnings
	}
	for _, name := range set.Configurations {
		set.Webhooks = append(set.Webhooks, byConfig[name]...)
		set.Warnings = append(set.Warnings, warningsOf[name]...)
	}
	return set, nil
}

// hasInjectionWebhook reports whether a configuration names one of Istio's
// injection webhooks, whatever its shape otherwise.
func hasInjectionWebhook(n *yaml.RNode) bool {
	hooks, err := n.Pipe(yaml.Lookup("webhooks"))
	if err != nil || hooks == nil {
		return false
	}
	elements, err := hooks.Elements()
	if err != nil {
		return false
	}
	for _, h := range elements {
		if name, err := h.Pipe(yaml.Lookup("name")); err == nil && name != nil && IsInjectionWebhook(yaml.GetValue(name)) {
			return true
		}
	}
	return false
}

// rawWebhook is the part of a webhook the API server's selection reads.
// Other fields (clientConfig, caBundle, ...) are not decoded, so that
// placeholders there do not matter.
type rawWebhook struct {
	Name              string            `json:"name"`
	NamespaceSelector json.RawMessage   `json:"namespaceSelector"`
	ObjectSelector    json.RawMessage   `json:"objectSelector"`
	Rules             []json.RawMessage `json:"rules"`
	MatchConditions   []json.RawMessage `json:"matchConditions"`
}

type rawRule struct {
	Operations  []string `json:"operations"`
	APIGroups   []string `json:"apiGroups"`
	APIVersions []string `json:"apiVersions"`
	Resources   []string `json:"resources"`
}

// parseWebhookConfiguration returns the injection webhooks of one
// configuration, nil when it has none.
func parseWebhookConfiguration(n *yaml.RNode) ([]Webhook, []string, error) {
	name := n.GetName()
	what := fmt.Sprintf("%s %q", KindMutatingWebhookConfiguration, name)
	data, err := n.MarshalJSON()
	if err != nil {
		return nil, nil, fmt.Errorf("%s: %w", what, err)
	}
	var doc struct {
		Webhooks []json.RawMessage `json:"webhooks"`
	}
	if err := json.Unmarshal(data, &doc); err != nil {
		return nil, nil, fmt.Errorf("%s: field webhooks: %w", what, err)
	}
	var raws []rawWebhook
	var fields []string
	for i, w := range doc.Webhooks {
		var r rawWebhook
		if err := json.Unmarshal(w, &r); err != nil {
			return nil, nil, fmt.Errorf("%s: field webhooks[%d]: %w", what, i, err)
		}
		if IsInjectionWebhook(r.Name) {
			raws = append(raws, r)
			fields = append(fields, fmt.Sprintf("webhooks[%d]", i))
		}
	}
	if len(raws) == 0 {
		return nil, nil, nil
	}

	labels := n.GetLabels()
	revision := labels[KeyRevision]
	if revision == "" {
		return nil, nil, fmt.Errorf("%s: field metadata.labels.%s: missing or empty; it names the revision whose injector serves "+
			"the configuration's webhooks (Istio's chart and istioctl tag set it)", what, KeyRevision)
	}
	tag, tagged := labels[KeyTag]
	if tagged && tag == "" {
		return nil, nil, fmt.Errorf("%s: field metadata.labels.%s: empty", what, KeyTag)
	}

	var hooks []Webhook
	var warnings []string
	for i, r := range raws {
		field := fields[i]
		h := Webhook{Name: r.Name, Revision: revision, Tag: tag, Configuration: name}
		if h.NamespaceSelector, err = parseSelector(r.NamespaceSelector); err != nil {
			return nil, nil, fmt.Errorf("%s: field %s.namespaceSelector (webhook %s): %w", what, field, r.Name, err)
		}
		if h.ObjectSelector, err = parseSelector(r.ObjectSelector); err != nil {
			return nil, nil, fmt.Errorf("%s: field %s.objectSelector (webhook %s): %w", what, field, r.Name, err)
		}
		called, bad, err := rulesCoverPodCreate(r.Rules)
		if err != nil {
			return nil, nil, fmt.Errorf("%s: field %s.rules[%d] (webhook %s): %w", what, field, bad, r.Name, err)
		}
		if !called {
			warnings = append(warnings, fmt.Sprintf("%s: webhook %s is ignored: its rules do not cover the creation of pods", what, r.Name))
			continue
		}
		if len(r.MatchConditions) > 0 {
			warnings = append(warnings, fmt.Sprintf("%s: webhook %s: matchConditions are not evaluated offline; only its selectors are", what, r.Name))
		}
		hooks = append(hooks, h)
	}
	if hooks == nil {
		// Injection webhooks that are never called still mark the
		// configuration as Istio's.
		hooks = []Webhook{}
	}
	return hooks, warnings, nil
}

// parseSelector decodes and validates a label selector; absent or null is
// nil, which matches everything, as in the API server.
func parseSelector(raw json.RawMessage) (*metav1.LabelSelector, error) {
	if len(bytes.TrimSpace(raw)) == 0 || bytes.Equal(bytes.TrimSpace(raw), []byte("null")) {
		return nil, nil
	}
	var s metav1.LabelSelector
	dec := json.NewDecoder(bytes.NewReader(raw))
	dec.DisallowUnknownFields()
	if err := dec.Decode(&s); err != nil {
		return nil, err
	}
	if _, err := metav1.LabelSelectorAsSelector(&s); err != nil {
		return nil, err
	}
	return &s, nil
}

// rulesCoverPodCreate reports whether the API server calls a webhook with
// these rules when a pod is created. No rules: never called. On error, bad
// is the index of the rule at fault.
func rulesCoverPodCreate(rules []json.RawMessage) (called bool, bad int, err error) {
	for i, raw := range rules {
		var r rawRule
		if err := json.Unmarshal(raw, &r); err != nil {
			return false, i, err
		}
		if matchesAny(r.Operations, "CREATE") && matchesAny(r.APIGroups, "") &&
			matchesAny(r.APIVersions, "v1") && (matchesAny(r.Resources, "pods") || slices.Contains(r.Resources, "*/*")) {
			return true, 0, nil
		}
	}
	return false, 0, nil
}

func matchesAny(list []string, want string) bool {
	return slices.Contains(list, want) || slices.Contains(list, "*")
}
