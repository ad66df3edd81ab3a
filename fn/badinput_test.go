package main

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"sigs.k8s.io/kustomize/kyaml/kio"
	"sigs.k8s.io/kustomize/kyaml/yaml"

	"github.com/inject-sidecar/inject-sidecar/pkg/manifest"
)

// badCase is one directory of testdata/badinput:
//
//	resources.yaml  the manifests (absent: a KRM-only case)
//	config.yaml     the configuration (absent: testdata/badinput/config.yaml),
//	                the functionConfig in KRM mode, a --config file for inject
//	list.yaml       the KRM input, when it cannot be built from the two above
//	krm.txt         what KRM mode did: exit code, error, stderr, stdout
//	inject.txt      the same for the inject command
type badCase struct {
	dir                     string
	resources, config, list []byte
	configPath              string
}

func loadBadCase(t *testing.T, dir string) badCase {
	t.Helper()
	c := badCase{dir: dir, configPath: filepath.Join(dir, "config.yaml")}
	read := func(name string) []byte {
		b, err := os.ReadFile(filepath.Join(dir, name))
		if os.IsNotExist(err) {
			return nil
		}
		if err != nil {
			t.Fatal(err)
		}
		if b == nil {
			b = []byte{}
		}
		return b
	}
	c.resources, c.list = read("resources.yaml"), read("list.yaml")
	if c.config = read("config.yaml"); c.config == nil {
		c.configPath = filepath.Join(filepath.Dir(dir), "config.yaml")
		var err error
		if c.config, err = os.ReadFile(c.configPath); err != nil {
			t.Fatal(err)
		}
	}
	if c.list == nil && c.resources != nil {
		c.list = resourceList(c.config, c.resources)
	}
	return c
}

// TestBadInput runs every case of testdata/badinput in KRM mode and with
// the inject command. The outcome (exit code, message, what reached
// standard output) must match the case's golden file, and whatever the
// outcome, no resource may be lost: a failed run writes nothing (inject)
// or the items exactly as given with an error result (KRM); a successful
// one writes every object it was given, in order.
func TestBadInput(t *testing.T) {
	dirs, err := filepath.Glob(filepath.Join("testdata", "badinput", "*"))
	if err != nil {
		t.Fatal(err)
	}
	n := 0
	for _, dir := range dirs {
		if st, err := os.Stat(dir); err != nil || !st.IsDir() {
			continue
		}
		n++
		c := loadBadCase(t, dir)
		t.Run(filepath.Base(dir)+"/krm", func(t *testing.T) {
			out, errOut, err := runKRM(c.list, fakeEnv{})
			checkGolden(t, filepath.Join(dir, "krm.txt"), []byte(describeKRMRun(t, c.list, out, errOut, err)))
		})
		if c.resources == nil {
			continue
		}
		t.Run(filepath.Base(dir)+"/inject", func(t *testing.T) {
			args := []string{"inject", "-f", filepath.Join(dir, "resources.yaml"), "--config", c.configPath}
			out, errOut, err := runCommand(args, nil, fakeEnv{})
			checkGolden(t, filepath.Join(dir, "inject.txt"), []byte(describeInjectRun(t, c.resources, out, errOut, err)))
		})
	}
	if n < 30 {
		t.Errorf("only %d cases in testdata/badinput", n)
	}
}

// runKRM runs the KRM function mode in-process.
func runKRM(input []byte, env fakeEnv) (out, errOut []byte, err error) {
	return runCommand(nil, input, env)
}

func runCommand(args []string, stdin []byte, env fakeEnv) (out, errOut []byte, err error) {
	var o, e bytes.Buffer
	cmd := newRootCommand(streams{In: bytes.NewReader(stdin), Out: &o, Err: &e}, env.lookup)
	if args == nil {
		args = []string{}
	}
	cmd.SetArgs(args)
	err = cmd.Execute()
	return o.Bytes(), e.Bytes(), err
}

// describeRun is the common head of a golden: exit code, error, stderr.
func describeRun(b *strings.Builder, errOut []byte, err error) {
	if err != nil {
		fmt.Fprintf(b, "exit: 1\nerror: %s\n", err)
	} else {
		b.WriteString("exit: 0\n")
	}
	if len(errOut) > 0 {
		b.WriteString("stderr:\n")
		for _, l := range strings.Split(strings.TrimRight(string(errOut), "\n"), "\n") {
			b.WriteString("  " + l + "\n")
		}
	}
}

// describeKRMRun checks a KRM run for lost resources and describes it.
func describeKRMRun(t *testing.T, input, out, errOut []byte, err error) string {
	t.Helper()
	var b strings.Builder
	describeRun(&b, errOut, err)
	if len(out) == 0 {
		if err == nil {
			t.Errorf("success with nothing on stdout")
		}
		b.WriteString("stdout: nothing\n")
		return b.String()
	}
	in, rerr := readItems(input)
	if rerr != nil {
		t.Fatalf("the run wrote output for input it should not have read: %v", rerr)
	}
	got, rerr := readItems(out)
	if rerr != nil {
		t.Fatalf("stdout is not a ResourceList: %v\n%s", rerr, out)
	}
	results := krmResults(t, out)
	if err != nil {
		assertSameItems(t, in, got)
		if !strings.Contains(results, "error: ") {
			t.Errorf("failed run without an error result:\n%s", out)
		}
		fmt.Fprintf(&b, "stdout: the %d items unchanged, with results:\n%s", len(got), results)
		return b.String()
	}
	changed := assertSameObjects(t, in, got)
	fmt.Fprintf(&b, "stdout: %d items, changed: %s; results:\n%s", len(got), list(changed), results)
	return b.String()
}

// describeInjectRun checks an inject run for lost resources and describes
// it.
func describeInjectRun(t *testing.T, input, out, errOut []byte, err error) string {
	t.Helper()
	var b strings.Builder
	describeRun(&b, errOut, err)
	if err != nil {
		if len(out) != 0 {
			t.Errorf("failed run wrote %d bytes to stdout:\n%s", len(out), out)
		}
		b.WriteString("stdout: nothing\n")
		return b.String()
	}
	inDocs, rerr := manifest.Split("input", input)
	if rerr != nil {
		t.Fatalf("the run succeeded on input that does not read: %v", rerr)
	}
	outDocs, rerr := manifest.Split("output", out)
	if rerr != nil {
		t.Fatalf("the output does not read: %v\n%s", rerr, out)
	}
	changed := assertSameObjects(t, manifest.Nodes(inDocs), manifest.Nodes(outDocs))
	if len(changed) == 0 && !bytes.Equal(input, out) {
		t.Errorf("nothing injected, yet the output differs from the input:\n got %q\nwant %q", out, input)
	}
	fmt.Fprintf(&b, "stdout: %d documents, changed: %s\n", len(outDocs), list(changed))
	return b.String()
}

func list(s []string) string {
	if len(s) == 0 {
		return "none"
	}
	return strings.Join(s, ", ")
}

func readItems(data []byte) ([]*yaml.RNode, error) {
	return (&kio.ByteReader{Reader: bytes.NewReader(data), OmitReaderAnnotations: true}).Read()
}

// krmResults lists the results of a ResourceList, one line each.
func krmResults(t *testing.T, out []byte) string {
	t.Helper()
	rl, err := yaml.Parse(string(out))
	if err != nil {
		t.Fatal(err)
	}
	var b strings.Builder
	res := rl.Field("results")
	if res == nil {
		return "  (none)\n"
	}
	elems, err := res.Value.Elements()
	if err != nil {
		t.Fatal(err)
	}
	for _, r := range elems {
		sev, msg := r.Field("severity"), r.Field("message")
		var s, m string
		if sev != nil {
			s = yaml.GetValue(sev.Value)
		}
		if msg != nil {
			m = yaml.GetValue(msg.Value)
		}
		fmt.Fprintf(&b, "  %s: %s\n", s, m)
	}
	return b.String()
}

// assertSameItems checks that out holds the items of in exactly.
func assertSameItems(t *testing.T, in, out []*yaml.RNode) {
	t.Helper()
	if len(in) != len(out) {
		t.Fatalf("%d items out, %d in", len(out), len(in))
	}
	for i := range in {
		if a, b := in[i].MustString(), out[i].MustString(); a != b {
			t.Errorf("item %d changed by a failed run:\n%s", i, lineDiff(a, b))
		}
	}
}

// assertSameObjects checks that out holds the objects of in, in order, and
// returns those that changed.
func assertSameObjects(t *testing.T, in, out []*yaml.RNode) []string {
	t.Helper()
	if len(in) != len(out) {
		t.Fatalf("%d objects out, %d in", len(out), len(in))
	}
	var changed []string
	for i := range in {
		a, b := objectID(in[i]), objectID(out[i])
		if a != b {
			t.Errorf("object %d is %s, was %s", i, b, a)
		}
		if in[i].MustString() != out[i].MustString() {
			changed = append(changed, a)
		}
	}
	return changed
}

func objectID(n *yaml.RNode) string {
	id := strings.TrimSpace(n.GetKind() + " " + strings.TrimPrefix(n.GetNamespace()+"/"+n.GetName(), "/"))
	if id == "" {
		return "(no kind or name)"
	}
	return id
}

// resourceList builds the KRM input of a case: its configuration as the
// functionConfig and each document of its manifests as an item, text for
// text, so that malformed, tabbed or non-UTF-8 input stays so.
func resourceList(config, resources []byte) []byte {
	var b bytes.Buffer
	b.WriteString("apiVersion: config.kubernetes.io/v1\nkind: ResourceList\nfunctionConfig:\n")
	indentText(&b, config, "  ", "  ")
	var items [][]byte
	for _, doc := range splitText(resources) {
		if hasContent(doc) {
			items = append(items, doc)
		}
	}
	if len(items) == 0 {
		b.WriteString("items: []\n")
		return b.Bytes()
	}
	b.WriteString("items:\n")
	for _, doc := range items {
		indentText(&b, doc, "- ", "  ")
	}
	return b.Bytes()
}

// splitText cuts a stream at its "---" lines, keeping every byte.
func splitText(data []byte) [][]byte {
	var docs [][]byte
	var cur []byte
	for _, line := range bytes.SplitAfter(data, []byte("\n")) {
		if s := strings.TrimRight(string(line), "\r\n"); s == "---" {
			docs = append(docs, cur)
			cur = nil
			continue
		}
		cur = append(cur, line...)
	}
	return append(docs, cur)
}

// hasContent reports a document with more than comments and blank lines.
func hasContent(doc []byte) bool {
	for _, line := range bytes.Split(doc, []byte("\n")) {
		if l := bytes.TrimSpace(line); len(l) > 0 && l[0] != '#' {
			return true
		}
	}
	return false
}

// indentText writes text with first before its first content line (comment
// lines before it are indented with rest) and rest before every other line.
func indentText(b *bytes.Buffer, text []byte, first, rest string) {
	started := false
	for _, line := range bytes.SplitAfter(text, []byte("\n")) {
		if len(line) == 0 {
			continue
		}
		l := bytes.TrimSpace(line)
		switch {
		case !started && len(l) > 0 && l[0] != '#':
			b.WriteString(first)
			started = true
		default:
			b.WriteString(rest)
		}
		b.Write(line)
	}
	if b.Len() > 0 && b.Bytes()[b.Len()-1] != '\n' {
		b.WriteByte('\n')
	}
}

// panickingEnv panics when a variable is looked up, which every run does
// while reading its configuration: a stand-in for a bug anywhere in the
// pipeline.
func panickingEnv(name string) (string, bool) { panic("lookup of " + name) }

// TestPanicIsAnError checks that a panic becomes an error naming itself a
// bug, with nothing on standard output, in both modes.
func TestPanicIsAnError(t *testing.T) {
	c := loadBadCase(t, filepath.Join("testdata", "badinput", "crlf"))
	tests := []struct {
		name  string
		args  []string
		stdin []byte
	}{
		{"krm", []string{}, c.list},
		{"inject", []string{"inject", "-f", filepath.Join(c.dir, "resources.yaml"), "--config", c.configPath}, nil},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			var out, errOut bytes.Buffer
			cmd := newRootCommand(streams{In: bytes.NewReader(tc.stdin), Out: &out, Err: &errOut}, panickingEnv)
			cmd.SetArgs(tc.args)
			err := cmd.Execute()
			var pe *panicError
			if !errors.As(err, &pe) {
				t.Fatalf("error %v, want a panicError", err)
			}
			if !strings.HasPrefix(err.Error(), "internal error: lookup of ") || !strings.Contains(err.Error(), "nothing was written") {
				t.Errorf("message %q", err)
			}
			if out.Len() != 0 {
				t.Errorf("stdout after a panic:\n%s", out.String())
			}
			if !strings.Contains(errOut.String(), "inject-sidecar: panic: lookup of ") || !strings.Contains(errOut.String(), "goroutine") {
				t.Errorf("stderr does not hold the panic and its stack:\n%s", errOut.String())
			}
		})
	}
}

// TestOutputFile checks -o: a failed run leaves the file as it was and no
// temporary file behind; a successful one replaces it, keeping its mode.
func TestOutputFile(t *testing.T) {
	good := loadBadCase(t, filepath.Join("testdata", "badinput", "crlf"))
	bad := loadBadCase(t, filepath.Join("testdata", "badinput", "unknown-template"))
	dir := t.TempDir()
	target := filepath.Join(dir, "out.yaml")
	if err := os.WriteFile(target, []byte("previous\n"), 0o640); err != nil {
		t.Fatal(err)
	}
	run := func(c badCase) error {
		_, _, err := runCommand([]string{"inject", "-f", filepath.Join(c.dir, "resources.yaml"), "--config", c.configPath, "-o", target}, nil, fakeEnv{})
		return err
	}
	if err := run(bad); err == nil {
		t.Fatal("the bad case succeeded")
	}
	if b, _ := os.ReadFile(target); string(b) != "previous\n" {
		t.Errorf("a failed run changed the output file: %q", b)
	}
	if err := run(good); err != nil {
		t.Fatal(err)
	}
	b, err := os.ReadFile(target)
	if err != nil || !bytes.Contains(b, []byte("istio-proxy")) {
		t.Errorf("output file not replaced with the injected manifests: %q, %v", b, err)
	}
	if st, err := os.Stat(target); err != nil || st.Mode().Perm() != 0o640 {
		t.Errorf("mode after replacing: %v, %v", st.Mode(), err)
	}
	entries, _ := os.ReadDir(dir)
	if len(entries) != 1 {
		t.Errorf("files left in the output directory: %v", entries)
	}
}

// failingReader returns some input, then an error.
type failingReader struct{ data []byte }

func (r *failingReader) Read(p []byte) (int, error) {
	if len(r.data) == 0 {
		return 0, errors.New("connection reset")
	}
	n := copy(p, r.data)
	r.data = r.data[n:]
	return n, nil
}

// TestBrokenStdin checks that input cut short by a read error is an
// error with nothing written, not a shorter list.
func TestBrokenStdin(t *testing.T) {
	c := loadBadCase(t, filepath.Join("testdata", "badinput", "crlf"))
	tests := []struct {
		name string
		args []string
		in   []byte
		want string
	}{
		{"krm", []string{}, c.list, "reading the ResourceList: standard input: connection reset"},
		{"inject", []string{"inject", "-f", "-", "--config", c.configPath}, c.resources, "standard input: connection reset"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			var out, errOut bytes.Buffer
			cmd := newRootCommand(streams{In: &failingReader{data: tc.in[:len(tc.in)/2]}, Out: &out, Err: &errOut}, fakeEnv{}.lookup)
			cmd.SetArgs(tc.args)
			err := cmd.Execute()
			if err == nil || err.Error() != tc.want {
				t.Fatalf("error %v, want %s", err, tc.want)
			}
			if out.Len() != 0 {
				t.Errorf("stdout:\n%s", out.String())
			}
		})
	}
}

// blockingReader never returns until released, like a pipe whose writer
// hangs.
type blockingReader struct{ release chan struct{} }

func (r blockingReader) Read([]byte) (int, error) {
	<-r.release
	return 0, io.EOF
}

// TestRunTimeoutStopsAHang checks that the run time limit stops a run
// that never finishes (here: standard input never delivers), with an
// error and nothing written. The limit comes from the --config file, read
// before the hanging input.
func TestRunTimeoutStopsAHang(t *testing.T) {
	cfg := filepath.Join(t.TempDir(), "limits.yaml")
	if err := os.WriteFile(cfg, []byte("apiVersion: inject-sidecar.dev/v1alpha1\nkind: SidecarInjector\nmetadata: {name: x}\nspec: {limits: {runTimeout: 100ms}}\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	in := blockingReader{release: make(chan struct{})}
	defer close(in.release)
	var out, errOut bytes.Buffer
	cmd := newRootCommand(streams{In: in, Out: &out, Err: &errOut}, fakeEnv{}.lookup)
	cmd.SetArgs([]string{"inject", "-f", "-", "--config", cfg})
	err := cmd.Execute()
	want := "the run took longer than 100ms and was stopped; nothing was written (limit: spec.limits.runTimeout)"
	if err == nil || err.Error() != want {
		t.Fatalf("error %v, want %s", err, want)
	}
	if out.Len() != 0 {
		t.Errorf("stdout:\n%s", out.String())
	}
}

// splitForTest reads a multi-document stream into its objects.
func splitForTest(data []byte) ([]*yaml.RNode, error) {
	docs, err := manifest.Split("test", data)
	if err != nil {
		return nil, err
	}
	return manifest.Nodes(docs), nil
}
