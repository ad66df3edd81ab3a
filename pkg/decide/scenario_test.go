package decide

import (
	"errors"
	"testing"

	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	"github.com/inject-sidecar/inject-sidecar/pkg/config"
)

// The scenario tables cross what decides injection: namespace labels, the
// pod's sidecar.istio.io/inject label and annotation, the pod's
// istio.io/rev label, hostNetwork, system namespaces, each revision's
// policy and never/always selectors, two revisions (default, canary) and
// a tag (prod → canary), and the webhooks of a rendered install.
//
// Each row says in "why" where its outcome comes from, citing
// ../shared/docs/istio-injection.md: "1a <webhook>" is a row of the webhook
// table (rev.namespace[X] and rev.object[X] being the pair that selects on
// istio.io/rev=X); "1b.N" is step N of the injector's rules.

// scenarioNamespaces are the namespaces every scenario knows.
func scenarioNamespaces() map[string]config.Namespace {
	return map[string]config.Namespace{
		"plain":       {},                                     // no labels
		"on":          {Labels: kv(KeyInjection, "enabled")},  // istio-injection=enabled
		"off":         {Labels: kv(KeyInjection, "disabled")}, // istio-injection=disabled
		"revdef":      {Labels: kv(KeyRevision, "default")},   // istio.io/rev=default
		"revcan":      {Labels: kv(KeyRevision, "canary")},    // istio.io/rev=canary (a revision)
		"revprod":     {Labels: kv(KeyRevision, "prod")},      // istio.io/rev=prod (a tag)
		"revnope":     {Labels: kv(KeyRevision, "nope")},      // istio.io/rev naming nothing
		"both":        {Labels: kv(KeyInjection, "enabled", KeyRevision, "canary")},
		"kube-system": {Labels: kv(KeyInjection, "enabled")}, // a system namespace, labelled anyway
		"kube-public": {},                                    // a system namespace, unlabelled
	}
}

// scenarioConfig: revisions default and canary with the given policies,
// both with neverInjectSelector [team=batch] and alwaysInjectSelector
// [app=always], and the tag prod → canary.
func scenarioConfig(defaultPolicy, canaryPolicy string, unknown config.UnknownNamespacePolicy) *config.Config {
	never := []metav1.LabelSelector{sel("team", "batch")}
	always := []metav1.LabelSelector{sel("app", "always")}
	return &config.Config{
		Injectors: map[string]*config.Injector{
			"default": {Revision: "default", Policy: defaultPolicy, NeverInjectSelector: never, AlwaysInjectSelector: always},
			"canary":  {Revision: "canary", Policy: canaryPolicy, NeverInjectSelector: never, AlwaysInjectSelector: always},
		},
		Tags: map[string]string{"prod": "canary"},
		Options: config.Options{
			DefaultNamespace: "on",
			UnknownNamespace: unknown,
			Namespaces:       scenarioNamespaces(),
		},
	}
}

// scenarioDeciders are the configurations the rows name.
func scenarioDeciders(t *testing.T) map[string]*Decider {
	t.Helper()
	out := map[string]*Decider{
		// A: default enabled, canary disabled; unknown namespaces skipped.
		"A": mustNew(t, scenarioConfig(PolicyEnabled, PolicyDisabled, config.UnknownNamespaceSkip)),
		// B: default disabled, canary enabled; unknown namespaces injected.
		"B": mustNew(t, scenarioConfig(PolicyDisabled, PolicyEnabled, config.UnknownNamespaceInject)),
		// C: as A, unknown namespaces are an error.
		"C": mustNew(t, scenarioConfig(PolicyEnabled, PolicyDisabled, config.UnknownNamespaceError)),
	}
	// auto: as A, with sidecarInjectorWebhook.enableNamespacesByDefault.
	auto := scenarioConfig(PolicyEnabled, PolicyDisabled, config.UnknownNamespaceSkip)
	auto.Injectors["default"].Values = map[string]any{"sidecarInjectorWebhook": map[string]any{"enableNamespacesByDefault": true}}
	out["auto"] = mustNew(t, auto)

	// deactivated: as A, with the webhooks of a rendered install where
	// `istioctl tag set default --revision canary` deactivated the default
	// revision's webhooks (testdata/webhooks/deactivated.yaml).
	for name, file := range map[string]string{"deactivated": "deactivated.yaml", "conflict": "conflict.yaml"} {
		set, err := WebhooksIn(readObjects(t, file))
		if err != nil {
			t.Fatal(err)
		}
		cfg := scenarioConfig(PolicyEnabled, PolicyDisabled, config.UnknownNamespaceSkip)
		if name == "conflict" {
			// conflict.yaml has no tag prod.
			cfg.Tags = nil
		}
		d, err := New(cfg, nil, WithWebhooks(set))
		if err != nil {
			t.Fatalf("%s: %v", name, err)
		}
		out[name] = d
	}
	return out
}

type scenario struct {
	cfg         string // key of scenarioDeciders
	ns          string // the workload's metadata.namespace
	labels      map[string]string
	annotations map[string]string
	hostNetwork bool

	inject   bool
	revision string
	reason   string // exact
	warn     string // substring of a warning; "" means none
	err      error  // errors.Is target
	why      string // where the outcome comes from
}

func TestScenarios(t *testing.T) {
	const (
		nsHook     = "webhook namespace.sidecar-injector.istio.io selected it (namespace on: istio-injection=enabled)"
		noHookPlan = "no webhook selects it (namespace plain: no injection labels)"
		labelTrue  = "pod label sidecar.istio.io/inject=true"
		labelFalse = "pod label sidecar.istio.io/inject=false"
		annTrue    = "pod annotation sidecar.istio.io/inject=true"
		annFalse   = "pod annotation sidecar.istio.io/inject=false"
		never      = "neverInjectSelector[0] matched team=batch"
		always     = "alwaysInjectSelector[0] matched app=always"
		invalid    = `Invalid value for sidecar.istio.io/inject`
	)
	inj, rev := KeyInject, KeyRevision
	rows := []scenario{
		// Namespace without labels.
		{cfg: "A", ns: "plain", reason: noHookPlan,
			why: "1a: every webhook needs a namespace label, or a pod label inject=true (object) or istio.io/rev (rev.object)"},
		{cfg: "A", ns: "plain", labels: kv(inj, "true"), inject: true, revision: "default", reason: labelTrue,
			why: "1a object (inject In [true], no istio.io/rev anywhere); 1b.3 label true"},
		{cfg: "A", ns: "plain", labels: kv(inj, "false"), reason: labelFalse,
			why: "1a: every webhook's objectSelector has inject NotIn [false]"},
		{cfg: "A", ns: "plain", labels: kv(inj, "yes"), reason: "no webhook selects it (namespace plain: no injection labels; pod label sidecar.istio.io/inject=yes)",
			why: "1a object needs exactly true; selectors do not fall back like the injector"},
		{cfg: "A", ns: "plain", annotations: kv(inj, "true"), reason: noHookPlan, warn: "selectors see labels only",
			why: "1a: selectors see labels only, so the annotation cannot make the object webhook match"},
		{cfg: "A", ns: "plain", annotations: kv(inj, "false"), reason: noHookPlan,
			why: "1a: no webhook; the annotation is never read"},
		{cfg: "A", ns: "plain", labels: kv(rev, "canary"), revision: "canary", reason: "policy disabled",
			why: "1a rev.object[canary]; 1b.6 canary's policy disabled"},
		{cfg: "A", ns: "plain", labels: kv(rev, "canary", inj, "true"), inject: true, revision: "canary", reason: labelTrue,
			why: "1a rev.object[canary] (object needs istio.io/rev absent); 1b.3 label true beats canary's disabled policy"},
		{cfg: "A", ns: "plain", labels: kv(rev, "canary", inj, "false"), reason: labelFalse,
			why: "1a: rev.object[canary] has inject NotIn [false]"},
		{cfg: "A", ns: "plain", labels: kv(rev, "prod"), revision: "canary", reason: "policy disabled",
			why: "1a rev.object[prod], installed by the tag prod and served by canary; 1b.6 canary disabled"},
		{cfg: "A", ns: "plain", labels: kv(rev, "prod"), annotations: kv(inj, "true"), inject: true, revision: "canary", reason: annTrue,
			why: "1a rev.object[prod]; 1b.3 the injector reads the annotation when there is no label"},
		{cfg: "A", ns: "plain", labels: kv(rev, "default"), inject: true, revision: "default",
			reason: "webhook rev.object.sidecar-injector.istio.io selected it (pod label istio.io/rev=default)",
			why:    "1a rev.object[default]; 1b.6 default's policy enabled"},
		{cfg: "A", ns: "plain", labels: kv(rev, "nope"), reason: "pod label istio.io/rev=nope names no installed revision or tag",
			why: "1a: rev.object exists only for installed revisions and tags; object needs istio.io/rev absent"},
		{cfg: "A", ns: "plain", labels: kv(inj, "true"), hostNetwork: true, revision: "default", reason: "hostNetwork", warn: "host networking",
			why: "1a object; 1b.1 hostNetwork comes before the label"},

		// istio-injection=enabled.
		{cfg: "A", ns: "on", inject: true, revision: "default", reason: nsHook,
			why: "1a namespace; 1b.6 policy enabled"},
		{cfg: "A", ns: "on", labels: kv(inj, "false"), reason: labelFalse,
			why: "1a namespace has inject NotIn [false]"},
		{cfg: "A", ns: "on", annotations: kv(inj, "false"), revision: "default", reason: annFalse,
			why: "1a namespace (annotation unseen); 1b.3 the injector reads the annotation"},
		{cfg: "A", ns: "on", labels: kv(inj, "true"), inject: true, revision: "default", reason: labelTrue,
			why: "1a namespace; 1b.3 label true"},
		{cfg: "A", ns: "on", labels: kv(inj, "yes"), inject: true, revision: "default", reason: nsHook, warn: invalid,
			why: "1a namespace (yes is NotIn [false]); 1b.3 invalid value: warning, defaults; 1b.6 enabled"},
		{cfg: "A", ns: "on", annotations: kv(inj, "True"), inject: true, revision: "default", reason: nsHook, warn: invalid,
			why: "1b.3 only exactly true/false count; 1b.6 enabled"},
		{cfg: "A", ns: "on", labels: kv(inj, "false"), annotations: kv(inj, "true"), reason: labelFalse,
			why: "1a: the label false stops the call; the annotation is never read"},
		{cfg: "A", ns: "on", labels: kv(inj, "true"), annotations: kv(inj, "false"), inject: true, revision: "default", reason: labelTrue, warn: "overrides",
			why: "1b.3 the label wins over the annotation"},
		{cfg: "A", ns: "on", labels: kv("team", "batch"), revision: "default", reason: never,
			why: "1b.4 neverInjectSelector before the policy"},
		{cfg: "A", ns: "on", labels: kv("team", "batch", inj, "true"), inject: true, revision: "default", reason: labelTrue,
			why: "1b.3 an explicit true skips the selectors (defaults only)"},
		{cfg: "A", ns: "on", labels: kv("team", "batch", inj, "yes"), revision: "default", reason: never, warn: invalid,
			why: "1b.3 invalid value falls back to the defaults; 1b.4 never"},
		{cfg: "A", ns: "on", labels: kv("app", "always"), inject: true, revision: "default", reason: always,
			why: "1b.5 alwaysInjectSelector"},
		{cfg: "A", ns: "on", labels: kv("app", "always", "team", "batch"), revision: "default", reason: never,
			why: "1b.4 never comes before 1b.5 always"},
		{cfg: "A", ns: "on", hostNetwork: true, revision: "default", reason: "hostNetwork", warn: "host networking",
			why: "1a namespace; 1b.1 hostNetwork"},
		{cfg: "A", ns: "on", labels: kv(rev, "canary"), inject: true, revision: "default", reason: nsHook,
			why: "1a: istio-injection wins; rev.object[canary] needs istio-injection absent, namespace ignores the pod's istio.io/rev"},
		{cfg: "A", ns: "on", labels: kv(rev, "prod"), inject: true, revision: "default", reason: nsHook,
			why: "1a: as above, for the tag"},

		// istio-injection=disabled.
		{cfg: "A", ns: "off", reason: "namespace off: istio-injection=disabled",
			why: "1a: namespace needs enabled, every other webhook needs istio-injection absent"},
		{cfg: "A", ns: "off", labels: kv(inj, "true"), reason: "namespace off: istio-injection=disabled",
			why: "1a: object needs istio-injection absent"},
		{cfg: "A", ns: "off", labels: kv(rev, "canary"), reason: "namespace off: istio-injection=disabled",
			why: "1a: rev.object[canary] needs istio-injection absent"},

		// istio.io/rev=default.
		{cfg: "A", ns: "revdef", inject: true, revision: "default",
			reason: "webhook rev.namespace.sidecar-injector.istio.io selected it (namespace revdef: istio.io/rev=default)",
			why:    "1a rev.namespace[default]; 1b.6 enabled"},
		{cfg: "A", ns: "revdef", labels: kv(rev, "canary"), inject: true, revision: "default",
			reason: "webhook rev.namespace.sidecar-injector.istio.io selected it (namespace revdef: istio.io/rev=default)",
			why:    "1a: the namespace's revision wins; rev.object[canary] needs istio.io/rev absent on the namespace"},
		{cfg: "A", ns: "revdef", labels: kv(inj, "true"), inject: true, revision: "default", reason: labelTrue,
			why: "1a rev.namespace[default] (object needs no namespace istio.io/rev); 1b.3"},
		{cfg: "A", ns: "revdef", labels: kv(inj, "false"), reason: labelFalse,
			why: "1a: rev.namespace has inject NotIn [false]"},

		// istio.io/rev=canary; canary's policy is disabled in A.
		{cfg: "A", ns: "revcan", revision: "canary", reason: "policy disabled",
			why: "1a rev.namespace[canary]; 1b.6 disabled"},
		{cfg: "A", ns: "revcan", labels: kv(inj, "true"), inject: true, revision: "canary", reason: labelTrue,
			why: "1b.3 true beats a disabled policy"},
		{cfg: "A", ns: "revcan", annotations: kv(inj, "true"), inject: true, revision: "canary", reason: annTrue,
			why: "1b.3 the annotation counts once the webhook is called"},
		{cfg: "A", ns: "revcan", labels: kv("app", "always"), inject: true, revision: "canary", reason: always,
			why: "1b.5 always beats a disabled policy"},
		{cfg: "A", ns: "revcan", labels: kv("app", "always", "team", "batch"), revision: "canary", reason: never,
			why: "1b.4 before 1b.5"},
		{cfg: "A", ns: "revcan", labels: kv("app", "always"), annotations: kv(inj, "false"), revision: "canary", reason: annFalse,
			why: "1b.3 an explicit false skips the selectors"},
		{cfg: "A", ns: "revcan", labels: kv(rev, "default"), revision: "canary", reason: "policy disabled",
			why: "1a: the namespace's revision wins over the pod's"},
		{cfg: "A", ns: "revcan", labels: kv(inj, "true"), hostNetwork: true, revision: "canary", reason: "hostNetwork", warn: "host networking",
			why: "1b.1 before 1b.3"},

		// istio.io/rev=prod, the tag.
		{cfg: "A", ns: "revprod", revision: "canary", reason: "policy disabled",
			why: "1a rev.namespace[prod] of the tag, served by canary; 1b.6 canary disabled"},
		{cfg: "A", ns: "revprod", labels: kv(inj, "true"), inject: true, revision: "canary", reason: labelTrue,
			why: "1a rev.namespace[prod]; 1b.3"},
		{cfg: "A", ns: "revprod", labels: kv("app", "always"), inject: true, revision: "canary", reason: always,
			why: "1a rev.namespace[prod]; 1b.5 with canary's selectors"},

		// istio.io/rev naming nothing installed.
		{cfg: "A", ns: "revnope", reason: "namespace revnope: istio.io/rev=nope names no installed revision or tag",
			why: "1a: no rev.namespace for nope; object, rev.object need istio.io/rev absent on the namespace"},
		{cfg: "A", ns: "revnope", labels: kv(rev, "canary"), reason: "namespace revnope: istio.io/rev=nope names no installed revision or tag",
			why: "1a: rev.object[canary] needs istio.io/rev absent on the namespace"},
		{cfg: "A", ns: "revnope", labels: kv(inj, "true"), reason: "namespace revnope: istio.io/rev=nope names no installed revision or tag",
			why: "1a: object needs istio.io/rev absent on the namespace"},

		// Both namespace labels.
		{cfg: "A", ns: "both", inject: true, revision: "default",
			reason: "webhook namespace.sidecar-injector.istio.io selected it (namespace both: istio-injection=enabled)",
			why:    "1a: istio-injection wins over istio.io/rev (rev.namespace needs istio-injection absent)"},
		{cfg: "A", ns: "both", labels: kv(rev, "canary"), inject: true, revision: "default",
			reason: "webhook namespace.sidecar-injector.istio.io selected it (namespace both: istio-injection=enabled)",
			why:    "1a: as above; rev.object[canary] needs istio-injection absent"},

		// System namespaces.
		{cfg: "A", ns: "kube-system", revision: "default", reason: "namespace kube-system is never injected",
			why: "1a namespace (the label is there); 1b.2 kube-system is never injected"},
		{cfg: "A", ns: "kube-system", labels: kv(inj, "true"), revision: "default", reason: "namespace kube-system is never injected",
			why: "1b.2 comes before the label"},
		{cfg: "A", ns: "kube-public", labels: kv(inj, "true"), revision: "default", reason: "namespace kube-public is never injected",
			why: "1a object; 1b.2"},
		{cfg: "A", ns: "kube-system", hostNetwork: true, revision: "default", reason: "hostNetwork", warn: "host networking",
			why: "1b.1 before 1b.2"},

		// No metadata.namespace: the configured default namespace (on).
		{cfg: "A", ns: "", inject: true, revision: "default", reason: nsHook,
			why: "Options.DefaultNamespace=on; 1a namespace; 1b.6"},

		// B: default disabled, canary enabled.
		{cfg: "B", ns: "on", revision: "default", reason: "policy disabled",
			why: "1a namespace (default's); 1b.6 default disabled"},
		{cfg: "B", ns: "on", labels: kv(inj, "true"), inject: true, revision: "default", reason: labelTrue,
			why: "1b.3 true beats a disabled policy"},
		{cfg: "B", ns: "on", labels: kv("app", "always"), inject: true, revision: "default", reason: always,
			why: "1b.5 always beats a disabled policy"},
		{cfg: "B", ns: "revcan", inject: true, revision: "canary",
			reason: "webhook rev.namespace.sidecar-injector.istio.io of revision canary selected it (namespace revcan: istio.io/rev=canary)",
			why:    "1a rev.namespace[canary]; 1b.6 canary enabled"},
		{cfg: "B", ns: "revprod", inject: true, revision: "canary",
			reason: "webhook rev.namespace.sidecar-injector.istio.io of tag prod (revision canary) selected it (namespace revprod: istio.io/rev=prod)",
			why:    "1a rev.namespace[prod] of the tag; 1b.6 canary enabled"},
		{cfg: "B", ns: "revcan", labels: kv("team", "batch"), revision: "canary", reason: never,
			why: "1b.4 canary's never selector"},
		{cfg: "B", ns: "plain", labels: kv(rev, "prod"), inject: true, revision: "canary",
			reason: "webhook rev.object.sidecar-injector.istio.io of tag prod (revision canary) selected it (pod label istio.io/rev=prod)",
			why:    "1a rev.object[prod]; 1b.6 canary enabled"},

		// Unknown namespaces: the configured policy.
		{cfg: "A", ns: "ghost", labels: kv(inj, "true"), reason: "namespace ghost unknown: skipped (unknownNamespace=skip)",
			why: "unknownNamespace=skip: labels unknown, no webhook can be evaluated"},
		{cfg: "B", ns: "ghost", revision: "default", reason: "policy disabled; namespace ghost unknown: revision default assumed (unknownNamespace=inject)",
			why: "unknownNamespace=inject: the configured revision's rules (1b) as if its webhook was called; 1b.6 default disabled"},
		{cfg: "B", ns: "ghost", labels: kv(inj, "true"), inject: true, revision: "default",
			reason: "pod label sidecar.istio.io/inject=true; namespace ghost unknown: revision default assumed (unknownNamespace=inject)",
			why:    "unknownNamespace=inject; 1b.3"},
		{cfg: "B", ns: "kube-node-lease", revision: "default",
			reason: "namespace kube-node-lease is never injected; namespace kube-node-lease unknown: revision default assumed (unknownNamespace=inject)",
			why:    "unknownNamespace=inject; 1b.2 still applies"},
		{cfg: "C", ns: "ghost", reason: "namespace ghost unknown (unknownNamespace=error)", err: ErrUnknownNamespace,
			why: "unknownNamespace=error"},
		{cfg: "C", ns: "on", inject: true, revision: "default", reason: nsHook,
			why: "unknownNamespace=error concerns unknown namespaces only"},

		// enableNamespacesByDefault: the auto webhook.
		{cfg: "auto", ns: "plain", inject: true, revision: "default",
			reason: "webhook auto.sidecar-injector.istio.io selected it (namespace plain: no injection labels)",
			why:    "1a auto: no namespace labels, no pod inject/istio.io/rev labels; 1b.6"},
		{cfg: "auto", ns: "plain", annotations: kv(inj, "false"), revision: "default", reason: annFalse,
			why: "1a auto (the annotation is not a label); 1b.3 false"},
		{cfg: "auto", ns: "kube-public", reason: "no webhook selects it (namespace kube-public: no injection labels)",
			why: "1a auto excludes the system namespaces by kubernetes.io/metadata.name"},
		{cfg: "auto", ns: "plain", labels: kv(inj, "yes"), reason: "no webhook selects it (namespace plain: no injection labels; pod label sidecar.istio.io/inject=yes)",
			why: "1a auto needs the inject label absent, object needs true"},
		{cfg: "auto", ns: "plain", labels: kv(rev, "canary"), revision: "canary", reason: "policy disabled",
			why: "1a auto needs istio.io/rev absent; rev.object[canary]; 1b.6 canary disabled"},

		// Webhooks of a rendered install where the default revision is
		// deactivated and the tag default is served by canary.
		{cfg: "deactivated", ns: "on", revision: "canary", reason: "policy disabled",
			why: "1a namespace of the tag default (canary); the default revision's webhooks never match; 1b.6 canary disabled"},
		{cfg: "deactivated", ns: "on", labels: kv(inj, "true"), inject: true, revision: "canary", reason: labelTrue,
			why: "as above; 1b.3"},
		{cfg: "deactivated", ns: "revdef", labels: kv("app", "always"), inject: true, revision: "canary", reason: always,
			why: "1a rev.namespace[default] of the tag default (canary); 1b.5 canary's selector"},
		{cfg: "deactivated", ns: "plain", labels: kv(rev, "prod"), annotations: kv(inj, "true"), inject: true, revision: "canary", reason: annTrue,
			why: "1a rev.object[prod] of the tag prod; 1b.3"},
		{cfg: "deactivated", ns: "plain", reason: "no webhook selects it (namespace plain: no injection labels)",
			why: "1a: no webhook without labels"},

		// Two revisions' webhooks selecting one pod.
		{cfg: "conflict", ns: "on", reason: "webhooks of revisions canary and default select it", err: ErrRevisionConflict,
			why: "1a namespace of the default revision and of the tag default (canary): the cluster would inject twice"},
		{cfg: "conflict", ns: "plain", labels: kv(inj, "true"), reason: "webhooks of revisions canary and default select it", err: ErrRevisionConflict,
			why: "1a object of both"},
		{cfg: "conflict", ns: "plain", labels: kv(inj, "false"), reason: labelFalse,
			why: "1a: no webhook of either is called, so no conflict"},
	}

	deciders := scenarioDeciders(t)
	for _, r := range rows {
		name := r.cfg + "/" + nsDisplay(r.ns) + "/" + r.why
		t.Run(name, func(t *testing.T) {
			d := deciders[r.cfg]
			got := d.Decide(Pod{Kind: "Deployment", Name: "app", Namespace: r.ns, Labels: r.labels, Annotations: r.annotations, HostNetwork: r.hostNetwork})
			t.Logf("why: %s", r.why)
			checkDecision(t, got, r.inject, r.reason, r.warn, r.err != nil)
			if got.Reason != r.reason {
				t.Errorf("Reason = %q, want exactly %q", got.Reason, r.reason)
			}
			if got.Revision != r.revision {
				t.Errorf("Revision = %q, want %q", got.Revision, r.revision)
			}
			if r.err != nil && !errors.Is(got.Err, r.err) {
				t.Errorf("Err = %v, want %v", got.Err, r.err)
			}
			wantNs, defaulted := r.ns, false
			if wantNs == "" {
				wantNs, defaulted = "on", true
			}
			if got.Namespace != wantNs || got.NamespaceDefaulted != defaulted {
				t.Errorf("Namespace = %q (defaulted %v), want %q (%v)", got.Namespace, got.NamespaceDefaulted, wantNs, defaulted)
			}
		})
	}
}

// TestScenarioCrossProduct crosses every dimension of the scenarios and
// compares Inject and Revision with a model written directly from the
// prose of sections 1a and 1b as plain conditions, without label
// selectors, so that a mistake in the selector table or in the order of
// the rules shows up as a disagreement.
func TestScenarioCrossProduct(t *testing.T) {
	type opt struct {
		set bool
		v   string
	}
	absent := opt{}
	val := func(v string) opt { return opt{true, v} }
	injLabels := []opt{absent, val("true"), val("false"), val("yes"), val("")}
	injAnnotations := []opt{absent, val("true"), val("false"), val("yes")}
	podRevs := []opt{absent, val("default"), val("canary"), val("prod"), val("nope")}
	selectorLabels := [][]string{nil, {"team", "batch"}, {"app", "always"}, {"team", "batch", "app", "always"}}
	policies := [][2]string{{PolicyEnabled, PolicyEnabled}, {PolicyEnabled, PolicyDisabled}, {PolicyDisabled, PolicyEnabled}, {PolicyDisabled, PolicyDisabled}}
	namespaces := scenarioNamespaces()

	checked := 0
	for _, auto := range []bool{false, true} {
		for _, pol := range policies {
			cfg := scenarioConfig(pol[0], pol[1], config.UnknownNamespaceSkip)
			if auto {
				cfg.Injectors["default"].Values = map[string]any{"sidecarInjectorWebhook": map[string]any{"enableNamespacesByDefault": true}}
			}
			d := mustNew(t, cfg)
			policy := map[string]string{"default": pol[0], "canary": pol[1]}
			for nsName, ns := range namespaces {
				for _, il := range injLabels {
					for _, ia := range injAnnotations {
						for _, pr := range podRevs {
							for _, extra := range selectorLabels {
								for _, hostNet := range []bool{false, true} {
									labels := kv(extra...)
									if il.set {
										labels[KeyInject] = il.v
									}
									if pr.set {
										labels[KeyRevision] = pr.v
									}
									annotations := map[string]string{}
									if ia.set {
										annotations[KeyInject] = ia.v
									}

									// 1a, from the table: which revisions' webhooks are called.
									nsInj, hasNsInj := ns.Labels[KeyInjection]
									nsRev, hasNsRev := ns.Labels[KeyRevision]
									notFalse := !(il.set && il.v == "false")
									called := map[string]bool{}
									for name, served := range map[string]string{"default": "default", "canary": "canary", "prod": "canary"} {
										if hasNsRev && nsRev == name && !hasNsInj && notFalse {
											called[served] = true // rev.namespace[name]
										}
										if !hasNsRev && !hasNsInj && notFalse && pr.set && pr.v == name {
											called[served] = true // rev.object[name]
										}
									}
									if hasNsInj && nsInj == "enabled" && notFalse {
										called["default"] = true // namespace
									}
									if !hasNsInj && !hasNsRev && il.set && il.v == "true" && !pr.set {
										called["default"] = true // object
									}
									system := nsName == "kube-system" || nsName == "kube-public"
									if auto && !hasNsInj && !hasNsRev && !system && !il.set && !pr.set {
										called["default"] = true // auto
									}
									if len(called) > 1 {
										t.Fatalf("the model finds a conflict the built-in table cannot have: %v", called)
									}

									// 1b, in order, for the called revision.
									wantRev, wantInject := "", false
									for r := range called {
										wantRev = r
									}
									if wantRev != "" {
										value, hasValue := il.v, il.set
										if !hasValue {
											value, hasValue = ia.v, ia.set
										}
										team := labels["team"] == "batch"
										app := labels["app"] == "always"
										switch {
										case hostNet: // 1b.1
										case system: // 1b.2
										case hasValue && value == "true": // 1b.3
											wantInject = true
										case hasValue && value == "false": // 1b.3
										case team: // 1b.4
										case app: // 1b.5
											wantInject = true
										default: // 1b.6
											wantInject = policy[wantRev] == PolicyEnabled
										}
									}

									got := d.Decide(Pod{Namespace: nsName, Labels: labels, Annotations: annotations, HostNetwork: hostNet})
									if got.Inject != wantInject || got.Revision != wantRev || got.Err != nil {
										t.Errorf("auto=%v policies=%v namespace %s labels %v annotations %v hostNetwork=%v:\n got inject=%v revision=%q err=%v (%s)\nwant inject=%v revision=%q",
											auto, pol, nsName, labels, annotations, hostNet, got.Inject, got.Revision, got.Err, got.Reason, wantInject, wantRev)
									}
									checked++
								}
							}
						}
					}
				}
			}
		}
	}
	if want := 2 * len(policies) * len(namespaces) * len(injLabels) * len(injAnnotations) * len(podRevs) * len(selectorLabels) * 2; checked != want {
		t.Fatalf("checked %d combinations, want %d", checked, want)
	}
}
