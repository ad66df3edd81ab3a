// Package report collects what happened to each workload: injected,
// skipped and why, or failed with the field at fault. It turns that into
// KRM function results and into one error for the command line.
package report

import (
	"fmt"
	"strconv"
	"strings"

	"sigs.k8s.io/kustomize/kyaml/fn/framework"
	"sigs.k8s.io/kustomize/kyaml/yaml"

	"github.com/inject-sidecar/inject-sidecar/pkg/podtemplate"
)

// Outcome is what happened to one workload.
type Outcome string

const (
	Injected Outcome = "injected"
	Skipped  Outcome = "skipped"
	Failed   Outcome = "failed"
)

// Entry is the report of one workload, or of the run when Target is nil.
type Entry struct {
	Target   *podtemplate.Target
	Outcome  Outcome
	Revision string
	// Reason is the rule that decided, or the error.
	Reason string
	// Field is the field at fault, below the object, for failures.
	Field    string
	Warnings []string
	// Changed is set when injection edited the resource; re-injecting an
	// already injected workload with the same config leaves it unchanged.
	Changed bool
}

// Report is every entry of a run, in input order.
type Report struct {
	// RunWarnings concern the run rather than one workload: configuration
	// problems (ignored fields, selectors that never match), told once.
	RunWarnings []string
	Entries     []Entry
}

// Add records an entry.
func (r *Report) Add(e Entry) { r.Entries = append(r.Entries, e) }

// Fail records a failure of one workload, or of the run when t is nil.
func (r *Report) Fail(t *podtemplate.Target, field string, err error) {
	reason := "unknown error"
	if err != nil {
		reason = err.Error()
	}
	r.Add(Entry{Target: t, Outcome: Failed, Field: field, Reason: reason})
}

// Failed reports whether any entry failed.
func (r *Report) Failed() bool {
	return r.Count(Failed) > 0
}

// Err returns nil, or one error listing every failure, each naming its
// workload and field.
func (r *Report) Err() error {
	var msgs []string
	for _, e := range r.Entries {
		if e.Outcome == Failed {
			msgs = append(msgs, e.failure())
		}
	}
	switch len(msgs) {
	case 0:
		return nil
	case 1:
		return fmt.Errorf("%s", msgs[0])
	}
	return fmt.Errorf("%d failures:\n  %s", len(msgs), strings.Join(msgs, "\n  "))
}

// failure words a failed entry for the command line: the reason, prefixed
// with the workload and field unless the reason names them already (the
// errors of podtemplate and writeback do).
func (e Entry) failure() string {
	msg := e.Reason
	if msg == "" {
		msg = "failed"
	}
	if e.Field != "" && !strings.Contains(msg, "field "+e.Field) {
		msg = "field " + e.Field + ": " + msg
	}
	if e.Target != nil && !strings.HasPrefix(msg, e.Target.String()) {
		msg = e.Target.String() + ": " + msg
	}
	return msg
}

// Count returns how many entries have the outcome.
func (r *Report) Count(o Outcome) int {
	n := 0
	for _, e := range r.Entries {
		if e.Outcome == o {
			n++
		}
	}
	return n
}

// Results renders the report as KRM function results: one per workload,
// info for injected and skipped ones, error for failures, then a warning
// for each of the entry's warnings, referring to the same resource.
func (r *Report) Results() framework.Results {
	var out framework.Results
	for _, w := range r.RunWarnings {
		out = append(out, &framework.Result{Severity: framework.Warning, Message: w})
	}
	for _, e := range r.Entries {
		res := e.result()
		res.Message = e.message()
		if e.Outcome == Failed {
			res.Severity = framework.Error
		}
		out = append(out, res)
		for _, w := range e.Warnings {
			warn := e.result()
			warn.Severity = framework.Warning
			warn.Message = w
			out = append(out, warn)
		}
	}
	return out
}

// result is an info result referring to the entry's resource, file and
// field.
func (e Entry) result() *framework.Result {
	res := &framework.Result{Severity: framework.Info}
	t := e.Target
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
	if e.Field != "" {
		res.Field = &framework.Field{Path: e.Field}
	}
	return res
}

func (e Entry) message() string {
	var s string
	switch e.Outcome {
	case Injected:
		s = "injected"
		if e.Revision != "" {
			s += " (revision " + e.Revision + ")"
		}
	case Skipped:
		s = "not injected"
	default:
		if e.Reason == "" {
			return "failed"
		}
		return e.Reason
	}
	if e.Reason != "" {
		s += ": " + e.Reason
	}
	return s
}

// Summary is one line for humans: "3 injected, 1 skipped, 0 failed".
func (r *Report) Summary() string {
	return fmt.Sprintf("%d injected, %d skipped, %d failed", r.Count(Injected), r.Count(Skipped), r.Count(Failed))
}

// Warnings returns every warning, prefixed with the workload it concerns.
func (r *Report) Warnings() []string {
	out := append([]string(nil), r.RunWarnings...)
	for _, e := range r.Entries {
		for _, w := range e.Warnings {
			if e.Target != nil && !strings.Contains(w, e.Target.Name) {
				w = e.Target.String() + ": " + w
			}
			out = append(out, w)
		}
	}
	return out
}

// Changed returns the top-level resources that injection edited.
func (r *Report) Changed() map[*yaml.RNode]bool {
	out := map[*yaml.RNode]bool{}
	for _, e := range r.Entries {
		if e.Changed && e.Target != nil {
			out[e.Target.Resource] = true
		}
	}
	return out
}
