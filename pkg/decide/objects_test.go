package decide

import (
	"fmt"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"

	"sigs.k8s.io/kustomize/kyaml/kio"
	"sigs.k8s.io/kustomize/kyaml/yaml"

	"github.com/inject-sidecar/inject-sidecar/pkg/config"
)

func readObjects(t *testing.T, name string) []*yaml.RNode {
	t.Helper()
	data, err := os.ReadFile(filepath.Join("testdata", "webhooks", name))
	if err != nil {
		t.Fatal(err)
	}
	objs, err := kio.FromBytes(data)
	if err != nil {
		t.Fatalf("%s: %v", name, err)
	}
	return objs
}

// hookSummary is name/revision/tag/configuration, for compact comparisons.
func hookSummary(hooks []Webhook) []string {
	var out []string
	for _, h := range hooks {
		out = append(out, fmt.Sprintf("%s/%s/%s/%s", strings.TrimSuffix(h.Name, ".sidecar-injector.istio.io"), h.Revision, h.Tag, h.Configuration))
	}
	return out
}

// TestWebhooksInInstall reads a rendered install: the selectors are the
// chart's, which here equal the built-in table, so both must agree.
func TestWebhooksInInstall(t *testing.T) {
	set, err := WebhooksIn(readObjects(t, "install.yaml"))
	if err != nil {
		t.Fatal(err)
	}
	wantSummary := []string{
		"rev.namespace/default//istio-sidecar-injector", "rev.object/default//istio-sidecar-injector",
		"namespace/default//istio-sidecar-injector", "object/default//istio-sidecar-injector",
		"rev.namespace/canary//istio-sidecar-injector-canary", "rev.object/canary//istio-sidecar-injector-canary",
		"rev.namespace/canary/prod/istio-revision-tag-prod", "rev.object/canary/prod/istio-revision-tag-prod",
	}
	if got := hookSummary(set.Webhooks); !reflect.DeepEqual(got, wantSummary) {
		t.Errorf("webhooks\n got %q\nwant %q", got, wantSummary)
	}
	wantConfigs := []string{"istio-sidecar-injector", "istio-sidecar-injector-canary", "istio-revision-tag-prod"}
	if !reflect.DeepEqual(set.Configurations, wantConfigs) {
		t.Errorf("Configurations = %q, want %q", set.Configurations, wantConfigs)
	}
	if len(set.Warnings) != 0 {
		t.Errorf("Warnings = %q, want none", set.Warnings)
	}
	// The install is the chart's, so its selectors are the table's (1a).
	builtin := BuiltinWebhooks([]string{"default", "canary"}, map[string]string{"prod": "canary"}, false)
	for i := range builtin {
		got := set.Webhooks[i]
		if !reflect.DeepEqual(got.NamespaceSelector, builtin[i].NamespaceSelector) || !reflect.DeepEqual(got.ObjectSelector, builtin[i].ObjectSelector) {
			t.Errorf("webhook %d (%s of %s): selectors differ from the built-in table:\n got %v / %v\nwant %v / %v", i, got.Name, got.Configuration,
				got.NamespaceSelector, got.ObjectSelector, builtin[i].NamespaceSelector, builtin[i].ObjectSelector)
		}
	}
}

func TestWebhooksInMixed(t *testing.T) {
	set, err := WebhooksIn(readObjects(t, "mixed.yaml"))
	if err != nil {
		t.Fatal(err)
	}
	// mutate.example.com is not Istio's; deployments, updates and norules
	// are never called for a pod's creation; cel is read, with a warning.
	want := []string{"sidecar-injector.istio.io/blue//mixed", "cel/blue//mixed"}
	if got := hookSummary(set.Webhooks); !reflect.DeepEqual(got, want) {
		t.Errorf("webhooks\n got %q\nwant %q", got, want)
	}
	if set.Webhooks[0].NamespaceSelector == nil || set.Webhooks[0].NamespaceSelector.MatchLabels["istio-injection"] != "enabled" {
		t.Errorf("matchLabels not read: %+v", set.Webhooks[0].NamespaceSelector)
	}
	if set.Webhooks[0].ObjectSelector != nil {
		t.Errorf("absent objectSelector = %+v, want nil (matches everything)", set.Webhooks[0].ObjectSelector)
	}
	wantWarnings := []string{
		`admissionregistration.k8s.io/v1beta1 MutatingWebhookConfiguration "legacy" is ignored: only admissionregistration.k8s.io/v1 is read`,
		`MutatingWebhookConfiguration "mixed": webhook deployments.sidecar-injector.istio.io is ignored: its rules do not cover the creation of pods`,
		`MutatingWebhookConfiguration "mixed": webhook updates.sidecar-injector.istio.io is ignored: its rules do not cover the creation of pods`,
		`MutatingWebhookConfiguration "mixed": webhook norules.sidecar-injector.istio.io is ignored: its rules do not cover the creation of pods`,
		`MutatingWebhookConfiguration "mixed": webhook cel.sidecar-injector.istio.io: matchConditions are not evaluated offline; only its selectors are`,
	}
	// The v1beta1 object comes second in the file but warns when met.
	got := set.Warnings
	if len(got) != len(wantWarnings) {
		t.Fatalf("Warnings = %q\nwant %q", got, wantWarnings)
	}
	for _, w := range wantWarnings {
		if !containsSub(got, w) {
			t.Errorf("no warning %q in %q", w, got)
		}
	}
}

func TestWebhooksInDuplicate(t *testing.T) {
	objs := readObjects(t, "duplicate.yaml")
	// Two identical copies: read once, silently.
	set, err := WebhooksIn(objs[:2])
	if err != nil {
		t.Fatal(err)
	}
	if len(set.Webhooks) != 1 || len(set.Configurations) != 1 || len(set.Warnings) != 0 {
		t.Fatalf("identical copies: %+v", set)
	}
	// A different third copy wins, with a warning.
	set, err = WebhooksIn(objs)
	if err != nil {
		t.Fatal(err)
	}
	if len(set.Webhooks) != 1 || set.Webhooks[0].NamespaceSelector.MatchLabels["istio-injection"] != "true" {
		t.Fatalf("later copy does not win: %+v", set.Webhooks)
	}
	want := []string{`MutatingWebhookConfiguration "istio-sidecar-injector" is given twice with different webhooks; the later one is used`}
	if !reflect.DeepEqual(set.Warnings, want) {
		t.Errorf("Warnings = %q, want %q", set.Warnings, want)
	}
}

func TestWebhooksInNone(t *testing.T) {
	for _, objs := range [][]*yaml.RNode{nil, {nil}, readObjects(t, "install.yaml")[3:]} {
		set, err := WebhooksIn(objs)
		if err != nil || len(set.Configurations) != 0 || len(set.Webhooks) != 0 || len(set.Warnings) != 0 {
			t.Errorf("WebhooksIn = %+v, %v; want nothing", set, err)
		}
	}
}

// TestWebhooksInErrors: each error names the object and the field.
func TestWebhooksInErrors(t *testing.T) {
	tests := []struct {
		file string
		want []string // substrings of the error
	}{
		{"bad-no-revision.yaml", []string{`MutatingWebhookConfiguration "istio-revision-tag-prod"`, "field metadata.labels.istio.io/rev: missing or empty"}},
		{"bad-empty-tag.yaml", []string{`MutatingWebhookConfiguration "istio-revision-tag-prod"`, "field metadata.labels.istio.io/tag: empty"}},
		{"bad-selector-type.yaml", []string{`MutatingWebhookConfiguration "istio-sidecar-injector"`, "field webhooks[1].namespaceSelector (webhook namespace.sidecar-injector.istio.io)"}},
		{"bad-selector-operator.yaml", []string{"field webhooks[0].objectSelector (webhook object.sidecar-injector.istio.io)", `"Like" is not a valid label selector operator`}},
		{"bad-selector-field.yaml", []string{"field webhooks[0].objectSelector", `unknown field "matchLabel"`}},
		{"bad-webhooks.yaml", []string{`MutatingWebhookConfiguration "istio-sidecar-injector": field webhooks:`}},
		{"bad-rules.yaml", []string{"field webhooks[0].rules[0] (webhook sidecar-injector.istio.io): json:"}},
	}
	for _, tt := range tests {
		t.Run(tt.file, func(t *testing.T) {
			_, err := WebhooksIn(readObjects(t, tt.file))
			if err == nil {
				t.Fatal("no error")
			}
			for _, w := range tt.want {
				if !strings.Contains(err.Error(), w) {
					t.Errorf("error %q does not contain %q", err, w)
				}
			}
		})
	}
}

func TestIsInjectionWebhook(t *testing.T) {
	for name, want := range map[string]bool{
		"sidecar-injector.istio.io":               true,
		"rev.namespace.sidecar-injector.istio.io": true,
		"auto.sidecar-injector.istio.io":          true,
		"xsidecar-injector.istio.io":              false,
		"sidecar-injector.istio.io.example.com":   false,
		"rev.validation.istio.io":                 false,
		"":                                        false,
	} {
		if got := IsInjectionWebhook(name); got != want {
			t.Errorf("IsInjectionWebhook(%q) = %v, want %v", name, got, want)
		}
	}
}

// TestNewWithInputWebhooks: the input's webhooks replace the built-in
// table, and their tags join the configuration's.
func TestNewWithInputWebhooks(t *testing.T) {
	install, err := WebhooksIn(readObjects(t, "install.yaml"))
	if err != nil {
		t.Fatal(err)
	}
	// Only default and canary, no tags: prod comes from the webhooks.
	base := func() *config.Config {
		cfg := testConfig("enabled", "enabled", config.Options{UnknownNamespace: config.UnknownNamespaceInject})
		cfg.Tags = nil
		return cfg
	}
	tests := []struct {
		name     string
		cfg      func() *config.Config
		set      WebhookSet
		err      string   // substring; "" means success
		warnings []string // exact, in order
		tags     map[string]string
	}{
		{name: "install", cfg: base, set: install, tags: map[string]string{"prod": "canary"}},
		{name: "no configurations: built-in table", cfg: base, set: WebhookSet{Warnings: []string{"w"}}, warnings: []string{"w"}, tags: map[string]string{}},
		{name: "the configuration's tag agrees", cfg: func() *config.Config { c := base(); c.Tags = map[string]string{"prod": "canary"}; return c },
			set: install, tags: map[string]string{"prod": "canary"}},
		{name: "the configuration's tag disagrees", cfg: func() *config.Config { c := base(); c.Tags = map[string]string{"prod": "default"}; return c },
			set: install, err: "tag prod: the configuration maps it to revision default, but MutatingWebhookConfiguration istio-revision-tag-prod to revision canary"},
		{name: "a tag of the configuration without webhook", cfg: func() *config.Config { c := base(); c.Tags = map[string]string{"stable": "default"}; return c },
			set: install, tags: map[string]string{"prod": "canary", "stable": "default"},
			warnings: []string{"tag stable of the configuration has no webhook among the input's MutatingWebhookConfigurations, so no pod selects it"}},
		{name: "a revision without webhook", cfg: func() *config.Config {
			c := base()
			c.Injectors["blue"] = &config.Injector{Revision: "blue", Policy: "enabled"}
			return c
		}, set: install, tags: map[string]string{"prod": "canary"},
			warnings: []string{"revision blue has an injector configuration but no webhook among the input's MutatingWebhookConfigurations, so no pod selects it"}},
		{name: "two configurations disagree on a tag", cfg: base, set: WebhookSet{Configurations: []string{"a", "b"}, Webhooks: []Webhook{
			{Name: "x", Revision: "default", Tag: "prod", Configuration: "a"}, {Name: "y", Revision: "canary", Tag: "prod", Configuration: "b"}}},
			err: "tag prod: MutatingWebhookConfiguration a says revision default, MutatingWebhookConfiguration b says revision canary"},
		{name: "a tag named like a revision", cfg: base, set: WebhookSet{Configurations: []string{"a"}, Webhooks: []Webhook{
			{Name: "x", Revision: "default", Tag: "canary", Configuration: "a"}}},
			err: "tag canary of MutatingWebhookConfiguration a has the name of a revision"},
		{name: "the configured revision is a tag of the webhooks", cfg: func() *config.Config { c := base(); c.Options.Revision = "prod"; return c },
			set: install, tags: map[string]string{"prod": "canary"}},
		{name: "the configured revision is a tag of a revision without configuration", cfg: func() *config.Config { c := base(); c.Options.Revision = "green"; return c },
			set: WebhookSet{Configurations: []string{"a"}, Webhooks: []Webhook{{Name: "x", Revision: "missing", Tag: "green", Configuration: "a"}}},
			err: `revision "green" is a tag of revision "missing", which has no injector configuration`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			d, err := New(tt.cfg(), nil, WithWebhooks(tt.set))
			if tt.err != "" {
				if err == nil || !strings.Contains(err.Error(), tt.err) {
					t.Fatalf("err = %v, want it to contain %q", err, tt.err)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if !reflect.DeepEqual(d.Warnings(), tt.warnings) {
				t.Errorf("Warnings = %q, want %q", d.Warnings(), tt.warnings)
			}
			if !reflect.DeepEqual(d.Tags(), tt.tags) {
				t.Errorf("Tags = %v, want %v", d.Tags(), tt.tags)
			}
			fromInput := len(tt.set.Configurations) > 0
			if d.WebhooksFromInput() != fromInput {
				t.Errorf("WebhooksFromInput = %v, want %v", d.WebhooksFromInput(), fromInput)
			}
			if fromInput && !reflect.DeepEqual(d.Webhooks(), tt.set.Webhooks) {
				t.Errorf("Webhooks are not the input's")
			}
		})
	}

	// The configured revision "prod" resolves through the webhooks' tag.
	cfg := base()
	cfg.Options.Revision = "prod"
	d, err := New(cfg, nil, WithWebhooks(install))
	if err != nil {
		t.Fatal(err)
	}
	if got := d.Decide(Pod{Namespace: "ghost"}); got.Revision != "canary" || !got.Inject {
		t.Errorf("unknown namespace with revision prod: %+v", got)
	}
}
