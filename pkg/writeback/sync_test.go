package writeback

import (
	"bytes"
	"encoding/json"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"

	"sigs.k8s.io/kustomize/kyaml/yaml"
)

// model reads a YAML node into the JSON data model, numbers as json.Number
// or, with plain, as float64 (what json.Unmarshal gives a caller).
func model(t *testing.T, n *yaml.Node, plain bool) any {
	t.Helper()
	var v any
	if err := n.Decode(&v); err != nil {
		t.Fatal(err)
	}
	raw, err := json.Marshal(v)
	if err != nil {
		t.Fatal(err)
	}
	d := json.NewDecoder(bytes.NewReader(raw))
	if !plain {
		d.UseNumber()
	}
	var out any
	if err := d.Decode(&out); err != nil {
		t.Fatal(err)
	}
	return out
}

func TestSync(t *testing.T) {
	tests := []struct {
		// file is testdata/sync/<file>.yaml: the node, before and after
		// as three documents. The expected output is <name>.out.yaml.
		name, file string
		// document passes the document node rather than its content.
		document bool
		// plainNumbers gives before and after float64 numbers.
		plainNumbers bool
		wantErr      string
	}{
		{name: "nulls", file: "nulls"},
		{name: "numbers", file: "numbers"},
		{name: "numbers-float64", file: "numbers", plainNumbers: true},
		{name: "lists", file: "lists"},
		{name: "kinds", file: "kinds"},
		{name: "anchors", file: "anchors"},
		{name: "document", file: "document", document: true},
		{name: "same", file: "same"},
		{name: "moves", file: "moves"},
		{name: "slots", file: "slots"},
		{name: "quoting", file: "quoting"},
		{name: "order", file: "order"},
		{name: "merge-delete", file: "merge-delete", wantErr: "field a: cannot remove the field: its value comes from a YAML merge key (<<)"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			src, err := os.ReadFile(filepath.Join("testdata", "sync", tc.file+".yaml"))
			if err != nil {
				t.Fatal(err)
			}
			parts := strings.Split(string(src), "\n---\n")
			if len(parts) != 3 {
				t.Fatalf("want 3 documents, got %d", len(parts))
			}
			doc := parse(t, []byte(parts[0]))
			baseline := encode(t, doc, src)
			before := model(t, parse(t, []byte(parts[1])).Content[0], tc.plainNumbers)
			after := model(t, parse(t, []byte(parts[2])).Content[0], tc.plainNumbers)
			node := doc.Content[0]
			if tc.document {
				node = doc
			}
			err = Sync(node, before, after)
			if tc.wantErr != "" {
				if err == nil || !strings.Contains(err.Error(), tc.wantErr) {
					t.Fatalf("Sync error = %v, want one holding %q", err, tc.wantErr)
				}
				return
			}
			if err != nil {
				t.Fatalf("Sync: %v", err)
			}
			out := encode(t, doc, src)
			golden(t, filepath.Join("testdata", "sync", tc.name+".out.yaml"), out)
			if tc.name == "same" && !bytes.Equal(out, baseline) {
				t.Errorf("before equals after, but the node changed:\n%s", lineDiff(baseline, out))
			}
			// The node now reads as after, apart from what before did not
			// know of: compare the fields after and before mention.
			got := model(t, parse(t, out).Content[0], tc.plainNumbers)
			checkReads(t, "", got, after, before)
		})
	}
}

// checkReads asserts that got holds after's value for every field that
// after or before has; fields neither has (unknown ones) are not compared.
func checkReads(t *testing.T, path string, got, after, before any) {
	t.Helper()
	am, aok := after.(map[string]any)
	gm, gok := got.(map[string]any)
	if aok && gok {
		bm, _ := before.(map[string]any)
		for k, av := range am {
			if av == nil {
				if gv, ok := gm[k]; ok && gv != nil {
					t.Errorf("%s.%s = %v, want it null or absent", path, k, gv)
				}
				continue
			}
			if m, ok := av.(map[string]any); ok && len(m) == 0 && structFields[k] && gm[k] == nil {
				continue // an empty struct field reads as none
			}
			checkReads(t, path+"."+k, gm[k], av, bm[k])
		}
		for k := range bm {
			if _, inAfter := am[k]; !inAfter {
				if gv, ok := gm[k]; ok && gv != nil {
					t.Errorf("%s.%s = %v, want it removed", path, k, gv)
				}
			}
		}
		return
	}
	al, aok := after.([]any)
	gl, gok := got.([]any)
	if aok && gok && len(al) == len(gl) {
		bl, _ := before.([]any)
		for i := range al {
			var bv any
			if i < len(bl) {
				bv = bl[i]
			}
			checkReads(t, path+"["+strconv.Itoa(i)+"]", gl[i], al[i], bv)
		}
		return
	}
	if !numbersEqual(got, after) {
		t.Errorf("%s = %#v, want %#v", path, got, after)
	}
}

// numbersEqual compares values, numbers by their value.
func numbersEqual(a, b any) bool {
	an, aok := a.(json.Number)
	bn, bok := b.(json.Number)
	if aok && bok {
		af, _ := an.Float64()
		bf, _ := bn.Float64()
		return af == bf
	}
	ja, _ := json.Marshal(a)
	jb, _ := json.Marshal(b)
	return bytes.Equal(ja, jb)
}

func TestSyncNil(t *testing.T) {
	if err := Sync(nil, map[string]any{}, map[string]any{"a": "b"}); err == nil {
		t.Error("Sync(nil): no error")
	}
	if _, err := Pod(nil, nil, nil); err == nil {
		t.Error("Pod(nil): no error")
	}
}
