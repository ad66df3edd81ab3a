package manifest

import (
	"errors"
	"path/filepath"
	"runtime"
	"strconv"
	"strings"
	"testing"
	"testing/iotest"
)

func TestLimits(t *testing.T) {
	tests := []struct {
		file   string
		limits Limits
		// wantErr is the whole message; "" means the file is accepted.
		wantErr string
		// limit is set when the error must match ErrLimit.
		limit bool
	}{
		{file: "billion-laughs.yaml", limit: true,
			wantErr: `billion-laughs.yaml, document 1: line 13: alias *f expands the document to more than 1000000 nodes; write the repeated part out, or raise the limit if the document is genuine (limit: spec.limits.maxAliasExpansion)`},
		{file: "billion-laughs.yaml", limits: Limits{MaxAliasExpansion: 100}, limit: true,
			wantErr: `billion-laughs.yaml, document 1: line 9: alias *b expands the document to more than 100 nodes; write the repeated part out, or raise the limit if the document is genuine (limit: spec.limits.maxAliasExpansion)`},
		{file: "cycle.yaml",
			wantErr: `cycle.yaml, document 1: line 7: alias *d refers to a node that contains it; an object cannot include itself`},
		{file: "duplicate-keys.yaml",
			wantErr: `duplicate-keys.yaml, document 1: line 5: key "name" is defined twice in the same mapping (first on line 4); remove one of them`},
		{file: "duplicate-nested.yaml",
			wantErr: `duplicate-nested.yaml, document 1: line 10: key "app" is defined twice in the same mapping (first on line 9); remove one of them`},
		{file: "merge-keys.yaml"},
		{file: "shared-env.yaml"},
		{file: "shared-env.yaml", limits: Limits{MaxAliasExpansion: 6}, limit: true,
			wantErr: `shared-env.yaml, document 1: line 17: alias *env expands the document to more than 6 nodes; write the repeated part out, or raise the limit if the document is genuine (limit: spec.limits.maxAliasExpansion)`},
		{file: "deep.yaml"},
		{file: "deep.yaml", limits: Limits{MaxDepth: 12}},
		{file: "deep.yaml", limits: Limits{MaxDepth: 11}, limit: true,
			wantErr: `deep.yaml, document 1: line 16: the document nests deeper than 11 levels (limit: spec.limits.maxNestingDepth)`},
		{file: "deep-alias.yaml", limits: Limits{MaxDepth: 5}},
		{file: "deep-alias.yaml", limits: Limits{MaxDepth: 4}, limit: true,
			wantErr: `deep-alias.yaml, document 1: line 9: alias *a nests the document deeper than 4 levels (limit: spec.limits.maxNestingDepth)`},
		{file: "shared-env.yaml", limits: Limits{MaxInputSize: 100}, limit: true,
			wantErr: `shared-env.yaml: input is larger than 100 bytes (limit: spec.limits.maxInputSize)`},
		{file: "shared-env.yaml", limits: Limits{MaxInputSize: 2048}},
		{file: "billion-laughs.yaml", limits: Limits{MaxInputSize: 1 << 9}, limit: true,
			wantErr: `billion-laughs.yaml: input is larger than 512 bytes (limit: spec.limits.maxInputSize)`},
	}
	for _, tc := range tests {
		name := tc.file
		if tc.limits != (Limits{}) {
			name += "/" + fmtLimits(tc.limits)
		}
		t.Run(name, func(t *testing.T) {
			data := read(t, filepath.Join("testdata", "limits", tc.file))
			for _, strict := range []bool{true, false} {
				var err error
				if strict {
					_, err = SplitLimited(tc.file, data, tc.limits)
				} else {
					err = Check(tc.file, data, tc.limits)
				}
				if tc.wantErr == "" {
					if err != nil {
						t.Fatalf("strict=%v: %v", strict, err)
					}
					continue
				}
				if err == nil {
					t.Fatalf("strict=%v: no error, want %s", strict, tc.wantErr)
				}
				if err.Error() != tc.wantErr {
					t.Errorf("strict=%v: error\n  %v\nwant\n  %s", strict, err, tc.wantErr)
				}
				if got := errors.Is(err, ErrLimit); got != tc.limit {
					t.Errorf("strict=%v: errors.Is(err, ErrLimit) = %v, want %v", strict, got, tc.limit)
				}
			}
		})
	}
}

func fmtLimits(l Limits) string {
	var parts []string
	if l.MaxInputSize != 0 {
		parts = append(parts, "size="+strconv.FormatInt(l.MaxInputSize, 10))
	}
	if l.MaxDepth != 0 {
		parts = append(parts, "depth="+strconv.Itoa(l.MaxDepth))
	}
	if l.MaxAliasExpansion != 0 {
		parts = append(parts, "aliases="+strconv.FormatInt(l.MaxAliasExpansion, 10))
	}
	return strings.Join(parts, ",")
}

// TestBillionLaughsIsCheap checks that refusing the document costs about
// its own size, not its expanded size: a few megabytes of allocation at
// most, where expanding it would take gigabytes.
func TestBillionLaughsIsCheap(t *testing.T) {
	data := read(t, filepath.Join("testdata", "limits", "billion-laughs.yaml"))
	var before, after runtime.MemStats
	runtime.ReadMemStats(&before)
	_, err := Split("billion-laughs.yaml", data)
	runtime.ReadMemStats(&after)
	if !errors.Is(err, ErrLimit) {
		t.Fatalf("error %v, want a limit error", err)
	}
	if alloc := after.TotalAlloc - before.TotalAlloc; alloc > 8<<20 {
		t.Errorf("refusing the document allocated %d bytes", alloc)
	}
}

// TestDeepFlow checks the depth limit on flow collections, which yaml.v3
// itself only stops at 10000 levels.
func TestDeepFlow(t *testing.T) {
	doc := "a: " + strings.Repeat("[", 2000) + strings.Repeat("]", 2000) + "\n"
	_, err := Split("deep.yaml", []byte(doc))
	want := "deep.yaml, document 1: line 1: the document nests deeper than 1000 levels (limit: spec.limits.maxNestingDepth)"
	if err == nil || err.Error() != want {
		t.Fatalf("error %v, want %s", err, want)
	}
}

func TestReadAll(t *testing.T) {
	tests := []struct {
		name    string
		input   string
		max     int64
		wantErr string
	}{
		{name: "within", input: "12345", max: 5},
		{name: "one byte over", input: "123456", max: 5,
			wantErr: "standard input: input is larger than 5 bytes (limit: spec.limits.maxInputSize)"},
		{name: "default", input: "abc"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			got, err := ReadAll("standard input", strings.NewReader(tc.input), tc.max)
			if tc.wantErr != "" {
				if err == nil || err.Error() != tc.wantErr {
					t.Fatalf("error %v, want %s", err, tc.wantErr)
				}
				if !errors.Is(err, ErrLimit) {
					t.Errorf("%v does not match ErrLimit", err)
				}
				return
			}
			if err != nil || string(got) != tc.input {
				t.Fatalf("got %q, %v", got, err)
			}
		})
	}
	// A failing reader's error is reported with the input's name.
	_, err := ReadAll("standard input", iotest.ErrReader(errors.New("broken pipe")), 10)
	if err == nil || err.Error() != "standard input: broken pipe" {
		t.Errorf("error %v", err)
	}
}

// TestEndlessInput reads from a source that never ends: the limit, not the
// source, stops the read.
func TestEndlessInput(t *testing.T) {
	_, err := ReadAll("standard input", endless{}, 1<<20)
	want := "standard input: input is larger than 1Mi (limit: spec.limits.maxInputSize)"
	if !errors.Is(err, ErrLimit) || err.Error() != want {
		t.Fatalf("error %v, want %s", err, want)
	}
}

type endless struct{}

func (endless) Read(p []byte) (int, error) {
	for i := range p {
		p[i] = 'a'
	}
	return len(p), nil
}
