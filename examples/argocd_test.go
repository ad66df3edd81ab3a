package examples_test

import (
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"

	sigsyaml "sigs.k8s.io/yaml"
)

// cmpPlugin is the part of a ConfigManagementPlugin the test runs.
type cmpPlugin struct {
	APIVersion string `json:"apiVersion"`
	Kind       string `json:"kind"`
	Metadata   struct {
		Name string `json:"name"`
	} `json:"metadata"`
	Spec struct {
		Version  string     `json:"version"`
		Init     cmpCommand `json:"init"`
		Generate cmpCommand `json:"generate"`
		Discover struct {
			FileName string `json:"fileName"`
		} `json:"discover"`
		Parameters struct {
			Static []struct {
				Name   string `json:"name"`
				Title  string `json:"title"`
				String string `json:"string"`
			} `json:"static"`
		} `json:"parameters"`
	} `json:"spec"`
}

type cmpCommand struct {
	Command []string `json:"command"`
	Args    []string `json:"args"`
}

func readPlugin(t *testing.T) cmpPlugin {
	t.Helper()
	data, err := os.ReadFile(repoPath(t, "examples", "argocd", "cmp", "plugin.yaml"))
	if err != nil {
		t.Fatal(err)
	}
	var p cmpPlugin
	if err := sigsyaml.UnmarshalStrict(data, &p); err != nil {
		t.Fatalf("plugin.yaml: %v", err)
	}
	if p.APIVersion != "argoproj.io/v1alpha1" || p.Kind != "ConfigManagementPlugin" {
		t.Fatalf("plugin.yaml is %s %s, want argoproj.io/v1alpha1 ConfigManagementPlugin", p.APIVersion, p.Kind)
	}
	if len(p.Spec.Generate.Command) == 0 {
		t.Fatal("plugin.yaml has no generate command")
	}
	return p
}

// argoApp is what Argo CD gives a plugin for one Application: the build
// environment, the Application's plugin env (prefixed ARGOCD_ENV_) and its
// parameters (as PARAM_* and as ARGOCD_APP_PARAMETERS JSON).
type argoApp struct {
	path        string // application directory, relative to the repository
	namespace   string // destination namespace
	kubeVersion string
	env         map[string]string
	parameters  map[string]string
}

func (a argoApp) environ(t *testing.T) map[string]string {
	t.Helper()
	env := map[string]string{
		"ARGOCD_APP_NAME":                   "shop",
		"ARGOCD_APP_NAMESPACE":              a.namespace,
		"ARGOCD_APP_REVISION":               "0123456789abcdef0123456789abcdef01234567",
		"ARGOCD_APP_REVISION_SHORT":         "0123456",
		"ARGOCD_APP_SOURCE_PATH":            a.path,
		"ARGOCD_APP_SOURCE_REPO_URL":        "https://github.com/example/gitops.git",
		"ARGOCD_APP_SOURCE_TARGET_REVISION": "main",
		"KUBE_VERSION":                      a.kubeVersion,
		"KUBE_API_VERSIONS":                 "v1,apps/v1,batch/v1,admissionregistration.k8s.io/v1",
	}
	for k, v := range a.env {
		env["ARGOCD_ENV_"+k] = v
	}
	var params []map[string]string
	for k, v := range a.parameters {
		env["PARAM_"+strings.ToUpper(strings.NewReplacer("-", "_", ".", "_").Replace(k))] = v
		params = append(params, map[string]string{"name": k, "string": v})
	}
	if len(params) > 0 {
		b, err := json.Marshal(params)
		if err != nil {
			t.Fatal(err)
		}
		env["ARGOCD_APP_PARAMETERS"] = string(b)
	}
	return env
}

// generate runs the plugin's init and generate commands the way Argo CD's
// cmp-server does: in the application's directory of a copy of the
// repository, init's output ignored. It returns the generate run and what
// Argo CD would show: the manifests, or the error text it puts in the
// Application's condition.
func generate(t *testing.T, p cmpPlugin, app argoApp) (result, string) {
	t.Helper()
	repo := t.TempDir()
	copyDir(t, repoPath(t, "examples"), filepath.Join(repo, "examples"))
	dir := filepath.Join(repo, filepath.FromSlash(app.path))
	env := app.environ(t)
	// The sidecar image has the generate script, kustomize and
	// inject-sidecar on its PATH.
	env["PATH"] = strings.Join([]string{repoPath(t, "examples", "argocd", "cmp"), repoPath(t, "bin"), os.Getenv("PATH")}, string(os.PathListSeparator))
	exec := func(c cmpCommand) (result, string) {
		args := append(append([]string{}, c.Command...), c.Args...)
		r := run(t, command{dir: dir, env: env, args: args})
		if r.err != nil {
			return r, argoCommandError(args, r)
		}
		return r, r.stdout
	}
	if len(p.Spec.Init.Command) > 0 {
		if r, shown := exec(p.Spec.Init); r.err != nil {
			return r, shown
		}
	}
	return exec(p.Spec.Generate)
}

// argoCommandError formats a failed plugin command as Argo CD's cmp-server
// does (its CmdError): "`ARGS` failed CAUSE: STDERR". The repo server then
// wraps it into the Application's ComparisonError condition.
func argoCommandError(args []string, r result) string {
	msg := fmt.Sprintf("`%s` failed %v", strings.Join(args, " "), r.err)
	if s := strings.TrimSpace(r.stderr); s != "" {
		msg += ": " + s
	}
	return msg
}

// TestArgoCDPlugin runs the Config Management Plugin's generate command
// with the variables Argo CD sets: KUBE_VERSION decides native sidecars,
// ARGOCD_APP_NAMESPACE the namespace of the application's workloads, the
// parameter `config` and ARGOCD_ENV_INJECT_REVISION the configuration.
func TestArgoCDPlugin(t *testing.T) {
	tool(t, "kustomize", kustomizeInstall, false)
	p := readPlugin(t)
	for _, tc := range []struct {
		name   string
		app    argoApp
		golden string
		proxy  string // where istio-proxy must be
	}{
		{
			name:   "Kubernetes 1.33: native sidecar",
			app:    argoApp{path: "examples/argocd/app", namespace: "shop", kubeVersion: "1.33.2", env: map[string]string{"INJECT_REVISION": "default"}},
			golden: "argocd-kube-1.33.yaml", proxy: "initContainers/istio-proxy",
		},
		{
			name:   "Kubernetes 1.30: classic sidecar, parameters set",
			app:    argoApp{path: "examples/argocd/app", namespace: "shop", kubeVersion: "1.30.2", parameters: map[string]string{"config": "sidecar-injector.yaml", "revision": "default"}},
			golden: "argocd-kube-1.30.yaml", proxy: "containers/istio-proxy",
		},
	} {
		t.Run(tc.name, func(t *testing.T) {
			r, shown := generate(t, p, tc.app)
			if r.err != nil {
				t.Fatalf("generate failed; Argo CD would show:\n%s", shown)
			}
			golden(t, tc.golden, r.stdout)
			names := sidecarNames(t, r.stdout, "Deployment", "web")
			if !contains(names, tc.proxy) {
				t.Errorf("istio containers %v, want %s", names, tc.proxy)
			}
			// The namespace stays unset: Argo CD applies to the destination.
			if ns := find(t, r.stdout, "Deployment", "web").GetNamespace(); ns != "" {
				t.Errorf("generate set namespace %q on Deployment web", ns)
			}
		})
	}
}

// TestArgoCDPluginErrors: a failing generate exits non-zero with nothing on
// stdout, and the reason is in the message Argo CD shows on the
// Application.
func TestArgoCDPluginErrors(t *testing.T) {
	tool(t, "kustomize", kustomizeInstall, false)
	p := readPlugin(t)
	for _, tc := range []struct {
		name string
		app  argoApp
		want string
	}{
		{
			name: "invalid setting in the config",
			app:  argoApp{path: "examples/testdata/failing/argocd-app", namespace: "shop", kubeVersion: "1.33.2"},
			want: `SidecarInjector.spec.nativeSidecars: "sometimes"`,
		},
		{
			name: "destination namespace the config does not know",
			app:  argoApp{path: "examples/argocd/app", namespace: "payments", kubeVersion: "1.33.2"},
			want: "Deployment web: namespace labels unknown: namespace payments",
		},
		{
			name: "config parameter outside the application",
			app:  argoApp{path: "examples/argocd/app", namespace: "shop", kubeVersion: "1.33.2", parameters: map[string]string{"config": "../../../etc/passwd"}},
			want: "parameter config must be a relative path inside the application directory",
		},
	} {
		t.Run(tc.name, func(t *testing.T) {
			r, shown := generate(t, p, tc.app)
			assertFailedCleanly(t, r, shown, "`inject-sidecar-generate` failed exit status 1: ", tc.want)
			if r.stdout != "" {
				t.Errorf("generate wrote to stdout on failure:\n%s", r.stdout)
			}
		})
	}
}

// TestArgoCDPluginDiscovery: the plugin's discover.fileName matches the
// example application and not a directory without an injector config;
// its announced parameter defaults are the ones generate applies.
func TestArgoCDPluginDiscovery(t *testing.T) {
	p := readPlugin(t)
	for dir, want := range map[string]bool{"examples/argocd/app": true, "examples/apps": false} {
		m, err := filepath.Glob(filepath.Join(repoPath(t, dir), p.Spec.Discover.FileName))
		if err != nil {
			t.Fatal(err)
		}
		if got := len(m) > 0; got != want {
			t.Errorf("discover.fileName %q matches %s: %v, want %v", p.Spec.Discover.FileName, dir, got, want)
		}
	}
	defaults := map[string]string{}
	for _, s := range p.Spec.Parameters.Static {
		defaults[s.Name] = s.String
	}
	script, err := os.ReadFile(repoPath(t, "examples", "argocd", "cmp", p.Spec.Generate.Command[0]))
	if err != nil {
		t.Fatalf("the generate command is not the script beside plugin.yaml: %v", err)
	}
	for name, def := range defaults {
		if want := fmt.Sprintf("${PARAM_%s:-%s}", strings.ToUpper(name), def); def != "" && !strings.Contains(string(script), want) {
			t.Errorf("parameter %s announces default %q but generate does not apply it (%s)", name, def, want)
		}
	}
}

// TestArgoCDInstall renders the plugin's install: the ConfigMap holding
// plugin.yaml, and the repo-server patch applied to a stand-in of Argo
// CD's argocd-repo-server, whose sidecar must mount only volumes that exist.
func TestArgoCDInstall(t *testing.T) {
	out := renderArgoCDInstall(t)
	cm := find(t, out, "ConfigMap", "inject-sidecar-cmp")
	plugin, err := os.ReadFile(repoPath(t, "examples", "argocd", "cmp", "plugin.yaml"))
	if err != nil {
		t.Fatal(err)
	}
	if got := cm.GetDataMap()["plugin.yaml"]; got != string(plugin) {
		t.Errorf("ConfigMap inject-sidecar-cmp does not hold plugin.yaml:\n%s", lineDiff(string(plugin), got))
	}
	var dep struct {
		Spec struct {
			Template struct {
				Spec struct {
					Containers []struct {
						Name         string   `json:"name"`
						Command      []string `json:"command"`
						VolumeMounts []struct {
							Name      string `json:"name"`
							MountPath string `json:"mountPath"`
						} `json:"volumeMounts"`
					} `json:"containers"`
					Volumes []struct {
						Name string `json:"name"`
					} `json:"volumes"`
				} `json:"spec"`
			} `json:"template"`
		} `json:"spec"`
	}
	if err := sigsyaml.Unmarshal([]byte(find(t, out, "Deployment", "argocd-repo-server").MustString()), &dep); err != nil {
		t.Fatal(err)
	}
	volumes := map[string]bool{}
	for _, v := range dep.Spec.Template.Spec.Volumes {
		volumes[v.Name] = true
	}
	var sidecar bool
	for _, c := range dep.Spec.Template.Spec.Containers {
		if c.Name != "inject-sidecar" {
			continue
		}
		sidecar = true
		if strings.Join(c.Command, " ") != "/var/run/argocd/argocd-cmp-server" {
			t.Errorf("sidecar command %v, want Argo CD's argocd-cmp-server", c.Command)
		}
		mounts := map[string]bool{}
		for _, m := range c.VolumeMounts {
			mounts[m.MountPath] = true
			if !volumes[m.Name] {
				t.Errorf("sidecar mounts volume %q, which the Deployment does not have", m.Name)
			}
		}
		for _, want := range []string{"/var/run/argocd", "/home/argocd/cmp-server/plugins", "/home/argocd/cmp-server/config/plugin.yaml", "/tmp"} {
			if !mounts[want] {
				t.Errorf("sidecar does not mount %s", want)
			}
		}
	}
	if !sidecar {
		t.Error("the patched argocd-repo-server has no inject-sidecar container")
	}
}

// renderArgoCDInstall builds the plugin's kustomization together with the
// stand-in repo server and the example's patches.
func renderArgoCDInstall(t *testing.T) string {
	t.Helper()
	k := tool(t, "kustomize", kustomizeInstall, false)
	dir := t.TempDir()
	copyDir(t, repoPath(t, "examples", "argocd"), filepath.Join(dir, "argocd"))
	stub, err := os.ReadFile(repoPath(t, "examples", "testdata", "argocd-repo-server.yaml"))
	if err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(dir, "argocd-repo-server.yaml"), stub, 0o644); err != nil {
		t.Fatal(err)
	}
	kust := `apiVersion: kustomize.config.k8s.io/v1beta1
kind: Kustomization
namespace: argocd
resources:
  - argocd-repo-server.yaml
  - argocd/cmp
patches:
  - path: argocd/cmp/repo-server-patch.yaml
  - path: argocd/exec/argocd-cm-patch.yaml
`
	if err := os.WriteFile(filepath.Join(dir, "kustomization.yaml"), []byte(kust), 0o644); err != nil {
		t.Fatal(err)
	}
	out := mustRun(t, command{dir: dir, args: []string{k, "build", "--load-restrictor", "LoadRestrictionsNone", "."}})
	if got := find(t, out, "ConfigMap", "argocd-cm").GetDataMap()["kustomize.buildOptions"]; got != "--enable-alpha-plugins --enable-exec" {
		t.Errorf("argocd-cm kustomize.buildOptions = %q", got)
	}
	return out
}

// TestArgoCDKustomizeExec is the alternative to the plugin: Argo CD's
// kustomize with --enable-alpha-plugins --enable-exec and inject-sidecar on
// the repo server's PATH. The application renders like the kustomize
// example; without the binary on PATH it fails instead of skipping.
func TestArgoCDKustomizeExec(t *testing.T) {
	r := kustomizeBuild(t, "examples/argocd/exec/app", map[string]string{"ARGOCD_APP_NAMESPACE": "shop", "KUBE_VERSION": "1.33.2"})
	if r.err != nil {
		t.Fatalf("kustomize build: %v\n%s", r.err, r.stderr)
	}
	golden(t, "kustomize.yaml", r.stdout)

	t.Run("inject-sidecar not on PATH", func(t *testing.T) {
		k := tool(t, "kustomize", kustomizeInstall, false)
		r := run(t, command{dir: repoRoot(t), env: map[string]string{"PATH": t.TempDir()},
			args: []string{k, "build", "--enable-alpha-plugins", "--enable-exec", "examples/argocd/exec/app"}})
		assertFailedCleanly(t, r, r.stderr, `"inject-sidecar": executable file not found`)
	})
}

func contains(list []string, s string) bool {
	for _, x := range list {
		if x == s {
			return true
		}
	}
	return false
}
