package main

import (
	"sigs.k8s.io/kustomize/kyaml/fn/framework"
	"sigs.k8s.io/kustomize/kyaml/kio"

	"github.com/inject-sidecar/inject-sidecar/pkg/config"
	"github.com/inject-sidecar/inject-sidecar/pkg/inject"
)

// runFunction is the KRM function mode.
func runFunction(s streams, env lookupEnv) error {
	rw := &kio.ByteReadWriter{
		Reader:                s.In,
		Writer:                s.Out,
		KeepReaderAnnotations: true,
		PreserveSeqIndent:     true,
	}
	return framework.Execute(processor{env: env}, rw)
}

// processor injects a ResourceList. Results go into the list and an error
// is returned, never a framework.Results as error from a filter: that
// would empty the items and let orchestrators delete every resource.
type processor struct{ env lookupEnv }

func (p processor) Process(rl *framework.ResourceList) error {
	cfg, err := config.Load(config.Input{
		FunctionConfig: rl.FunctionConfig,
		Items:          rl.Items,
		Getenv:         p.env,
	})
	if err != nil {
		rl.Results = append(rl.Results, &framework.Result{Message: err.Error(), Severity: framework.Error})
		return err
	}
	rep, err := inject.Run(cfg, rl.Items)
	rl.Results = append(rl.Results, rep.Results()...)
	return err
}
