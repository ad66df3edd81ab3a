package decide_test

import (
	"reflect"
	"strings"
	"testing"

	"github.com/inject-sidecar/inject-sidecar/pkg/config"
	"github.com/inject-sidecar/inject-sidecar/pkg/decide"
)

// pairs reads "key=value" lines into a map.
func pairs(s string) map[string]string {
	m := map[string]string{}
	for _, line := range strings.Split(s, "\n") {
		if k, v, ok := strings.Cut(line, "="); ok {
			m[k] = v
		}
	}
	return m
}

// FuzzDecide decides for a pod whose labels and annotations, namespace
// labels and injector selectors and policy are arbitrary. The decision
// must be consistent (an injection has a revision and no error) and the
// same when asked twice.
func FuzzDecide(f *testing.F) {
	injectors := []string{
		"policy: enabled\n",
		"policy: disabled\nalwaysInjectSelector:\n- matchLabels: {team: batch}\n",
		"policy: enabled\nneverInjectSelector:\n- matchExpressions:\n  - {key: team, operator: In, values: [batch, jobs]}\n",
		"policy: enabled\nneverInjectSelector:\n- matchExpressions:\n  - {key: team, operator: Like, values: [x]}\n- {}\n",
		"policy: enable\n",
	}
	pods := []string{
		"app=web",
		"sidecar.istio.io/inject=true",
		"sidecar.istio.io/inject=yes\nteam=batch",
		"istio.io/rev=canary",
	}
	annotations := []string{"", "sidecar.istio.io/inject=false", "inject.istio.io/templates=gateway"}
	namespaces := []string{"", "istio-injection=enabled", "istio-injection=disabled", "istio.io/rev=default"}
	for i, inj := range injectors {
		f.Add(inj, pods[i%len(pods)], annotations[i%len(annotations)], namespaces[i%len(namespaces)], uint8(i))
	}
	f.Fuzz(func(t *testing.T, injectorConfig, podLabels, podAnnotations, nsLabels string, mode uint8) {
		ic, err := config.ParseInjectorConfig([]byte(injectorConfig))
		if err != nil {
			return
		}
		inj := &config.Injector{
			Revision: config.DefaultRevision, Policy: ic.Policy,
			NeverInjectSelector: ic.NeverInjectSelector, AlwaysInjectSelector: ic.AlwaysInjectSelector,
			DefaultTemplates: ic.DefaultTemplates, Templates: ic.Templates,
			Values: map[string]any{}, Mesh: config.DefaultMeshConfig(),
		}
		modes := []config.DecisionMode{config.DecideLikeWebhook, config.DecideLikeKubeInject}
		unknown := []config.UnknownNamespacePolicy{config.UnknownNamespaceInject, config.UnknownNamespaceSkip, config.UnknownNamespaceError}
		cfg := &config.Config{
			Injectors: map[string]*config.Injector{config.DefaultRevision: inj},
			Tags:      map[string]string{},
			Options: config.Options{
				Revision: config.DefaultRevision, DecisionMode: modes[int(mode)%2],
				UnknownNamespace: unknown[int(mode/2)%3], DefaultNamespace: "default",
				Namespaces: map[string]config.Namespace{},
			},
		}
		d, err := decide.New(cfg, map[string]config.Namespace{"shop": {Labels: pairs(nsLabels)}})
		if err != nil {
			return
		}
		for _, ns := range []string{"shop", "elsewhere", "kube-system", ""} {
			pod := decide.Pod{Kind: "Deployment", Name: "web", Namespace: ns, Labels: pairs(podLabels),
				Annotations: pairs(podAnnotations), HostNetwork: mode&8 != 0}
			dec := d.Decide(pod)
			if dec.Inject && (dec.Err != nil || dec.Revision == "") {
				t.Fatalf("namespace %q: inconsistent decision %+v", ns, dec)
			}
			if dec.Reason == "" && dec.Err == nil {
				t.Fatalf("namespace %q: decision without a reason: %+v", ns, dec)
			}
			if again := d.Decide(pod); !reflect.DeepEqual(again, dec) {
				t.Fatalf("namespace %q: decided %+v, then %+v", ns, dec, again)
			}
		}
	})
}
