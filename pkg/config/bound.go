package config

import (
	"bytes"

	"github.com/inject-sidecar/inject-sidecar/pkg/manifest"
)

// withinLimits reports whether data certainly stays within l's nesting and
// alias limits, so that checkTexts need not parse it: when it does,
// manifest.Check could only fail it for reasons other than a limit. It is
// manifest.Bounded with block scalars set aside: an injector configuration
// is a hundred kilobytes of templates in literal block scalars, whose
// "{{" Bounded counts as flow collections. It is conservative: false says
// nothing.
//
// The argument is Bounded's (without "&" there is no anchor; nesting is at
// most two levels per column of a line that holds structure, plus one per
// "[" or "{" there) restricted to the lines outside block scalars. A block
// scalar starts where a line ends in its header after a plain key or a
// sequence entry ("key: |", "- |", "- key: >-"), and holds the lines that
// follow it, indented at least as yaml.v3 requires (see blockIndent). Such
// a header is not one only inside another scalar: inside a quoted one,
// which this refuses to tell (a line of structure with a quote that does
// not open and close a scalar there makes withinLimits false); inside a
// block scalar, which it tracks; or inside a plain scalar, whose following
// lines are then scalar text too, or a syntax error. Document markers,
// directives, carriage returns and tabs in indentation make it false.
func withinLimits(data []byte, l manifest.Limits) bool {
	l = l.WithDefaults()
	if int64(len(data)) > l.MaxInputSize || bytes.IndexByte(data, '\r') >= 0 {
		return false
	}
	longest, flow := 0, 0
	var block blockScalar
	for len(data) > 0 {
		line := data
		if i := bytes.IndexByte(data, '\n'); i >= 0 {
			line, data = data[:i], data[i+1:]
		} else {
			data = nil
		}
		spaces := 0
		for spaces < len(line) && line[spaces] == ' ' {
			spaces++
		}
		rest := line[spaces:]
		if len(rest) > 0 && rest[0] == '\t' {
			return false // a tab in indentation: let the parser judge
		}
		if spaces == 0 && (bytes.HasPrefix(rest, []byte("---")) || bytes.HasPrefix(rest, []byte("...")) || bytes.HasPrefix(rest, []byte("%"))) {
			return false
		}
		if block.holds(spaces, len(rest) == 0) {
			continue
		}
		// A line of structure.
		longest = max(longest, len(line))
		if bytes.IndexByte(line, '&') >= 0 || !quotesClosed(rest) {
			return false
		}
		flow += bytes.Count(line, []byte("[")) + bytes.Count(line, []byte("{"))
		block = header(rest, spaces)
	}
	return int64(2*(longest+1))+int64(flow) <= int64(l.MaxDepth)
}

// blockScalar is the block scalar the scanner is in, if any.
type blockScalar struct {
	open bool
	// parent is the indentation of the collection holding the scalar (the
	// column of its key, or of its "-"): its lines are indented more.
	parent int
	// indent is the indentation of its lines, 0 until known.
	indent int
	// blank is the most spaces of the blank lines before its first
	// line, which yaml.v3 counts when it finds the indentation.
	blank int
}

// holds reports whether a line of the given indentation (blank: holding
// nothing else) belongs to the block scalar, and closes it when not.
func (b *blockScalar) holds(spaces int, blank bool) bool {
	if !b.open {
		return false
	}
	if blank {
		if b.indent == 0 {
			b.blank = max(b.blank, spaces)
		}
		return true
	}
	if b.indent == 0 {
		// yaml.v3 (yaml_parser_scan_block_scalar_breaks): the most
		// spaces of the leading lines, the first non-blank one included,
		// and at least one more than the parent's.
		b.indent = max(b.blank, spaces, b.parent+1)
	}
	if spaces >= b.indent {
		return true
	}
	b.open = false
	return false
}

// header reads a line of structure (rest, after spaces of indentation)
// that may end in a block scalar header: any number of "- ", then a plain
// key and ": ", then "|" or ">" with at most an indentation digit and a
// chomping sign, then nothing but spaces.
func header(rest []byte, spaces int) blockScalar {
	col := spaces
	parent, pos := -1, 0
	for pos < len(rest) && rest[pos] == '-' && pos+1 < len(rest) && rest[pos+1] == ' ' {
		parent = col + pos
		pos++
		for pos < len(rest) && rest[pos] == ' ' {
			pos++
		}
	}
	if pos < len(rest) && plainKeyStart(rest[pos]) {
		start := pos
		for pos < len(rest) && plainKeyByte(rest[pos]) {
			pos++
		}
		if pos+1 >= len(rest) || rest[pos] != ':' || rest[pos+1] != ' ' {
			return blockScalar{}
		}
		parent = col + start
		pos++
		for pos < len(rest) && rest[pos] == ' ' {
			pos++
		}
	}
	if parent < 0 || pos >= len(rest) || (rest[pos] != '|' && rest[pos] != '>') {
		return blockScalar{}
	}
	pos++
	digit, sign := 0, false
	for ; pos < len(rest); pos++ {
		c := rest[pos]
		if c >= '1' && c <= '9' && digit == 0 {
			digit = int(c - '0')
		} else if (c == '+' || c == '-') && !sign {
			sign = true
		} else {
			break
		}
	}
	for pos < len(rest) && rest[pos] == ' ' {
		pos++
	}
	if pos != len(rest) {
		return blockScalar{}
	}
	b := blockScalar{open: true, parent: parent}
	if digit > 0 {
		b.indent = parent + digit
	}
	return b
}

func plainKeyStart(c byte) bool {
	return c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9' || c == '_'
}

func plainKeyByte(c byte) bool {
	return plainKeyStart(c) || c == '-' || c == '.' || c == '/'
}

// quotesClosed reports whether every quote on a line of structure opens a
// quoted scalar where one may start and closes it on the same line, up to
// a comment. A quote anywhere else (it's, or a scalar running on to the
// next line) makes it false.
func quotesClosed(rest []byte) bool {
	for i := 0; i < len(rest); i++ {
		switch c := rest[i]; c {
		case '#':
			if i == 0 || rest[i-1] == ' ' || rest[i-1] == '\t' {
				return true // a comment
			}
		case '\'', '"':
			if !scalarStart(rest, i) {
				return false
			}
			end := closingQuote(rest, i)
			if end < 0 {
				return false
			}
			i = end
		}
	}
	return true
}

// scalarStart reports whether a scalar may start at rest[i]: at the start
// of the line, after "[", "{" or ",", or after ":", "-" or "?" and a space.
func scalarStart(rest []byte, i int) bool {
	j := i - 1
	for j >= 0 && rest[j] == ' ' {
		j--
	}
	if j < 0 {
		return true
	}
	switch rest[j] {
	case '[', '{', ',':
		return true
	case ':', '-', '?':
		return j < i-1
	}
	return false
}

// closingQuote returns the index of the quote closing the scalar opened
// at rest[open], or -1.
func closingQuote(rest []byte, open int) int {
	q := rest[open]
	for j := open + 1; j < len(rest); j++ {
		switch {
		case q == '"' && rest[j] == '\\':
			j++
		case rest[j] == q && q == '\'' && j+1 < len(rest) && rest[j+1] == '\'':
			j++
		case rest[j] == q:
			return j
		}
	}
	return -1
}
