package writeback

import (
	"bytes"
	"strings"

	"sigs.k8s.io/kustomize/kyaml/yaml"
)

// Limits of Text: beyond them it declines and the caller re-encodes.
const (
	maxTextLines = 100_000
	maxTextEdits = 3_000
)

// Text returns the text of an edited document as close to the user's as
// the edit allows: the lines of raw, the document as read, wherever the
// edit left the document alone, and the encoder's lines where it changed
// it. Re-encoding the whole document, which is all a node can give, would
// also change what the encoder writes its own way: trailing spaces, blank
// lines, the spacing before comments, line breaks inside flow
// collections.
//
// encode must be how the caller writes a document node; it is applied to
// raw's own nodes and to edited, and the difference between the two
// encodings is carried over to raw. The result is checked: it must read,
// encoded again, exactly as edited does (comments included). When it does
// not, or raw cannot be spliced (carriage returns, too large, too
// different from its encoding), Text returns false and the caller uses
// encode(edited).
func Text(raw []byte, edited *yaml.Node, encode func(*yaml.Node) ([]byte, error)) ([]byte, bool) {
	if edited == nil || encode == nil || bytes.ContainsRune(raw, '\r') {
		return nil, false
	}
	var orig yaml.Node
	if err := yaml.Unmarshal(raw, &orig); err != nil || orig.Kind == 0 {
		return nil, false
	}
	e0, err := encode(&orig)
	if err != nil {
		return nil, false
	}
	e1, err := encode(edited)
	if err != nil {
		return nil, false
	}
	if bytes.Equal(e0, e1) {
		return raw, true
	}
	rawLines, final := splitLines(raw)
	l0, _ := splitLines(e0)
	l1, _ := splitLines(e1)
	if len(rawLines)+len(l0)+len(l1) > maxTextLines {
		return nil, false
	}
	// raw and its encoding differ in layout only: align them on lines
	// compared without it.
	anchors, ok := lcs(normalized(rawLines), normalized(l0))
	if !ok {
		return nil, false
	}
	// The edit, line by line, on the encodings.
	same, ok := lcs(l0, l1)
	if !ok {
		return nil, false
	}
	s := newSplice(rawLines, l0, l1, anchors, same)
	out := s.build()
	text := []byte(strings.Join(out, "\n"))
	if len(out) > 0 && final {
		text = append(text, '\n')
	}
	var check yaml.Node
	if err := yaml.Unmarshal(text, &check); err != nil {
		return nil, false
	}
	got, err := encode(&check)
	if err != nil || !bytes.Equal(got, e1) {
		return nil, false
	}
	return text, true
}

// splitLines cuts text into lines without their "\n", and says whether
// the last one ended with one.
func splitLines(text []byte) ([]string, bool) {
	s := string(text)
	final := strings.HasSuffix(s, "\n")
	s = strings.TrimSuffix(s, "\n")
	if s == "" && !final {
		return nil, false
	}
	return strings.Split(s, "\n"), final
}

// normalized lines compare without indentation, trailing spaces and the
// width of spaces: what the encoder decides by itself.
func normalized(lines []string) []string {
	out := make([]string, len(lines))
	for i, l := range lines {
		out[i] = strings.Join(strings.Fields(l), " ")
	}
	return out
}

// pair is a line of one text matched to a line of another.
type pair struct{ a, b int }

// lcs returns the longest common subsequence of a and b as matched
// pairs, in order, by Myers' algorithm; false when the texts differ by
// more than maxTextEdits lines, which bounds the memory it takes (the
// square of the edits).
func lcs(a, b []string) ([]pair, bool) {
	n, m := len(a), len(b)
	limit := min(n+m, maxTextEdits)
	// v[k+limit+1] is the furthest x on diagonal k; trace[d] keeps the
	// diagonals -d..d of v as step d found it.
	v := make([]int, 2*limit+3)
	at := func(k int) *int { return &v[k+limit+1] }
	var trace [][]int32
	for d := 0; d <= limit; d++ {
		for k := -d; k <= d; k += 2 {
			var x int
			if k == -d || (k != d && *at(k - 1) < *at(k + 1)) {
				x = *at(k + 1)
			} else {
				x = *at(k - 1) + 1
			}
			y := x - k
			for x < n && y < m && a[x] == b[y] {
				x++
				y++
			}
			*at(k) = x
		}
		snap := make([]int32, 2*d+1)
		for k := -d; k <= d; k++ {
			snap[k+d] = int32(*at(k))
		}
		trace = append(trace, snap)
		if *at(n - m) >= n && n-m >= -d && n-m <= d {
			return backtrack(trace, n, m), true
		}
	}
	return nil, false
}

// backtrack walks Myers' trace back from (n, m), collecting the
// diagonal moves, which are the matched lines.
func backtrack(trace [][]int32, n, m int) []pair {
	get := func(d, k int) int {
		if k < -d || k > d {
			return -1
		}
		return int(trace[d][k+d])
	}
	var pairs []pair
	x, y := n, m
	for d := len(trace) - 1; d > 0; d-- {
		k := x - y
		var prevK int
		if k == -d || (k != d && get(d-1, k-1) < get(d-1, k+1)) {
			prevK = k + 1
		} else {
			prevK = k - 1
		}
		prevX := get(d-1, prevK)
		prevY := prevX - prevK
		for x > prevX && y > prevY {
			x--
			y--
			pairs = append(pairs, pair{x, y})
		}
		x, y = prevX, prevY
	}
	for x > 0 && y > 0 {
		x--
		y--
		pairs = append(pairs, pair{x, y})
	}
	for i, j := 0, len(pairs)-1; i < j; i, j = i+1, j-1 {
		pairs[i], pairs[j] = pairs[j], pairs[i]
	}
	return pairs
}

// splice builds the output from raw's lines (r), their encoding (l0) and
// the edited encoding (l1).
type splice struct {
	r, l0, l1 []string
	// rawOf[j] is the raw line matched to l0[j], or -1.
	rawOf []int
	// kept[j] says l0[j] is also in l1, at e1Of[j].
	kept []bool
	e1Of []int
	// ins[p] are the l1 lines that go before l0[p] (p = len(l0): at the
	// end).
	ins [][]int
}

func newSplice(r, l0, l1 []string, anchors, same []pair) *splice {
	s := &splice{r: r, l0: l0, l1: l1, rawOf: make([]int, len(l0)), kept: make([]bool, len(l0)),
		e1Of: make([]int, len(l0)), ins: make([][]int, len(l0)+1)}
	for j := range s.rawOf {
		s.rawOf[j] = -1
	}
	for _, p := range anchors {
		s.rawOf[p.b] = p.a
	}
	next := 0
	for _, p := range same {
		for ; next < p.b; next++ {
			s.ins[p.a] = append(s.ins[p.a], next)
		}
		s.kept[p.a], s.e1Of[p.a] = true, p.b
		next = p.b + 1
	}
	for ; next < len(l1); next++ {
		s.ins[len(l0)] = append(s.ins[len(l0)], next)
	}
	return s
}

// build walks the anchors (lines of l0 matched to raw lines) and the gaps
// between them. An anchor the edit kept is its raw line; a gap the edit
// did not touch is its raw lines, whatever they are (blank lines, a flow
// collection broken over several lines); what the edit touched or added
// is the edited encoding's lines, shifted to raw's indentation. Lines
// added where a gap starts go before its raw lines, so that a blank line
// keeps separating what follows it.
func (s *splice) build() []string {
	var out []string
	prevRaw, prevJ := -1, -1
	for j := 0; j <= len(s.l0); j++ {
		if j < len(s.l0) && s.rawOf[j] < 0 {
			continue
		}
		anchorRaw := len(s.r)
		if j < len(s.l0) {
			anchorRaw = s.rawOf[j]
		}
		start := prevJ + 1
		touched := false
		for g := start; g < j; g++ {
			if !s.kept[g] || (g > start && len(s.ins[g]) > 0) {
				touched = true
				break
			}
		}
		if touched {
			var run []string
			for g := start; g < j; g++ {
				run = append(run, s.take(g)...)
				if s.kept[g] {
					run = append(run, s.l1[s.e1Of[g]])
				}
			}
			out = append(out, s.shift(run, start)...)
		} else {
			out = append(out, s.inserted(start)...)
			out = append(out, s.r[prevRaw+1:anchorRaw]...)
		}
		out = append(out, s.inserted(j)...)
		if j == len(s.l0) {
			break
		}
		if s.kept[j] {
			out = append(out, s.r[anchorRaw])
		}
		prevRaw, prevJ = anchorRaw, j
	}
	return out
}

// inserted returns the l1 lines inserted before l0[p], shifted to raw's
// indentation, and clears them so they are written once.
func (s *splice) inserted(p int) []string {
	return s.shift(s.take(p), p)
}

// take returns the l1 lines inserted before l0[p] and clears them.
func (s *splice) take(p int) []string {
	idx := s.ins[p]
	s.ins[p] = nil
	out := make([]string, len(idx))
	for i, k := range idx {
		out[i] = s.l1[k]
	}
	return out
}

// shift moves a run of encoder lines written near l0 position p to raw's
// indentation: a line takes the shift of the run's line it nests in, or
// else the one raw's own lines of its level have near p.
func (s *splice) shift(run []string, p int) []string {
	type level struct{ indent, delta int }
	var stack []level
	out := make([]string, len(run))
	for i, line := range run {
		if blank(line) {
			out[i] = line
			continue
		}
		ind := indent(line)
		for len(stack) > 0 && stack[len(stack)-1].indent >= ind {
			stack = stack[:len(stack)-1]
		}
		var d int
		if len(stack) > 0 {
			d = stack[len(stack)-1].delta
		} else {
			d = s.delta(line, p)
		}
		stack = append(stack, level{ind, d})
		out[i] = reindent(line, d)
	}
	return out
}

// delta is how much further raw indents than the encoding a line of the
// encoding written around l0 position p: as much as raw's nearest line of
// the same level (same indentation, both list items or both not), before
// p then after, else as much as the nearest enclosing line before p. A
// list item and its key share an indentation in the compact style, and
// raw may indent its items further.
func (s *splice) delta(line string, p int) int {
	ind, item := indent(line), isItem(line)
	sameLevel := func(j int) bool { return indent(s.l0[j]) == ind && isItem(s.l0[j]) == item }
	encloses := func(j int) bool {
		return indent(s.l0[j]) < ind || (indent(s.l0[j]) == ind && item && !isItem(s.l0[j]))
	}
	anchor := func(j int) bool { return s.rawOf[j] >= 0 && !blank(s.l0[j]) }
	for j := min(p, len(s.l0)) - 1; j >= 0; j-- {
		if !anchor(j) {
			continue
		}
		if sameLevel(j) {
			return indent(s.r[s.rawOf[j]]) - ind
		}
		if encloses(j) {
			break
		}
	}
	for j := p; j < len(s.l0); j++ {
		if !anchor(j) {
			continue
		}
		if sameLevel(j) {
			return indent(s.r[s.rawOf[j]]) - ind
		}
		if encloses(j) {
			break
		}
	}
	for j := min(p, len(s.l0)) - 1; j >= 0; j-- {
		if anchor(j) && encloses(j) {
			return indent(s.r[s.rawOf[j]]) - indent(s.l0[j])
		}
	}
	return 0
}

// isItem reports whether a line starts a list item.
func isItem(line string) bool {
	t := strings.TrimLeft(line, " ")
	return t == "-" || strings.HasPrefix(t, "- ")
}

func indent(line string) int {
	return len(line) - len(strings.TrimLeft(line, " "))
}

func blank(line string) bool {
	return strings.TrimSpace(line) == ""
}

func reindent(line string, delta int) string {
	switch {
	case delta == 0 || blank(line):
		return line
	case delta > 0:
		return strings.Repeat(" ", delta) + line
	}
	if indent(line) < -delta {
		return strings.TrimLeft(line, " ")
	}
	return line[-delta:]
}
