package main

import (
	"bytes"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"sort"
	"strings"

	"github.com/spf13/cobra"
	"sigs.k8s.io/kustomize/kyaml/kio/kioutil"
	"sigs.k8s.io/kustomize/kyaml/yaml"

	"github.com/inject-sidecar/inject-sidecar/pkg/config"
	"github.com/inject-sidecar/inject-sidecar/pkg/inject"
	"github.com/inject-sidecar/inject-sidecar/pkg/manifest"
)

// fileOptions are the inputs shared by the commands that read plain YAML;
// their names and meanings follow istioctl kube-inject's offline flags.
type fileOptions struct {
	files            []string
	injectConfigFile string
	valuesFile       string
	meshConfigFile   string
	operatorFile     string
	revision         string
	configFiles      []string
	// onLimits, when set, learns the limits of the --config files before
	// the manifests are read (the inject command bounds its run with them).
	onLimits func(config.Limits)
}

func (o *fileOptions) register(cmd *cobra.Command) {
	f := cmd.Flags()
	f.StringArrayVarP(&o.files, "filename", "f", nil, "manifest file or directory to read, - for standard input (repeatable)")
	f.StringVar(&o.injectConfigFile, "injectConfigFile", "", "injector config: the data.config document of the istio-sidecar-injector ConfigMap, or a bare template")
	f.StringVar(&o.valuesFile, "valuesFile", "", "injector values: the data.values JSON of the istio-sidecar-injector ConfigMap")
	f.StringVar(&o.meshConfigFile, "meshConfigFile", "", "mesh config: the data.mesh document of the istio ConfigMap")
	f.StringVar(&o.operatorFile, "operatorFileName", "", "IstioOperator file whose spec.values and spec.meshConfig are used")
	f.StringVarP(&o.revision, "revision", "r", "", "Istio revision to inject")
	f.StringArrayVar(&o.configFiles, "config", nil, "function config file: a SidecarInjector, or ConfigMaps istio-sidecar-injector and istio (repeatable)")
}

func newInjectCommand(s streams, env lookupEnv) *cobra.Command {
	var o fileOptions
	var output string
	cmd := &cobra.Command{
		Use:   "inject -f FILE|DIR|- [flags]",
		Short: "Inject plain multi-document YAML",
		Long: `Reads manifests from files, directories or standard input and writes them
to standard output (or -o FILE) with every pod template injected. Documents
that are not injected are written back byte for byte.

Accepts istioctl kube-inject's offline flags with the same meaning and file
formats. Istio's environment settings (ENABLE_NATIVE_SIDECARS,
COMPLIANCE_POLICY, PLATFORM) are read from the environment when the
configuration does not set them.`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			spooled := newSpool(output)
			defer spooled.discard()
			// Guarded: only a whole output is ever written (see guarded).
			return guarded(s, func(r *run, s streams) ([]byte, error) {
				o.onLimits = func(l config.Limits) { r.setTimeout(l.RunTimeout) }
				// Streamed, one batch in memory at a time, unless anything
				// goes wrong: then the one-shot path below reports it.
				done, in := o.streamInject(r, s, env, spooled)
				if done {
					return spooled.result(), nil
				}
				s.In = in
				docs, cfg, err := o.load(s, env)
				if err != nil {
					return nil, err
				}
				r.setTimeout(cfg.Options.RunTimeout)
				manifest.KeepOriginals(docs) // before the edit: writing changed documents then needs no second parse
				rep, err := inject.Run(cfg, manifest.Nodes(docs))
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
			}, func(out []byte) error {
				if spooled.holds() {
					return spooled.commit(s.Out)
				}
				return writeOutput(s.Out, output, out)
			})
		},
	}
	o.register(cmd)
	cmd.Flags().StringVarP(&output, "output", "o", "", "write to this file instead of standard output (replaced atomically)")
	return cmd
}

// load reads the manifests and the configuration.
func (o *fileOptions) load(s streams, env lookupEnv) ([]*manifest.Document, *config.Config, error) {
	var docs []*manifest.Document
	cfg, err := o.loadWith(env, func(limits manifest.Limits, _ func(*yaml.RNode) bool) ([]*yaml.RNode, error) {
		var err error
		docs, err = readManifests(s.In, o.files, limits)
		return manifest.Nodes(docs), err
	})
	if err != nil {
		return nil, nil, err
	}
	return docs, cfg, nil
}

// loadWith reads the configuration. items reads the manifests, within the
// limits the --config files set, and returns the objects the
// configuration may be taken from (all of them, or those that can be
// Istio's ConfigMaps: see streamInject).
// items gets the limits for reading the manifests and the predicate of
// the items config.Load may read (config.ItemsRead); it may drop the others.
func (o *fileOptions) loadWith(env lookupEnv, items func(manifest.Limits, func(*yaml.RNode) bool) ([]*yaml.RNode, error)) (*config.Config, error) {
	if len(o.files) == 0 {
		return nil, fmt.Errorf("no input: give -f FILE, -f DIR or -f - for standard input")
	}
	// The --config files come first: the limits they set govern reading
	// the manifests and the other files.
	var extra []*yaml.RNode
	for _, name := range o.configFiles {
		objs, err := readObjects(name)
		if err != nil {
			return nil, err
		}
		extra = append(extra, objs...)
	}
	configured, err := config.ReadLimits(extra)
	if err != nil {
		return nil, err
	}
	if o.onLimits != nil {
		o.onLimits(configured)
	}
	limits := configLimits(configured)
	reads, err := config.ItemsRead(extra)
	if err != nil {
		return nil, err
	}
	nodes, err := items(limits, reads)
	if err != nil {
		return nil, err
	}
	in := config.Input{
		Extra:            extra,
		Items:            nodes,
		Revision:         o.revision,
		Getenv:           env,
		IstioEnvFallback: true,
		InjectConfigPath: o.injectConfigFile,
		ValuesPath:       o.valuesFile,
		MeshPath:         o.meshConfigFile,
		OperatorPath:     o.operatorFile,
	}
	for _, f := range []struct {
		name string
		into *[]byte
	}{
		{o.injectConfigFile, &in.InjectConfig},
		{o.valuesFile, &in.Values},
		{o.meshConfigFile, &in.Mesh},
		{o.operatorFile, &in.Operator},
	} {
		if f.name == "" {
			continue
		}
		b, err := manifest.ReadFile(f.name, limits.MaxInputSize)
		if err != nil {
			return nil, err
		}
		*f.into = b
	}
	return config.Load(in)
}

// readManifests reads every -f argument in order; a directory contributes
// its .yaml, .yml and .json files in lexical order, recursively. A file
// named twice is read once: istioctl kube-inject keeps only one -f, and
// emitting the same resources twice would make a manifest no API server
// accepts.
func readManifests(stdin io.Reader, args []string, limits manifest.Limits) ([]*manifest.Document, error) {
	var docs []*manifest.Document
	seen := map[string]bool{}
	for _, arg := range args {
		files, err := expand(arg)
		if err != nil {
			return nil, err
		}
		for _, name := range files {
			key := name
			if abs, err := filepath.Abs(name); err == nil && name != "-" {
				key = abs
			}
			if seen[key] {
				continue
			}
			seen[key] = true
			var data []byte
			if name == "-" {
				data, err = manifest.ReadAll("standard input", stdin, limits.MaxInputSize)
			} else {
				data, err = manifest.ReadFile(name, limits.MaxInputSize)
			}
			if err != nil {
				return nil, err
			}
			d, err := manifest.SplitLimited(name, data, limits)
			if err != nil {
				return nil, err
			}
			docs = append(docs, d...)
		}
	}
	return docs, nil
}

func expand(arg string) ([]string, error) {
	if arg == "-" {
		return []string{arg}, nil
	}
	st, err := os.Stat(arg)
	if err != nil {
		return nil, err
	}
	if !st.IsDir() {
		return []string{arg}, nil
	}
	var files []string
	err = filepath.WalkDir(arg, func(p string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		switch strings.ToLower(filepath.Ext(p)) {
		case ".yaml", ".yml", ".json":
			if !d.IsDir() {
				files = append(files, p)
			}
		}
		return nil
	})
	sort.Strings(files)
	return files, err
}

// readObjects reads every object of a --config file, within the default
// limits (the limits may be set in the file itself).
func readObjects(name string) ([]*yaml.RNode, error) {
	data, err := manifest.ReadFile(name, 0)
	if err != nil {
		return nil, err
	}
	docs, err := manifest.Split(name, data)
	if err != nil {
		return nil, err
	}
	// The file is recorded where kyaml's readers record it, so that
	// configuration errors can name it.
	nodes := manifest.Nodes(docs)
	for _, n := range nodes {
		if err := n.PipeE(yaml.SetAnnotation(kioutil.PathAnnotation, name)); err != nil {
			return nil, fmt.Errorf("%s: %w", name, err)
		}
	}
	return nodes, nil
}

// writeOutput writes to stdout, or replaces path atomically: a temporary
// file in the same directory renamed over it, so a failed run leaves the
// old file whole.
func writeOutput(stdout io.Writer, path string, data []byte) error {
	if path == "" || path == "-" {
		_, err := stdout.Write(data)
		return err
	}
	tmp, err := os.CreateTemp(filepath.Dir(path), "."+filepath.Base(path)+".*")
	if err != nil {
		return err
	}
	defer os.Remove(tmp.Name())
	// CreateTemp makes the file private; the output keeps the mode of the
	// file it replaces, or gets the usual one.
	mode := os.FileMode(0o644)
	if st, err := os.Stat(path); err == nil {
		mode = st.Mode().Perm()
	}
	if err := tmp.Chmod(mode); err != nil {
		tmp.Close()
		return err
	}
	if _, err := tmp.Write(data); err != nil {
		tmp.Close()
		return err
	}
	if err := tmp.Sync(); err != nil {
		tmp.Close()
		return err
	}
	if err := tmp.Close(); err != nil {
		return err
	}
	return os.Rename(tmp.Name(), path)
}
