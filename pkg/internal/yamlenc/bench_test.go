package yamlenc_test

import (
	"bytes"
	"testing"

	"sigs.k8s.io/kustomize/kyaml/yaml"

	"github.com/inject-sidecar/inject-sidecar/examples/bench/workloadgen"
	"github.com/inject-sidecar/inject-sidecar/pkg/inject"
	"github.com/inject-sidecar/inject-sidecar/pkg/internal/yamlenc"
	"github.com/inject-sidecar/inject-sidecar/pkg/manifest"
)

// injectedDocument is the first generated Deployment, injected with
// Istio's configuration.
func injectedDocument(b *testing.B) *yaml.Node {
	cfg, warning, err := workloadgen.LoadConfig(".")
	if err != nil {
		b.Fatal(err)
	}
	if warning != "" {
		b.Log(warning)
	}
	var input bytes.Buffer
	if _, err := workloadgen.Generate(&input, workloadgen.Options{Workloads: 5}); err != nil {
		b.Fatal(err)
	}
	docs, err := manifest.Split("generated", input.Bytes())
	if err != nil {
		b.Fatal(err)
	}
	rep, err := inject.Run(cfg, manifest.Nodes(docs))
	if err != nil {
		b.Fatal(err)
	}
	changed := rep.Changed()
	for _, d := range docs {
		if d.Node != nil && changed[d.Node] && d.Node.GetKind() == "Deployment" {
			return &yaml.Node{Kind: yaml.DocumentNode, Content: []*yaml.Node{d.Node.YNode()}}
		}
	}
	b.Fatal("no injected Deployment")
	return nil
}

// BenchmarkEncode compares Encode with kyaml's encoder on one injected
// Deployment (B/op and allocs/op are what count on a shared machine).
func BenchmarkEncode(b *testing.B) {
	doc := injectedDocument(b)
	want, err := reference(doc, yaml.CompactSequenceStyle)
	if err != nil {
		b.Fatal(err)
	}
	b.Run("yamlenc", func(b *testing.B) {
		b.ReportAllocs()
		b.SetBytes(int64(len(want)))
		for b.Loop() {
			if _, ok := yamlenc.Encode(doc, yaml.CompactSequenceStyle); !ok {
				b.Fatal("declined")
			}
		}
	})
	b.Run("kyaml", func(b *testing.B) {
		b.ReportAllocs()
		b.SetBytes(int64(len(want)))
		for b.Loop() {
			var buf bytes.Buffer
			buf.Grow(len(want) + 64)
			enc := yaml.NewEncoderWithOptions(&buf, &yaml.EncoderOptions{SeqIndent: yaml.CompactSequenceStyle})
			if err := enc.Encode(doc); err != nil {
				b.Fatal(err)
			}
			if err := enc.Close(); err != nil {
				b.Fatal(err)
			}
		}
	})
}
