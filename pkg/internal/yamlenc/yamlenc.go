// Package yamlenc writes a YAML document node exactly as kyaml's encoder
// (yaml.v3 underneath, indent 2, wide or compact sequences) writes it, for
// the subset of nodes injected documents are made of, without yaml.v3's
// per-document event list. Anything outside the subset is declined and the
// caller falls back to kyaml's encoder, so accepted output never differs.
//
// The emitter below follows yaml.v3's emitterc.go state by state for that
// subset: line width is unlimited (kyaml never sets one); head and line
// comments are kept where yaml.v3's placement is simple (block keys and
// items, scalars, the document); foot comments, comments in flow
// collections, anchors, aliases, explicit tags, folded scalars and complex
// keys are declined.
package yamlenc

import (
	"unicode/utf8"

	"sigs.k8s.io/kustomize/kyaml/yaml"
)

// maxDepth bounds recursion: deeper (or cyclic) node graphs are declined.
const maxDepth = 1000

// maxSimpleKey is yaml.v3's longest key written as "key:" rather than
// "? key".
const maxSimpleKey = 128

// Encode returns doc, a DocumentNode, as kyaml's
// yaml.NewEncoderWithOptions(w, &yaml.EncoderOptions{SeqIndent: seqIndent})
// followed by Encode and Close writes it, or false when doc uses something
// this package does not reproduce.
func Encode(doc *yaml.Node, seqIndent yaml.SequenceIndentStyle) ([]byte, bool) {
	size, ok := check(doc)
	if !ok {
		return nil, false
	}
	return Append(make([]byte, 0, size), doc, seqIndent)
}

// Append is Encode appending to dst; on false, dst is returned with its
// length unchanged (its spare capacity may have been written to).
func Append(dst []byte, doc *yaml.Node, seqIndent yaml.SequenceIndentStyle) ([]byte, bool) {
	return appendDoc(dst, doc, seqIndent, false)
}

// AppendUntaggedMerge is Append writing every merge key (a plain "<<"
// key whose ShortTag is "!!merge") as if its tag were empty: "<<", where
// yaml.v3 writes a tagged one as "!!merge <<". It gives the bytes Append
// gives after clearing those tags, without changing the nodes.
func AppendUntaggedMerge(dst []byte, doc *yaml.Node, seqIndent yaml.SequenceIndentStyle) ([]byte, bool) {
	return appendDoc(dst, doc, seqIndent, true)
}

func appendDoc(dst []byte, doc *yaml.Node, seqIndent yaml.SequenceIndentStyle, untagMerge bool) ([]byte, bool) {
	if doc == nil || doc.Kind != yaml.DocumentNode || len(doc.Content) != 1 ||
		doc.LineComment != "" || doc.FootComment != "" || !utf8.ValidString(doc.HeadComment) {
		return dst, false
	}
	e := emitter{
		buf:        dst,
		indent:     -1,
		whitespace: true,
		indention:  true,
		// kyaml: anything but "wide" is compact.
		compact:    seqIndent != yaml.WideSequenceStyle,
		untagMerge: untagMerge,
	}
	if doc.HeadComment != "" {
		// A document's head comment is followed by a blank line.
		e.writeHeadComment(doc.HeadComment)
		e.putBreak()
	}
	if !e.node(doc.Content[0], ctxRoot, false, 0, doc.Content[0].LineComment) {
		return dst, false
	}
	// Document end: back to indent 0, ending the last line.
	e.indent = -1
	e.writeIndent()
	return e.buf, true
}

// check walks doc once, declining early what Append would decline anyway,
// and estimates the output size so that the buffer is allocated once.
func check(doc *yaml.Node) (int, bool) {
	if doc == nil || doc.Kind != yaml.DocumentNode || len(doc.Content) != 1 {
		return 0, false
	}
	size := 16
	var walk func(n *yaml.Node, depth int) bool
	walk = func(n *yaml.Node, depth int) bool {
		if n == nil || depth > maxDepth || n.Anchor != "" || n.FootComment != "" ||
			n.LineComment != "" && n.Kind != yaml.ScalarNode {
			return false
		}
		// Value, quotes and separator; keys and items start a line.
		size += len(n.Value) + len(n.LineComment) + len(n.HeadComment) + 3
		for i, c := range n.Content {
			if n.Kind == yaml.SequenceNode || i%2 == 0 {
				size += 2*depth + 1
			}
			if !walk(c, depth+1) {
				return false
			}
		}
		return true
	}
	if !walk(doc.Content[0], 0) {
		return 0, false
	}
	return size + size/8, true
}

// context is yaml.v3's root/sequence/mapping/simple-key context of a node.
type context uint8

const (
	ctxRoot context = 1 << iota
	ctxSequence
	ctxMapping
	ctxSimpleKey
	// ctxHeadDone says the caller wrote the node's head comment.
	ctxHeadDone
)

// emitter holds yaml.v3's emitter state that the subset uses.
type emitter struct {
	buf        []byte
	indent     int
	column     int // in characters
	whitespace bool
	indention  bool
	flowLevel  int
	compact    bool
	// untagMerge writes merge keys as untagged (AppendUntaggedMerge).
	untagMerge bool
}

// key returns the node to write for a mapping key: with untagMerge, a
// merge key's copy without its tag.
func (e *emitter) key(k *yaml.Node) *yaml.Node {
	if e.untagMerge && k.Kind == yaml.ScalarNode && k.Value == "<<" && k.Style == 0 && k.Tag != "" && k.ShortTag() == "!!merge" {
		untagged := *k
		untagged.Tag = ""
		return &untagged
	}
	return k
}

func (e *emitter) put(c byte) {
	e.buf = append(e.buf, c)
	e.column++
}

func (e *emitter) putBreak() {
	e.buf = append(e.buf, '\n')
	e.column = 0
	e.indention = true
}

// writeChar copies the character at s[i] and returns its width.
func (e *emitter) writeChar(s string, i int) int {
	w := width(s[i])
	e.buf = append(e.buf, s[i:i+w]...)
	e.column++
	return w
}

// writeBreak copies the line break at s[i] and returns its width.
func (e *emitter) writeBreak(s string, i int) int {
	if s[i] == '\n' {
		e.putBreak()
		return 1
	}
	w := e.writeChar(s, i)
	e.column = 0
	e.indention = true
	return w
}

func (e *emitter) writeIndent() {
	indent := max(e.indent, 0)
	if !e.indention || e.column > indent || (e.column == indent && !e.whitespace) {
		e.putBreak()
	}
	for e.column < indent {
		e.put(' ')
	}
	e.whitespace = true
}

// writeIndicator writes an ASCII indicator.
func (e *emitter) writeIndicator(ind string, needWhitespace, isWhitespace, isIndention bool) {
	if needWhitespace && !e.whitespace {
		e.put(' ')
	}
	e.buf = append(e.buf, ind...)
	e.column += len(ind)
	e.whitespace = isWhitespace
	e.indention = e.indention && isIndention
}

// increaseIndent is yaml_emitter_increase_indent_compact (never
// indentless here); inSeqItem says the node is an item of a block
// sequence, and it returns the indent to restore.
func (e *emitter) increaseIndent(flow, compactSeq, inSeqItem bool) int {
	old := e.indent
	switch {
	case e.indent < 0:
		if flow {
			e.indent = 2
		} else {
			e.indent = 0
		}
	case inSeqItem:
		e.indent += 2
	default:
		e.indent = 2 * ((e.indent + 2) / 2)
		if compactSeq {
			e.indent -= 2
		}
	}
	return old
}

// node emits n; inSeqItem is true for the items of a block sequence, and
// comment is the line comment to write after a scalar.
func (e *emitter) node(n *yaml.Node, ctx context, inSeqItem bool, depth int, comment string) bool {
	if n == nil || depth > maxDepth || n.Anchor != "" || n.FootComment != "" || n.HeadComment != "" && ctx&ctxHeadDone == 0 {
		return false
	}
	// Line comments are reproduced only on scalars in block context (a
	// key's is placed by blockMapping): elsewhere yaml.v3 defers them.
	if n.LineComment != "" && (n.Kind != yaml.ScalarNode || e.flowLevel > 0 || !utf8.ValidString(n.LineComment)) {
		return false
	}
	switch n.Kind {
	case yaml.ScalarNode:
		return e.scalar(n, ctx, inSeqItem, comment)
	case yaml.SequenceNode:
		if !collectionTagOK(n, "!!seq") {
			return false
		}
		if e.flowLevel > 0 || n.Style&yaml.FlowStyle != 0 || len(n.Content) == 0 {
			return e.flowSequence(n, inSeqItem, depth)
		}
		return e.blockSequence(n, ctx, inSeqItem, depth)
	case yaml.MappingNode:
		if !collectionTagOK(n, "!!map") || len(n.Content)%2 != 0 {
			return false
		}
		if e.flowLevel > 0 || n.Style&yaml.FlowStyle != 0 || len(n.Content) == 0 {
			return e.flowMapping(n, inSeqItem, depth)
		}
		return e.blockMapping(n, inSeqItem, depth)
	}
	// Aliases, zero nodes, documents inside documents.
	return false
}

// collectionTagOK reports whether yaml.v3 writes no tag for a collection.
func collectionTagOK(n *yaml.Node, implicit string) bool {
	return n.Tag == "" || isTag(n.Tag, implicit) && n.Style&yaml.TaggedStyle == 0
}

func (e *emitter) blockSequence(n *yaml.Node, ctx context, inSeqItem bool, depth int) bool {
	compactSeq := ctx&ctxMapping != 0 && (e.column == 0 || !e.indention) && e.compact
	old := e.increaseIndent(false, compactSeq, inSeqItem)
	for _, item := range n.Content {
		if item == nil {
			return false
		}
		// An item's head comment goes above its "-".
		if item.HeadComment != "" {
			if !utf8.ValidString(item.HeadComment) {
				return false
			}
			e.writeHeadComment(item.HeadComment)
		}
		e.writeIndent()
		e.writeIndicator("-", true, false, true)
		if !e.node(item, ctxSequence|ctxHeadDone, true, depth+1, item.LineComment) {
			return false
		}
	}
	e.indent = old
	return true
}

func (e *emitter) flowSequence(n *yaml.Node, inSeqItem bool, depth int) bool {
	e.writeIndicator("[", true, true, false)
	old := e.increaseIndent(true, false, inSeqItem)
	e.flowLevel++
	for i, item := range n.Content {
		if i > 0 {
			e.writeIndicator(",", false, false, false)
		}
		if e.column == 0 {
			e.writeIndent()
		}
		if !e.node(item, ctxSequence, false, depth+1, "") {
			return false
		}
	}
	e.flowLevel--
	e.indent = old
	if e.column == 0 {
		e.writeIndent()
	}
	e.writeIndicator("]", false, false, false)
	return true
}

func (e *emitter) blockMapping(n *yaml.Node, inSeqItem bool, depth int) bool {
	old := e.increaseIndent(false, false, inSeqItem)
	for i := 0; i < len(n.Content); i += 2 {
		if n.Content[i] == nil || n.Content[i+1] == nil {
			return false
		}
		if c := n.Content[i].HeadComment; c != "" {
			if !utf8.ValidString(c) {
				return false
			}
			e.writeHeadComment(c)
		}
		e.writeIndent()
		if !simpleKey(n.Content[i]) {
			return false
		}
		if !e.node(e.key(n.Content[i]), ctxMapping|ctxSimpleKey|ctxHeadDone, false, depth+1, "") {
			return false
		}
		e.writeIndicator(":", false, false, false)
		// yaml.v3 moves a key's line comment to its scalar value, or
		// writes it after the colon when a block collection follows.
		key, value := n.Content[i], n.Content[i+1]
		comment := value.LineComment
		if key.LineComment != "" {
			switch {
			case !utf8.ValidString(key.LineComment):
				return false
			case value.Kind == yaml.ScalarNode && value.LineComment == "":
				comment = key.LineComment
			case (value.Kind == yaml.MappingNode || value.Kind == yaml.SequenceNode) &&
				len(value.Content) > 0 && value.Style&yaml.FlowStyle == 0:
				e.writeLineComment(key.LineComment)
			default:
				return false
			}
		}
		if !e.node(value, ctxMapping, false, depth+1, comment) {
			return false
		}
	}
	e.indent = old
	return true
}

func (e *emitter) flowMapping(n *yaml.Node, inSeqItem bool, depth int) bool {
	e.writeIndicator("{", true, true, false)
	old := e.increaseIndent(true, false, inSeqItem)
	e.flowLevel++
	for i := 0; i < len(n.Content); i += 2 {
		if i > 0 {
			e.writeIndicator(",", false, false, false)
		}
		if e.column == 0 {
			e.writeIndent()
		}
		if !simpleKey(n.Content[i]) {
			return false
		}
		if !e.node(e.key(n.Content[i]), ctxMapping|ctxSimpleKey, false, depth+1, "") {
			return false
		}
		e.writeIndicator(":", false, false, false)
		if !e.node(n.Content[i+1], ctxMapping, false, depth+1, "") {
			return false
		}
	}
	e.flowLevel--
	e.indent = old
	e.writeIndicator("}", false, false, false)
	return true
}

// simpleKey reports whether yaml.v3 writes key as "key:"; others ("? key")
// are declined. Only scalar keys are accepted.
func simpleKey(key *yaml.Node) bool {
	if key == nil || key.Kind != yaml.ScalarNode || len(key.Value) > maxSimpleKey {
		return false
	}
	for i := 0; i < len(key.Value); i++ {
		if asciiClass[key.Value[i]] == classOther && isBreak(key.Value, i) {
			return false
		}
	}
	return true
}

// Scalar styles, as yaml.v3 chooses them.
const (
	stylePlain = iota
	styleSingle
	styleDouble
	styleLiteral
	styleFolded
)

func (e *emitter) scalar(n *yaml.Node, ctx context, inSeqItem bool, comment string) bool {
	value := n.Value
	a, ascii := analyzeASCII(value)
	if !ascii && !utf8.ValidString(value) {
		// yaml.v3 writes such a value as !!binary base64.
		return false
	}
	// encode.go node(): drop a tag the value resolves to anyway; a !!str
	// tag on a value that would resolve to something else forces quotes.
	forceQuoting := false
	if n.Tag != "" {
		if n.Style&yaml.TaggedStyle != 0 {
			return false
		}
		isStr := isTag(n.Tag, "!!str")
		quoted := n.Style&(yaml.SingleQuotedStyle|yaml.DoubleQuotedStyle|yaml.LiteralStyle|yaml.FoldedStyle) != 0
		if !isStr || !quoted {
			if !isTag(n.Tag, resolve(value)) {
				if !isStr {
					return false
				}
				forceQuoting = true
			}
		}
	}
	style := stylePlain
	switch {
	case n.Style&yaml.DoubleQuotedStyle != 0:
		style = styleDouble
	case n.Style&yaml.SingleQuotedStyle != 0:
		style = styleSingle
	case n.Style&yaml.LiteralStyle != 0:
		style = styleLiteral
	case n.Style&yaml.FoldedStyle != 0:
		style = styleFolded
	case !ascii && containsByte(value, '\n'):
		style = styleLiteral
	case forceQuoting:
		style = styleDouble
	}

	if !ascii {
		a = analyze(value)
	}
	simple := ctx&ctxSimpleKey != 0
	if simple && a.multiline {
		style = styleDouble
	}
	if style == stylePlain {
		if e.flowLevel > 0 && !a.flowPlain || e.flowLevel == 0 && !a.blockPlain {
			style = styleSingle
		}
		if len(value) == 0 && (e.flowLevel > 0 || simple) {
			style = styleSingle
		}
	}
	if style == styleSingle && !a.singleQuoted {
		style = styleDouble
	}
	if (style == styleLiteral || style == styleFolded) && (!a.block || e.flowLevel > 0 || simple) {
		style = styleDouble
	}
	if style == styleFolded {
		return false
	}

	old := e.increaseIndent(true, false, inSeqItem)
	switch style {
	case stylePlain:
		e.writePlain(value, ascii)
	case styleSingle:
		if ascii {
			e.writeSingleASCII(value)
		} else {
			e.writeSingle(value)
		}
	case styleDouble:
		if ascii {
			e.writeDoubleASCII(value)
		} else {
			e.writeDouble(value)
		}
	case styleLiteral:
		// The comment goes on the header line.
		e.writeLiteral(value, comment)
		comment = ""
	}
	e.indent = old
	e.writeLineComment(comment)
	return true
}

// writeHeadComment is yaml_emitter_process_head_comment (without a
// pending foot comment).
func (e *emitter) writeHeadComment(c string) {
	e.writeIndent()
	e.writeComment(c)
}

// writeLineComment is yaml_emitter_process_line_comment.
func (e *emitter) writeLineComment(c string) {
	if c == "" {
		return
	}
	if !e.whitespace {
		e.put(' ')
	}
	e.writeComment(c)
}

// writeComment is yaml_emitter_write_comment: "# " is added to lines
// that lack the "#".
func (e *emitter) writeComment(c string) {
	breaks, pound := false, false
	for i := 0; i < len(c); {
		if isBreak(c, i) {
			i += e.writeBreak(c, i)
			breaks, pound = true, false
			continue
		}
		if breaks {
			e.writeIndent()
		}
		if !pound {
			if c[i] != '#' {
				e.put('#')
				e.put(' ')
			}
			pound = true
		}
		i += e.writeChar(c, i)
		e.indention = false
		breaks = false
	}
	if !breaks {
		e.putBreak()
	}
	e.whitespace = true
}

func containsByte(s string, c byte) bool {
	for i := 0; i < len(s); i++ {
		if s[i] == c {
			return true
		}
	}
	return false
}

func (e *emitter) writePlain(value string, ascii bool) {
	if len(value) > 0 && !e.whitespace {
		e.put(' ')
	}
	// Plain style never holds line breaks, and lines are never folded:
	// the text goes out as it is.
	e.buf = append(e.buf, value...)
	if ascii {
		e.column += len(value)
	} else {
		e.column += utf8.RuneCountInString(value)
	}
	if len(value) > 0 {
		e.whitespace = false
	}
	e.indention = false
}

func (e *emitter) writeSingle(value string) {
	e.writeIndicator("'", true, false, false)
	breaks := false
	for i := 0; i < len(value); {
		switch {
		case value[i] == ' ':
			i += e.writeChar(value, i)
		case isBreak(value, i):
			if !breaks && value[i] == '\n' {
				e.putBreak()
			}
			i += e.writeBreak(value, i)
			breaks = true
		default:
			if breaks {
				e.writeIndent()
			}
			if value[i] == '\'' {
				e.put('\'')
			}
			i += e.writeChar(value, i)
			e.indention = false
			breaks = false
		}
	}
	e.writeIndicator("'", false, false, false)
	e.whitespace = false
	e.indention = false
}

const hexDigits = "0123456789ABCDEF"

func (e *emitter) writeDouble(value string) {
	e.writeIndicator("\"", true, false, false)
	bom := len(value) >= 3 && value[0] == 0xEF && value[1] == 0xBB && value[2] == 0xBF
	for i := 0; i < len(value); {
		if !isPrintable(value, i) || bom || isBreak(value, i) || value[i] == '"' || value[i] == '\\' {
			v, w := utf8.DecodeRuneInString(value[i:])
			i += w
			e.put('\\')
			switch v {
			case 0x00:
				e.put('0')
			case 0x07:
				e.put('a')
			case 0x08:
				e.put('b')
			case 0x09:
				e.put('t')
			case 0x0A:
				e.put('n')
			case 0x0b:
				e.put('v')
			case 0x0c:
				e.put('f')
			case 0x0d:
				e.put('r')
			case 0x1b:
				e.put('e')
			case 0x22:
				e.put('"')
			case 0x5c:
				e.put('\\')
			case 0x85:
				e.put('N')
			case 0xA0:
				e.put('_')
			case 0x2028:
				e.put('L')
			case 0x2029:
				e.put('P')
			default:
				digits := 8
				switch {
				case v <= 0xFF:
					e.put('x')
					digits = 2
				case v <= 0xFFFF:
					e.put('u')
					digits = 4
				default:
					e.put('U')
				}
				for k := (digits - 1) * 4; k >= 0; k -= 4 {
					e.put(hexDigits[(v>>uint(k))&0x0F])
				}
			}
			continue
		}
		i += e.writeChar(value, i)
	}
	e.writeIndicator("\"", false, false, false)
	e.whitespace = false
	e.indention = false
}

func (e *emitter) writeLiteral(value, comment string) {
	e.writeIndicator("|", true, false, false)
	// Block scalar hints: an indentation indicator when the text starts
	// with a space or break, and the chomping indicator.
	if value[0] == ' ' || isBreak(value, 0) {
		e.writeIndicator("2", false, false, false)
	}
	i := len(value) - 1
	for value[i]&0xC0 == 0x80 {
		i--
	}
	switch {
	case !isBreak(value, i):
		e.writeIndicator("-", false, false, false)
	case i == 0:
		e.writeIndicator("+", false, false, false)
	default:
		i--
		for value[i]&0xC0 == 0x80 {
			i--
		}
		if isBreak(value, i) {
			e.writeIndicator("+", false, false, false)
		}
	}
	if comment != "" {
		e.writeLineComment(comment)
	} else {
		e.putBreak()
	}
	e.whitespace = true
	breaks := true
	for i := 0; i < len(value); {
		if isBreak(value, i) {
			i += e.writeBreak(value, i)
			breaks = true
			continue
		}
		if breaks {
			e.writeIndent()
		}
		i += e.writeChar(value, i)
		e.indention = false
		breaks = false
	}
}
