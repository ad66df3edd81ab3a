package inject

import (
	"fmt"
	"strings"

	corev1 "k8s.io/api/core/v1"
	"sigs.k8s.io/kustomize/kyaml/yaml"

	"github.com/inject-sidecar/inject-sidecar/pkg/config"
	"github.com/inject-sidecar/inject-sidecar/pkg/podtemplate"
	"github.com/inject-sidecar/inject-sidecar/pkg/render"
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
	var sources [][]uninject.Source // by edit
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
		sources = append(sources, res.Sources)
	}
	if err := rep.Err(); err != nil {
		return rep, err
	}
	if err := apply(edits, rep); err != nil {
		rep.Fail(nil, "", err)
		return rep, err
	}
	for i, e := range edits {
		if w := restoreSources(e, sources[i]); w != "" {
			for j := range rep.Entries {
				if rep.Entries[j].Target == e.target {
					rep.Entries[j].Warnings = append(rep.Entries[j].Warnings, w)
				}
			}
		}
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

// reinjection is where injecting a pod starts from.
type reinjection struct {
	// base is the pod to inject: the pod itself, or the pod as it was
	// before its previous injection.
	base *corev1.Pod
	// current is set when the pod stays as it is: it is exactly what
	// injecting it again would give (kube-inject mode; see currentInjection).
	current bool
	// previous is what uninjecting the pod found, when base is that.
	previous *uninject.Result
	warnings []string
}

// reinjectionBase returns the pod that injection starts from. A pod
// injected before is uninjected first when that is exact (it carries this
// project's record) or when the run keeps records (webhook mode): its
// re-injection then equals injecting the original, whatever changed in
// between (configuration, revision, native sidecars). In kube-inject
// mode, without a record, Istio's own re-injection applies (merge.Strip
// and merge.Apply on the injected pod), which Istio's corpus pins, unless
// the pod is current. It is written back over the injected pod in one
// step, so that only what changed is touched.
func (p *pipeline) reinjectionBase(t *podtemplate.Target, pod *corev1.Pod, inj *config.Injector, eng *render.Engine) (reinjection, error) {
	if !uninject.Injected(pod) {
		return reinjection{base: pod}, nil
	}
	if p.cfg.Options.DecisionMode == config.DecideLikeKubeInject && !uninject.Recorded(pod) {
		return reinjection{base: pod, current: p.currentInjection(t, pod, inj, eng)}, nil
	}
	orig, res, err := uninject.Pod(pod)
	if err != nil {
		return reinjection{}, err
	}
	re := reinjection{base: orig, previous: &res}
	for _, w := range res.Warnings {
		re.warnings = append(re.warnings, "re-injection: "+w)
	}
	return re, nil
}

// currentInjection reports whether pod, injected without a record, is
// exactly what injecting it as it was before would give now: the pod
// with only what Istio's own annotations prove taken out (see
// uninject.Pod), rendered and merged again with this configuration. Such
// a pod is proven current, and stays as it is. Istio instead merges the
// templates into the injected pod again, which is not always a fixed
// point: a second istio-proxy that a template adds (spire), or a user's
// only container moved among the init containers, make it change or fail
// on every run. A pod that is not proven current (another configuration
// injected it, say) is re-injected as Istio does.
func (p *pipeline) currentInjection(t *podtemplate.Target, pod *corev1.Pod, inj *config.Injector, eng *render.Engine) bool {
	orig, res, err := uninject.Pod(pod)
	if err != nil || !res.Injected {
		return false
	}
	again, err := p.injectPod(t, orig, inj, eng)
	return err == nil && uninject.Same(again, pod)
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
func (p *pipeline) record(t *podtemplate.Target, pod, final *corev1.Pod, re reinjection) []string {
	if p.cfg.Options.DecisionMode == config.DecideLikeKubeInject {
		return nil
	}
	// How the user wrote what uninject would spell otherwise: read from
	// the nodes on a first injection; on a re-injection the nodes are the
	// injected ones, and the previous record holds the original's.
	var sources []uninject.Source
	switch {
	case re.previous != nil:
		sources = uninject.Carry(re.previous.Sources, re.base, final)
	case !uninject.Injected(pod):
		meta, spec := templateNodes(t)
		sources = uninject.Sources(meta, spec, pod, final)
	}
	value, err := uninject.Record(final, re.base, sources)
	if err != nil {
		return []string{fmt.Sprintf("no %s record written, so uninject can only undo what Istio's annotations prove: %v", uninject.Annotation, err)}
	}
	if final.Annotations == nil {
		final.Annotations = map[string]string{}
	}
	final.Annotations[uninject.Annotation] = value
	return nil
}

// templateNodes are the nodes of t's pod metadata and spec, nil where
// there is none.
func templateNodes(t *podtemplate.Target) (meta, spec *yaml.Node) {
	resolve := func(n *yaml.Node) *yaml.Node {
		for depth := 0; n != nil && depth < 100; depth++ {
			switch {
			case n.Kind == yaml.AliasNode:
				n = n.Alias
			case n.Kind == yaml.DocumentNode && len(n.Content) == 1:
				n = n.Content[0]
			default:
				return n
			}
		}
		return nil
	}
	at := func(path []string) *yaml.Node {
		n := resolve(t.Object.YNode())
		for _, key := range path {
			if n == nil || n.Kind != yaml.MappingNode {
				return nil
			}
			var next *yaml.Node
			for i := 0; i+1 < len(n.Content); i += 2 {
				if n.Content[i].Value == key {
					next = n.Content[i+1]
					break
				}
			}
			n = resolve(next)
		}
		return n
	}
	return at(t.MetaPath), at(t.SpecPath)
}

// restoreSources writes back, after uninject, how the user wrote what
// the typed pod cannot spell (the record's sources), and keeps it only
// when the pod still reads as the uninjected one; a resource with
// anchors or aliases is left as it is. It returns a warning when the
// sources were not kept.
func restoreSources(e edit, sources []uninject.Source) string {
	t := e.target
	if len(sources) == 0 || t.Object == nil || shared([]*yaml.RNode{t.Resource}) {
		return ""
	}
	saved := t.Object.Copy()
	meta, spec := templateNodes(t)
	if uninject.RestoreSources(meta, spec, sources) == 0 {
		return ""
	}
	if got, err := t.Pod(); err == nil && uninject.Same(got, e.after) {
		return ""
	}
	*t.Object.YNode() = *saved.YNode()
	return fmt.Sprintf("%s: the spelling %s records for some values no longer reads as they do; they are written in the default style",
		t, uninject.Annotation)
}
