package manifest

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
	longest, line, flow := 0, 0, 0
	for i := 0; i < len(data); i++ {
		switch data[i] {
		case '&':
			return false
		case '[', '{':
			flow++
		case '\n':
			longest, line = max(longest, line), -1
		}
		line++
	}
	longest = max(longest, line)
	return int64(2*(longest+1))+int64(flow) <= int64(l.MaxDepth)
}
