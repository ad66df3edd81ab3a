package main

import (
	"bytes"
	"encoding/json"
	"fmt"
	"io"
	"strings"
	"text/tabwriter"

	"github.com/spf13/cobra"
	"sigs.k8s.io/kustomize/kyaml/fn/framework"
	"sigs.k8s.io/kustomize/kyaml/yaml"

	"github.com/inject-sidecar/inject-sidecar/pkg/config"
	"github.com/inject-sidecar/inject-sidecar/pkg/inject"
	"github.com/inject-sidecar/inject-sidecar/pkg/manifest"
)

func newCheckCommand(s streams, env lookupEnv) *cobra.Command {
	var o fileOptions
	var format string
	var all bool
	cmd := &cobra.Command{
		Use:   "check -f FILE|DIR|- [flags]",
		Short: "Report workloads whose injection is missing, unwanted or stale; for CI",
		Long: `Reads the same inputs as inject, usually manifests rendered and injected
earlier, and compares every pod template with what inject would make of it
now, with the same configuration and decision rules:

  missing   not injected, but the decision injects it
  unwanted  injected, but the decision does not inject it
  stale     injected, but re-injecting it would change it (another proxy
            image, template, values or mesh config; the changed fields
            are listed)
  error     the workload cannot be decided or injected

Each finding gives the decision's reason, as explain does. Nothing is
written. Output (-o table, the default): WORKLOAD, NAMESPACE, STATE,
REVISION, DETAIL, for the workloads that need attention (--all: every
workload). With -o json: {"workloads": [...]} with kind, apiVersion, name,
namespace, file, state, injected, inject, revision, reason, changes and
warnings of every workload.

Exits non-zero when any workload needs attention.`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			if format != "table" && format != "json" {
				return fmt.Errorf("--output %q: use table or json", format)
			}
			return guarded(s, func(r *run, s streams) ([]byte, error) {
				docs, cfg, err := o.load(s, env)
				if err != nil {
					return nil, err
				}
				if m := cfg.Options.Mode; m != "" && m != config.ModeCheck && m != config.ModeInject {
					return nil, fmt.Errorf("the configuration sets mode %q; check compares with injection: remove the setting", m)
				}
				r.setTimeout(cfg.Options.RunTimeout)
				rep, err := inject.Check(cfg, manifest.Nodes(docs))
				if err != nil {
					return nil, err
				}
				for _, w := range cfg.Warnings {
					fmt.Fprintln(s.Err, "warning:", w)
				}
				sources := sourcesOf(docs)
				var buf bytes.Buffer
				if format == "json" {
					err = writeCheckJSON(&buf, rep, sources)
				} else {
					err = writeCheckTable(&buf, rep, all)
					for _, w := range rep.Workloads {
						for _, msg := range w.Warnings {
							fmt.Fprintln(s.Err, "warning:", w.Target.String()+": "+msg)
						}
					}
				}
				if err != nil {
					return nil, err
				}
				return buf.Bytes(), rep.Err()
			}, func(out []byte) error {
				_, err := s.Out.Write(out)
				return err
			})
		},
	}
	o.register(cmd)
	cmd.Flags().StringVarP(&format, "output", "o", "table", "output format: table or json")
	cmd.Flags().BoolVar(&all, "all", false, "list every workload, not only those that need attention (table output)")
	return cmd
}

func writeCheckTable(out io.Writer, rep *inject.CheckReport, all bool) error {
	tw := tabwriter.NewWriter(out, 0, 0, 2, ' ', 0)
	header := false
	for _, w := range rep.Workloads {
		if w.State == inject.Current && !all {
			continue
		}
		if !header {
			fmt.Fprintln(tw, "WORKLOAD\tNAMESPACE\tSTATE\tREVISION\tDETAIL")
			header = true
		}
		ns, rev := w.Target.Namespace, w.Revision
		if ns == "" {
			ns = "-"
		}
		if rev == "" {
			rev = "-"
		}
		detail := w.Reason
		switch w.State {
		case inject.Stale:
			detail = "re-injection would change " + strings.Join(w.Changes, ", ") + "; " + w.Reason
		case inject.Current:
			if w.Inject {
				detail = "injected and current; " + w.Reason
			}
		}
		detail = strings.Join(strings.Fields(detail), " ")
		name := w.Target.TypeMeta.Kind + "/" + w.Target.Name
		if w.Target.Path != "" {
			name += " (" + w.Target.Path + ")"
		}
		fmt.Fprintf(tw, "%s\t%s\t%s\t%s\t%s\n", name, ns, w.State, rev, detail)
	}
	if err := tw.Flush(); err != nil {
		return err
	}
	if n := rep.Problems(); n == 0 {
		noun := "workloads"
		if len(rep.Workloads) == 1 {
			noun = "workload"
		}
		fmt.Fprintf(out, "%d %s checked: all current\n", len(rep.Workloads), noun)
	}
	return nil
}

type checkJSON struct {
	Workloads []checkWorkloadJSON `json:"workloads"`
}

type checkWorkloadJSON struct {
	Kind       string   `json:"kind"`
	APIVersion string   `json:"apiVersion"`
	Name       string   `json:"name"`
	Namespace  string   `json:"namespace,omitempty"`
	File       string   `json:"file,omitempty"`
	State      string   `json:"state"`
	Injected   bool     `json:"injected"`
	Inject     bool     `json:"inject"`
	Revision   string   `json:"revision,omitempty"`
	Reason     string   `json:"reason,omitempty"`
	Changes    []string `json:"changes,omitempty"`
	Warnings   []string `json:"warnings,omitempty"`
}

func writeCheckJSON(out io.Writer, rep *inject.CheckReport, sources map[*yaml.RNode]string) error {
	doc := checkJSON{Workloads: []checkWorkloadJSON{}}
	for _, w := range rep.Workloads {
		t := w.Target
		doc.Workloads = append(doc.Workloads, checkWorkloadJSON{
			Kind: t.TypeMeta.Kind, APIVersion: t.TypeMeta.APIVersion, Name: t.Name, Namespace: t.Namespace,
			File: sources[t.Resource], State: string(w.State), Injected: w.Injected, Inject: w.Inject,
			Revision: w.Revision, Reason: w.Reason, Changes: w.Changes, Warnings: w.Warnings,
		})
	}
	enc := json.NewEncoder(out)
	enc.SetIndent("", "  ")
	return enc.Encode(doc)
}

// processCheck is the function's validator mode: items stay as they are,
// every workload gets a result, and the run fails when any needs
// attention.
func processCheck(rl *framework.ResourceList, cfg *config.Config) error {
	rep, err := inject.Check(cfg, rl.Items)
	if err != nil {
		rl.Results = append(rl.Results, &framework.Result{Message: err.Error(), Severity: framework.Error})
		return err
	}
	rl.Results = append(rl.Results, rep.Results()...)
	return rep.Err()
}
