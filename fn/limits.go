package main

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"math"
	"runtime/debug"
	"strings"
	"sync"
	"time"

	"sigs.k8s.io/kustomize/kyaml/kio/kioutil"
	"sigs.k8s.io/kustomize/kyaml/yaml"

	"github.com/inject-sidecar/inject-sidecar/pkg/config"
	"github.com/inject-sidecar/inject-sidecar/pkg/manifest"
)

// run bounds one invocation in time. The limit starts as the default and
// is replaced once the configuration is read; it always counts from the
// start of the run.
type run struct {
	start   time.Time
	mu      sync.Mutex
	timeout time.Duration
	changed chan struct{}
}

func newRun() *run {
	return &run{start: time.Now(), timeout: config.DefaultRunTimeout, changed: make(chan struct{}, 1)}
}

// setTimeout replaces the run's time limit; d <= 0 keeps the current one.
func (r *run) setTimeout(d time.Duration) {
	if d <= 0 {
		return
	}
	r.mu.Lock()
	r.timeout = d
	r.mu.Unlock()
	select {
	case r.changed <- struct{}{}:
	default:
	}
}

func (r *run) limit() time.Duration {
	r.mu.Lock()
	defer r.mu.Unlock()
	return r.timeout
}

// timeoutError is returned when the run outlives its limit.
func (r *run) timeoutError() error {
	return fmt.Errorf("the run took longer than %s and was stopped; nothing was written (limit: spec.limits.runTimeout)", r.limit())
}

// panicError is a panic anywhere in the run, turned into an error: a bug,
// but one that must not cost the user their resources.
type panicError struct {
	value any
	stack []byte
}

func (e *panicError) Error() string {
	return fmt.Sprintf("internal error: %v; nothing was written. This is a bug in inject-sidecar: "+
		"please report it with the input that caused it", e.value)
}

// lockedBuffer is the work's standard error: written by the work's
// goroutine, read by the guard even while the work still runs.
type lockedBuffer struct {
	mu  sync.Mutex
	buf bytes.Buffer
}

func (b *lockedBuffer) Write(p []byte) (int, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.Write(p)
}

func (b *lockedBuffer) flushTo(w io.Writer) {
	b.mu.Lock()
	defer b.mu.Unlock()
	_, _ = w.Write(b.buf.Bytes())
	b.buf.Reset()
}

// work is one command's job: it returns the bytes to emit, or nil to emit
// nothing. It may return both output and an error (KRM mode: the items
// unchanged plus error results).
type work func(r *run, s streams) (out []byte, err error)

// guarded runs w on its own goroutine within the run's time limit, with
// panics turned into errors, and hands its output to emit only once w has
// returned in time: a run that fails, panics or times out emits nothing
// but what w chose to return, so no orchestrator ever reads half an
// output. w's standard error is buffered and copied to s.Err.
func guarded(s streams, w work, emit func([]byte) error) error {
	r := newRun()
	stderr := &lockedBuffer{}
	type result struct {
		out []byte
		err error
	}
	done := make(chan result, 1) // buffered: an abandoned work must not block
	go func() {
		defer func() {
			if v := recover(); v != nil {
				done <- result{err: &panicError{value: v, stack: debug.Stack()}}
			}
		}()
		out, err := w(r, streams{In: s.In, Out: io.Discard, Err: stderr})
		done <- result{out: out, err: err}
	}()

	timer := time.NewTimer(time.Until(r.start.Add(r.limit())))
	defer timer.Stop()
	for {
		select {
		case res := <-done:
			stderr.flushTo(s.Err)
			var pe *panicError
			if errors.As(res.err, &pe) {
				fmt.Fprintf(s.Err, "inject-sidecar: panic: %v\n%s\n", pe.value, pe.stack)
				return res.err
			}
			// Checked again on completion, so that a run finishing just
			// after its limit is refused whatever the timer did.
			if time.Since(r.start) > r.limit() {
				return r.timeoutError()
			}
			if res.out != nil {
				if err := emit(res.out); err != nil {
					return errors.Join(res.err, err)
				}
			}
			return res.err
		case <-r.changed:
			if !timer.Stop() {
				select {
				case <-timer.C:
				default:
				}
			}
			timer.Reset(time.Until(r.start.Add(r.limit())))
		case <-timer.C:
			stderr.flushTo(s.Err)
			return r.timeoutError()
		}
	}
}

// inputLimits are the reading limits of the configured options.
func inputLimits(o config.Options) manifest.Limits {
	return manifest.Limits{
		MaxInputSize:      o.MaxInputSize,
		MaxDepth:          o.MaxNestingDepth,
		MaxAliasExpansion: o.MaxAliasExpansion,
	}.WithDefaults()
}

// configLimits are the reading limits set in --config objects, the
// defaults where they set none.
func configLimits(l config.Limits) manifest.Limits {
	return manifest.Limits{
		MaxInputSize:      l.MaxInputSize,
		MaxDepth:          l.MaxNestingDepth,
		MaxAliasExpansion: l.MaxAliasExpansion,
	}.WithDefaults()
}

// raisedLimits names the configured reading limits above the defaults,
// which a KRM function cannot apply: it reads the ResourceList, functionConfig
// included, before it can know them.
func raisedLimits(l manifest.Limits) []string {
	d := manifest.Limits{}.WithDefaults()
	var out []string
	if l.MaxInputSize > d.MaxInputSize {
		out = append(out, fmt.Sprintf("maxInputSize (%s, default %s)", manifest.ByteSize(l.MaxInputSize), manifest.ByteSize(d.MaxInputSize)))
	}
	if l.MaxDepth > d.MaxDepth {
		out = append(out, fmt.Sprintf("maxNestingDepth (%d, default %d)", l.MaxDepth, d.MaxDepth))
	}
	if l.MaxAliasExpansion > d.MaxAliasExpansion {
		out = append(out, fmt.Sprintf("maxAliasExpansion (%d, default %d)", l.MaxAliasExpansion, d.MaxAliasExpansion))
	}
	return out
}

// checkResourceList reads a ResourceList within the limits. A problem
// inside an item is named by the item, since the list itself is written by
// the orchestrator and its lines mean little to the user.
func checkResourceList(data []byte, l manifest.Limits) ([]*manifest.Document, error) {
	docs, err := manifest.SplitLimited("standard input", data, l)
	var me *manifest.Error
	if errors.As(err, &me) && me.Line > 0 {
		if item := itemAt(data, me.Line); item != "" {
			located := *me
			located.Where = "standard input, " + item
			err = &located
		}
	}
	if err != nil {
		return nil, fmt.Errorf("reading the ResourceList: %w", err)
	}
	return docs, nil
}

// itemAt names the ResourceList item of data that holds line:
// "items[2] (Deployment demo/web from web.yaml)", or "" when no item does.
// Parsing into nodes expands nothing, so this is safe on the documents
// the limits refuse.
func itemAt(data []byte, line int) string {
	var doc yaml.Node
	if err := yaml.NewDecoder(bytes.NewReader(data)).Decode(&doc); err != nil || len(doc.Content) == 0 {
		return ""
	}
	items := mapValue(doc.Content[0], "items")
	if items == nil || items.Kind != yaml.SequenceNode {
		return ""
	}
	for i, item := range items.Content {
		end := math.MaxInt
		if i+1 < len(items.Content) {
			end = items.Content[i+1].Line
		}
		if line < item.Line || line >= end {
			continue
		}
		meta := mapValue(item, "metadata")
		kind, name, ns := scalarValue(mapValue(item, "kind")), scalarValue(mapValue(meta, "name")), scalarValue(mapValue(meta, "namespace"))
		id := strings.TrimSpace(kind + " " + strings.TrimPrefix(ns+"/"+name, "/"))
		ann := mapValue(meta, "annotations")
		path := scalarValue(mapValue(ann, kioutil.PathAnnotation))
		if path == "" {
			path = scalarValue(mapValue(ann, kioutil.LegacyPathAnnotation))
		}
		switch {
		case id != "" && path != "":
			return fmt.Sprintf("items[%d] (%s from %s)", i, id, path)
		case id != "":
			return fmt.Sprintf("items[%d] (%s)", i, id)
		}
		return fmt.Sprintf("items[%d]", i)
	}
	return ""
}

// mapValue is the value of key in mapping n, or nil.
func mapValue(n *yaml.Node, key string) *yaml.Node {
	if n == nil || n.Kind != yaml.MappingNode {
		return nil
	}
	for i := 0; i+1 < len(n.Content); i += 2 {
		if n.Content[i].Value == key {
			return n.Content[i+1]
		}
	}
	return nil
}

func scalarValue(n *yaml.Node) string {
	if n == nil || n.Kind != yaml.ScalarNode {
		return ""
	}
	return n.Value
}

// checkListShape requires standard input to be one ResourceList (or a
// List, which kyaml unwraps alike) whose items and functionConfig are
// objects. kyaml's reader would take anything else apart without
// complaint: plain manifests would come back as a bare stream without
// results, and items that are not objects make its getters panic.
func checkListShape(docs []*manifest.Document) error {
	const want = "the function mode reads one ResourceList (apiVersion: config.kubernetes.io/v1, kind: ResourceList); " +
		"to inject plain manifests, use: inject-sidecar inject -f -"
	nodes := manifest.Nodes(docs)
	switch len(nodes) {
	case 0:
		return fmt.Errorf("reading the ResourceList: standard input holds no document; %s", want)
	case 1:
	default:
		return fmt.Errorf("reading the ResourceList: standard input holds %d documents; %s", len(nodes), want)
	}
	root := nodes[0].YNode()
	if kind := scalarValue(mapValue(root, "kind")); kind != "ResourceList" && kind != "List" {
		what := "an object without kind"
		if kind != "" {
			what = "a " + kind
			if strings.ContainsRune("AEIOU", rune(kind[0])) {
				what = "an " + kind
			}
		}
		return fmt.Errorf("reading the ResourceList: standard input is %s, not a ResourceList; %s", what, want)
	}
	if mapValue(root, "items") == nil && mapValue(root, "functionConfig") == nil {
		// kyaml would read the list itself as an item.
		return fmt.Errorf("reading the ResourceList: line %d: the %s has neither items nor functionConfig; "+
			"write items: [] for an empty list", root.Line, scalarValue(mapValue(root, "kind")))
	}
	if fc := mapValue(root, "functionConfig"); fc != nil && !isNullNode(fc) && fc.Kind != yaml.MappingNode {
		return fmt.Errorf("reading the ResourceList: line %d: functionConfig: expected an object, got %s", fc.Line, nodeKind(fc))
	}
	items := mapValue(root, "items")
	if items == nil || isNullNode(items) {
		return nil
	}
	if items.Kind != yaml.SequenceNode {
		return fmt.Errorf("reading the ResourceList: line %d: items: expected a list of objects, got %s", items.Line, nodeKind(items))
	}
	for i, item := range items.Content {
		if item.Kind != yaml.MappingNode && !isNullNode(item) {
			return fmt.Errorf("reading the ResourceList: line %d: items[%d]: expected an object, got %s", item.Line, i, nodeKind(item))
		}
	}
	return nil
}

func isNullNode(n *yaml.Node) bool {
	return n.Kind == yaml.ScalarNode && n.ShortTag() == "!!null"
}

func nodeKind(n *yaml.Node) string {
	switch n.Kind {
	case yaml.MappingNode:
		return "a mapping"
	case yaml.SequenceNode:
		return "a list"
	case yaml.AliasNode:
		return "an alias"
	}
	v := n.Value
	if r := []rune(v); len(r) > 40 {
		v = string(r[:37]) + "..."
	}
	return fmt.Sprintf("the scalar %q", v)
}
