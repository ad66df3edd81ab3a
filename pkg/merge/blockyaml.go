package merge

import (
	"math"
	"regexp"
	"strconv"
	"strings"
	"time"
)

// parseBlockYAML reads the YAML that injection templates render (block
// mappings and sequences, plain and quoted one-line scalars, literal
// block scalars, one-level flow mappings and sequences, comments and
// blank lines) straight into the JSON data model, as
// sigs.k8s.io/yaml.Unmarshal into a map reads it: yaml.v2's YAML 1.1
// scalars, keys turned into strings, numbers into float64. It is a
// subset reader: ok is false for anything outside that subset (anchors,
// tags, multi-line plain or quoted scalars, folded scalars, tabs,
// non-ASCII text, a top level that is not a mapping...) and for every
// error, and the caller then reads the overlay the general way. It
// never reads a document differently from yaml.v2.
func parseBlockYAML(overlay []byte) (map[string]any, bool) {
	p := blockParser{}
	if !p.split(string(overlay)) {
		return nil, false
	}
	i := p.next(0)
	if i == len(p.lines) {
		return map[string]any{}, true // only blank lines and comments
	}
	if p.lines[i].col != 0 {
		return nil, false
	}
	m, i, ok := p.mapping(i, 0)
	if !ok || i != len(p.lines) {
		return nil, false
	}
	return m, true
}

// blockParser holds the overlay's lines. col is where a line's content
// starts: its indentation, or after "- " when the line opens a compact
// mapping inside a sequence entry.
type blockParser struct {
	lines []blockLine
	depth int
}

type blockLine struct {
	raw string // without the line break
	col int
	// last: the line has no line break after it.
	last bool
}

// maxBlockDepth bounds nesting; deeper overlays take the general road.
const maxBlockDepth = 200

// split cuts the text into lines, refusing what the subset leaves out
// everywhere: tabs, carriage returns, other control characters,
// non-ASCII text and document markers.
func (p *blockParser) split(s string) bool {
	if !plainText(s) {
		return false
	}
	p.lines = make([]blockLine, 0, strings.Count(s, "\n")+1)
	for {
		raw, rest, found := strings.Cut(s, "\n")
		if strings.HasPrefix(raw, "---") || strings.HasPrefix(raw, "...") || strings.HasPrefix(raw, "%") {
			return false
		}
		col := 0
		for col < len(raw) && raw[col] == ' ' {
			col++
		}
		p.lines = append(p.lines, blockLine{raw: raw, col: col, last: !found})
		s = rest
		if !found {
			break
		}
	}
	return true
}

// plainText reports whether s holds only printable ASCII and line
// breaks. Eight bytes at a time: the overlays are long and nearly always
// plain.
func plainText(s string) bool {
	const ones, highs = 0x0101010101010101, 0x8080808080808080
	i := 0
	for ; i+8 <= len(s); i += 8 {
		w := uint64(s[i]) | uint64(s[i+1])<<8 | uint64(s[i+2])<<16 | uint64(s[i+3])<<24 |
			uint64(s[i+4])<<32 | uint64(s[i+5])<<40 | uint64(s[i+6])<<48 | uint64(s[i+7])<<56
		del := w ^ (0x7f * ones)
		// A byte of 0x80 or more, a byte equal to 0x7f, or one below 0x20
		// (exact tests on each byte's high bit).
		if w&highs != 0 || (del-ones)&^del&highs != 0 || (w-0x20*ones)&^w&highs != 0 {
			if !plainBytes(s[i : i+8]) {
				return false
			}
		}
	}
	return plainBytes(s[i:])
}

func plainBytes(s string) bool {
	for i := range len(s) {
		if c := s[i]; (c < 0x20 && c != '\n') || c > 0x7e {
			return false
		}
	}
	return true
}

// blank reports whether line i holds nothing but spaces or a comment.
func (p *blockParser) blank(i int) bool {
	l := p.lines[i]
	return l.col == len(l.raw) || l.raw[l.col] == '#'
}

// next returns the first line from i on with content.
func (p *blockParser) next(i int) int {
	for i < len(p.lines) && p.blank(i) {
		i++
	}
	return i
}

func (p *blockParser) text(i int) string {
	return p.lines[i].raw[p.lines[i].col:]
}

// isEntry reports whether text t starts a sequence entry.
func isEntry(t string) bool {
	return t == "-" || strings.HasPrefix(t, "- ")
}

// mapping reads the block mapping whose keys are at column indent,
// starting at line i; it returns the line after it.
func (p *blockParser) mapping(i, indent int) (map[string]any, int, bool) {
	if p.depth++; p.depth > maxBlockDepth {
		return nil, 0, false
	}
	defer func() { p.depth-- }()
	m := map[string]any{}
	for i < len(p.lines) {
		key, rest, end, ok := p.entry(i, indent)
		if end {
			break
		}
		if !ok {
			return nil, 0, false
		}
		if _, dup := m[key]; dup {
			return nil, 0, false
		}
		var val any
		if val, i, ok = p.value(i, indent, rest); !ok {
			return nil, 0, false
		}
		m[key] = val
	}
	return m, i, true
}

// entry splits line i, in a block mapping at column indent, into its key
// and what follows "key:". end is true when the mapping ended before the
// line (a shallower one); ok is false when the line is a continuation,
// misplaced, or not an entry of the subset.
func (p *blockParser) entry(i, indent int) (key, rest string, end, ok bool) {
	l := p.lines[i]
	if l.col < indent {
		return "", "", true, true
	}
	if l.col > indent || isEntry(p.text(i)) {
		return "", "", false, false
	}
	key, rest, ok = splitKey(p.text(i))
	return key, rest, false, ok
}

// valuePlace is where a mapping's value stands, as both readers see it.
type valuePlace int

const (
	placeNull    valuePlace = iota // nothing: null
	placeBlock                     // a block collection on the following lines
	placeLiteral                   // a literal block scalar ("|")
	placeInline                    // a scalar or flow collection after the key
)

// place says where the value of the entry on line i stands: rest is what
// follows "key:". It returns rest without its leading spaces, and for a
// null or block value the line that follows or starts it (j) and, for a
// block, that line's column. A block is deeper than the key, or a
// sequence at the key's column.
func (p *blockParser) place(i, indent int, rest string) (pl valuePlace, text string, j, col int) {
	rest = strings.TrimLeft(rest, " ")
	switch {
	case rest == "" || rest[0] == '#':
		j := p.next(i + 1)
		if j == len(p.lines) {
			return placeNull, rest, j, 0
		}
		if c := p.lines[j].col; c > indent || (c == indent && isEntry(p.text(j))) {
			return placeBlock, rest, j, c
		}
		return placeNull, rest, j, 0
	case rest[0] == '|':
		return placeLiteral, rest, 0, 0
	}
	return placeInline, rest, 0, 0
}

// afterInline returns the line after an inline value that ended on line
// after; false when a deeper line follows (a multi-line plain scalar, or
// an error).
func (p *blockParser) afterInline(after, indent int) (int, bool) {
	j := p.next(after + 1)
	if j < len(p.lines) && p.lines[j].col > indent {
		return 0, false
	}
	return j, true
}

// value reads a mapping's value: rest is what follows "key:" on line i.
func (p *blockParser) value(i, indent int, rest string) (any, int, bool) {
	pl, rest, j, col := p.place(i, indent, rest)
	switch pl {
	case placeNull:
		return nil, j, true
	case placeBlock:
		if isEntry(p.text(j)) {
			return p.sequence(j, col)
		}
		return p.mapping(j, col)
	case placeLiteral:
		return p.literal(i, indent, rest)
	}
	v, after, ok := scalarOrFlow(p, i, rest)
	if !ok {
		return nil, 0, false
	}
	if j, ok = p.afterInline(after, indent); !ok {
		return nil, 0, false
	}
	return v, j, true
}

// node reads the block collection that starts on line i.
func (p *blockParser) node(i int) (any, int, bool) {
	if isEntry(p.text(i)) {
		return p.sequence(i, p.lines[i].col)
	}
	return p.mapping(i, p.lines[i].col)
}

// sequence reads the block sequence whose dashes are at column indent.
func (p *blockParser) sequence(i, indent int) ([]any, int, bool) {
	if p.depth++; p.depth > maxBlockDepth {
		return nil, 0, false
	}
	defer func() { p.depth-- }()
	out := []any{}
	for i < len(p.lines) {
		l := p.lines[i]
		if l.col < indent || (l.col == indent && !isEntry(p.text(i))) {
			break
		}
		if l.col > indent {
			return nil, 0, false
		}
		t := p.text(i)
		item := strings.TrimLeft(t[1:], " ")
		if item == "" || item[0] == '#' || isEntry(item) || item[0] == '|' || item[0] == '>' {
			// Nested on the next lines, nested sequences and block
			// scalars in entries are left to yaml.v2.
			return nil, 0, false
		}
		col := l.col + len(t) - len(item)
		if _, _, isKey := splitKey(item); isKey {
			// A compact mapping: its keys are at the item's column.
			p.lines[i].col = col
			v, next, ok := p.mapping(i, col)
			if !ok {
				return nil, 0, false
			}
			out = append(out, v)
			i = next
			continue
		}
		v, after, ok := scalarOrFlow(p, i, item)
		if !ok {
			return nil, 0, false
		}
		j, ok := p.afterInline(after, indent)
		if !ok {
			return nil, 0, false
		}
		out = append(out, v)
		i = j
	}
	return out, i, true
}

// splitKey splits "key: rest" (or "key:" with nothing after); ok is
// false when text is not a mapping entry of the subset: keys are plain
// words of letters, digits and ._/- (not first), or quoted strings.
func splitKey(text string) (key, rest string, ok bool) {
	var raw string
	quoted := false
	switch {
	case text == "":
		return "", "", false
	case text[0] == '"' || text[0] == '\'':
		s, n, ok := quotedScalar(text)
		if !ok {
			return "", "", false
		}
		raw, text, quoted = s, text[n:], true
	default:
		n := 0
		for n < len(text) && keyByte(text[n]) {
			n++
		}
		if n == 0 || text[0] == '-' {
			return "", "", false
		}
		raw, text = text[:n], text[n:]
	}
	if text == "" || text[0] != ':' || (len(text) > 1 && text[1] != ' ') {
		return "", "", false
	}
	if len(raw) > 1000 {
		return "", "", false // yaml.v2 limits simple keys
	}
	if quoted {
		return raw, text[1:], true
	}
	k, ok := plainKey(raw)
	return k, text[1:], ok
}

func keyByte(c byte) bool {
	return c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9' ||
		c == '.' || c == '_' || c == '/' || c == '-'
}

// plainKey is the string sigs.k8s.io/yaml makes of a plain key.
func plainKey(raw string) (string, bool) {
	if c := raw[0]; c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c == '_' || c == '/' {
		switch c {
		case 'y', 'Y', 'n', 'N', 't', 'T', 'f', 'F', 'o', 'O':
			// Booleans and null among these: resolved below.
		default:
			// A plain key starting so resolves to itself (split took
			// ASCII text only).
			return raw, true
		}
	}
	v, ok := resolvePlain(raw)
	if !ok {
		return "", false
	}
	return overlayKey(v)
}

// scalarOrFlow reads, at the start of text (on line i), a quoted or plain
// scalar, or a flow collection, and what may follow it on its last line:
// spaces and a comment. It returns the value in the JSON data model and
// the last line it read.
func scalarOrFlow(p *blockParser, i int, text string) (any, int, bool) {
	switch text[0] {
	case '{', '[':
		f := flowReader{p: p, line: i, pos: len(p.lines[i].raw) - len(text)}
		v, ok := f.collection()
		if !ok || !f.restOfLineEmpty() {
			return nil, 0, false
		}
		return v, f.line, true
	case '"', '\'':
		s, n, ok := quotedScalar(text)
		if !ok || !emptyRest(text[n:]) {
			return nil, 0, false
		}
		return s, i, true
	}
	raw, ok := blockPlain(text)
	if !ok {
		return nil, 0, false
	}
	if v, ok := decimalOrText(raw); ok {
		return v, i, true
	}
	v, ok := resolvePlain(raw)
	if !ok {
		return nil, 0, false
	}
	v, ok = overlayValue(v, 0)
	return v, i, ok
}

// emptyRest reports whether what follows a scalar on its line is only
// spaces and a comment.
func emptyRest(s string) bool {
	t := strings.TrimLeft(s, " ")
	return t == "" || (t[0] == '#' && len(t) < len(s))
}

// blockPlain reads a one-line plain scalar in block context: text up to
// a comment, trailing spaces cut. It refuses a first character that is
// an indicator, and ": " or a final ':' (an error in a value).
func blockPlain(text string) (string, bool) {
	switch text[0] {
	case '-':
		if len(text) == 1 || text[1] == ' ' {
			return "", false
		}
	case '?', ':', ',', '[', ']', '{', '}', '#', '&', '*', '!', '|', '>', '\'', '"', '%', '@', '`':
		return "", false
	}
	if i := strings.Index(text, " #"); i >= 0 {
		text = text[:i]
	}
	text = strings.TrimRight(text, " ")
	if strings.Contains(text, ": ") || strings.HasSuffix(text, ":") {
		return "", false
	}
	return text, true
}

// quotedScalar reads a one-line quoted scalar at the start of text; n is
// the length read. Double-quoted escapes beyond \\ \" \/ \n \t \r are
// left to yaml.v2.
func quotedScalar(text string) (s string, n int, ok bool) {
	q := text[0]
	var b []byte // only when unescaping
	for i := 1; i < len(text); i++ {
		c := text[i]
		switch {
		case q == '\'' && c == '\'':
			if i+1 < len(text) && text[i+1] == '\'' {
				if b == nil {
					b = append([]byte(nil), text[1:i]...)
				}
				b = append(b, '\'')
				i++
				continue
			}
			if b != nil {
				return string(b), i + 1, true
			}
			return text[1:i], i + 1, true
		case q == '"' && c == '"':
			if b != nil {
				return string(b), i + 1, true
			}
			return text[1:i], i + 1, true
		case q == '"' && c == '\\':
			if i+1 >= len(text) {
				return "", 0, false
			}
			var r byte
			switch text[i+1] {
			case '\\', '"', '/':
				r = text[i+1]
			case 'n':
				r = '\n'
			case 't':
				r = '\t'
			case 'r':
				r = '\r'
			default:
				return "", 0, false
			}
			if b == nil {
				b = append([]byte(nil), text[1:i]...)
			}
			b = append(b, r)
			i++
			continue
		}
		if b != nil {
			b = append(b, c)
		}
	}
	return "", 0, false // not closed on this line
}

// literal reads a literal block scalar ("|", "|-" or "|+") whose parent
// mapping is at column indent; header is the text from "|" on.
func (p *blockParser) literal(i, indent int, header string) (any, int, bool) {
	chomp := byte(0)
	switch header {
	case "|":
	case "|-", "|+":
		chomp = header[1]
	default:
		return nil, 0, false // indentation indicators, comments
	}
	// The first line decides the indentation; leading blank lines and a
	// first line no deeper than the parent are left to yaml.v2.
	first := i + 1
	if first >= len(p.lines) || p.lines[first].col == len(p.lines[first].raw) || p.lines[first].col <= indent {
		return nil, 0, false
	}
	ind := p.lines[first].col
	var b strings.Builder
	breaks := 0 // line breaks not yet written: of the last line and blank ones
	j := first
	for ; j < len(p.lines); j++ {
		l := p.lines[j]
		allSpace := l.col == len(l.raw)
		if allSpace && len(l.raw) <= ind {
			if l.last {
				break
			}
			breaks++
			continue
		}
		if !allSpace && l.col < ind {
			break
		}
		if l.last {
			return nil, 0, false // no line break after the text
		}
		for ; breaks > 0; breaks-- {
			b.WriteByte('\n')
		}
		b.WriteString(l.raw[ind:])
		breaks = 1
	}
	// breaks counts the last text line's break and the blank lines after.
	switch chomp {
	case 0:
		b.WriteByte('\n')
	case '+':
		for ; breaks > 0; breaks-- {
			b.WriteByte('\n')
		}
	}
	k := p.next(j)
	if k < len(p.lines) && p.lines[k].col > indent {
		return nil, 0, false
	}
	return b.String(), k, true
}

// flowReader reads a flow collection, which may span lines.
type flowReader struct {
	p     *blockParser
	line  int
	pos   int // in the raw line
	depth int
}

func (f *flowReader) peek() byte {
	raw := f.p.lines[f.line].raw
	if f.pos >= len(raw) {
		return '\n'
	}
	return raw[f.pos]
}

// skip moves past spaces, line ends and comments; ok is false at the end
// of the text.
func (f *flowReader) skip() bool {
	for {
		raw := f.p.lines[f.line].raw
		for f.pos < len(raw) && raw[f.pos] == ' ' {
			f.pos++
		}
		if f.pos < len(raw) && raw[f.pos] == '#' && (f.pos == 0 || raw[f.pos-1] == ' ') {
			f.pos = len(raw)
		}
		if f.pos < len(raw) {
			return true
		}
		if f.line+1 >= len(f.p.lines) || f.p.lines[f.line].last {
			return false
		}
		f.line, f.pos = f.line+1, 0
	}
}

// restOfLineEmpty reports whether only spaces and a comment follow on
// the current line.
func (f *flowReader) restOfLineEmpty() bool {
	raw := f.p.lines[f.line].raw
	return emptyRest(raw[f.pos:]) || f.pos == len(raw)
}

func (f *flowReader) collection() (any, bool) {
	if f.depth++; f.depth > maxBlockDepth {
		return nil, false
	}
	defer func() { f.depth-- }()
	open := f.peek()
	f.pos++
	if open == '{' {
		m := map[string]any{}
		for {
			if !f.skip() {
				return nil, false
			}
			if f.peek() == '}' {
				f.pos++
				return m, true
			}
			key, ok := f.key()
			if !ok {
				return nil, false
			}
			if _, dup := m[key]; dup {
				return nil, false
			}
			val, ok := f.value()
			if !ok {
				return nil, false
			}
			m[key] = val
			if !f.separator('}') {
				return nil, false
			}
		}
	}
	l := []any{}
	for {
		if !f.skip() {
			return nil, false
		}
		if f.peek() == ']' {
			f.pos++
			return l, true
		}
		v, ok := f.value()
		if !ok {
			return nil, false
		}
		l = append(l, v)
		if !f.separator(']') {
			return nil, false
		}
	}
}

// separator moves past the ',' after an entry, or stops before the
// closing bracket.
func (f *flowReader) separator(closing byte) bool {
	if !f.skip() {
		return false
	}
	switch f.peek() {
	case ',':
		f.pos++
		return true
	case closing:
		return true
	}
	return false
}

// key reads a flow mapping key and its ':', on one line.
func (f *flowReader) key() (string, bool) {
	raw := f.p.lines[f.line].raw
	rest := raw[f.pos:]
	var key string
	var n int
	if rest[0] == '"' || rest[0] == '\'' {
		s, m, ok := quotedScalar(rest)
		if !ok {
			return "", false
		}
		key, n = s, m
	} else {
		for n < len(rest) && keyByte(rest[n]) {
			n++
		}
		if n == 0 || rest[0] == '-' || len(rest[:n]) > 1000 {
			return "", false
		}
		k, ok := plainKey(rest[:n])
		if !ok {
			return "", false
		}
		key = k
	}
	// ": " (or ':' at the line's end); no space before the colon.
	if n >= len(rest) || rest[n] != ':' || (n+1 < len(rest) && rest[n+1] != ' ') {
		return "", false
	}
	f.pos += n + 1
	return key, true
}

// value reads a flow value: a quoted scalar, a plain word or a nested
// collection; a plain value must end on its line.
func (f *flowReader) value() (any, bool) {
	raw := f.p.lines[f.line].raw
	for f.pos < len(raw) && raw[f.pos] == ' ' {
		f.pos++
	}
	if f.pos >= len(raw) {
		return nil, false // on the next line, or empty: left to yaml.v2
	}
	rest := raw[f.pos:]
	switch rest[0] {
	case '{', '[':
		return f.collection()
	case '"', '\'':
		s, n, ok := quotedScalar(rest)
		if !ok {
			return nil, false
		}
		f.pos += n
		return s, true
	}
	n := 0
	for n < len(rest) && keyByte(rest[n]) {
		n++
	}
	if n == 0 || rest[0] == '-' || rest[0] == '.' {
		return nil, false
	}
	// A plain word must be followed by what ends it: a separator, the
	// closing bracket, or spaces and the line's end or a comment.
	switch after := strings.TrimLeft(rest[n:], " "); {
	case after == "", after[0] == ',' || after[0] == '}' || after[0] == ']':
	case after[0] == '#' && len(after) < len(rest[n:]):
	default:
		return nil, false
	}
	v, ok := resolvePlain(rest[:n])
	if !ok {
		return nil, false
	}
	f.pos += n
	if f.pos >= len(raw) || raw[f.pos] == ' ' {
		// A line end after a plain word: the next text must end it.
		save := *f
		if !f.skip() {
			return nil, false
		}
		if c := f.peek(); c != ',' && c != '}' && c != ']' {
			return nil, false
		}
		*f = save
	}
	return overlayValue(v, 0)
}

// resolvePlain is the value yaml.v2 gives a plain scalar decoded into an
// any: YAML 1.1 booleans and nulls, integers (with _ separators, 0x, 0o
// and 0 octal, 0b binary), floats; timestamps and everything else stay
// strings. ok is false for the merge key "<<", which is not a value.
func resolvePlain(s string) (any, bool) {
	v, text, ok := resolvePlainKind(s)
	if text {
		return s, ok
	}
	return v, ok
}

// resolvePlainKind is resolvePlain telling a scalar that stays text
// (text true, v nil) without boxing it.
func resolvePlainKind(s string) (v any, text, ok bool) {
	if s == "" {
		return nil, false, true
	}
	switch s[0] {
	case 'y', 'Y', 'n', 'N', 't', 'T', 'f', 'F', 'o', 'O', '~':
		switch s {
		case "y", "Y", "yes", "Yes", "YES", "true", "True", "TRUE", "on", "On", "ON":
			return true, false, true
		case "n", "N", "no", "No", "NO", "false", "False", "FALSE", "off", "Off", "OFF":
			return false, false, true
		case "~", "null", "Null", "NULL":
			return nil, false, true
		}
		return nil, true, true
	case '.':
		switch s {
		case ".nan", ".NaN", ".NAN":
			return math.NaN(), false, true
		case ".inf", ".Inf", ".INF":
			return math.Inf(1), false, true
		}
		if f, err := strconv.ParseFloat(s, 64); err == nil {
			return f, false, true
		}
		return nil, true, true
	case '+', '-', '0', '1', '2', '3', '4', '5', '6', '7', '8', '9':
		switch s {
		case "+.inf", "+.Inf", "+.INF":
			return math.Inf(1), false, true
		case "-.inf", "-.Inf", "-.INF":
			return math.Inf(-1), false, true
		}
		v := resolveNumber(s)
		if t, isText := v.(string); isText && t == s {
			return nil, true, true
		}
		return v, false, true
	case '<':
		if s == "<<" {
			return nil, false, false
		}
	}
	return nil, true, true
}

// decimalOrText resolves, without the general resolver, the plain
// scalars templates render most: decimal integers (1337, as float64 in
// the data model) and quantities such as 100m or 128Mi, which start with
// digits and go on with a letter no number has (texts). ok is false for
// anything else.
func decimalOrText(s string) (any, bool) {
	if s == "" || s[0] < '1' || s[0] > '9' {
		return nil, false
	}
	n := 1
	for n < len(s) && s[n] >= '0' && s[n] <= '9' {
		n++
	}
	if n == len(s) {
		if n > 15 {
			return nil, false // beyond float64's exact integers: resolver
		}
		var v int64
		for i := range n {
			v = v*10 + int64(s[i]-'0')
		}
		return float64(v), true
	}
	// Not an integer nor a float (no '.', '_', exponent or sign next),
	// nor a timestamp (those have a '-' after four digits).
	if c := s[n]; c >= 'a' && c <= 'z' && c != 'e' || c >= 'A' && c <= 'Z' && c != 'E' {
		return s, true
	}
	return nil, false
}

var yaml11Float = regexp.MustCompile(`^[-+]?(\.[0-9]+|[0-9]+(\.[0-9]*)?)([eE][-+]?[0-9]+)?$`)

// timestampLayouts are the timestamp forms yaml.v2 recognises; such a
// scalar decodes into an any as its text.
var timestampLayouts = []string{
	"2006-1-2T15:4:5.999999999Z07:00",
	"2006-1-2t15:4:5.999999999Z07:00",
	"2006-1-2 15:4:5.999999999",
	"2006-1-2",
}

// resolveNumber resolves a plain scalar starting with a sign or digit.
func resolveNumber(s string) any {
	if len(s) > 4 && s[4] == '-' && isDigits4(s) {
		for _, layout := range timestampLayouts {
			if _, err := time.Parse(layout, s); err == nil {
				return s
			}
		}
	}
	plain := strings.ReplaceAll(s, "_", "")
	if i, err := strconv.ParseInt(plain, 0, 64); err == nil {
		return int(i)
	}
	if u, err := strconv.ParseUint(plain, 0, 64); err == nil {
		return u
	}
	if yaml11Float.MatchString(plain) {
		if f, err := strconv.ParseFloat(plain, 64); err == nil {
			return f
		}
	}
	if strings.HasPrefix(plain, "0b") {
		if i, err := strconv.ParseInt(plain[2:], 2, 64); err == nil {
			return int(i)
		}
		if u, err := strconv.ParseUint(plain[2:], 2, 64); err == nil {
			return u
		}
	} else if strings.HasPrefix(plain, "-0b") {
		if i, err := strconv.ParseInt("-"+plain[3:], 2, 64); err == nil {
			return int(i)
		}
	}
	return s
}

func isDigits4(s string) bool {
	for i := range 4 {
		if s[i] < '0' || s[i] > '9' {
			return false
		}
	}
	return true
}
