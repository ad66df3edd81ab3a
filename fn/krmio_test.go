package main

import (
	"bytes"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"sigs.k8s.io/kustomize/kyaml/kio"
	"sigs.k8s.io/kustomize/kyaml/yaml"
)

// TestWriteList: writeList writes the bytes kio.ByteWriter writes, for
// every ResourceList of the package's testdata (inputs and expected
// outputs), a generated one before and after injection, and the cases it
// must leave to kio.ByteWriter.
func TestWriteList(t *testing.T) {
	lists := map[string][]byte{
		"comments and keep chomping": []byte(`apiVersion: config.kubernetes.io/v1
kind: ResourceList
items:
# a comment before the first item
- apiVersion: v1
  kind: ConfigMap
  metadata:
    name: a # named
  data:
    keep: |+
      text

- apiVersion: v1
  kind: ConfigMap
  metadata: {name: b}
  data:
    folded: >
      a long line
      and another
    last: |+
      kept

`),
		"keep chomping": []byte(`apiVersion: config.kubernetes.io/v1
kind: ResourceList
items:
- apiVersion: v1
  kind: ConfigMap
  metadata:
    name: a
  data:
    keep: |+
      text

- apiVersion: v1
  kind: ConfigMap
  metadata:
    name: b # named
    # about the data
  data:
    x: y
`),
		"anchors": []byte(`apiVersion: config.kubernetes.io/v1
kind: ResourceList
items:
- apiVersion: v1
  kind: ConfigMap
  metadata: {name: a, labels: &l {x: y}}
- apiVersion: v1
  kind: ConfigMap
  metadata: {name: b, labels: *l}
`),
		"empty metadata and annotations": []byte(`apiVersion: config.kubernetes.io/v1
kind: ResourceList
items:
- kind: A
  metadata: {name: a, annotations: {}}
- kind: B
  metadata: {}
- kind: C
  metadata:
    name: c
    annotations:
- kind: D
  metadata: {name: d, annotations: {x: y}}
- kind: E
  metadata: ~
- kind: F
  metadata: {name: f, annotations: {}, annotations: {a: b}}
`),
		"no items": []byte("apiVersion: config.kubernetes.io/v1\nkind: ResourceList\nitems: []\nfunctionConfig: {kind: X}\n"),
		"results": []byte(`apiVersion: config.kubernetes.io/v1
kind: ResourceList
items:
- kind: A
  metadata: {name: a}
functionConfig:
  apiVersion: v1
  kind: ConfigMap
  data: {config: "x"}
results:
- message: one
  severity: info
`),
	}
	files, err := filepath.Glob(filepath.Join("testdata", "*", "*", "*.yaml"))
	if err != nil {
		t.Fatal(err)
	}
	for _, f := range files {
		b, err := os.ReadFile(f)
		if err != nil {
			t.Fatal(err)
		}
		if bytes.Contains(b, []byte("kind: ResourceList")) {
			lists[f] = b
		}
	}
	in := newScaleInput(t, 30)
	lists["generated"] = in.resourceList(t)
	out, _, err := execute(nil, lists["generated"])
	if err != nil {
		t.Fatal(err)
	}
	lists["generated, injected"] = []byte(out)

	spliced := 0
	for name, data := range lists {
		read := func() (*kio.ByteReadWriter, []*yaml.RNode, *bytes.Buffer, error) {
			var out bytes.Buffer
			rw := &kio.ByteReadWriter{Reader: bytes.NewReader(data), Writer: &out, KeepReaderAnnotations: true, PreserveSeqIndent: true}
			items, err := rw.Read()
			return rw, items, &out, err
		}
		rw1, items1, want, err := read()
		if err != nil {
			continue // not a readable list: the bad-input tests' business
		}
		wantErr := rw1.Write(items1)
		rw2, items2, got, _ := read()
		if spliceable(rw2, items2) {
			spliced++
			t.Logf("%s: written a part at a time", name)
		}
		if err := writeList(rw2, items2); (err == nil) != (wantErr == nil) || (err != nil && err.Error() != wantErr.Error()) {
			t.Fatalf("%s: error %v, want %v", name, err, wantErr)
		}
		if got.String() != want.String() {
			t.Errorf("%s: writeList differs from kio.ByteWriter:\n%s\nwant\n%s", name, got.String(), want.String())
		}
	}
	if spliced < len(lists)/2 {
		t.Errorf("only %d of %d lists written a part at a time", spliced, len(lists))
	}
	if !strings.Contains(string(lists["generated, injected"]), "sidecar.istio.io/status") {
		t.Error("the generated list was not injected")
	}
}
