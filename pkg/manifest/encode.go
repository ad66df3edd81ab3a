package manifest

import (
	"bytes"

	"sigs.k8s.io/kustomize/kyaml/yaml"

	"github.com/inject-sidecar/inject-sidecar/pkg/internal/yamlenc"
)

// EncodeNode returns n as one YAML document, exactly as kyaml's
// yaml.NewEncoder writes it (indent 2, compact sequences), as a
// ResourceList writer encodes its parts. The fast encoder writes what it
// reproduces exactly; kyaml's encoder writes the rest.
func EncodeNode(n *yaml.Node) ([]byte, error) {
	doc := &yaml.Node{Kind: yaml.DocumentNode, Content: []*yaml.Node{n}}
	if out, ok := yamlenc.Encode(doc, yaml.CompactSequenceStyle); ok {
		return out, nil
	}
	var b bytes.Buffer
	e := yaml.NewEncoder(&b)
	if err := e.Encode(doc); err != nil {
		return nil, err
	}
	if err := e.Close(); err != nil {
		return nil, err
	}
	return b.Bytes(), nil
}
