package manifest

import (
	"errors"
	"fmt"
	"io"
	"os"

	"sigs.k8s.io/kustomize/kyaml/yaml"
)

// Limits bound what reading one input may cost, so that a hostile or
// broken file fails with a clear error instead of exhausting the machine.
// A zero field means its default.
type Limits struct {
	// MaxInputSize is the size in bytes of one input: a file, standard
	// input, or a whole ResourceList.
	MaxInputSize int64
	// MaxDepth is how deeply mappings and sequences may nest in one
	// document, aliases expanded; a top-level mapping is depth 1.
	MaxDepth int
	// MaxAliasExpansion is how many YAML nodes aliases (*name) may add to
	// one document when expanded, as every consumer that converts YAML to
	// JSON or Go values does. It stops "billion laughs" documents, which
	// are a few hundred bytes and expand to billions of nodes.
	MaxAliasExpansion int64
}

// Defaults of Limits: far above what real repositories hold (rendered
// manifests are megabytes, nest tens of levels and use aliases, if at all,
// for a few shared lists), far below what exhausts a CI runner.
const (
	DefaultMaxInputSize      = 128 << 20
	DefaultMaxDepth          = 1000
	DefaultMaxAliasExpansion = 1_000_000
)

// WithDefaults returns l with every zero field set to its default.
func (l Limits) WithDefaults() Limits {
	if l.MaxInputSize <= 0 {
		l.MaxInputSize = DefaultMaxInputSize
	}
	if l.MaxDepth <= 0 {
		l.MaxDepth = DefaultMaxDepth
	}
	if l.MaxAliasExpansion <= 0 {
		l.MaxAliasExpansion = DefaultMaxAliasExpansion
	}
	return l
}

// ErrLimit matches (errors.Is) every error caused by a limit of Limits.
var ErrLimit = errors.New("limit exceeded")

// Error is a problem found while checking an input: a limit exceeded, a
// key defined twice, an alias that contains itself.
type Error struct {
	// Where names the input or document: "app.yaml, document 2".
	Where string
	// Line is the line of the input at fault, from 1; 0 when none.
	Line int
	Msg  string
	// Setting is, for a limit, the configuration field that raises it
	// (spec.limits.<Setting> of a SidecarInjector); "" otherwise.
	Setting string
	// Syntax is set when the YAML parser refused the text.
	Syntax bool
	err    error
}

// Unwrap returns the parser's own error, if any.
func (e *Error) Unwrap() error { return e.err }

func (e *Error) Error() string {
	s := e.Where
	if e.Line > 0 {
		s += fmt.Sprintf(": line %d", e.Line)
	}
	s += ": " + e.Msg
	if e.Setting != "" {
		s += " (limit: spec.limits." + e.Setting + ")"
	}
	return s
}

// Is matches ErrLimit for limit errors.
func (e *Error) Is(target error) bool { return target == ErrLimit && e.Setting != "" }

func limitError(setting, where string, line int, format string, args ...any) error {
	return &Error{Where: where, Line: line, Msg: fmt.Sprintf(format, args...), Setting: setting}
}

// ReadAll reads r to the end, failing as soon as it holds more than max
// bytes (0: the default) rather than buffering an endless stream. name is
// the input in messages ("standard input").
func ReadAll(name string, r io.Reader, max int64) ([]byte, error) {
	if max <= 0 {
		max = DefaultMaxInputSize
	}
	data, err := io.ReadAll(io.LimitReader(r, max+1))
	if err != nil {
		return nil, fmt.Errorf("%s: %w", name, err)
	}
	if int64(len(data)) > max {
		return nil, limitError("maxInputSize", sourceName(name), 0, "input is larger than %s", ByteSize(max))
	}
	return data, nil
}

// ReadFile reads a file within the size limit (0: the default).
func ReadFile(name string, max int64) ([]byte, error) {
	f, err := os.Open(name)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	return ReadAll(name, f, max)
}

// ByteSize renders a size the way limits are configured: 128Mi, 4Ki, 100 bytes.
func ByteSize(n int64) string {
	for _, u := range []struct {
		suffix string
		size   int64
	}{{"Gi", 1 << 30}, {"Mi", 1 << 20}, {"Ki", 1 << 10}} {
		if n >= u.size && n%u.size == 0 {
			return fmt.Sprintf("%d%s", n/u.size, u.suffix)
		}
	}
	return fmt.Sprintf("%d bytes", n)
}

// Check reads data as a YAML stream within the limits, as SplitLimited
// does, without requiring each document to be an object. It is the guard
// to run before handing data to another reader (kyaml's, in KRM mode).
func Check(source string, data []byte, l Limits) error {
	_, err := split(source, data, l, false)
	return err
}

// SplitLimited is Split within the limits l (zero fields: the defaults).
func SplitLimited(source string, data []byte, l Limits) ([]*Document, error) {
	return split(source, data, l, true)
}

// measure is what a subtree costs once its aliases are expanded.
type measure struct {
	height int   // nesting levels of mappings and sequences
	size   int64 // nodes, saturated at the alias budget
}

// checker walks one parsed document: nesting depth and alias expansion
// within the limits, no key defined twice in a mapping. Anchored nodes are
// measured once, so a document of nested aliases costs its own size to
// check, never its expanded size.
type checker struct {
	d        *Document
	l        Limits
	anchors  map[*yaml.Node]measure
	busy     map[*yaml.Node]bool
	expanded int64
}

func (d *Document) check(root *yaml.Node, l Limits) error {
	c := &checker{d: d, l: l, anchors: map[*yaml.Node]measure{}, busy: map[*yaml.Node]bool{}}
	_, err := c.walk(root, 0)
	return err
}

// line is the line of n in the source, or 0.
func (c *checker) line(n *yaml.Node) int {
	if n == nil || n.Line == 0 {
		return 0
	}
	return c.d.line + n.Line - 1
}

func (c *checker) fail(n *yaml.Node, setting, format string, args ...any) error {
	return limitError(setting, c.d.Name(), c.line(n), format, args...)
}

// walk measures n, whose parent is at nesting level (0 for the root).
// Recursion is bounded by MaxDepth: deeper input fails before recursing.
func (c *checker) walk(n *yaml.Node, level int) (measure, error) {
	if n == nil {
		return measure{}, nil
	}
	if n.Anchor != "" {
		c.busy[n] = true
		defer delete(c.busy, n)
	}
	var m measure
	switch n.Kind {
	case yaml.DocumentNode:
		for _, child := range n.Content {
			cm, err := c.walk(child, level)
			if err != nil {
				return measure{}, err
			}
			m = cm
		}
		return m, nil
	case yaml.AliasNode:
		target, err := c.anchored(n)
		if err != nil {
			return measure{}, err
		}
		c.expanded = c.saturate(c.expanded + target.size)
		if c.expanded > c.l.MaxAliasExpansion {
			return measure{}, c.fail(n, "maxAliasExpansion",
				"alias *%s expands the document to more than %d nodes; write the repeated part out, or raise the limit if the document is genuine",
				n.Value, c.l.MaxAliasExpansion)
		}
		if level+target.height > c.l.MaxDepth {
			return measure{}, c.fail(n, "maxNestingDepth", "alias *%s nests the document deeper than %d levels",
				n.Value, c.l.MaxDepth)
		}
		return target, nil
	case yaml.MappingNode, yaml.SequenceNode:
		if level+1 > c.l.MaxDepth {
			return measure{}, c.fail(n, "maxNestingDepth", "the document nests deeper than %d levels", c.l.MaxDepth)
		}
		if n.Kind == yaml.MappingNode {
			if err := c.uniqueKeys(n); err != nil {
				return measure{}, err
			}
		}
		for _, child := range n.Content {
			cm, err := c.walk(child, level+1)
			if err != nil {
				return measure{}, err
			}
			m.height = max(m.height, cm.height)
			m.size = c.saturate(m.size + cm.size)
		}
		m.height++
	}
	m.size = c.saturate(m.size + 1)
	if n.Anchor != "" {
		c.anchors[n] = m
	}
	return m, nil
}

// anchored returns the measure of the node an alias refers to.
func (c *checker) anchored(alias *yaml.Node) (measure, error) {
	target := alias.Alias
	if target == nil {
		return measure{}, c.fail(alias, "", "alias *%s refers to no anchor", alias.Value)
	}
	if c.busy[target] {
		return measure{}, c.fail(alias, "", "alias *%s refers to a node that contains it; an object cannot include itself",
			alias.Value)
	}
	if m, ok := c.anchors[target]; ok {
		return m, nil
	}
	// The parser defines anchors before their aliases, so this is only a
	// node tree built by hand; measure it where it stands.
	return c.walk(target, 0)
}

// saturate keeps sizes just above the alias budget, where they stop
// mattering, so that sums of huge expansions cannot overflow.
func (c *checker) saturate(n int64) int64 {
	if limit := c.l.MaxAliasExpansion + 1; n > limit || n < 0 {
		return limit
	}
	return n
}

// uniqueKeys rejects a mapping that defines a key twice: YAML forbids it
// and parsers disagree on which value wins (kyaml reads the first,
// sigs.k8s.io/yaml, as kubectl uses it, the last), so no reading of the
// document would be safe. Merge keys ("<<") are exempt.
func (c *checker) uniqueKeys(n *yaml.Node) error {
	if len(n.Content) < 4 {
		return nil
	}
	seen := make(map[string]*yaml.Node, len(n.Content)/2)
	for i := 0; i+1 < len(n.Content); i += 2 {
		k := n.Content[i]
		if k.Kind != yaml.ScalarNode || (k.Value == "<<" && k.ShortTag() == "!!merge") {
			continue
		}
		if first, dup := seen[k.Value]; dup {
			return c.fail(k, "", "key %q is defined twice in the same mapping (first on line %d); remove one of them",
				shorten(k.Value), c.line(first))
		}
		seen[k.Value] = k
	}
	return nil
}
