package writeback

import (
	"bytes"
	"slices"
	"strings"

	"sigs.k8s.io/kustomize/kyaml/yaml"
)

// Limits of Text: beyond them it declines and the caller re-encodes.
const (
	maxTextLines = 100_000
	maxTextEdits = 3_000
	// maxTextDepth bounds the recursion over nodes (yaml.v3 parses no
	// deeper): beyond it Splice does without what needs it.
	maxTextDepth = 10_000
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
	if edited == nil || encode == nil {
		return nil, false
	}
	e1, err := encode(edited)
	if err != nil {
		return nil, false
	}
	out, how := Splice(raw, nil, edited, e1, encode)
	return out, how != Declined
}

// How says which way Splice made its result.
type How int

const (
	// Declined: no result; the caller writes the edited encoding.
	Declined How = iota
	// Unchanged: the edit changed nothing the encoder writes; the result
	// is raw itself.
	Unchanged
	// AllLines: the edited encoding already holds every line of raw, in
	// order, but those of nodes the edit changed; it is the result.
	AllLines
	// Canonical: raw is the encoder's own text; the edited encoding is
	// the result.
	Canonical
	// Spliced: raw's lines where the edit left them and the encoder's
	// elsewhere, checked to read as the edited encoding.
	Spliced
)

func (h How) String() string {
	switch h {
	case Unchanged:
		return "unchanged"
	case AllLines:
		return "all lines"
	case Canonical:
		return "canonical"
	case Spliced:
		return "spliced"
	}
	return "declined"
}

// Splice is Text for a caller that has encoded the edited document
// already (e1 is encode(edited), which the caller writes when Splice
// declines), and says how it made its result. orig, when not nil, is a
// copy of raw's nodes as read (what yaml.Unmarshal gives for raw,
// positions included), which spares reading raw again. The edited
// document's nodes must say where in raw they were read (as they do when
// raw's nodes are edited in place), or nothing (line 0): Splice follows
// them to tell what the edit changed or moved.
//
// Two cases need neither the line matching nor the check, and they are
// the common ones (generated and Helm-rendered manifests are the
// encoder's own text, and injection mostly adds):
//
//   - AllLines: every line of raw is, byte for byte and in order, a line
//     of e1, but the lines of nodes the edit changed (see editedLines).
//     The splice keeps a line of raw only where the edit left the
//     line's encoding alone, and writes the encoder's line for a changed
//     node: e1 already keeps every line of raw the splice would, and it
//     reads as the edited document by definition (it is what the caller
//     would write anyway). When the edit only adds, this costs one pass
//     over the two texts, before raw is even parsed; otherwise raw is
//     parsed and its nodes compared with the edited ones, which is
//     cheaper than encoding them.
//   - Canonical: raw is exactly encode's text of its own nodes (e0).
//     The splice would then match every line of raw to the same line of
//     e0 and shift nothing, so it would build e1 line for line; the
//     check could only accept it, and declining gives e1 too. Either way
//     the result is e1.
//
// Otherwise raw's nodes are encoded once (and read first, without orig),
// and the splice is checked by reading it back.
func Splice(raw []byte, orig, edited *yaml.Node, e1 []byte, encode func(*yaml.Node) ([]byte, error)) ([]byte, How) {
	if edited == nil || encode == nil || len(e1) == 0 || bytes.ContainsRune(raw, '\r') {
		return nil, Declined
	}
	if holdsLines(e1, raw, nil) {
		return e1, AllLines
	}
	if orig == nil {
		orig = new(yaml.Node)
		if err := yaml.Unmarshal(raw, orig); err != nil || orig.Kind == 0 {
			return nil, Declined
		}
	}
	rawLines, final := splitLines(raw)
	changed, told := editedLines(orig, edited, rawLines)
	if told && holdsLines(e1, raw, changed) {
		return e1, AllLines
	}
	e0, err := encode(orig)
	if err != nil {
		return nil, Declined
	}
	switch {
	case bytes.Equal(e0, e1):
		return raw, Unchanged
	case bytes.Equal(e0, raw):
		return e1, Canonical
	}
	// When editedLines could tell what changed, nothing moved.
	if text, ok := spliceText(rawLines, final, orig, e0, edited, e1, !told, encode); ok {
		return text, Spliced
	}
	return nil, Declined
}

// spliceText carries the difference between e0, the encoding of orig
// (raw's nodes), and e1, the edited one, over to raw (its lines, and
// whether the last one ends with a newline), and checks that the result
// reads as the edited document: encoded, it must give e1. mayMove says
// the edit may have moved nodes.
func spliceText(rawLines []string, final bool, orig *yaml.Node, e0 []byte, edited *yaml.Node, e1 []byte, mayMove bool,
	encode func(*yaml.Node) ([]byte, error)) ([]byte, bool) {
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
	// The edit, line by line, on the encodings; the lines of what the
	// edit moved are not matched where they were, so that a block moved
	// across others leaves them in place however long it is.
	match := l0
	var moved []bool
	if mayMove {
		moved = movedLines(orig, edited, rawLines)
	}
	if moved != nil {
		match = slices.Clone(l0)
		for _, p := range anchors {
			if moved[p.a] {
				match[p.b] = "\x00" // no line of YAML holds a NUL
			}
		}
	}
	same, ok := lcs(match, l1)
	if !ok {
		return nil, false
	}
	// When the edit moves a block, a longest match may keep the
	// encoder's block and lose the user's: then match the user's own
	// lines first.
	own := ownLines(rawLines, l0, anchors)
	if kept := ownKept(same, own); kept < ownFound(match, l1, own) {
		if alt, ok := lcsPreferring(match, l1, own); ok && ownKept(alt, own) > kept {
			same = alt
		}
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
	if sameNodes(&check, edited, 0) {
		return text, true
	}
	// Nodes can differ and still encode alike (a tag left implicit, a
	// quoting the encoder would choose anyway): the encoding decides.
	got, err := encode(&check)
	if err != nil || !bytes.Equal(got, e1) {
		return nil, false
	}
	return text, true
}

// sameNodes reports whether a and b hold the same values in every field
// yaml.v3's encoder reads (kind, tag, style, value, anchor, comments,
// content; an alias by its name), so that it writes them alike: checking
// the splice this way spares encoding it again. Positions are not
// compared; false may also mean too deep to tell.
func sameNodes(a, b *yaml.Node, depth int) bool {
	if a == b {
		return true
	}
	if a == nil || b == nil || depth > maxTextDepth {
		return false
	}
	if a.Kind != b.Kind || a.Tag != b.Tag || style(a) != style(b) || a.Value != b.Value || a.Anchor != b.Anchor ||
		a.HeadComment != b.HeadComment || a.LineComment != b.LineComment || a.FootComment != b.FootComment ||
		len(a.Content) != len(b.Content) {
		return false
	}
	if a.Kind == 0 && (a.Line != b.Line || a.Column != b.Column) {
		return false // the encoder tells a zero node by every field
	}
	for i := range a.Content {
		if !sameNodes(a.Content[i], b.Content[i], depth+1) {
			return false
		}
	}
	return true
}

// style is the node's style as the encoder uses it: an empty mapping or
// sequence is written "{}" or "[]" whether flow style is asked for or not
// (the emitter switches to flow for an empty collection), and nodes the
// edit added say "{}" without the flow style the parser records.
func style(n *yaml.Node) yaml.Style {
	if len(n.Content) == 0 && (n.Kind == yaml.MappingNode || n.Kind == yaml.SequenceNode) {
		return n.Style &^ yaml.FlowStyle
	}
	return n.Style
}

// holdsLines reports whether every line of sub is a line of text, in the
// same order (lines compared without their "\n"), but those skip marks
// (by line, from 0; nil marks none): greedy matching finds such a
// subsequence whenever there is one.
func holdsLines(text, sub []byte, skip []bool) bool {
	for n := 0; len(sub) > 0; n++ {
		var line []byte
		line, sub = cutLine(sub)
		if n < len(skip) && skip[n] {
			continue
		}
		for {
			if len(text) == 0 {
				return false
			}
			var t []byte
			t, text = cutLine(text)
			if bytes.Equal(t, line) {
				break
			}
		}
	}
	return true
}

// cutLine returns the first line of text without its "\n", and the rest.
func cutLine(text []byte) (line, rest []byte) {
	if i := bytes.IndexByte(text, '\n'); i >= 0 {
		return text[:i], text[i+1:]
	}
	return text, nil
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

// editedLines marks the lines of raw (from 0) that the nodes the edit
// changed span: a node whose value, tag, style, anchor or comments
// differ, a key or list element the edit removed, a flow collection
// whose content changed, a collection emptied (then written "{}" or "[]"
// on its key's line). What the edit added marks nothing: it adds lines of
// its own. Keys are matched by name; list elements by node (an element
// the edit kept or changed in place is the node read from raw, at the
// same position), else by name, else by content. false when it cannot
// tell which lines changed: the edit moved something (the splice may keep
// the lines of what moved, or of what it moved across), changed the
// comments, tag or anchor of a collection (a line or two of it), keys are
// not scalars, too deep.
func editedLines(orig, edited *yaml.Node, lines []string) ([]bool, bool) {
	if orig.Kind != yaml.DocumentNode || edited.Kind != yaml.DocumentNode || len(orig.Content) != 1 || len(edited.Content) != 1 ||
		orig.HeadComment != edited.HeadComment || orig.LineComment != edited.LineComment || orig.FootComment != edited.FootComment {
		return nil, false
	}
	d := &edits{lines: lines, marks: make([]bool, len(lines)), edited: edited}
	var collect func(n *yaml.Node, depth int)
	collect = func(n *yaml.Node, depth int) {
		if depth > maxTextDepth {
			return
		}
		d.starts = append(d.starts, n.Line)
		for _, c := range n.Content {
			collect(c, depth+1)
		}
	}
	collect(orig, 0)
	slices.Sort(d.starts)
	root := orig.Content[0]
	if !d.compare(root, edited.Content[0], root.Line, 0) {
		return nil, false
	}
	return d.marks, true
}

// edits is editedLines' state.
type edits struct {
	lines  []string
	starts []int // the lines raw's nodes start on, sorted
	marks  []bool
	// placed holds where the edited document's nodes were read from
	// raw, to tell an element moved from one removed; made on first use.
	placed map[at]bool
	edited *yaml.Node
}

// moved reports whether the edited document holds o, a node of raw that
// is not where it was.
func (d *edits) moved(o *yaml.Node) bool {
	if d.placed == nil {
		d.placed = map[at]bool{}
		var place func(n *yaml.Node, depth int)
		place = func(n *yaml.Node, depth int) {
			if depth > maxTextDepth {
				return
			}
			if n.Line > 0 {
				d.placed[posOf(n)] = true
			}
			for _, c := range n.Content {
				place(c, depth+1)
			}
		}
		place(d.edited, 0)
	}
	return d.placed[posOf(o)]
}

// compare marks what differs between o, a node of raw, and e, the node
// in its place after the edit; owner is the line o's key (or list
// element) is on.
func (d *edits) compare(o, e *yaml.Node, owner, depth int) bool {
	if depth > maxTextDepth {
		return false
	}
	if sameNodes(o, e, depth) {
		return true
	}
	comments := o.HeadComment != e.HeadComment || o.LineComment != e.LineComment || o.FootComment != e.FootComment
	collection := (o.Kind == yaml.MappingNode || o.Kind == yaml.SequenceNode) && o.Kind == e.Kind
	if collection && (comments || o.Anchor != e.Anchor || o.ShortTag() != e.ShortTag()) {
		return false // a line or two about the collection, not all of it
	}
	if !collection || comments || o.Value != e.Value || o.ShortTag() != e.ShortTag() || style(o) != style(e) ||
		o.Anchor != e.Anchor || o.Style&yaml.FlowStyle != 0 || len(o.Content) == 0 || len(e.Content) == 0 {
		d.mark(owner, o, comments)
		return true
	}
	if o.Kind == yaml.MappingNode {
		return d.mapping(o, e, depth)
	}
	return d.sequence(o, e, depth)
}

func (d *edits) mapping(o, e *yaml.Node, depth int) bool {
	for j := 0; j+1 < len(e.Content); j += 2 {
		if e.Content[j].Kind != yaml.ScalarNode {
			return false
		}
	}
	// Keys by name: a map for large mappings, a scan for the others.
	var keys map[string]int
	if len(e.Content) > 32 {
		keys = make(map[string]int, len(e.Content)/2)
		for j := len(e.Content) - 2; j >= 0; j -= 2 {
			keys[e.Content[j].Value] = j
		}
	}
	find := func(name string) (int, bool) {
		if keys != nil {
			j, ok := keys[name]
			return j, ok
		}
		for j := 0; j+1 < len(e.Content); j += 2 {
			if e.Content[j].Value == name {
				return j, true
			}
		}
		return 0, false
	}
	var order, from []int
	for i := 0; i+1 < len(o.Content); i += 2 {
		k := o.Content[i]
		if k.Kind != yaml.ScalarNode {
			return false
		}
		j, ok := find(k.Value)
		if !ok {
			if d.moved(o.Content[i+1]) {
				return false // moved elsewhere
			}
			d.mark(k.Line, o.Content[i+1], true)
			continue
		}
		order, from = append(order, j), append(from, i)
	}
	stays := increasing(order)
	for n, i := range from {
		k, v, ek, ev := o.Content[i], o.Content[i+1], e.Content[order[n]], e.Content[order[n]+1]
		comments := k.HeadComment != ek.HeadComment || k.LineComment != ek.LineComment || k.FootComment != ek.FootComment
		if !stays[n] {
			return false // moved: the splice may keep either side
		}
		if comments || k.ShortTag() != ek.ShortTag() || k.Style != ek.Style || k.Anchor != ek.Anchor {
			if v.Kind == yaml.MappingNode || v.Kind == yaml.SequenceNode {
				return false // the key's lines, not all of its value
			}
			d.mark(k.Line, v, true)
			continue
		}
		if !d.compare(v, ev, k.Line, depth+1) {
			return false
		}
	}
	return true
}

func (d *edits) sequence(o, e *yaml.Node, depth int) bool {
	used := make([]bool, len(e.Content))
	match := make([]int, len(o.Content))
	// Elements by position and by name: maps for long lists, a scan for
	// the others.
	var byPos map[at]int
	var byName map[string]int
	if len(e.Content) > 16 {
		byPos, byName = make(map[at]int, len(e.Content)), map[string]int{}
		for j := len(e.Content) - 1; j >= 0; j-- {
			c := e.Content[j]
			if c.Line > 0 {
				byPos[posOf(c)] = j
			}
			if name := yamlElementName(c); name != "" {
				byName[name] = j
			}
		}
	}
	atPos := func(n *yaml.Node) (int, bool) {
		if byPos != nil {
			j, ok := byPos[posOf(n)]
			return j, ok
		}
		for j, c := range e.Content {
			if c.Line > 0 && posOf(c) == posOf(n) {
				return j, true
			}
		}
		return 0, false
	}
	named := func(name string) (int, bool) {
		if byName != nil {
			j, ok := byName[name]
			return j, ok
		}
		for j, c := range e.Content {
			if yamlElementName(c) == name {
				return j, true
			}
		}
		return 0, false
	}
	take := func(i, j int) {
		match[i] = j
		used[j] = true
	}
	for i, c := range o.Content {
		match[i] = -1
		if j, ok := atPos(c); ok && !used[j] {
			take(i, j)
		}
	}
	for i, c := range o.Content {
		if match[i] >= 0 {
			continue
		}
		if name := yamlElementName(c); name != "" {
			if j, ok := named(name); ok && !used[j] {
				take(i, j)
				continue
			}
		}
		// Else an element that reads the same, for lists of a size
		// where looking costs little.
		if len(o.Content)*len(e.Content) > 10_000 {
			continue
		}
		for j, ec := range e.Content {
			if !used[j] && sameNodes(c, ec, depth+1) {
				take(i, j)
				break
			}
		}
	}
	var order, from []int
	for i, j := range match {
		if j < 0 {
			if d.moved(o.Content[i]) {
				return false // moved elsewhere
			}
			d.mark(o.Content[i].Line, o.Content[i], true)
			continue
		}
		order, from = append(order, j), append(from, i)
	}
	stays := increasing(order)
	for n, i := range from {
		c := o.Content[i]
		if !stays[n] {
			return false // moved: the splice may keep either side
		}
		if !d.compare(c, e.Content[order[n]], c.Line, depth+1) {
			return false
		}
	}
	return true
}

// yamlElementName is the scalar name of a list element that is a mapping
// with one, as Kubernetes names containers, volumes and ports; else "".
func yamlElementName(n *yaml.Node) string {
	if n.Kind != yaml.MappingNode {
		return ""
	}
	for i := 0; i+1 < len(n.Content); i += 2 {
		if n.Content[i].Value == "name" && n.Content[i+1].Kind == yaml.ScalarNode {
			return n.Content[i+1].Value
		}
	}
	return ""
}

// mark marks the lines from from to the end of o (a node of raw): the
// line before the next node raw holds after o's own, less the blank and
// comment lines before that node, which are its own or stay. With
// comments, the comment lines right above from go too.
func (d *edits) mark(from int, o *yaml.Node, comments bool) {
	last := lastLine(o, 0)
	end := len(d.lines)
	if i, _ := slices.BinarySearch(d.starts, last+1); i < len(d.starts) {
		end = d.starts[i] - 1
	}
	for end > last && end > 0 {
		l := strings.TrimSpace(d.lines[end-1])
		if l != "" && !strings.HasPrefix(l, "#") {
			break
		}
		end--
	}
	from = max(from, 1)
	for comments && from > 1 && strings.HasPrefix(strings.TrimSpace(d.lines[from-2]), "#") {
		from--
	}
	for l := from; l <= end && l <= len(d.lines); l++ {
		d.marks[l-1] = true
	}
}

// at identifies a node read from raw by where it starts.
type at struct {
	line, column int
	kind         yaml.Kind
}

func posOf(n *yaml.Node) at { return at{n.Line, n.Column, n.Kind} }

// origin is where a node of raw was: its parent and its place among the
// parent's children (a key and its value share one).
type origin struct {
	parent at
	index  int
	node   *yaml.Node
}

// movedLines marks the lines of raw (from 0) where nodes were that the
// edit moved to another parent or among their siblings, or nil when it
// moved none. The edited document's nodes that were read from raw still
// say where they were read (yaml.v3 keeps a node's line and column), so
// a node is followed from raw to its place after the edit; nodes the
// edit made have no position.
func movedLines(orig, edited *yaml.Node, lines []string) []bool {
	origins := map[at]origin{}
	ambiguous := map[at]bool{}
	var starts []int
	var index func(n *yaml.Node, parent at, i, depth int)
	index = func(n *yaml.Node, parent at, i, depth int) {
		if depth > maxTextDepth {
			return
		}
		p := posOf(n)
		if _, dup := origins[p]; dup {
			ambiguous[p] = true
		}
		origins[p] = origin{parent: parent, index: i, node: n}
		starts = append(starts, n.Line)
		for j, c := range n.Content {
			if n.Kind == yaml.MappingNode {
				j /= 2
			}
			index(c, p, j, depth+1)
		}
	}
	index(orig, at{}, 0, 0)
	slices.Sort(starts)
	var moved []bool
	mark := func(first *yaml.Node, unit []*yaml.Node) {
		if moved == nil {
			moved = make([]bool, len(lines))
		}
		last := 0
		for _, u := range unit {
			last = max(last, lastLine(origins[posOf(u)].node, 0))
		}
		// Through the lines the next node's start ends, less the blank
		// and comment lines before it.
		end := len(lines)
		if i, _ := slices.BinarySearch(starts, last+1); i < len(starts) {
			end = starts[i] - 1
		}
		for end > last && end > 0 {
			l := strings.TrimSpace(lines[end-1])
			if l != "" && !strings.HasPrefix(l, "#") {
				break
			}
			end--
		}
		// With the comment lines right above, which go along.
		from := max(first.Line, 1)
		for from > 1 && strings.HasPrefix(strings.TrimSpace(lines[from-2]), "#") {
			from--
		}
		for l := from; l <= end && l <= len(lines); l++ {
			moved[l-1] = true
		}
	}
	known := func(n *yaml.Node) (origin, bool) {
		o, ok := origins[posOf(n)]
		return o, ok && n.Line > 0 && !ambiguous[posOf(n)]
	}
	var walk func(n *yaml.Node, depth int)
	walk = func(n *yaml.Node, depth int) {
		if depth > maxTextDepth {
			return
		}
		step := 1
		if n.Kind == yaml.MappingNode {
			step = 2
		}
		var order []int
		var kept [][]*yaml.Node
		for j := 0; j+step <= len(n.Content); j += step {
			unit := n.Content[j : j+step]
			o, ok := known(unit[0])
			if !ok {
				for _, u := range unit {
					walk(u, depth+1)
				}
				continue
			}
			if o.parent != posOf(n) || n.Line == 0 {
				mark(unit[0], unit)
				continue
			}
			order = append(order, o.index)
			kept = append(kept, unit)
		}
		stays := increasing(order)
		for i, unit := range kept {
			if !stays[i] {
				mark(unit[0], unit)
				continue
			}
			for _, u := range unit {
				walk(u, depth+1)
			}
		}
	}
	walk(edited, 0)
	return moved
}

// lastLine is the last line a node of raw or what it holds starts on.
func lastLine(n *yaml.Node, depth int) int {
	if n == nil || depth > maxTextDepth {
		return 0
	}
	last := n.Line
	for _, c := range n.Content {
		last = max(last, lastLine(c, depth+1))
	}
	return last
}

// increasing marks a longest increasing run of order (not necessarily
// contiguous): the elements that kept their order.
func increasing(order []int) []bool {
	// tails[k] is the index of the smallest last element of an
	// increasing run of length k+1; prev links a run back.
	var tails []int
	prev := make([]int, len(order))
	for i, v := range order {
		k, _ := slices.BinarySearchFunc(tails, v, func(t, v int) int { return order[t] - v })
		if k > 0 {
			prev[i] = tails[k-1]
		} else {
			prev[i] = -1
		}
		if k == len(tails) {
			tails = append(tails, i)
		} else {
			tails[k] = i
		}
	}
	out := make([]bool, len(order))
	if len(tails) > 0 {
		for i := tails[len(tails)-1]; i >= 0; i = prev[i] {
			out[i] = true
		}
	}
	return out
}

// ownLines marks the lines of l0 (raw's encoding) that only raw's own
// text can keep as the user wrote it: those matched to a raw line written
// otherwise, and those around raw lines matched to none (blank lines, a
// flow collection over several lines), which survive only where the
// splice keeps every line about them. Elsewhere raw reads as its
// encoding, and which of two equal lines is kept makes no difference.
func ownLines(r, l0 []string, anchors []pair) []bool {
	own := make([]bool, len(l0))
	prevRaw, prevJ := -1, -1
	for i := 0; i <= len(anchors); i++ {
		rawAt, j := len(r), len(l0)
		if i < len(anchors) {
			rawAt, j = anchors[i].a, anchors[i].b
		}
		if rawAt > prevRaw+1 {
			for g := max(prevJ, 0); g <= j && g < len(l0); g++ {
				own[g] = true
			}
		}
		if j < len(l0) && r[rawAt] != l0[j] {
			own[j] = true
		}
		prevRaw, prevJ = rawAt, j
	}
	return own
}

// ownKept counts the own lines that pairs keep.
func ownKept(pairs []pair, own []bool) int {
	n := 0
	for _, p := range pairs {
		if own[p.a] {
			n++
		}
	}
	return n
}

// ownFound bounds the own lines of a a match with b can keep: those
// whose text b holds, as many times as b holds it.
func ownFound(a, b []string, own []bool) int {
	count := make(map[string]int)
	for i, l := range a {
		if own[i] {
			count[l] = 0
		}
	}
	for _, l := range b {
		if n, ok := count[l]; ok {
			count[l] = n + 1
		}
	}
	found := 0
	for i, l := range a {
		if own[i] && count[l] > 0 {
			count[l]--
			found++
		}
	}
	return found
}

// lcsPreferring is a longest common subsequence of a and b among those
// that keep as many of the lines marked in prefer as can be kept: it
// matches those lines first, then everything between them. When the edit
// moves a block, the block with more of the user's own text keeps its
// place, whichever is longer.
func lcsPreferring(a, b []string, prefer []bool) ([]pair, bool) {
	var idx []int
	for i, p := range prefer {
		if p {
			idx = append(idx, i)
		}
	}
	if len(idx) == 0 || len(idx) == len(a) {
		return lcs(a, b)
	}
	sub := make([]string, len(idx))
	for k, i := range idx {
		sub[k] = a[i]
	}
	first, ok := lcs(sub, b)
	if !ok {
		return nil, false
	}
	var out []pair
	prevA, prevB := 0, 0
	for k := 0; k <= len(first); k++ {
		endA, endB := len(a), len(b)
		if k < len(first) {
			endA, endB = idx[first[k].a], first[k].b
		}
		between, ok := lcs(a[prevA:endA], b[prevB:endB])
		if !ok {
			return nil, false
		}
		for _, p := range between {
			out = append(out, pair{prevA + p.a, prevB + p.b})
		}
		if k < len(first) {
			out = append(out, pair{endA, endB})
			prevA, prevB = endA+1, endB+1
		}
	}
	return out, true
}

// lcs returns the longest common subsequence of a and b as matched
// pairs, in order; false when the texts differ by more than maxTextEdits
// lines, which bounds the memory it takes (the square of the edits).
//
// A line of one text that the other does not hold anywhere is in no
// common subsequence: lcs leaves such lines out before matching, which
// keeps the result and takes most of the edits out of the count. An
// injected container is hundreds of lines that the original does not
// hold; matched as they are, they would cost a trace of their number
// squared.
func lcs(a, b []string) ([]pair, bool) {
	inA := make(map[string]struct{}, len(a))
	for _, l := range a {
		inA[l] = struct{}{}
	}
	inB := make(map[string]struct{}, len(b))
	for _, l := range b {
		inB[l] = struct{}{}
	}
	keep := func(lines []string, in map[string]struct{}) ([]string, []int) {
		var kept []string
		var at []int
		for i, l := range lines {
			if _, ok := in[l]; ok {
				kept = append(kept, l)
				at = append(at, i)
			}
		}
		return kept, at
	}
	ka, atA := keep(a, inB)
	kb, atB := keep(b, inA)
	pairs, ok := myers(ka, kb)
	for i, p := range pairs {
		pairs[i] = pair{atA[p.a], atB[p.b]}
	}
	return pairs, ok
}

// myers is lcs by Myers' algorithm.
func myers(a, b []string) ([]pair, bool) {
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
//
// Comment lines are the head comments of what follows them: they take
// its shift.
func (s *splice) shift(run []string, p int) []string {
	type level struct{ indent, delta int }
	var stack []level
	out := make([]string, len(run))
	var comments []int
	for i, line := range run {
		if blank(line) {
			out[i] = line
			continue
		}
		if comment(line) {
			comments = append(comments, i)
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
		for _, c := range comments {
			out[c] = reindent(run[c], d)
		}
		comments = comments[:0]
	}
	// Comments that end the run: as a line of their own.
	for _, c := range comments {
		out[c] = reindent(run[c], s.delta(run[c], p))
	}
	return out
}

func comment(line string) bool {
	return strings.HasPrefix(strings.TrimLeft(line, " "), "#")
}

// delta is how much further raw indents than the encoding a line of the
// encoding written around l0 position p: as much as raw's nearest line
// of the same level (same indentation, both list items or both not) that
// the edit kept, before p then after, within the block that holds p;
// else as much as raw's first line of that level in the nearest
// enclosing line's block (the edit may have removed it: it still tells
// how raw indents there); else as much as that enclosing line. A list
// item and its key share an indentation in the compact style, and raw
// may indent its items further. Lines the edit removed are not looked at
// otherwise: around p they may be the rest of a block removed whole,
// indented as some other block.
func (s *splice) delta(line string, p int) int {
	ind, item := indent(line), isItem(line)
	sameLevel := func(j int) bool { return indent(s.l0[j]) == ind && isItem(s.l0[j]) == item }
	encloses := func(j int) bool {
		return indent(s.l0[j]) < ind || (indent(s.l0[j]) == ind && item && !isItem(s.l0[j]))
	}
	anchor := func(j int) bool { return s.rawOf[j] >= 0 && !blank(s.l0[j]) }
	kept := func(j int) bool { return anchor(j) && s.kept[j] }
	shift := func(j int) int { return indent(s.r[s.rawOf[j]]) - indent(s.l0[j]) }
	enclosing := -1
	for j := min(p, len(s.l0)) - 1; j >= 0; j-- {
		if !kept(j) {
			continue
		}
		if sameLevel(j) {
			return shift(j)
		}
		if encloses(j) {
			enclosing = j
			break
		}
	}
	for j := p; j < len(s.l0); j++ {
		if !kept(j) {
			continue
		}
		if sameLevel(j) {
			return shift(j)
		}
		if encloses(j) {
			break
		}
	}
	if enclosing < 0 {
		return 0
	}
	for j := enclosing + 1; j < len(s.l0); j++ {
		if !anchor(j) {
			continue
		}
		if sameLevel(j) {
			return shift(j)
		}
		// Out of its block: less indented, or as much and not a compact
		// list item of its key.
		if e, d := indent(s.l0[enclosing]), indent(s.l0[j]); d < e || (d == e && (!isItem(s.l0[j]) || isItem(s.l0[enclosing]))) {
			break
		}
	}
	return shift(enclosing)
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
