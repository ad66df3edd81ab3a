package decide

import (
	"cmp"
	"errors"
	"fmt"
	"slices"

	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/labels"

	"github.com/inject-sidecar/inject-sidecar/pkg/config"
)

// Label and annotation keys the decision reads. Selectors of the webhooks see
// labels only; the injector reads sidecar.istio.io/inject from the label first
// and the annotation second.
const (
	KeyInject        = "sidecar.istio.io/inject"     // pod label or annotation
	KeyRevision      = "istio.io/rev"                // namespace or pod label
	KeyInjection     = "istio-injection"             // namespace label
	KeyNamespaceName = "kubernetes.io/metadata.name" // set by the API server on every namespace
)

// Injection policies an injector configuration may hold.
const (
	PolicyEnabled  = "enabled"
	PolicyDisabled = "disabled"
)

// Errors a Decision may wrap, so that callers can tell them apart.
var (
	// ErrInvalidPolicy: the injector's policy is neither enabled nor
	// disabled; Istio then never injects.
	ErrInvalidPolicy = errors.New("invalid injection policy")
	// ErrRevisionConflict: webhooks of two revisions select the same pod.
	ErrRevisionConflict = errors.New("webhooks of more than one revision select the pod")
	// ErrUnknownNamespace: the namespace's labels are unknown and the
	// configuration asks for an error in that case.
	ErrUnknownNamespace = errors.New("namespace labels unknown")
)

// IgnoredNamespaces returns the namespaces the injector never injects,
// whatever the labels say. A function, not a variable, so that nobody can
// change the list at run time.
func IgnoredNamespaces() []string {
	return []string{"kube-system", "kube-public", "kube-node-lease", "local-path-storage"}
}

func isIgnoredNamespace(ns string) bool {
	return slices.Contains(IgnoredNamespaces(), ns)
}

// selectorEntry is one parsed never/always selector. sel is nil when the
// entry can never match: Istio skips invalid selectors and empty ones (an
// empty selector would otherwise select every pod).
type selectorEntry struct {
	sel  labels.Selector
	text string
}

// ruleSet is an injector's rules in the form used per pod, parsed once.
type ruleSet struct {
	revision string
	policy   string
	never    []selectorEntry
	always   []selectorEntry
}

// compileRules parses the injector's selectors. The warnings describe
// selectors that can never match; they concern the configuration, not a pod.
func compileRules(revision string, inj *config.Injector) (*ruleSet, []string) {
	never, w1 := compileSelectors("neverInjectSelector", inj.NeverInjectSelector)
	always, w2 := compileSelectors("alwaysInjectSelector", inj.AlwaysInjectSelector)
	return &ruleSet{revision: revision, policy: inj.Policy, never: never, always: always}, append(w1, w2...)
}

func compileSelectors(field string, in []metav1.LabelSelector) ([]selectorEntry, []string) {
	var warnings []string
	out := make([]selectorEntry, len(in))
	for i := range in {
		s, err := metav1.LabelSelectorAsSelector(&in[i])
		switch {
		case err != nil:
			warnings = append(warnings, fmt.Sprintf("%s[%d] is invalid and never matches: %v", field, i, err))
		case s.Empty():
			warnings = append(warnings, fmt.Sprintf("%s[%d] is empty and never matches", field, i))
		default:
			out[i] = selectorEntry{sel: s, text: s.String()}
		}
	}
	return out, warnings
}

// InjectorRules applies one injector's own rules to a pod that its webhook
// was called for: hostNetwork, ignored namespaces, the pod's
// sidecar.istio.io/inject value, neverInjectSelector, alwaysInjectSelector,
// then the policy. p.Namespace is taken as given. Warnings include the
// injector's selectors that can never match. A nil injector is an error.
func InjectorRules(inj *config.Injector, p Pod) Decision {
	if inj == nil {
		return Decision{Reason: "no injector configuration", Err: errors.New("no injector configuration")}
	}
	rs, warnings := compileRules(inj.Revision, inj)
	d, _ := rs.decide(p)
	d.Warnings = append(warnings, d.Warnings...)
	return d
}

// decide applies the rules in Istio's order. byPolicy reports that nothing
// but the policy decided, so that callers can give a more telling reason
// (which webhook selected the pod) in its place.
func (r *ruleSet) decide(p Pod) (d Decision, byPolicy bool) {
	d.Revision = r.revision
	// The proxy's iptables rules would rewrite the node's own routing.
	if p.HostNetwork {
		d.Reason = "hostNetwork"
		// Istio says so on stderr; users of kube-inject look for it.
		d.Warnings = append(d.Warnings, fmt.Sprintf("Skipping injection because %s %q has host networking enabled",
			kindOrPod(p.Kind), qualifiedName(cmp.Or(p.displayNamespace, p.Namespace), p.Name)))
		return d, false
	}
	if isIgnoredNamespace(p.Namespace) {
		d.Reason = fmt.Sprintf("namespace %s is never injected", p.Namespace)
		return d, false
	}

	value, source := injectValue(p)
	if w := overrideWarning(p); w != "" {
		d.Warnings = append(d.Warnings, w)
	}
	useDefault := false
	switch value {
	case "true":
		d.Inject = true
		d.Reason = fmt.Sprintf("%s %s=true", source, KeyInject)
	case "false":
		d.Reason = fmt.Sprintf("%s %s=false", source, KeyInject)
	case "":
		useDefault = true
	default:
		// Istio's log line, plus where the value came from and the fix.
		d.Warnings = append(d.Warnings, fmt.Sprintf(
			"Invalid value for %s: %q. Only 'true' and 'false' are accepted. Falling back to default injection policy. (%s; use \"true\" or \"false\")",
			KeyInject, value, source))
		useDefault = true
	}

	podLabels := labels.Set(p.Labels)
	if useDefault {
		if i, text, ok := firstMatch(r.never, podLabels); ok {
			d.Inject, useDefault = false, false
			d.Reason = fmt.Sprintf("neverInjectSelector[%d] matched %s", i, text)
		}
	}
	if useDefault {
		if i, text, ok := firstMatch(r.always, podLabels); ok {
			d.Inject, useDefault = true, false
			d.Reason = fmt.Sprintf("alwaysInjectSelector[%d] matched %s", i, text)
		}
	}

	switch r.policy {
	case PolicyEnabled:
		if useDefault {
			d.Inject = true
			d.Reason = "policy enabled"
			return d, true
		}
	case PolicyDisabled:
		if useDefault {
			d.Inject = false
			d.Reason = "policy disabled"
			return d, true
		}
	default:
		// Istio refuses to inject at all under a policy it does not know,
		// even when the pod asks for it.
		d.Inject = false
		d.Reason = fmt.Sprintf("invalid policy %q", r.policy)
		d.Err = fmt.Errorf("%w %q in revision %s: must be %q or %q; auto injection disabled",
			ErrInvalidPolicy, r.policy, r.revision, PolicyEnabled, PolicyDisabled)
	}
	return d, false
}

// injectValue returns the pod's sidecar.istio.io/inject value: the label when
// present, even if empty, else the annotation.
func injectValue(p Pod) (value, source string) {
	if v, ok := p.Labels[KeyInject]; ok {
		return v, "pod label"
	}
	if v, ok := p.Annotations[KeyInject]; ok {
		return v, "pod annotation"
	}
	return "", ""
}

// overrideWarning says when a label hides an annotation with another value,
// since users often set the annotation and expect it to count.
func overrideWarning(p Pod) string {
	lv, lok := p.Labels[KeyInject]
	av, aok := p.Annotations[KeyInject]
	if !lok || !aok || lv == av {
		return ""
	}
	return fmt.Sprintf("pod label %s=%q overrides pod annotation %s=%q", KeyInject, lv, KeyInject, av)
}

func firstMatch(entries []selectorEntry, set labels.Set) (int, string, bool) {
	for i, e := range entries {
		if e.sel != nil && e.sel.Matches(set) {
			return i, e.text, true
		}
	}
	return 0, "", false
}

func kindOrPod(kind string) string {
	if kind == "" {
		return "Pod"
	}
	return kind
}

func qualifiedName(namespace, name string) string {
	if namespace == "" {
		return name
	}
	return namespace + "/" + name
}
