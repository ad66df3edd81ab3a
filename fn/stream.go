package main

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"sync"

	"sigs.k8s.io/kustomize/kyaml/yaml"

	"github.com/inject-sidecar/inject-sidecar/pkg/inject"
	"github.com/inject-sidecar/inject-sidecar/pkg/manifest"
)

// The inject command streams: it reads its input twice, first for the
// objects that the configuration and the decisions read from it (Istio's
// ConfigMaps, Namespaces, webhooks: they may come after the workloads
// they govern), then in batches of streamBatch documents, each parsed,
// injected, written out and dropped before the next. Memory stays flat
// however large the input; the output waits in a spool until the run has
// succeeded.
//
// Only a run that succeeds is streamed to the end. At the first fault of
// any kind the streamed attempt is abandoned and the one-shot path (read
// everything, inject, write) runs instead, so that every error, warning
// and exit status is exactly the one-shot path's: streaming changes how
// much memory a successful run takes, nothing else.

// streamBatch is how many documents are held parsed at a time: enough to
// keep every core busy, few enough that memory does not grow with input.
// The collector's work is proportional to what is allocated over the
// heap's headroom, and the live heap is about one batch: a small batch
// leaves the same memory limit more headroom (at 5000 workloads, 64
// instead of 256 took peak RSS from about 200 to 110 MiB for the same CPU).
const streamBatch = 64

// configKinds are the kinds whose objects the configuration (Istio's
// ConfigMaps) and the decision (Namespaces, webhooks) read from the input.
var configKinds = [][]byte{[]byte("ConfigMap"), []byte("Namespace"), []byte("MutatingWebhookConfiguration")}

// mayConfigure reports whether a document's text may hold such an object.
// A document whose kind is one of them spells it out, or escapes it in a
// double-quoted string (a backslash); anything else cannot be one.
func mayConfigure(raw []byte) bool {
	if bytes.IndexByte(raw, '\\') >= 0 {
		return true
	}
	for _, k := range configKinds {
		if bytes.Contains(raw, k) {
			return true
		}
	}
	return false
}

// streamInject runs the inject command streaming, into out. It returns
// done when the run succeeded. Otherwise nothing was written to out and
// the caller runs the one-shot path, reading standard input from in (what
// the attempt consumed of it, then the rest).
func (o *fileOptions) streamInject(r *run, s streams, env lookupEnv, out *spool) (done bool, in io.Reader) {
	stdin := &replay{src: s.In}
	defer stdin.close()
	fallback := func() (bool, io.Reader) {
		out.reset()
		return false, stdin.reader()
	}
	files, err := inputFiles(o.files)
	if err != nil {
		return fallback()
	}
	var limits manifest.Limits
	var objects []*yaml.RNode
	cfg, err := o.loadWith(env, func(l manifest.Limits, reads func(*yaml.RNode) bool) ([]*yaml.RNode, error) {
		limits = l
		objs, err := configObjects(files, stdin, l, reads)
		objects = objs
		return objs, err
	})
	if err != nil {
		return fallback()
	}
	r.setTimeout(cfg.Options.RunTimeout)
	injector, err := inject.New(cfg, objects)
	if err != nil {
		return fallback()
	}
	objects = nil // what the decision needs of them is in the injector now
	w := manifest.NewWriter(out)
	warnings := injector.RunWarnings() // first, as in one Run's report
	first := 0
	for _, name := range files {
		err := eachBatch(name, stdin, limits, func(docs []*manifest.Document) error {
			manifest.KeepOriginals(docs) // before the edit: spares reading changed documents again to write them
			items := manifest.Nodes(docs)
			rep, err := injector.Run(items, first)
			if err != nil {
				return err
			}
			first += len(items)
			warnings = append(warnings, rep.Warnings()...)
			changed := rep.Changed()
			return w.Write(docs, func(d *manifest.Document) bool { return changed[d.Node] })
		})
		if err != nil {
			return fallback()
		}
	}
	for _, msg := range warnings {
		fmt.Fprintln(s.Err, "warning:", msg)
	}
	return true, nil
}

// configObjects is the first reading: the input's objects that may be
// configuration, parsed, in input order. Of those, only the ones reads
// accepts are kept: an input's own ConfigMaps grow with it.
func configObjects(files []string, stdin *replay, l manifest.Limits, reads func(*yaml.RNode) bool) ([]*yaml.RNode, error) {
	var objects []*yaml.RNode
	for _, name := range files {
		err := eachCut(name, stdin, l, func(docs []*manifest.Document) error {
			var keep []*manifest.Document
			for _, d := range docs {
				if mayConfigure(d.Raw) {
					keep = append(keep, d)
				}
			}
			if err := manifest.Parse(keep, l); err != nil {
				return err
			}
			for _, n := range manifest.Nodes(keep) {
				if reads(n) {
					objects = append(objects, n)
				}
			}
			return nil
		})
		if err != nil {
			return nil, err
		}
	}
	return objects, nil
}

// eachBatch is the second reading: fn gets the documents of one input,
// streamBatch at a time, parsed.
func eachBatch(name string, stdin *replay, l manifest.Limits, fn func([]*manifest.Document) error) error {
	return eachCut(name, stdin, l, func(docs []*manifest.Document) error {
		if err := manifest.Parse(docs, l); err != nil {
			return err
		}
		return fn(docs)
	})
}

// eachCut gives fn the documents of one input, unparsed, streamBatch at a
// time. Standard input is read from the terminal the first time, then
// from the copy kept of it.
func eachCut(name string, stdin *replay, l manifest.Limits, fn func([]*manifest.Document) error) error {
	var r io.Reader
	if name == "-" {
		src, err := stdin.open()
		if err != nil {
			return err
		}
		r = src
	} else {
		f, err := os.Open(name)
		if err != nil {
			return err
		}
		defer f.Close()
		r = f
	}
	sc := manifest.NewScanner(name, r, l)
	for {
		docs, err := sc.Next(streamBatch)
		if errors.Is(err, io.EOF) {
			return nil
		}
		if err != nil {
			return err
		}
		if err := fn(docs); err != nil {
			return err
		}
	}
}

// inputFiles lists the files readManifests reads, in its order.
func inputFiles(args []string) ([]string, error) {
	var out []string
	seen := map[string]bool{}
	for _, arg := range args {
		files, err := expand(arg)
		if err != nil {
			return nil, err
		}
		for _, name := range files {
			key := name
			if abs, err := filepath.Abs(name); err == nil && name != "-" {
				key = abs
			}
			if !seen[key] {
				seen[key] = true
				out = append(out, name)
			}
		}
	}
	return out, nil
}

// replay is standard input, kept as it is first read (in a temporary
// file, or in memory when none can be made) for the second reading and
// for the one-shot path.
type replay struct {
	src  io.Reader
	f    *os.File
	mem  bytes.Buffer
	read bool
}

// open returns standard input: the first time, a reader that keeps a
// copy; then the copy.
func (r *replay) open() (io.Reader, error) {
	if !r.read {
		r.read = true
		if f, err := os.CreateTemp("", "inject-sidecar-stdin-*"); err == nil {
			os.Remove(f.Name()) // gone with the process, whatever happens
			r.f = f
			return io.TeeReader(r.src, f), nil
		}
		return io.TeeReader(r.src, &r.mem), nil
	}
	return r.copy()
}

func (r *replay) copy() (io.Reader, error) {
	if r.f == nil {
		return bytes.NewReader(r.mem.Bytes()), nil
	}
	if _, err := r.f.Seek(0, io.SeekStart); err != nil {
		return nil, err
	}
	return r.f, nil
}

// reader is standard input for the one-shot path: what was kept, then
// what was never read.
func (r *replay) reader() io.Reader {
	if !r.read {
		return r.src
	}
	kept, err := r.copy()
	if err != nil {
		return io.MultiReader(errReader{err})
	}
	if r.f != nil {
		// The one-shot path reads after this function's deferred close:
		// read the copy into memory first.
		b, err := io.ReadAll(kept)
		if err != nil {
			return io.MultiReader(errReader{err})
		}
		kept = bytes.NewReader(b)
	}
	return io.MultiReader(kept, r.src)
}

func (r *replay) close() {
	if r.f != nil {
		r.f.Close()
	}
}

type errReader struct{ err error }

func (e errReader) Read([]byte) (int, error) { return 0, e.err }

// spool holds the inject command's output until the run has succeeded:
// in the temporary file that then replaces -o FILE, or in a temporary
// file copied to standard output; in memory when no temporary file can be
// made. Its methods may be called from the guarded work and from the
// command at once (after a timeout).
type spool struct {
	mu     sync.Mutex
	path   string // -o FILE; "" for standard output
	f      *os.File
	mem    *bytes.Buffer
	closed bool
	used   bool
}

func newSpool(path string) *spool {
	if path == "-" {
		path = ""
	}
	return &spool{path: path}
}

func (s *spool) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.closed {
		return 0, os.ErrClosed // the run was abandoned (timed out)
	}
	s.used = true
	if s.f == nil && s.mem == nil {
		if s.path != "" {
			// As writeOutput: beside the file it replaces, so that the
			// rename is atomic.
			f, err := os.CreateTemp(filepath.Dir(s.path), "."+filepath.Base(s.path)+".*")
			if err != nil {
				return 0, err
			}
			s.f = f
		} else if f, err := os.CreateTemp("", "inject-sidecar-output-*"); err == nil {
			os.Remove(f.Name()) // read back through f; gone with the process
			s.f = f
		} else {
			s.mem = &bytes.Buffer{}
		}
	}
	if s.mem != nil {
		return s.mem.Write(p)
	}
	return s.f.Write(p)
}

// result is what the guarded work returns for a spooled output: not nil,
// so that the output is emitted, and empty, since the spool holds it.
func (s *spool) result() []byte { return []byte{} }

// holds reports whether the output is in the spool.
func (s *spool) holds() bool {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.used && !s.closed
}

// reset forgets what was written: the one-shot path takes over.
func (s *spool) reset() {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.dropLocked()
	s.used = false
}

// commit delivers the output: the file renamed over -o FILE, or copied to
// stdout.
func (s *spool) commit(stdout io.Writer) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.mem != nil {
		if s.path != "" {
			return writeOutput(stdout, s.path, s.mem.Bytes())
		}
		_, err := stdout.Write(s.mem.Bytes())
		return err
	}
	if s.f == nil { // an empty output: nothing was ever written
		return writeOutput(stdout, s.path, nil)
	}
	defer s.dropLocked()
	if s.path == "" {
		if _, err := s.f.Seek(0, io.SeekStart); err != nil {
			return err
		}
		_, err := io.Copy(stdout, s.f)
		return err
	}
	mode := os.FileMode(0o644)
	if st, err := os.Stat(s.path); err == nil {
		mode = st.Mode().Perm()
	}
	if err := s.f.Chmod(mode); err != nil {
		return err
	}
	if err := s.f.Sync(); err != nil {
		return err
	}
	if err := s.f.Close(); err != nil {
		return err
	}
	err := os.Rename(s.f.Name(), s.path)
	s.f = nil
	return err
}

// discard removes whatever the spool holds; after commit, it does nothing.
func (s *spool) discard() {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.dropLocked()
	s.closed = true
}

func (s *spool) dropLocked() {
	if s.f != nil {
		s.f.Close()
		if s.path != "" {
			os.Remove(s.f.Name())
		}
		s.f = nil
	}
	s.mem = nil
}
