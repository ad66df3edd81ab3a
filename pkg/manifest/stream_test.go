package manifest

import (
	"bytes"
	"errors"
	"io"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"
)

// scanAll cuts data with a Scanner, max documents at a time, and parses
// the documents as SplitLimited would.
func scanAll(t testing.TB, data []byte, max int, l Limits) ([]*Document, error) {
	t.Helper()
	s := NewScanner("in.yaml", bytes.NewReader(data), l)
	var docs []*Document
	for {
		batch, err := s.Next(max)
		if errors.Is(err, io.EOF) {
			break
		}
		if err != nil {
			return nil, err
		}
		if len(batch) == 0 || len(batch) > max+1 {
			t.Fatalf("Next(%d) returned %d documents", max, len(batch))
		}
		docs = append(docs, batch...)
	}
	return docs, Parse(docs, l)
}

// streamInputs are the package's testdata files and the edge cases of
// document cutting.
func streamInputs(t *testing.T) map[string][]byte {
	inputs := map[string][]byte{
		"empty":               nil,
		"newline":             []byte("\n"),
		"separator only":      []byte("---\n"),
		"leading separator":   []byte("---\na: 1\n---\nb: 2\n"),
		"no final newline":    []byte("a: 1\n---\nb: 2"),
		"directives":          []byte("%YAML 1.2\n---\na: 1\n"),
		"comment first":       []byte("# hello\n---\na: 1\n"),
		"empty documents":     []byte("---\n---\n---\na: 1\n---\n"),
		"separator comment":   []byte("a: 1\n--- # next\nb: 2\n"),
		"crlf":                []byte("a: 1\r\n---\r\nb: 2\r\n"),
		"long line":           []byte("a: " + strings.Repeat("x", 200<<10) + "\n---\nb: 2\n"),
		"long separator line": []byte("a: 1\n---" + strings.Repeat(" ", 100<<10) + "\nb: 2\n"),
	}
	files, err := filepath.Glob(filepath.Join("testdata", "*", "*.yaml"))
	if err != nil {
		t.Fatal(err)
	}
	for _, f := range files {
		b, err := os.ReadFile(f)
		if err != nil {
			t.Fatal(err)
		}
		inputs[f] = b
	}
	return inputs
}

// TestScannerMatchesSplit: whatever the batch size, the Scanner gives the
// documents SplitLimited gives, parsed alike, or the same error.
func TestScannerMatchesSplit(t *testing.T) {
	for name, data := range streamInputs(t) {
		for _, max := range []int{1, 2, 1000} {
			want, wantErr := SplitLimited("in.yaml", data, Limits{})
			got, gotErr := scanAll(t, data, max, Limits{})
			if (wantErr == nil) != (gotErr == nil) || (wantErr != nil && wantErr.Error() != gotErr.Error()) {
				t.Errorf("%s, batches of %d: error %v, want %v", name, max, gotErr, wantErr)
				continue
			}
			if wantErr != nil {
				continue
			}
			if len(got) != len(want) {
				t.Errorf("%s, batches of %d: %d documents, want %d", name, max, len(got), len(want))
				continue
			}
			for i := range want {
				g, w := got[i], want[i]
				if g.Source != w.Source || g.Index != w.Index || g.line != w.line ||
					!bytes.Equal(g.Separator, w.Separator) || (g.Separator == nil) != (w.Separator == nil) ||
					!bytes.Equal(g.Raw, w.Raw) || (g.Node == nil) != (w.Node == nil) {
					t.Errorf("%s, batches of %d, document %d: got %+v, want %+v", name, max, i, g, w)
					continue
				}
				if g.Node != nil && !reflect.DeepEqual(g.Node.MustString(), w.Node.MustString()) {
					t.Errorf("%s, document %d: parsed differently", name, i)
				}
			}
		}
	}
}

// TestScannerLimit: the size limit counts the whole stream.
func TestScannerLimit(t *testing.T) {
	data := []byte(strings.Repeat("a: 1\n---\n", 100))
	l := Limits{MaxInputSize: int64(len(data) - 1)}
	_, want := SplitLimited("in.yaml", data, l)
	_, got := scanAll(t, data, 3, l)
	if want == nil || got == nil || got.Error() != want.Error() || !errors.Is(got, ErrLimit) {
		t.Errorf("error %v, want %v", got, want)
	}
}

// TestWriterMatchesWrite: batches written one after the other make the
// bytes of one Write, including when sources are joined.
func TestWriterMatchesWrite(t *testing.T) {
	sources := [][]byte{
		[]byte("a: 1\n---\nb: 2"),
		[]byte("c: 3\n"),
		[]byte("---\nd: 4\n---\n"),
		nil,
		[]byte("# only a comment"),
		[]byte("e: 5\n"),
	}
	var docs []*Document
	for i, src := range sources {
		d, err := Split(filepath.Join("src", string(rune('a'+i))), src)
		if err != nil {
			t.Fatal(err)
		}
		docs = append(docs, d...)
	}
	// Every other object is encoded again, the rest copied.
	changed := func(d *Document) bool { return d.Index%2 == 0 }
	var want bytes.Buffer
	if err := Write(&want, docs, changed); err != nil {
		t.Fatal(err)
	}
	for _, size := range []int{1, 2, 3, len(docs)} {
		var got bytes.Buffer
		w := NewWriter(&got)
		for i := 0; i < len(docs); i += size {
			if err := w.Write(docs[i:min(i+size, len(docs))], changed); err != nil {
				t.Fatal(err)
			}
		}
		if got.String() != want.String() {
			t.Errorf("batches of %d:\n%q\nwant\n%q", size, got.String(), want.String())
		}
	}
}

// FuzzScanner: the Scanner and Split cut any input alike.
func FuzzScanner(f *testing.F) {
	for _, s := range []string{"a: 1\n---\nb: 2\n", "%YAML 1.2\n---\n", "---\n---\n", "# c\n--- #x\nk: v", "--- \r\na: 1\r\n"} {
		f.Add(s, 2)
	}
	f.Fuzz(func(t *testing.T, data string, max int) {
		if max < 1 || max > 10 {
			return
		}
		want, wantErr := Split("in.yaml", []byte(data))
		got, gotErr := scanAll(t, []byte(data), max, Limits{})
		if (wantErr == nil) != (gotErr == nil) {
			t.Fatalf("error %v, want %v", gotErr, wantErr)
		}
		if wantErr != nil {
			if wantErr.Error() != gotErr.Error() {
				t.Fatalf("error %v, want %v", gotErr, wantErr)
			}
			return
		}
		if len(got) != len(want) {
			t.Fatalf("%d documents, want %d", len(got), len(want))
		}
		for i := range want {
			if !bytes.Equal(got[i].Raw, want[i].Raw) || !bytes.Equal(got[i].Separator, want[i].Separator) || got[i].line != want[i].line {
				t.Fatalf("document %d differs", i)
			}
		}
	})
}
