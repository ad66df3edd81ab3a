package inject

import (
	"fmt"
	"slices"

	"sigs.k8s.io/kustomize/kyaml/yaml"

	"github.com/inject-sidecar/inject-sidecar/pkg/config"
	"github.com/inject-sidecar/inject-sidecar/pkg/report"
)

// Injector is Run for an input processed in batches, which need not all
// be in memory at once: New prepares what depends on the whole input
// (the Namespaces and webhooks that decide, the templates, parsed in the
// background and waited for by the first batch), then
// Run injects one batch. Batches run one after the other; each is all or
// nothing on its own.
type Injector struct {
	p *pipeline
}

// New prepares the injection of an input whose Namespace and
// MutatingWebhookConfiguration objects are among objects (other objects
// are ignored): with Run over batches, the input is decided exactly as
// one Run over all of it.
func New(cfg *config.Config, objects []*yaml.RNode) (*Injector, error) {
	p, err := startPipeline(cfg, objects)
	if err != nil {
		return nil, err
	}
	return &Injector{p: p}, nil
}

// RunWarnings are what Run records in Report.RunWarnings: warnings about
// the configuration, to be told once for the whole input, where a batch's
// report does not repeat them.
func (in *Injector) RunWarnings() []string {
	return append(slices.Clone(in.p.cfg.Warnings), in.p.decider.Warnings()...)
}

// Run injects one batch, as Run does. first is the position in the whole
// input of the batch's first item, so that messages number resources as
// one Run would.
func (in *Injector) Run(items []*yaml.RNode, first int) (rep *report.Report, err error) {
	rep = &report.Report{}
	defer func() {
		if v := recover(); v != nil {
			err = fmt.Errorf("internal error: %v", v)
			rep.Fail(nil, "", err)
		}
	}()
	targets, err := findTargets(in.p.cfg, items)
	if err != nil {
		rep.Fail(nil, "", err)
		return rep, err
	}
	for i := range targets {
		targets[i].Index += first
	}
	return rep, in.p.run(rep, targets)
}
