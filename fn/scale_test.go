package main

import (
	"bytes"
	"fmt"
	"math"
	"os"
	"path/filepath"
	"runtime"
	"runtime/debug"
	"strings"
	"testing"

	"sigs.k8s.io/kustomize/kyaml/kio"
	"sigs.k8s.io/kustomize/kyaml/yaml"

	"github.com/inject-sidecar/inject-sidecar/examples/bench/workloadgen"
	"github.com/inject-sidecar/inject-sidecar/pkg/inject"
	"github.com/inject-sidecar/inject-sidecar/pkg/manifest"
)

// scaleInput is a generated input of n workloads (several streaming
// batches: Services and ConfigMaps come between them, and a Namespace
// that opts out comes after its workloads) with Istio's configuration, or
// the quickstart's when it is absent, as a SidecarInjector whose time
// limits a loaded machine cannot reach: these tests compare outputs, and
// a template timing out under load would fail them for nothing.
type scaleInput struct {
	file  string
	data  []byte
	flags []string // configuration flags of the inject command
	fc    []byte   // the same configuration as a KRM functionConfig
}

func newScaleInput(t *testing.T, n int) scaleInput {
	t.Helper()
	var buf bytes.Buffer
	if _, err := workloadgen.Generate(&buf, workloadgen.Options{Workloads: n}); err != nil {
		t.Fatal(err)
	}
	dir := t.TempDir()
	in := scaleInput{file: filepath.Join(dir, "workloads.yaml"), data: buf.Bytes()}
	if err := os.WriteFile(in.file, in.data, 0o644); err != nil {
		t.Fatal(err)
	}
	root, err := workloadgen.RepoRoot(".")
	if err != nil {
		t.Fatal(err)
	}
	texts := map[string]string{}
	files, err := workloadgen.IstioConfig(root)
	if err != nil {
		if os.Getenv("CI") == "true" {
			t.Fatal(err)
		}
		t.Log(workloadgen.FallbackWarning(err))
		b, err := os.ReadFile(filepath.Join(root, workloadgen.FallbackConfig))
		if err != nil {
			t.Fatal(err)
		}
		cm, err := yaml.Parse(string(b))
		if err != nil {
			t.Fatal(err)
		}
		texts = cm.GetDataMap()
	} else {
		for key, path := range map[string]string{"config": files.InjectConfig, "values": files.Values, "mesh": files.Mesh} {
			b, err := os.ReadFile(path)
			if err != nil {
				t.Fatal(err)
			}
			texts[key] = string(b)
		}
	}
	si, err := yaml.Parse("apiVersion: inject-sidecar.dev/v1alpha1\nkind: SidecarInjector\nmetadata:\n  name: scale\n" +
		"spec:\n  limits: {templateTimeout: 10m, runTimeout: 30m}\n  injector: {}\n")
	if err != nil {
		t.Fatal(err)
	}
	injector, err := si.Pipe(yaml.Lookup("spec", "injector"))
	if err != nil {
		t.Fatal(err)
	}
	for _, key := range []string{"config", "values", "mesh"} {
		if err := injector.PipeE(yaml.SetField(key, yaml.NewStringRNode(texts[key]))); err != nil {
			t.Fatal(err)
		}
	}
	in.fc = []byte(si.MustString())
	cfgFile := filepath.Join(dir, "injector.yaml")
	if err := os.WriteFile(cfgFile, in.fc, 0o644); err != nil {
		t.Fatal(err)
	}
	in.flags = []string{"--config", cfgFile}
	return in
}

// resourceList wraps the input's documents in a ResourceList.
func (in scaleInput) resourceList(t *testing.T) []byte {
	t.Helper()
	nodes, err := (&kio.ByteReader{Reader: bytes.NewReader(in.data), OmitReaderAnnotations: true}).Read()
	if err != nil {
		t.Fatal(err)
	}
	fc, err := yaml.Parse(string(in.fc))
	if err != nil {
		t.Fatal(err)
	}
	var out bytes.Buffer
	w := kio.ByteWriter{Writer: &out, FunctionConfig: fc, WrappingKind: kio.ResourceListKind, WrappingAPIVersion: kio.ResourceListAPIVersion}
	if err := w.Write(nodes); err != nil {
		t.Fatal(err)
	}
	return out.Bytes()
}

// execute runs the command in-process.
func execute(args []string, stdin []byte) (stdout, stderr string, err error) {
	var o, e bytes.Buffer
	cmd := newRootCommand(streams{In: bytes.NewReader(stdin), Out: &o, Err: &e}, fakeEnv{}.lookup)
	if args == nil {
		args = []string{}
	}
	cmd.SetArgs(args)
	err = cmd.Execute()
	return o.String(), e.String(), err
}

// oneShot is the inject command without streaming: everything read, then
// injected, then written, as the command did before it streamed and
// still does to report any fault.
func oneShot(t *testing.T, o fileOptions, stdin []byte) string {
	t.Helper()
	docs, cfg, err := o.load(streams{In: bytes.NewReader(stdin)}, fakeEnv{}.lookup)
	if err != nil {
		t.Fatal(err)
	}
	rep, err := inject.Run(cfg, manifest.Nodes(docs))
	if err != nil {
		t.Fatal(err)
	}
	changed := rep.Changed()
	var buf bytes.Buffer
	if err := manifest.Write(&buf, docs, func(d *manifest.Document) bool { return changed[d.Node] }); err != nil {
		t.Fatal(err)
	}
	return buf.String()
}

// TestScaleDeterministic: on a generated input of several hundred
// workloads, the inject command (streamed, in batches) and KRM mode give
// the same bytes on one core as on two, and the streamed output is the
// one-shot output.
func TestScaleDeterministic(t *testing.T) {
	in := newScaleInput(t, 150)
	if docs := bytes.Count(in.data, []byte("\n---\n")) + 1; docs <= streamBatch {
		t.Fatalf("%d documents: one streamed batch, and nothing streamed across batches", docs)
	}
	injectArgs := append([]string{"inject", "-f", in.file}, in.flags...)
	rl := in.resourceList(t)
	defer runtime.GOMAXPROCS(runtime.GOMAXPROCS(0))

	outputs := map[string]string{}
	for _, procs := range []int{1, 2} {
		runtime.GOMAXPROCS(procs)
		for _, mode := range []struct {
			name  string
			args  []string
			stdin []byte
		}{{"inject", injectArgs, nil}, {"krm", nil, rl}} {
			out, errOut, err := execute(mode.args, mode.stdin)
			if err != nil {
				t.Fatalf("%s, GOMAXPROCS=%d: %v\n%s", mode.name, procs, err, errOut)
			}
			got := out + "\n--- stderr\n" + errOut
			if prev, ok := outputs[mode.name]; ok && prev != got {
				t.Errorf("%s: output with GOMAXPROCS=%d differs from GOMAXPROCS=1", mode.name, procs)
			}
			outputs[mode.name] = got
		}
	}
	if n := strings.Count(outputs["inject"], "sidecar.istio.io/status"); n < 120 {
		t.Errorf("only %d workloads injected", n)
	}
	o := fileOptions{files: []string{in.file}, configFiles: []string{flagValue(in.flags, "--config")}}
	want := oneShot(t, o, nil)
	if got, _, _ := strings.Cut(outputs["inject"], "\n--- stderr\n"); got != want {
		t.Error("the streamed output differs from the one-shot output")
	}
}

func flagValue(flags []string, name string) string {
	for i := 0; i+1 < len(flags); i++ {
		if flags[i] == name {
			return flags[i+1]
		}
	}
	return ""
}

// TestStreamSources: standard input, files and -o give the same bytes as
// the one-shot path; a fault anywhere gives the one-shot path's error,
// with standard input replayed to it, and leaves -o FILE as it was.
func TestStreamSources(t *testing.T) {
	in := newScaleInput(t, 40)
	dir := t.TempDir()
	bad := append(bytes.Clone(in.data), []byte("---\nkind: Deployment\nmetadata: {name: broken\n")...)
	badFile := filepath.Join(dir, "bad.yaml")
	if err := os.WriteFile(badFile, bad, 0o644); err != nil {
		t.Fatal(err)
	}
	o := fileOptions{files: []string{in.file}, configFiles: []string{flagValue(in.flags, "--config")}}
	want := oneShot(t, o, nil)
	out := filepath.Join(dir, "out.yaml")

	tests := []struct {
		name    string
		args    []string
		stdin   []byte
		file    bool   // the output is in out, not on standard output
		wantErr string // part of the error; "" for success
	}{
		{"file", []string{"-f", in.file}, nil, false, ""},
		{"standard input", []string{"-f", "-"}, in.data, false, ""},
		{"output file", []string{"-f", in.file, "-o", out}, nil, true, ""},
		{"bad document on standard input", []string{"-f", "-"}, bad, false, "standard input, document"},
		{"bad document in a file", []string{"-f", in.file, "-f", badFile, "-o", out}, nil, true, "bad.yaml, document"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			if err := os.WriteFile(out, []byte("previous\n"), 0o600); err != nil {
				t.Fatal(err)
			}
			stdout, stderr, err := execute(append(append([]string{"inject"}, tc.args...), in.flags...), tc.stdin)
			got := stdout
			if tc.file {
				b, rerr := os.ReadFile(out)
				if rerr != nil {
					t.Fatal(rerr)
				}
				got = string(b)
			}
			if tc.wantErr != "" {
				if err == nil || !strings.Contains(err.Error(), tc.wantErr) {
					t.Fatalf("error %v, want one naming %q", err, tc.wantErr)
				}
				if stdout != "" || (tc.file && got != "previous\n") {
					t.Errorf("a failed run wrote output: %q", tc.name)
				}
			} else {
				if err != nil {
					t.Fatalf("%v\n%s", err, stderr)
				}
				if got != want {
					t.Error("output differs from the one-shot path's")
				}
			}
			if tc.file {
				st, err := os.Stat(out)
				if err != nil {
					t.Fatal(err)
				}
				if st.Mode().Perm() != 0o600 {
					t.Errorf("output file mode %v, want the replaced file's 0600", st.Mode().Perm())
				}
			}
			entries, err := os.ReadDir(dir)
			if err != nil {
				t.Fatal(err)
			}
			if len(entries) != 2 {
				var names []string
				for _, e := range entries {
					names = append(names, e.Name())
				}
				t.Errorf("temporary files left behind: %v", names)
			}
		})
	}
	// The error is the one-shot path's, word for word.
	o.files = []string{"-"}
	_, _, oneShotErr := o.load(streams{In: bytes.NewReader(bad)}, fakeEnv{}.lookup)
	_, _, err := execute(append([]string{"inject", "-f", "-"}, in.flags...), bad)
	if oneShotErr == nil || err == nil || err.Error() != oneShotErr.Error() {
		t.Errorf("error %v, want the one-shot path's %v", err, oneShotErr)
	}
}

// TestMayConfigure pins which documents the first reading parses.
func TestMayConfigure(t *testing.T) {
	tests := []struct {
		doc  string
		want bool
	}{
		{"kind: Namespace\n", true},
		{"kind: ConfigMap\n", true},
		{"kind: MutatingWebhookConfiguration\n", true},
		{`{"kind": "N\u0061mespace"}`, true}, // an escape may spell anything
		{"kind: List\nitems:\n- kind: Namespace\n", true},
		{"kind: Deployment\nspec:\n  template:\n    spec:\n      volumes:\n      - configMap: {name: x}\n", false},
		{"kind: Service\n", false},
	}
	for _, tc := range tests {
		if got := mayConfigure([]byte(tc.doc)); got != tc.want {
			t.Errorf("mayConfigure(%q) = %v, want %v", tc.doc, got, tc.want)
		}
	}
}

// TestTuneGC: the inject command and KRM mode collect less often, within
// a memory limit, unless GOGC or GOMEMLIMIT say otherwise; other commands
// keep the defaults, as KRM mode does again when it cannot stream.
func TestTuneGC(t *testing.T) {
	const noLimit = math.MaxInt64
	tests := []struct {
		args      []string
		env       fakeEnv
		wantGC    int
		wantLimit int64
	}{
		{[]string{"inject", "-f", "x"}, fakeEnv{}, streamingGCPercent, streamingMemoryLimit},
		{[]string{"inject"}, fakeEnv{"GOGC": "100"}, 100, streamingMemoryLimit},
		{[]string{"inject"}, fakeEnv{"GOMEMLIMIT": "1GiB"}, streamingGCPercent, noLimit},
		{nil, fakeEnv{}, streamingGCPercent, krmMemoryLimit},
		{nil, fakeEnv{"GOGC": "50", "GOMEMLIMIT": "1GiB"}, 100, noLimit},
		{[]string{"explain"}, fakeEnv{}, 100, noLimit},
	}
	for _, tc := range tests {
		t.Run(fmt.Sprint(tc.args, tc.env), func(t *testing.T) {
			prevGC, prevLimit := debug.SetGCPercent(100), debug.SetMemoryLimit(noLimit)
			defer func() {
				debug.SetGCPercent(prevGC)
				debug.SetMemoryLimit(prevLimit)
			}()
			tuneGC(tc.args, tc.env.lookup)
			if got := debug.SetGCPercent(100); got != tc.wantGC {
				t.Errorf("GC percent %d, want %d", got, tc.wantGC)
			}
			if got := debug.SetMemoryLimit(-1); got != tc.wantLimit {
				t.Errorf("memory limit %d, want %d", got, tc.wantLimit)
			}
			relaxGC(tc.env.lookup)
			if got := debug.SetGCPercent(100); got != 100 {
				t.Errorf("after relaxGC: GC percent %d, want 100", got)
			}
			if got := debug.SetMemoryLimit(-1); got != noLimit {
				t.Errorf("after relaxGC: memory limit %d, want none", got)
			}
		})
	}
}
