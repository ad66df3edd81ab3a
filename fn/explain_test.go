package main

import (
	"bytes"
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"sigs.k8s.io/kustomize/kyaml/kio"
	kyaml "sigs.k8s.io/kustomize/kyaml/yaml"
	"sigs.k8s.io/yaml"

	"github.com/inject-sidecar/inject-sidecar/pkg/manifest"
)

// explainCase is one directory of testdata/explain:
//
//	input/*.yaml      the manifests: a rendered Istio install (Istio's
//	                  ConfigMaps for each revision, its
//	                  MutatingWebhookConfigurations), Namespaces, workloads
//	config.yaml       --config, and the functionConfig in KRM mode (optional)
//	env               the environment, KEY=VALUE lines (optional)
//	explain.txt       golden: explain's table
//	explain.json      golden: explain -o json
//	explain.stderr    golden: explain's warnings
//	error.txt         golden: the error, when a workload cannot be decided
type explainCase struct {
	dir    string
	inputs []string
	config string
	env    fakeEnv
}

func loadExplainCase(t *testing.T, dir string) explainCase {
	t.Helper()
	inputs, err := filepath.Glob(filepath.Join(dir, "input", "*.yaml"))
	if err != nil || len(inputs) == 0 {
		t.Fatalf("%s: no input/*.yaml: %v", dir, err)
	}
	c := explainCase{dir: dir, inputs: inputs, env: readEnvFile(t, dir)}
	if _, err := os.Stat(filepath.Join(dir, "config.yaml")); err == nil {
		c.config = filepath.Join(dir, "config.yaml")
	}
	return c
}

func (c explainCase) args(command string, extra ...string) []string {
	args := []string{command}
	for _, f := range c.inputs {
		args = append(args, "-f", f)
	}
	if c.config != "" {
		args = append(args, "--config", c.config)
	}
	return append(args, extra...)
}

func (c explainCase) run(t *testing.T, stdin []byte, args ...string) (stdout, stderr []byte, err error) {
	t.Helper()
	var out, errOut bytes.Buffer
	cmd := newRootCommand(streams{In: bytes.NewReader(stdin), Out: &out, Err: &errOut}, c.env.lookup)
	// Never nil: cobra would read the test binary's own arguments.
	cmd.SetArgs(append([]string{}, args...))
	err = cmd.Execute()
	return out.Bytes(), errOut.Bytes(), err
}

// explainedWorkload mirrors the documented fields of explain -o json.
type explainedWorkload struct {
	Kind               string   `json:"kind"`
	APIVersion         string   `json:"apiVersion"`
	Name               string   `json:"name"`
	Namespace          string   `json:"namespace"`
	NamespaceDefaulted bool     `json:"namespaceDefaulted"`
	File               string   `json:"file"`
	Inject             bool     `json:"inject"`
	Revision           string   `json:"revision"`
	Reason             string   `json:"reason"`
	Warnings           []string `json:"warnings"`
	Error              string   `json:"error"`
}

type explained struct {
	DecisionMode string              `json:"decisionMode"`
	Webhooks     string              `json:"webhooks"`
	Workloads    []explainedWorkload `json:"workloads"`
	Warnings     []string            `json:"warnings"`
}

// TestExplainAndInject runs explain (table and JSON), inject and the KRM
// function on the same inputs, and checks that all three take the same
// decisions, that inject edits exactly the workloads explain says it
// injects, with the revision it names, and that everything else (the
// Istio install, Namespaces, Services, skipped workloads) passes through
// byte for byte.
func TestExplainAndInject(t *testing.T) {
	dirs, err := filepath.Glob(filepath.Join("testdata", "explain", "*"))
	if err != nil || len(dirs) == 0 {
		t.Fatalf("no cases in testdata/explain: %v", err)
	}
	for _, dir := range dirs {
		t.Run(filepath.Base(dir), func(t *testing.T) {
			c := loadExplainCase(t, dir)

			table, stderr, explainErr := c.run(t, nil, c.args("explain")...)
			checkGolden(t, filepath.Join(dir, "explain.txt"), table)
			checkGolden(t, filepath.Join(dir, "explain.stderr"), stderr)

			js, _, jsonErr := c.run(t, nil, c.args("explain", "-o", "json")...)
			checkGolden(t, filepath.Join(dir, "explain.json"), js)
			var ex explained
			if err := json.Unmarshal(js, &ex); err != nil {
				t.Fatalf("explain -o json: %v\n%s", err, js)
			}
			failing := slices.ContainsFunc(ex.Workloads, func(w explainedWorkload) bool { return w.Error != "" })
			if (explainErr != nil) != failing || (jsonErr != nil) != failing {
				t.Fatalf("explain errors %v / %v, but workloads failing: %v", explainErr, jsonErr, failing)
			}
			if failing {
				checkGolden(t, filepath.Join(dir, "error.txt"), []byte(explainErr.Error()+"\n"))
			}

			injected, _, injectErr := c.run(t, nil, c.args("inject")...)
			if failing {
				if injectErr == nil || injectErr.Error() != explainErr.Error() {
					t.Errorf("inject error:\n%v\nwant explain's:\n%v", injectErr, explainErr)
				}
				if len(injected) != 0 {
					t.Errorf("failed inject wrote %d bytes", len(injected))
				}
			} else {
				if injectErr != nil {
					t.Fatalf("inject: %v", injectErr)
				}
				checkInjectedAsExplained(t, c, ex, injected)
			}

			checkKRMAsExplained(t, c, ex, failing)
		})
	}
}

// checkInjectedAsExplained compares inject's output with its input,
// document by document.
func checkInjectedAsExplained(t *testing.T, c explainCase, ex explained, output []byte) {
	t.Helper()
	var in []*manifest.Document
	for _, f := range c.inputs {
		data, err := os.ReadFile(f)
		if err != nil {
			t.Fatal(err)
		}
		docs, err := manifest.Split(f, data)
		if err != nil {
			t.Fatal(err)
		}
		in = append(in, docs...)
	}
	out, err := manifest.Split("output", output)
	if err != nil {
		t.Fatal(err)
	}
	if len(out) != len(in) {
		t.Fatalf("inject wrote %d documents, read %d", len(out), len(in))
	}
	decisions := map[string]explainedWorkload{}
	for _, w := range ex.Workloads {
		decisions[w.Kind+"/"+w.Name] = w
	}
	seen := 0
	for i, d := range in {
		kind, name := d.Node.GetKind(), d.Node.GetName()
		w, isWorkload := decisions[kind+"/"+name]
		if !isWorkload || !w.Inject {
			if !bytes.Equal(out[i].Raw, d.Raw) {
				t.Errorf("%s %s (%s) is not passed through byte for byte:\n%s", kind, name, d.Name(), lineDiff(string(d.Raw), string(out[i].Raw)))
			}
			if isWorkload {
				seen++
			}
			continue
		}
		seen++
		var obj map[string]any
		if err := yaml.Unmarshal(out[i].Raw, &obj); err != nil {
			t.Fatalf("%s: %v", d.Name(), err)
		}
		meta, spec := []string{"spec", "template", "metadata"}, []string{"spec", "template", "spec"}
		switch kind {
		case "Pod":
			meta, spec = []string{"metadata"}, []string{"spec"}
		case "CronJob":
			meta, spec = []string{"spec", "jobTemplate", "metadata"}, []string{"spec", "jobTemplate", "spec", "template", "spec"}
		}
		if names := containerNames(dig(obj, append(spec, "containers")...)); !slices.Contains(names, "istio-proxy") {
			t.Errorf("%s %s: explain says injected, inject did not add istio-proxy (containers %v)", kind, name, names)
		}
		status, _ := dig(obj, append(meta, "annotations", "sidecar.istio.io/status")...).(string)
		var st struct {
			Revision string `json:"revision"`
		}
		if err := json.Unmarshal([]byte(status), &st); err != nil || st.Revision != w.Revision {
			t.Errorf("%s %s: injected by revision %q (status %q), explain says %q", kind, name, st.Revision, status, w.Revision)
		}
	}
	if seen != len(ex.Workloads) {
		t.Errorf("found %d of the %d workloads explain names in the input", seen, len(ex.Workloads))
	}
}

// checkKRMAsExplained runs the KRM function on a ResourceList of the same
// inputs and checks its results against explain's decisions.
func checkKRMAsExplained(t *testing.T, c explainCase, ex explained, failing bool) {
	t.Helper()
	var items []*kyaml.RNode
	for _, f := range c.inputs {
		data, err := os.ReadFile(f)
		if err != nil {
			t.Fatal(err)
		}
		docs, err := manifest.Split(f, data)
		if err != nil {
			t.Fatal(err)
		}
		items = append(items, manifest.Nodes(docs)...)
	}
	var fc *kyaml.RNode
	if c.config != "" {
		objs, err := readObjects(c.config)
		if err != nil || len(objs) != 1 {
			t.Fatalf("%s: want one object: %v", c.config, err)
		}
		fc = objs[0]
	}
	var rl bytes.Buffer
	w := kio.ByteWriter{Writer: &rl, WrappingKind: kio.ResourceListKind, WrappingAPIVersion: kio.ResourceListAPIVersion, FunctionConfig: fc}
	if err := w.Write(items); err != nil {
		t.Fatal(err)
	}
	out, _, err := c.run(t, rl.Bytes())
	if (err != nil) != failing {
		t.Fatalf("KRM function: err = %v, want failure %v", err, failing)
	}
	if failing {
		assertItemsUnchanged(t, rl.Bytes(), out)
	}

	var got struct {
		Results []struct {
			Message     string `json:"message"`
			Severity    string `json:"severity"`
			ResourceRef *struct {
				Kind, Name, Namespace string
			} `json:"resourceRef"`
		} `json:"results"`
	}
	if err := yaml.Unmarshal(out, &got); err != nil {
		t.Fatal(err)
	}
	type key struct{ kind, name, severity string }
	messages := map[key][]string{}
	for _, r := range got.Results {
		if r.ResourceRef != nil {
			k := key{r.ResourceRef.Kind, r.ResourceRef.Name, r.Severity}
			messages[k] = append(messages[k], r.Message)
		}
	}
	for _, w := range ex.Workloads {
		want, severity := "not injected: "+w.Reason, "info"
		switch {
		case w.Error != "":
			want, severity = w.Error, "error"
		case w.Inject:
			want = fmt.Sprintf("injected (revision %s): %s", w.Revision, w.Reason)
		}
		if failing && w.Inject {
			// A failed run edits nothing; its result says why, and what
			// would have been done.
			want = w.Reason
		}
		if msgs := messages[key{w.Kind, w.Name, severity}]; !slices.ContainsFunc(msgs, func(m string) bool {
			return m == want || (failing || w.Error != "") && strings.Contains(m, want)
		}) {
			t.Errorf("KRM results for %s %s: %s %q, want %q", w.Kind, w.Name, severity, msgs, want)
		}
		for _, warning := range w.Warnings {
			if got := messages[key{w.Kind, w.Name, "warning"}]; !slices.Contains(got, warning) {
				t.Errorf("KRM warnings for %s %s: %q, want explain's %q among them", w.Kind, w.Name, got, warning)
			}
		}
	}
}
