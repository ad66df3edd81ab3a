package inject

import (
	"bytes"
	"encoding/json"
	"fmt"
	"reflect"
	"slices"
	"sort"
	"strconv"
	"strings"

	corev1 "k8s.io/api/core/v1"
	"sigs.k8s.io/kustomize/kyaml/fn/framework"
	"sigs.k8s.io/kustomize/kyaml/yaml"

	"github.com/inject-sidecar/inject-sidecar/pkg/config"
	"github.com/inject-sidecar/inject-sidecar/pkg/podtemplate"
	"github.com/inject-sidecar/inject-sidecar/pkg/report"
	"github.com/inject-sidecar/inject-sidecar/pkg/uninject"
)

// State is what Check found for one workload.
type State string

const (
	// Current: injected as the configuration wants, or not injected and
	// not wanted.
	Current State = "ok"
	// Missing: the decision injects the workload, which is not injected.
	Missing State = "missing"
	// Unwanted: the workload is injected, and the decision does not
	// inject it.
	Unwanted State = "unwanted"
	// Stale: injected and wanted, but re-injecting it would change it.
	Stale State = "stale"
	// Broken: the workload cannot be decided or injected.
	Broken State = "error"
)

// maxChanges bounds the fields a stale workload's report lists.
const maxChanges = 8

// WorkloadCheck is Check's finding for one pod template.
type WorkloadCheck struct {
	Target *podtemplate.Target
	State  State
	// Injected says whether the workload carries an injection now
	// (a valid sidecar.istio.io/status).
	Injected bool
	// Inject and Revision are the decision's (for Unwanted without one,
	// the revision of the injection there); Reason is the decision's rule
	// (the same as explain gives) or, for Broken, the error.
	Inject   bool
	Revision string
	Reason   string
	// Changes are fields re-injection would change (Stale only), at most
	// maxChanges of them, then "...".
	Changes  []string
	Warnings []string
}

// CheckReport is every workload's finding, in input order.
type CheckReport struct {
	Workloads []WorkloadCheck
}

// Check compares every pod template with what injection would make of it
// now, with the same decisions and rendering as Run, without touching
// items: a workload is missing its injection, carries an unwanted one, or
// carries a stale one (re-injection would change it). The annotation
// inject-sidecar.dev/injected alone does not make an injection stale when
// the workload has none (Istio or kube-inject mode injected it): it is
// bookkeeping, not injected content. Check fails only when Run would fail
// before looking at any workload.
func Check(cfg *config.Config, items []*yaml.RNode) (*CheckReport, error) {
	// Injection works on copies: items must not change, even partly.
	copies := make([]*yaml.RNode, len(items))
	for i, it := range items {
		if it != nil {
			copies[i] = it.Copy()
		}
	}
	targets, err := findTargets(cfg, copies)
	if err != nil {
		return nil, err
	}
	p, err := newPipeline(cfg, copies)
	if err != nil {
		return nil, err
	}
	entries, edits := p.injectAll(targets) // as Run computes them
	rep := &CheckReport{}
	for i := range targets {
		rep.Workloads = append(rep.Workloads, checkOne(&targets[i], entries[i], edits[i]))
	}
	return rep, nil
}

// checkOne compares a workload with what injection made of it (entry, e).
func checkOne(t *podtemplate.Target, entry report.Entry, e *edit) WorkloadCheck {
	w := WorkloadCheck{Target: t, Revision: entry.Revision, Reason: entry.Reason, Warnings: entry.Warnings}
	pod, err := t.Pod()
	if err != nil {
		w.State, w.Reason = Broken, err.Error()
		return w
	}
	w.Injected = uninject.Injected(pod)
	switch entry.Outcome {
	case report.Failed:
		w.State = Broken
		return w
	case report.Skipped:
		w.State = Current
		if w.Injected {
			// The state says it: the warning inject gives would repeat it.
			w.State, w.Warnings = Unwanted, slices.DeleteFunc(slices.Clone(w.Warnings), func(s string) bool {
				return strings.HasPrefix(s, unwantedPrefix)
			})
			if w.Revision == "" {
				// The revision of the injection that is there.
				w.Revision, _ = uninject.Revision(pod)
			}
		}
		return w
	}
	w.Inject = true
	if !w.Injected {
		w.State = Missing
		return w
	}
	after := e.after
	if !uninject.Recorded(pod) {
		after = after.DeepCopy()
		delete(after.Annotations, uninject.Annotation)
	}
	w.State = Current
	if changes := podChanges(pod, after); len(changes) > 0 {
		w.State, w.Changes = Stale, changes
	}
	return w
}

// Problems counts the workloads that are not Current.
func (r *CheckReport) Problems() int {
	n := 0
	for _, w := range r.Workloads {
		if w.State != Current {
			n++
		}
	}
	return n
}

// Err is nil when every workload is current, else one error counting the
// problems by kind.
func (r *CheckReport) Err() error {
	counts := map[State]int{}
	for _, w := range r.Workloads {
		if w.State != Current {
			counts[w.State]++
		}
	}
	if len(counts) == 0 {
		return nil
	}
	var parts []string
	for _, s := range []State{Missing, Unwanted, Stale, Broken} {
		if counts[s] > 0 {
			parts = append(parts, fmt.Sprintf("%d %s", counts[s], s))
		}
	}
	return fmt.Errorf("check: %d of %d workloads need attention (%s)", r.Problems(), len(r.Workloads), strings.Join(parts, ", "))
}

// Message words one finding on one line.
func (w WorkloadCheck) Message() string {
	var s string
	switch w.State {
	case Current:
		if w.Inject {
			s = "ok: injected and current"
		} else {
			s = "ok: not injected"
		}
	case Missing:
		s = "missing: not injected, but the decision injects it"
	case Unwanted:
		s = "unwanted: injected, but the decision does not inject it"
	case Stale:
		s = "stale: re-injection would change " + strings.Join(w.Changes, ", ")
	case Broken:
		return "error: " + w.Reason
	}
	if w.Revision != "" {
		s += " (revision " + w.Revision + ")"
	}
	if w.Reason != "" {
		s += "; decision: " + w.Reason
	}
	return s
}

// Results renders the report as KRM function results: an error for every
// workload that needs attention, info for the others, and a warning for
// each of a workload's warnings.
func (r *CheckReport) Results() framework.Results {
	var out framework.Results
	for _, w := range r.Workloads {
		res := checkResult(w.Target)
		res.Message = w.Message()
		if w.State != Current {
			res.Severity = framework.Error
		}
		out = append(out, res)
		for _, msg := range w.Warnings {
			warn := checkResult(w.Target)
			warn.Severity, warn.Message = framework.Warning, msg
			out = append(out, warn)
		}
	}
	return out
}

func checkResult(t *podtemplate.Target) *framework.Result {
	res := &framework.Result{Severity: framework.Info}
	if t == nil {
		return res
	}
	id := t.ResourceID()
	res.ResourceRef = &id
	if path, index := t.File(); path != "" {
		res.File = &framework.File{Path: path}
		if i, err := strconv.Atoi(strings.TrimSpace(index)); err == nil {
			res.File.Index = i
		}
	}
	return res
}

// podChanges lists the fields that differ between two pods, as paths such
// as spec.containers[istio-proxy].image (list elements named by their
// name when they have one), in field order, at most maxChanges.
func podChanges(before, after *corev1.Pod) []string {
	b, err1 := jsonModel(before)
	a, err2 := jsonModel(after)
	if err1 != nil || err2 != nil {
		if reflect.DeepEqual(before, after) {
			return nil
		}
		return []string{"the pod"}
	}
	var out []string
	diffPaths(b, a, "", &out)
	if len(out) > maxChanges {
		out = append(out[:maxChanges], "...")
	}
	return out
}

func jsonModel(pod *corev1.Pod) (any, error) {
	raw, err := json.Marshal(struct {
		Metadata any            `json:"metadata"`
		Spec     corev1.PodSpec `json:"spec"`
	}{pod.ObjectMeta, pod.Spec})
	if err != nil {
		return nil, err
	}
	d := json.NewDecoder(bytes.NewReader(raw))
	d.UseNumber()
	var out any
	err = d.Decode(&out)
	return out, err
}

func diffPaths(b, a any, path string, out *[]string) {
	if len(*out) > maxChanges || reflect.DeepEqual(b, a) {
		return
	}
	bm, bok := b.(map[string]any)
	am, aok := a.(map[string]any)
	if bok && aok {
		keys := map[string]bool{}
		for k := range bm {
			keys[k] = true
		}
		for k := range am {
			keys[k] = true
		}
		sorted := make([]string, 0, len(keys))
		for k := range keys {
			sorted = append(sorted, k)
		}
		sort.Strings(sorted)
		for _, k := range sorted {
			diffPaths(bm[k], am[k], joinField(path, k), out)
		}
		return
	}
	bl, bok := b.([]any)
	al, aok := a.([]any)
	if bok && aok {
		if named(bl) && named(al) {
			diffNamed(bl, al, path, out)
			return
		}
		if len(bl) == len(al) {
			for i := range bl {
				diffPaths(bl[i], al[i], fmt.Sprintf("%s[%d]", path, i), out)
			}
			return
		}
	}
	*out = append(*out, path)
}

// diffNamed compares lists of named elements by name: an element only on
// one side is reported as added or removed, then a change of order.
func diffNamed(b, a []any, path string, out *[]string) {
	name := func(v any) string { return v.(map[string]any)["name"].(string) }
	bi := map[string]any{}
	var border, aorder []string
	for _, v := range b {
		bi[name(v)] = v
		border = append(border, name(v))
	}
	seen := map[string]bool{}
	for _, v := range a {
		n := name(v)
		aorder = append(aorder, n)
		seen[n] = true
		p := fmt.Sprintf("%s[%s]", path, n)
		if old, ok := bi[n]; ok {
			diffPaths(old, v, p, out)
		} else {
			*out = append(*out, p+" (added)")
		}
	}
	var kept []string
	for _, n := range border {
		if !seen[n] {
			*out = append(*out, fmt.Sprintf("%s[%s] (removed)", path, n))
		} else {
			kept = append(kept, n)
		}
	}
	var common []string
	for _, n := range aorder {
		if _, ok := bi[n]; ok {
			common = append(common, n)
		}
	}
	if !reflect.DeepEqual(kept, common) {
		*out = append(*out, path+" (order)")
	}
}

// named reports whether every element is an object with a unique string
// name.
func named(list []any) bool {
	seen := map[string]bool{}
	for _, v := range list {
		m, ok := v.(map[string]any)
		if !ok {
			return false
		}
		n, ok := m["name"].(string)
		if !ok || seen[n] {
			return false
		}
		seen[n] = true
	}
	return len(list) > 0
}

func joinField(path, key string) string {
	if strings.ContainsAny(key, "./") {
		key = strconv.Quote(key)
		if path == "" {
			return "[" + key + "]"
		}
		return path + "[" + key + "]"
	}
	if path == "" {
		return key
	}
	return path + "." + key
}
