package yamlenc

import "strings"

// Fast paths for ASCII text, which is nearly every value Kubernetes
// manifests hold. Each gives exactly what the general code gives for the
// same value and declines (ok false) for anything else; fast_test.go
// compares them over tables, random values and a fuzz target.

// Byte classes of asciiClass. The classes from classPlain on mean
// nothing to the analysis past the first character.
const (
	// classOther is a byte outside printable ASCII (a control character,
	// a tab, a line break, or part of a multi-byte character): the
	// general code decides.
	classOther uint8 = iota
	// classFlow is "," "?" "[" "]" "{" "}": a flow indicator anywhere.
	classFlow
	// classColon and classPound depend on their neighbours.
	classColon
	classPound
	// classPlain is printable ASCII without meaning to the analysis
	// anywhere but at the start.
	classPlain
	// classSpace matters at the ends of a value and before "#".
	classSpace
	// classQuote is "'", "\"" or "\\": plain to the analysis, escaped or
	// doubled by the quoting writers.
	classQuote
)

// asciiClass classifies every byte for the fast paths.
var asciiClass = func() (t [256]uint8) {
	for c := 0x21; c <= 0x7E; c++ {
		t[c] = classPlain
	}
	for _, c := range ",?[]{}" {
		t[c] = classFlow
	}
	t[':'] = classColon
	t['#'] = classPound
	t[' '] = classSpace
	t['\''], t['"'], t['\\'] = classQuote, classQuote, classQuote
	return t
}()

// analyzeASCII is analyze for a value of printable ASCII (a space
// included), and ok; for any other value, ok is false. Such a value is
// valid UTF-8 without line breaks, tabs or characters yaml.v3 escapes,
// so only the indicators and the leading and trailing spaces decide.
func analyzeASCII(v string) (a analysis, ok bool) {
	if len(v) == 0 {
		return analysis{blockPlain: true, singleQuoted: true}, true
	}
	if asciiClass[v[0]] == classOther {
		return analysis{}, false
	}
	var blockInd, flowInd bool
	if len(v) >= 3 && (v[:3] == "---" || v[:3] == "...") {
		blockInd, flowInd = true, true
	}
	// The first character: the indicators that may not start a plain
	// scalar.
	followedBySpace := len(v) == 1 || v[1] == ' '
	switch v[0] {
	case '#', ',', '[', ']', '{', '}', '&', '*', '!', '|', '>', '\'', '"', '%', '@', '`':
		flowInd, blockInd = true, true
	case '?', ':':
		flowInd = true
		if followedBySpace {
			blockInd = true
		}
	case '-':
		if followedBySpace {
			flowInd, blockInd = true, true
		}
	}
	for i := 1; i < len(v); i++ {
		class := asciiClass[v[i]]
		if class >= classPlain {
			continue
		}
		switch class {
		case classOther:
			return analysis{}, false
		case classFlow:
			flowInd = true
		case classColon:
			flowInd = true
			if i+1 == len(v) || v[i+1] == ' ' {
				blockInd = true
			}
		case classPound:
			if v[i-1] == ' ' {
				flowInd, blockInd = true, true
			}
		}
	}
	a = analysis{flowPlain: true, blockPlain: true, singleQuoted: true, block: true}
	if v[0] == ' ' || v[len(v)-1] == ' ' {
		a.flowPlain, a.blockPlain = false, false
	}
	if v[len(v)-1] == ' ' {
		a.block = false
	}
	if flowInd {
		a.flowPlain = false
	}
	if blockInd {
		a.blockPlain = false
	}
	return a, true
}

// writeSingleASCII is writeSingle for a printable ASCII value (analyzeASCII accepts it):
// nothing to fold or break, quotes doubled.
func (e *emitter) writeSingleASCII(value string) {
	e.writeIndicator("'", true, false, false)
	for {
		i := strings.IndexByte(value, '\'')
		if i < 0 {
			break
		}
		e.buf = append(e.buf, value[:i+1]...)
		e.buf = append(e.buf, '\'')
		e.column += i + 2
		value = value[i+1:]
	}
	e.buf = append(e.buf, value...)
	e.column += len(value)
	e.writeIndicator("'", false, false, false)
	e.whitespace = false
	e.indention = false
}

// writeDoubleASCII is writeDouble for a printable ASCII value (analyzeASCII accepts it):
// only quotes and backslashes are escaped.
func (e *emitter) writeDoubleASCII(value string) {
	e.writeIndicator("\"", true, false, false)
	start := 0
	for i := 0; i < len(value); i++ {
		if c := value[i]; c == '"' || c == '\\' {
			e.buf = append(e.buf, value[start:i]...)
			e.buf = append(e.buf, '\\', c)
			e.column += i - start + 2
			start = i + 1
		}
	}
	e.buf = append(e.buf, value[start:]...)
	e.column += len(value) - start
	e.writeIndicator("\"", false, false, false)
	e.whitespace = false
	e.indention = false
}
