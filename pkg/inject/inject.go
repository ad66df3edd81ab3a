// Package inject is the pipeline: it finds the pod templates in a set of
// resources, decides for each one as Istio's webhook would, renders the
// injector's templates, merges them into the pod and writes the result back
// into the resources, reporting on every workload.
package inject

import (
	"errors"
	"fmt"
	"maps"
	"regexp"
	"slices"
	"strconv"
	"strings"

	corev1 "k8s.io/api/core/v1"
	"sigs.k8s.io/kustomize/kyaml/yaml"

	"github.com/inject-sidecar/inject-sidecar/pkg/config"
	"github.com/inject-sidecar/inject-sidecar/pkg/decide"
	"github.com/inject-sidecar/inject-sidecar/pkg/manifest"
	"github.com/inject-sidecar/inject-sidecar/pkg/merge"
	"github.com/inject-sidecar/inject-sidecar/pkg/podtemplate"
	"github.com/inject-sidecar/inject-sidecar/pkg/render"
	"github.com/inject-sidecar/inject-sidecar/pkg/report"
	"github.com/inject-sidecar/inject-sidecar/pkg/uninject"
)

// Run injects every pod template in items that Istio's webhook would
// inject. Items are edited in place, and only when every workload
// succeeded: on error they are left exactly as they were. A panic in any
// stage is returned as an error, the items restored as for any error.
func Run(cfg *config.Config, items []*yaml.RNode) (rep *report.Report, err error) {
	rep = &report.Report{}
	defer func() {
		if v := recover(); v != nil {
			err = fmt.Errorf("internal error: %v", v)
			rep.Fail(nil, "", err)
		}
	}()
	targets, err := findTargets(cfg, items)
	if err != nil {
		rep.Fail(nil, "", err)
		return rep, err
	}
	p, err := startPipeline(cfg, items)
	if err != nil {
		rep.Fail(nil, "", err)
		return rep, err
	}
	// Configuration problems (ignored fields, selectors that never match)
	// are told once per run, not per workload.
	rep.RunWarnings = append(slices.Clone(cfg.Warnings), p.decider.Warnings()...)
	return rep, p.run(rep, targets)
}

// run injects the targets and writes them back, all or none, recording
// every workload in rep.
func (p *pipeline) run(rep *report.Report, targets []podtemplate.Target) error {
	err := p.runChunks(rep, targets, chunk) // on every core, a chunk at a time: see parallel.go
	// A template that does not parse fails the run as it did when every
	// template was parsed first, whether a workload used it or not; no
	// edit was written, as injectOne waited for the templates.
	if terr := p.templatesParsed(); terr != nil {
		*rep = report.Report{}
		rep.Fail(nil, "", terr)
		return terr
	}
	return err
}

// withhold reports the workloads that would have been injected as not
// injected: the run failed, so none of them was edited, and a result
// saying "injected" would contradict the unchanged output.
func withhold(rep *report.Report) {
	for i := range rep.Entries {
		e := &rep.Entries[i]
		if e.Outcome != report.Injected {
			continue
		}
		e.Outcome = report.Skipped
		why := "the run failed, so no resource was edited"
		if e.Reason != "" {
			why += " (it would be injected: " + e.Reason + ")"
		}
		e.Reason = why
	}
}

// pipeline holds what is prepared once per run: the decider and one
// template engine per revision, so templates are parsed once, not per pod.
type pipeline struct {
	cfg     *config.Config
	decider *decide.Decider
	engines map[string]*render.Engine
}

func newPipeline(cfg *config.Config, items []*yaml.RNode) (*pipeline, error) {
	p, err := startPipeline(cfg, items)
	if err != nil {
		return nil, err
	}
	if err := p.templatesParsed(); err != nil {
		return nil, err
	}
	return p, nil
}

// startPipeline is newPipeline without waiting for the templates to be
// parsed: each is parsed when a workload first needs it, and all of them
// in the background (render.Prepare). Whoever uses it calls
// templatesParsed before trusting a result; injectOne does.
func startPipeline(cfg *config.Config, items []*yaml.RNode) (*pipeline, error) {
	decider, err := newDecider(cfg, items)
	if err != nil {
		return nil, err
	}
	p := &pipeline{cfg: cfg, decider: decider, engines: map[string]*render.Engine{}}
	for _, rev := range slices.Sorted(maps.Keys(cfg.Injectors)) {
		eng, err := render.Prepare(cfg.Injectors[rev], cfg.Options)
		if err != nil {
			return nil, err // names the revision already
		}
		p.engines[rev] = eng
	}
	return p, nil
}

// templatesParsed waits for every revision's templates and returns the
// first parse error, revisions in name order.
func (p *pipeline) templatesParsed() error {
	for _, rev := range slices.Sorted(maps.Keys(p.engines)) {
		if err := p.engines[rev].Wait(); err != nil {
			return err // names the revision and template already
		}
	}
	return nil
}

// edit is an injection computed but not yet written back.
type edit struct {
	target        *podtemplate.Target
	before, after *corev1.Pod
}

// injectOne decides, renders and merges one pod template. It does not
// touch the resource; the returned edit does that later, and only once
// every template is known to parse.
func (p *pipeline) injectOne(t *podtemplate.Target) (report.Entry, *edit) {
	entry, e := p.computeOne(t)
	if e != nil {
		if err := p.templatesParsed(); err != nil {
			return report.Entry{Target: t, Outcome: report.Failed, Reason: err.Error()}, nil
		}
	}
	return entry, e
}

// computeOne is injectOne before the wait for the templates.
func (p *pipeline) computeOne(t *podtemplate.Target) (report.Entry, *edit) {
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
		entry.Warnings = append(entry.Warnings, unwantedWarnings(pod)...)
		return entry, nil
	}
	inj, eng := p.cfg.Injectors[d.Revision], p.engines[d.Revision]
	if inj == nil || eng == nil {
		return fail(fmt.Errorf("%s: revision %q selected, but no injector config for it was given", t, d.Revision))
	}
	// A pod injected before is checked as it was before that injection:
	// native sidecars may have moved its only container, istio-proxy.
	re, err := p.reinjectionBase(t, pod, inj, eng)
	if err != nil {
		return fail(fmt.Errorf("%s: %w", t, err))
	}
	entry.Warnings = append(entry.Warnings, re.warnings...)
	if re.current {
		entry.Outcome = report.Injected
		return entry, &edit{target: t, before: pod, after: pod}
	}
	base := re.base
	if len(base.Spec.Containers) == 0 {
		return fail(fmt.Errorf("%s: field %s: the pod template has no containers; Kubernetes requires at least one "+
			"and would reject the workload (add its containers, or set the pod label sidecar.istio.io/inject: \"false\")",
			t, t.Field(append(slices.Clone(t.SpecPath), "containers")...)))
	}
	final, err := p.injectPod(t, base, inj, eng)
	if err != nil {
		return fail(err)
	}
	entry.Warnings = append(entry.Warnings, p.record(t, pod, final, re)...)
	entry.Outcome = report.Injected
	return entry, &edit{target: t, before: pod, after: final}
}

// injectPod renders the injector's templates for base and merges them
// into it. Errors name the workload.
func (p *pipeline) injectPod(t *podtemplate.Target, base *corev1.Pod, inj *config.Injector, eng *render.Engine) (*corev1.Pod, error) {
	params := merge.Params{Injector: inj, Options: p.cfg.Options}
	stripped, err := merge.Strip(base, params)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", t, err)
	}
	if err := p.checkYAML(fmt.Sprintf("%s: annotation %s", t, proxyConfigAnnotation), stripped.Annotations[proxyConfigAnnotation]); err != nil {
		return nil, err
	}
	out, err := eng.Render(stripped, render.Workload{TypeMeta: t.TypeMeta, Name: t.Name, Namespace: t.Namespace})
	if err != nil {
		return nil, err
	}
	overlays := make([][]byte, len(out.Overlays))
	for i, o := range out.Overlays {
		if err := p.checkYAML(fmt.Sprintf("%s: output of template %q", t, o.Template), string(o.YAML)); err != nil {
			return nil, err
		}
		overlays[i] = o.YAML
	}
	params.ProxyConfig = out.ProxyConfig
	final, err := merge.Apply(base, overlays, params)
	if err != nil {
		if e := renderedYAMLError(t, out.Overlays, err); e != nil {
			return nil, e
		}
		return nil, fmt.Errorf("%s: %w", t, err)
	}
	if err := imagesKept(t, base, final); err != nil {
		return nil, err
	}
	return final, nil
}

// proxyConfigAnnotation holds YAML that rendering parses.
const proxyConfigAnnotation = "proxy.istio.io/config"

// checkYAML holds YAML text that a later stage parses (a pod's proxy
// config annotation, a template's output) to the input limits: the
// parsers expand aliases and nest without a configurable bound. Syntax
// errors are left to those stages.
func (p *pipeline) checkYAML(source, text string) error {
	if text == "" {
		return nil
	}
	o := p.cfg.Options
	lim := manifest.Limits{MaxInputSize: o.MaxInputSize, MaxDepth: o.MaxNestingDepth, MaxAliasExpansion: o.MaxAliasExpansion}
	if manifest.Bounded(text, lim) {
		return nil // within the limits by its bytes alone: no need to parse
	}
	if err := manifest.Check(source, []byte(text), lim); errors.Is(err, manifest.ErrLimit) {
		return err
	}
	return nil
}

// renderedYAMLError explains a merge failure caused by a template that
// rendered invalid YAML: which template, which line, and that line's text.
// It returns nil when every overlay parses. The line is the one the merge's
// parser (YAML 1.1, sigs.k8s.io/yaml) stopped at, which is the offending
// one; yaml.v3 names the start of the enclosing block instead.
func renderedYAMLError(t *podtemplate.Target, overlays []render.Overlay, mergeErr error) error {
	for _, o := range overlays {
		err := manifest.Check("rendered", o.YAML, manifest.Limits{})
		var me *manifest.Error
		if !errors.As(err, &me) || !me.Syntax {
			continue
		}
		line, problem := me.Line, me.Msg
		if m := yamlLineError.FindStringSubmatch(mergeErr.Error()); m != nil {
			n, _ := strconv.Atoi(m[1])
			line, problem = n, m[2]
			if strings.HasPrefix(problem, "did not find expected") {
				line++ // parser errors count lines from 0
			}
		}
		msg := fmt.Sprintf("%s: template %q rendered invalid YAML", t, o.Template)
		if lines := strings.Split(string(o.YAML), "\n"); line > 0 && line <= len(lines) {
			msg += fmt.Sprintf(" at line %d, %q", line, lines[line-1])
		}
		return fmt.Errorf("%s: %s; check the template's indentation and quoting there", msg, problem)
	}
	return nil
}

var yamlLineError = regexp.MustCompile(`yaml: line (\d+): (.*)$`)

// imagesKept refuses an injection that leaves a container without an
// image where it had one or where the templates added it: a value the
// templates read is missing (missing values render as empty, as in Istio),
// and the API server would reject the pod. A name that has an image in the
// other list is exempt: Istio's own spire template, with native sidecars,
// leaves an image-less istio-proxy entry beside the native one.
func imagesKept(t *podtemplate.Target, before, after *corev1.Pod) error {
	had := map[string]string{}
	for _, c := range append(slices.Clone(before.Spec.InitContainers), before.Spec.Containers...) {
		had[c.Name] = c.Image
	}
	imaged := map[string]bool{}
	for _, c := range append(slices.Clone(after.Spec.InitContainers), after.Spec.Containers...) {
		if strings.TrimSpace(c.Image) != "" {
			imaged[c.Name] = true
		}
	}
	for _, list := range []struct {
		field string
		cs    []corev1.Container
	}{{"initContainers", after.Spec.InitContainers}, {"containers", after.Spec.Containers}} {
		for _, c := range list.cs {
			if imaged[c.Name] {
				continue
			}
			if old, ok := had[c.Name]; ok && strings.TrimSpace(old) == "" {
				continue // the user's own, image-less before injection
			}
			return fmt.Errorf("%s: field %s: injection leaves container %q without an image; "+
				"the injector's templates probably read a value that is missing from the values or mesh config",
				t, t.Field(append(slices.Clone(t.SpecPath), list.field)...), c.Name)
		}
	}
	return nil
}

// apply writes every edit back. Should one fail, the resources already
// edited are restored, so nothing is left half-written.
func apply(edits []edit, rep *report.Report) error {
	w := &writer{}
	if err := w.write(edits); err != nil {
		return err // restored already
	}
	w.mark(rep)
	return nil
}

// findTargets finds the pod templates as the decision mode sees them. In
// webhook mode a CronJob's metadata is that of its pods, as the API
// server's webhook sees and edits them (a CronJob opting out on its pod
// template is not injected; Istio's labels land on the pods). In
// kube-inject mode it is the job template's, as istioctl has it.
func findTargets(cfg *config.Config, items []*yaml.RNode) ([]podtemplate.Target, error) {
	if cfg != nil && cfg.Options.DecisionMode == config.DecideLikeKubeInject {
		return podtemplate.Find(items)
	}
	return podtemplate.Find(items, podtemplate.PodMetadata())
}

// injectedTargets finds the pod templates with each CronJob's metadata
// where its injection is: on its pods' template (webhook mode), or on its
// job template (kube-inject mode) when only that carries Istio's status
// annotation.
func injectedTargets(items []*yaml.RNode) ([]podtemplate.Target, error) {
	targets, err := podtemplate.Find(items, podtemplate.PodMetadata())
	if err != nil {
		return nil, err
	}
	for i := range targets {
		t := &targets[i]
		if t.TypeMeta.Kind != "CronJob" {
			continue
		}
		if pod, err := t.Pod(); err != nil || uninject.Injected(pod) {
			continue // an error is reported when the target is read again
		}
		job := *t
		job.MetaPath = podtemplate.JobTemplateMetaPath()
		if pod, err := job.Pod(); err == nil && uninject.Injected(pod) {
			*t = job
		}
	}
	return targets, nil
}

// newDecider builds the run's Decider from the configuration, and the
// Namespace objects and Istio's MutatingWebhookConfigurations found in the
// --config files and the input (the input's win, being later). Inject and
// explain both use it, so that they decide alike.
func newDecider(cfg *config.Config, items []*yaml.RNode) (*decide.Decider, error) {
	if cfg == nil {
		return nil, fmt.Errorf("no configuration")
	}
	objs := append(append([]*yaml.RNode{}, cfg.ClusterObjects...), items...)
	var opts []decide.Option
	// istioctl kube-inject never looks at webhooks; neither does its mode.
	if cfg.Options.DecisionMode != config.DecideLikeKubeInject {
		hooks, err := decide.WebhooksIn(objs)
		if err != nil {
			return nil, err
		}
		opts = append(opts, decide.WithWebhooks(hooks))
	}
	return decide.New(cfg, namespacesIn(objs), opts...)
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
