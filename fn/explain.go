package main

import (
	"bytes"
	"encoding/json"
	"fmt"
	"io"
	"strings"
	"text/tabwriter"

	"github.com/spf13/cobra"
	"sigs.k8s.io/kustomize/kyaml/yaml"

	"github.com/inject-sidecar/inject-sidecar/pkg/inject"
	"github.com/inject-sidecar/inject-sidecar/pkg/manifest"
)

func newExplainCommand(s streams, env lookupEnv) *cobra.Command {
	var o fileOptions
	var format string
	cmd := &cobra.Command{
		Use:   "explain -f FILE|DIR|- [flags]",
		Short: "Say, for each workload, whether inject would inject it, with which revision, and why",
		Long: `Reads the same inputs as inject and prints, for every pod template, the
decision inject takes: injected or not, the revision whose configuration
would render it, and the rule that decided. Nothing is rendered or written.

Output (-o table, the default): WORKLOAD, NAMESPACE, INJECT (yes, no or
error), REVISION, REASON. With -o json: an object with decisionMode,
webhooks (builtin, input or none), workloads (kind, apiVersion, name,
namespace, namespaceDefaulted, file, inject, revision, reason, warnings,
error) and warnings. Warnings also go to standard error in table mode.

Exits non-zero, after printing every decision, when a workload cannot be
decided: inject fails on the same input.`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			if format != "table" && format != "json" {
				return fmt.Errorf("--output %q: use table or json", format)
			}
			docs, cfg, err := o.load(s, env)
			if err != nil {
				return err
			}
			ex, err := inject.Explain(cfg, manifest.Nodes(docs))
			if err != nil {
				return err
			}
			sources := sourcesOf(docs)
			var buf bytes.Buffer
			if format == "json" {
				err = writeExplainJSON(&buf, ex, sources)
			} else {
				err = writeExplainTable(&buf, ex)
				for _, w := range explainWarnings(ex) {
					fmt.Fprintln(s.Err, "warning:", w)
				}
			}
			if err != nil {
				return err
			}
			if _, err := s.Out.Write(buf.Bytes()); err != nil {
				return err
			}
			return ex.Err()
		},
	}
	o.register(cmd)
	cmd.Flags().StringVarP(&format, "output", "o", "table", "output format: table or json")
	return cmd
}

// explainWarnings are the configuration's warnings, then each workload's,
// named like inject names them.
func explainWarnings(ex *inject.Explanation) []string {
	out := append([]string(nil), ex.Warnings...)
	for _, w := range ex.Workloads {
		for _, msg := range w.Warnings {
			if w.Target != nil && !strings.Contains(msg, w.Target.Name) {
				msg = w.Target.String() + ": " + msg
			}
			out = append(out, msg)
		}
	}
	return out
}

func writeExplainTable(out io.Writer, ex *inject.Explanation) error {
	tw := tabwriter.NewWriter(out, 0, 0, 2, ' ', 0)
	fmt.Fprintln(tw, "WORKLOAD\tNAMESPACE\tINJECT\tREVISION\tREASON")
	for _, w := range ex.Workloads {
		inj, reason := "no", w.Reason
		switch {
		case w.Err != nil:
			inj, reason = "error", w.Err.Error()
		case w.Inject:
			inj = "yes"
		}
		ns := w.Namespace
		if ns == "" {
			ns = "-"
		}
		if w.NamespaceDefaulted {
			ns += " (defaulted)"
		}
		rev := w.Revision
		if rev == "" {
			rev = "-"
		}
		// One line per workload: a reason never spans lines or tabs.
		reason = strings.Join(strings.Fields(reason), " ")
		fmt.Fprintf(tw, "%s\t%s\t%s\t%s\t%s\n", workloadName(w), ns, inj, rev, reason)
	}
	return tw.Flush()
}

func workloadName(w inject.WorkloadDecision) string {
	t := w.Target
	if t == nil {
		return "-"
	}
	if t.Name == "" || t.Path != "" {
		// Unnamed objects and List items: the full description tells them apart.
		return strings.ReplaceAll(t.String(), "\t", " ")
	}
	return t.TypeMeta.Kind + "/" + t.Name
}

// explainJSON is the -o json document. Field names are part of the
// command's interface: add fields, never rename or remove them.
type explainJSON struct {
	DecisionMode string            `json:"decisionMode"`
	Webhooks     string            `json:"webhooks"`
	Workloads    []explainWorkload `json:"workloads"`
	Warnings     []string          `json:"warnings"`
}

type explainWorkload struct {
	Kind               string   `json:"kind"`
	APIVersion         string   `json:"apiVersion"`
	Name               string   `json:"name"`
	Namespace          string   `json:"namespace"`
	NamespaceDefaulted bool     `json:"namespaceDefaulted"`
	File               string   `json:"file"`
	Inject             bool     `json:"inject"`
	Revision           string   `json:"revision"`
	Reason             string   `json:"reason"`
	Warnings           []string `json:"warnings"`
	Error              string   `json:"error"`
}

func writeExplainJSON(out io.Writer, ex *inject.Explanation, sources map[*yaml.RNode]string) error {
	doc := explainJSON{
		DecisionMode: string(ex.DecisionMode),
		Webhooks:     ex.Webhooks,
		Workloads:    []explainWorkload{},
		Warnings:     append([]string{}, ex.Warnings...),
	}
	for _, w := range ex.Workloads {
		j := explainWorkload{
			Namespace:          w.Namespace,
			NamespaceDefaulted: w.NamespaceDefaulted,
			Inject:             w.Inject,
			Revision:           w.Revision,
			Reason:             w.Reason,
			Warnings:           append([]string{}, w.Warnings...),
		}
		if t := w.Target; t != nil {
			j.Kind, j.APIVersion, j.Name = t.TypeMeta.Kind, t.TypeMeta.APIVersion, t.Name
			j.File = sources[t.Resource]
		}
		if w.Err != nil {
			j.Error = w.Err.Error()
		}
		doc.Workloads = append(doc.Workloads, j)
	}
	enc := json.NewEncoder(out)
	enc.SetIndent("", "  ")
	return enc.Encode(doc)
}

// sourcesOf maps each document's node to the file it came from, for the
// JSON reports' "file" field.
func sourcesOf(docs []*manifest.Document) map[*yaml.RNode]string {
	sources := map[*yaml.RNode]string{}
	for _, d := range docs {
		if d.Node != nil {
			sources[d.Node] = d.Source
		}
	}
	return sources
}
