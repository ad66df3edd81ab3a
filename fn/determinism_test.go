package main

import (
	"bytes"
	"os"
	"path/filepath"
	"runtime"
	"testing"
)

// TestDeterministic runs the same inputs repeatedly under several
// GOMAXPROCS values: standard output, standard error and the error must be
// byte for byte the same every time. Map iteration order, goroutines in
// template execution and concurrent reads would all show up here.
func TestDeterministic(t *testing.T) {
	quickstart := filepath.Join("..", "examples", "quickstart")
	var manifests []string
	for _, f := range []string{"namespace.yaml", "web.yaml", "worker.yaml"} {
		manifests = append(manifests, "-f", filepath.Join(quickstart, f))
	}
	krmInput := loadBadCase(t, filepath.Join("testdata", "badinput", "crlf")).list
	failing := loadBadCase(t, filepath.Join("testdata", "badinput", "unknown-template")).list

	tests := []struct {
		name  string
		args  []string
		stdin []byte
	}{
		{"inject quickstart", append([]string{"inject", "--config", filepath.Join(quickstart, "injector.yaml")}, manifests...), nil},
		{"krm", []string{}, krmInput},
		{"krm failing", []string{}, failing},
	}
	if dir := conformanceInputs(t); dir != "" {
		// Many workloads and features in one run: every input of Istio's
		// corpus that its full configuration injects.
		args := []string{"inject", "--injectConfigFile", filepath.Join(dir, "configs", "inject-config-8172d953e7.yaml"),
			"--valuesFile", filepath.Join(dir, "configs", "values-224ecb5620.json"),
			"--meshConfigFile", filepath.Join(dir, "configs", "mesh-d3ed38e8ee.yaml")}
		for _, f := range []string{"hello.yaml", "hello-multi.yaml", "statefulset.yaml", "cronjob.yaml", "job.yaml",
			"daemonset.yaml", "replicaset.yaml", "list.yaml", "traffic-params.yaml", "resource_annotations.yaml"} {
			if _, err := os.Stat(filepath.Join(dir, "inject", f)); err == nil {
				args = append(args, "-f", filepath.Join(dir, "inject", f))
			}
		}
		tests = append(tests, struct {
			name  string
			args  []string
			stdin []byte
		}{"inject conformance inputs", args, nil})
	}

	defer runtime.GOMAXPROCS(runtime.GOMAXPROCS(0))
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			var first string
			for _, procs := range []int{1, 2, 8, 1, 8} {
				runtime.GOMAXPROCS(procs)
				for i := 0; i < 3; i++ {
					out, errOut, err := runCommand(tc.args, tc.stdin, fakeEnv{})
					var b bytes.Buffer
					b.Write(out)
					b.WriteString("\n--- stderr\n")
					b.Write(errOut)
					if err != nil {
						b.WriteString("\n--- error\n" + err.Error())
					}
					if first == "" {
						first = b.String()
						if len(out) == 0 {
							t.Fatalf("no output: %v", err)
						}
						continue
					}
					if b.String() != first {
						t.Fatalf("GOMAXPROCS=%d, run %d differs from the first run:\n%s", procs, i, lineDiff(first, b.String()))
					}
				}
			}
		})
	}
}

// conformanceInputs is ../shared/istio-conformance, or "" (said loudly)
// when absent; CI requires it.
func conformanceInputs(t *testing.T) string {
	dir := filepath.Join("..", "..", "shared", "istio-conformance")
	if _, err := os.Stat(filepath.Join(dir, "cases.json")); err != nil {
		msg := "ISTIO CONFORMANCE CORPUS NOT FOUND at " + dir + ": runs without its inputs"
		if os.Getenv("CI") == "true" {
			t.Fatal(msg)
		}
		t.Log(msg)
		return ""
	}
	return dir
}
