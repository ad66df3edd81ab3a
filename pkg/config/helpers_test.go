package config

import (
	"os"
	"path/filepath"
	"strings"
	"testing"

	"sigs.k8s.io/kustomize/kyaml/kio"
	"sigs.k8s.io/kustomize/kyaml/yaml"
)

func readTestdata(t *testing.T, name string) []byte {
	t.Helper()
	b, err := os.ReadFile(filepath.Join("testdata", name))
	if err != nil {
		t.Fatal(err)
	}
	return b
}

// readNodes reads the objects of a testdata file; "" gives none.
func readNodes(t *testing.T, name string) []*yaml.RNode {
	t.Helper()
	if name == "" {
		return nil
	}
	nodes, err := kio.FromBytes(readTestdata(t, name))
	if err != nil {
		t.Fatalf("%s: %v", name, err)
	}
	return nodes
}

func readNode(t *testing.T, name string) *yaml.RNode {
	t.Helper()
	nodes := readNodes(t, name)
	if len(nodes) != 1 {
		t.Fatalf("%s: want one object, got %d", name, len(nodes))
	}
	return nodes[0]
}

// checkErr fails unless err matches want: "" wants no error, anything else
// wants an error whose message contains it.
func checkErr(t *testing.T, err error, want string) bool {
	t.Helper()
	switch {
	case want == "" && err != nil:
		t.Fatalf("unexpected error: %v", err)
	case want != "" && err == nil:
		t.Fatalf("want an error containing %q, got none", want)
	case want != "" && !strings.Contains(err.Error(), want):
		t.Fatalf("want an error containing %q, got: %v", want, err)
	}
	return err == nil
}

// corpusDir is Istio's conformance corpus next to the repository
// (../shared/istio-conformance). Absent, the test is skipped loudly, or
// fails when CI=true.
func corpusDir(t *testing.T) string {
	t.Helper()
	dir := os.Getenv("ISTIO_CONFORMANCE_DIR")
	if dir == "" {
		dir = filepath.Join("..", "..", "..", "shared", "istio-conformance")
	}
	if _, err := os.Stat(filepath.Join(dir, "configs")); err != nil {
		if os.Getenv("CI") == "true" {
			t.Fatalf("Istio conformance corpus not found at %s (CI=true): %v", dir, err)
		}
		t.Skipf("SKIPPED: Istio conformance corpus not found at %s; these tests did not run (set ISTIO_CONFORMANCE_DIR): %v", dir, err)
	}
	return dir
}

func corpusFiles(t *testing.T, pattern string) []string {
	t.Helper()
	files, err := filepath.Glob(filepath.Join(corpusDir(t), pattern))
	if err != nil {
		t.Fatal(err)
	}
	if len(files) == 0 {
		t.Fatalf("no corpus files match %s", pattern)
	}
	return files
}

func hasWarning(warnings []string, substr string) bool {
	for _, w := range warnings {
		if strings.Contains(w, substr) {
			return true
		}
	}
	return false
}
