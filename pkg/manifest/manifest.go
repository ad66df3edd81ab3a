// Package manifest reads and writes plain multi-document YAML, the form CI
// scripts and Helm post-renderers use. A document nobody changed is written
// back byte for byte as it was read, separators and comments included; a
// changed one keeps its text wherever the change left it.
package manifest

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"regexp"
	"strconv"
	"strings"
	"unicode/utf8"

	"sigs.k8s.io/kustomize/kyaml/yaml"

	"github.com/inject-sidecar/inject-sidecar/pkg/internal/yamlenc"
	"github.com/inject-sidecar/inject-sidecar/pkg/writeback"
)

// Document is one YAML document of a stream.
type Document struct {
	// Source is the file the document came from ("-" for standard input).
	Source string
	// Index is the document's position in its source, from 0.
	Index int
	// Separator is the "---" line that preceded the document, verbatim;
	// for a first document, with the directives (%YAML, %TAG) and
	// comments before it.
	Separator []byte
	// Raw is the document's text, verbatim.
	Raw []byte
	// Node is the document's object; nil for a document with no content
	// (empty or only comments), which is written back as it was.
	Node *yaml.RNode
	doc  *yaml.Node
	// orig is a copy of doc as read, when KeepOriginals made one.
	orig *yaml.Node
	// line is the line of the source Raw starts on, from 1.
	line int
}

// Name identifies the document in messages: "app.yaml, document 3".
func (d *Document) Name() string {
	return fmt.Sprintf("%s, document %d", sourceName(d.Source), d.Index+1)
}

// sourceName names a source in messages: "-" is standard input.
func sourceName(source string) string {
	if source == "-" {
		return "standard input"
	}
	return source
}

// Split cuts data into documents and parses each one, within the default
// Limits. Text before the first separator is a document of its own unless
// it is empty.
func Split(source string, data []byte) ([]*Document, error) {
	return split(source, data, Limits{}, true)
}

// split is Split; objects requires every document with content to be a
// mapping.
func split(source string, data []byte, l Limits, objects bool) ([]*Document, error) {
	l = l.WithDefaults()
	if int64(len(data)) > l.MaxInputSize {
		return nil, limitError("maxInputSize", sourceName(source), 0, "input is larger than %s", ByteSize(l.MaxInputSize))
	}
	var docs []*Document
	var sep []byte
	start, line, startLine := 0, 1, 1
	// Documents are cut here and parsed afterwards, on every core.
	flush := func(end int) error {
		docs = append(docs, &Document{Source: source, Index: len(docs), Separator: sep, Raw: data[start:end:end], line: startLine})
		return nil
	}
	for pos := 0; pos < len(data); line++ {
		end := bytes.IndexByte(data[pos:], '\n')
		next := len(data)
		if end >= 0 {
			next = pos + end + 1
		}
		if isSeparator(data[pos:next]) {
			// Text before the first separator that holds nothing is not a
			// document of its own; directives there belong to the
			// separator, which keeps them verbatim.
			first := len(docs) == 0 && sep == nil
			if first && hasDirectives(data[start:pos]) {
				sep = data[start:next:next]
				start, startLine = next, line+1
				pos = next
				continue
			}
			if pos > start || !first {
				if err := flush(pos); err != nil {
					return nil, err
				}
			}
			sep = data[pos:next:next]
			start, startLine = next, line+1
		}
		pos = next
	}
	if err := flush(len(data)); err != nil {
		return nil, err
	}
	if err := parseAll(docs, l, objects); err != nil {
		return nil, err
	}
	return docs, nil
}

// hasDirectives reports whether text, which precedes the first separator,
// holds %YAML or %TAG directives and otherwise only comments and blanks.
func hasDirectives(text []byte) bool {
	found := false
	for _, line := range bytes.Split(text, []byte("\n")) {
		line = bytes.TrimRight(line, " \t\r")
		switch {
		case len(line) == 0 || line[0] == '#':
		case line[0] == '%':
			found = true
		default:
			return false
		}
	}
	return found
}

// isSeparator reports whether line is a document separator: "---" alone or
// followed by white space, optionally with a comment. "--- {a: b}" (a
// document starting on the separator line) is not one; the document
// before it then fails to parse as a single document.
func isSeparator(line []byte) bool {
	if !bytes.HasPrefix(line, []byte("---")) {
		return false
	}
	rest := line[3:]
	if len(rest) > 0 && rest[0] != ' ' && rest[0] != '\t' && rest[0] != '\r' && rest[0] != '\n' {
		return false
	}
	rest = bytes.TrimSpace(rest)
	return len(rest) == 0 || rest[0] == '#'
}

func (d *Document) parse(l Limits, objects bool) error {
	// Most documents keep to what fastParse reads, at a fraction of
	// yaml.v3's cost; it declines the others, and every text yaml.v3
	// would refuse.
	doc, ok := fastParse(d.Raw)
	if !ok {
		doc = new(yaml.Node)
		dec := yaml.NewDecoder(bytes.NewReader(d.Raw))
		if err := dec.Decode(doc); err != nil {
			if errors.Is(err, io.EOF) {
				return nil
			}
			return d.yamlError(err)
		}
		var extra yaml.Node
		if err := dec.Decode(&extra); !errors.Is(err, io.EOF) {
			if err != nil {
				return d.yamlError(err)
			}
			return fmt.Errorf("%s: line %d: a second document starts inside this one; put \"---\" on a line of its own before it",
				d.Name(), d.line+extra.Line-1)
		}
	}
	if len(doc.Content) == 0 {
		return nil
	}
	if err := d.check(doc, l); err != nil {
		return err
	}
	root := doc.Content[0]
	if root.Kind == yaml.ScalarNode && root.ShortTag() == "!!null" {
		return nil
	}
	if root.Kind != yaml.MappingNode {
		if !objects {
			return nil
		}
		return fmt.Errorf("%s: line %d: expected a Kubernetes object (a YAML mapping), got %s",
			d.Name(), d.line+root.Line-1, kindName(root))
	}
	d.doc = doc
	d.Node = yaml.NewRNode(root)
	return nil
}

var yamlLine = regexp.MustCompile(`^line (\d+): `)

// parserProblems are yaml.v3's parser (not scanner) errors: it reports
// their line counting from 0, and scanner errors' from 1, and leaves out
// the line when it would print 0.
var parserProblems = map[string]bool{
	"did not find expected ',' or ']'":       true,
	"did not find expected ',' or '}'":       true,
	"did not find expected '-' indicator":    true,
	"did not find expected <document start>": true,
	"did not find expected <stream-start>":   true,
	"did not find expected key":              true,
	"did not find expected node content":     true,
	"found duplicate %TAG directive":         true,
	"found duplicate %YAML directive":        true,
	"found incompatible YAML document":       true,
	"found undefined tag handle":             true,
}

// yamlError names the document and the line of the file the parser
// stopped at; its own line counts from the start of the document.
func (d *Document) yamlError(err error) error {
	if e := d.encodingError(err); e != nil {
		return e
	}
	msg, ok := strings.CutPrefix(err.Error(), "yaml: ")
	if !ok {
		return &Error{Where: d.Name(), Msg: err.Error(), Syntax: true, err: err}
	}
	line := 0
	if m := yamlLine.FindStringSubmatch(msg); m != nil {
		line, _ = strconv.Atoi(m[1])
		msg = msg[len(m[0]):]
	}
	switch {
	case parserProblems[msg]:
		line++
	case line == 0:
		// No position (an unknown anchor, say), or a scanner error on the
		// document's first line, which cannot be told apart.
		return &Error{Where: d.Name(), Msg: err.Error(), Syntax: true, err: err}
	}
	// yaml.v3 reports the line of the construct it was reading; for a tab
	// in indentation, point at the tab itself.
	for l := line; l <= line+1; l++ {
		if tabIndented(lineAt(d.Raw, l)) && (l == line || strings.Contains(msg, "tab")) {
			line = l
			msg += " (the line is indented with a tab; YAML indentation must use spaces)"
			break
		}
	}
	return &Error{Where: d.Name(), Line: d.line + line - 1, Msg: msg, Syntax: true, err: err}
}

// encodingError locates the byte that makes the parser refuse the text as
// not UTF-8 or as holding a control character, which the parser reports
// without a position.
func (d *Document) encodingError(err error) error {
	msg := err.Error()
	if !strings.Contains(msg, "UTF-8") && !strings.Contains(msg, "control characters") {
		return nil
	}
	line, col := 1, 1
	for i := 0; i < len(d.Raw); {
		r, size := utf8.DecodeRune(d.Raw[i:])
		switch {
		case r == utf8.RuneError && size <= 1:
			return &Error{Where: d.Name(), Line: d.line + line - 1, Syntax: true, err: err, Msg: fmt.Sprintf(
				"byte 0x%02x in column %d is not UTF-8; YAML must be UTF-8: convert the file (from Latin-1: iconv -f latin1 -t utf-8)",
				d.Raw[i], col)}
		case r < 0x20 && r != '\t' && r != '\n' && r != '\r', r == 0x7f:
			return &Error{Where: d.Name(), Line: d.line + line - 1, Syntax: true, err: err, Msg: fmt.Sprintf(
				"control character %U in column %d; YAML text cannot hold one (write it as an escape in a double-quoted string)",
				r, col)}
		case r == '\n':
			line, col = line+1, 0
		}
		i += size
		col++
	}
	return nil
}

func tabIndented(line string) bool {
	indent := line[:len(line)-len(strings.TrimLeft(line, " \t"))]
	return strings.Contains(indent, "\t")
}

// lineAt returns line n (from 1) of text, or "".
func lineAt(text []byte, n int) string {
	for i := 1; len(text) > 0; i++ {
		line, rest, _ := bytes.Cut(text, []byte("\n"))
		if i == n {
			return string(line)
		}
		text = rest
	}
	return ""
}

func kindName(n *yaml.Node) string {
	switch n.Kind {
	case yaml.SequenceNode:
		return "a list"
	case yaml.ScalarNode:
		return fmt.Sprintf("the scalar %q", shorten(n.Value))
	}
	return "an alias"
}

// shorten cuts a value quoted in a message to a readable length.
func shorten(s string) string {
	const max = 60
	if r := []rune(s); len(r) > max {
		return string(r[:max-3]) + "..."
	}
	return s
}

// Write writes docs in order. A document for which changed is false (or
// changed is nil) is written exactly as read; a changed one keeps its
// original text wherever the change left it (see encode). When docs come
// from several sources, each source's first document starts on a new line
// after a separator.
func Write(w io.Writer, docs []*Document, changed func(*Document) bool) error {
	encoded, errs := encodeAll(docs, changed)
	var out bytes.Buffer
	out.Grow(outputSize(docs, encoded))
	var prev *Document
	for i, d := range docs {
		if d == nil {
			continue
		}
		if prev != nil && (d.Index == 0 || d.Source != prev.Source) {
			// Joining files: make sure the next file starts a new document.
			if b := out.Bytes(); len(b) > 0 && b[len(b)-1] != '\n' {
				out.WriteByte('\n')
			}
			if d.Separator == nil && len(d.Raw) > 0 && out.Len() > 0 {
				out.WriteString("---\n")
			}
		}
		prev = d
		out.Write(d.Separator)
		if d.Node == nil || d.doc == nil || changed == nil || !changed(d) {
			out.Write(d.Raw)
			continue
		}
		if errs[i] != nil {
			return errs[i]
		}
		out.Write(encoded[i])
	}
	_, err := w.Write(out.Bytes())
	return err
}

// outputSize is about the size of writing docs, encoded where they were
// (a few bytes short when files are joined): the output is allocated
// once, not grown by copying.
func outputSize(docs []*Document, encoded [][]byte) int {
	n := 0
	for i, d := range docs {
		if d == nil {
			continue
		}
		n += len(d.Separator) + 5
		if encoded[i] != nil {
			n += len(encoded[i])
		} else {
			n += len(d.Raw)
		}
	}
	return n
}

// encode writes the document's nodes as close to its original text as
// the edit allows (see writeback.Splice): the user's own lines, blank
// lines, spacing and indentation wherever the edit left them, and the
// encoder's lines, in the original's sequence indentation, line endings
// and final newline (or its absence), where it changed them. When the
// splice declines, the whole document is the encoder's.
func (d *Document) encode() ([]byte, error) {
	out, _, err := d.encodeText()
	return out, err
}

// encodeText is encode, saying how the text was made.
func (d *Document) encodeText() ([]byte, writeback.How, error) {
	enc := d.encoder()
	edited, err := enc(d.doc)
	if err != nil {
		return nil, writeback.Declined, fmt.Errorf("%s: encoding: %w", d.Name(), err)
	}
	if out, how := writeback.Splice(d.Raw, d.orig, d.doc, edited, enc); how != writeback.Declined {
		return out, how, nil
	}
	return edited, writeback.Declined, nil
}

// encoder writes a document node in the style of the document's text:
// its sequence indentation, line endings and final newline.
func (d *Document) encoder() func(*yaml.Node) ([]byte, error) {
	style := yaml.SequenceIndentStyle(yaml.DeriveSeqIndentStyle(string(d.Raw)))
	final := bytes.HasSuffix(d.Raw, []byte("\n"))
	crlf := bytes.Contains(d.Raw, []byte("\r\n"))
	return func(n *yaml.Node) ([]byte, error) {
		// yamlenc writes kyaml's bytes without yaml.v3's event queue (a
		// thousand allocations for an injected pod), merge keys untagged
		// as below; what it does not handle, it leaves to kyaml. The size
		// of the original is that of its own encoding when it is the
		// encoder's text, and a start for an edited one.
		out, ok := yamlenc.AppendUntaggedMerge(make([]byte, 0, len(d.Raw)+64), n, style)
		if !ok {
			var b bytes.Buffer
			restore := untagMergeKeys(n)
			enc := yaml.NewEncoderWithOptions(&b, &yaml.EncoderOptions{SeqIndent: style})
			err := enc.Encode(n)
			if err == nil {
				err = enc.Close()
			}
			restore()
			if err != nil {
				return nil, err
			}
			out = b.Bytes()
		}
		if !final {
			out = bytes.TrimSuffix(out, []byte("\n"))
		}
		if crlf {
			out = bytes.ReplaceAll(out, []byte("\n"), []byte("\r\n"))
		}
		return out, nil
	}
}

// untagMergeKeys clears the tag of every "<<" merge key under n until the
// returned function restores them: yaml.v3 writes a tagged merge key as
// "!!merge <<", which reads the same but is not what the user wrote.
func untagMergeKeys(n *yaml.Node) (restore func()) {
	var keys []*yaml.Node
	var walk func(n *yaml.Node, depth int)
	walk = func(n *yaml.Node, depth int) {
		if n == nil || n.Kind == yaml.AliasNode || depth > 1000 {
			return
		}
		for i, c := range n.Content {
			if n.Kind == yaml.MappingNode && i%2 == 0 && c.Kind == yaml.ScalarNode &&
				c.Value == "<<" && c.Style == 0 && c.ShortTag() == "!!merge" {
				keys = append(keys, c)
				continue
			}
			walk(c, depth+1)
		}
	}
	walk(n, 0)
	tags := make([]string, len(keys))
	for i, k := range keys {
		tags[i], k.Tag = k.Tag, ""
	}
	return func() {
		for i, k := range keys {
			k.Tag = tags[i]
		}
	}
}

// Nodes returns the objects of docs, in order, skipping empty documents.
func Nodes(docs []*Document) []*yaml.RNode {
	nodes := make([]*yaml.RNode, 0, len(docs))
	for _, d := range docs {
		if d != nil && d.Node != nil {
			nodes = append(nodes, d.Node)
		}
	}
	return nodes
}
