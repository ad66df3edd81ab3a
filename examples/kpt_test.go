package examples_test

import (
	"bytes"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"testing"

	"sigs.k8s.io/kustomize/kyaml/kio"
	"sigs.k8s.io/kustomize/kyaml/kio/kioutil"
	"sigs.k8s.io/kustomize/kyaml/yaml"
	sigsyaml "sigs.k8s.io/yaml"
)

// kptfile is the part of a Kptfile the tests read.
type kptfile struct {
	Pipeline struct {
		Mutators []struct {
			Exec       string            `json:"exec"`
			ConfigPath string            `json:"configPath"`
			ConfigMap  map[string]string `json:"configMap"`
		} `json:"mutators"`
	} `json:"pipeline"`
}

func readKptfile(t *testing.T, pkg string) kptfile {
	t.Helper()
	data, err := os.ReadFile(filepath.Join(pkg, "Kptfile"))
	if err != nil {
		t.Fatal(err)
	}
	var k kptfile
	if err := sigsyaml.Unmarshal(data, &k); err != nil {
		t.Fatalf("%s/Kptfile: %v", pkg, err)
	}
	if len(k.Pipeline.Mutators) != 1 || k.Pipeline.Mutators[0].Exec != "inject-sidecar" {
		t.Fatalf("%s/Kptfile: want one mutator with exec: inject-sidecar, got %+v", pkg, k.Pipeline.Mutators)
	}
	return k
}

// kptPackages are the kpt examples: the function config as a file
// (configPath) and inline (configMap).
var kptPackages = []struct {
	name, dir string
	// evalArgs are the `kpt fn eval` arguments giving the same config.
	evalArgs func(pkg string) []string
}{
	{"config-path", "examples/kpt/config-path", func(pkg string) []string {
		return []string{"--fn-config", filepath.Join(pkg, "sidecar-injector.yaml")}
	}},
	{"config-map", "examples/kpt/config-map", func(string) []string {
		return []string{"--", "kubeVersion=1.33", "unknownNamespace=error"}
	}},
}

// kptFunctionConfig is the functionConfig kpt sends for the package's
// pipeline: the configPath file as is, or a ConfigMap of the configMap
// entries (kpt names it function-input).
func kptFunctionConfig(t *testing.T, pkg string) *yaml.RNode {
	t.Helper()
	m := readKptfile(t, pkg).Pipeline.Mutators[0]
	if m.ConfigPath != "" {
		data, err := os.ReadFile(filepath.Join(pkg, m.ConfigPath))
		if err != nil {
			t.Fatal(err)
		}
		n, err := yaml.Parse(string(data))
		if err != nil {
			t.Fatal(err)
		}
		return n
	}
	n, err := yaml.Parse("apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: function-input\n  annotations:\n    config.kubernetes.io/local-config: \"true\"\n")
	if err != nil {
		t.Fatal(err)
	}
	if err := n.LoadMapIntoConfigMapData(m.ConfigMap); err != nil {
		t.Fatal(err)
	}
	return n
}

// TestKptPipelineConfig sends each package to the function as kpt's
// pipeline does (every KRM file of the package, with kpt's path
// annotations, and the Kptfile's function config), so the packages' configs
// are checked even where kpt is not installed. It is not kpt: TestKpt runs
// the real one.
func TestKptPipelineConfig(t *testing.T) {
	want := podTemplate(t, readGolden(t, "kustomize.yaml"), "Deployment", "web")
	for _, p := range append(kptPackages, struct {
		name, dir string
		evalArgs  func(string) []string
	}{"failing", "examples/testdata/failing/kpt", nil}) {
		t.Run(p.name, func(t *testing.T) {
			in, out, results, r := kptPipeline(t, repoPath(t, p.dir))
			if results == nil {
				t.Fatalf("the function returned no results (kpt shows them as Results)\nstderr: %s", r.stderr)
			}
			golden(t, "kpt-"+p.name+".results.yaml", results.MustString())
			if len(out) != len(in) {
				t.Errorf("%d resources in, %d out: kpt would delete the missing ones", len(in), len(out))
			}
			if p.name == "failing" {
				if r.err == nil {
					t.Error("the function succeeded with an invalid config")
				}
				for i := range min(len(in), len(out)) {
					if withoutIndex(t, in[i]) != withoutIndex(t, out[i]) {
						t.Errorf("a failed run changed %s %s", in[i].GetKind(), in[i].GetName())
					}
				}
				return
			}
			if r.err != nil {
				t.Fatalf("the function failed: %v\n%s", r.err, r.stderr)
			}
			var all strings.Builder
			for _, n := range out {
				all.WriteString(n.MustString() + "---\n")
			}
			if got := podTemplate(t, all.String(), "Deployment", "web"); got != want {
				t.Errorf("%s injects Deployment web unlike the kustomize example (- kustomize, + kpt):\n%s", p.dir, lineDiff(want, got))
			}
		})
	}
}

// kptPipeline runs a package's Kptfile function as kpt's pipeline would:
// the function receives every KRM file of the package, with kpt's path
// annotations, and the Kptfile's function config. It returns the resources
// sent, those returned, the results and the run.
func kptPipeline(t *testing.T, pkg string) (in, out []*yaml.RNode, results *yaml.RNode, r result) {
	t.Helper()
	in, err := (&kio.LocalPackageReader{PackagePath: pkg, MatchFilesGlob: []string{"*.yaml", "Kptfile"}}).Read()
	if err != nil {
		t.Fatal(err)
	}
	var rl bytes.Buffer
	w := kio.ByteWriter{Writer: &rl, FunctionConfig: kptFunctionConfig(t, pkg), WrappingAPIVersion: "config.kubernetes.io/v1", WrappingKind: "ResourceList"}
	if err := w.Write(in); err != nil {
		t.Fatal(err)
	}
	r = run(t, command{dir: pkg, stdin: rl.String(), args: []string{repoPath(t, "bin", "inject-sidecar")}})
	reader := &kio.ByteReader{Reader: strings.NewReader(r.stdout)}
	out, err = reader.Read()
	if err != nil {
		t.Fatalf("reading the function's ResourceList: %v\n%s\nstderr: %s", err, r.stdout, r.stderr)
	}
	return in, out, reader.Results, r
}

// TestKpt runs the packages through the real kpt: kpt fn render with the
// Kptfile pipeline, and kpt fn eval --exec with the same config. kpt is not
// on the Go module proxy, so this runs only where a kpt binary is on PATH.
func TestKpt(t *testing.T) {
	kpt := tool(t, "kpt", "kpt is not on the Go module proxy; install a kpt v1 release binary", true)
	want := podTemplate(t, readGolden(t, "kustomize.yaml"), "Deployment", "web")
	for _, p := range kptPackages {
		for _, mode := range []string{"render", "eval"} {
			t.Run(p.name+"/"+mode, func(t *testing.T) {
				pkg := filepath.Join(t.TempDir(), p.name)
				copyDir(t, repoPath(t, p.dir), pkg)
				args := []string{kpt, "fn", "render", pkg, "--allow-exec"}
				if mode == "eval" {
					args = append([]string{kpt, "fn", "eval", pkg, "--exec", "inject-sidecar"}, p.evalArgs(pkg)...)
				}
				r := run(t, command{dir: repoRoot(t), args: args})
				if r.err != nil {
					t.Fatalf("%s: %v\n%s", strings.Join(args, " "), r.err, r.stderr)
				}
				if !strings.Contains(r.stderr, "injected (revision default)") {
					t.Errorf("kpt does not show the function's results:\n%s", r.stderr)
				}
				web, err := os.ReadFile(filepath.Join(pkg, "web.yaml"))
				if err != nil {
					t.Fatal(err)
				}
				if got := podTemplate(t, string(web), "Deployment", "web"); got != want {
					t.Errorf("kpt fn %s injects Deployment web unlike the kustomize example:\n%s", mode, lineDiff(want, got))
				}
			})
		}
	}
	t.Run("failing config", func(t *testing.T) {
		pkg := filepath.Join(t.TempDir(), "failing")
		copyDir(t, repoPath(t, "examples", "testdata", "failing", "kpt"), pkg)
		before := snapshot(t, pkg)
		r := run(t, command{dir: repoRoot(t), args: []string{kpt, "fn", "render", pkg, "--allow-exec"}})
		assertFailedCleanly(t, r, r.stderr, `[error]: function config: SidecarInjector.spec.decisionMode: "istio" is not one of webhook, kube-inject`)
		if after := snapshot(t, pkg); after != before {
			t.Error("a failed kpt fn render changed the package")
		}
	})
}

// withoutIndex is a resource without the file-index annotations, which
// kio's readers add and remove on their own.
func withoutIndex(t *testing.T, n *yaml.RNode) string {
	t.Helper()
	c := n.Copy()
	for _, a := range []string{kioutil.IndexAnnotation, kioutil.LegacyIndexAnnotation} {
		if err := c.PipeE(yaml.ClearAnnotation(a)); err != nil {
			t.Fatal(err)
		}
	}
	return c.MustString()
}

// snapshot is every file of a directory, for comparing before and after.
func snapshot(t *testing.T, dir string) string {
	t.Helper()
	var names []string
	files := map[string]string{}
	err := filepath.Walk(dir, func(p string, info os.FileInfo, err error) error {
		if err != nil || info.IsDir() {
			return err
		}
		data, err := os.ReadFile(p)
		names = append(names, p)
		files[p] = string(data)
		return err
	})
	if err != nil {
		t.Fatal(err)
	}
	sort.Strings(names)
	var b strings.Builder
	for _, n := range names {
		b.WriteString(n + "\n" + files[n] + "\n")
	}
	return b.String()
}

// readGolden reads an expected output written by another test.
func readGolden(t *testing.T, name string) string {
	t.Helper()
	data, err := os.ReadFile(filepath.Join("testdata", "golden", name))
	if err != nil {
		t.Fatal(err)
	}
	return string(data)
}
