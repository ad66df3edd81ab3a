package inject

import (
	"os"
	"path/filepath"
	"strings"
	"testing"

	"sigs.k8s.io/kustomize/kyaml/yaml"

	"github.com/inject-sidecar/inject-sidecar/pkg/config"
	"github.com/inject-sidecar/inject-sidecar/pkg/report"
)

// reinjectSetting is one configuration of testdata/reinject.
type reinjectSetting struct {
	tag    string
	native bool
}

// reinjectRun injects items in place in kube-inject mode with s.
func reinjectRun(t *testing.T, items []*yaml.RNode, s reinjectSetting) (*report.Report, error) {
	t.Helper()
	injector, err := os.ReadFile(filepath.Join("testdata", "reinject", "injector.yaml"))
	if err != nil {
		t.Fatal(err)
	}
	native := "false"
	if s.native {
		native = "true"
	}
	cfg, err := config.Load(config.Input{
		Items:        items,
		InjectConfig: injector,
		Values:       []byte(`{"global": {"hub": "example.com/istio", "tag": "` + s.tag + `", "proxy": {"image": "proxyv2"}, "proxy_init": {"image": "proxyv2"}}}`),
		Extra: []*yaml.RNode{yaml.MustParse("apiVersion: inject-sidecar.dev/v1alpha1\nkind: SidecarInjector\n" +
			"metadata: {name: t}\nspec: {decisionMode: kube-inject, nativeSidecars: " + native + "}\n")},
	})
	if err != nil {
		t.Fatal(err)
	}
	return Run(cfg, items)
}

// TestReinjectKubeInjectMode: in kube-inject mode (no record) a pod that
// is exactly what injecting it again would give stays as it is, where
// Istio's own re-injection changes it (a second istio-proxy) or refuses
// it (no containers left); a pod injected with another configuration is
// re-injected as Istio does.
func TestReinjectKubeInjectMode(t *testing.T) {
	// runs are the outputs of each run, by workload (the items after the
	// Namespace): cart, gateway, spire.
	type want struct {
		// same lists the workloads whose output the run leaves as the
		// previous run made it; the others must change.
		same []string
		// holds are substrings of a changed workload's output, by name.
		holds map[string][]string
		// err is a substring of the run's error: the run then changes
		// nothing.
		err string
	}
	tests := []struct {
		name     string
		settings []reinjectSetting
		// wants are for the runs after the first.
		wants []want
	}{{
		name:     "native sidecars: a second istio-proxy, and no containers left, are current",
		settings: []reinjectSetting{{"1.0", true}, {"1.0", true}},
		wants:    []want{{same: []string{"cart", "gateway", "spire"}}},
	}, {
		name:     "classic sidecars: current",
		settings: []reinjectSetting{{"1.0", false}, {"1.0", false}},
		wants:    []want{{same: []string{"cart", "gateway", "spire"}}},
	}, {
		name:     "another proxy tag: not current, re-injected",
		settings: []reinjectSetting{{"1.0", false}, {"1.1", false}, {"1.1", false}},
		wants: []want{
			{holds: map[string][]string{"cart": {"proxyv2:1.1"}, "gateway": {"proxyv2:1.1"}, "spire": {"proxyv2:1.1"}}},
			{same: []string{"cart", "gateway", "spire"}},
		},
	}, {
		// Not current, the gateway is re-injected as Istio does, on the
		// injected pod: it has no containers, which inject refuses. Only
		// a record (webhook mode) proves that it had istio-proxy among
		// its containers.
		name:     "native sidecars, another proxy tag: the gateway without containers is refused",
		settings: []reinjectSetting{{"1.0", true}, {"1.1", true}},
		wants:    []want{{same: []string{"cart", "gateway", "spire"}, err: "Deployment shop/gateway: field spec.template.spec.containers: the pod template has no containers"}},
	}, {
		// Istio takes the previous classic istio-proxy for the user's own
		// declaration of it and keeps its image, without recording it (the
		// corpus's merge-probers case): nothing proves to the next run that
		// the image was not the injector's, so that run re-renders it, and
		// the one after changes nothing. The gateway's own declaration is
		// recorded (proxy.istio.io/overrides): it moves at once.
		name:     "classic 1.0, then native 1.1: Istio keeps the previous proxy, the next run re-renders it",
		settings: []reinjectSetting{{"1.0", false}, {"1.1", true}, {"1.1", true}, {"1.1", true}},
		wants: []want{
			{holds: map[string][]string{
				"cart":    {"proxyv2:1.0", "restartPolicy: Always"},
				"gateway": {"containers: []", "proxyv2:1.1", "restartPolicy: Always"},
				"spire":   {"proxyv2:1.0", "restartPolicy: Always"},
			}},
			{same: []string{"gateway"}, holds: map[string][]string{"cart": {"proxyv2:1.1"}, "spire": {"proxyv2:1.1"}}},
			{same: []string{"cart", "gateway", "spire"}},
		},
	}}
	names := []string{"cart", "gateway", "spire"}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			items := readItems(t, "reinject", "workloads.yaml")
			if _, err := reinjectRun(t, items, tc.settings[0]); err != nil {
				t.Fatal(err)
			}
			prev := snapshot(items)[1:]
			first := prev
			for i, s := range tc.settings[1:] {
				rep, err := reinjectRun(t, items, s)
				got := snapshot(items)[1:]
				w := tc.wants[i]
				if (err == nil) != (w.err == "") || (err != nil && !strings.Contains(err.Error(), w.err)) {
					t.Errorf("run %d: error %v, want one holding %q", i+2, err, w.err)
				}
				for j, name := range names {
					same := strings.Contains(" "+strings.Join(w.same, " ")+" ", " "+name+" ")
					switch {
					case same && got[j] != prev[j]:
						t.Errorf("run %d: %s changed:\n%s", i+2, name, got[j])
					case !same && got[j] == prev[j]:
						t.Errorf("run %d: %s did not change:\n%s", i+2, name, got[j])
					case !same:
						for _, h := range w.holds[name] {
							if !strings.Contains(got[j], h) {
								t.Errorf("run %d: %s does not hold %q:\n%s", i+2, name, h, got[j])
							}
						}
					}
				}
				for _, e := range rep.Entries {
					if w.err == "" && e.Target != nil && e.Outcome != report.Injected {
						t.Errorf("run %d: %s: %s (%s)", i+2, e.Target.Name, e.Outcome, e.Reason)
					}
				}
				prev = got
			}
			// The hard cases are there: with native sidecars the gateway
			// has no containers left and spire two istio-proxy.
			if tc.settings[0].native {
				if strings.Contains(first[1], "\n      containers:\n      - ") {
					t.Errorf("gateway kept containers:\n%s", first[1])
				}
				if n := strings.Count(first[2], "name: istio-proxy"); n != 2 {
					t.Errorf("spire has istio-proxy %d times:\n%s", n, first[2])
				}
			}
		})
	}
}
