package config

import (
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/inject-sidecar/inject-sidecar/pkg/manifest"
)

// deep is n nested flow sequences.
func deep(n int) string { return strings.Repeat("[", n) + strings.Repeat("]", n) }

var withinLimitsCases = []struct {
	name, text string
	depth      int // MaxDepth
	want       bool
}{
	{"brackets in a block scalar", "templates:\n  sidecar: |\n    " + deep(30) + "\n    {{ x }}\n", 40, true},
	{"brackets in a sequence entry's block scalar", "- |\n  " + deep(30) + "\n- key: >-\n    " + deep(30) + "\n", 20, true},
	{"explicit indentation", "a: |2\n   " + deep(30) + "\nb: x\n", 20, true},
	{"blank lines inside", "a: |\n\n    " + deep(30) + "\n\n    x\nb: y\n", 20, true},
	{"deep flow outside", "a: " + deep(30) + "\n", 20, false},
	{"after the scalar ends", "a: |\n  text\nb: " + deep(30) + "\n", 20, false},
	{"a less indented line ends it", "a:\n  b: |\n    text\n   c: " + deep(30) + "\n", 20, false},
	{"leading blank line sets the indentation", "a: |\n          \n  " + deep(30) + "\n", 20, false},
	{"header with a comment", "a: | # note\n  " + deep(30) + "\n", 20, false},
	{"header inside a quoted scalar", "a: \"x\n  b: |\n  " + deep(30) + "\"\n", 20, false},
	{"apostrophe in a plain scalar", "a: it's\nb: |\n  " + deep(30) + "\n", 20, false},
	{"quoted scalar closed on its line", "a: \"{{ x }}\"\nb: 'it''s'\nc: |\n  " + deep(30) + "\n", 40, true},
	{"comment with an apostrophe", "# don't\na: |\n  " + deep(30) + "\n", 20, true},
	{"anchor", "a: &x b\nc: *x\n", 1000, false},
	{"ampersand in a block scalar", "a: |\n  x && y\n", 1000, true},
	{"tag before the header", "a: !!str |\n  " + deep(30) + "\n", 20, false},
	{"document marker", "a: |\n  x\n---\nb: c\n", 1000, false},
	{"tab indentation", "a: |\n\t" + deep(30) + "\n", 20, false},
	{"long lines of structure", "a: " + strings.Repeat("x", 20) + "\n", 20, false},
	{"long lines in a block scalar", "a: |\n  " + strings.Repeat("x", 200) + "\n", 20, true},
}

func TestWithinLimits(t *testing.T) {
	for _, tc := range withinLimitsCases {
		t.Run(tc.name, func(t *testing.T) {
			lim := manifest.Limits{MaxDepth: tc.depth}
			if got := withinLimits([]byte(tc.text), lim); got != tc.want {
				t.Errorf("withinLimits = %v, want %v", got, tc.want)
			}
			assertSound(t, []byte(tc.text), lim)
		})
	}
	// Istio's own configurations must not need parsing: that is the point.
	for _, f := range corpusFiles(t, "configs/inject-config-*.yaml") {
		t.Run(filepath.Base(f), func(t *testing.T) {
			data, err := os.ReadFile(f)
			if err != nil {
				t.Fatal(err)
			}
			if !withinLimits(data, manifest.Limits{}) {
				t.Error("not within the default limits by its text")
			}
		})
	}
}

// assertSound: what withinLimits takes, the limits' reading never refuses
// for a limit.
func assertSound(t *testing.T, data []byte, lim manifest.Limits) {
	t.Helper()
	if !withinLimits(data, lim) {
		return
	}
	if err := manifest.Check("text", data, lim); errors.Is(err, manifest.ErrLimit) {
		t.Fatalf("withinLimits, but Check: %v", err)
	}
}

func FuzzWithinLimits(f *testing.F) {
	for _, tc := range withinLimitsCases {
		f.Add([]byte(tc.text), uint8(tc.depth))
	}
	f.Add([]byte("a:\n  - |\n    [[\n  - b: >+\n\n      {{\n  c: [[x]]\n"), uint8(6))
	f.Fuzz(func(t *testing.T, data []byte, depth uint8) {
		assertSound(t, data, manifest.Limits{MaxDepth: int(depth%64) + 1})
	})
}
