package main

import (
	"bufio"
	"bytes"
	"flag"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"sigs.k8s.io/kustomize/kyaml/kio"
	"sigs.k8s.io/kustomize/kyaml/yaml"
)

var update = flag.Bool("update", false, "rewrite the golden files in testdata (review them before committing)")

// TestFunction runs the KRM function mode on each ResourceList in
// testdata/krm/<case>/input.yaml, with the environment of <case>/env.
// A case that succeeds must print <case>/output.yaml; a case that fails
// must exit non-zero with <case>/error.txt on stderr and every item exactly
// as it came in, since orchestrators apply whatever items a function
// returns.
func TestFunction(t *testing.T) {
	dirs, err := filepath.Glob(filepath.Join("testdata", "krm", "*"))
	if err != nil || len(dirs) == 0 {
		t.Fatalf("no cases in testdata/krm: %v", err)
	}
	for _, dir := range dirs {
		t.Run(filepath.Base(dir), func(t *testing.T) {
			input, err := os.ReadFile(filepath.Join(dir, "input.yaml"))
			if err != nil {
				t.Fatal(err)
			}
			var out, errOut bytes.Buffer
			cmd := newRootCommand(streams{In: bytes.NewReader(input), Out: &out, Err: &errOut}, readEnvFile(t, dir).lookup)
			cmd.SetArgs([]string{})
			runErr := cmd.Execute()

			errFile := filepath.Join(dir, "error.txt")
			if runErr != nil {
				checkGolden(t, errFile, []byte(runErr.Error()+"\n"))
				assertItemsUnchanged(t, input, out.Bytes())
				return
			}
			if _, err := os.Stat(errFile); err == nil {
				t.Fatalf("expected the error in %s, got success", errFile)
			}
			checkGolden(t, filepath.Join(dir, "output.yaml"), out.Bytes())
		})
	}
}

func readEnvFile(t *testing.T, dir string) fakeEnv {
	t.Helper()
	env := fakeEnv{}
	f, err := os.Open(filepath.Join(dir, "env"))
	if os.IsNotExist(err) {
		return env
	}
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	s := bufio.NewScanner(f)
	for s.Scan() {
		if k, v, ok := strings.Cut(s.Text(), "="); ok {
			env[k] = v
		}
	}
	return env
}

func checkGolden(t *testing.T, path string, got []byte) {
	t.Helper()
	if *update {
		if err := os.WriteFile(path, got, 0o644); err != nil {
			t.Fatal(err)
		}
		return
	}
	want, err := os.ReadFile(path)
	if err != nil {
		t.Fatalf("%v (run go test ./fn -run %s -update, then review the file)", err, t.Name())
	}
	if !bytes.Equal(want, got) {
		t.Errorf("%s differs (- want, + got):\n%s", path, lineDiff(string(want), string(got)))
	}
}

// assertItemsUnchanged checks that a failed run wrote back every input
// item, in order, exactly as read.
func assertItemsUnchanged(t *testing.T, input, output []byte) {
	t.Helper()
	in, err := (&kio.ByteReader{Reader: bytes.NewReader(input), OmitReaderAnnotations: true}).Read()
	if err != nil {
		t.Fatal(err)
	}
	out, err := (&kio.ByteReader{Reader: bytes.NewReader(output), OmitReaderAnnotations: true}).Read()
	if err != nil {
		t.Fatalf("failed run's output is not a ResourceList: %v\n%s", err, output)
	}
	if len(in) != len(out) {
		t.Fatalf("failed run returned %d items, want the %d it was given", len(out), len(in))
	}
	for i := range in {
		a, b := in[i].MustString(), out[i].MustString()
		if a != b {
			t.Errorf("item %d changed by a failed run:\n%s", i, lineDiff(a, b))
		}
	}
	rl, err := yaml.Parse(string(output))
	if err != nil {
		t.Fatal(err)
	}
	results, _ := rl.Pipe(yaml.Lookup("results"))
	if results == nil || !strings.Contains(results.MustString(), "severity: error") {
		t.Errorf("failed run has no error result:\n%s", output)
	}
}
