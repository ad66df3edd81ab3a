package manifest

import "github.com/inject-sidecar/inject-sidecar/pkg/internal/parallel"

// Parsing and encoding are most of the cost of reading and writing a
// large stream, and documents are independent: both run on every core.
// Results land by document position, and the error returned is the first
// document's in order, so nothing depends on how the work was split.

// parseAll parses every document and returns the first error in order.
func parseAll(docs []*Document, l Limits, objects bool) error {
	errs := make([]error, len(docs))
	parallel.ForEach(len(docs), func(i int) {
		errs[i] = docs[i].parse(l, objects)
	})
	for _, err := range errs {
		if err != nil {
			return err
		}
	}
	return nil
}

// encodeAll encodes the documents that changed reports changed (changed
// may be called concurrently); the others' slots stay empty.
func encodeAll(docs []*Document, changed func(*Document) bool) ([][]byte, []error) {
	encoded := make([][]byte, len(docs))
	errs := make([]error, len(docs))
	if changed == nil {
		return encoded, errs
	}
	parallel.ForEach(len(docs), func(i int) {
		d := docs[i]
		if d == nil || d.Node == nil || d.doc == nil || !changed(d) {
			return
		}
		encoded[i], errs[i] = d.encode()
	})
	return encoded, errs
}

// KeepOriginals copies the nodes of docs as read, for a caller about to
// edit them in place and write them: writing a changed document then
// compares the edit with the copy instead of reading its text again
// (reading is most of what keeping the user's text costs on the
// encoder's own text). The copy takes two allocations a document.
func KeepOriginals(docs []*Document) {
	parallel.ForEach(len(docs), func(i int) {
		if d := docs[i]; d != nil && d.doc != nil && d.orig == nil {
			d.orig = copyTree(d.doc)
		}
	})
}
