package main

import (
	"bytes"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	"sigs.k8s.io/yaml"
)

// repoRoot is where the Makefile puts bin/ and the examples live.
const repoRoot = ".."

// buildBinary builds bin/inject-sidecar, the path examples/quickstart's
// kustomization execs, so the test runs what users run.
func buildBinary(t *testing.T) string {
	t.Helper()
	bin, err := filepath.Abs(filepath.Join(repoRoot, "bin", "inject-sidecar"))
	if err != nil {
		t.Fatal(err)
	}
	cmd := exec.Command("go", "build", "-o", bin, ".")
	cmd.Env = append(os.Environ(), "CGO_ENABLED=0")
	if out, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("go build: %v\n%s", err, out)
	}
	return bin
}

// requireTool finds a tool the Makefile installs into bin/. Absent, the
// test fails in CI and is skipped loudly elsewhere.
func requireTool(t *testing.T, name string) string {
	t.Helper()
	p, err := filepath.Abs(filepath.Join(repoRoot, "bin", name))
	if err != nil {
		t.Fatal(err)
	}
	if _, err := os.Stat(p); err != nil {
		msg := name + " NOT INSTALLED in bin/: run `make tools`; the end-to-end test did not run"
		if os.Getenv("CI") == "true" {
			t.Fatal(msg)
		}
		t.Skip(msg)
	}
	return p
}

// TestQuickstartWithKustomize renders examples/quickstart with real
// kustomize (kubectl kustomize cannot run exec functions) and checks the
// injected workload, the opted-out one, and the resources around them.
func TestQuickstartWithKustomize(t *testing.T) {
	kustomize := requireTool(t, "kustomize")
	buildBinary(t)
	cmd := exec.Command(kustomize, "build", "--enable-alpha-plugins", "--enable-exec", "examples/quickstart")
	cmd.Dir = repoRoot
	var stdout, stderr bytes.Buffer
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	if err := cmd.Run(); err != nil {
		t.Fatalf("kustomize build: %v\n%s", err, stderr.String())
	}
	got := objectsByName(t, stdout.Bytes())
	if len(got) != 4 {
		t.Fatalf("got %d objects, want the 4 of the kustomization: %v", len(got), keys(got))
	}

	// The web Deployment is injected.
	web := got["Deployment/web"]
	spec := dig(web, "spec", "template", "spec").(map[string]any)
	if names := containerNames(spec["containers"]); strings.Join(names, ",") != "web,istio-proxy" {
		t.Errorf("web containers = %v, want [web istio-proxy]", names)
	}
	if names := containerNames(spec["initContainers"]); strings.Join(names, ",") != "istio-init" {
		t.Errorf("web initContainers = %v, want [istio-init]", names)
	}
	proxy := spec["containers"].([]any)[1].(map[string]any)
	if proxy["image"] != "docker.io/istio/proxyv2:1.28.1" {
		t.Errorf("istio-proxy image = %v", proxy["image"])
	}
	ann := dig(web, "spec", "template", "metadata", "annotations").(map[string]any)
	if !strings.Contains(ann["sidecar.istio.io/status"].(string), `"containers":["istio-proxy"]`) {
		t.Errorf("status annotation = %v", ann["sidecar.istio.io/status"])
	}
	probe := dig(web, "spec", "template", "spec", "containers").([]any)[0].(map[string]any)["readinessProbe"]
	if p := dig(probe, "httpGet", "path"); p != "/app-health/web/readyz" {
		t.Errorf("web readiness probe path = %v, want it rewritten to the agent", p)
	}

	// Everything else is exactly what the kustomization holds.
	for key, file := range map[string]string{
		"Deployment/worker": "worker.yaml",
		"Namespace/demo":    "namespace.yaml",
		"Service/web":       "web.yaml",
	} {
		data, err := os.ReadFile(filepath.Join(repoRoot, "examples", "quickstart", file))
		if err != nil {
			t.Fatal(err)
		}
		want := objectsByName(t, data)[key]
		if want == nil {
			t.Fatalf("%s not in %s", key, file)
		}
		if !equalJSON(t, want, got[key]) {
			t.Errorf("%s changed:\nwant %v\ngot  %v", key, want, got[key])
		}
	}
}

func objectsByName(t *testing.T, data []byte) map[string]map[string]any {
	t.Helper()
	out := map[string]map[string]any{}
	for _, doc := range strings.Split("\n"+string(data), "\n---") {
		var obj map[string]any
		if err := yaml.Unmarshal([]byte(doc), &obj); err != nil {
			t.Fatalf("parse output: %v", err)
		}
		if obj == nil {
			continue
		}
		out[obj["kind"].(string)+"/"+dig(obj, "metadata", "name").(string)] = obj
	}
	return out
}

func dig(v any, path ...string) any {
	for _, p := range path {
		m, ok := v.(map[string]any)
		if !ok {
			return nil
		}
		v = m[p]
	}
	return v
}

func containerNames(v any) []string {
	list, _ := v.([]any)
	names := make([]string, 0, len(list))
	for _, c := range list {
		names = append(names, dig(c, "name").(string))
	}
	return names
}

func keys(m map[string]map[string]any) []string {
	out := make([]string, 0, len(m))
	for k := range m {
		out = append(out, k)
	}
	return out
}

func equalJSON(t *testing.T, a, b any) bool {
	t.Helper()
	ja, err := yaml.Marshal(a)
	if err != nil {
		t.Fatal(err)
	}
	jb, err := yaml.Marshal(b)
	if err != nil {
		t.Fatal(err)
	}
	return bytes.Equal(ja, jb)
}
