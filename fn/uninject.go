package main

import (
	"bytes"
	"fmt"

	"github.com/spf13/cobra"
	"sigs.k8s.io/kustomize/kyaml/fn/framework"
	"sigs.k8s.io/kustomize/kyaml/yaml"

	"github.com/inject-sidecar/inject-sidecar/pkg/config"
	"github.com/inject-sidecar/inject-sidecar/pkg/inject"
	"github.com/inject-sidecar/inject-sidecar/pkg/manifest"
)

func newUninjectCommand(s streams, env lookupEnv) *cobra.Command {
	var o fileOptions
	var output string
	cmd := &cobra.Command{
		Use:   "uninject -f FILE|DIR|- [flags]",
		Short: "Remove what injection added from plain multi-document YAML",
		Long: `Reads manifests like inject and writes them back with every injected pod
template (one with a sidecar.istio.io/status annotation) as it was before
injection: injected containers, init containers, volumes and image pull
secrets removed, the user's own istio-proxy/istio-init declarations
restored from proxy.istio.io/overrides, rewritten probes and lifecycle hooks
restored from ISTIO_KUBE_APP_PROBERS, Prometheus annotations from
ISTIO_PROMETHEUS_ANNOTATIONS, and the status annotation removed.

Pods injected by inject-sidecar in webhook mode (the default) carry the
annotation inject-sidecar.dev/injected, which records everything else the
injection changed (labels and annotations the templates added, values they
overwrote): those pods come back exactly. Pods without it (injected by
Istio, or in kube-inject mode) lose only what Istio's annotations prove was
injected, and a warning names what may remain. Nothing is guessed.

Documents that carry no injection are written back byte for byte.
Uninject needs no injector configuration; the configuration flags are
accepted so that a command line can switch between inject and uninject,
and are checked when given.`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			return guarded(s, func(r *run, s streams) ([]byte, error) {
				docs, err := o.loadForUninject(s, env)
				if err != nil {
					return nil, err
				}
				manifest.KeepOriginals(docs) // before the edit: writing changed documents then needs no second parse
				rep, err := inject.Uninject(manifest.Nodes(docs))
				for _, w := range rep.Warnings() {
					fmt.Fprintln(s.Err, "warning:", w)
				}
				if err != nil {
					return nil, err
				}
				changed := rep.Changed()
				var buf bytes.Buffer
				if err := manifest.Write(&buf, docs, func(d *manifest.Document) bool { return changed[d.Node] }); err != nil {
					return nil, err
				}
				return buf.Bytes(), nil
			}, func(out []byte) error { return writeOutput(s.Out, output, out) })
		},
	}
	o.register(cmd)
	cmd.Flags().StringVarP(&output, "output", "o", "", "write to this file instead of standard output (replaced atomically)")
	return cmd
}

// loadForUninject reads the manifests; the configuration only when some
// configuration flag was given, to check it.
func (o *fileOptions) loadForUninject(s streams, env lookupEnv) ([]*manifest.Document, error) {
	if o.injectConfigFile != "" || o.valuesFile != "" || o.meshConfigFile != "" || o.operatorFile != "" ||
		o.revision != "" || len(o.configFiles) > 0 {
		docs, cfg, err := o.load(s, env)
		if err != nil {
			return nil, err
		}
		if m := cfg.Options.Mode; m != "" && m != config.ModeUninject {
			return nil, fmt.Errorf("the configuration sets mode %q; the uninject command uninjects: remove the setting or use the %s command", m, m)
		}
		return docs, nil
	}
	if len(o.files) == 0 {
		return nil, fmt.Errorf("no input: give -f FILE, -f DIR or -f - for standard input")
	}
	return readManifests(s.In, o.files, configLimits(config.Limits{}))
}

// functionMode reads the mode of a KRM function config: spec.mode of a
// SidecarInjector, data.mode of a ConfigMap; ModeInject when unset. It is
// read before the rest of the configuration because uninject needs none.
func functionMode(fc *yaml.RNode) (config.Mode, error) {
	if fc == nil || fc.IsNil() {
		return config.ModeInject, nil
	}
	var mode config.Mode
	switch kind := fc.GetKind(); kind {
	case config.SidecarInjectorKind:
		// A look at spec.mode alone: the whole configuration is read
		// and checked once, by config.Load, except for uninject, which
		// does not load it and checks it here.
		v, err := fc.Pipe(yaml.Lookup("spec", "mode"))
		if err != nil || v == nil || v.IsTaggedNull() {
			break
		}
		if v.YNode().Kind != yaml.ScalarNode {
			// Not a string: the full reading says so in its terms.
			if _, err := config.ParseSidecarInjector(fc); err != nil {
				return "", fmt.Errorf("function config: %w", err)
			}
		}
		m, err := config.ParseMode(v.YNode().Value, config.SidecarInjectorKind+".spec.mode")
		if err != nil {
			return "", fmt.Errorf("function config: %w", err)
		}
		if m == config.ModeUninject {
			if _, err := config.ParseSidecarInjector(fc); err != nil {
				return "", fmt.Errorf("function config: %w", err)
			}
		}
		mode = m
	case "ConfigMap":
		if v, ok := fc.GetDataMap()["mode"]; ok {
			m, err := config.ParseMode(v, fmt.Sprintf("function config: ConfigMap %s data.mode", fc.GetName()))
			if err != nil {
				return "", err
			}
			mode = m
		}
	}
	if mode == "" {
		mode = config.ModeInject
	}
	return mode, nil
}

// processUninject is the function's uninject mode: items are edited only
// when every workload could be uninjected.
func processUninject(rl *framework.ResourceList) error {
	rep, err := inject.Uninject(rl.Items)
	rl.Results = append(rl.Results, rep.Results()...)
	return err
}
