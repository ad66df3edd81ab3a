package main

import (
	"bytes"
	"fmt"
	"os"
	"path/filepath"
	"testing"

	"github.com/inject-sidecar/inject-sidecar/examples/bench/workloadgen"
)

// benchInput writes n generated workloads to a file and returns the
// inject command's arguments for it with Istio's configuration (or the
// quickstart's, loudly, when Istio's is absent).
func benchInput(b *testing.B, n int) []string {
	b.Helper()
	path := filepath.Join(b.TempDir(), "workloads.yaml")
	f, err := os.Create(path)
	if err != nil {
		b.Fatal(err)
	}
	if _, err := workloadgen.Generate(f, workloadgen.Options{Workloads: n}); err != nil {
		b.Fatal(err)
	}
	if err := f.Close(); err != nil {
		b.Fatal(err)
	}
	root, err := workloadgen.RepoRoot(".")
	if err != nil {
		b.Fatal(err)
	}
	args := []string{"inject", "-f", path}
	files, err := workloadgen.IstioConfig(root)
	if err != nil {
		fmt.Fprintln(os.Stderr, workloadgen.FallbackWarning(err))
		return append(args, "--config", filepath.Join(root, workloadgen.FallbackConfig))
	}
	return append(args, "--injectConfigFile", files.InjectConfig, "--valuesFile", files.Values, "--meshConfigFile", files.Mesh)
}

// BenchmarkInjectCommand runs the whole inject command in-process, from
// reading the file to the output bytes.
func BenchmarkInjectCommand(b *testing.B) {
	for _, n := range []int{1, 100, 1000} {
		b.Run(fmt.Sprintf("workloads=%d", n), func(b *testing.B) {
			args := benchInput(b, n)
			b.ReportAllocs()
			var size int
			for b.Loop() {
				var out, errOut bytes.Buffer
				cmd := newRootCommand(streams{In: bytes.NewReader(nil), Out: &out, Err: &errOut}, fakeEnv{}.lookup)
				cmd.SetArgs(args)
				if err := cmd.Execute(); err != nil {
					b.Fatalf("%v\n%s", err, errOut.Bytes())
				}
				size = out.Len()
			}
			b.ReportMetric(float64(b.Elapsed().Nanoseconds())/float64(b.N)/float64(n)/1e6, "ms/workload")
			b.SetBytes(int64(size))
		})
	}
}
