package decide

import (
	"errors"
	"fmt"
	"reflect"
	"strings"
	"testing"

	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
)

func expr(key string, op metav1.LabelSelectorOperator, values ...string) metav1.LabelSelectorRequirement {
	return metav1.LabelSelectorRequirement{Key: key, Operator: op, Values: values}
}

func exprs(reqs ...metav1.LabelSelectorRequirement) *metav1.LabelSelector {
	return &metav1.LabelSelector{MatchExpressions: reqs}
}

const (
	in  = metav1.LabelSelectorOpIn
	nin = metav1.LabelSelectorOpNotIn
	dne = metav1.LabelSelectorOpDoesNotExist
)

// TestBuiltinWebhooksDefault spells out the table of section 1a for the
// default revision, written independently of the implementation.
func TestBuiltinWebhooksDefault(t *testing.T) {
	want := []Webhook{
		{Name: "rev.namespace.sidecar-injector.istio.io", Revision: "default",
			NamespaceSelector: exprs(expr("istio.io/rev", in, "default"), expr("istio-injection", dne)),
			ObjectSelector:    exprs(expr("sidecar.istio.io/inject", nin, "false"))},
		{Name: "rev.object.sidecar-injector.istio.io", Revision: "default",
			NamespaceSelector: exprs(expr("istio.io/rev", dne), expr("istio-injection", dne)),
			ObjectSelector:    exprs(expr("sidecar.istio.io/inject", nin, "false"), expr("istio.io/rev", in, "default"))},
		{Name: "namespace.sidecar-injector.istio.io", Revision: "default",
			NamespaceSelector: exprs(expr("istio-injection", in, "enabled")),
			ObjectSelector:    exprs(expr("sidecar.istio.io/inject", nin, "false"))},
		{Name: "object.sidecar-injector.istio.io", Revision: "default",
			NamespaceSelector: exprs(expr("istio-injection", dne), expr("istio.io/rev", dne)),
			ObjectSelector:    exprs(expr("sidecar.istio.io/inject", in, "true"), expr("istio.io/rev", dne))},
	}
	auto := Webhook{Name: "auto.sidecar-injector.istio.io", Revision: "default",
		NamespaceSelector: exprs(expr("istio-injection", dne), expr("istio.io/rev", dne),
			expr("kubernetes.io/metadata.name", nin, "kube-system", "kube-public", "kube-node-lease", "local-path-storage")),
		ObjectSelector: exprs(expr("sidecar.istio.io/inject", dne), expr("istio.io/rev", dne))}

	if got := BuiltinWebhooks([]string{"default"}, nil, false); !reflect.DeepEqual(got, want) {
		t.Errorf("default revision:\n got %+v\nwant %+v", got, want)
	}
	if got := BuiltinWebhooks([]string{"default"}, nil, true); !reflect.DeepEqual(got, append(want[:4:4], auto)) {
		t.Errorf("default revision with enableNamespacesByDefault:\n got %+v", got)
	}

	wantCanary := []Webhook{
		{Name: "rev.namespace.sidecar-injector.istio.io", Revision: "canary",
			NamespaceSelector: exprs(expr("istio.io/rev", in, "canary"), expr("istio-injection", dne)),
			ObjectSelector:    exprs(expr("sidecar.istio.io/inject", nin, "false"))},
		{Name: "rev.object.sidecar-injector.istio.io", Revision: "canary",
			NamespaceSelector: exprs(expr("istio.io/rev", dne), expr("istio-injection", dne)),
			ObjectSelector:    exprs(expr("sidecar.istio.io/inject", nin, "false"), expr("istio.io/rev", in, "canary"))},
	}
	// enableNamespacesByDefault only concerns the default set.
	if got := BuiltinWebhooks([]string{"canary"}, nil, true); !reflect.DeepEqual(got, wantCanary) {
		t.Errorf("canary revision:\n got %+v\nwant %+v", got, wantCanary)
	}

	wantTag := []Webhook{
		{Name: "rev.namespace.sidecar-injector.istio.io", Revision: "canary", Tag: "prod",
			NamespaceSelector: exprs(expr("istio.io/rev", in, "prod"), expr("istio-injection", dne)),
			ObjectSelector:    exprs(expr("sidecar.istio.io/inject", nin, "false"))},
		{Name: "rev.object.sidecar-injector.istio.io", Revision: "canary", Tag: "prod",
			NamespaceSelector: exprs(expr("istio.io/rev", dne), expr("istio-injection", dne)),
			ObjectSelector:    exprs(expr("sidecar.istio.io/inject", nin, "false"), expr("istio.io/rev", in, "prod"))},
	}
	if got := BuiltinWebhooks([]string{"canary"}, map[string]string{"prod": "canary"}, false); !reflect.DeepEqual(got, append(wantCanary[:2:2], wantTag...)) {
		t.Errorf("canary revision with tag prod:\n got %+v", got)
	}
}

// TestBuiltinWebhooksSets checks which webhooks exist, in which order, for
// combinations of revisions and tags.
func TestBuiltinWebhooksSets(t *testing.T) {
	tests := []struct {
		name      string
		revisions []string
		tags      map[string]string
		auto      bool
		want      []string // name/revision/tag
	}{
		{name: "nothing", want: nil},
		{name: "default", revisions: []string{"default"}, want: []string{
			"rev.namespace/default/", "rev.object/default/", "namespace/default/", "object/default/"}},
		{name: "default with auto", revisions: []string{"default"}, auto: true, want: []string{
			"rev.namespace/default/", "rev.object/default/", "namespace/default/", "object/default/", "auto/default/"}},
		{name: "revisions sorted, default first, duplicates and empty dropped", revisions: []string{"canary", "", "default", "canary", "b"}, want: []string{
			"rev.namespace/default/", "rev.object/default/", "namespace/default/", "object/default/",
			"rev.namespace/b/", "rev.object/b/", "rev.namespace/canary/", "rev.object/canary/"}},
		{name: "tags sorted after revisions", revisions: []string{"default", "canary"}, tags: map[string]string{"stable": "default", "prod": "canary"}, want: []string{
			"rev.namespace/default/", "rev.object/default/", "namespace/default/", "object/default/",
			"rev.namespace/canary/", "rev.object/canary/",
			"rev.namespace/canary/prod", "rev.object/canary/prod",
			"rev.namespace/default/stable", "rev.object/default/stable"}},
		// The "default" tag installs the default set for its revision and
		// deactivates the default revision's own webhooks.
		{name: "tag default displaces the default revision", revisions: []string{"default", "canary"}, tags: map[string]string{"default": "canary"}, auto: true, want: []string{
			"rev.namespace/canary/default", "rev.object/canary/default", "namespace/canary/default", "object/canary/default", "auto/canary/default",
			"rev.namespace/canary/", "rev.object/canary/"}},
		{name: "tag default without a default revision", revisions: []string{"canary"}, tags: map[string]string{"default": "canary"}, want: []string{
			"rev.namespace/canary/default", "rev.object/canary/default", "namespace/canary/default", "object/canary/default",
			"rev.namespace/canary/", "rev.object/canary/"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var got []string
			for _, h := range BuiltinWebhooks(tt.revisions, tt.tags, tt.auto) {
				got = append(got, fmt.Sprintf("%s/%s/%s", strings.TrimSuffix(h.Name, ".sidecar-injector.istio.io"), h.Revision, h.Tag))
			}
			if !reflect.DeepEqual(got, tt.want) {
				t.Errorf("got  %q\nwant %q", got, tt.want)
			}
		})
	}
}

// TestBuiltinWebhooksFresh: callers may modify what they get back.
func TestBuiltinWebhooksFresh(t *testing.T) {
	a := BuiltinWebhooks([]string{"default"}, nil, true)
	a[0].NamespaceSelector.MatchExpressions[0].Values[0] = "changed"
	b := BuiltinWebhooks([]string{"default"}, nil, true)
	if b[0].NamespaceSelector.MatchExpressions[0].Values[0] != "default" {
		t.Fatal("BuiltinWebhooks shares state between calls")
	}
	if got := IgnoredNamespaces(); got[0] != "kube-system" {
		t.Fatalf("IgnoredNamespaces = %v", got)
	}
}

// TestMatchWebhooks crosses namespace labels with pod labels for the default
// and canary revisions and the tag prod → canary, naming the row of the
// section 1a table that makes each outcome.
func TestMatchWebhooks(t *testing.T) {
	hooks := BuiltinWebhooks([]string{"default", "canary"}, map[string]string{"prod": "canary"}, false)
	autoHooks := BuiltinWebhooks([]string{"default", "canary"}, map[string]string{"prod": "canary"}, true)

	// Namespace labels.
	var (
		nsNone        = kv()
		nsEnabled     = kv("istio-injection", "enabled")
		nsDisabled    = kv("istio-injection", "disabled")
		nsRevDefault  = kv("istio.io/rev", "default")
		nsRevCanary   = kv("istio.io/rev", "canary")
		nsRevProd     = kv("istio.io/rev", "prod")
		nsRevUnknown  = kv("istio.io/rev", "nope")
		nsEnabledRev  = kv("istio-injection", "enabled", "istio.io/rev", "canary")
		nsDisabledRev = kv("istio-injection", "disabled", "istio.io/rev", "canary")
		nsOther       = kv("istio-injection", "maybe")
	)
	// Pod labels.
	var (
		podNone         = kv("app", "web")
		podTrue         = kv("sidecar.istio.io/inject", "true")
		podFalse        = kv("sidecar.istio.io/inject", "false")
		podEmpty        = kv("sidecar.istio.io/inject", "")
		podRevCanary    = kv("istio.io/rev", "canary")
		podRevProd      = kv("istio.io/rev", "prod")
		podRevDefault   = kv("istio.io/rev", "default")
		podTrueCanary   = kv("sidecar.istio.io/inject", "true", "istio.io/rev", "canary")
		podFalseCanary  = kv("sidecar.istio.io/inject", "false", "istio.io/rev", "canary")
		podRevUnknown   = kv("istio.io/rev", "nope")
		podTrueUpper    = kv("sidecar.istio.io/inject", "True")
		podAnnotateOnly = map[string]string(nil) // the annotation is invisible to selectors
	)

	tests := []struct {
		name      string
		hooks     []Webhook
		namespace string
		ns, pod   map[string]string
		want      string // first matched "name/revision/tag", "" for none
	}{
		// Namespace without injection labels.
		{"none/none", hooks, "demo", nsNone, podNone, ""},                                            // object needs inject=true; rev.object needs pod istio.io/rev
		{"none/annotation only", hooks, "demo", nsNone, podAnnotateOnly, ""},                         // selectors see labels only
		{"none/true", hooks, "demo", nsNone, podTrue, "object/default/"},                             // row object: inject In [true], no istio.io/rev
		{"none/True", hooks, "demo", nsNone, podTrueUpper, ""},                                       // object needs exactly "true"
		{"none/empty", hooks, "demo", nsNone, podEmpty, ""},                                          // object needs exactly "true"
		{"none/false", hooks, "demo", nsNone, podFalse, ""},                                          // every objectSelector excludes inject=false
		{"none/rev canary", hooks, "demo", nsNone, podRevCanary, "rev.object/canary/"},               // row rev.object of canary: pod istio.io/rev In [canary]
		{"none/rev prod", hooks, "demo", nsNone, podRevProd, "rev.object/canary/prod"},               // rev.object of tag prod, served by canary
		{"none/rev default", hooks, "demo", nsNone, podRevDefault, "rev.object/default/"},            // row rev.object of default
		{"none/true+rev canary", hooks, "demo", nsNone, podTrueCanary, "rev.object/canary/"},         // object needs istio.io/rev absent; rev.object canary matches
		{"none/false+rev canary", hooks, "demo", nsNone, podFalseCanary, ""},                         // inject=false excludes rev.object too
		{"none/rev unknown", hooks, "demo", nsNone, podRevUnknown, ""},                               // no webhook selects istio.io/rev=nope
		{"none/true in kube-system", hooks, "kube-system", nsNone, podTrue, "object/default/"},       // the API server calls it; the injector refuses later (1b)
		{"none/none with auto", autoHooks, "demo", nsNone, podNone, "auto/default/"},                 // row auto: no labels anywhere
		{"none/none with auto in kube-system", autoHooks, "kube-system", nsNone, podNone, ""},        // row auto: kubernetes.io/metadata.name NotIn [...]
		{"none/none with auto in local-path", autoHooks, "local-path-storage", nsNone, podNone, ""},  // row auto, likewise
		{"none/true with auto", autoHooks, "demo", nsNone, podTrue, "object/default/"},               // auto needs inject absent; object matches
		{"none/false with auto", autoHooks, "demo", nsNone, podFalse, ""},                            // auto needs inject absent
		{"none/rev canary with auto", autoHooks, "demo", nsNone, podRevCanary, "rev.object/canary/"}, // auto needs istio.io/rev absent

		// istio-injection=enabled: the namespace webhook of the default set.
		{"enabled/none", hooks, "demo", nsEnabled, podNone, "namespace/default/"},               // row namespace: istio-injection In [enabled]
		{"enabled/true", hooks, "demo", nsEnabled, podTrue, "namespace/default/"},               // row namespace; object needs istio-injection absent
		{"enabled/empty", hooks, "demo", nsEnabled, podEmpty, "namespace/default/"},             // "" is NotIn [false]
		{"enabled/false", hooks, "demo", nsEnabled, podFalse, ""},                               // row namespace: inject NotIn [false]
		{"enabled/rev canary", hooks, "demo", nsEnabled, podRevCanary, "namespace/default/"},    // rev.object needs istio-injection absent: namespace label wins
		{"enabled/rev prod", hooks, "demo", nsEnabled, podRevProd, "namespace/default/"},        // likewise for the tag
		{"enabled+rev canary/none", hooks, "demo", nsEnabledRev, podNone, "namespace/default/"}, // istio-injection wins over istio.io/rev
		{"enabled+rev canary/rev canary", hooks, "demo", nsEnabledRev, podRevCanary, "namespace/default/"},

		// istio-injection=disabled (or any value but enabled).
		{"disabled/none", hooks, "demo", nsDisabled, podNone, ""},               // namespace needs enabled; all others need istio-injection absent
		{"disabled/true", hooks, "demo", nsDisabled, podTrue, ""},               // object needs istio-injection absent
		{"disabled/rev canary", hooks, "demo", nsDisabled, podRevCanary, ""},    // rev.object needs istio-injection absent
		{"disabled+rev canary/none", hooks, "demo", nsDisabledRev, podNone, ""}, // rev.namespace needs istio-injection absent
		{"other value/true", hooks, "demo", nsOther, podTrue, ""},               // any istio-injection value disables all but namespace
		{"disabled/none with auto", autoHooks, "demo", nsDisabled, podNone, ""}, // auto needs istio-injection absent

		// istio.io/rev on the namespace.
		{"rev default/none", hooks, "demo", nsRevDefault, podNone, "rev.namespace/default/"},            // row rev.namespace of default
		{"rev default/true", hooks, "demo", nsRevDefault, podTrue, "rev.namespace/default/"},            // object needs istio.io/rev absent on the namespace
		{"rev default/false", hooks, "demo", nsRevDefault, podFalse, ""},                                // rev.namespace: inject NotIn [false]
		{"rev default/rev canary", hooks, "demo", nsRevDefault, podRevCanary, "rev.namespace/default/"}, // rev.object needs namespace istio.io/rev absent: namespace wins
		{"rev canary/none", hooks, "demo", nsRevCanary, podNone, "rev.namespace/canary/"},               // row rev.namespace of canary
		{"rev canary/true", hooks, "demo", nsRevCanary, podTrue, "rev.namespace/canary/"},
		{"rev canary/false", hooks, "demo", nsRevCanary, podFalse, ""},
		{"rev canary/rev default", hooks, "demo", nsRevCanary, podRevDefault, "rev.namespace/canary/"}, // namespace wins over the pod label
		{"rev canary/rev prod", hooks, "demo", nsRevCanary, podRevProd, "rev.namespace/canary/"},
		{"rev prod/none", hooks, "demo", nsRevProd, podNone, "rev.namespace/canary/prod"}, // rev.namespace of tag prod, served by canary
		{"rev prod/true", hooks, "demo", nsRevProd, podTrue, "rev.namespace/canary/prod"},
		{"rev prod/false", hooks, "demo", nsRevProd, podFalse, ""},
		{"rev prod/rev default", hooks, "demo", nsRevProd, podRevDefault, "rev.namespace/canary/prod"},
		{"rev unknown/none", hooks, "demo", nsRevUnknown, podNone, ""},               // no rev.namespace for nope
		{"rev unknown/true", hooks, "demo", nsRevUnknown, podTrue, ""},               // object needs istio.io/rev absent on the namespace
		{"rev unknown/rev canary", hooks, "demo", nsRevUnknown, podRevCanary, ""},    // rev.object needs istio.io/rev absent on the namespace
		{"rev unknown/none with auto", autoHooks, "demo", nsRevUnknown, podNone, ""}, // auto needs istio.io/rev absent
		{"rev default/none with auto", autoHooks, "demo", nsRevDefault, podNone, "rev.namespace/default/"},

		// kubernetes.io/metadata.name is set from the name, whatever the input says.
		{"forged metadata.name", autoHooks, "kube-system", kv("kubernetes.io/metadata.name", "demo"), podNone, ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := MatchWebhooks(tt.hooks, tt.namespace, tt.ns, tt.pod)
			if err != nil {
				t.Fatalf("error: %v", err)
			}
			first := ""
			if len(got) > 0 {
				first = fmt.Sprintf("%s/%s/%s", strings.TrimSuffix(got[0].Name, ".sidecar-injector.istio.io"), got[0].Revision, got[0].Tag)
			}
			if first != tt.want {
				t.Errorf("matched %q, want %q (all: %+v)", first, tt.want, got)
			}
			// The chart's selectors are exclusive: at most one matches.
			if len(got) > 1 {
				t.Errorf("%d webhooks matched, want at most one", len(got))
			}
		})
	}
}

func TestMatchWebhooksConflict(t *testing.T) {
	// A tag named like a revision but served by another one (New refuses
	// this configuration; MatchWebhooks still reports it).
	hooks := BuiltinWebhooks([]string{"default", "canary"}, map[string]string{"canary": "default"}, false)
	got, err := MatchWebhooks(hooks, "demo", kv("istio.io/rev", "canary"), nil)
	if !errors.Is(err, ErrRevisionConflict) {
		t.Fatalf("err = %v, want ErrRevisionConflict", err)
	}
	if len(got) != 2 {
		t.Fatalf("matched %d webhooks, want 2", len(got))
	}
	for _, s := range []string{"revision canary", "revision default", "rev.namespace.sidecar-injector.istio.io"} {
		if !strings.Contains(err.Error(), s) {
			t.Errorf("error %q does not name %q", err, s)
		}
	}

	// Two webhooks of the same revision are no conflict.
	same := []Webhook{{Name: "a", Revision: "x"}, {Name: "b", Revision: "x"}}
	if got, err := MatchWebhooks(same, "demo", nil, nil); err != nil || len(got) != 2 {
		t.Fatalf("same revision: got %v, %v", got, err)
	}
}

func TestMatchWebhooksSelectorEdgeCases(t *testing.T) {
	tests := []struct {
		name    string
		hook    Webhook
		match   bool
		wantErr bool
	}{
		{name: "nil selectors match everything", hook: Webhook{Name: "w", Revision: "x"}, match: true},
		{name: "empty selectors match everything", hook: Webhook{Name: "w", Revision: "x", NamespaceSelector: &metav1.LabelSelector{}, ObjectSelector: &metav1.LabelSelector{}}, match: true},
		{name: "matchLabels on namespace name", hook: Webhook{Name: "w", Revision: "x", NamespaceSelector: &metav1.LabelSelector{MatchLabels: kv("kubernetes.io/metadata.name", "demo")}}, match: true},
		{name: "invalid namespace selector", hook: Webhook{Name: "w", Revision: "x", NamespaceSelector: exprs(expr("a", "Like"))}, wantErr: true},
		{name: "invalid object selector", hook: Webhook{Name: "w", Revision: "x", ObjectSelector: exprs(expr("a", in))}, wantErr: true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := MatchWebhooks([]Webhook{tt.hook}, "demo", nil, kv("app", "web"))
			if (err != nil) != tt.wantErr {
				t.Fatalf("err = %v, want error %v", err, tt.wantErr)
			}
			if (len(got) == 1) != tt.match {
				t.Fatalf("matched %v, want match %v", got, tt.match)
			}
		})
	}
}

func TestNamespaceLabels(t *testing.T) {
	src := kv("team", "a", "kubernetes.io/metadata.name", "forged")
	got := NamespaceLabels("demo", src)
	if got["kubernetes.io/metadata.name"] != "demo" || got["team"] != "a" {
		t.Fatalf("got %v", got)
	}
	if src["kubernetes.io/metadata.name"] != "forged" {
		t.Fatal("input modified")
	}
	if got := NamespaceLabels("demo", nil); len(got) != 1 {
		t.Fatalf("nil labels: got %v", got)
	}
}
