// Package decide says whether a pod template is injected, by which
// revision, and why. It reproduces the two layers that decide in a cluster:
// the API server calling an injection webhook only when the webhook's
// namespace and object selectors match (MatchWebhooks; the webhooks are the
// chart's, BuiltinWebhooks, or those of a rendered install, WebhooksIn), and
// the injector's own rules once called (InjectorRules). A Decider combines
// them according to the run's options, or reproduces istioctl kube-inject.
package decide

import (
	"errors"
	"fmt"
	"maps"
	"slices"
	"sort"

	"github.com/inject-sidecar/inject-sidecar/pkg/config"
)

// Pod is what the decision reads of a pod template (PodOf builds it).
type Pod struct {
	// Kind and Name identify the workload; the decision does not read them.
	Kind, Name string
	// Namespace is the workload's metadata.namespace, "" when it has none
	// (Options.DefaultNamespace then applies). The webhook mode uses it.
	Namespace string
	// TemplateNamespace is the pod template's own metadata.namespace,
	// usually "" (for a bare Pod, its namespace). The kube-inject mode uses
	// it, since istioctl kube-inject checks the ignored namespaces there.
	TemplateNamespace string
	// displayNamespace names the workload in messages when the decision
	// checks another namespace (kube-inject mode).
	displayNamespace string
	// Labels and Annotations are the pod template's.
	Labels, Annotations map[string]string
	HostNetwork         bool
}

// Decision is the outcome for one pod template.
type Decision struct {
	Inject bool
	// Namespace the workload is created in: its metadata.namespace, else
	// Options.DefaultNamespace, in which case NamespaceDefaulted is set.
	Namespace          string
	NamespaceDefaulted bool
	// Revision whose injector configuration renders the pod. Also set when
	// the pod is not injected but a revision's rules decided so; empty when
	// no revision was involved (no webhook selects the pod, skipped).
	Revision string
	// Reason is one short, stable, human reason.
	Reason   string
	Warnings []string
	// Err is set for an invalid policy, webhooks of two revisions selecting
	// the pod, or an unknown namespace under unknownNamespace=error. Inject
	// is then false. Errors wrap ErrInvalidPolicy, ErrRevisionConflict or
	// ErrUnknownNamespace.
	Err error
}

// Decider holds what a run decides with, built once from the config. It is
// read-only after New and safe for concurrent use.
type Decider struct {
	mode             config.DecisionMode
	unknown          config.UnknownNamespacePolicy
	defaultNamespace string
	// revision is Options.Revision (or the default) resolved through tags;
	// empty when it names nothing and no mode needs it.
	revision   string
	namespaces map[string]map[string]string
	webhooks   []Webhook
	compiled   []compiledWebhook
	// tags are the configuration's tags and those of the input's webhooks.
	tags map[string]string
	// fromInput is set when webhooks come from the input's
	// MutatingWebhookConfigurations rather than the built-in table.
	fromInput bool
	rules     map[string]*ruleSet
	// kubeInject is the configured revision's rules as kube-inject applies
	// them: policy enabled, no selectors.
	kubeInject *ruleSet
	warnings   []string
}

// Option adds to what New reads besides the configuration.
type Option func(*newOptions)

type newOptions struct {
	input WebhookSet
}

// WithWebhooks gives New the webhooks of the input's
// MutatingWebhookConfigurations (see WebhooksIn). When the set has any
// configuration, its webhooks replace the built-in table entirely and the
// revision tags they carry join the configuration's; its warnings join
// Warnings either way.
func WithWebhooks(set WebhookSet) Option {
	return func(o *newOptions) { o.input = set }
}

// New builds a Decider from the configuration and the Namespace objects of
// the input (by name; they take precedence over Options.Namespaces, with a
// warning when the two disagree). It fails on a configuration that cannot
// decide at all: no injector, a tag naming no revision or named like
// another revision, a tag that the configuration and the webhooks map to
// different revisions, an unknown decision mode or unknown-namespace
// policy, or a configured revision that names nothing. An empty
// Options.UnknownNamespace is treated as "error", so that a run never
// guesses silently.
func New(cfg *config.Config, namespaces map[string]config.Namespace, options ...Option) (*Decider, error) {
	var opt newOptions
	for _, o := range options {
		if o != nil {
			o(&opt)
		}
	}
	if cfg == nil {
		return nil, errors.New("decide: no configuration")
	}
	if len(cfg.Injectors) == 0 {
		return nil, errors.New("decide: no injector configuration")
	}
	d := &Decider{
		mode:             cfg.Options.DecisionMode,
		unknown:          cfg.Options.UnknownNamespace,
		defaultNamespace: cfg.Options.DefaultNamespace,
		namespaces:       make(map[string]map[string]string, len(cfg.Options.Namespaces)),
		rules:            make(map[string]*ruleSet, len(cfg.Injectors)),
		tags:             maps.Clone(cfg.Tags),
	}
	if d.tags == nil {
		d.tags = map[string]string{}
	}
	switch d.mode {
	case "":
		d.mode = config.DecideLikeWebhook
	case config.DecideLikeWebhook, config.DecideLikeKubeInject:
	default:
		return nil, fmt.Errorf("decide: unknown decision mode %q: use %q or %q", d.mode, config.DecideLikeWebhook, config.DecideLikeKubeInject)
	}
	switch d.unknown {
	case "":
		d.unknown = config.UnknownNamespaceError
	case config.UnknownNamespaceInject, config.UnknownNamespaceSkip, config.UnknownNamespaceError:
	default:
		return nil, fmt.Errorf("decide: unknown unknownNamespace policy %q: use %q, %q or %q",
			d.unknown, config.UnknownNamespaceInject, config.UnknownNamespaceSkip, config.UnknownNamespaceError)
	}

	revisions := slices.Sorted(maps.Keys(cfg.Injectors))
	for _, rev := range revisions {
		inj := cfg.Injectors[rev]
		if rev == "" || inj == nil {
			return nil, fmt.Errorf("decide: injector %q: empty revision name or no configuration", rev)
		}
		rs, warnings := compileRules(rev, inj)
		d.rules[rev] = rs
		for _, w := range warnings {
			d.warnings = append(d.warnings, fmt.Sprintf("revision %s: %s", rev, w))
		}
	}
	tagNames := slices.Sorted(maps.Keys(cfg.Tags))
	for _, tag := range tagNames {
		target := cfg.Tags[tag]
		switch {
		case tag == "":
			return nil, errors.New("decide: empty revision tag name")
		case d.rules[target] == nil:
			return nil, fmt.Errorf("decide: tag %s points at revision %q, which has no injector configuration", tag, target)
		case tag != config.DefaultRevision && d.rules[tag] != nil:
			// Istio refuses this too: both would select istio.io/rev=<tag>.
			return nil, fmt.Errorf("decide: tag %s has the name of a revision", tag)
		}
	}
	d.fromInput = len(opt.input.Configurations) > 0
	d.warnings = append(d.warnings, opt.input.Warnings...)
	if d.fromInput {
		if err := d.useInputWebhooks(cfg, opt.input); err != nil {
			return nil, err
		}
	}

	rev := cfg.Options.Revision
	if rev == "" {
		rev = config.DefaultRevision
	}
	d.revision = resolveRevision(rev, d.tags, d.rules)
	needed := d.mode == config.DecideLikeKubeInject || d.unknown == config.UnknownNamespaceInject
	if d.revision == "" && (needed || cfg.Options.Revision != "") {
		if target, ok := d.tags[rev]; ok {
			return nil, fmt.Errorf("decide: revision %q is a tag of revision %q, which has no injector configuration", rev, target)
		}
		return nil, fmt.Errorf("decide: revision %q names neither a revision nor a tag (have %v)", rev, revisions)
	}
	if d.revision != "" {
		d.kubeInject = &ruleSet{revision: d.revision, policy: PolicyEnabled}
	}

	for name, ns := range cfg.Options.Namespaces {
		d.namespaces[name] = maps.Clone(ns.Labels)
	}
	for _, name := range slices.Sorted(maps.Keys(namespaces)) {
		labels := namespaces[name].Labels
		if cfgNs, ok := cfg.Options.Namespaces[name]; ok && !maps.Equal(cfgNs.Labels, labels) {
			d.warnings = append(d.warnings, fmt.Sprintf(
				"namespace %s: the labels of its Namespace object are used, not those in the configuration", name))
		}
		d.namespaces[name] = maps.Clone(labels)
	}

	if !d.fromInput {
		d.webhooks = d.builtinWebhooks(cfg, revisions)
	}
	var err error
	if d.compiled, err = compileWebhooks(d.webhooks); err != nil {
		return nil, fmt.Errorf("decide: %w", err)
	}
	return d, nil
}

// builtinWebhooks is the table of Istio's chart for the configuration.
func (d *Decider) builtinWebhooks(cfg *config.Config, revisions []string) []Webhook {
	// The auto webhook belongs to whoever installs the default set.
	defaultServer := config.DefaultRevision
	if t, ok := cfg.Tags[config.DefaultRevision]; ok {
		defaultServer = t
	}
	auto := false
	if inj := cfg.Injectors[defaultServer]; inj != nil {
		auto = enableNamespacesByDefault(inj.Values)
	}
	return BuiltinWebhooks(revisions, cfg.Tags, auto)
}

// useInputWebhooks takes the input's webhooks in place of the built-in
// table, and the tags they carry: a tag webhook (label istio.io/tag) maps
// its tag to the revision that serves it (label istio.io/rev).
func (d *Decider) useInputWebhooks(cfg *config.Config, set WebhookSet) error {
	d.webhooks = slices.Clone(set.Webhooks)
	seenTag := map[string]Webhook{}
	seenRevision := map[string]bool{}
	for _, h := range d.webhooks {
		seenRevision[h.Revision] = true
		if h.Tag == "" {
			continue
		}
		if prev, ok := seenTag[h.Tag]; ok && prev.Revision != h.Revision {
			return fmt.Errorf("decide: tag %s: %s says revision %s, %s says revision %s",
				h.Tag, configurationName(prev), prev.Revision, configurationName(h), h.Revision)
		}
		seenTag[h.Tag] = h
		if want, ok := cfg.Tags[h.Tag]; ok && want != h.Revision {
			return fmt.Errorf("decide: tag %s: the configuration maps it to revision %s, but %s to revision %s",
				h.Tag, want, configurationName(h), h.Revision)
		}
		if h.Tag != config.DefaultRevision && d.rules[h.Tag] != nil {
			return fmt.Errorf("decide: tag %s of %s has the name of a revision", h.Tag, configurationName(h))
		}
		d.tags[h.Tag] = h.Revision
	}
	for _, tag := range slices.Sorted(maps.Keys(cfg.Tags)) {
		if _, ok := seenTag[tag]; !ok {
			d.warnings = append(d.warnings, fmt.Sprintf(
				"tag %s of the configuration has no webhook among the input's MutatingWebhookConfigurations, so no pod selects it", tag))
		}
	}
	for _, rev := range slices.Sorted(maps.Keys(seenRevision)) {
		if d.rules[rev] == nil {
			d.warnings = append(d.warnings, fmt.Sprintf(
				"revision %s serves webhooks of the input but has no injector configuration; pods they select fail", rev))
		}
	}
	for _, rev := range slices.Sorted(maps.Keys(d.rules)) {
		if !seenRevision[rev] {
			d.warnings = append(d.warnings, fmt.Sprintf(
				"revision %s has an injector configuration but no webhook among the input's MutatingWebhookConfigurations, so no pod selects it", rev))
		}
	}
	return nil
}

func configurationName(h Webhook) string {
	return fmt.Sprintf("%s %s", KindMutatingWebhookConfiguration, h.Configuration)
}

// resolveRevision maps a revision or tag name to the revision that serves
// it; a tag wins, since the "default" tag displaces the default revision.
// It returns "" when that revision has no rules.
func resolveRevision(name string, tags map[string]string, rules map[string]*ruleSet) string {
	if t, ok := tags[name]; ok {
		if rules[t] == nil {
			return ""
		}
		return t
	}
	if rules[name] != nil {
		return name
	}
	return ""
}

// enableNamespacesByDefault reads sidecarInjectorWebhook.enableNamespacesByDefault
// from the injector's values, accepting a bool or the string "true".
func enableNamespacesByDefault(values map[string]any) bool {
	sw, _ := values["sidecarInjectorWebhook"].(map[string]any)
	switch v := sw["enableNamespacesByDefault"].(type) {
	case bool:
		return v
	case string:
		return v == "true"
	}
	return false
}

// Warnings are configuration problems New found (selectors that never
// match, a namespace whose labels the configuration and the input give
// differently), to report once rather than per pod.
func (d *Decider) Warnings() []string {
	if d == nil {
		return nil
	}
	return slices.Clone(d.warnings)
}

// Webhooks returns the webhooks the Decider evaluates in webhook mode.
func (d *Decider) Webhooks() []Webhook {
	if d == nil {
		return nil
	}
	return slices.Clone(d.webhooks)
}

// WebhooksFromInput reports whether the webhooks are those of the input's
// MutatingWebhookConfigurations rather than the built-in table.
func (d *Decider) WebhooksFromInput() bool {
	return d != nil && d.fromInput
}

// Tags returns the revision tags the Decider knows (tag → revision): the
// configuration's and, with the input's webhooks, theirs.
func (d *Decider) Tags() map[string]string {
	if d == nil {
		return nil
	}
	return maps.Clone(d.tags)
}

// Decide decides for one pod template.
//
// Webhook mode: a pod without a namespace gets Options.DefaultNamespace. When
// the namespace's labels are known, the API server's selection (webhooks)
// comes first, then the selected revision's injector rules. When they are
// not, Options.UnknownNamespace decides: inject applies the configured
// revision's rules as if its webhook had been called, skip does not inject,
// error fails; the reason says which.
//
// Kube-inject mode: the configured revision's rules with policy enabled and
// no selectors; hostNetwork still applies, and the ignored namespaces are
// checked against p.TemplateNamespace, as istioctl kube-inject does (so a
// Deployment in kube-system is injected).
func (d *Decider) Decide(p Pod) Decision {
	if d == nil {
		return fail(Decision{Reason: "no decider"}, errors.New("no decider"))
	}
	ns, defaulted := p.Namespace, false
	if ns == "" && d.defaultNamespace != "" {
		ns, defaulted = d.defaultNamespace, true
	}
	dec := d.decide(p)
	dec.Namespace, dec.NamespaceDefaulted = ns, defaulted
	return dec
}

func (d *Decider) decide(p Pod) Decision {
	if d.mode == config.DecideLikeKubeInject {
		p.displayNamespace, p.Namespace = p.Namespace, p.TemplateNamespace
		dec, byPolicy := d.kubeInject.decide(p)
		if byPolicy {
			dec.Reason = "kube-inject mode: policy enabled"
		}
		return dec
	}

	if p.Namespace == "" {
		p.Namespace = d.defaultNamespace
	}
	nsLabels, known := d.namespaces[p.Namespace]
	if !known || p.Namespace == "" {
		return d.decideUnknown(p)
	}

	matched, err := matchCompiled(d.compiled, p.Namespace, nsLabels, p.Labels)
	if err != nil {
		return fail(Decision{Reason: "webhooks of " + revisionList(matched) + " select it"}, err)
	}
	if len(matched) == 0 {
		dec := Decision{Reason: noMatchReason(d.webhooks, p.Namespace, nsLabels, p.Labels)}
		if _, ok := p.Labels[KeyInject]; !ok && p.Annotations[KeyInject] == "true" {
			dec.Warnings = append(dec.Warnings, fmt.Sprintf(
				"pod annotation %s=true does not make a webhook select the pod (selectors see labels only); use the label %s=true",
				KeyInject, KeyInject))
		}
		return dec
	}
	hook := matched[0]
	rs := d.rules[hook.Revision]
	if rs == nil {
		// Only reachable with hand-made webhooks; New checks its own.
		return fail(Decision{Reason: "revision " + hook.Revision + " has no injector configuration"},
			fmt.Errorf("%s: revision has no injector configuration", hookName(hook)))
	}
	dec, byPolicy := rs.decide(p)
	if byPolicy && dec.Inject {
		dec.Reason = matchReason(hook, p.Namespace, nsLabels, p.Labels)
	}
	return dec
}

// decideUnknown applies Options.UnknownNamespace to a namespace whose labels
// are unknown.
func (d *Decider) decideUnknown(p Pod) Decision {
	ns := nsDisplay(p.Namespace)
	switch d.unknown {
	case config.UnknownNamespaceSkip:
		return Decision{Reason: fmt.Sprintf("namespace %s unknown: skipped (unknownNamespace=skip)", ns)}
	case config.UnknownNamespaceInject:
		dec, _ := d.rules[d.revision].decide(p)
		dec.Reason += fmt.Sprintf("; namespace %s unknown: revision %s assumed (unknownNamespace=inject)", ns, d.revision)
		return dec
	default:
		return fail(Decision{Reason: fmt.Sprintf("namespace %s unknown (unknownNamespace=error)", ns)},
			fmt.Errorf("%w: namespace %s: add its Namespace object to the input or the configuration, or set unknownNamespace to inject or skip",
				ErrUnknownNamespace, ns))
	}
}

// fail records err on a not-injected decision. Errors do not name the
// workload: callers do, and know more of it (file, List position).
func fail(dec Decision, err error) Decision {
	dec.Inject = false
	dec.Err = err
	return dec
}

func revisionList(hooks []Webhook) string {
	var revs []string
	for _, h := range hooks {
		if !slices.Contains(revs, h.Revision) {
			revs = append(revs, h.Revision)
		}
	}
	sort.Strings(revs)
	s := "revisions"
	for i, r := range revs {
		switch {
		case i == 0:
			s += " " + r
		case i == len(revs)-1:
			s += " and " + r
		default:
			s += ", " + r
		}
	}
	return s
}
