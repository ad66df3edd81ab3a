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
			docs, cfg, err := o.load(s, env)
			if err != nil {
				return err
			}
			rep, err := inject.Run(cfg, manifest.Nodes(docs))
			for _, w := range rep.Warnings() {
				fmt.Fprintln(s.Err, "warning:", w)
			}
			if err != nil {
				return err
			}
			changed := rep.Changed()
			var buf bytes.Buffer
			if err := manifest.Write(&buf, docs, func(d *manifest.Document) bool { return changed[d.Node] }); err != nil {
				return err
			}
			return writeOutput(s.Out, output, buf.Bytes())
		},
	}
	o.register(cmd)
	cmd.Flags().StringVarP(&output, "output", "o", "", "write to this file instead of standard output (replaced atomically)")
	return cmd
}

// load reads the manifests and the configuration.
func (o *fileOptions) load(s streams, env lookupEnv) ([]*manifest.Document, *config.Config, error) {
	if len(o.files) == 0 {
		return nil, nil, fmt.Errorf("no input: give -f FILE, -f DIR or -f - for standard input")
	}
	docs, err := readManifests(s.In, o.files)
	if err != nil {
		return nil, nil, err
	}
	in := config.Input{
		Items:            manifest.Nodes(docs),
		Revision:         o.revision,
		Getenv:           env,
		IstioEnvFallback: true,
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
		b, err := os.ReadFile(f.name)
		if err != nil {
			return nil, nil, err
		}
		*f.into = b
	}
	for _, name := range o.configFiles {
		objs, err := readObjects(name)
		if err != nil {
			return nil, nil, err
		}
		in.Extra = append(in.Extra, objs...)
	}
	cfg, err := config.Load(in)
	if err != nil {
		return nil, nil, err
	}
	return docs, cfg, nil
}

// readManifests reads every -f argument in order; a directory contributes
// its .yaml, .yml and .json files in lexical order, recursively. A file
// named twice is read once: istioctl kube-inject keeps only one -f, and
// emitting the same resources twice would make a manifest no API server
// accepts.
func readManifests(stdin io.Reader, args []string) ([]*manifest.Document, error) {
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
				data, err = io.ReadAll(stdin)
			} else {
				data, err = os.ReadFile(name)
			}
			if err != nil {
				return nil, err
			}
			d, err := manifest.Split(name, data)
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

// readObjects reads every object of a --config file.
func readObjects(name string) ([]*yaml.RNode, error) {
	data, err := os.ReadFile(name)
	if err != nil {
		return nil, err
	}
	docs, err := manifest.Split(name, data)
	if err != nil {
		return nil, err
	}
	return manifest.Nodes(docs), nil
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
	if _, err := tmp.Write(data); err != nil {
		tmp.Close()
		return err
	}
	if err := tmp.Close(); err != nil {
		return err
	}
	return os.Rename(tmp.Name(), path)
}
