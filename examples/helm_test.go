package examples_test

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
)

const helmInstall = "make helm"

// helmSetup is one Helm major version and how it names the post-renderer.
type helmSetup struct {
	name, binary, version string
	// postRenderer returns the --post-renderer value, installing what the
	// version needs (Helm 4: the plugin) into the test's Helm home.
	postRenderer func(t *testing.T, helm string, env map[string]string) string
}

var helmSetups = []helmSetup{
	{
		name: "helm3", binary: "helm", version: "v3.",
		postRenderer: func(t *testing.T, _ string, _ map[string]string) string {
			return repoPath(t, "examples", "helm", "inject-sidecar", "post-render.sh")
		},
	},
	{
		name: "helm4", binary: "helm4", version: "v4.",
		postRenderer: func(t *testing.T, helm string, env map[string]string) string {
			mustRun(t, command{dir: repoRoot(t), env: env, args: []string{helm, "plugin", "install", repoPath(t, "examples", "helm", "inject-sidecar")}})
			return "inject-sidecar"
		},
	},
}

// helmEnv keeps Helm's configuration, cache and plugins in the test.
func helmEnv(t *testing.T) map[string]string {
	dir := t.TempDir()
	return map[string]string{
		"HELM_CONFIG_HOME": filepath.Join(dir, "config"),
		"HELM_CACHE_HOME":  filepath.Join(dir, "cache"),
		"HELM_DATA_HOME":   filepath.Join(dir, "data"),
	}
}

// helmTemplate renders the example chart through the post-renderer.
func helmTemplate(t *testing.T, s helmSetup, namespace, config string) result {
	t.Helper()
	helm := tool(t, s.binary, helmInstall, false)
	env := helmEnv(t)
	if v := mustRun(t, command{dir: repoRoot(t), env: env, args: []string{helm, "version", "--template", "{{.Version}}"}}); !strings.HasPrefix(v, s.version) {
		t.Fatalf("bin/%s is Helm %s, want %s*", s.binary, v, s.version)
	}
	pr := s.postRenderer(t, helm, env)
	return run(t, command{dir: repoRoot(t), env: env, args: []string{
		helm, "template", "shop", "examples/helm/chart", "--namespace", namespace,
		"--post-renderer", pr, "--post-renderer-args", "--config=" + config,
	}})
}

// TestHelm renders the example chart with Helm 3 (--post-renderer PATH)
// and Helm 4 (the postrenderer/v1 plugin).
func TestHelm(t *testing.T) {
	for _, s := range helmSetups {
		t.Run(s.name, func(t *testing.T) {
			r := helmTemplate(t, s, "shop", "examples/helm/sidecar-injector.yaml")
			if r.err != nil {
				t.Fatalf("helm template: %v\n%s", r.err, r.stderr)
			}
			golden(t, s.name+".yaml", r.stdout)
			assertInjected(t, r.stdout, "Deployment", "shop-web")
		})
	}
}

// TestHelmErrors: a failing config fails helm template with the reason
// visible, and Helm renders nothing (an empty render would install an
// empty release). Helm 3 puts the post-renderer's stderr in its error;
// Helm 4 discards it, so the plugin writes to Helm's own stderr.
func TestHelmErrors(t *testing.T) {
	for _, s := range helmSetups {
		for _, tc := range []struct {
			name, namespace, config, want string
		}{
			{"a template that does not parse", "shop", "examples/testdata/failing/helm/sidecar-injector.yaml",
				`function "proxyImage" not defined`},
			{"a namespace the config does not know", "payments", "examples/helm/sidecar-injector.yaml",
				"Deployment payments/shop-web: namespace labels unknown"},
		} {
			t.Run(s.name+"/"+tc.name, func(t *testing.T) {
				r := helmTemplate(t, s, tc.namespace, tc.config)
				assertFailedCleanly(t, r, r.stderr, "error while running post render", tc.want)
				if strings.TrimSpace(r.stdout) != "" {
					t.Errorf("helm wrote to stdout on failure:\n%s", r.stdout)
				}
			})
		}
	}
}

// TestHelmPostRendererScript: the post-renderer's own contract, which both
// Helm versions rely on: the manifests on stdout on success; on failure,
// an empty stdout and a non-zero exit (Helm 3 would otherwise install an
// empty release), and the reason on stderr.
func TestHelmPostRendererScript(t *testing.T) {
	script := repoPath(t, "examples", "helm", "inject-sidecar", "post-render.sh")
	web, err := os.ReadFile(repoPath(t, "examples", "apps", "web.yaml"))
	if err != nil {
		t.Fatal(err)
	}
	manifests := string(web)
	for _, tc := range []struct {
		name, config, want string
	}{
		{"success", "examples/helm/sidecar-injector.yaml", ""},
		{"failure", "examples/testdata/failing/helm/sidecar-injector.yaml", `function "proxyImage" not defined`},
	} {
		t.Run(tc.name, func(t *testing.T) {
			r := run(t, command{dir: repoRoot(t), stdin: manifests, args: []string{script, "--config=" + tc.config}})
			if tc.want != "" {
				assertFailedCleanly(t, r, r.stderr, tc.want)
				if r.stdout != "" {
					t.Errorf("stdout is not empty on failure:\n%s", r.stdout)
				}
				return
			}
			if r.err != nil {
				t.Fatalf("post-render.sh: %v\n%s", r.err, r.stderr)
			}
			if strings.Contains(string(web), "istio-proxy") {
				t.Fatal("the input is injected already")
			}
			assertInjected(t, r.stdout, "Deployment", "web")
		})
	}
}
