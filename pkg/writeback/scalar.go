package writeback

import (
	"strings"

	"sigs.k8s.io/kustomize/kyaml/yaml"
)

// plainScalar builds, without the encoder, the node Node.Encode gives
// for the values that dominate an injected pod: bools and strings that
// read as themselves unquoted (names, images, flags). Node.Encode writes
// YAML text and parses it back, which made it most of the cost of a write
// back. It returns nil for anything else, which the encoder then handles;
// TestPlainScalar holds both to the same result.
func plainScalar(v any) *yaml.Node {
	switch x := v.(type) {
	case bool:
		value := "false"
		if x {
			value = "true"
		}
		return &yaml.Node{Kind: yaml.ScalarNode, Tag: "!!bool", Value: value}
	case string:
		if n, ok := stringScalar(x); ok {
			return &n
		}
	}
	return nil
}

// stringScalar is plainScalar for a string, by value; ok is false where
// the encoder must decide.
func stringScalar(x string) (yaml.Node, bool) {
	switch {
	case isPlainString(x):
		return yaml.Node{Kind: yaml.ScalarNode, Tag: "!!str", Value: x}, true
	case isDigits(x):
		// A port or count as a string: quoted, or it would read as a number.
		return yaml.Node{Kind: yaml.ScalarNode, Tag: "!!str", Value: x, Style: yaml.DoubleQuotedStyle}, true
	}
	if style, ok := encoderStyle(x); ok {
		return yaml.Node{Kind: yaml.ScalarNode, Tag: "!!str", Value: x, Style: style}, true
	}
	return yaml.Node{}, false
}

// encoderStyle is the style the encoder gives the string s, for ASCII
// text it can tell it for without the encoder's resolver: "" and the
// words that read as booleans or null double-quoted, lists and JSON
// ("*", "{...}") single-quoted, several lines literal, comma-separated
// ports plain. The rules are those of the encoder's scalar analysis.
func encoderStyle(s string) (yaml.Style, bool) {
	switch s {
	case "":
		return yaml.DoubleQuotedStyle, true
	case "<<":
		return 0, false // a merge key when plain
	}
	multiline := false
	for i := range len(s) {
		switch c := s[i]; {
		case c == '\n':
			multiline = true
		case c < 0x20 || c > 0x7e:
			return 0, false // tabs, other controls, non-ASCII
		}
	}
	if multiline {
		// Literal, unless a space ends a line or the text: the
		// encoder cannot write those in a block.
		if strings.Contains(s, " \n") || s[len(s)-1] == ' ' {
			return yaml.DoubleQuotedStyle, true
		}
		return yaml.LiteralStyle, true
	}
	str, known := readsAsString(s)
	switch {
	case !known:
		return 0, false
	case !str:
		return yaml.DoubleQuotedStyle, true
	case s[0] == ' ' || s[len(s)-1] == ' ' || blockIndicator(s):
		return yaml.SingleQuotedStyle, true
	}
	return 0, true
}

// readsAsString reports whether single-line ASCII s, written plain,
// reads as a string to YAML 1.2 and 1.1 readers, as the encoder decides
// it; known is false where that takes its number and timestamp parsers.
func readsAsString(s string) (str, known bool) {
	switch s[0] {
	case 'y', 'Y', 'n', 'N', 't', 'T', 'f', 'F', 'o', 'O', '~':
		switch s {
		case "true", "True", "TRUE", "false", "False", "FALSE", "~", "null", "Null", "NULL",
			"y", "Y", "yes", "Yes", "YES", "n", "N", "no", "No", "NO", "on", "On", "ON", "off", "Off", "OFF":
			return false, true
		}
		return true, true
	case '+', '-', '.', '0', '1', '2', '3', '4', '5', '6', '7', '8', '9':
		// A number, infinity or timestamp has none of these.
		if strings.ContainsAny(s, ",/$()=*@%!#&[]{}\"'?;<>|`\\~^ghjklmqrsuvwGHJKLMQRSUVW") {
			return true, true
		}
		return false, false
	}
	return true, true
}

// blockIndicator reports whether single-line s holds what makes the
// encoder quote it in block context: a leading indicator character,
// a document marker, ": " or " #".
func blockIndicator(s string) bool {
	if strings.HasPrefix(s, "---") || strings.HasPrefix(s, "...") {
		return true
	}
	spaceAfter := func(i int) bool { return i+1 >= len(s) || s[i+1] == ' ' }
	switch s[0] {
	case '#', ',', '[', ']', '{', '}', '&', '*', '!', '|', '>', '\'', '"', '%', '@', '`':
		return true
	case '?', ':', '-':
		if spaceAfter(0) {
			return true
		}
	}
	for i := 1; i < len(s); i++ {
		switch s[i] {
		case ':':
			if spaceAfter(i) {
				return true
			}
		case '#':
			if s[i-1] == ' ' {
				return true
			}
		}
	}
	return false
}

// isPlainString reports whether s certainly reads as the string s when
// written unquoted, to YAML 1.1 and 1.2 readers alike: a word, path or
// flag (a letter, "/", "-" and a letter, or "--" and a letter first, then only letters, digits and
// _ . / - = and inner colons) that is none of the words that read as a
// bool or null, or a resource quantity such as 128Mi or 100m. Anything
// else is left to the encoder, which knows every rule.
func isPlainString(s string) bool {
	switch {
	case s == "":
		return false
	case isLetter(s[0]) || s[0] == '/':
	case strings.HasPrefix(s, "--") && len(s) > 2 && isLetter(s[2]):
	case s[0] == '-' && len(s) > 1 && isLetter(s[1]):
	default:
		return isQuantity(s)
	}
	if s[len(s)-1] == ':' {
		return false
	}
	for i := 1; i < len(s); i++ {
		c := s[i]
		if !isLetter(c) && !isDigit(c) && c != '_' && c != '.' && c != '/' && c != '-' && c != '=' && c != ':' {
			return false
		}
	}
	switch s {
	case "true", "True", "TRUE", "false", "False", "FALSE", "null", "Null", "NULL",
		"y", "Y", "yes", "Yes", "YES", "n", "N", "no", "No", "NO", "on", "On", "ON", "off", "Off", "OFF":
		return false
	}
	return true
}

// isQuantity matches the resource quantities the API server writes back
// unchanged: digits and a suffix with no letter that YAML reads as part
// of a number (e, x, o, b).
func isQuantity(s string) bool {
	i := 0
	for i < len(s) && isDigit(s[i]) {
		i++
	}
	if i == 0 {
		return false
	}
	switch s[i:] {
	case "m", "k", "M", "G", "T", "P", "Ki", "Mi", "Gi", "Ti", "Pi":
		return true
	}
	return false
}

func isDigits(s string) bool {
	for i := range len(s) {
		if !isDigit(s[i]) {
			return false
		}
	}
	return s != ""
}

func isDigit(c byte) bool { return c >= '0' && c <= '9' }

func isLetter(c byte) bool { return c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' }
