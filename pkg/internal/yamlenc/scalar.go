package yamlenc

import (
	"regexp"
	"strconv"
	"strings"
	"time"
)

// analysis is what yaml.v3's scalar analysis decides about a value: which
// styles may write it.
type analysis struct {
	multiline    bool
	flowPlain    bool
	blockPlain   bool
	singleQuoted bool
	block        bool
}

// analyze mirrors yaml_emitter_analyze_scalar; value is valid UTF-8.
func analyze(v string) analysis {
	if len(v) == 0 {
		return analysis{blockPlain: true, singleQuoted: true}
	}
	var (
		blockInd, flowInd, lineBreaks, special, tabs        bool
		leadingSpace, leadingBreak, trailingSpace, trailing bool
		breakSpace, spaceBreak, prevSpace, prevBreak        bool
		precededByWhitespace                                = true
	)
	if strings.HasPrefix(v, "---") || strings.HasPrefix(v, "...") {
		blockInd, flowInd = true, true
	}
	for i, w := 0, 0; i < len(v); i += w {
		c := v[i]
		w = width(c)
		followedByWhitespace := i+w >= len(v) || v[i+w] == ' ' || v[i+w] == '\t'
		if i == 0 {
			switch c {
			case '#', ',', '[', ']', '{', '}', '&', '*', '!', '|', '>', '\'', '"', '%', '@', '`':
				flowInd, blockInd = true, true
			case '?', ':':
				flowInd = true
				if followedByWhitespace {
					blockInd = true
				}
			case '-':
				if followedByWhitespace {
					flowInd, blockInd = true, true
				}
			}
		} else {
			switch c {
			case ',', '?', '[', ']', '{', '}':
				flowInd = true
			case ':':
				flowInd = true
				if followedByWhitespace {
					blockInd = true
				}
			case '#':
				if precededByWhitespace {
					flowInd, blockInd = true, true
				}
			}
		}
		if c == '\t' {
			tabs = true
		} else if !isPrintable(v, i) {
			special = true
		}
		switch {
		case c == ' ':
			if i == 0 {
				leadingSpace = true
			}
			if i+w == len(v) {
				trailingSpace = true
			}
			if prevBreak {
				breakSpace = true
			}
			prevSpace, prevBreak = true, false
		case isBreak(v, i):
			lineBreaks = true
			if i == 0 {
				leadingBreak = true
			}
			if i+w == len(v) {
				trailing = true
			}
			if prevSpace {
				spaceBreak = true
			}
			prevSpace, prevBreak = false, true
		default:
			prevSpace, prevBreak = false, false
		}
		precededByWhitespace = c == ' ' || c == '\t' || c == 0 || isBreak(v, i)
	}
	a := analysis{multiline: lineBreaks, flowPlain: true, blockPlain: true, singleQuoted: true, block: true}
	if leadingSpace || leadingBreak || trailingSpace || trailing {
		a.flowPlain, a.blockPlain = false, false
	}
	if trailingSpace {
		a.block = false
	}
	if breakSpace {
		a.flowPlain, a.blockPlain, a.singleQuoted = false, false, false
	}
	if spaceBreak || tabs || special {
		a.flowPlain, a.blockPlain, a.singleQuoted = false, false, false
	}
	if spaceBreak || special {
		a.block = false
	}
	if lineBreaks {
		a.flowPlain, a.blockPlain = false, false
	}
	if flowInd {
		a.flowPlain = false
	}
	if blockInd {
		a.blockPlain = false
	}
	return a
}

// width is the length of the UTF-8 sequence c starts.
func width(c byte) int {
	switch {
	case c&0x80 == 0:
		return 1
	case c&0xE0 == 0xC0:
		return 2
	case c&0xF0 == 0xE0:
		return 3
	case c&0xF8 == 0xF0:
		return 4
	}
	return 1
}

// at returns s[i], or 0 past the end.
func at(s string, i int) byte {
	if i < len(s) {
		return s[i]
	}
	return 0
}

// isBreak reports a line break at s[i]: CR, LF, NEL, LS or PS.
func isBreak(s string, i int) bool {
	switch s[i] {
	case '\r', '\n':
		return true
	case 0xC2:
		return at(s, i+1) == 0x85
	case 0xE2:
		return at(s, i+1) == 0x80 && (at(s, i+2) == 0xA8 || at(s, i+2) == 0xA9)
	}
	return false
}

// isPrintable is yaml.v3's test for a character written as it is in
// double quotes (and allowed in other styles).
func isPrintable(s string, i int) bool {
	c := s[i]
	switch {
	case c == 0x0A, c >= 0x20 && c <= 0x7E:
		return true
	case c == 0xC2:
		return at(s, i+1) >= 0xA0
	case c > 0xC2 && c < 0xED, c == 0xEE:
		return true
	case c == 0xED:
		return at(s, i+1) < 0xA0
	case c == 0xEF:
		c1, c2 := at(s, i+1), at(s, i+2)
		return !(c1 == 0xBB && c2 == 0xBF) && !(c1 == 0xBF && (c2 == 0xBE || c2 == 0xBF))
	}
	return false
}

const longTagPrefix = "tag:yaml.org,2002:"

// isTag reports whether tag, short or long, is the short tag short ("!!x").
func isTag(tag, short string) bool {
	if tag == short {
		return true
	}
	return len(tag) == len(longTagPrefix)+len(short)-2 &&
		strings.HasPrefix(tag, longTagPrefix) && tag[len(longTagPrefix):] == short[2:]
}

// resolve is the tag yaml.v3 reads an untagged plain value as (its
// resolve("", value)); the encoder drops a tag equal to it. yaml.v3 only
// looks a value up when its first character may start a non-string, so
// "<<" resolves to !!str and a tagged merge key keeps "!!merge".
func resolve(v string) string {
	if v == "" {
		return "!!null"
	}
	switch v {
	case "true", "True", "TRUE", "false", "False", "FALSE":
		return "!!bool"
	case "~", "null", "Null", "NULL":
		return "!!null"
	case ".nan", ".NaN", ".NAN", ".inf", ".Inf", ".INF", "+.inf", "+.Inf", "+.INF", "-.inf", "-.Inf", "-.INF":
		return "!!float"
	}
	switch c := v[0]; {
	case c == '.':
		// Only ".5", ".5e3" and the like parse; the check saves the
		// parser's error allocation on every other value.
		if onlyBytes(v, ".0123456789eE+-") {
			if _, err := strconv.ParseFloat(v, 64); err == nil {
				return "!!float"
			}
		}
	case c == '+' || c == '-' || c >= '0' && c <= '9':
		return resolveNumber(v)
	}
	return "!!str"
}

// onlyBytes reports whether every byte of s is one of set.
func onlyBytes(s, set string) bool {
	for i := 0; i < len(s); i++ {
		if strings.IndexByte(set, s[i]) < 0 {
			return false
		}
	}
	return true
}

// numberBytes are the bytes an int or float yaml.v3 reads may hold (hex
// digits, base prefixes, separators, signs, exponents).
const numberBytes = "0123456789abcdefABCDEFxXoO_+-."

var yamlStyleFloat = regexp.MustCompile(`^[-+]?(\.[0-9]+|[0-9]+(\.[0-9]*)?)([eE][-+]?[0-9]+)?$`)

// resolveNumber resolves a value starting with a sign or digit: a
// timestamp, an int in any base yaml.v3 reads, a float, else a string.
func resolveNumber(v string) string {
	if isTimestamp(v) {
		return "!!timestamp"
	}
	// Every number has a digit or a dot right after its sign ("-b", "-x"
	// are flags).
	d := v
	if d[0] == '+' || d[0] == '-' {
		d = d[1:]
	}
	if d == "" || !(d[0] == '.' || d[0] >= '0' && d[0] <= '9') {
		return "!!str"
	}
	if !onlyBytes(v, numberBytes) {
		// "100m", "128Mi", "1.2.3-rc": no number parses; skip the parsers
		// and their error allocations.
		return "!!str"
	}
	plain := strings.ReplaceAll(v, "_", "")
	// An int has no dot and no sign after the first byte ("1.0",
	// "10-20"): skip the int parsers' error allocations for those.
	if !strings.Contains(plain, ".") && strings.IndexAny(plain[1:], "+-") < 0 {
		if _, err := strconv.ParseInt(plain, 0, 64); err == nil {
			return "!!int"
		}
		if _, err := strconv.ParseUint(plain, 0, 64); err == nil {
			return "!!int"
		}
	}
	if yamlStyleFloat.MatchString(plain) {
		if _, err := strconv.ParseFloat(plain, 64); err == nil {
			return "!!float"
		}
	}
	for _, p := range []struct {
		prefix string
		base   int
	}{{"0b", 2}, {"0o", 8}} {
		if rest, ok := strings.CutPrefix(plain, p.prefix); ok {
			if _, err := strconv.ParseInt(rest, p.base, 64); err == nil {
				return "!!int"
			}
			if _, err := strconv.ParseUint(rest, p.base, 64); err == nil {
				return "!!int"
			}
		} else if rest, ok := strings.CutPrefix(plain, "-"+p.prefix); ok {
			if _, err := strconv.ParseInt("-"+rest, p.base, 64); err == nil {
				return "!!int"
			}
		}
	}
	return "!!str"
}

// timestampLayouts are the forms yaml.v3 reads a plain value as a time in.
var timestampLayouts = []string{
	"2006-1-2T15:4:5.999999999Z07:00",
	"2006-1-2t15:4:5.999999999Z07:00",
	"2006-1-2 15:4:5.999999999",
	"2006-1-2",
}

func isTimestamp(s string) bool {
	// Every layout starts with four digits and a dash.
	if len(s) < 5 || s[4] != '-' {
		return false
	}
	for i := range 4 {
		if s[i] < '0' || s[i] > '9' {
			return false
		}
	}
	for _, layout := range timestampLayouts {
		if _, err := time.Parse(layout, s); err == nil {
			return true
		}
	}
	return false
}
