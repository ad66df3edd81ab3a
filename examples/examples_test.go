package examples_test

import (
	"os"
	"path/filepath"
	"strings"
	"testing"

	"sigs.k8s.io/kustomize/kyaml/kio"
	"sigs.k8s.io/kustomize/kyaml/yaml"
	sigsyaml "sigs.k8s.io/yaml"
)

const kustomizeInstall = "make tools"

// kustomizeBuild renders a kustomization with exec functions enabled, the
// way the examples document it.
func kustomizeBuild(t *testing.T, dir string, env map[string]string) result {
	t.Helper()
	k := tool(t, "kustomize", kustomizeInstall, false)
	return run(t, command{dir: repoRoot(t), env: env, args: []string{k, "build", "--enable-alpha-plugins", "--enable-exec", dir}})
}

// TestKustomize renders the kustomize examples: the exec transformer with
// the typed SidecarInjector, with a ConfigMap, and with Istio's own install
// rendered beside the apps (no other configuration).
func TestKustomize(t *testing.T) {
	for _, tc := range []struct {
		name, dir, golden string
	}{
		{"typed config", "examples/kustomize/typed", "kustomize.yaml"},
		// Same Istio configuration and settings as a ConfigMap: same output.
		{"ConfigMap config", "examples/kustomize/configmap", "kustomize.yaml"},
		{"Istio install beside the apps", "examples/istio-install", "istio-install.yaml"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			r := kustomizeBuild(t, tc.dir, nil)
			if r.err != nil {
				t.Fatalf("kustomize build %s: %v\n%s", tc.dir, r.err, r.stderr)
			}
			golden(t, tc.golden, r.stdout)
			assertInjected(t, r.stdout, "Deployment", "web")
			assertNotInjected(t, r.stdout, "Job", "migrate")
		})
	}
}

// TestKustomizeWithoutExec documents why the README insists on
// --enable-exec, which kubectl kustomize does not have: without plugins
// kustomize fails, but with --enable-alpha-plugins alone it silently skips
// the exec function and renders pods without sidecars.
func TestKustomizeWithoutExec(t *testing.T) {
	k := tool(t, "kustomize", kustomizeInstall, false)
	t.Run("no plugin flags: an error", func(t *testing.T) {
		r := run(t, command{dir: repoRoot(t), args: []string{k, "build", "examples/kustomize/typed"}})
		assertFailedCleanly(t, r, r.stderr, "external plugins disabled")
	})
	t.Run("--enable-alpha-plugins alone: silently not injected", func(t *testing.T) {
		r := run(t, command{dir: repoRoot(t), args: []string{k, "build", "--enable-alpha-plugins", "examples/kustomize/typed"}})
		if r.err != nil {
			t.Fatalf("kustomize build: %v\n%s", r.err, r.stderr)
		}
		assertNotInjected(t, r.stdout, "Deployment", "web")
	})
}

// TestIstioInstallWithInjectCommand runs the same Istio-install example
// through the plain inject command: Istio's ConfigMaps in the input are the
// only configuration, no flags.
func TestIstioInstallWithInjectCommand(t *testing.T) {
	k := tool(t, "kustomize", kustomizeInstall, false)
	install := mustRun(t, command{dir: repoRoot(t), args: []string{k, "build", "examples/istio-install/istio"}})
	apps := mustRun(t, command{dir: repoRoot(t), args: []string{k, "build", "examples/apps"}})
	out := mustRun(t, command{
		dir:   repoRoot(t),
		stdin: install + "---\n" + apps,
		args:  []string{repoPath(t, "bin", "inject-sidecar"), "inject", "-f", "-"},
	})
	assertInjected(t, out, "Deployment", "web")
	assertNotInjected(t, out, "Job", "migrate")
	// The function's output through kustomize holds the same pod template.
	viaKustomize := kustomizeBuild(t, "examples/istio-install", nil)
	if viaKustomize.err != nil {
		t.Fatal(viaKustomize.err, viaKustomize.stderr)
	}
	if a, b := podTemplate(t, out, "Deployment", "web"), podTemplate(t, viaKustomize.stdout, "Deployment", "web"); a != b {
		t.Errorf("inject -f and the kustomize function disagree on Deployment web (- kustomize, + inject -f):\n%s", lineDiff(b, a))
	}
}

// TestKustomizeErrors: a failing function config fails kustomize build,
// with the function's message on stderr and nothing on stdout.
func TestKustomizeErrors(t *testing.T) {
	r := kustomizeBuild(t, "examples/testdata/failing/kustomize", nil)
	assertFailedCleanly(t, r, r.stderr, "SidecarInjector.spec.unknownNamespaces: unknown field")
	if r.stdout != "" {
		t.Errorf("kustomize wrote to stdout on failure:\n%s", r.stdout)
	}
}

// TestFlux runs the rendered-manifests script Flux deploys from: it writes
// what the kustomize example renders, and keeps the previous render when a
// render fails.
func TestFlux(t *testing.T) {
	tool(t, "kustomize", kustomizeInstall, false)
	script := repoPath(t, "examples", "flux", "render.sh")
	out := filepath.Join(t.TempDir(), "deploy", "shop")

	r := run(t, command{dir: repoRoot(t), args: []string{script, "examples/kustomize/typed", out}})
	if r.err != nil {
		t.Fatalf("render.sh: %v\n%s", r.err, r.stderr)
	}
	rendered, err := os.ReadFile(filepath.Join(out, "manifests.yaml"))
	if err != nil {
		t.Fatal(err)
	}
	golden(t, "kustomize.yaml", string(rendered))
	entries, err := os.ReadDir(out)
	if err != nil {
		t.Fatal(err)
	}
	if len(entries) != 1 {
		t.Errorf("render.sh left %d files in %s, want only manifests.yaml", len(entries), out)
	}

	t.Run("a failed render keeps the previous manifests", func(t *testing.T) {
		r := run(t, command{dir: repoRoot(t), args: []string{script, "examples/testdata/failing/kustomize", out}})
		assertFailedCleanly(t, r, r.stderr, "SidecarInjector.spec.unknownNamespaces: unknown field")
		after, err := os.ReadFile(filepath.Join(out, "manifests.yaml"))
		if err != nil {
			t.Fatal(err)
		}
		if string(after) != string(rendered) {
			t.Error("a failed render changed manifests.yaml")
		}
		if entries, _ := os.ReadDir(out); len(entries) != 1 {
			t.Errorf("a failed render left temporary files in %s", out)
		}
	})
}

// TestExampleConfigsAgree: every example carries the same Istio injector
// configuration in its own form (typed, ConfigMap, Istio install, Kptfile
// package, Helm, Argo CD), so that they render the same sidecar; a change to
// one must be made to all.
func TestExampleConfigsAgree(t *testing.T) {
	want := injectorConfig(t, "examples/kustomize/typed/sidecar-injector.yaml", "spec", "injector")
	for _, tc := range []struct {
		file string
		path []string
	}{
		{"examples/kustomize/configmap/sidecar-injector.yaml", []string{"data"}},
		{"examples/istio-install/istio/injector-configmap.yaml", []string{"data"}},
		{"examples/helm/sidecar-injector.yaml", []string{"spec", "injector"}},
		{"examples/argocd/app/sidecar-injector.yaml", []string{"spec", "injector"}},
		{"examples/argocd/exec/app/sidecar-injector.yaml", []string{"spec", "injector"}},
		{"examples/kpt/config-path/sidecar-injector.yaml", []string{"spec", "injector"}},
		{"examples/kpt/config-map/istio-config.yaml", []string{"data"}},
	} {
		t.Run(tc.file, func(t *testing.T) {
			got := injectorConfig(t, tc.file, tc.path...)
			for key, w := range want {
				if g, ok := got[key]; ok && g != w {
					t.Errorf("%s differs from examples/kustomize/typed:\n%s", key, lineDiff(w, g))
				}
			}
			if _, ok := got["config"]; !ok {
				t.Errorf("no injector config found at %s", strings.Join(tc.path, "."))
			}
		})
	}
}

// injectorConfig reads the config, values and mesh strings at path in the
// documents of file (Istio keeps mesh in a ConfigMap of its own).
func injectorConfig(t *testing.T, file string, path ...string) map[string]string {
	t.Helper()
	out := map[string]string{}
	for _, n := range readObjects(t, repoPath(t, file)) {
		m, err := n.Pipe(yaml.Lookup(path...))
		if err != nil || m == nil {
			continue
		}
		for _, key := range []string{"config", "values", "mesh"} {
			if v := m.Field(key); v != nil {
				out[key] = v.Value.YNode().Value
			}
		}
	}
	if len(out) == 0 {
		t.Fatalf("%s: no %s", file, strings.Join(path, "."))
	}
	return out
}

// readObjects parses a multi-document YAML file.
func readObjects(t *testing.T, file string) []*yaml.RNode {
	t.Helper()
	data, err := os.ReadFile(file)
	if err != nil {
		t.Fatal(err)
	}
	return parseObjects(t, string(data))
}

func parseObjects(t *testing.T, manifests string) []*yaml.RNode {
	t.Helper()
	nodes, err := kio.FromBytes([]byte(manifests))
	if err != nil {
		t.Fatalf("parsing manifests: %v\n%s", err, manifests)
	}
	return nodes
}

// find returns the object of that kind and name.
func find(t *testing.T, manifests, kind, name string) *yaml.RNode {
	t.Helper()
	for _, n := range parseObjects(t, manifests) {
		if n.GetKind() == kind && n.GetName() == name {
			return n
		}
	}
	t.Fatalf("no %s %s in the output:\n%s", kind, name, manifests)
	return nil
}

// podTemplate is the pod template of a workload as YAML with sorted keys,
// so that tools that order fields differently compare equal.
func podTemplate(t *testing.T, manifests, kind, name string) string {
	t.Helper()
	tpl, err := find(t, manifests, kind, name).Pipe(yaml.Lookup("spec", "template"))
	if err != nil || tpl == nil {
		t.Fatalf("%s %s has no spec.template", kind, name)
	}
	return canonical(t, tpl.MustString())
}

// canonical re-serialises one YAML document with sorted keys and no
// comments.
func canonical(t *testing.T, doc string) string {
	t.Helper()
	var v any
	if err := sigsyaml.Unmarshal([]byte(doc), &v); err != nil {
		t.Fatalf("parsing %s: %v", doc, err)
	}
	out, err := sigsyaml.Marshal(v)
	if err != nil {
		t.Fatal(err)
	}
	return string(out)
}

// sidecarNames lists the pod template's istio containers: "istio-proxy" as
// a container or as a native sidecar (an init container), and "istio-init".
func sidecarNames(t *testing.T, manifests, kind, name string) []string {
	t.Helper()
	var names []string
	for _, list := range []string{"initContainers", "containers"} {
		l, err := find(t, manifests, kind, name).Pipe(yaml.Lookup("spec", "template", "spec", list))
		if err != nil || l == nil {
			continue
		}
		els, _ := l.Elements()
		for _, c := range els {
			if n, _ := c.GetString("name"); strings.HasPrefix(n, "istio-") {
				names = append(names, list+"/"+n)
			}
		}
	}
	return names
}

func assertInjected(t *testing.T, manifests, kind, name string) {
	t.Helper()
	if got := sidecarNames(t, manifests, kind, name); len(got) == 0 {
		t.Errorf("%s %s was not injected", kind, name)
	}
	status, _ := find(t, manifests, kind, name).Pipe(yaml.Lookup("spec", "template", "metadata", "annotations", "sidecar.istio.io/status"))
	if status == nil {
		t.Errorf("%s %s has no sidecar.istio.io/status annotation", kind, name)
	}
}

func assertNotInjected(t *testing.T, manifests, kind, name string) {
	t.Helper()
	if got := sidecarNames(t, manifests, kind, name); len(got) != 0 {
		t.Errorf("%s %s was injected (%v); it opts out", kind, name, got)
	}
}
