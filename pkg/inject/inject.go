// Package inject is the pipeline: it finds the pod templates in a set of
// resources, decides for each one as Istio's webhook would, renders the
// injector's templates, merges them into the pod and writes the result back
// into the resources, reporting on every workload.
package inject

import (
	"fmt"

	corev1 "k8s.io/api/core/v1"
	"sigs.k8s.io/kustomize/kyaml/yaml"

	"github.com/inject-sidecar/inject-sidecar/pkg/config"
	"github.com/inject-sidecar/inject-sidecar/pkg/decide"
	"github.com/inject-sidecar/inject-sidecar/pkg/merge"
	"github.com/inject-sidecar/inject-sidecar/pkg/podtemplate"
	"github.com/inject-sidecar/inject-sidecar/pkg/render"
	"github.com/inject-sidecar/inject-sidecar/pkg/report"
	"github.com/inject-sidecar/inject-sidecar/pkg/writeback"
)

// Run injects every pod template in items that Istio's webhook would
// inject. Items are edited in place, and only when every workload
// succeeded: on error they are left exactly as they were.
func Run(cfg *config.Config, items []*yaml.RNode) (*report.Report, error) {
	rep := &report.Report{}
	targets, err := podtemplate.Find(items)
	if err != nil {
		rep.Fail(nil, "", err)
		return rep, err
	}
	p, err := newPipeline(cfg, items)
	if err != nil {
		rep.Fail(nil, "", err)
		return rep, err
	}
	var edits []edit
	for i := range targets {
		entry, e := p.injectOne(&targets[i])
		rep.Add(entry)
		if e != nil {
			edits = append(edits, *e)
		}
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

// pipeline holds what is prepared once per run: the decider and one
// template engine per revision, so templates are parsed once, not per pod.
type pipeline struct {
	cfg     *config.Config
	decider *decide.Decider
	engines map[string]*render.Engine
}

func newPipeline(cfg *config.Config, items []*yaml.RNode) (*pipeline, error) {
	decider, err := decide.New(cfg, namespacesIn(items))
	if err != nil {
		return nil, err
	}
	p := &pipeline{cfg: cfg, decider: decider, engines: map[string]*render.Engine{}}
	for rev, inj := range cfg.Injectors {
		eng, err := render.New(inj, cfg.Options)
		if err != nil {
			return nil, err // names the revision and template already
		}
		p.engines[rev] = eng
	}
	return p, nil
}

// edit is an injection computed but not yet written back.
type edit struct {
	target        *podtemplate.Target
	before, after *corev1.Pod
}

// injectOne decides, renders and merges one pod template. It does not
// touch the resource; the returned edit does that later.
func (p *pipeline) injectOne(t *podtemplate.Target) (report.Entry, *edit) {
	fail := func(err error) (report.Entry, *edit) {
		return report.Entry{Target: t, Outcome: report.Failed, Reason: err.Error()}, nil
	}
	pod, err := t.Pod()
	if err != nil {
		return fail(err)
	}
	d := p.decider.Decide(decide.PodOf(t, pod))
	entry := report.Entry{Target: t, Revision: d.Revision, Reason: d.Reason, Warnings: d.Warnings}
	if d.Err != nil {
		return fail(fmt.Errorf("%s: %w", t, d.Err))
	}
	if !d.Inject {
		entry.Outcome = report.Skipped
		return entry, nil
	}
	inj, eng := p.cfg.Injectors[d.Revision], p.engines[d.Revision]
	if inj == nil || eng == nil {
		return fail(fmt.Errorf("%s: revision %q selected, but no injector config for it was given", t, d.Revision))
	}
	params := merge.Params{Injector: inj, Options: p.cfg.Options}
	stripped, err := merge.Strip(pod, params)
	if err != nil {
		return fail(fmt.Errorf("%s: %w", t, err))
	}
	out, err := eng.Render(stripped, render.Workload{TypeMeta: t.TypeMeta, Name: t.Name, Namespace: t.Namespace})
	if err != nil {
		return fail(err)
	}
	overlays := make([][]byte, len(out.Overlays))
	for i, o := range out.Overlays {
		overlays[i] = o.YAML
	}
	params.ProxyConfig = out.ProxyConfig
	final, err := merge.Apply(pod, overlays, params)
	if err != nil {
		return fail(fmt.Errorf("%s: %w", t, err))
	}
	entry.Outcome = report.Injected
	return entry, &edit{target: t, before: pod, after: final}
}

// apply writes every edit back. Should one fail, the resources already
// edited are restored, so nothing is left half-written.
func apply(edits []edit, rep *report.Report) error {
	saved := map[*yaml.RNode]yaml.Node{}
	for _, e := range edits {
		if _, ok := saved[e.target.Resource]; !ok {
			saved[e.target.Resource] = *e.target.Resource.Copy().YNode()
		}
	}
	changed := map[*podtemplate.Target]bool{}
	for _, e := range edits {
		c, err := writeback.Pod(e.target, e.before, e.after)
		if err != nil {
			for n, orig := range saved {
				*n.YNode() = orig
			}
			return err
		}
		changed[e.target] = c
	}
	for i := range rep.Entries {
		if t := rep.Entries[i].Target; t != nil && changed[t] {
			rep.Entries[i].Changed = true
		}
	}
	return nil
}

// namespacesIn collects the Namespace objects of the input: their labels
// decide, like the API server's webhook selectors, which pods are injected.
func namespacesIn(items []*yaml.RNode) map[string]config.Namespace {
	out := map[string]config.Namespace{}
	for _, n := range items {
		if n.GetKind() != "Namespace" || n.GetApiVersion() != "v1" {
			continue
		}
		out[n.GetName()] = config.Namespace{Labels: n.GetLabels(), Annotations: n.GetAnnotations()}
	}
	return out
}
