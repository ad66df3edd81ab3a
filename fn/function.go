package main

import (
	"bytes"
	"fmt"
	"strings"

	"sigs.k8s.io/kustomize/kyaml/fn/framework"
	"sigs.k8s.io/kustomize/kyaml/kio"

	"github.com/inject-sidecar/inject-sidecar/pkg/config"
	"github.com/inject-sidecar/inject-sidecar/pkg/inject"
	"github.com/inject-sidecar/inject-sidecar/pkg/manifest"
)

// runFunction is the KRM function mode, guarded: see guarded and
// processResourceList for what reaches standard output.
func runFunction(s streams, env lookupEnv) error {
	spooled := newSpool("")
	defer spooled.discard()
	return guarded(s, func(r *run, s streams) ([]byte, error) {
		return processResourceList(r, s, env, spooled)
	}, func(out []byte) error {
		if spooled.holds() {
			return spooled.commit(s.Out)
		}
		_, err := s.Out.Write(out)
		return err
	})
}

// processResourceList reads the ResourceList within the default limits,
// checks it (kyaml's reader has no limits of its own) and runs the
// processor over it. It returns the output to emit: the processed list,
// or, when processing failed, the items unchanged with error results. When
// the list cannot be read or written, it returns no output at all. A run
// that streams (see krmstream.go) writes its output to spooled and
// returns spooled.result().
func processResourceList(r *run, s streams, env lookupEnv, spooled *spool) ([]byte, error) {
	const source = "standard input"
	data, err := manifest.ReadAll(source, s.In, config.DefaultMaxInputSize)
	if err != nil {
		return nil, fmt.Errorf("reading the ResourceList: %w", err)
	}
	// Streamed, a batch of items in memory at a time, when the list's text
	// allows it and the run succeeds; otherwise, as one (see krmstream.go).
	if streamResourceList(r, env, data, spooled) {
		return spooled.result(), nil
	}
	spooled.reset()
	relaxGC(env)
	return processWholeList(r, env, data)
}

// processWholeList is processResourceList with the whole list in memory.
func processWholeList(r *run, env lookupEnv, data []byte) ([]byte, error) {
	docs, err := checkResourceList(data, manifest.Limits{})
	if err != nil {
		return nil, err
	}
	if err := checkListShape(docs); err != nil {
		return nil, err
	}
	docs = nil // kyaml parses its own nodes; let these go
	var out bytes.Buffer
	rw := &kio.ByteReadWriter{
		Reader:                bytes.NewReader(data),
		Writer:                &out,
		KeepReaderAnnotations: true,
		PreserveSeqIndent:     true,
	}
	p := &processor{env: env, run: r, input: data}
	err = executeFunction(p, rw) // framework.Execute, a list item at a time: see krmio.go
	if !p.processed || (err != nil && err != p.err) {
		// Not read, or not written whole: nothing to emit.
		return nil, err
	}
	return out.Bytes(), err
}

// processor injects a ResourceList. Results go into the list and an error
// is returned, never a framework.Results as error from a filter: that
// would empty the items and let orchestrators delete every resource.
type processor struct {
	env lookupEnv
	run *run
	// input is the ResourceList as read, checked again when the
	// configuration sets stricter reading limits than the defaults.
	input []byte
	// processed is set once Process has returned, with its error in err.
	processed bool
	err       error
}

func (p *processor) Process(rl *framework.ResourceList) error {
	p.err = p.process(rl)
	p.processed = true
	return p.err
}

func (p *processor) process(rl *framework.ResourceList) error {
	fail := func(err error) error {
		rl.Results = append(rl.Results, &framework.Result{Message: err.Error(), Severity: framework.Error})
		return err
	}
	// The mode first: uninject needs no injector configuration.
	mode, err := functionMode(rl.FunctionConfig)
	if err != nil {
		return fail(err)
	}
	if mode == config.ModeUninject {
		return processUninject(rl)
	}
	cfg, err := config.Load(config.Input{
		FunctionConfig: rl.FunctionConfig,
		Items:          rl.Items,
		Getenv:         p.env,
	})
	if err != nil {
		return fail(err)
	}
	p.run.setTimeout(cfg.Options.RunTimeout)
	lim := inputLimits(cfg.Options)
	if lim != (manifest.Limits{}).WithDefaults() {
		if _, err := checkResourceList(p.input, lim); err != nil {
			return fail(err)
		}
	}
	if raised := raisedLimits(lim); len(raised) > 0 {
		rl.Results = append(rl.Results, &framework.Result{Severity: framework.Warning, Message: fmt.Sprintf(
			"function config: %s: a KRM function reads its ResourceList before the functionConfig in it, "+
				"so reading used the defaults; raised limits apply to the inject command only",
			strings.Join(raised, ", "))})
	}
	if mode == config.ModeCheck {
		return processCheck(rl, cfg)
	}
	rep, err := inject.Run(cfg, rl.Items)
	rl.Results = append(rl.Results, rep.Results()...)
	return err
}
