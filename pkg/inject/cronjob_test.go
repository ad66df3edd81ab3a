package inject

import (
	"reflect"
	"strings"
	"testing"

	"sigs.k8s.io/kustomize/kyaml/yaml"

	"github.com/inject-sidecar/inject-sidecar/pkg/report"
)

// TestCronJobMetadata: in webhook mode a CronJob is decided and injected
// on its pods' metadata, which is what the API server's webhook sees; in
// kube-inject mode on its job template's, as istioctl kube-inject does.
// Uninject finds the injection in either place.
func TestCronJobMetadata(t *testing.T) {
	const (
		jobMeta = "spec.jobTemplate.metadata"
		podMeta = "spec.jobTemplate.spec.template.metadata"
	)
	tests := []struct {
		file, mode string
		want       report.Outcome
		labelsAt   string // where Istio's labels land, when injected
	}{
		{"plain.yaml", "webhook", report.Injected, podMeta},
		{"plain.yaml", "kube-inject", report.Injected, jobMeta},
		{"opted-out.yaml", "webhook", report.Skipped, ""},
		{"opted-out.yaml", "kube-inject", report.Injected, jobMeta},
		{"job-template-opted-out.yaml", "webhook", report.Injected, podMeta},
		{"job-template-opted-out.yaml", "kube-inject", report.Skipped, ""},
	}
	for _, tc := range tests {
		t.Run(tc.file+"/"+tc.mode, func(t *testing.T) {
			items := readItems(t, "cronjob", tc.file)
			source := snapshot(items)
			rep, err := Run(checkConfig(t, items, "1.0", tc.mode), items)
			if err != nil {
				t.Fatal(err)
			}
			if len(rep.Entries) != 1 || rep.Entries[0].Outcome != tc.want {
				t.Fatalf("entries %+v, want one %s", rep.Entries, tc.want)
			}
			if tc.want != report.Injected {
				if got := snapshot(items); !reflect.DeepEqual(got, source) {
					t.Errorf("not injected, yet changed:\n%s", got[0])
				}
				return
			}
			other := map[string]string{jobMeta: podMeta, podMeta: jobMeta}[tc.labelsAt]
			if got := labelAt(t, items[0], tc.labelsAt); got != "istio" {
				t.Errorf("%s.labels[security.istio.io/tlsMode] = %q, want istio", tc.labelsAt, got)
			}
			if got := labelAt(t, items[0], other); got != "" {
				t.Errorf("%s.labels[security.istio.io/tlsMode] = %q, want none", other, got)
			}
			if _, err := Uninject(items); err != nil {
				t.Fatal(err)
			}
			if tc.mode == "webhook" { // exact, from the record
				if got := snapshot(items); !reflect.DeepEqual(got, source) {
					t.Errorf("uninject did not restore the source:\n%s", got[0])
				}
			}
			if got := labelAt(t, items[0], podMeta+".annotations"); got != "" {
				t.Error("uninject left an annotation behind")
			}
			if pod := proxyIn(t, items[0]); pod {
				t.Error("uninject left istio-proxy behind")
			}
		})
	}
}

// labelAt is the security.istio.io/tlsMode label of the metadata at path
// (dotted), or, for a path ending in .annotations, Istio's status
// annotation there.
func labelAt(t *testing.T, n *yaml.RNode, path string) string {
	t.Helper()
	fields, key := strings.Split(path, "."), "security.istio.io/tlsMode"
	if fields[len(fields)-1] == "annotations" {
		key = "sidecar.istio.io/status"
	} else {
		fields = append(fields, "labels")
	}
	v, err := n.Pipe(yaml.Lookup(append(fields, key)...))
	if err != nil {
		t.Fatal(err)
	}
	if v == nil {
		return ""
	}
	return yaml.GetValue(v)
}

// proxyIn says whether the CronJob's pod spec has a container istio-proxy.
func proxyIn(t *testing.T, n *yaml.RNode) bool {
	t.Helper()
	c, err := n.Pipe(yaml.Lookup("spec", "jobTemplate", "spec", "template", "spec", "containers", "[name=istio-proxy]"))
	if err != nil {
		t.Fatal(err)
	}
	return c != nil
}
