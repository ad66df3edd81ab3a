package inject

import (
	"fmt"
	"slices"
	"strings"

	"sigs.k8s.io/kustomize/kyaml/yaml"

	"github.com/inject-sidecar/inject-sidecar/pkg/config"
	"github.com/inject-sidecar/inject-sidecar/pkg/decide"
	"github.com/inject-sidecar/inject-sidecar/pkg/podtemplate"
)

// Webhook sources an Explanation names.
const (
	WebhooksBuiltin = "builtin" // the table of Istio's chart, from the configured revisions and tags
	WebhooksInput   = "input"   // the input's MutatingWebhookConfigurations
	WebhooksNone    = "none"    // kube-inject mode reads no webhooks
)

// Explanation is what Explain found: one decision per workload.
type Explanation struct {
	// DecisionMode is the configuration's (webhook or kube-inject).
	DecisionMode config.DecisionMode
	// Webhooks says which webhooks were evaluated: WebhooksBuiltin,
	// WebhooksInput or WebhooksNone.
	Webhooks string
	// Workloads in input order.
	Workloads []WorkloadDecision
	// Warnings concern the configuration, not one workload: those found
	// while reading it and while preparing the decision.
	Warnings []string
}

// WorkloadDecision is the decision for one pod template, as Run takes it.
// Err, when set, does not repeat the workload's name, except for errors
// reading the pod template, which name the field at fault.
type WorkloadDecision struct {
	Target *podtemplate.Target
	decide.Decision
}

// Explain decides for every pod template in items exactly as Run does
// (the same Decider, fed the same objects), without rendering a template
// or touching items. A workload whose decision fails, or whose pod
// template cannot be read, has Err set; Run fails on it too. Explain itself
// fails only when Run would fail before deciding anything: the pod
// templates cannot be found or the configuration cannot decide. It cannot
// foresee errors of rendering, which happen after the decision.
func Explain(cfg *config.Config, items []*yaml.RNode) (*Explanation, error) {
	targets, err := findTargets(cfg, items)
	if err != nil {
		return nil, err
	}
	decider, err := newDecider(cfg, items)
	if err != nil {
		return nil, err
	}
	ex := &Explanation{
		DecisionMode: cfg.Options.DecisionMode,
		Webhooks:     WebhooksBuiltin,
		Warnings:     append(slices.Clone(cfg.Warnings), decider.Warnings()...),
	}
	switch {
	case cfg.Options.DecisionMode == config.DecideLikeKubeInject:
		ex.Webhooks = WebhooksNone
	case decider.WebhooksFromInput():
		ex.Webhooks = WebhooksInput
	}
	for i := range targets {
		t := &targets[i]
		w := WorkloadDecision{Target: t}
		pod, err := t.Pod()
		if err != nil {
			w.Namespace, w.Reason, w.Err = t.Namespace, "pod template cannot be read", err
		} else {
			w.Decision = decider.Decide(decide.PodOf(t, pod))
		}
		ex.Workloads = append(ex.Workloads, w)
	}
	return ex, nil
}

// Err returns nil, or one error listing the workloads Run would fail on,
// each named as Run names it.
func (e *Explanation) Err() error {
	var errs []error
	for _, w := range e.Workloads {
		switch {
		case w.Err == nil:
		case w.Target != nil && !strings.HasPrefix(w.Err.Error(), w.Target.String()):
			errs = append(errs, fmt.Errorf("%s: %w", w.Target, w.Err))
		default:
			errs = append(errs, w.Err)
		}
	}
	switch len(errs) {
	case 0:
		return nil
	case 1:
		return errs[0]
	}
	msgs := make([]string, len(errs))
	for i, err := range errs {
		msgs[i] = err.Error()
	}
	// One line per workload, like report.Err.
	return fmt.Errorf("%d workloads cannot be decided:\n  %s", len(errs), strings.Join(msgs, "\n  "))
}
