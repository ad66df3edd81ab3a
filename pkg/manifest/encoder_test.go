package manifest

import (
	"bytes"
	"os"
	"path/filepath"
	"testing"

	"sigs.k8s.io/kustomize/kyaml/yaml"
)

// kyamlEncode is the encoder's general path: merge keys untagged, then
// kyaml's encoder, in the document's style.
func kyamlEncode(d *Document, n *yaml.Node) ([]byte, error) {
	style := yaml.SequenceIndentStyle(yaml.DeriveSeqIndentStyle(string(d.Raw)))
	var b bytes.Buffer
	restore := untagMergeKeys(n)
	defer restore()
	enc := yaml.NewEncoderWithOptions(&b, &yaml.EncoderOptions{SeqIndent: style})
	if err := enc.Encode(n); err != nil {
		return nil, err
	}
	if err := enc.Close(); err != nil {
		return nil, err
	}
	out := b.Bytes()
	if !bytes.HasSuffix(d.Raw, []byte("\n")) {
		out = bytes.TrimSuffix(out, []byte("\n"))
	}
	if bytes.Contains(d.Raw, []byte("\r\n")) {
		out = bytes.ReplaceAll(out, []byte("\n"), []byte("\r\n"))
	}
	return out, nil
}

// TestEncoderMatchesKyaml compares the encoder (yamlenc, merge keys
// untagged on the fly) with its general path on every document of the
// package's testdata, as read and with a label added.
func TestEncoderMatchesKyaml(t *testing.T) {
	files, err := filepath.Glob(filepath.Join("testdata", "*", "*.yaml"))
	if err != nil || len(files) == 0 {
		t.Fatalf("no testdata: %v", err)
	}
	compared := 0
	for _, f := range files {
		data, err := os.ReadFile(f)
		if err != nil {
			t.Fatal(err)
		}
		docs, err := Split(f, data)
		if err != nil {
			continue // the error cases
		}
		for _, d := range docs {
			if d.doc == nil {
				continue
			}
			for _, edit := range []bool{false, true} {
				if edit {
					if err := d.Node.PipeE(yaml.SetLabel("security.istio.io/tlsMode", "istio")); err != nil {
						continue
					}
				}
				got, err := d.encoder()(d.doc)
				want, wantErr := kyamlEncode(d, d.doc)
				if (err != nil) != (wantErr != nil) || !bytes.Equal(got, want) {
					t.Errorf("%s (edited %v): encoder differs from kyaml's (%v, %v)\ngot:\n%s\nwant:\n%s", d.Name(), edit, err, wantErr, got, want)
				}
				compared++
			}
		}
	}
	if compared < 20 {
		t.Errorf("only %d documents compared", compared)
	}
}
