package workloadgen

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"

	"github.com/inject-sidecar/inject-sidecar/pkg/config"
	"github.com/inject-sidecar/inject-sidecar/pkg/manifest"
)

// IstioConfigDir is where Istio's rendered injector configurations live,
// relative to the repository root. They are read from there at run time
// and never copied into the repository.
const IstioConfigDir = "../shared/istio-conformance/configs"

// ConfigFiles are the three files of an injector configuration, as the
// inject command's flags take them.
type ConfigFiles struct {
	InjectConfig, Values, Mesh string
}

// istioFiles are Istio's default-profile configuration, with its full
// sidecar template: what benchmarks measure against.
var istioFiles = ConfigFiles{
	InjectConfig: "inject-config-d521712c8b.yaml",
	Values:       "values-c17411c347.json",
	Mesh:         "mesh-d3ed38e8ee.yaml",
}

// FallbackConfig is the quickstart's function config, relative to the
// repository root: a much smaller template, used when Istio's
// configuration is absent.
const FallbackConfig = "examples/quickstart/injector.yaml"

// RepoRoot returns the directory holding go.mod at or above dir.
func RepoRoot(dir string) (string, error) {
	dir, err := filepath.Abs(dir)
	if err != nil {
		return "", err
	}
	for d := dir; ; d = filepath.Dir(d) {
		if _, err := os.Stat(filepath.Join(d, "go.mod")); err == nil {
			return d, nil
		}
		if filepath.Dir(d) == d {
			return "", fmt.Errorf("no go.mod at or above %s", dir)
		}
	}
}

// IstioConfig returns the paths of Istio's configuration files below
// root's sibling shared folder; the error says which one is missing.
func IstioConfig(root string) (ConfigFiles, error) {
	dir := filepath.Join(root, IstioConfigDir)
	f := ConfigFiles{
		InjectConfig: filepath.Join(dir, istioFiles.InjectConfig),
		Values:       filepath.Join(dir, istioFiles.Values),
		Mesh:         filepath.Join(dir, istioFiles.Mesh),
	}
	for _, p := range []string{f.InjectConfig, f.Values, f.Mesh} {
		if _, err := os.Stat(p); err != nil {
			return ConfigFiles{}, fmt.Errorf("Istio's injector configuration is missing (%w); "+
				"check out the shared corpus next to the repository", err)
		}
	}
	return f, nil
}

// LoadConfig loads Istio's configuration for benchmarks run from dir (any
// folder of the repository). When it is absent, it loads the quickstart's
// instead and returns a warning to print loudly: that template is much
// smaller, so the numbers are not comparable.
func LoadConfig(dir string) (cfg *config.Config, warning string, err error) {
	root, err := RepoRoot(dir)
	if err != nil {
		return nil, "", err
	}
	files, ierr := IstioConfig(root)
	if ierr == nil {
		in := config.Input{InjectConfigPath: files.InjectConfig, ValuesPath: files.Values, MeshPath: files.Mesh}
		for _, f := range []struct {
			path string
			into *[]byte
		}{{files.InjectConfig, &in.InjectConfig}, {files.Values, &in.Values}, {files.Mesh, &in.Mesh}} {
			if *f.into, err = os.ReadFile(f.path); err != nil {
				return nil, "", err
			}
		}
		cfg, err = config.Load(in)
		return cfg, "", err
	}
	fallback := filepath.Join(root, FallbackConfig)
	data, err := os.ReadFile(fallback)
	if err != nil {
		return nil, "", errors.Join(ierr, err)
	}
	docs, err := manifest.Split(fallback, data)
	if err != nil {
		return nil, "", err
	}
	cfg, err = config.Load(config.Input{Extra: manifest.Nodes(docs)})
	return cfg, FallbackWarning(ierr), err
}

// FallbackWarning is the message printed when Istio's configuration is
// absent and the quickstart's stands in.
func FallbackWarning(cause error) string {
	return fmt.Sprintf("WARNING: %v.\nWARNING: falling back to %s, whose template is a fraction of Istio's: "+
		"these numbers are NOT comparable with istioctl's or with the README's table.", cause, FallbackConfig)
}
