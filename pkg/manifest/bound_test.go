package manifest

import (
	"errors"
	"math/rand/v2"
	"strings"
	"testing"
)

// TestBounded checks both directions on small limits: what Bounded
// accepts passes Check's limits, and documents near the limits are
// refused by both, or by Bounded alone (it may be conservative).
func TestBounded(t *testing.T) {
	tests := []struct {
		name    string
		data    string
		limits  Limits
		bounded bool
	}{
		{"flat mapping", "a: b\nc: d\n", Limits{MaxDepth: 10}, true}, // two levels per column of the longest line
		{"flat mapping, tight", "a: b\nc: d\n", Limits{MaxDepth: 9}, false},
		{"empty", "", Limits{MaxDepth: 2}, true},
		{"anchor", "a: &x b\nc: *x\n", Limits{}, false},
		{"ampersand in a string", "a: 'x & y'\n", Limits{}, false},
		{"long line", "a: " + strings.Repeat("x", 10) + "\n", Limits{MaxDepth: 20}, false},
		{"flow brackets count", "a: [1, [2]]\n", Limits{MaxDepth: 26}, true},
		{"flow brackets count, tight", "a: [1, [2]]\n", Limits{MaxDepth: 25}, false},
		{"flow brackets over", "a: [[[[[1]]]]]\n", Limits{MaxDepth: 15}, false},
		{"nested sequences", "- - - a\n", Limits{MaxDepth: 16}, true},
		{"too large", "a: b\n", Limits{MaxInputSize: 4}, false},
		{"indented", "a:\n  b:\n    c: d\n", Limits{MaxDepth: 20}, true},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			got := Bounded(tc.data, tc.limits)
			if got != tc.bounded {
				t.Errorf("Bounded = %v, want %v", got, tc.bounded)
			}
			if got != Bounded([]byte(tc.data), tc.limits) {
				t.Error("Bounded differs between string and bytes")
			}
			if err := Check("test", []byte(tc.data), tc.limits); got && errors.Is(err, ErrLimit) {
				t.Errorf("Bounded, but Check says %v", err)
			}
		})
	}
}

// FuzzBounded: whatever Bounded accepts, Check never fails on a limit.
func FuzzBounded(f *testing.F) {
	for _, s := range []string{"a: b\n", "- - - a\n", "a: [b, {c: d}]\n", "a:\n- b:\n  - c\n", "? - a\n: b\n", "a: |\n  {[\n"} {
		f.Add(s, 6)
	}
	f.Fuzz(func(t *testing.T, data string, depth int) {
		if depth < 1 || depth > 64 {
			return
		}
		l := Limits{MaxDepth: depth}
		if !Bounded(data, l) {
			return
		}
		if err := Check("fuzz", []byte(data), l); errors.Is(err, ErrLimit) {
			t.Fatalf("Bounded(%q, depth %d), but Check: %v", data, depth, err)
		}
	})
}

// checkBoundFacts fails when the vectorized counts differ from the loop.
func checkBoundFacts(t *testing.T, data string) {
	t.Helper()
	type facts struct {
		longest, flow int
		anchor        bool
	}
	var want, s, b facts
	want.longest, want.flow, want.anchor = boundLoop(data)
	s.longest, s.flow, s.anchor = boundStrings(data)
	b.longest, b.flow, b.anchor = boundBytes([]byte(data))
	if want.anchor {
		// The counts are not computed once an anchor is seen.
		want, s.longest, s.flow, b.longest, b.flow = facts{anchor: true}, 0, 0, 0, 0
	}
	if s != want || b != want {
		t.Errorf("%q: loop %+v, strings %+v, bytes %+v", data, want, s, b)
	}
}

// TestBoundFacts compares the vectorized counts with the loop on a table
// and random texts.
func TestBoundFacts(t *testing.T) {
	for _, data := range []string{"", "\n", "a", "a\n", "\nab", "ab\nc\n\n", "[{", "a: [b, {c: d}]\nee\n", "&", "a\n&b"} {
		checkBoundFacts(t, data)
	}
	r := rand.New(rand.NewPCG(9, 9))
	for range 5000 {
		var b strings.Builder
		for range r.IntN(40) {
			b.WriteByte("ab\n[{&: "[r.IntN(8)])
		}
		checkBoundFacts(t, b.String())
	}
}

// FuzzBoundFacts compares the vectorized counts with the loop.
func FuzzBoundFacts(f *testing.F) {
	f.Add("a: [b, {c: d}]\nee\n")
	f.Fuzz(checkBoundFacts)
}
