package main

import (
	"bytes"
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"sigs.k8s.io/yaml"
)

// conformanceCase is one entry of the corpus's cases.json files.
type conformanceCase struct {
	ID            string            `json:"id"`
	Input         string            `json:"input"`
	Expected      string            `json:"expected"`
	ExpectedError string            `json:"expectedError"`
	ExpectedLog   string            `json:"expectedLog"`
	InjectConfig  string            `json:"injectConfig"`
	Values        string            `json:"values"`
	Mesh          string            `json:"mesh"`
	Env           map[string]string `json:"env"`
	Args          []string          `json:"args"` // istioctl cases: kube-inject flags
	// KubeInjectTested is false for the cases Istio checks only through its
	// webhook; they replay in webhook mode.
	KubeInjectTested *bool `json:"kubeInjectTested"`
	dir              string
}

// corpusDir finds Istio's golden corpus in ../shared, beside the checkout.
func corpusDir(t *testing.T) string {
	t.Helper()
	dir := os.Getenv("ISTIO_CONFORMANCE_DIR")
	if dir == "" {
		dir = filepath.Join("..", "..", "shared", "istio-conformance")
	}
	if _, err := os.Stat(filepath.Join(dir, "cases.json")); err != nil {
		msg := fmt.Sprintf("CONFORMANCE CORPUS NOT FOUND at %s (%v): the suite did not run. "+
			"Put shared/ beside the checkout or set ISTIO_CONFORMANCE_DIR.", dir, err)
		if os.Getenv("CI") == "true" {
			t.Fatal(msg)
		}
		t.Skip(msg)
	}
	return dir
}

func loadCases(t *testing.T, dir string) []conformanceCase {
	t.Helper()
	var all []conformanceCase
	for _, sub := range []string{".", "istioctl-kubeinject"} {
		b, err := os.ReadFile(filepath.Join(dir, sub, "cases.json"))
		if err != nil {
			t.Fatal(err)
		}
		var cs []conformanceCase
		if err := json.Unmarshal(b, &cs); err != nil {
			t.Fatalf("%s/cases.json: %v", sub, err)
		}
		for i := range cs {
			cs[i].dir = filepath.Join(dir, sub)
		}
		all = append(all, cs...)
	}
	return all
}

// TestConformance replays Istio's golden injection corpus through the
// inject command, in kube-inject decision mode (the corpus is kube-inject's
// output), with each case's own configuration files and settings.
func TestConformance(t *testing.T) {
	dir := corpusDir(t)
	cases := loadCases(t, dir)
	passed, failed := 0, 0
	var failures []string
	for _, c := range cases {
		ok := t.Run(c.ID, func(t *testing.T) { runConformanceCase(t, c) })
		if ok {
			passed++
		} else {
			failed++
			failures = append(failures, c.ID)
		}
	}
	for _, id := range failures {
		t.Logf("FAILED %s", id)
	}
	fmt.Printf("conformance: %d passed, %d failed\n", passed, failed)
}

func runConformanceCase(t *testing.T, c conformanceCase) {
	args, env := c.command(t)
	var out, errOut bytes.Buffer
	cmd := newRootCommand(streams{In: strings.NewReader(""), Out: &out, Err: &errOut}, env.lookup)
	cmd.SetArgs(args)
	err := cmd.Execute()

	if c.ExpectedError != "" {
		if err == nil {
			t.Fatalf("expected an error containing %q, got success", c.ExpectedError)
		}
		if !strings.Contains(strings.ToLower(err.Error()), c.ExpectedError) {
			t.Fatalf("error %q does not contain %q", err, c.ExpectedError)
		}
		if out.Len() != 0 {
			t.Fatalf("error case wrote %d bytes to stdout", out.Len())
		}
		return
	}
	if err != nil {
		t.Fatalf("inject %s: %v\nstderr: %s", strings.Join(args, " "), err, errOut.String())
	}
	if c.ExpectedLog != "" && !strings.Contains(errOut.String(), c.ExpectedLog) {
		t.Errorf("stderr does not contain %q:\n%s", c.ExpectedLog, errOut.String())
	}
	want, err := os.ReadFile(filepath.Join(c.dir, c.Expected))
	if err != nil {
		t.Fatal(err)
	}
	if diff := semanticDiff(want, out.Bytes()); diff != "" {
		t.Errorf("output differs from %s (- Istio, + ours):\n%s", c.Expected, diff)
	}
}

// fakeEnv is the process environment a case runs with.
type fakeEnv map[string]string

func (e fakeEnv) lookup(k string) (string, bool) { v, ok := e[k]; return v, ok }

// command builds the inject command line of a case. Istio's settings that
// it reads from its environment are given through the environment, as
// kube-inject takes them; the decision mode and, for the OpenShift cases,
// the namespace's UID range annotations, through a SidecarInjector config.
func (c conformanceCase) command(t *testing.T) ([]string, fakeEnv) {
	env := fakeEnv{}
	for k, v := range c.Env {
		env[k] = v
	}
	cfg := filepath.Join(t.TempDir(), "sidecar-injector.yaml")
	// The corpus is kube-inject's output, except for the cases Istio checks
	// only through its webhook: those are decided as the webhook would, in
	// a namespace labelled for injection.
	mode, labels := "kube-inject", "{}"
	if c.KubeInjectTested != nil && !*c.KubeInjectTested {
		mode, labels = "webhook", "{istio-injection: enabled}"
	}
	typed := fmt.Sprintf(`apiVersion: inject-sidecar.dev/v1alpha1
kind: SidecarInjector
metadata:
  name: conformance
spec:
  decisionMode: %s
  namespaces:
    # Istio's OpenShift test gives its namespace these annotations.
    test-ns:
      labels: %s
      annotations:
        openshift.io/sa.scc.uid-range: 1000620000/10000
        openshift.io/sa.scc.supplemental-groups: 1000620000/10000
`, mode, labels)
	if err := os.WriteFile(cfg, []byte(typed), 0o644); err != nil {
		t.Fatal(err)
	}
	args := []string{"inject", "--config", cfg}
	if c.Args != nil {
		for i, a := range c.Args {
			if i > 0 && strings.HasPrefix(c.Args[i-1], "-") && !strings.HasPrefix(a, "-") {
				a = filepath.Join(c.dir, a)
			}
			args = append(args, a)
		}
		return args, env
	}
	return append(args,
		"-f", filepath.Join(c.dir, c.Input),
		"--injectConfigFile", filepath.Join(c.dir, c.InjectConfig),
		"--valuesFile", filepath.Join(c.dir, c.Values),
		"--meshConfigFile", filepath.Join(c.dir, c.Mesh),
	), env
}

// semanticDiff compares two multi-document manifests as data, after the
// normalisations the API server itself applies to what it is given:
//   - a null field is absent;
//   - an object's status is ignored on create and apply (it is a
//     subresource), so it is dropped; Istio's re-serialisation adds one;
//   - an empty status, strategy, updateStrategy, resources or pod template
//     metadata object is the same as none (Istio adds them);
//   - in an OpenShift DeploymentConfig spec, minReadySeconds, paused and
//     test are plain (non-pointer) fields, so zero and absent decode to the
//     same object; Istio's typed round trip drops or adds them.
//
// Besides, the annotation inject-sidecar.dev/injected, this project's own
// record for uninject (written in webhook mode, which the OpenShift cases
// use), is left out. List order, scalars and everything else is compared
// exactly.
func semanticDiff(want, got []byte) string {
	w, err := normalisedDocs(want)
	if err != nil {
		return "cannot parse expected output: " + err.Error()
	}
	g, err := normalisedDocs(got)
	if err != nil {
		return "cannot parse our output: " + err.Error() + "\n" + string(got)
	}
	if len(w) != len(g) {
		return fmt.Sprintf("expected %d documents, got %d\n%s", len(w), len(g), lineDiff(strings.Join(w, "---\n"), strings.Join(g, "---\n")))
	}
	var b strings.Builder
	for i := range w {
		if w[i] != g[i] {
			fmt.Fprintf(&b, "document %d:\n%s", i+1, lineDiff(w[i], g[i]))
		}
	}
	return b.String()
}

func normalisedDocs(data []byte) ([]string, error) {
	var out []string
	for _, doc := range strings.Split("\n"+string(data), "\n---") {
		var v any
		if err := yaml.Unmarshal([]byte(doc), &v); err != nil {
			return nil, err
		}
		if v == nil {
			continue
		}
		v = normalise(v)
		b, err := yaml.Marshal(v)
		if err != nil {
			return nil, err
		}
		out = append(out, string(b))
	}
	return out, nil
}

// emptyMeansAbsent are the fields whose empty object the API server
// treats as not set.
var emptyMeansAbsent = map[string]bool{"status": true, "strategy": true, "updateStrategy": true, "resources": true, "metadata": true}

// zeroMeansAbsent are DeploymentConfig spec fields without a pointer type.
var zeroMeansAbsent = map[string]any{"minReadySeconds": float64(0), "paused": false, "test": false}

func normalise(v any) any {
	switch x := v.(type) {
	case map[string]any:
		delete(x, "inject-sidecar.dev/injected")
		if _, isObject := x["kind"]; isObject {
			if _, ok := x["apiVersion"]; ok {
				delete(x, "status")
				if spec, ok := x["spec"].(map[string]any); ok && x["kind"] == "DeploymentConfig" {
					for k, zero := range zeroMeansAbsent {
						if spec[k] == zero {
							delete(spec, k)
						}
					}
				}
			}
		}
		for k, e := range x {
			n := normalise(e)
			if n == nil {
				delete(x, k)
				continue
			}
			if m, ok := n.(map[string]any); ok && len(m) == 0 && emptyMeansAbsent[k] {
				delete(x, k)
				continue
			}
			x[k] = n
		}
		return x
	case []any:
		for i := range x {
			x[i] = normalise(x[i])
		}
		return x
	}
	return v
}

// lineDiff is a small longest-common-subsequence line diff, enough to show
// which fields differ.
func lineDiff(want, got string) string {
	al, bl := strings.Split(want, "\n"), strings.Split(got, "\n")
	n, m := len(al), len(bl)
	lcs := make([][]int, n+1)
	for i := range lcs {
		lcs[i] = make([]int, m+1)
	}
	for i := n - 1; i >= 0; i-- {
		for j := m - 1; j >= 0; j-- {
			if al[i] == bl[j] {
				lcs[i][j] = lcs[i+1][j+1] + 1
			} else {
				lcs[i][j] = max(lcs[i+1][j], lcs[i][j+1])
			}
		}
	}
	// Walk the table, keeping two lines of context around each change.
	type line struct {
		op   byte
		text string
	}
	var all []line
	i, j := 0, 0
	for i < n || j < m {
		switch {
		case i < n && j < m && al[i] == bl[j]:
			all = append(all, line{' ', al[i]})
			i++
			j++
		case j < m && (i == n || lcs[i][j+1] >= lcs[i+1][j]):
			all = append(all, line{'+', bl[j]})
			j++
		default:
			all = append(all, line{'-', al[i]})
			i++
		}
	}
	const context = 2
	var b strings.Builder
	last := -1
	for k, l := range all {
		near := false
		for d := max(0, k-context); d <= min(len(all)-1, k+context); d++ {
			if all[d].op != ' ' {
				near = true
				break
			}
		}
		if !near {
			continue
		}
		if last >= 0 && k > last+1 {
			b.WriteString("  ...\n")
		}
		fmt.Fprintf(&b, "%c %s\n", l.op, l.text)
		last = k
	}
	return b.String()
}
