package yamlenc_test

import (
	"bytes"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"sigs.k8s.io/kustomize/kyaml/yaml"

	"github.com/inject-sidecar/inject-sidecar/examples/bench/workloadgen"
	"github.com/inject-sidecar/inject-sidecar/pkg/inject"
	"github.com/inject-sidecar/inject-sidecar/pkg/manifest"
)

const corpusDir = "../../../../shared/istio-conformance"

// needCorpus skips (fails under CI) when the shared corpus is absent.
func needCorpus(t *testing.T) {
	t.Helper()
	if _, err := os.Stat(corpusDir); err != nil {
		if os.Getenv("CI") == "true" {
			t.Fatalf("Istio's conformance corpus is missing at %s: %v", corpusDir, err)
		}
		t.Skipf("SKIPPING: Istio's conformance corpus is missing at %s (%v); check it out next to the repository", corpusDir, err)
	}
}

// TestCorpus compares every document of every YAML file of the corpus
// (inputs, golden outputs, configurations), as parsed and with comments
// dropped, in both sequence styles. Golden outputs are what injection
// writes, so nearly all of them must be accepted, comments and all.
func TestCorpus(t *testing.T) {
	needCorpus(t)
	var docs, accepted, injected, injectedAccepted int
	err := filepath.WalkDir(corpusDir, func(path string, d fs.DirEntry, err error) error {
		if err != nil || d.IsDir() || !strings.Contains(d.Name(), ".yaml") {
			return err
		}
		data, err := os.ReadFile(path)
		if err != nil {
			return err
		}
		parsed, _ := decodeAll(data) // a few inputs are invalid on purpose
		golden := strings.HasSuffix(path, ".injected")
		for _, mut := range []uint8{0, mutDropComments} {
			for _, doc := range parsed {
				mutate(doc, mut, 0)
				for _, style := range styles {
					ok := compare(t, path, doc, style)
					docs++
					if ok {
						accepted++
					}
					if golden && mut == 0 {
						injected++
						if ok {
							injectedAccepted++
						}
					}
				}
			}
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	t.Logf("corpus: accepted %d of %d encodings; golden outputs as written: %d of %d", accepted, docs, injectedAccepted, injected)
	if injected == 0 || injectedAccepted*100 < injected*95 {
		t.Errorf("golden outputs: accepted %d of %d, want at least 95%%", injectedAccepted, injected)
	}
}

// TestGenerated injects generated workloads with the benchmark's
// configuration and compares every document the injection changed; it
// requires (nearly) all of them to be accepted.
func TestGenerated(t *testing.T) {
	needCorpus(t)
	cfg, warning, err := workloadgen.LoadConfig(".")
	if err != nil {
		t.Fatal(err)
	}
	if warning != "" {
		t.Fatal(warning)
	}
	var input bytes.Buffer
	if _, err := workloadgen.Generate(&input, workloadgen.Options{Workloads: 300}); err != nil {
		t.Fatal(err)
	}
	// The originals, as read: writeback.Splice encodes them too.
	originals, err := decodeAll(input.Bytes())
	if err != nil {
		t.Fatal(err)
	}
	var origAccepted int
	for _, doc := range originals {
		for _, style := range styles {
			if compare(t, "generated input", doc, style) {
				origAccepted++
			}
		}
	}
	if origAccepted != 2*len(originals) {
		t.Errorf("generated inputs: accepted %d of %d encodings", origAccepted, 2*len(originals))
	}
	docs, err := manifest.Split("generated", input.Bytes())
	if err != nil {
		t.Fatal(err)
	}
	rep, err := inject.Run(cfg, manifest.Nodes(docs))
	if err != nil {
		t.Fatal(err)
	}
	changed := rep.Changed()
	var total, accepted, injected, injectedAccepted int
	for _, d := range docs {
		if d.Node == nil {
			continue
		}
		doc := &yaml.Node{Kind: yaml.DocumentNode, Content: []*yaml.Node{d.Node.YNode()}}
		for _, style := range styles {
			ok := compare(t, d.Name(), doc, style)
			total++
			if ok {
				accepted++
			}
			if changed[d.Node] {
				injected++
				if ok {
					injectedAccepted++
				}
			}
		}
	}
	t.Logf("generated: accepted %d of %d encodings; injected documents: %d of %d", accepted, total, injectedAccepted, injected)
	if injected == 0 || injectedAccepted*100 < injected*99 {
		t.Errorf("injected documents: accepted %d of %d, want at least 99%%", injectedAccepted, injected)
	}
}
