package decide

import (
	"errors"
	"strings"
	"testing"

	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	"github.com/inject-sidecar/inject-sidecar/pkg/config"
)

// sel builds a selector from matchLabels.
func sel(kv ...string) metav1.LabelSelector {
	m := map[string]string{}
	for i := 0; i+1 < len(kv); i += 2 {
		m[kv[i]] = kv[i+1]
	}
	return metav1.LabelSelector{MatchLabels: m}
}

func kv(pairs ...string) map[string]string {
	m := map[string]string{}
	for i := 0; i+1 < len(pairs); i += 2 {
		m[pairs[i]] = pairs[i+1]
	}
	return m
}

var (
	emptySel = metav1.LabelSelector{}
	// In without values is rejected by LabelSelectorAsSelector.
	invalidNoValues = metav1.LabelSelector{MatchExpressions: []metav1.LabelSelectorRequirement{{Key: "team", Operator: metav1.LabelSelectorOpIn}}}
	invalidOperator = metav1.LabelSelector{MatchExpressions: []metav1.LabelSelectorRequirement{{Key: "team", Operator: "Like", Values: []string{"batch"}}}}
	teamInBatchJobs = metav1.LabelSelector{MatchExpressions: []metav1.LabelSelectorRequirement{{Key: "team", Operator: metav1.LabelSelectorOpIn, Values: []string{"batch", "jobs"}}}}
)

// TestInjectorRules is the decision table of the injector's own rules
// (section 1b): hostNetwork, ignored namespaces, label/annotation value,
// neverInjectSelector, alwaysInjectSelector, policy.
func TestInjectorRules(t *testing.T) {
	const (
		lbl = "label"
		ann = "annotation"
	)
	tests := []struct {
		name        string
		labels      map[string]string
		annotations map[string]string
		hostNetwork bool
		namespace   string
		policy      string
		never       []metav1.LabelSelector
		always      []metav1.LabelSelector

		inject bool
		reason string // substring
		warn   string // substring of some warning; "" means no warnings
		err    bool
	}{
		// 1. hostNetwork comes first, before everything else.
		{name: "hostNetwork beats label true", labels: kv(KeyInject, "true"), hostNetwork: true, policy: "enabled", reason: "hostNetwork", warn: "has host networking enabled"},
		{name: "hostNetwork beats always selector", labels: kv("app", "web"), hostNetwork: true, policy: "enabled", always: []metav1.LabelSelector{sel("app", "web")}, reason: "hostNetwork", warn: "has host networking enabled"},
		{name: "hostNetwork beats invalid policy (no error)", hostNetwork: true, policy: "bogus", reason: "hostNetwork", warn: "has host networking enabled"},
		{name: "hostNetwork beats ignored namespace", hostNetwork: true, namespace: "kube-system", policy: "enabled", reason: "hostNetwork", warn: `Skipping injection because Deployment "kube-system/web" has host networking enabled`},

		// 2. Ignored namespaces, whatever the pod says.
		{name: "kube-system with label true", namespace: "kube-system", labels: kv(KeyInject, "true"), policy: "enabled", reason: "namespace kube-system is never injected"},
		{name: "kube-public", namespace: "kube-public", policy: "enabled", reason: "namespace kube-public is never injected"},
		{name: "kube-node-lease", namespace: "kube-node-lease", policy: "enabled", reason: "namespace kube-node-lease is never injected"},
		{name: "local-path-storage", namespace: "local-path-storage", policy: "enabled", reason: "namespace local-path-storage is never injected"},
		{name: "ignored namespace beats invalid policy (no error)", namespace: "kube-system", policy: "", reason: "never injected"},
		{name: "istio-system is not ignored", namespace: "istio-system", policy: "enabled", inject: true, reason: "policy enabled"},
		{name: "empty namespace is not ignored", namespace: "", policy: "enabled", inject: true, reason: "policy enabled"},

		// 3. Explicit values: exactly "true" or "false".
		{name: "label true, policy disabled", labels: kv(KeyInject, "true"), policy: "disabled", inject: true, reason: "pod label sidecar.istio.io/inject=true"},
		{name: "label false, policy enabled", labels: kv(KeyInject, "false"), policy: "enabled", reason: "pod label sidecar.istio.io/inject=false"},
		{name: "annotation true, policy disabled", annotations: kv(KeyInject, "true"), policy: "disabled", inject: true, reason: "pod annotation sidecar.istio.io/inject=true"},
		{name: "annotation false, policy enabled", annotations: kv(KeyInject, "false"), policy: "enabled", reason: "pod annotation sidecar.istio.io/inject=false"},
		{name: "label true, policy enabled", labels: kv(KeyInject, "true"), policy: "enabled", inject: true, reason: "pod label sidecar.istio.io/inject=true"},
		{name: "label false, policy disabled", labels: kv(KeyInject, "false"), policy: "disabled", reason: "pod label sidecar.istio.io/inject=false"},

		// Label over annotation, even when the label is empty.
		{name: "label false over annotation true", labels: kv(KeyInject, "false"), annotations: kv(KeyInject, "true"), policy: "disabled", reason: "pod label sidecar.istio.io/inject=false", warn: "overrides pod annotation"},
		{name: "label true over annotation false", labels: kv(KeyInject, "true"), annotations: kv(KeyInject, "false"), policy: "enabled", inject: true, reason: "pod label sidecar.istio.io/inject=true", warn: "overrides pod annotation"},
		{name: "empty label over annotation false → defaults (enabled)", labels: kv(KeyInject, ""), annotations: kv(KeyInject, "false"), policy: "enabled", inject: true, reason: "policy enabled", warn: "overrides pod annotation"},
		{name: "empty label over annotation true → defaults (disabled)", labels: kv(KeyInject, ""), annotations: kv(KeyInject, "true"), policy: "disabled", reason: "policy disabled", warn: "overrides pod annotation"},
		{name: "equal label and annotation: no warning", labels: kv(KeyInject, "true"), annotations: kv(KeyInject, "true"), policy: "disabled", inject: true, reason: "pod label"},
		{name: "empty label alone → defaults", labels: kv(KeyInject, ""), policy: "enabled", inject: true, reason: "policy enabled"},
		{name: "empty annotation → defaults", annotations: kv(KeyInject, ""), policy: "disabled", reason: "policy disabled"},
		{name: "empty label → never selector applies", labels: kv(KeyInject, "", "team", "batch"), policy: "enabled", never: []metav1.LabelSelector{sel("team", "batch")}, reason: "neverInjectSelector[0] matched team=batch"},

		// Other values warn, then fall back to the defaults.
		{name: "label True → warning, policy enabled", labels: kv(KeyInject, "True"), policy: "enabled", inject: true, reason: "policy enabled", warn: `Invalid value for sidecar.istio.io/inject: "True"`},
		{name: "label True → warning, policy disabled", labels: kv(KeyInject, "True"), policy: "disabled", reason: "policy disabled", warn: `use "true" or "false"`},
		{name: "annotation yes → warning, policy disabled", annotations: kv(KeyInject, "yes"), policy: "disabled", reason: "policy disabled", warn: `"yes"`},
		{name: "annotation 1 → warning, policy enabled", annotations: kv(KeyInject, "1"), policy: "enabled", inject: true, reason: "policy enabled", warn: "pod annotation"},
		{name: "label FALSE → warning, still enabled", labels: kv(KeyInject, "FALSE"), policy: "enabled", inject: true, reason: "policy enabled", warn: "Falling back to default injection policy"},
		{name: "invalid value → never selector applies", labels: kv(KeyInject, "1", "team", "batch"), policy: "enabled", never: []metav1.LabelSelector{sel("team", "batch")}, reason: "neverInjectSelector[0]", warn: `"1"`},
		{name: "invalid value → always selector applies", labels: kv(KeyInject, "yes", "app", "web"), policy: "disabled", always: []metav1.LabelSelector{sel("app", "web")}, inject: true, reason: "alwaysInjectSelector[0]", warn: `"yes"`},
		{name: "invalid value with invalid policy", labels: kv(KeyInject, "on"), policy: "bogus", reason: `invalid policy "bogus"`, warn: `"on"`, err: true},

		// 4. neverInjectSelector: OR'ed, first match reported.
		{name: "never matches, policy enabled", labels: kv("team", "batch"), policy: "enabled", never: []metav1.LabelSelector{sel("team", "batch")}, reason: "neverInjectSelector[0] matched team=batch"},
		{name: "second never entry matches", labels: kv("team", "batch"), policy: "enabled", never: []metav1.LabelSelector{sel("team", "web"), sel("team", "batch")}, reason: "neverInjectSelector[1] matched team=batch"},
		{name: "never with matchExpressions", labels: kv("team", "jobs"), policy: "enabled", never: []metav1.LabelSelector{teamInBatchJobs}, reason: "neverInjectSelector[0] matched team in (batch,jobs)"},
		{name: "never does not match", labels: kv("team", "web"), policy: "enabled", never: []metav1.LabelSelector{sel("team", "batch")}, inject: true, reason: "policy enabled"},
		{name: "never against a pod without labels", policy: "enabled", never: []metav1.LabelSelector{sel("team", "batch")}, inject: true, reason: "policy enabled"},
		{name: "never beats always", labels: kv("team", "batch", "app", "web"), policy: "enabled", never: []metav1.LabelSelector{sel("team", "batch")}, always: []metav1.LabelSelector{sel("app", "web")}, reason: "neverInjectSelector[0]"},
		{name: "empty never selector never matches", labels: kv("team", "batch"), policy: "enabled", never: []metav1.LabelSelector{emptySel}, inject: true, reason: "policy enabled", warn: "neverInjectSelector[0] is empty"},
		{name: "invalid never selector (In without values) never matches", labels: kv("team", "batch"), policy: "enabled", never: []metav1.LabelSelector{invalidNoValues}, inject: true, reason: "policy enabled", warn: "neverInjectSelector[0] is invalid"},
		{name: "invalid never selector (operator) never matches", labels: kv("team", "batch"), policy: "enabled", never: []metav1.LabelSelector{invalidOperator}, inject: true, reason: "policy enabled", warn: "is invalid"},
		{name: "invalid entry skipped, next entry matches", labels: kv("team", "batch"), policy: "enabled", never: []metav1.LabelSelector{invalidOperator, sel("team", "batch")}, reason: "neverInjectSelector[1] matched team=batch", warn: "neverInjectSelector[0] is invalid"},
		{name: "label true beats never", labels: kv(KeyInject, "true", "team", "batch"), policy: "enabled", never: []metav1.LabelSelector{sel("team", "batch")}, inject: true, reason: "pod label sidecar.istio.io/inject=true"},
		{name: "annotation true beats never, policy disabled", labels: kv("team", "batch"), annotations: kv(KeyInject, "true"), policy: "disabled", never: []metav1.LabelSelector{sel("team", "batch")}, inject: true, reason: "pod annotation"},

		// 5. alwaysInjectSelector, likewise.
		{name: "always matches, policy disabled", labels: kv("app", "web"), policy: "disabled", always: []metav1.LabelSelector{sel("app", "web")}, inject: true, reason: "alwaysInjectSelector[0] matched app=web"},
		{name: "second always entry matches", labels: kv("app", "web"), policy: "disabled", always: []metav1.LabelSelector{sel("app", "db"), sel("app", "web")}, inject: true, reason: "alwaysInjectSelector[1] matched app=web"},
		{name: "always does not match, policy disabled", labels: kv("app", "db"), policy: "disabled", always: []metav1.LabelSelector{sel("app", "web")}, reason: "policy disabled"},
		{name: "empty always selector never matches", labels: kv("app", "web"), policy: "disabled", always: []metav1.LabelSelector{emptySel}, reason: "policy disabled", warn: "alwaysInjectSelector[0] is empty"},
		{name: "invalid always selector never matches", labels: kv("team", "batch"), policy: "disabled", always: []metav1.LabelSelector{invalidOperator}, reason: "policy disabled", warn: "alwaysInjectSelector[0] is invalid"},
		{name: "label false beats always", labels: kv(KeyInject, "false", "app", "web"), policy: "disabled", always: []metav1.LabelSelector{sel("app", "web")}, reason: "pod label sidecar.istio.io/inject=false"},
		{name: "annotation false beats always, policy enabled", labels: kv("app", "web"), annotations: kv(KeyInject, "false"), policy: "enabled", always: []metav1.LabelSelector{sel("app", "web")}, reason: "pod annotation sidecar.istio.io/inject=false"},
		{name: "always with policy enabled", labels: kv("app", "web"), policy: "enabled", always: []metav1.LabelSelector{sel("app", "web")}, inject: true, reason: "alwaysInjectSelector[0]"},

		// 6. Policy.
		{name: "policy enabled, nothing set", policy: "enabled", inject: true, reason: "policy enabled"},
		{name: "policy disabled, nothing set", policy: "disabled", reason: "policy disabled"},
		{name: "empty policy → error", policy: "", reason: `invalid policy ""`, err: true},
		{name: "policy Enabled (case) → error", policy: "Enabled", reason: `invalid policy "Enabled"`, err: true},
		{name: "invalid policy beats label true", labels: kv(KeyInject, "true"), policy: "bogus", reason: `invalid policy "bogus"`, err: true},
		{name: "invalid policy even with label false", labels: kv(KeyInject, "false"), policy: "bogus", reason: `invalid policy`, err: true},
		{name: "invalid policy beats always", labels: kv("app", "web"), policy: "bogus", always: []metav1.LabelSelector{sel("app", "web")}, reason: `invalid policy`, err: true},
		{name: "invalid policy after never", labels: kv("team", "batch"), policy: "bogus", never: []metav1.LabelSelector{sel("team", "batch")}, reason: `invalid policy`, err: true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			inj := &config.Injector{Revision: "default", Policy: tt.policy, NeverInjectSelector: tt.never, AlwaysInjectSelector: tt.always}
			p := Pod{Kind: "Deployment", Name: "web", Namespace: tt.namespace, Labels: tt.labels, Annotations: tt.annotations, HostNetwork: tt.hostNetwork}
			got := InjectorRules(inj, p)
			checkDecision(t, got, tt.inject, tt.reason, tt.warn, tt.err)
			if got.Revision != "default" {
				t.Errorf("Revision = %q, want default", got.Revision)
			}
			if tt.err && !errors.Is(got.Err, ErrInvalidPolicy) {
				t.Errorf("Err = %v, want ErrInvalidPolicy", got.Err)
			}
		})
	}
}

func TestInjectorRulesNilInjector(t *testing.T) {
	got := InjectorRules(nil, Pod{})
	if got.Inject || got.Err == nil {
		t.Fatalf("got %+v, want an error and no injection", got)
	}
}

// TestInjectorRulesDoesNotModifyInput guards the pure-function contract.
func TestInjectorRulesDoesNotModifyInput(t *testing.T) {
	labels := kv(KeyInject, "yes", "team", "batch")
	annotations := kv(KeyInject, "false")
	inj := &config.Injector{Revision: "default", Policy: "enabled", NeverInjectSelector: []metav1.LabelSelector{sel("team", "batch")}}
	_ = InjectorRules(inj, Pod{Labels: labels, Annotations: annotations})
	if len(labels) != 2 || labels[KeyInject] != "yes" || len(annotations) != 1 || len(inj.NeverInjectSelector) != 1 {
		t.Fatalf("input modified: %v %v %v", labels, annotations, inj.NeverInjectSelector)
	}
}

// checkDecision compares the parts of a Decision every table checks.
func checkDecision(t *testing.T, got Decision, inject bool, reason, warn string, wantErr bool) {
	t.Helper()
	if got.Inject != inject {
		t.Errorf("Inject = %v, want %v (reason %q)", got.Inject, inject, got.Reason)
	}
	if !strings.Contains(got.Reason, reason) {
		t.Errorf("Reason = %q, want it to contain %q", got.Reason, reason)
	}
	if warn == "" && len(got.Warnings) > 0 {
		t.Errorf("Warnings = %q, want none", got.Warnings)
	}
	if warn != "" && !containsSub(got.Warnings, warn) {
		t.Errorf("Warnings = %q, want one containing %q", got.Warnings, warn)
	}
	if (got.Err != nil) != wantErr {
		t.Errorf("Err = %v, want error: %v", got.Err, wantErr)
	}
	if got.Err != nil && got.Inject {
		t.Errorf("Inject with an error")
	}
}

func containsSub(list []string, sub string) bool {
	for _, s := range list {
		if strings.Contains(s, sub) {
			return true
		}
	}
	return false
}
