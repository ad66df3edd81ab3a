package inject

import (
	"fmt"
	"strings"

	corev1 "k8s.io/api/core/v1"
	"sigs.k8s.io/kustomize/kyaml/yaml"

	"github.com/inject-sidecar/inject-sidecar/pkg/config"
	"github.com/inject-sidecar/inject-sidecar/pkg/report"
	"github.com/inject-sidecar/inject-sidecar/pkg/uninject"
)

// Uninjected is the outcome of a workload whose injection Uninject took
// out. Its report message is the entry's Reason.
const Uninjected report.Outcome = "uninjected"

// Uninject takes the injection out of every pod template that carries one
// (sidecar.istio.io/status), exactly when the pod carries this project's
// record, else as far as Istio's annotations prove it (each such workload
// gets a warning naming what may remain). Pod templates that are not
// injected are left alone. Like Run, items are edited only when every
// workload succeeded.
func Uninject(items []*yaml.RNode) (*report.Report, error) {
	rep := &report.Report{}
	targets, err := injectedTargets(items)
	if err != nil {
		rep.Fail(nil, "", err)
		return rep, err
	}
	var edits []edit
	for i := range targets {
		t := &targets[i]
		pod, err := t.Pod()
		if err != nil {
			rep.Add(report.Entry{Target: t, Outcome: report.Failed, Reason: err.Error()})
			continue
		}
		orig, res, err := uninject.Pod(pod)
		if err != nil {
			rep.Add(report.Entry{Target: t, Outcome: report.Failed, Reason: fmt.Sprintf("%s: %v", t, err)})
			continue
		}
		entry := report.Entry{Target: t, Revision: res.Revision}
		for _, w := range res.Warnings {
			// Named here: a warning about container "web" of Deployment
			// "web" would otherwise go unnamed.
			entry.Warnings = append(entry.Warnings, t.String()+": "+w)
		}
		if !res.Injected {
			entry.Outcome, entry.Reason = report.Skipped, "no sidecar.istio.io/status annotation"
			rep.Add(entry)
			continue
		}
		entry.Outcome, entry.Reason = Uninjected, uninjectSummary(res)
		rep.Add(entry)
		edits = append(edits, edit{target: t, before: pod, after: orig})
	}
	if err := rep.Err(); err != nil {
		return rep, err
	}
	if err := apply(edits, rep); err != nil {
		rep.Fail(nil, "", err)
		return rep, err
	}
	return rep, nil
}

// uninjectSummary words what Pod did, for the report.
func uninjectSummary(res uninject.Result) string {
	var b strings.Builder
	b.WriteString("uninjected")
	if res.Revision != "" {
		fmt.Fprintf(&b, " (revision %s)", res.Revision)
	}
	if res.Recorded {
		fmt.Fprintf(&b, ", exactly, from %s", uninject.Annotation)
	} else {
		fmt.Fprintf(&b, ", as far as Istio's annotations prove (no %s record)", uninject.Annotation)
	}
	if len(res.Removed) > 0 {
		b.WriteString(": removed " + strings.Join(res.Removed, ", "))
	}
	if len(res.Restored) > 0 {
		b.WriteString("; restored " + strings.Join(res.Restored, ", "))
	}
	return b.String()
}

// reinjectionBase returns the pod that injection starts from. A pod
// injected before is uninjected first when that is exact (it carries this
// project's record) or when the run keeps records (webhook mode): its
// re-injection then equals injecting the original, whatever changed in
// between (configuration, revision, native sidecars). In kube-inject
// mode, without a record, Istio's own re-injection applies (merge.Strip
// and merge.Apply on the injected pod), which Istio's corpus pins. It is
// written back over the injected pod in one step, so that only what
// changed is touched.
func (p *pipeline) reinjectionBase(pod *corev1.Pod) (base *corev1.Pod, warnings []string, err error) {
	if !uninject.Injected(pod) {
		return pod, nil, nil
	}
	if p.cfg.Options.DecisionMode == config.DecideLikeKubeInject && !uninject.Recorded(pod) {
		return pod, nil, nil
	}
	orig, res, err := uninject.Pod(pod)
	if err != nil {
		return nil, nil, err
	}
	for _, w := range res.Warnings {
		warnings = append(warnings, "re-injection: "+w)
	}
	return orig, warnings, nil
}

// unwantedPrefix starts the warning for an injected pod that the
// decision no longer injects.
const unwantedPrefix = "carries an injection"

// unwantedWarnings warns about a pod that carries an injection the
// decision no longer wants: like Istio's webhook, inject leaves it as it
// is, which is rarely what a re-render means.
func unwantedWarnings(pod *corev1.Pod) []string {
	if !uninject.Injected(pod) {
		return nil
	}
	return []string{unwantedPrefix + " that the decision no longer makes; it is left as it is: " +
		"remove it with the uninject command (check reports it as unwanted)"}
}

// record annotates the injected pod with what uninjecting it needs beyond
// Istio's own annotations (webhook mode only: kube-inject mode reproduces
// istioctl kube-inject's output and adds nothing). When no exact record
// can be made, none is written and a warning says so: uninject then does
// only what Istio's annotations prove, rather than restore wrongly.
func (p *pipeline) record(final, base *corev1.Pod) []string {
	if p.cfg.Options.DecisionMode == config.DecideLikeKubeInject {
		return nil
	}
	value, err := uninject.Record(final, base)
	if err != nil {
		return []string{fmt.Sprintf("no %s record written, so uninject can only undo what Istio's annotations prove: %v", uninject.Annotation, err)}
	}
	if final.Annotations == nil {
		final.Annotations = map[string]string{}
	}
	final.Annotations[uninject.Annotation] = value
	return nil
}
