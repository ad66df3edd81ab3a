package inject

import (
	"sigs.k8s.io/kustomize/kyaml/yaml"

	"github.com/inject-sidecar/inject-sidecar/pkg/internal/parallel"
	"github.com/inject-sidecar/inject-sidecar/pkg/podtemplate"
	"github.com/inject-sidecar/inject-sidecar/pkg/report"
	"github.com/inject-sidecar/inject-sidecar/pkg/writeback"
)

// chunk is how many workloads are computed before they are written back:
// a computed injection holds two typed pods, and holding those of every
// workload of a large input took gigabytes.
const chunk = 256

// runChunks injects the targets size at a time, every chunk computed
// on all cores and then written back, so that memory holds one chunk's
// typed pods. The outcome is that of computing everything, then writing
// everything: should any workload fail, what was written is restored and
// every failure reported; should a write fail, what was written is
// restored, the remaining workloads are still computed (their failures
// take precedence, as they would have stopped the write altogether), and
// that error is reported.
func (p *pipeline) runChunks(rep *report.Report, targets []podtemplate.Target, size int) error {
	if shared(resourcesOf(targets)) || size < 1 {
		// An alias may let a workload read what an earlier chunk wrote:
		// compute everything before writing anything.
		size = len(targets)
	}
	w := &writer{}
	defer func() {
		if v := recover(); v != nil {
			w.restore()
			panic(v) // Run turns it into an error
		}
	}()
	failed := false
	var writeErr error
	for start := 0; start < len(targets); start += size {
		entries, computed := p.injectAll(targets[start:min(start+size, len(targets))])
		var edits []edit
		for i := range entries {
			rep.Add(entries[i])
			failed = failed || entries[i].Outcome == report.Failed
			if computed[i] != nil {
				edits = append(edits, *computed[i])
			}
		}
		if failed || writeErr != nil {
			continue
		}
		writeErr = w.write(edits)
	}
	if err := rep.Err(); err != nil {
		w.restore()
		withhold(rep)
		return err
	}
	if writeErr != nil {
		withhold(rep)
		rep.Fail(nil, "", writeErr)
		return writeErr
	}
	w.mark(rep)
	return nil
}

// injectAll runs injectOne for every target, on every core: workloads
// are independent until they are written back. Entries and edits land by
// target position (edits nil where there is nothing to write), so the
// report, the edits and every message are the same whatever the number of
// workers and whichever finishes first.
func (p *pipeline) injectAll(targets []podtemplate.Target) ([]report.Entry, []*edit) {
	entries := make([]report.Entry, len(targets))
	edits := make([]*edit, len(targets))
	parallel.ForEach(len(targets), func(i int) {
		entries[i], edits[i] = p.injectOne(&targets[i])
	})
	return entries, edits
}

// writer writes edits back, keeping a copy of every resource it touches
// until the run is over, so that all of them can be restored.
type writer struct {
	resources []*yaml.RNode
	saved     map[*yaml.RNode]yaml.Node
	changed   map[*podtemplate.Target]bool
}

// write writes the edits back, in parallel across resources when that is
// safe; a resource's own edits (the items of a List) are written in order
// by one worker. On error every resource written so far is restored and
// the error of the earliest failing edit is returned, as a sequential
// write would.
func (w *writer) write(edits []edit) error {
	if w.saved == nil {
		w.saved, w.changed = map[*yaml.RNode]yaml.Node{}, map[*podtemplate.Target]bool{}
	}
	var resources []*yaml.RNode
	byResource := map[*yaml.RNode][]int{}
	for i, e := range edits {
		r := e.target.Resource
		if _, ok := byResource[r]; !ok {
			resources = append(resources, r)
		}
		byResource[r] = append(byResource[r], i)
	}
	// Copies first, on this goroutine: restore must find every resource
	// that a worker may have touched, whatever happens in the workers.
	copies := make([]*yaml.Node, len(resources))
	parallel.ForEach(len(resources), func(k int) {
		if _, ok := w.saved[resources[k]]; !ok {
			copies[k] = resources[k].Copy().YNode()
		}
	})
	for k, r := range resources {
		if copies[k] != nil {
			w.saved[r] = *copies[k]
			w.resources = append(w.resources, r)
		}
	}
	changed := make([]bool, len(edits))
	errs := make([]error, len(edits))
	writeResource := func(k int) {
		for _, i := range byResource[resources[k]] {
			e := edits[i]
			changed[i], errs[i] = writeback.Pod(e.target, e.before, e.after)
			if errs[i] != nil {
				return
			}
		}
	}
	defer func() {
		if v := recover(); v != nil {
			w.restore()
			panic(v)
		}
	}()
	if shared(resources) {
		// An anchor or alias may tie one resource's nodes to another's
		// (the items of one ResourceList are one YAML document): write in
		// order, on this goroutine.
		for k := range resources {
			writeResource(k)
		}
	} else {
		parallel.ForEach(len(resources), writeResource)
	}
	for i, err := range errs {
		if err != nil {
			w.restore()
			return err
		}
		if changed[i] {
			w.changed[edits[i].target] = true
		}
	}
	return nil
}

// restore puts back every resource written so far.
func (w *writer) restore() {
	for _, r := range w.resources {
		*r.YNode() = w.saved[r]
	}
	w.changed = map[*podtemplate.Target]bool{}
}

// mark records in rep which workloads' resources changed.
func (w *writer) mark(rep *report.Report) {
	for i := range rep.Entries {
		if t := rep.Entries[i].Target; t != nil && w.changed[t] {
			rep.Entries[i].Changed = true
		}
	}
}

// resourcesOf lists the targets' resources, each once.
func resourcesOf(targets []podtemplate.Target) []*yaml.RNode {
	seen := map[*yaml.RNode]bool{}
	var out []*yaml.RNode
	for _, t := range targets {
		if t.Resource != nil && !seen[t.Resource] {
			seen[t.Resource] = true
			out = append(out, t.Resource)
		}
	}
	return out
}

// shared reports whether any of the resources holds an anchor or an
// alias, whose nodes another resource may reach.
func shared(resources []*yaml.RNode) bool {
	var walk func(n *yaml.Node, depth int) bool
	walk = func(n *yaml.Node, depth int) bool {
		if n == nil {
			return false
		}
		if n.Kind == yaml.AliasNode || n.Anchor != "" || depth > 10000 {
			return true
		}
		for _, c := range n.Content {
			if walk(c, depth+1) {
				return true
			}
		}
		return false
	}
	for _, r := range resources {
		if r != nil && walk(r.YNode(), 0) {
			return true
		}
	}
	return false
}
