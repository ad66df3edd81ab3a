package decide

import (
	"errors"
	"reflect"
	"slices"
	"strings"
	"sync"
	"testing"

	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	"github.com/inject-sidecar/inject-sidecar/pkg/config"
	"github.com/inject-sidecar/inject-sidecar/pkg/podtemplate"
)

// testConfig: revisions default and canary, tag prod → canary, and a few
// namespaces whose labels are known.
func testConfig(defaultPolicy, canaryPolicy string, opts config.Options) *config.Config {
	if opts.Namespaces == nil {
		opts.Namespaces = map[string]config.Namespace{
			"demo":        {},
			"enabled":     {Labels: kv("istio-injection", "enabled")},
			"off":         {Labels: kv("istio-injection", "disabled")},
			"canary-ns":   {Labels: kv("istio.io/rev", "canary")},
			"prod-ns":     {Labels: kv("istio.io/rev", "prod")},
			"nope-ns":     {Labels: kv("istio.io/rev", "nope")},
			"kube-system": {},
		}
	}
	return &config.Config{
		Injectors: map[string]*config.Injector{
			"default": {Revision: "default", Policy: defaultPolicy, NeverInjectSelector: []metav1.LabelSelector{sel("team", "batch")}},
			"canary":  {Revision: "canary", Policy: canaryPolicy, AlwaysInjectSelector: []metav1.LabelSelector{sel("app", "always")}},
		},
		Tags:    map[string]string{"prod": "canary"},
		Options: opts,
	}
}

type decideCase struct {
	name              string
	namespace         string // the workload's
	templateNamespace string // the pod template's own
	labels            map[string]string
	annotations       map[string]string
	hostNetwork       bool

	inject   bool
	revision string
	reason   string // exact: reasons are shown to users and must stay stable
	warn     string // substring of a warning; "" means none
	err      error  // errors.Is target; nil means no error
}

func runDecideCases(t *testing.T, d *Decider, tests []decideCase) {
	t.Helper()
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got := d.Decide(Pod{Kind: "Deployment", Name: "web", Namespace: tt.namespace, TemplateNamespace: tt.templateNamespace, Labels: tt.labels, Annotations: tt.annotations, HostNetwork: tt.hostNetwork})
			checkDecision(t, got, tt.inject, tt.reason, tt.warn, tt.err != nil)
			if got.Reason != tt.reason {
				t.Errorf("Reason = %q, want exactly %q", got.Reason, tt.reason)
			}
			if got.Revision != tt.revision {
				t.Errorf("Revision = %q, want %q", got.Revision, tt.revision)
			}
			if tt.err != nil && !errors.Is(got.Err, tt.err) {
				t.Errorf("Err = %v, want %v", got.Err, tt.err)
			}
		})
	}
}

func mustNew(t *testing.T, cfg *config.Config) *Decider {
	t.Helper()
	d, err := New(cfg, nil)
	if err != nil {
		t.Fatalf("New: %v", err)
	}
	return d
}

// TestDecideWebhook: known namespaces, the webhooks (1a) then the selected
// revision's rules (1b).
func TestDecideWebhook(t *testing.T) {
	d := mustNew(t, testConfig("enabled", "enabled", config.Options{DefaultNamespace: "enabled", UnknownNamespace: config.UnknownNamespaceError}))
	runDecideCases(t, d, []decideCase{
		{name: "namespace enabled", namespace: "enabled", inject: true, revision: "default",
			reason: "webhook namespace.sidecar-injector.istio.io selected it (namespace enabled: istio-injection=enabled)"},
		{name: "namespace enabled, never selector", namespace: "enabled", labels: kv("team", "batch"), revision: "default",
			reason: "neverInjectSelector[0] matched team=batch"},
		{name: "namespace enabled, hostNetwork", namespace: "enabled", hostNetwork: true, revision: "default", reason: "hostNetwork", warn: "has host networking enabled"},
		{name: "namespace enabled, annotation false (invisible to the webhook, seen by the injector)", namespace: "enabled", annotations: kv(KeyInject, "false"), revision: "default",
			reason: "pod annotation sidecar.istio.io/inject=false"},
		{name: "namespace enabled, label false", namespace: "enabled", labels: kv(KeyInject, "false"), reason: "pod label sidecar.istio.io/inject=false"},
		{name: "namespace enabled, label yes", namespace: "enabled", labels: kv(KeyInject, "yes"), inject: true, revision: "default",
			reason: "webhook namespace.sidecar-injector.istio.io selected it (namespace enabled: istio-injection=enabled)", warn: `Invalid value for sidecar.istio.io/inject: "yes"`},
		{name: "namespace disabled", namespace: "off", reason: "namespace off: istio-injection=disabled"},
		{name: "namespace disabled, label true", namespace: "off", labels: kv(KeyInject, "true"), reason: "namespace off: istio-injection=disabled"},
		{name: "unlabelled namespace", namespace: "demo", reason: "no webhook selects it (namespace demo: no injection labels)"},
		{name: "unlabelled namespace, annotation true", namespace: "demo", annotations: kv(KeyInject, "true"),
			reason: "no webhook selects it (namespace demo: no injection labels)", warn: "selectors see labels only"},
		{name: "unlabelled namespace, label True", namespace: "demo", labels: kv(KeyInject, "True"),
			reason: "no webhook selects it (namespace demo: no injection labels; pod label sidecar.istio.io/inject=True)"},
		{name: "unlabelled namespace, label true", namespace: "demo", labels: kv(KeyInject, "true"), inject: true, revision: "default",
			reason: "pod label sidecar.istio.io/inject=true"},
		{name: "unlabelled namespace, pod rev canary", namespace: "demo", labels: kv("istio.io/rev", "canary"), inject: true, revision: "canary",
			reason: "webhook rev.object.sidecar-injector.istio.io of revision canary selected it (pod label istio.io/rev=canary)"},
		{name: "unlabelled namespace, pod rev prod (tag)", namespace: "demo", labels: kv("istio.io/rev", "prod"), inject: true, revision: "canary",
			reason: "webhook rev.object.sidecar-injector.istio.io of tag prod (revision canary) selected it (pod label istio.io/rev=prod)"},
		{name: "unlabelled namespace, pod rev default", namespace: "demo", labels: kv("istio.io/rev", "default"), inject: true, revision: "default",
			reason: "webhook rev.object.sidecar-injector.istio.io selected it (pod label istio.io/rev=default)"},
		{name: "unlabelled namespace, pod rev unknown", namespace: "demo", labels: kv("istio.io/rev", "nope"),
			reason: "pod label istio.io/rev=nope names no installed revision or tag"},
		{name: "namespace rev canary", namespace: "canary-ns", inject: true, revision: "canary",
			reason: "webhook rev.namespace.sidecar-injector.istio.io of revision canary selected it (namespace canary-ns: istio.io/rev=canary)"},
		{name: "namespace rev canary, pod rev default (namespace wins)", namespace: "canary-ns", labels: kv("istio.io/rev", "default"), inject: true, revision: "canary",
			reason: "webhook rev.namespace.sidecar-injector.istio.io of revision canary selected it (namespace canary-ns: istio.io/rev=canary)"},
		{name: "namespace rev prod (tag)", namespace: "prod-ns", inject: true, revision: "canary",
			reason: "webhook rev.namespace.sidecar-injector.istio.io of tag prod (revision canary) selected it (namespace prod-ns: istio.io/rev=prod)"},
		{name: "namespace rev unknown", namespace: "nope-ns", reason: "namespace nope-ns: istio.io/rev=nope names no installed revision or tag"},
		{name: "known kube-system, label true: webhook called, injector refuses", namespace: "kube-system", labels: kv(KeyInject, "true"), revision: "default",
			reason: "namespace kube-system is never injected"},
		{name: "no namespace: DefaultNamespace", namespace: "", inject: true, revision: "default",
			reason: "webhook namespace.sidecar-injector.istio.io selected it (namespace enabled: istio-injection=enabled)"},
		{name: "template namespace is not read in webhook mode", namespace: "enabled", templateNamespace: "kube-system", inject: true, revision: "default",
			reason: "webhook namespace.sidecar-injector.istio.io selected it (namespace enabled: istio-injection=enabled)"},
	})
}

// TestDecideWebhookPolicies: the revision chosen by the webhook brings its
// own policy and selectors.
func TestDecideWebhookPolicies(t *testing.T) {
	d := mustNew(t, testConfig("bogus", "disabled", config.Options{UnknownNamespace: config.UnknownNamespaceSkip}))
	runDecideCases(t, d, []decideCase{
		{name: "canary policy disabled", namespace: "canary-ns", revision: "canary", reason: "policy disabled"},
		{name: "canary always selector", namespace: "canary-ns", labels: kv("app", "always"), inject: true, revision: "canary",
			reason: "alwaysInjectSelector[0] matched app=always"},
		{name: "canary label true", namespace: "prod-ns", labels: kv(KeyInject, "true"), inject: true, revision: "canary",
			reason: "pod label sidecar.istio.io/inject=true"},
		{name: "default invalid policy", namespace: "enabled", revision: "default", reason: `invalid policy "bogus"`, err: ErrInvalidPolicy},
		{name: "invalid policy not reached: no webhook", namespace: "off", reason: "namespace off: istio-injection=disabled"},
	})
	got := d.Decide(Pod{Kind: "StatefulSet", Name: "db", Namespace: "enabled"})
	if got.Err == nil || !strings.HasPrefix(got.Err.Error(), `invalid injection policy "bogus" in revision default`) {
		t.Errorf("Err = %v", got.Err)
	}
}

// TestDecideUnknownNamespace covers Options.UnknownNamespace.
func TestDecideUnknownNamespace(t *testing.T) {
	inject := mustNew(t, testConfig("enabled", "disabled", config.Options{UnknownNamespace: config.UnknownNamespaceInject}))
	runDecideCases(t, inject, []decideCase{
		{name: "inject: plain pod", namespace: "ghost", inject: true, revision: "default",
			reason: "policy enabled; namespace ghost unknown: revision default assumed (unknownNamespace=inject)"},
		{name: "inject: never selector still applies", namespace: "ghost", labels: kv("team", "batch"), revision: "default",
			reason: "neverInjectSelector[0] matched team=batch; namespace ghost unknown: revision default assumed (unknownNamespace=inject)"},
		{name: "inject: label false", namespace: "ghost", labels: kv(KeyInject, "false"), revision: "default",
			reason: "pod label sidecar.istio.io/inject=false; namespace ghost unknown: revision default assumed (unknownNamespace=inject)"},
		{name: "inject: pod istio.io/rev is not consulted", namespace: "ghost", labels: kv("istio.io/rev", "canary"), inject: true, revision: "default",
			reason: "policy enabled; namespace ghost unknown: revision default assumed (unknownNamespace=inject)"},
		{name: "inject: kube-system-x is not an ignored namespace", namespace: "kube-system-x", inject: true, revision: "default",
			reason: "policy enabled; namespace kube-system-x unknown: revision default assumed (unknownNamespace=inject)"},
		{name: "inject: no namespace at all", namespace: "", inject: true, revision: "default",
			reason: `policy enabled; namespace "" unknown: revision default assumed (unknownNamespace=inject)`},
	})

	// Unknown kube-system: the injector still refuses it.
	opts := config.Options{UnknownNamespace: config.UnknownNamespaceInject, Namespaces: map[string]config.Namespace{}}
	runDecideCases(t, mustNew(t, testConfig("enabled", "disabled", opts)), []decideCase{
		{name: "inject: unknown kube-system", namespace: "kube-system", revision: "default",
			reason: "namespace kube-system is never injected; namespace kube-system unknown: revision default assumed (unknownNamespace=inject)"},
	})

	// The configured revision may be a tag.
	opts = config.Options{UnknownNamespace: config.UnknownNamespaceInject, Revision: "prod"}
	runDecideCases(t, mustNew(t, testConfig("enabled", "disabled", opts)), []decideCase{
		{name: "inject via tag prod", namespace: "ghost", revision: "canary",
			reason: "policy disabled; namespace ghost unknown: revision canary assumed (unknownNamespace=inject)"},
		{name: "inject via tag prod, always", namespace: "ghost", labels: kv("app", "always"), inject: true, revision: "canary",
			reason: "alwaysInjectSelector[0] matched app=always; namespace ghost unknown: revision canary assumed (unknownNamespace=inject)"},
	})

	skip := mustNew(t, testConfig("enabled", "enabled", config.Options{UnknownNamespace: config.UnknownNamespaceSkip}))
	runDecideCases(t, skip, []decideCase{
		{name: "skip", namespace: "ghost", labels: kv(KeyInject, "true"), reason: "namespace ghost unknown: skipped (unknownNamespace=skip)"},
		{name: "skip does not touch known namespaces", namespace: "enabled", inject: true, revision: "default",
			reason: "webhook namespace.sidecar-injector.istio.io selected it (namespace enabled: istio-injection=enabled)"},
	})

	for _, policy := range []config.UnknownNamespacePolicy{config.UnknownNamespaceError, ""} {
		fail := mustNew(t, testConfig("enabled", "enabled", config.Options{UnknownNamespace: policy}))
		runDecideCases(t, fail, []decideCase{
			{name: "error " + string(policy), namespace: "ghost", reason: "namespace ghost unknown (unknownNamespace=error)", err: ErrUnknownNamespace},
		})
	}
}

// TestDecideAuto: enableNamespacesByDefault in the default revision's values
// adds the auto webhook.
func TestDecideAuto(t *testing.T) {
	for _, v := range []any{true, "true"} {
		cfg := testConfig("enabled", "enabled", config.Options{UnknownNamespace: config.UnknownNamespaceSkip})
		cfg.Injectors["default"].Values = map[string]any{"sidecarInjectorWebhook": map[string]any{"enableNamespacesByDefault": v}}
		runDecideCases(t, mustNew(t, cfg), []decideCase{
			{name: "auto", namespace: "demo", inject: true, revision: "default",
				reason: "webhook auto.sidecar-injector.istio.io selected it (namespace demo: no injection labels)"},
			{name: "auto skips kube-system", namespace: "kube-system", reason: "no webhook selects it (namespace kube-system: no injection labels)"},
			{name: "auto needs the inject label absent", namespace: "demo", labels: kv(KeyInject, ""),
				reason: "no webhook selects it (namespace demo: no injection labels; pod label sidecar.istio.io/inject=)"},
		})
	}
	// Values of the wrong shape are not an error; auto stays off.
	cfg := testConfig("enabled", "enabled", config.Options{UnknownNamespace: config.UnknownNamespaceSkip})
	cfg.Injectors["default"].Values = map[string]any{"sidecarInjectorWebhook": "yes"}
	if hooks := mustNew(t, cfg).Webhooks(); slices.ContainsFunc(hooks, func(h Webhook) bool { return h.Name == WebhookAuto }) {
		t.Error("auto webhook from malformed values")
	}
}

// TestDecideDefaultTag: `istioctl tag set default --revision canary` moves the
// default set (and its auto setting) to canary.
func TestDecideDefaultTag(t *testing.T) {
	cfg := testConfig("disabled", "enabled", config.Options{UnknownNamespace: config.UnknownNamespaceSkip})
	cfg.Tags = map[string]string{"default": "canary"}
	runDecideCases(t, mustNew(t, cfg), []decideCase{
		{name: "istio-injection=enabled served by canary", namespace: "enabled", inject: true, revision: "canary",
			reason: "webhook namespace.sidecar-injector.istio.io of tag default (revision canary) selected it (namespace enabled: istio-injection=enabled)"},
		{name: "pod rev default served by canary", namespace: "demo", labels: kv("istio.io/rev", "default"), inject: true, revision: "canary",
			reason: "webhook rev.object.sidecar-injector.istio.io of tag default (revision canary) selected it (pod label istio.io/rev=default)"},
	})
}

// TestDecideKubeInject reproduces istioctl kube-inject (section 1c).
func TestDecideKubeInject(t *testing.T) {
	opts := config.Options{DecisionMode: config.DecideLikeKubeInject, DefaultNamespace: "kube-system"}
	// The default revision's policy is disabled and it has a never selector:
	// kube-inject ignores both, and namespace labels.
	d := mustNew(t, testConfig("disabled", "bogus", opts))
	runDecideCases(t, d, []decideCase{
		{name: "policy forced enabled", namespace: "", inject: true, revision: "default", reason: "kube-inject mode: policy enabled"},
		{name: "never selector ignored", namespace: "", labels: kv("team", "batch"), inject: true, revision: "default", reason: "kube-inject mode: policy enabled"},
		{name: "namespace labels ignored", namespace: "off", inject: true, revision: "default", reason: "kube-inject mode: policy enabled"},
		{name: "unknown namespace is fine", namespace: "ghost", inject: true, revision: "default", reason: "kube-inject mode: policy enabled"},
		{name: "Deployment in kube-system is injected (template has no namespace)", namespace: "kube-system", inject: true, revision: "default", reason: "kube-inject mode: policy enabled"},
		{name: "template namespace kube-system", namespace: "demo", templateNamespace: "kube-system", revision: "default", reason: "namespace kube-system is never injected"},
		{name: "template namespace local-path-storage", templateNamespace: "local-path-storage", revision: "default", reason: "namespace local-path-storage is never injected"},
		{name: "hostNetwork", hostNetwork: true, revision: "default", reason: "hostNetwork", warn: "has host networking enabled"},
		{name: "label false", labels: kv(KeyInject, "false"), revision: "default", reason: "pod label sidecar.istio.io/inject=false"},
		{name: "annotation false", annotations: kv(KeyInject, "false"), revision: "default", reason: "pod annotation sidecar.istio.io/inject=false"},
		{name: "label false over annotation true", labels: kv(KeyInject, "false"), annotations: kv(KeyInject, "true"), revision: "default",
			reason: "pod label sidecar.istio.io/inject=false", warn: "overrides"},
		{name: "label yes", labels: kv(KeyInject, "yes"), inject: true, revision: "default", reason: "kube-inject mode: policy enabled", warn: `"yes"`},
	})

	// The revision is Options.Revision, resolved through tags; an invalid
	// policy does not matter since kube-inject forces it.
	for _, rev := range []string{"canary", "prod"} {
		opts := config.Options{DecisionMode: config.DecideLikeKubeInject, Revision: rev}
		runDecideCases(t, mustNew(t, testConfig("disabled", "bogus", opts)), []decideCase{
			{name: "revision " + rev, inject: true, revision: "canary", reason: "kube-inject mode: policy enabled"},
		})
	}
}

func TestNew(t *testing.T) {
	ok := func() *config.Config { return testConfig("enabled", "enabled", config.Options{}) }
	tests := []struct {
		name   string
		mutate func(*config.Config) *config.Config
		err    string // substring; "" means success
	}{
		{name: "valid", mutate: func(c *config.Config) *config.Config { return c }},
		{name: "nil config", mutate: func(*config.Config) *config.Config { return nil }, err: "no configuration"},
		{name: "no injectors", mutate: func(c *config.Config) *config.Config { c.Injectors = nil; return c }, err: "no injector"},
		{name: "nil injector", mutate: func(c *config.Config) *config.Config { c.Injectors["x"] = nil; return c }, err: `injector "x"`},
		{name: "empty revision name", mutate: func(c *config.Config) *config.Config { c.Injectors[""] = &config.Injector{}; return c }, err: `injector ""`},
		{name: "tag to missing revision", mutate: func(c *config.Config) *config.Config { c.Tags["stable"] = "gone"; return c }, err: `tag stable points at revision "gone"`},
		{name: "empty tag name", mutate: func(c *config.Config) *config.Config { c.Tags[""] = "canary"; return c }, err: "empty revision tag"},
		{name: "tag named like a revision", mutate: func(c *config.Config) *config.Config { c.Tags["canary"] = "default"; return c }, err: "tag canary has the name of a revision"},
		{name: "tag default beside revision default", mutate: func(c *config.Config) *config.Config { c.Tags["default"] = "canary"; return c }},
		{name: "bad mode", mutate: func(c *config.Config) *config.Config { c.Options.DecisionMode = "cluster"; return c }, err: `unknown decision mode "cluster"`},
		{name: "bad unknownNamespace", mutate: func(c *config.Config) *config.Config { c.Options.UnknownNamespace = "maybe"; return c }, err: `unknownNamespace policy "maybe"`},
		{name: "revision names nothing", mutate: func(c *config.Config) *config.Config { c.Options.Revision = "gone"; return c }, err: `revision "gone" names neither`},
		{name: "no default revision, not needed", mutate: func(c *config.Config) *config.Config { delete(c.Injectors, "default"); return c }},
		{name: "no default revision, kube-inject", mutate: func(c *config.Config) *config.Config {
			delete(c.Injectors, "default")
			c.Options.DecisionMode = config.DecideLikeKubeInject
			return c
		}, err: `revision "default" names neither`},
		{name: "no default revision, unknown inject", mutate: func(c *config.Config) *config.Config {
			delete(c.Injectors, "default")
			c.Options.UnknownNamespace = config.UnknownNamespaceInject
			return c
		}, err: `revision "default" names neither`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			d, err := New(tt.mutate(ok()), nil)
			if tt.err == "" {
				if err != nil || d == nil {
					t.Fatalf("New: %v", err)
				}
				return
			}
			if err == nil || !strings.Contains(err.Error(), tt.err) {
				t.Fatalf("err = %v, want it to contain %q", err, tt.err)
			}
		})
	}
}

func TestDeciderWarnings(t *testing.T) {
	cfg := testConfig("enabled", "enabled", config.Options{})
	cfg.Injectors["canary"].NeverInjectSelector = []metav1.LabelSelector{{}, invalidOperator}
	d := mustNew(t, cfg)
	want := []string{"revision canary: neverInjectSelector[0] is empty and never matches", "revision canary: neverInjectSelector[1] is invalid"}
	got := d.Warnings()
	if len(got) != 2 || got[0] != want[0] || !strings.HasPrefix(got[1], want[1]) {
		t.Fatalf("Warnings = %q, want %q", got, want)
	}
	// Per-pod decisions do not repeat configuration warnings.
	dec := d.Decide(Pod{Namespace: "canary-ns", Labels: kv("team", "batch")})
	if !dec.Inject || len(dec.Warnings) != 0 {
		t.Fatalf("Decide = %+v", dec)
	}
	// The accessors return copies.
	d.Warnings()[0] = "changed"
	d.Webhooks()[0].Name = "changed"
	if d.Warnings()[0] != want[0] || d.Webhooks()[0].Name != WebhookRevNamespace {
		t.Fatal("accessors expose internal state")
	}
}

func TestNilDecider(t *testing.T) {
	var d *Decider
	if got := d.Decide(Pod{}); got.Inject || got.Err == nil {
		t.Fatalf("nil Decider: %+v", got)
	}
	if d.Warnings() != nil || d.Webhooks() != nil {
		t.Fatal("nil Decider accessors")
	}
}

// TestDecideConcurrent: a Decider is shared by goroutines (run with -race).
func TestDecideConcurrent(t *testing.T) {
	d := mustNew(t, testConfig("enabled", "enabled", config.Options{UnknownNamespace: config.UnknownNamespaceInject}))
	var wg sync.WaitGroup
	for i := range 8 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			ns := []string{"enabled", "demo", "ghost", "canary-ns"}[i%4]
			for range 100 {
				_ = d.Decide(Pod{Namespace: ns, Labels: kv("team", "batch", KeyInject, "yes")})
			}
		}()
	}
	wg.Wait()
}

// TestConfigNotModified: New and Decide only read the configuration.
func TestConfigNotModified(t *testing.T) {
	cfg := testConfig("enabled", "enabled", config.Options{UnknownNamespace: config.UnknownNamespaceInject})
	d := mustNew(t, cfg)
	_ = d.Decide(Pod{Namespace: "enabled"})
	cfg.Options.Namespaces["enabled"].Labels["istio-injection"] = "disabled"
	if got := d.Decide(Pod{Namespace: "enabled"}); !got.Inject {
		t.Fatalf("Decider follows later changes to the config: %+v", got)
	}
}

// TestDecideHandMadeWebhooks: webhooks given to New (as a rendered install
// would give them) that select a pod for two revisions, or for a revision
// without injector configuration, or that cannot be evaluated.
func TestDecideHandMadeWebhooks(t *testing.T) {
	newWith := func(hooks ...Webhook) (*Decider, error) {
		return New(testConfig("enabled", "enabled", config.Options{}), nil,
			WithWebhooks(WebhookSet{Webhooks: hooks, Configurations: []string{"hand-made"}}))
	}
	d, err := newWith(
		Webhook{Name: "a.sidecar-injector.istio.io", Revision: "default", Configuration: "one"},
		Webhook{Name: "b.sidecar-injector.istio.io", Revision: "canary", Tag: "prod", Configuration: "two"},
	)
	if err != nil {
		t.Fatal(err)
	}
	runDecideCases(t, d, []decideCase{
		{name: "two revisions", namespace: "demo", reason: "webhooks of revisions canary and default select it", err: ErrRevisionConflict},
	})
	got := d.Decide(Pod{Namespace: "demo"})
	for _, s := range []string{"webhook a.sidecar-injector.istio.io of revision default in MutatingWebhookConfiguration one",
		"webhook b.sidecar-injector.istio.io of tag prod (revision canary) in MutatingWebhookConfiguration two"} {
		if got.Err == nil || !strings.Contains(got.Err.Error(), s) {
			t.Errorf("conflict error %v does not name %q", got.Err, s)
		}
	}

	d, err = newWith(Webhook{Name: "x", Revision: "ghost"})
	if err != nil {
		t.Fatal(err)
	}
	if got := d.Decide(Pod{Namespace: "demo"}); got.Inject || got.Err == nil || got.Reason != "revision ghost has no injector configuration" {
		t.Fatalf("revision without injector: %+v", got)
	}
	if !containsSub(d.Warnings(), "revision ghost serves webhooks of the input but has no injector configuration") {
		t.Errorf("Warnings = %q", d.Warnings())
	}

	_, err = newWith(Webhook{Name: "x", Revision: "default", ObjectSelector: exprs(expr("a", "Like"))})
	if err == nil || !strings.Contains(err.Error(), "webhook x of revision default: invalid objectSelector") {
		t.Fatalf("invalid webhook selector: %v", err)
	}
	three := []Webhook{{Revision: "c"}, {Revision: "a"}, {Revision: "b"}, {Revision: "a"}}
	if got := revisionList(three); got != "revisions a, b and c" {
		t.Fatalf("revisionList = %q", got)
	}
}

// TestNewNamespaces: Namespace objects of the input count, and win over the
// configuration's namespaces.
func TestNewNamespaces(t *testing.T) {
	cfg := testConfig("enabled", "enabled", config.Options{UnknownNamespace: config.UnknownNamespaceSkip})
	input := map[string]config.Namespace{
		"shop":    {Labels: kv("istio-injection", "enabled")},
		"enabled": {Labels: kv("istio-injection", "disabled")},
		"demo":    {},
	}
	d, err := New(cfg, input)
	if err != nil {
		t.Fatal(err)
	}
	runDecideCases(t, d, []decideCase{
		{name: "from the input", namespace: "shop", inject: true, revision: "default",
			reason: "webhook namespace.sidecar-injector.istio.io selected it (namespace shop: istio-injection=enabled)"},
		{name: "input wins", namespace: "enabled", reason: "namespace enabled: istio-injection=disabled"},
		{name: "config still counts", namespace: "canary-ns", inject: true, revision: "canary",
			reason: "webhook rev.namespace.sidecar-injector.istio.io of revision canary selected it (namespace canary-ns: istio.io/rev=canary)"},
	})
	// demo agrees (no labels either way); enabled does not.
	want := []string{"namespace enabled: the labels of its Namespace object are used, not those in the configuration"}
	if got := d.Warnings(); !slices.Equal(got, want) {
		t.Errorf("Warnings = %q, want %q", got, want)
	}
	input["shop"].Labels["istio-injection"] = "disabled"
	if got := d.Decide(Pod{Namespace: "shop"}); !got.Inject {
		t.Error("Decider follows later changes to the input namespaces")
	}
}

func TestPodOf(t *testing.T) {
	target := &podtemplate.Target{TypeMeta: metav1.TypeMeta{Kind: "Deployment"}, Name: "web", Namespace: "shop"}
	pod := &corev1.Pod{
		ObjectMeta: metav1.ObjectMeta{Namespace: "tmpl", Labels: kv("app", "web"), Annotations: kv(KeyInject, "true")},
		Spec:       corev1.PodSpec{HostNetwork: true},
	}
	want := Pod{Kind: "Deployment", Name: "web", Namespace: "shop", TemplateNamespace: "tmpl",
		Labels: kv("app", "web"), Annotations: kv(KeyInject, "true"), HostNetwork: true}
	if got := PodOf(target, pod); !reflect.DeepEqual(got, want) {
		t.Errorf("PodOf = %+v, want %+v", got, want)
	}
	if got := PodOf(nil, nil); !reflect.DeepEqual(got, Pod{}) {
		t.Errorf("PodOf(nil, nil) = %+v", got)
	}
}
