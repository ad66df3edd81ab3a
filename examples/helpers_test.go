package examples_test

import (
	"bytes"
	"errors"
	"flag"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
)

var update = flag.Bool("update", false, "rewrite the expected files in testdata from the tools' output")

// TestMain builds bin/inject-sidecar once, with make build: the examples
// run the real binary through the real tools, and their function configs
// point at bin/.
func TestMain(m *testing.M) {
	flag.Parse()
	root, err := filepath.Abs("..")
	if err == nil {
		cmd := exec.Command("make", "--no-print-directory", "build")
		cmd.Dir = root
		var out []byte
		if out, err = cmd.CombinedOutput(); err != nil {
			err = fmt.Errorf("make build: %w\n%s", err, out)
		}
	}
	if err != nil {
		fmt.Fprintln(os.Stderr, "examples:", err)
		os.Exit(1)
	}
	os.Exit(m.Run())
}

// repoRoot is the repository's root directory, absolute.
func repoRoot(t *testing.T) string {
	t.Helper()
	root, err := filepath.Abs("..")
	if err != nil {
		t.Fatal(err)
	}
	return root
}

// repoPath is a path inside the repository, absolute.
func repoPath(t *testing.T, elem ...string) string {
	t.Helper()
	return filepath.Join(append([]string{repoRoot(t)}, elem...)...)
}

// skipOrFail skips the test, or fails it in CI, where every tool the
// Makefile installs must be present. The message starts with SKIPPED so
// that it stands out in `go test -v` output.
func skipOrFail(t *testing.T, required bool, format string, args ...any) {
	t.Helper()
	msg := "SKIPPED: " + fmt.Sprintf(format, args...)
	if required && os.Getenv("CI") == "true" {
		t.Fatal(msg)
	}
	t.Skip(msg)
}

// tool finds a tool in bin/ (where the Makefile installs it), else on PATH.
// A missing tool skips the test, or fails it in CI unless optional.
func tool(t *testing.T, name, install string, optional bool) string {
	t.Helper()
	p := repoPath(t, "bin", name)
	if st, err := os.Stat(p); err == nil && !st.IsDir() && st.Mode()&0o111 != 0 {
		return p
	}
	if p, err := exec.LookPath(name); err == nil {
		return p
	}
	skipOrFail(t, !optional, "%s not in bin/ nor on PATH (%s)", name, install)
	return ""
}

// result is what a command did.
type result struct {
	stdout, stderr string
	err            error
}

// exitCode is the command's exit status, -1 if it did not run or exit.
func (r result) exitCode() int {
	if r.err == nil {
		return 0
	}
	var ee *exec.ExitError
	if errors.As(r.err, &ee) {
		return ee.ExitCode()
	}
	return -1
}

// command describes one run of a tool.
type command struct {
	dir   string
	env   map[string]string // added to a clean environment, see toolEnv
	stdin string
	args  []string
}

// run runs a command with bin/ first on PATH. It never fails the test:
// callers assert on the result.
func run(t *testing.T, c command) result {
	t.Helper()
	env := toolEnv(t, c.env)
	cmd := exec.Command(lookPath(c.args[0], env), c.args[1:]...)
	cmd.Dir = c.dir
	cmd.Env = env
	cmd.Stdin = strings.NewReader(c.stdin)
	var stdout, stderr bytes.Buffer
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	err := cmd.Run()
	return result{stdout: stdout.String(), stderr: stderr.String(), err: err}
}

// lookPath resolves a bare command name on the PATH of env, as the tools
// themselves would; exec.Command alone would search the test's PATH.
func lookPath(name string, env []string) string {
	if strings.ContainsRune(name, filepath.Separator) {
		return name
	}
	for i := len(env) - 1; i >= 0; i-- {
		if path, ok := strings.CutPrefix(env[i], "PATH="); ok {
			for _, dir := range filepath.SplitList(path) {
				p := filepath.Join(dir, name)
				if st, err := os.Stat(p); err == nil && !st.IsDir() && st.Mode()&0o111 != 0 {
					return p
				}
			}
			break
		}
	}
	return name
}

// mustRun runs a command that must succeed and returns its stdout.
func mustRun(t *testing.T, c command) string {
	t.Helper()
	r := run(t, c)
	if r.err != nil {
		t.Fatalf("%s: %v\nstderr:\n%s", strings.Join(c.args, " "), r.err, r.stderr)
	}
	return r.stdout
}

// toolEnv is the environment tools run with: the process's own minus the
// settings that would change their output (a user's Helm or kustomize
// configuration, Argo CD or Istio variables), bin/ first on PATH, a private
// HOME, and the given extra variables, which may replace PATH.
func toolEnv(t *testing.T, extra map[string]string) []string {
	t.Helper()
	var env []string
	for _, kv := range os.Environ() {
		name, _, _ := strings.Cut(kv, "=")
		switch {
		case name == "PATH", name == "HOME", strings.HasPrefix(name, "HELM_"),
			strings.HasPrefix(name, "ARGOCD_"), strings.HasPrefix(name, "PARAM_"),
			strings.HasPrefix(name, "KUSTOMIZE_"), strings.HasPrefix(name, "XDG_"),
			name == "KUBE_VERSION", name == "KUBECONFIG", name == "ENABLE_NATIVE_SIDECARS",
			name == "COMPLIANCE_POLICY", name == "PLATFORM", name == "INJECT_SIDECAR":
			continue
		}
		env = append(env, kv)
	}
	// Go's caches default to places under HOME; keep the real ones, or
	// every go command in a test would rebuild and download everything.
	if _, ok := os.LookupEnv("GOCACHE"); !ok {
		if dir, err := os.UserCacheDir(); err == nil {
			env = append(env, "GOCACHE="+filepath.Join(dir, "go-build"))
		}
	}
	if _, ok := os.LookupEnv("GOPATH"); !ok {
		if dir, err := os.UserHomeDir(); err == nil {
			env = append(env, "GOPATH="+filepath.Join(dir, "go"))
		}
	}
	home := t.TempDir()
	if _, ok := extra["PATH"]; !ok {
		env = append(env, "PATH="+repoPath(t, "bin")+string(os.PathListSeparator)+os.Getenv("PATH"))
	}
	env = append(env,
		"HOME="+home,
		"XDG_CONFIG_HOME="+filepath.Join(home, ".config"),
		"XDG_CACHE_HOME="+filepath.Join(home, ".cache"),
		"XDG_DATA_HOME="+filepath.Join(home, ".local", "share"),
	)
	for k, v := range extra {
		env = append(env, k+"="+v)
	}
	return env
}

// golden compares got with testdata/golden/NAME, or rewrites it with -update.
func golden(t *testing.T, name, got string) {
	t.Helper()
	path := filepath.Join("testdata", "golden", name)
	if *update {
		if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(path, []byte(got), 0o644); err != nil {
			t.Fatal(err)
		}
		return
	}
	want, err := os.ReadFile(path)
	if err != nil {
		t.Fatalf("%v (run go test ./examples -update to create it, then review it)", err)
	}
	if got != string(want) {
		t.Errorf("output differs from %s (run with -update and review the diff):\n%s", path, lineDiff(string(want), got))
	}
}

// lineDiff lists the lines that differ, with their line numbers; enough to
// see what changed in a rendered manifest.
func lineDiff(want, got string) string {
	w, g := strings.Split(want, "\n"), strings.Split(got, "\n")
	var b strings.Builder
	shown := 0
	for i := 0; i < len(w) || i < len(g); i++ {
		var wl, gl string
		if i < len(w) {
			wl = w[i]
		}
		if i < len(g) {
			gl = g[i]
		}
		if wl == gl {
			continue
		}
		fmt.Fprintf(&b, "line %d:\n- %s\n+ %s\n", i+1, wl, gl)
		if shown++; shown == 20 {
			b.WriteString("...\n")
			break
		}
	}
	return b.String()
}

// copyDir copies a directory tree (regular files only) into dst.
func copyDir(t *testing.T, src, dst string) {
	t.Helper()
	err := filepath.Walk(src, func(p string, info os.FileInfo, err error) error {
		if err != nil {
			return err
		}
		rel, err := filepath.Rel(src, p)
		if err != nil {
			return err
		}
		target := filepath.Join(dst, rel)
		if info.IsDir() {
			return os.MkdirAll(target, 0o755)
		}
		data, err := os.ReadFile(p)
		if err != nil {
			return err
		}
		return os.WriteFile(target, data, info.Mode().Perm())
	})
	if err != nil {
		t.Fatal(err)
	}
}

// assertFailedCleanly checks a failed run: a non-zero exit, no manifests
// on stdout, and the expected message where the user sees it.
func assertFailedCleanly(t *testing.T, r result, shown string, want ...string) {
	t.Helper()
	if r.err == nil {
		t.Fatalf("the run succeeded; want a failure\nstdout:\n%s", r.stdout)
	}
	if strings.Contains(r.stdout, "kind:") {
		t.Errorf("a failed run wrote manifests to stdout:\n%s", r.stdout)
	}
	for _, w := range want {
		if !strings.Contains(shown, w) {
			t.Errorf("the message the user sees does not contain %q:\n%s", w, shown)
		}
	}
}
