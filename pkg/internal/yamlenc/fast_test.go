package yamlenc

import (
	"bufio"
	"math/rand/v2"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
)

// fastValues are the scalars of testdata/scalars.txt and values built to
// reach every branch of the fast paths.
func fastValues(t testing.TB) []string {
	t.Helper()
	f, err := os.Open(filepath.Join("testdata", "scalars.txt"))
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	values := []string{
		"", " ", "a", "-", "- ", "-a", "?", "? a", ":", ": a", ":a", "a:", "a: b", "a:b", "#", "a#", "a #", "a\t#",
		"---", "--- a", "...", "..a", "'", "\"", "\\", "a'b''c", `a"b\c"`, " a", "a ", "a  b", "a, b", "[a]", "{a}",
		"a\tb", "a\nb", "\u00e9", "a\u0085b", "a\x7fb", "a\x00b", "\ufeffa", strings.Repeat("x ", 100),
	}
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		line := sc.Text()
		if line == "" || strings.HasPrefix(line, "#") {
			continue
		}
		v, err := strconv.Unquote(line)
		if err != nil {
			t.Fatalf("testdata/scalars.txt: %q: %v", line, err)
		}
		values = append(values, v)
	}
	return values
}

// randomValue draws a short value from an alphabet of indicators, quotes,
// spaces, breaks and multi-byte characters.
func randomValue(r *rand.Rand) string {
	const alphabet = "ab- :#?,[]{}'\"\\!&*|>%@`.\t\n\r\x7f\x00"
	extra := []string{"\u00e9", "\u0085", "\u2028", "\ufeff", "\xff"}
	var b strings.Builder
	for range r.IntN(8) {
		if r.IntN(10) == 0 {
			b.WriteString(extra[r.IntN(len(extra))])
		} else {
			b.WriteByte(alphabet[r.IntN(len(alphabet))])
		}
	}
	return b.String()
}

// checkFast fails when a fast path accepts v and differs from the general
// code: the analysis, and the bytes and emitter state of the writers.
func checkFast(t testing.TB, v string) {
	t.Helper()
	a, ok := analyzeASCII(v)
	if !ok {
		for i := 0; i < len(v); i++ {
			if v[i] < 0x20 || v[i] > 0x7e {
				return
			}
		}
		t.Errorf("%q: analyzeASCII declined printable ASCII", v)
		return
	}
	if want := analyze(v); a != want {
		t.Errorf("%q: analyzeASCII = %+v, analyze = %+v", v, a, want)
	}
	for _, w := range []struct {
		name       string
		fast, slow func(*emitter, string)
	}{
		{"single", (*emitter).writeSingleASCII, (*emitter).writeSingle},
		{"double", (*emitter).writeDoubleASCII, (*emitter).writeDouble},
		{"plain", func(e *emitter, v string) { e.writePlain(v, true) }, func(e *emitter, v string) { e.writePlain(v, false) }},
	} {
		for _, start := range []emitter{{buf: []byte("k:"), column: 2}, {whitespace: true, indention: true}} {
			fast, slow := start, start
			fast.buf = append([]byte(nil), start.buf...)
			slow.buf = append([]byte(nil), start.buf...)
			w.fast(&fast, v)
			w.slow(&slow, v)
			if string(fast.buf) != string(slow.buf) || fast.column != slow.column ||
				fast.whitespace != slow.whitespace || fast.indention != slow.indention {
				t.Errorf("%q: %s: fast path wrote %q (%+v), general %q (%+v)", v, w.name, fast.buf, fast, slow.buf, slow)
			}
		}
	}
}

func TestFastPaths(t *testing.T) {
	for _, v := range fastValues(t) {
		checkFast(t, v)
	}
	r := rand.New(rand.NewPCG(7, 11))
	for range 200000 {
		checkFast(t, randomValue(r))
	}
}

func FuzzFastPaths(f *testing.F) {
	for _, v := range fastValues(f) {
		f.Add(v)
	}
	f.Fuzz(func(t *testing.T, v string) {
		checkFast(t, v)
	})
}
