package main

import (
	"fmt"
	"io"
	"runtime/debug"

	"github.com/spf13/cobra"
)

// streams are the command's standard streams, injectable for tests.
type streams struct {
	In       io.Reader
	Out, Err io.Writer
}

// lookupEnv reads the process environment; tests pass a fake.
type lookupEnv func(string) (string, bool)

// version is set at build time with -ldflags "-X main.version=...".
var version = ""

func newRootCommand(s streams, env lookupEnv) *cobra.Command {
	root := &cobra.Command{
		Use:   "inject-sidecar",
		Short: "Inject Istio sidecars into pod templates at render time",
		Long: `inject-sidecar injects Istio sidecars into pod templates while manifests are
rendered, deciding and rendering exactly as Istio's injection webhook would.

With no arguments it runs as a KRM function: it reads a ResourceList on stdin,
whose functionConfig is the injector configuration, and writes it back with
every pod template injected, plus one result per workload.`,
		Args:          cobra.NoArgs,
		SilenceUsage:  true,
		SilenceErrors: true,
		RunE: func(cmd *cobra.Command, _ []string) error {
			return runFunction(s, env)
		},
	}
	root.SetIn(s.In)
	root.SetOut(s.Out)
	root.SetErr(s.Err)
	root.AddCommand(newInjectCommand(s, env), newVersionCommand(s))
	root.AddCommand(newExplainCommand(s, env))
	root.AddCommand(newUninjectCommand(s, env), newCheckCommand(s, env))
	return root
}

func newVersionCommand(s streams) *cobra.Command {
	return &cobra.Command{
		Use:   "version",
		Short: "Print the version",
		Args:  cobra.NoArgs,
		RunE: func(*cobra.Command, []string) error {
			_, err := fmt.Fprintln(s.Out, buildVersion())
			return err
		},
	}
}

func buildVersion() string {
	if version != "" {
		return version
	}
	if info, ok := debug.ReadBuildInfo(); ok && info.Main.Version != "" && info.Main.Version != "(devel)" {
		return info.Main.Version
	}
	return "devel"
}
