// Command bench measures the built inject-sidecar binary at repository
// scale (make bench). For each workload count it generates a realistic,
// deterministic input, runs the inject command and the KRM function mode
// several times, and reports medians of wall time, CPU time and peak RSS,
// next to a floor: kyaml reading and writing back the same output, run
// the same way in the same session.
//
//	bench [flags]            the table (see -h)
//	bench gen -n N [-seed S] N generated workloads on standard output
//	bench floor              kyaml: read standard input, write standard output
//	bench prepare ...        (internal) write one count's input files
//
// Peak RSS is the kernel's maximum resident set of each process. Go starts
// a child sharing its parent's memory until exec, so the kernel counts the
// parent's resident set too: the harness keeps its own small by leaving
// inputs to a child (prepare) and hashing outputs as streams.
package main

import (
	"bufio"
	"bytes"
	"crypto/sha256"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"slices"
	"strconv"
	"strings"
	"syscall"
	"time"

	"sigs.k8s.io/kustomize/kyaml/kio"
	"sigs.k8s.io/kustomize/kyaml/kio/kioutil"
	"sigs.k8s.io/kustomize/kyaml/yaml"

	"github.com/inject-sidecar/inject-sidecar/examples/bench/workloadgen"
)

func main() {
	var err error
	switch {
	case len(os.Args) > 1 && os.Args[1] == "gen":
		err = generate(os.Args[2:])
	case len(os.Args) > 1 && os.Args[1] == "floor":
		err = floor(os.Stdin, os.Stdout)
	case len(os.Args) > 1 && os.Args[1] == "prepare":
		err = prepareCmd(os.Args[2:])
	default:
		err = bench(os.Args[1:])
	}
	if err != nil {
		fmt.Fprintln(os.Stderr, "bench:", err)
		os.Exit(1)
	}
}

func generate(args []string) error {
	fs := flag.NewFlagSet("gen", flag.ContinueOnError)
	n := fs.Int("n", 1000, "number of workloads")
	seed := fs.Uint64("seed", 0, "stream seed")
	if err := fs.Parse(args); err != nil {
		return err
	}
	w := bufio.NewWriter(os.Stdout)
	st, err := workloadgen.Generate(w, workloadgen.Options{Workloads: *n, Seed: *seed})
	if err != nil {
		return err
	}
	if err := w.Flush(); err != nil {
		return err
	}
	fmt.Fprintf(os.Stderr, "%d workloads %v, %d opted out, %d documents, %d bytes\n",
		st.Workloads, st.Kinds, st.OptedOut, st.Documents, st.Bytes)
	return nil
}

// floor is what any kyaml-based tool pays for the same output: kyaml's
// reader (kio.ByteReadWriter, as the function reads a ResourceList), then
// kyaml's encoder, a fresh one per document or list item. Not
// kio.ByteWriter: it encodes a whole stream with one yaml.v3 encoder,
// which keeps every event until the end (5 GiB and 37 s for 5000 injected
// workloads here), and a floor that slow would flatter every ratio.
func floor(in io.Reader, out io.Writer) error {
	w := bufio.NewWriterSize(out, 1<<20)
	rw := &kio.ByteReadWriter{Reader: in, PreserveSeqIndent: true, KeepReaderAnnotations: true}
	nodes, err := rw.Read()
	if err != nil {
		return err
	}
	key := func(s string) *yaml.Node { return &yaml.Node{Kind: yaml.ScalarNode, Value: s} }
	encode := func(n *yaml.Node, seqIndent string) error {
		e := yaml.NewEncoder(w)
		if seqIndent == string(yaml.WideSequenceStyle) {
			e.DefaultSeqIndent()
		}
		if err := e.Encode(&yaml.Node{Kind: yaml.DocumentNode, Content: []*yaml.Node{n}}); err != nil {
			return err
		}
		return e.Close()
	}
	if rw.WrappingKind == "" {
		for i, n := range nodes {
			indent := n.GetAnnotations()[kioutil.SeqIndentAnnotation]
			for _, a := range []string{kioutil.IndexAnnotation, kioutil.LegacyIndexAnnotation, kioutil.SeqIndentAnnotation} {
				if _, err := n.Pipe(yaml.ClearAnnotation(a)); err != nil {
					return err
				}
			}
			if err := yaml.ClearEmptyAnnotations(n); err != nil {
				return err
			}
			if i > 0 {
				w.WriteString("---\n")
			}
			if err := encode(n.YNode(), indent); err != nil {
				return err
			}
		}
		return w.Flush()
	}
	// A ResourceList: its head and first item, each further item as a
	// one-item list whose "items:" line is dropped, then the rest.
	for i, n := range nodes {
		if err := yaml.ClearEmptyAnnotations(n); err != nil {
			return err
		}
		part := &yaml.Node{Kind: yaml.MappingNode, Content: []*yaml.Node{key("items"), {Kind: yaml.SequenceNode, Content: []*yaml.Node{n.YNode()}}}}
		if i == 0 {
			part.Content = append([]*yaml.Node{key("apiVersion"), key(rw.WrappingAPIVersion), key("kind"), key(rw.WrappingKind)}, part.Content...)
			if err := encode(part, ""); err != nil {
				return err
			}
			continue
		}
		var b bytes.Buffer
		e := yaml.NewEncoder(&b)
		if err := e.Encode(&yaml.Node{Kind: yaml.DocumentNode, Content: []*yaml.Node{part}}); err != nil {
			return err
		}
		if err := e.Close(); err != nil {
			return err
		}
		w.Write(bytes.TrimPrefix(b.Bytes(), []byte("items:\n")))
	}
	tail := &yaml.Node{Kind: yaml.MappingNode}
	if rw.FunctionConfig != nil {
		tail.Content = append(tail.Content, key("functionConfig"), rw.FunctionConfig.YNode())
	}
	if rw.Results != nil {
		tail.Content = append(tail.Content, key("results"), rw.Results.YNode())
	}
	if len(tail.Content) > 0 {
		if err := encode(tail, ""); err != nil {
			return err
		}
	}
	return w.Flush()
}

type options struct {
	bin, root, dir                       string
	counts                               []int
	runs, runsLarge, runsHuge, floorRuns int
	modes                                []string
}

func bench(args []string) error {
	fs := flag.NewFlagSet("bench", flag.ContinueOnError)
	var o options
	counts := fs.String("n", "1,1000,5000,20000", "workload counts, comma separated")
	modes := fs.String("modes", "inject,krm", "modes to measure: inject (the inject command), krm (KRM function mode)")
	fs.StringVar(&o.bin, "bin", "bin/inject-sidecar", "the binary to measure")
	fs.IntVar(&o.runs, "runs", 5, "runs per measurement below 5000 workloads (median reported)")
	fs.IntVar(&o.runsLarge, "runs-large", 3, "runs from 5000 workloads")
	fs.IntVar(&o.runsHuge, "runs-huge", 2, "runs from 20000 workloads")
	fs.IntVar(&o.floorRuns, "floor-runs", 1, "runs of the floor from 5000 workloads (below, as many as the tool's)")
	fs.StringVar(&o.dir, "dir", "", "work folder for inputs and outputs (default: a temporary one, removed)")
	if err := fs.Parse(args); err != nil {
		return err
	}
	for _, s := range strings.Split(*counts, ",") {
		n, err := strconv.Atoi(strings.TrimSpace(s))
		if err != nil || n < 1 {
			return fmt.Errorf("-n: bad count %q", s)
		}
		o.counts = append(o.counts, n)
	}
	o.modes = strings.Split(*modes, ",")
	var err error
	if o.bin, err = filepath.Abs(o.bin); err != nil {
		return err
	}
	if _, err := os.Stat(o.bin); err != nil {
		return fmt.Errorf("%w (run make build first)", err)
	}
	if o.root, err = workloadgen.RepoRoot("."); err != nil {
		return err
	}
	if o.dir == "" {
		if o.dir, err = os.MkdirTemp("", "inject-sidecar-bench-"); err != nil {
			return err
		}
		defer os.RemoveAll(o.dir)
	} else if err := os.MkdirAll(o.dir, 0o755); err != nil {
		return err
	}
	self, err := os.Executable()
	if err != nil {
		return err
	}
	cfg, err := configArgs(o.root)
	if err != nil {
		return err
	}
	fmt.Print(machine())
	fmt.Printf("binary: %s\nruns: %d, %d from 5000 workloads, %d from 20000 (the floor %d from 5000); medians\n\n",
		o.bin, o.runs, o.runsLarge, o.runsHuge, o.floorRuns)

	var rows []row
	for _, n := range o.counts {
		in := inputsFor(o.dir, n)
		if _, err := run(self, []string{"prepare", "-n", strconv.Itoa(n), "-dir", o.dir}, "", os.DevNull); err != nil {
			return err
		}
		runs, floorRuns := o.runs, o.runs
		switch {
		case n >= 20000:
			runs, floorRuns = o.runsHuge, o.floorRuns
		case n >= 5000:
			runs, floorRuns = o.runsLarge, o.floorRuns
		}
		for _, mode := range o.modes {
			r, err := measure(o, self, cfg, in, mode, n, runs, floorRuns)
			if err != nil {
				return fmt.Errorf("%s, %d workloads: %w", mode, n, err)
			}
			rows = append(rows, r)
			fmt.Fprintf(os.Stderr, "%-6s %6d: %s\n", mode, n, r.summary())
		}
	}
	fmt.Print(table(rows))
	fmt.Print(goals(rows))
	fmt.Printf("\nload average after: %s\n", loadavg())
	return nil
}

// config is how both modes get Istio's configuration.
type config struct {
	args     []string // inject command flags
	function []byte   // the KRM functionConfig, YAML
	warning  string
}

func configArgs(root string) (config, error) {
	files, err := workloadgen.IstioConfig(root)
	if err != nil {
		fallback := filepath.Join(root, workloadgen.FallbackConfig)
		fmt.Fprintln(os.Stderr, workloadgen.FallbackWarning(err))
		data, rerr := os.ReadFile(fallback)
		if rerr != nil {
			return config{}, errors.Join(err, rerr)
		}
		// The quickstart's ConfigMap is a function config as it is.
		return config{args: []string{"--config", fallback}, function: data, warning: workloadgen.FallbackWarning(err)}, nil
	}
	data := map[string]string{}
	for key, path := range map[string]string{"config": files.InjectConfig, "values": files.Values, "mesh": files.Mesh} {
		b, err := os.ReadFile(path)
		if err != nil {
			return config{}, err
		}
		data[key] = string(b)
	}
	fc, err := yaml.Parse("apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: istio-sidecar-injector\n  namespace: istio-system\n")
	if err != nil {
		return config{}, err
	}
	fc.SetDataMap(data)
	s, err := fc.String()
	if err != nil {
		return config{}, err
	}
	return config{
		args:     []string{"--injectConfigFile", files.InjectConfig, "--valuesFile", files.Values, "--meshConfigFile", files.Mesh},
		function: []byte(s),
	}, nil
}

// inputs are one workload count's files.
type inputs struct {
	yaml, resourceList string
}

func inputsFor(dir string, n int) inputs {
	return inputs{
		yaml:         filepath.Join(dir, fmt.Sprintf("workloads-%d.yaml", n)),
		resourceList: filepath.Join(dir, fmt.Sprintf("resourcelist-%d.yaml", n)),
	}
}

func prepareCmd(args []string) error {
	fs := flag.NewFlagSet("prepare", flag.ContinueOnError)
	n := fs.Int("n", 1, "number of workloads")
	dir := fs.String("dir", "", "folder to write to")
	if err := fs.Parse(args); err != nil {
		return err
	}
	root, err := workloadgen.RepoRoot(".")
	if err != nil {
		return err
	}
	cfg, err := configArgs(root)
	if err != nil {
		return err
	}
	return prepare(inputsFor(*dir, *n), *n, cfg)
}

// prepare writes the generated workloads, and the same as a ResourceList
// whose functionConfig is the configuration.
func prepare(in inputs, n int, cfg config) error {
	var buf bytes.Buffer
	if _, err := workloadgen.Generate(&buf, workloadgen.Options{Workloads: n}); err != nil {
		return err
	}
	if err := os.WriteFile(in.yaml, buf.Bytes(), 0o644); err != nil {
		return err
	}
	nodes, err := (&kio.ByteReader{Reader: &buf, OmitReaderAnnotations: true}).Read()
	if err != nil {
		return err
	}
	fc, err := yaml.Parse(string(cfg.function))
	if err != nil {
		return err
	}
	var rl bytes.Buffer
	w := kio.ByteWriter{Writer: &rl, FunctionConfig: fc, WrappingKind: kio.ResourceListKind, WrappingAPIVersion: kio.ResourceListAPIVersion}
	if err := w.Write(nodes); err != nil {
		return err
	}
	return os.WriteFile(in.resourceList, rl.Bytes(), 0o644)
}

// sample is one process run.
type sample struct {
	wall, cpu time.Duration
	rss       int64 // bytes
}

func run(name string, args []string, stdin, stdout string) (sample, error) {
	cmd := exec.Command(name, args...)
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	if stdin != "" {
		f, err := os.Open(stdin)
		if err != nil {
			return sample{}, err
		}
		defer f.Close()
		cmd.Stdin = f
	}
	out, err := os.Create(stdout)
	if err != nil {
		return sample{}, err
	}
	defer out.Close()
	cmd.Stdout = out
	start := time.Now()
	err = cmd.Run()
	wall := time.Since(start)
	if err != nil {
		return sample{}, fmt.Errorf("%s %s: %w\n%s", filepath.Base(name), strings.Join(args, " "), err, tail(stderr.String()))
	}
	ru, ok := cmd.ProcessState.SysUsage().(*syscall.Rusage)
	if !ok {
		return sample{}, fmt.Errorf("no resource usage for %s", name)
	}
	return sample{
		wall: wall,
		cpu:  cmd.ProcessState.UserTime() + cmd.ProcessState.SystemTime(),
		rss:  ru.Maxrss * 1024, // kilobytes on Linux
	}, nil
}

func tail(s string) string {
	if len(s) > 2000 {
		return "..." + s[len(s)-2000:]
	}
	return s
}

// row is one mode and count, medians of its runs.
type row struct {
	mode      string
	n         int
	inputSize int64
	outSize   int64
	tool      sample
	floor     sample
}

func (r row) summary() string {
	return fmt.Sprintf("wall %s (%.3f ms/workload), cpu %s, rss %s; floor wall %s, rss %s",
		r.tool.wall.Round(time.Millisecond), ms(r.tool.wall)/float64(r.n), r.tool.cpu.Round(time.Millisecond), mib(r.tool.rss),
		r.floor.wall.Round(time.Millisecond), mib(r.floor.rss))
}

func measure(o options, self string, cfg config, in inputs, mode string, n, runs, floorRuns int) (row, error) {
	var args []string
	stdin := ""
	switch mode {
	case "inject":
		args = append([]string{"inject", "-f", in.yaml}, cfg.args...)
	case "krm":
		stdin = in.resourceList
	default:
		return row{}, fmt.Errorf("unknown mode %q", mode)
	}
	out := filepath.Join(o.dir, fmt.Sprintf("%s-%d.out.yaml", mode, n))
	floorOut := out + ".floor"
	var tools, floors []sample
	var digest [32]byte
	for i := range runs {
		s, err := run(o.bin, args, stdin, out)
		if err != nil {
			return row{}, err
		}
		d, err := digestOf(out)
		if err != nil {
			return row{}, err
		}
		// Every run must give the same bytes.
		if i == 0 {
			digest = d
		} else if d != digest {
			return row{}, fmt.Errorf("run %d's output differs from run 1's", i+1)
		}
		tools = append(tools, s)
		if i >= floorRuns {
			continue
		}
		f, err := run(self, []string{"floor"}, out, floorOut)
		if err != nil {
			return row{}, err
		}
		if fd, err := digestOf(floorOut); err != nil {
			return row{}, err
		} else if fd != d && i == 0 {
			// Not fatal: the floor is a cost, but say that it wrote
			// other bytes than the tool.
			fmt.Fprintf(os.Stderr, "note: %s, %d workloads: the floor's output differs from the tool's\n", mode, n)
		}
		floors = append(floors, f)
	}
	st, err := os.Stat(out)
	if err != nil {
		return row{}, err
	}
	ist, err := os.Stat(in.yaml)
	if err != nil {
		return row{}, err
	}
	return row{mode: mode, n: n, inputSize: ist.Size(), outSize: st.Size(), tool: median(tools), floor: median(floors)}, nil
}

// digestOf hashes a file as a stream, keeping the harness small.
func digestOf(path string) ([32]byte, error) {
	var d [32]byte
	f, err := os.Open(path)
	if err != nil {
		return d, err
	}
	defer f.Close()
	h := sha256.New()
	if _, err := io.Copy(h, f); err != nil {
		return d, err
	}
	copy(d[:], h.Sum(nil))
	return d, nil
}

// median takes each measure's median on its own.
func median(s []sample) sample {
	pick := func(get func(sample) int64) int64 {
		v := make([]int64, len(s))
		for i := range s {
			v[i] = get(s[i])
		}
		slices.Sort(v)
		if len(v)%2 == 1 {
			return v[len(v)/2]
		}
		return (v[len(v)/2-1] + v[len(v)/2]) / 2
	}
	return sample{
		wall: time.Duration(pick(func(x sample) int64 { return int64(x.wall) })),
		cpu:  time.Duration(pick(func(x sample) int64 { return int64(x.cpu) })),
		rss:  pick(func(x sample) int64 { return x.rss }),
	}
}

func ms(d time.Duration) float64 { return float64(d) / float64(time.Millisecond) }

func mib(b int64) string { return fmt.Sprintf("%.0f MiB", float64(b)/(1<<20)) }

// table prints the rows as Markdown, ready for the README.
func table(rows []row) string {
	var b strings.Builder
	b.WriteString("| mode | workloads | input | output | wall | ms/workload | CPU | peak RSS | floor wall | floor RSS | wall / floor |\n")
	b.WriteString("|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|\n")
	for _, r := range rows {
		fmt.Fprintf(&b, "| %s | %d | %s | %s | %s | %.3f | %s | %s | %s | %s | %.2f |\n",
			r.mode, r.n, size(r.inputSize), size(r.outSize), r.tool.wall.Round(time.Millisecond), ms(r.tool.wall)/float64(r.n),
			r.tool.cpu.Round(time.Millisecond), mib(r.tool.rss), r.floor.wall.Round(time.Millisecond), mib(r.floor.rss),
			ms(r.tool.wall)/ms(r.floor.wall))
	}
	return b.String()
}

func size(b int64) string {
	if b < 1<<20 {
		return fmt.Sprintf("%.1f KiB", float64(b)/1024)
	}
	return fmt.Sprintf("%.1f MiB", float64(b)/(1<<20))
}

// goals checks the goals against the rows that measure them.
func goals(rows []row) string {
	find := func(mode string, n int) (row, bool) {
		for _, r := range rows {
			if r.mode == mode && r.n == n {
				return r, true
			}
		}
		return row{}, false
	}
	verdict := func(ok bool) string {
		if ok {
			return "met"
		}
		return "NOT met"
	}
	var b strings.Builder
	b.WriteString("\ngoals:\n")
	if r, ok := find("inject", 5000); ok {
		per := ms(r.tool.wall) / 5000
		fmt.Fprintf(&b, "- inject, 5000 workloads: %.3f ms/workload (goal <= 0.5): %s\n", per, verdict(per <= 0.5))
	}
	for _, mode := range []string{"inject", "krm"} {
		if r, ok := find(mode, 1); ok {
			fmt.Fprintf(&b, "- %s, one workload: %s start to exit (goal <= 30ms): %s\n", mode, r.tool.wall.Round(time.Millisecond), verdict(r.tool.wall <= 30*time.Millisecond))
		}
		small, ok1 := find(mode, 5000)
		large, ok2 := find(mode, 20000)
		if ok1 && ok2 {
			ratio := ms(large.tool.wall) / ms(small.tool.wall)
			fmt.Fprintf(&b, "- %s, time(20000)/time(5000): %.2f (goal <= 4.4): %s\n", mode, ratio, verdict(ratio <= 4.4))
		}
	}
	var inj []row
	for _, r := range rows {
		if r.mode == "inject" {
			inj = append(inj, r)
		}
	}
	if len(inj) > 1 {
		var parts []string
		for _, r := range inj {
			parts = append(parts, fmt.Sprintf("%d: %s", r.n, mib(r.tool.rss)))
		}
		fmt.Fprintf(&b, "- inject, peak RSS by workloads: %s\n", strings.Join(parts, ", "))
	}
	one, okOne := find("krm", 1)
	for _, r := range rows {
		if r.mode != "krm" || r.n == 1 {
			continue
		}
		line := fmt.Sprintf("- krm, %d workloads: peak RSS %s, %.0f KiB/workload", r.n, mib(r.tool.rss), float64(r.tool.rss)/1024/float64(r.n))
		if okOne {
			line += fmt.Sprintf(" (%.0f KiB/workload above one workload's)", float64(r.tool.rss-one.tool.rss)/1024/float64(r.n-1))
		}
		if r.n == 20000 {
			line += fmt.Sprintf(" (goal < 1 GiB): %s", verdict(r.tool.rss < 1<<30))
		}
		b.WriteString(line + "\n")
	}
	return b.String()
}

// machine names the machine and its load, for the table's caption.
func machine() string {
	model := "unknown CPU"
	if b, err := os.ReadFile("/proc/cpuinfo"); err == nil {
		for _, l := range strings.Split(string(b), "\n") {
			if k, v, ok := strings.Cut(l, ":"); ok && strings.TrimSpace(k) == "model name" {
				model = strings.TrimSpace(v)
				break
			}
		}
	}
	return fmt.Sprintf("machine: %d CPUs (%s), %s/%s, %s\nload average before: %s\n",
		runtime.NumCPU(), model, runtime.GOOS, runtime.GOARCH, runtime.Version(), loadavg())
}

func loadavg() string {
	b, err := os.ReadFile("/proc/loadavg")
	if err != nil {
		return "unknown"
	}
	f := strings.Fields(string(b))
	if len(f) < 3 {
		return "unknown"
	}
	return strings.Join(f[:3], " ")
}
