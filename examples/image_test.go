package examples_test

import (
	"bufio"
	"debug/elf"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"

	sigsyaml "sigs.k8s.io/yaml"
)

// dockerfile is a parsed Dockerfile: its instructions in order, with
// continuation lines joined and comments dropped.
type dockerfile []instruction

type instruction struct{ op, args string }

func parseDockerfile(t *testing.T, path string) dockerfile {
	t.Helper()
	f, err := os.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	var d dockerfile
	var pending string
	s := bufio.NewScanner(f)
	for s.Scan() {
		line := strings.TrimSpace(s.Text())
		if line == "" || strings.HasPrefix(line, "#") {
			continue
		}
		if cont, ok := strings.CutSuffix(line, "\\"); ok {
			pending += cont + " "
			continue
		}
		line, pending = pending+line, ""
		op, args, _ := strings.Cut(line, " ")
		d = append(d, instruction{op: strings.ToUpper(op), args: strings.TrimSpace(args)})
	}
	if err := s.Err(); err != nil {
		t.Fatal(err)
	}
	return d
}

// all returns the arguments of every instruction op.
func (d dockerfile) all(op string) []string {
	var out []string
	for _, i := range d {
		if i.op == op {
			out = append(out, i.args)
		}
	}
	return out
}

// goBuild is the RUN instruction that builds the binary.
func (d dockerfile) goBuild(t *testing.T) string {
	t.Helper()
	for _, r := range d.all("RUN") {
		if strings.Contains(r, "go build") {
			return r
		}
	}
	t.Fatal("the Dockerfile has no RUN ... go build")
	return ""
}

// argDefault is the default of ARG name.
func (d dockerfile) argDefault(name string) string {
	for _, a := range d.all("ARG") {
		if k, v, ok := strings.Cut(a, "="); ok && k == name {
			return v
		}
	}
	return ""
}

var pinnedGoImage = regexp.MustCompile(`^golang:\d+\.\d+\.\d+(-[a-z0-9]+)?(@sha256:[0-9a-f]{64})? AS \w+$`)

// TestDockerfile checks the container image's Dockerfile without a docker
// daemon: a pinned Go builder, a distroless static non-root final image
// whose entrypoint is the binary, COPY lines that bring every package the
// binary needs, and a build command that, run directly, produces a static
// binary that works as a KRM function.
func TestDockerfile(t *testing.T) {
	d := parseDockerfile(t, repoPath(t, "Dockerfile"))
	froms := d.all("FROM")
	if len(froms) != 2 {
		t.Fatalf("want a two-stage build, got FROM %v", froms)
	}
	if !pinnedGoImage.MatchString(froms[0]) {
		t.Errorf("builder %q: want golang:X.Y.Z pinned to a patch release", froms[0])
	}
	if !strings.HasPrefix(froms[1], "gcr.io/distroless/static") || !strings.HasSuffix(froms[1], ":nonroot") {
		t.Errorf("final image %q: want gcr.io/distroless/static...:nonroot", froms[1])
	}
	if users := d.all("USER"); len(users) == 0 || !strings.HasPrefix(users[len(users)-1], "nonroot") {
		t.Errorf("final USER %v: want nonroot", users)
	}
	entry := d.all("ENTRYPOINT")
	if len(entry) != 1 || entry[0] != `["/usr/local/bin/inject-sidecar"]` {
		t.Errorf("ENTRYPOINT %v: want the binary, exec form", entry)
	}
	copied := map[string]bool{}
	for _, c := range d.all("COPY") {
		if strings.HasPrefix(c, "--from=") {
			continue
		}
		f := strings.Fields(c)
		for _, src := range f[:len(f)-1] {
			copied[strings.TrimSuffix(src, "/")] = true
		}
	}
	for _, dir := range packageDirs(t) {
		if !copied[dir] {
			t.Errorf("./fn needs packages under %s/, which the Dockerfile does not COPY", dir)
		}
	}

	t.Run("build command", func(t *testing.T) {
		testBuildCommand(t, d)
	})
}

// packageDirs are the top-level directories of the repository holding the
// packages ./fn is built from.
func packageDirs(t *testing.T) []string {
	t.Helper()
	out := mustRun(t, command{dir: repoRoot(t), args: []string{"go", "list", "-deps", "-f", "{{if .Module}}{{if .Module.Main}}{{.Dir}}{{end}}{{end}}", "./fn"}})
	seen := map[string]bool{}
	var dirs []string
	for _, dir := range strings.Fields(out) {
		rel, err := filepath.Rel(repoRoot(t), dir)
		if err != nil {
			t.Fatal(err)
		}
		top, _, _ := strings.Cut(filepath.ToSlash(rel), "/")
		if !seen[top] {
			seen[top] = true
			dirs = append(dirs, top)
		}
	}
	return dirs
}

// testBuildCommand runs the Dockerfile's go build line in the repository
// (the build stage's WORKDIR holds the same files), with the build args'
// defaults, and checks the binary.
func testBuildCommand(t *testing.T, d dockerfile) {
	line := d.goBuild(t)
	out := filepath.Join(t.TempDir(), "inject-sidecar")
	version := d.argDefault("VERSION")
	script := strings.ReplaceAll(line, "${VERSION}", version)
	if !strings.Contains(script, "/out/inject-sidecar") {
		t.Fatalf("the build command does not write /out/inject-sidecar: %s", line)
	}
	script = strings.ReplaceAll(script, "/out/inject-sidecar", out)
	mustRun(t, command{dir: repoRoot(t), args: []string{"sh", "-c", script}})

	f, err := elf.Open(out)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	for _, p := range f.Progs {
		if p.Type == elf.PT_INTERP {
			t.Error("the binary has a program interpreter: it is dynamically linked and will not run on distroless/static")
		}
	}
	if libs, err := f.ImportedLibraries(); err != nil || len(libs) > 0 {
		t.Errorf("the binary needs shared libraries %v (%v)", libs, err)
	}

	if got := strings.TrimSpace(mustRun(t, command{args: []string{out, "version"}})); got != version {
		t.Errorf("version %q, want the Dockerfile's VERSION %q", got, version)
	}

	// KRM mode, as kpt or kustomize run the image: a ResourceList on stdin.
	k := tool(t, "kustomize", kustomizeInstall, false)
	apps := mustRun(t, command{dir: repoRoot(t), args: []string{k, "build", "examples/apps"}})
	config, err := os.ReadFile(repoPath(t, "examples", "kustomize", "typed", "sidecar-injector.yaml"))
	if err != nil {
		t.Fatal(err)
	}
	rl := "apiVersion: config.kubernetes.io/v1\nkind: ResourceList\nitems:\n" + indentItems(apps) + "functionConfig:\n" + indent(string(config), "  ")
	res := mustRun(t, command{stdin: rl, args: []string{out}})
	var list struct {
		Items []map[string]any `json:"items"`
	}
	if err := sigsyaml.Unmarshal([]byte(res), &list); err != nil {
		t.Fatalf("the function's output is not a ResourceList: %v\n%s", err, res)
	}
	var items strings.Builder
	for _, it := range list.Items {
		b, err := sigsyaml.Marshal(it)
		if err != nil {
			t.Fatal(err)
		}
		items.WriteString(string(b) + "---\n")
	}
	assertInjected(t, items.String(), "Deployment", "web")
	if got, want := podTemplate(t, items.String(), "Deployment", "web"), podTemplate(t, readGolden(t, "kustomize.yaml"), "Deployment", "web"); got != want {
		t.Errorf("the image's binary injects unlike the kustomize example:\n%s", lineDiff(want, got))
	}
}

// indentItems turns a multi-document stream into YAML list items.
func indentItems(docs string) string {
	var b strings.Builder
	for _, doc := range strings.Split(docs, "\n---\n") {
		if strings.TrimSpace(doc) == "" {
			continue
		}
		lines := strings.Split(strings.TrimRight(doc, "\n"), "\n")
		b.WriteString("- " + lines[0] + "\n")
		for _, l := range lines[1:] {
			b.WriteString("  " + l + "\n")
		}
	}
	return b.String()
}

func indent(s, prefix string) string {
	lines := strings.Split(strings.TrimRight(s, "\n"), "\n")
	for i, l := range lines {
		if l != "" {
			lines[i] = prefix + l
		}
	}
	return strings.Join(lines, "\n") + "\n"
}

// TestArgoCDImage: the plugin sidecar's Dockerfile builds the binary the
// same way and installs the generate script plugin.yaml runs.
func TestArgoCDImage(t *testing.T) {
	root := parseDockerfile(t, repoPath(t, "Dockerfile"))
	cmp := parseDockerfile(t, repoPath(t, "examples", "argocd", "cmp", "Dockerfile"))
	if a, b := root.goBuild(t), cmp.goBuild(t); a != b {
		t.Errorf("the plugin image builds differently from the function image:\n%s\n%s", b, a)
	}
	p := readPlugin(t)
	want := "examples/argocd/cmp/" + p.Spec.Generate.Command[0] + " /usr/local/bin/" + p.Spec.Generate.Command[0]
	if !contains(cmp.all("COPY"), want) {
		t.Errorf("the plugin image does not COPY %s", want)
	}
	if froms := cmp.all("FROM"); len(froms) != 2 || !strings.HasPrefix(froms[1], "quay.io/argoproj/argocd:") {
		t.Errorf("the plugin image should extend Argo CD's image, got FROM %v", froms)
	}
}

// TestKrmfile: the Krmfile is package metadata for kustomize cfg and
// declares no function (functions are declared where they run).
func TestKrmfile(t *testing.T) {
	data, err := os.ReadFile(repoPath(t, "Krmfile"))
	if err != nil {
		t.Fatal(err)
	}
	var k map[string]any
	if err := sigsyaml.Unmarshal(data, &k); err != nil {
		t.Fatal(err)
	}
	if k["apiVersion"] != "config.k8s.io/v1alpha1" || k["kind"] != "Krmfile" {
		t.Errorf("Krmfile is %v %v, want config.k8s.io/v1alpha1 Krmfile", k["apiVersion"], k["kind"])
	}
	for key := range k {
		switch key {
		case "apiVersion", "kind", "metadata", "openAPI":
		default:
			t.Errorf("Krmfile has %q: it should hold package metadata only, no function", key)
		}
	}
	if strings.Contains(string(data), "config.kubernetes.io/function") {
		t.Error("Krmfile declares a function")
	}
	// kustomize cfg reads a package holding it, and does not take it for a
	// resource.
	k8s := tool(t, "kustomize", kustomizeInstall, false)
	pkg := t.TempDir()
	copyDir(t, repoPath(t, "examples", "apps"), pkg)
	if err := os.WriteFile(filepath.Join(pkg, "Krmfile"), data, 0o644); err != nil {
		t.Fatal(err)
	}
	out := mustRun(t, command{dir: pkg, args: []string{k8s, "cfg", "count", "."}})
	if strings.Contains(out, "Krmfile") {
		t.Errorf("kustomize cfg counts the Krmfile as a resource:\n%s", out)
	}
}
