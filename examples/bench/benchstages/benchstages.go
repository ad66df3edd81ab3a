// Package benchstages prepares the inputs of every stage of the pipeline
// for the per-stage benchmarks: generated workloads, carried through find,
// decide, strip, render and merge the way pkg/inject does, so that each
// stage's benchmark starts from its real input and measures nothing else.
// It is for benchmarks only; pkg/inject remains the pipeline.
package benchstages

import (
	"bytes"
	"fmt"
	"maps"
	"os"
	"slices"
	"testing"

	corev1 "k8s.io/api/core/v1"
	"sigs.k8s.io/kustomize/kyaml/yaml"

	"github.com/inject-sidecar/inject-sidecar/examples/bench/workloadgen"
	"github.com/inject-sidecar/inject-sidecar/pkg/config"
	"github.com/inject-sidecar/inject-sidecar/pkg/decide"
	"github.com/inject-sidecar/inject-sidecar/pkg/manifest"
	"github.com/inject-sidecar/inject-sidecar/pkg/merge"
	"github.com/inject-sidecar/inject-sidecar/pkg/podtemplate"
	"github.com/inject-sidecar/inject-sidecar/pkg/render"
	"github.com/inject-sidecar/inject-sidecar/pkg/writeback"
)

// Workload is one pod template and what every stage made of it.
type Workload struct {
	Target   *podtemplate.Target
	Pod      *corev1.Pod // as read from the resource
	Decision decide.Decision
	// The rest is set for injected workloads only.
	Stripped *corev1.Pod
	Rendered *render.Output
	Overlays [][]byte
	Params   merge.Params
	Final    *corev1.Pod
}

// Fixture is a generated input carried through the stages.
type Fixture struct {
	// Input is the generated YAML; Docs and Items its parsed documents.
	Input []byte
	Docs  []*manifest.Document
	Items []*yaml.RNode
	// Config is Istio's configuration (or the quickstart's: see Warning).
	Config  *config.Config
	Decider *decide.Decider
	Engine  *render.Engine
	// Workloads are all pod templates, in input order; Injected those the
	// decider injects.
	Workloads []*Workload
	Injected  []*Workload
	// Warning is set when Istio's configuration was absent: print it.
	Warning string
}

// Load generates n workloads and prepares every stage's input, reading
// the configuration relative to dir (any folder of the repository).
func Load(dir string, n int) (*Fixture, error) {
	cfg, warning, err := workloadgen.LoadConfig(dir)
	if err != nil {
		return nil, err
	}
	var buf bytes.Buffer
	if _, err := workloadgen.Generate(&buf, workloadgen.Options{Workloads: n}); err != nil {
		return nil, err
	}
	f := &Fixture{Input: buf.Bytes(), Config: cfg, Warning: warning}
	if f.Docs, err = manifest.Split("generated", f.Input); err != nil {
		return nil, err
	}
	f.Items = manifest.Nodes(f.Docs)
	if f.Decider, err = NewDecider(cfg, f.Items); err != nil {
		return nil, err
	}
	rev := cfg.Options.Revision
	inj := cfg.Injectors[rev]
	if inj == nil {
		return nil, fmt.Errorf("no injector for revision %q", rev)
	}
	if f.Engine, err = render.New(inj, cfg.Options); err != nil {
		return nil, err
	}
	var opts []podtemplate.Option
	if cfg.Options.DecisionMode != config.DecideLikeKubeInject {
		opts = append(opts, podtemplate.PodMetadata()) // as the pipeline finds them
	}
	targets, err := podtemplate.Find(f.Items, opts...)
	if err != nil {
		return nil, err
	}
	for i := range targets {
		w := &Workload{Target: &targets[i]}
		if w.Pod, err = w.Target.Pod(); err != nil {
			return nil, err
		}
		w.Decision = f.Decider.Decide(decide.PodOf(w.Target, w.Pod))
		if w.Decision.Err != nil {
			return nil, w.Decision.Err
		}
		f.Workloads = append(f.Workloads, w)
		if !w.Decision.Inject {
			continue
		}
		if w.Decision.Revision != rev {
			return nil, fmt.Errorf("%s: revision %q, only %q is prepared", w.Target, w.Decision.Revision, rev)
		}
		w.Params = merge.Params{Injector: inj, Options: cfg.Options}
		if w.Stripped, err = merge.Strip(w.Pod, w.Params); err != nil {
			return nil, err
		}
		t := w.Target
		if w.Rendered, err = f.Engine.Render(w.Stripped, render.Workload{TypeMeta: t.TypeMeta, Name: t.Name, Namespace: t.Namespace}); err != nil {
			return nil, err
		}
		for _, o := range w.Rendered.Overlays {
			w.Overlays = append(w.Overlays, o.YAML)
		}
		w.Params.ProxyConfig = w.Rendered.ProxyConfig
		if w.Final, err = merge.Apply(w.Pod, w.Overlays, w.Params); err != nil {
			return nil, err
		}
		f.Injected = append(f.Injected, w)
	}
	if len(f.Injected) == 0 {
		return nil, fmt.Errorf("none of the %d generated workloads is injected", n)
	}
	return f, nil
}

// NewDecider builds a decider the way pkg/inject does: the input's
// Namespaces and webhooks, unless decisions follow kube-inject.
func NewDecider(cfg *config.Config, items []*yaml.RNode) (*decide.Decider, error) {
	objs := append(slices.Clone(cfg.ClusterObjects), items...)
	var opts []decide.Option
	if cfg.Options.DecisionMode != config.DecideLikeKubeInject {
		hooks, err := decide.WebhooksIn(objs)
		if err != nil {
			return nil, err
		}
		opts = append(opts, decide.WithWebhooks(hooks))
	}
	namespaces := map[string]config.Namespace{}
	for _, n := range objs {
		if n.GetKind() == "Namespace" && n.GetApiVersion() == "v1" {
			namespaces[n.GetName()] = config.Namespace{Labels: maps.Clone(n.GetLabels()), Annotations: maps.Clone(n.GetAnnotations())}
		}
	}
	return decide.New(cfg, namespaces, opts...)
}

// Writable returns a copy of w's resource and a target pointing into it,
// for a benchmark of a stage that edits the resource in place.
func (w *Workload) Writable() (*podtemplate.Target, error) {
	t := *w.Target
	t.Resource = w.Target.Resource.Copy()
	if w.Target.Object == w.Target.Resource {
		t.Object = t.Resource
		return &t, nil
	}
	return nil, fmt.Errorf("%s: only top-level workloads are generated", w.Target)
}

// WriteBack writes every injected workload back into the fixture's own
// documents, once, and returns the documents it changed: the input of the
// write stage.
func (f *Fixture) WriteBack() (map[*manifest.Document]bool, error) {
	byNode := map[*yaml.RNode]*manifest.Document{}
	for _, d := range f.Docs {
		if d.Node != nil {
			byNode[d.Node] = d
		}
	}
	changed := map[*manifest.Document]bool{}
	for _, w := range f.Injected {
		c, err := writeback.Pod(w.Target, w.Pod, w.Final)
		if err != nil {
			return nil, err
		}
		if c {
			changed[byNode[w.Target.Resource]] = true
		}
	}
	return changed, nil
}

// ForBenchmark loads a fixture of n workloads for a benchmark run from
// the current folder, failing it on error and printing loudly when
// Istio's configuration is absent.
func ForBenchmark(tb testing.TB, n int) *Fixture {
	tb.Helper()
	f, err := Load(".", n)
	if err != nil {
		tb.Fatal(err)
	}
	if f.Warning != "" {
		fmt.Fprintln(os.Stderr, f.Warning)
	}
	return f
}
