// Command inject-sidecar injects Istio sidecars into pod templates at render
// time. With no arguments it is a KRM function (ResourceList on stdin and
// stdout); the inject command takes plain multi-document YAML.
package main

import (
	"fmt"
	"os"
)

func main() {
	tuneGC(os.Args[1:], os.LookupEnv)
	cmd := newRootCommand(streams{In: os.Stdin, Out: os.Stdout, Err: os.Stderr}, os.LookupEnv)
	if err := cmd.Execute(); err != nil {
		fmt.Fprintf(os.Stderr, "inject-sidecar: %v\n", err)
		os.Exit(1)
	}
}
