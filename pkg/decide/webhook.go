package decide

import (
	"fmt"
	"slices"
	"sort"
	"strings"

	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/labels"

	"github.com/inject-sidecar/inject-sidecar/pkg/config"
)

// Webhook is one entry of an injection MutatingWebhookConfiguration, reduced
// to what the API server uses to decide whether to call it.
type Webhook struct {
	// Name as the chart spells it, e.g. rev.namespace.sidecar-injector.istio.io.
	// Names repeat across revisions; Revision and Tag tell them apart.
	Name string
	// Revision whose injector serves the webhook.
	Revision string
	// Tag is the revision tag that installed the webhook, "" when the
	// revision installed it itself.
	Tag string
	// Configuration is the MutatingWebhookConfiguration the webhook was
	// read from; "" for the built-in table.
	Configuration string
	// Selectors as in the webhook; nil matches everything, as in Kubernetes.
	NamespaceSelector *metav1.LabelSelector
	ObjectSelector    *metav1.LabelSelector
}

// Webhook names of Istio's chart.
const (
	WebhookRevNamespace = "rev.namespace.sidecar-injector.istio.io"
	WebhookRevObject    = "rev.object.sidecar-injector.istio.io"
	WebhookNamespace    = "namespace.sidecar-injector.istio.io"
	WebhookObject       = "object.sidecar-injector.istio.io"
	WebhookAuto         = "auto.sidecar-injector.istio.io"
)

// BuiltinWebhooks returns the webhooks Istio's chart installs for the given
// revisions and revision tags (tag → revision):
//   - the default revision: rev.namespace and rev.object for "default", then
//     namespace and object, then auto when enableNamespacesByDefault;
//   - any other revision X: rev.namespace and rev.object for X;
//   - a tag T of revision X: rev.namespace and rev.object for T, served by X;
//     the tag "default" also installs namespace, object (and auto), and the
//     default revision's own webhooks are then deactivated, as
//     `istioctl tag set default` does.
//
// The order is stable: the default set first, other revisions by name, then
// tags by name. Empty and repeated revision names are ignored.
func BuiltinWebhooks(revisions []string, tags map[string]string, enableNamespacesByDefault bool) []Webhook {
	revs := make([]string, 0, len(revisions))
	for _, r := range revisions {
		if r != "" && !slices.Contains(revs, r) {
			revs = append(revs, r)
		}
	}
	sort.Strings(revs)
	tagNames := make([]string, 0, len(tags))
	for t := range tags {
		if t != "" {
			tagNames = append(tagNames, t)
		}
	}
	sort.Strings(tagNames)
	defaultTag, hasDefaultTag := tags[config.DefaultRevision]

	var out []Webhook
	switch {
	case hasDefaultTag:
		out = append(out, defaultSet(defaultTag, config.DefaultRevision, enableNamespacesByDefault)...)
	case slices.Contains(revs, config.DefaultRevision):
		out = append(out, defaultSet(config.DefaultRevision, "", enableNamespacesByDefault)...)
	}
	for _, r := range revs {
		if r != config.DefaultRevision {
			out = append(out, revPair(r, r, "")...)
		}
	}
	for _, t := range tagNames {
		if t != config.DefaultRevision {
			out = append(out, revPair(t, tags[t], t)...)
		}
	}
	return out
}

// revPair is the rev.namespace/rev.object pair selecting on istio.io/rev=name.
func revPair(name, revision, tag string) []Webhook {
	return []Webhook{
		{
			Name: WebhookRevNamespace, Revision: revision, Tag: tag,
			NamespaceSelector: selector(req(KeyRevision, metav1.LabelSelectorOpIn, name), req(KeyInjection, metav1.LabelSelectorOpDoesNotExist)),
			ObjectSelector:    selector(req(KeyInject, metav1.LabelSelectorOpNotIn, "false")),
		},
		{
			Name: WebhookRevObject, Revision: revision, Tag: tag,
			NamespaceSelector: selector(req(KeyRevision, metav1.LabelSelectorOpDoesNotExist), req(KeyInjection, metav1.LabelSelectorOpDoesNotExist)),
			ObjectSelector:    selector(req(KeyInject, metav1.LabelSelectorOpNotIn, "false"), req(KeyRevision, metav1.LabelSelectorOpIn, name)),
		},
	}
}

// defaultSet is what the default revision (or the "default" tag) installs.
func defaultSet(revision, tag string, auto bool) []Webhook {
	out := revPair(config.DefaultRevision, revision, tag)
	out = append(out,
		Webhook{
			Name: WebhookNamespace, Revision: revision, Tag: tag,
			NamespaceSelector: selector(req(KeyInjection, metav1.LabelSelectorOpIn, "enabled")),
			ObjectSelector:    selector(req(KeyInject, metav1.LabelSelectorOpNotIn, "false")),
		},
		Webhook{
			Name: WebhookObject, Revision: revision, Tag: tag,
			NamespaceSelector: selector(req(KeyInjection, metav1.LabelSelectorOpDoesNotExist), req(KeyRevision, metav1.LabelSelectorOpDoesNotExist)),
			ObjectSelector:    selector(req(KeyInject, metav1.LabelSelectorOpIn, "true"), req(KeyRevision, metav1.LabelSelectorOpDoesNotExist)),
		},
	)
	if auto {
		out = append(out, Webhook{
			Name: WebhookAuto, Revision: revision, Tag: tag,
			NamespaceSelector: selector(
				req(KeyInjection, metav1.LabelSelectorOpDoesNotExist),
				req(KeyRevision, metav1.LabelSelectorOpDoesNotExist),
				req(KeyNamespaceName, metav1.LabelSelectorOpNotIn, IgnoredNamespaces()...),
			),
			ObjectSelector: selector(req(KeyInject, metav1.LabelSelectorOpDoesNotExist), req(KeyRevision, metav1.LabelSelectorOpDoesNotExist)),
		})
	}
	return out
}

func selector(reqs ...metav1.LabelSelectorRequirement) *metav1.LabelSelector {
	return &metav1.LabelSelector{MatchExpressions: reqs}
}

func req(key string, op metav1.LabelSelectorOperator, values ...string) metav1.LabelSelectorRequirement {
	return metav1.LabelSelectorRequirement{Key: key, Operator: op, Values: values}
}

// NamespaceLabels returns the labels the API server shows webhooks for a
// namespace: its own labels plus kubernetes.io/metadata.name, which the API
// server always sets to the name. The input is not modified.
func NamespaceLabels(namespace string, nsLabels map[string]string) map[string]string {
	out := make(map[string]string, len(nsLabels)+1)
	for k, v := range nsLabels {
		out[k] = v
	}
	out[KeyNamespaceName] = namespace
	return out
}

// MatchWebhooks returns the webhooks the API server would call for a pod
// with podLabels created in a namespace with nsLabels, in the order given.
// Only labels count: selectors never see annotations. nsLabels are the known
// labels of the namespace (nil: it has none); callers handle namespaces whose
// labels are unknown before calling. Webhooks of two different revisions
// matching is an error wrapping ErrRevisionConflict (the matches are still
// returned); so is a webhook with an invalid selector.
func MatchWebhooks(hooks []Webhook, namespace string, nsLabels, podLabels map[string]string) ([]Webhook, error) {
	compiled, err := compileWebhooks(hooks)
	if err != nil {
		return nil, err
	}
	return matchCompiled(compiled, namespace, nsLabels, podLabels)
}

// compiledWebhook is a webhook with its selectors parsed, once per run
// rather than once per pod.
type compiledWebhook struct {
	hook    Webhook
	ns, obj labels.Selector
}

func compileWebhooks(hooks []Webhook) ([]compiledWebhook, error) {
	out := make([]compiledWebhook, 0, len(hooks))
	for _, h := range hooks {
		nsSel, err := asSelector(h.NamespaceSelector)
		if err != nil {
			return nil, fmt.Errorf("%s: invalid namespaceSelector: %w", hookName(h), err)
		}
		objSel, err := asSelector(h.ObjectSelector)
		if err != nil {
			return nil, fmt.Errorf("%s: invalid objectSelector: %w", hookName(h), err)
		}
		out = append(out, compiledWebhook{hook: h, ns: nsSel, obj: objSel})
	}
	return out, nil
}

func matchCompiled(hooks []compiledWebhook, namespace string, nsLabels, podLabels map[string]string) ([]Webhook, error) {
	nsSet := labels.Set(NamespaceLabels(namespace, nsLabels))
	podSet := labels.Set(podLabels)
	var matched []Webhook
	for _, c := range hooks {
		if c.ns.Matches(nsSet) && c.obj.Matches(podSet) {
			matched = append(matched, c.hook)
		}
	}
	for i := 1; i < len(matched); i++ {
		if matched[i].Revision != matched[0].Revision {
			return matched, fmt.Errorf("%w: %s and %s both select it", ErrRevisionConflict, hookName(matched[0]), hookName(matched[i]))
		}
	}
	return matched, nil
}

// asSelector follows the webhook convention: a nil selector matches all.
func asSelector(s *metav1.LabelSelector) (labels.Selector, error) {
	if s == nil {
		return labels.Everything(), nil
	}
	return metav1.LabelSelectorAsSelector(s)
}

// hookName names a webhook with the revision (and tag) that owns it, and
// the configuration it was read from, if any.
func hookName(h Webhook) string {
	s := fmt.Sprintf("webhook %s of revision %s", h.Name, h.Revision)
	if h.Tag != "" {
		s = fmt.Sprintf("webhook %s of tag %s (revision %s)", h.Name, h.Tag, h.Revision)
	}
	if h.Configuration != "" {
		s += fmt.Sprintf(" in %s %s", KindMutatingWebhookConfiguration, h.Configuration)
	}
	return s
}

// matchReason explains which labels made a webhook select the pod: the
// labels its selectors require to be present.
func matchReason(h Webhook, namespace string, nsLabels, podLabels map[string]string) string {
	who := "webhook " + h.Name
	switch {
	case h.Tag != "":
		who += fmt.Sprintf(" of tag %s (revision %s)", h.Tag, h.Revision)
	case h.Revision != config.DefaultRevision:
		who += " of revision " + h.Revision
	}
	var parts []string
	if keys := requiredKeys(h.NamespaceSelector, KeyNamespaceName); len(keys) > 0 {
		parts = append(parts, fmt.Sprintf("namespace %s: %s", nsDisplay(namespace), pairs(keys, nsLabels)))
	}
	if keys := requiredKeys(h.ObjectSelector); len(keys) > 0 {
		parts = append(parts, "pod label "+pairs(keys, podLabels))
	}
	if len(parts) == 0 {
		parts = append(parts, fmt.Sprintf("namespace %s: no injection labels", nsDisplay(namespace)))
	}
	return who + " selected it (" + strings.Join(parts, "; ") + ")"
}

// requiredKeys lists the keys a selector requires to exist, in order.
func requiredKeys(s *metav1.LabelSelector, skip ...string) []string {
	if s == nil {
		return nil
	}
	var keys []string
	add := func(k string) {
		if !slices.Contains(skip, k) && !slices.Contains(keys, k) {
			keys = append(keys, k)
		}
	}
	mk := make([]string, 0, len(s.MatchLabels))
	for k := range s.MatchLabels {
		mk = append(mk, k)
	}
	sort.Strings(mk)
	for _, k := range mk {
		add(k)
	}
	for _, r := range s.MatchExpressions {
		if r.Operator == metav1.LabelSelectorOpIn || r.Operator == metav1.LabelSelectorOpExists {
			add(r.Key)
		}
	}
	return keys
}

func pairs(keys []string, set map[string]string) string {
	out := make([]string, 0, len(keys))
	for _, k := range keys {
		out = append(out, k+"="+set[k])
	}
	return strings.Join(out, ", ")
}

// injectionLabels summarises the labels that steer injection, for reasons.
func injectionLabels(set map[string]string, keys ...string) string {
	var out []string
	for _, k := range keys {
		if v, ok := set[k]; ok {
			out = append(out, k+"="+v)
		}
	}
	if len(out) == 0 {
		return "no injection labels"
	}
	return strings.Join(out, ", ")
}

// knownRevisionNames are the istio.io/rev values some webhook selects on.
func knownRevisionNames(hooks []Webhook) []string {
	var names []string
	collect := func(s *metav1.LabelSelector) {
		if s == nil {
			return
		}
		if v, ok := s.MatchLabels[KeyRevision]; ok {
			names = append(names, v)
		}
		for _, r := range s.MatchExpressions {
			if r.Key == KeyRevision && r.Operator == metav1.LabelSelectorOpIn {
				names = append(names, r.Values...)
			}
		}
	}
	for _, h := range hooks {
		collect(h.NamespaceSelector)
		collect(h.ObjectSelector)
	}
	return names
}

// noMatchReason explains why no webhook selects the pod, naming the label
// that most plainly prevents it; otherwise it lists the relevant labels.
func noMatchReason(hooks []Webhook, namespace string, nsLabels, podLabels map[string]string) string {
	ns := nsDisplay(namespace)
	if v, ok := podLabels[KeyInject]; ok && v == "false" {
		return fmt.Sprintf("pod label %s=false", KeyInject)
	}
	injection, hasInjection := nsLabels[KeyInjection]
	if hasInjection && injection != "enabled" {
		return fmt.Sprintf("namespace %s: %s=%s", ns, KeyInjection, injection)
	}
	known := knownRevisionNames(hooks)
	nsRev, hasNsRev := nsLabels[KeyRevision]
	if !hasInjection && hasNsRev && !slices.Contains(known, nsRev) {
		return fmt.Sprintf("namespace %s: %s=%s names no installed revision or tag", ns, KeyRevision, nsRev)
	}
	if podRev, ok := podLabels[KeyRevision]; ok && !hasInjection && !hasNsRev && !slices.Contains(known, podRev) {
		return fmt.Sprintf("pod label %s=%s names no installed revision or tag", KeyRevision, podRev)
	}
	reason := fmt.Sprintf("no webhook selects it (namespace %s: %s", ns, injectionLabels(nsLabels, KeyInjection, KeyRevision))
	if pod := injectionLabels(podLabels, KeyInject, KeyRevision); pod != "no injection labels" {
		reason += "; pod label " + pod
	}
	return reason + ")"
}

func nsDisplay(namespace string) string {
	if namespace == "" {
		return `""`
	}
	return namespace
}
