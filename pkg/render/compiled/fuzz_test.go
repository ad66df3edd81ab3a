package compiled_test

import (
	"bytes"
	"errors"
	"os"
	"path/filepath"
	"regexp"
	"sync/atomic"
	"testing"
	"text/template"
	"time"

	"sigs.k8s.io/yaml"

	"github.com/inject-sidecar/inject-sidecar/pkg/render/compiled"
	"github.com/inject-sidecar/inject-sidecar/pkg/render/funcs"
)

// FuzzTemplate compiles arbitrary template text and compares the program
// with text/template on the constructs' data: same bytes, or a decline.
// Seeds are the templates of testdata/constructs.yaml. Executions that take
// text/template more than a second are skipped.
func FuzzTemplate(f *testing.F) {
	raw, err := os.ReadFile(filepath.Join("testdata", "constructs.yaml"))
	if err != nil {
		f.Fatal(err)
	}
	var doc struct {
		Cases []struct {
			Template string `json:"template"`
		} `json:"cases"`
	}
	if err := yaml.Unmarshal(raw, &doc); err != nil {
		f.Fatal(err)
	}
	for _, c := range doc.Cases {
		f.Add(c.Template)
	}
	fm := funcs.Map(nil)
	f.Fuzz(func(t *testing.T, text string) {
		tt, err := template.New("fuzz").Funcs(fm).Parse(text)
		if err != nil {
			return
		}
		prog, err := compiled.Compile(tt, fm)
		if err != nil {
			t.Fatalf("compile: %v", err)
		}
		type result struct {
			out []byte
			err error
		}
		done := make(chan result, 1)
		go func() {
			defer func() {
				if r := recover(); r != nil {
					done <- result{err: errors.New("panic")}
				}
			}()
			var b bytes.Buffer
			err := tt.Execute(&limited{&b}, newTestData())
			done <- result{b.Bytes(), err}
		}()
		var want result
		select {
		case want = <-done:
		case <-time.After(time.Second):
			return // too slow to compare; abandoned
		}
		var stop atomic.Bool
		timer := time.AfterFunc(time.Second, func() { stop.Store(true) })
		defer timer.Stop()
		got, err := prog.Execute(nil, newTestData(), compiled.Limits{MaxOutput: limit, Stop: &stop})
		switch {
		case errors.Is(err, compiled.ErrDecline), errors.Is(err, compiled.ErrStopped):
		case err != nil:
			t.Fatalf("unexpected error %v", err)
		case want.err != nil:
			t.Fatalf("text/template fails (%v) but the program gives %q", want.err, got)
		case !bytes.Equal(addresses.ReplaceAll(got, []byte("0xADDR")), addresses.ReplaceAll(want.out, []byte("0xADDR"))):
			t.Fatalf("output differs:\ntext/template %q\ncompiled      %q", want.out, got)
		}
	})
}

// addresses are pointers printed by fmt, which differ between the fresh
// data each executor gets.
var addresses = regexp.MustCompile(`0x[0-9a-f]{6,}`)

// limit bounds the output of both executors.
const limit = 1 << 20

type limited struct{ b *bytes.Buffer }

func (l *limited) Write(p []byte) (int, error) {
	if len(p) > limit-l.b.Len() {
		return 0, errors.New("too much output")
	}
	return l.b.Write(p)
}
