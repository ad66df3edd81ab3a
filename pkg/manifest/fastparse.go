package manifest

import (
	"sigs.k8s.io/kustomize/kyaml/yaml"
)

// fastParse reads the text of one document into the node tree yaml.v3's
// decoder makes of it, when the text keeps to the block YAML rendered
// manifests are made of: block mappings and sequences indented with
// spaces, one-line plain, single-quoted and (escape-free) double-quoted
// scalars, one-line flow sequences of such scalars, empty flow
// collections, literal block scalars ("|", "|-"), comments at the end of
// a line that holds a scalar, and comment lines right above the first
// key. Anything else (other comments, anchors, tags, folded scalars,
// other scalars over several lines, tabs, non-ASCII text, markers of
// documents) makes it decline with ok false, and the caller parses with
// yaml.v3, which also words every error: what fastParse accepts always
// parses.
// fastparse_test.go compares both on tables, corpora, random documents
// and a fuzz target.
func fastParse(raw []byte) (doc *yaml.Node, ok bool) {
	p := fastParser{src: string(raw)}
	if !p.scanLines() {
		return nil, false
	}
	first := p.skipBlank(0)
	if first == len(p.lines) {
		return nil, false // no content: yaml.v3 decides what that is
	}
	ln := p.lines[first]
	root, next, ok := p.block(first, ln.indent)
	if !ok || root.Kind != yaml.MappingNode || p.skipBlank(next) != len(p.lines) {
		return nil, false
	}
	root.Content[0].HeadComment = p.head
	doc = p.node(yaml.DocumentNode, "", "", root.Line, root.Column)
	doc.Content = []*yaml.Node{root}
	return doc, true
}

// fastLine is one line of the text: its bounds (the newline excluded)
// and the number of spaces that start it.
type fastLine struct {
	start, end, indent int
	blank              bool
}

type fastParser struct {
	src   string
	lines []fastLine
	// arena hands out nodes a block at a time; a full block is left
	// as it is (its nodes are in use) and a new one started. links does
	// the same for content lists, which collect on stack meanwhile.
	arena []yaml.Node
	links []*yaml.Node
	stack []*yaml.Node
	// head is the comment above the first key, "" when none.
	head string
	// depth is the nesting of the collection being read; deeper text
	// than fastMaxDepth is left to yaml.v3 (and the limits' check).
	depth int
}

// fastMaxDepth bounds fastParse's recursion.
const fastMaxDepth = 100

// content returns the nodes pushed on the stack since base, in a list of
// their own (appending to it never writes over another list), and pops
// them.
func (p *fastParser) content(base int) []*yaml.Node {
	n := len(p.stack) - base
	if n == 0 {
		return nil
	}
	if len(p.links)+n > cap(p.links) {
		p.links = make([]*yaml.Node, 0, max(n, 256))
	}
	start := len(p.links)
	p.links = append(p.links, p.stack[base:]...)
	clear(p.stack[base:])
	p.stack = p.stack[:base]
	return p.links[start:len(p.links):len(p.links)]
}

// fastByte classifies bytes for scanLines: 0 declines the text.
var fastByte = func() (t [256]bool) {
	for c := 0x20; c <= 0x7E; c++ {
		t[c] = true
	}
	t['\n'] = true
	return t
}()

// scanLines cuts the text into lines, declining text outside printable
// ASCII (tabs and carriage returns included), comment lines, and lines
// that start with a document marker or a directive.
func (p *fastParser) scanLines() bool {
	s := p.src
	n := 1
	for i := 0; i < len(s); i++ {
		if !fastByte[s[i]] {
			return false
		}
		if s[i] == '\n' {
			n++
		}
	}
	p.lines = make([]fastLine, 0, n)
	// Comment lines are read only at the start, in column 0, right above
	// the first key, whose head comment they are (Helm's "# Source:").
	const (
		before = iota
		inComments
		afterBlank
		inContent
	)
	state, headStart := before, 0
	for start := 0; start <= len(s); {
		end := start
		for end < len(s) && s[end] != '\n' {
			end++
		}
		ln := fastLine{start: start, end: end}
		for ln.indent < end-start && s[start+ln.indent] == ' ' {
			ln.indent++
		}
		ln.blank = ln.indent == end-start
		switch {
		case ln.blank:
			if state == inComments {
				state = afterBlank
			}
		case s[start+ln.indent] == '#':
			if ln.indent > 0 || state == afterBlank || state == inContent {
				return false
			}
			if state == before {
				state, headStart = inComments, start
			}
			p.head = s[headStart:end]
			ln.blank = true
		default:
			if state == afterBlank {
				return false
			}
			state = inContent
			switch c := s[start+ln.indent]; {
			case c == '%' && ln.indent == 0:
				return false
			case ln.indent == 0 && end-start >= 3 && (s[start:start+3] == "---" || s[start:start+3] == "..."):
				return false
			}
		}
		p.lines = append(p.lines, ln)
		if end == len(s) {
			break
		}
		start = end + 1
	}
	return true
}

// skipBlank returns the first line from l that is not blank.
func (p *fastParser) skipBlank(l int) int {
	for l < len(p.lines) && p.lines[l].blank {
		l++
	}
	return l
}

// node returns a new node; line and col count from 0.
func (p *fastParser) node(kind yaml.Kind, tag, value string, line, col int) *yaml.Node {
	if len(p.arena) == cap(p.arena) {
		// Blocks double from 32, up to about two nodes a line (a key and
		// its value): a declined text wastes little.
		p.arena = make([]yaml.Node, 0, min(max(32, 2*cap(p.arena)), max(32, 2*len(p.lines)+4)))
	}
	p.arena = append(p.arena, yaml.Node{Kind: kind, Tag: tag, Value: value, Line: line, Column: col})
	return &p.arena[len(p.arena)-1]
}

// text is the rest of line l from column c.
func (p *fastParser) text(l, c int) string {
	ln := p.lines[l]
	return p.src[ln.start+c : ln.end]
}

// block reads the block node at line l, column c, which is a key or a
// "-": a mapping or a sequence whose entries sit at column c. It returns
// the node and the line after it.
func (p *fastParser) block(l, c int) (*yaml.Node, int, bool) {
	if isDash(p.text(l, c)) {
		return p.sequence(l, c)
	}
	if p.isKey(l, c) {
		return p.mapping(l, c)
	}
	return nil, 0, false
}

// isDash reports whether text starts with a sequence entry indicator.
func isDash(text string) bool {
	return len(text) > 0 && text[0] == '-' && (len(text) == 1 || text[1] == ' ')
}

// sequence reads a block sequence whose "-" are at column c, the first
// on line l.
func (p *fastParser) sequence(l, c int) (*yaml.Node, int, bool) {
	if p.depth++; p.depth > fastMaxDepth {
		return nil, 0, false
	}
	seq := p.node(yaml.SequenceNode, "!!seq", "", l+1, c+1)
	base := len(p.stack)
	for {
		// Line l holds "-" at column c.
		rest := p.text(l, c+1)
		skip := 0
		for skip < len(rest) && rest[skip] == ' ' {
			skip++
		}
		var item *yaml.Node
		next := l + 1
		if skip == len(rest) {
			// An empty entry, unless a block follows on the next lines
			// (declined).
			if n := p.skipBlank(l + 1); n < len(p.lines) && p.lines[n].indent > c {
				return nil, 0, false
			}
			item = p.node(yaml.ScalarNode, "!!null", "", l+1, c+2)
		} else {
			ic := c + 1 + skip
			text := p.text(l, ic)
			if isDash(text) {
				return nil, 0, false // a sequence in a sequence
			}
			var ok bool
			if p.isKey(l, ic) {
				item, next, ok = p.mapping(l, ic)
			} else {
				item, next, ok = p.value(l, ic, c)
			}
			if !ok {
				return nil, 0, false
			}
		}
		p.stack = append(p.stack, item)
		n := p.skipBlank(next)
		if n == len(p.lines) || p.lines[n].indent < c {
			seq.Content = p.content(base)
			p.depth--
			return seq, n, true
		}
		if p.lines[n].indent > c {
			return nil, 0, false
		}
		if !isDash(p.text(n, c)) {
			// A key at the column of the sequence: the sequence was the
			// value of the key before it.
			seq.Content = p.content(base)
			p.depth--
			return seq, n, true
		}
		l = n
	}
}

// mapping reads a block mapping whose keys are at column c, the first on
// line l.
func (p *fastParser) mapping(l, c int) (*yaml.Node, int, bool) {
	if p.depth++; p.depth > fastMaxDepth {
		return nil, 0, false
	}
	m := p.node(yaml.MappingNode, "!!map", "", l+1, c+1)
	base := len(p.stack)
	for {
		key, colon, ok := p.key(l, c)
		if !ok {
			return nil, 0, false
		}
		rest := p.text(l, colon+1)
		skip := 0
		for skip < len(rest) && rest[skip] == ' ' {
			skip++
		}
		var value *yaml.Node
		next := l + 1
		if skip == len(rest) {
			n := p.skipBlank(l + 1)
			switch {
			case n < len(p.lines) && p.lines[n].indent > c:
				value, next, ok = p.block(n, p.lines[n].indent)
			case n < len(p.lines) && p.lines[n].indent == c && isDash(p.text(n, c)):
				value, next, ok = p.sequence(n, c)
			default:
				value = p.node(yaml.ScalarNode, "!!null", "", l+1, colon+2)
			}
			if !ok {
				return nil, 0, false
			}
		} else {
			if skip == 0 {
				return nil, 0, false
			}
			if value, next, ok = p.value(l, colon+1+skip, c); !ok {
				return nil, 0, false
			}
		}
		p.stack = append(p.stack, key, value)
		n := p.skipBlank(next)
		if n == len(p.lines) || p.lines[n].indent < c {
			m.Content = p.content(base)
			p.depth--
			return m, n, true
		}
		if p.lines[n].indent > c || isDash(p.text(n, c)) {
			// A continued scalar, or an entry of a sequence at the
			// column of a mapping that is not its value.
			return nil, 0, false
		}
		l = n
	}
}

// key reads the key at line l, column c, which a ":" and a space (or the
// end of the line) follow; colon is the column of the ":".
func (p *fastParser) key(l, c int) (key *yaml.Node, colon int, ok bool) {
	value, style, end, ok := p.keyText(l, c)
	if !ok {
		return nil, 0, false
	}
	return p.scalarNode(value, style, l, c), c + end, true
}

// isKey reports whether a key starts at line l, column c.
func (p *fastParser) isKey(l, c int) bool {
	_, _, _, ok := p.keyText(l, c)
	return ok
}

// keyText reads the key at line l, column c: its value and style, and
// the offset of the ":" from c.
func (p *fastParser) keyText(l, c int) (value string, style yaml.Style, end int, ok bool) {
	text := p.text(l, c)
	if len(text) == 0 {
		return "", 0, 0, false
	}
	switch text[0] {
	case '"', '\'':
		v, n, ok := quoted(text)
		if !ok {
			return "", 0, 0, false
		}
		value, end = v, n
		style = yaml.DoubleQuotedStyle
		if text[0] == '\'' {
			style = yaml.SingleQuotedStyle
		}
	default:
		if !plainStart(text, false) {
			return "", 0, 0, false
		}
		for end < len(text) && !(text[end] == ':' && (end+1 == len(text) || text[end+1] == ' ')) {
			if text[end] == '#' && text[end-1] == ' ' {
				return "", 0, 0, false // a comment
			}
			end++
		}
		value = text[:end]
		if end == len(text) || value[len(value)-1] == ' ' {
			return "", 0, 0, false
		}
	}
	// yaml.v3 takes at most 1024 characters for a simple key.
	if end > 1000 || end == len(text) || text[end] != ':' || end+1 < len(text) && text[end+1] != ' ' {
		return "", 0, 0, false
	}
	return value, style, end, true
}

// value reads the scalar or flow collection at line l, column c, which
// ends the line (a comment may follow a scalar), or the literal block
// scalar that starts there; parent is the column of the collection it is
// in. It returns the line after the value.
func (p *fastParser) value(l, c, parent int) (*yaml.Node, int, bool) {
	if p.text(l, c)[0] == '|' {
		return p.literal(l, c, parent)
	}
	n, ok := p.lineValue(l, c)
	return n, l + 1, ok
}

// literal reads a literal block scalar ("|" or "|-") whose indicator is
// at line l, column c, in a collection at column parent: its lines are
// those indented deeper than parent, at the first one's indentation.
// Leading blank lines, blank lines holding more than the indentation,
// "|+", indentation indicators, comments after the indicator and a
// scalar that ends the text without a line break are declined.
func (p *fastParser) literal(l, c, parent int) (*yaml.Node, int, bool) {
	strip := false
	switch p.text(l, c) {
	case "|":
	case "|-":
		strip = true
	default:
		return nil, 0, false
	}
	first := l + 1
	if first >= len(p.lines) || p.lines[first].blank || p.lines[first].indent <= parent {
		return nil, 0, false
	}
	indent := p.lines[first].indent
	// The scalar's lines, blank ones included; trailing blank lines are
	// chomped.
	last := first
	for i := first + 1; i < len(p.lines); i++ {
		ln := p.lines[i]
		if ln.blank {
			if ln.end-ln.start > indent {
				return nil, 0, false
			}
			continue
		}
		if ln.indent < indent {
			break
		}
		last = i
	}
	if last == len(p.lines)-1 {
		return nil, 0, false // no line break after the last line
	}
	var b []byte
	for i := first; i <= last; i++ {
		ln := p.lines[i]
		if !ln.blank {
			b = append(b, p.src[ln.start+indent:ln.end]...)
		}
		if i < last || !strip {
			b = append(b, '\n')
		}
	}
	n := p.scalarNode(string(b), yaml.LiteralStyle, l, c)
	return n, last + 1, true
}

// lineValue reads the scalar or flow collection at line l, column c,
// which ends the line (a comment may follow a scalar).
func (p *fastParser) lineValue(l, c int) (*yaml.Node, bool) {
	text := p.text(l, c)
	switch text[0] {
	case '[':
		return p.flowSequence(l, c)
	case '{':
		// Only an empty flow mapping.
		i := 1
		for i < len(text) && text[i] == ' ' {
			i++
		}
		if i == len(text) || text[i] != '}' || !onlySpaces(text[i+1:]) {
			return nil, false
		}
		n := p.node(yaml.MappingNode, "!!map", "", l+1, c+1)
		n.Style = yaml.FlowStyle
		return n, true
	case '"', '\'':
		v, end, ok := quoted(text)
		if !ok {
			return nil, false
		}
		style := yaml.DoubleQuotedStyle
		if text[0] == '\'' {
			style = yaml.SingleQuotedStyle
		}
		n := p.scalarNode(v, style, l, c)
		comment, ok := trailer(text[end:])
		n.LineComment = comment
		return n, ok
	}
	if !plainStart(text, false) {
		return nil, false
	}
	end := 0
	for end < len(text) {
		switch text[end] {
		case ':':
			if end+1 == len(text) || text[end+1] == ' ' {
				return nil, false
			}
		case '#':
			if text[end-1] == ' ' {
				goto done
			}
		}
		end++
	}
done:
	v := text[:end]
	for len(v) > 0 && v[len(v)-1] == ' ' {
		v = v[:len(v)-1]
	}
	n := p.scalarNode(v, 0, l, c)
	comment, ok := trailer(text[len(v):])
	n.LineComment = comment
	return n, ok
}

// flowSequence reads a one-line flow sequence of scalars at line l,
// column c, which ends the line.
func (p *fastParser) flowSequence(l, c int) (*yaml.Node, bool) {
	text := p.text(l, c)
	seq := p.node(yaml.SequenceNode, "!!seq", "", l+1, c+1)
	seq.Style = yaml.FlowStyle
	base := len(p.stack)
	defer func() { seq.Content = p.content(base) }()
	i := 1
	for {
		for i < len(text) && text[i] == ' ' {
			i++
		}
		if i == len(text) {
			return nil, false
		}
		if text[i] == ']' {
			if len(p.stack) > base {
				return nil, false // "[a, ]"
			}
			break
		}
		var item *yaml.Node
		switch text[i] {
		case '"', '\'':
			v, n, ok := quoted(text[i:])
			if !ok {
				return nil, false
			}
			style := yaml.DoubleQuotedStyle
			if text[i] == '\'' {
				style = yaml.SingleQuotedStyle
			}
			item = p.scalarNode(v, style, l, c+i)
			i += n
		default:
			if !plainStart(text[i:], true) {
				return nil, false
			}
			end := i
			for end < len(text) {
				ch := text[end]
				if ch == ',' || ch == ']' || ch == '[' || ch == '{' || ch == '}' || ch == ':' || ch == '#' {
					break
				}
				end++
			}
			if end == len(text) || text[end] != ',' && text[end] != ']' {
				return nil, false
			}
			v := text[i:end]
			for len(v) > 0 && v[len(v)-1] == ' ' {
				v = v[:len(v)-1]
			}
			item = p.scalarNode(v, 0, l, c+i)
			i = end
		}
		p.stack = append(p.stack, item)
		for i < len(text) && text[i] == ' ' {
			i++
		}
		if i == len(text) {
			return nil, false
		}
		if text[i] == ']' {
			break
		}
		if text[i] != ',' {
			return nil, false
		}
		i++
	}
	// After "]": nothing but spaces (a comment there is declined).
	if !onlySpaces(text[i+1:]) {
		return nil, false
	}
	return seq, true
}

// scalarNode makes the node of a scalar as yaml.v3's parser does: a
// quoted one is a !!str, a plain one has the tag its value resolves to
// ("<<" is a merge key).
func (p *fastParser) scalarNode(value string, style yaml.Style, l, c int) *yaml.Node {
	n := p.node(yaml.ScalarNode, "", value, l+1, c+1)
	n.Style = style
	switch {
	case style != 0:
		n.Tag = "!!str"
	case value == "<<":
		n.Tag = "!!merge"
	default:
		n.Tag = plainTag(n)
	}
	return n
}

// plainTag is n.ShortTag() for a plain scalar node without a tag: the
// tag yaml.v3 resolves its value to. yaml.v3 looks up only values whose
// first character may start something other than a string, and of those
// starting with a letter or "~" knows only the booleans and nulls; the
// rest (numbers, mostly) it is asked, at the cost of an allocation.
func plainTag(n *yaml.Node) string {
	v := n.Value
	if v == "" {
		return "!!null"
	}
	switch v[0] {
	case 'y', 'Y', 'n', 'N', 't', 'T', 'f', 'F', 'o', 'O', '~':
		switch v {
		case "true", "True", "TRUE", "false", "False", "FALSE":
			return "!!bool"
		case "~", "null", "Null", "NULL":
			return "!!null"
		}
		return "!!str"
	case '+', '-', '.', '0', '1', '2', '3', '4', '5', '6', '7', '8', '9':
		return n.ShortTag()
	}
	return "!!str"
}

// plainStart reports whether text may start a plain scalar: not with an
// indicator, nor with "-", "?" or ":" followed by a space (in flow
// context, by a flow indicator too).
func plainStart(text string, flow bool) bool {
	if len(text) == 0 {
		return false
	}
	switch text[0] {
	case '#', ',', '[', ']', '{', '}', '&', '*', '!', '|', '>', '\'', '"', '%', '@', '`', ' ':
		return false
	case '-', '?', ':':
		if len(text) == 1 || text[1] == ' ' {
			return false
		}
		if flow && (text[1] == ',' || text[1] == '[' || text[1] == ']' || text[1] == '{' || text[1] == '}') {
			return false
		}
		if text[0] != '-' {
			return false // "?x", ":x": rare, and yaml.v3 reads them in its own ways
		}
	}
	return true
}

// quoted reads the one-line quoted scalar text starts with; n is its
// length with the quotes. Double-quoted text with escapes is declined.
func quoted(text string) (value string, n int, ok bool) {
	q := text[0]
	if q == '"' {
		for i := 1; i < len(text); i++ {
			switch text[i] {
			case '\\':
				return "", 0, false
			case '"':
				return text[1:i], i + 1, true
			}
		}
		return "", 0, false
	}
	for i := 1; i < len(text); i++ {
		if text[i] != '\'' {
			continue
		}
		if i+1 < len(text) && text[i+1] == '\'' {
			return "", 0, false // a doubled quote: rare; declined
		}
		return text[1:i], i + 1, true
	}
	return "", 0, false
}

// trailer reads what follows a value on its line: nothing, or spaces
// and a comment, which it returns.
func trailer(text string) (comment string, ok bool) {
	i := 0
	for i < len(text) && text[i] == ' ' {
		i++
	}
	if i == len(text) {
		return "", true
	}
	if i == 0 || text[i] != '#' {
		return "", false
	}
	comment = text[i:]
	if comment[len(comment)-1] == ' ' {
		return "", false // yaml.v3's handling of trailing spaces: not reproduced
	}
	return comment, true
}

func onlySpaces(s string) bool {
	for i := 0; i < len(s); i++ {
		if s[i] != ' ' {
			return false
		}
	}
	return true
}
