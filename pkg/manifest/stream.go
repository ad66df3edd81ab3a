package manifest

import (
	"bufio"
	"bytes"
	"errors"
	"io"
)

// Scanner cuts a stream into the documents Split gives for the same
// bytes, reading it line by line, so that a large input can be processed
// in batches: every document owns a copy of its text, and a caller that
// drops each batch after use holds one batch, never the whole stream.
// Documents come unparsed; Parse parses them.
type Scanner struct {
	source string
	r      *bufio.Reader
	limits Limits
	read   int64
	// line is the number of the next line to read, from 1.
	line      int
	emitted   int
	sep       []byte // the current document's separator; nil before the first
	cur       []byte // the current document's text so far
	startLine int
	scratch   []byte
	done      bool
}

// NewScanner reads r, named source in messages, within l's size limit.
func NewScanner(source string, r io.Reader, l Limits) *Scanner {
	return &Scanner{source: source, r: bufio.NewReaderSize(r, 64<<10), limits: l.WithDefaults(), line: 1, startLine: 1}
}

// Next returns the next documents, max of them or one more (the last
// document comes with the end of the stream), and io.EOF once every
// document has been returned.
func (s *Scanner) Next(max int) ([]*Document, error) {
	if s.done {
		return nil, io.EOF
	}
	var docs []*Document
	for len(docs) < max {
		l, err := s.readLine()
		if err != nil && !errors.Is(err, io.EOF) {
			return nil, err
		}
		if len(l) > 0 {
			if d := s.take(l); d != nil {
				docs = append(docs, d)
			}
		}
		if errors.Is(err, io.EOF) {
			// The last document is always one, even when empty, as in
			// Split.
			docs = append(docs, s.emit())
			s.done = true
			break
		}
	}
	return docs, nil
}

// take adds one line; it returns the document the line ends, if any. It
// mirrors split's loop line for line.
func (s *Scanner) take(l []byte) *Document {
	defer func() { s.line++ }()
	if !isSeparator(l) {
		s.cur = append(s.cur, l...)
		return nil
	}
	first := s.emitted == 0 && s.sep == nil
	if first && hasDirectives(s.cur) {
		s.sep = append(s.cur, l...)
		s.cur, s.startLine = nil, s.line+1
		return nil
	}
	var d *Document
	if len(s.cur) > 0 || !first {
		d = s.emit()
	}
	s.sep = append([]byte(nil), l...)
	s.cur, s.startLine = nil, s.line+1
	return d
}

func (s *Scanner) emit() *Document {
	d := &Document{Source: s.source, Index: s.emitted, Separator: s.sep, Raw: s.cur[:len(s.cur):len(s.cur)], line: s.startLine}
	if d.Raw == nil {
		d.Raw = []byte{}
	}
	s.emitted++
	s.cur = nil
	return d
}

// readLine returns the next line with its newline, valid until the next
// call, counting bytes against the size limit.
func (s *Scanner) readLine() ([]byte, error) {
	l, err := s.r.ReadSlice('\n')
	if errors.Is(err, bufio.ErrBufferFull) {
		s.scratch = append(s.scratch[:0], l...)
		for errors.Is(err, bufio.ErrBufferFull) {
			l, err = s.r.ReadSlice('\n')
			s.scratch = append(s.scratch, l...)
		}
		l = s.scratch
	}
	s.read += int64(len(l))
	if s.read > s.limits.MaxInputSize {
		return nil, limitError("maxInputSize", sourceName(s.source), 0, "input is larger than %s", ByteSize(s.limits.MaxInputSize))
	}
	return l, err
}

// Parse parses documents a Scanner returned, on every core, within l, as
// SplitLimited does; the error is the first document's in order.
func Parse(docs []*Document, l Limits) error {
	return parseAll(docs, l.WithDefaults(), true)
}

// Writer writes a stream in batches: the bytes of one Write of all the
// documents, in the same order, with no need to hold them all.
type Writer struct {
	w io.Writer
	// What Write looks back at: the previous document's source, and the
	// output so far (its length and last byte).
	hasPrev    bool
	prevSource string
	n          int64
	last       byte
}

// NewWriter writes to w.
func NewWriter(w io.Writer) *Writer { return &Writer{w: w} }

// Write writes the next documents, as Write would in the middle of one
// call for all of them.
func (wr *Writer) Write(docs []*Document, changed func(*Document) bool) error {
	encoded, errs := encodeAll(docs, changed)
	var out bytes.Buffer
	out.Grow(outputSize(docs, encoded))
	put := func(b []byte) {
		out.Write(b)
		if len(b) > 0 {
			wr.n += int64(len(b))
			wr.last = b[len(b)-1]
		}
	}
	for i, d := range docs {
		if d == nil {
			continue
		}
		if wr.hasPrev && (d.Index == 0 || d.Source != wr.prevSource) {
			if wr.n > 0 && wr.last != '\n' {
				put([]byte{'\n'})
			}
			if d.Separator == nil && len(d.Raw) > 0 && wr.n > 0 {
				put([]byte("---\n"))
			}
		}
		wr.hasPrev, wr.prevSource = true, d.Source
		put(d.Separator)
		if d.Node == nil || d.doc == nil || changed == nil || !changed(d) {
			put(d.Raw)
			continue
		}
		if errs[i] != nil {
			return errs[i]
		}
		put(encoded[i])
	}
	_, err := wr.w.Write(out.Bytes())
	return err
}
