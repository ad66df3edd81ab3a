package manifest

import (
	"bytes"
	"strings"
)

// Bounded reports whether data certainly stays within l's size, nesting
// and alias limits (zero fields: the defaults), judging from its bytes
// alone: when it does, Check could only fail it for reasons other than a
// limit, and a caller that wants the limits only can skip parsing. It is
// conservative: false says nothing.
//
// Without "&" there is no anchor, so no alias expands. Nesting comes from
// flow collections, at most one level per "[" or "{", and from block
// collections, whose columns never decrease from parent to child and
// increase at least every second level (a block sequence may sit at its
// key's column, nothing else may): at most two levels per column, and no
// column lies beyond the longest line.
func Bounded[T ~string | ~[]byte](data T, l Limits) bool {
	l = l.WithDefaults()
	if int64(len(data)) > l.MaxInputSize {
		return false
	}
	var longest, flow int
	var anchor bool
	// The counts come from the standard library's vectorized searches
	// for the plain types; named ones take the loop.
	switch d := any(data).(type) {
	case string:
		longest, flow, anchor = boundStrings(d)
	case []byte:
		longest, flow, anchor = boundBytes(d)
	default:
		longest, flow, anchor = boundLoop(data)
	}
	if anchor {
		return false
	}
	return int64(2*(longest+1))+int64(flow) <= int64(l.MaxDepth)
}

// boundStrings returns the length of data's longest line, its number of
// "[" and "{", and whether it holds an "&" (then the rest is not
// computed).
func boundStrings(data string) (longest, flow int, anchor bool) {
	if strings.IndexByte(data, '&') >= 0 {
		return 0, 0, true
	}
	flow = strings.Count(data, "[") + strings.Count(data, "{")
	for len(data) > 0 {
		i := strings.IndexByte(data, '\n')
		if i < 0 {
			i = len(data)
			data = ""
		} else {
			data = data[i+1:]
		}
		longest = max(longest, i)
	}
	return longest, flow, false
}

// boundBytes is boundStrings for bytes.
func boundBytes(data []byte) (longest, flow int, anchor bool) {
	if bytes.IndexByte(data, '&') >= 0 {
		return 0, 0, true
	}
	flow = bytes.Count(data, []byte("[")) + bytes.Count(data, []byte("{"))
	for len(data) > 0 {
		i := bytes.IndexByte(data, '\n')
		if i < 0 {
			i = len(data)
			data = nil
		} else {
			data = data[i+1:]
		}
		longest = max(longest, i)
	}
	return longest, flow, false
}

// boundLoop is boundStrings byte by byte, for any type.
func boundLoop[T ~string | ~[]byte](data T) (longest, flow int, anchor bool) {
	line := 0
	for i := 0; i < len(data); i++ {
		switch data[i] {
		case '&':
			return 0, 0, true
		case '[', '{':
			flow++
		case '\n':
			longest, line = max(longest, line), -1
		}
		line++
	}
	return max(longest, line), flow, false
}
