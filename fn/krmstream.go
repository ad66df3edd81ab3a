package main

import (
	"bufio"
	"bytes"
	"io"
	"runtime"
	"strconv"
	"sync"
	"sync/atomic"

	"sigs.k8s.io/kustomize/kyaml/fn/framework"
	"sigs.k8s.io/kustomize/kyaml/kio"
	"sigs.k8s.io/kustomize/kyaml/kio/kioutil"
	"sigs.k8s.io/kustomize/kyaml/yaml"

	"github.com/inject-sidecar/inject-sidecar/pkg/config"
	"github.com/inject-sidecar/inject-sidecar/pkg/inject"
	"github.com/inject-sidecar/inject-sidecar/pkg/manifest"
	"github.com/inject-sidecar/inject-sidecar/pkg/report"
)

// KRM mode streams its items, as the inject command streams its
// documents: kyaml's reader holds a node tree of the whole ResourceList
// (about 28 KiB per workload before injection, several times that after),
// which put 20000 workloads at 6.6 GiB. Here the list is cut into the text
// of each item; the items that may configure (ConfigMaps, Namespaces,
// webhooks) are read first, then the items are parsed, injected, encoded
// into the output and dropped krmBatch at a time.
//
// Only a list whose text can be cut so that every item parses alone
// exactly as it does inside the whole list (see cutList), and only a run
// that succeeds, is streamed to the end. At the first doubt or fault the
// attempt is abandoned and the one-shot path (kyaml's reader, the whole
// list in memory) runs instead, so that every error, result and output
// byte is the one-shot path's: streaming changes memory and time, nothing
// else.

// krmBatch is how many items are held parsed at a time; small, for the
// reason streamBatch is.
const krmBatch = 64

// listText is a ResourceList cut into its items' text and the rest.
type listText struct {
	// skeleton is the list without its items' lines: "items:" is null in
	// it, every other field as in the list.
	skeleton []byte
	// itemsLine is the line of "items:"; the skeleton's lines after it
	// are itemLines further down in the list.
	itemsLine, itemLines int
	items                []itemText
}

// itemText is one item's lines, from its "- " to the line before the next
// item or the list's next field; line is the list's line it starts on.
type itemText struct {
	start, end, line int
}

// cutList cuts data into items and skeleton when that is certainly what
// yaml.v3 makes of it: a block mapping whose "items:" key, alone on its
// line at column 0, is followed by a block sequence at column 0 whose
// entries each start "- key", end on a line of content (not a comment, not
// blank: a trailing comment attaches to whatever follows it) and hold no
// line at column 0. At such a line break the parser is outside any
// scalar or collection of the item (were it not, the item alone would fail
// to parse, which the caller treats as a fault), so each item parses
// alone, as "items:" then its lines, into the same nodes; the caller also
// refuses anchors and aliases, which could tie items together. No
// document markers, directives, tabs at column 0 or carriage returns
// (kyaml's reader rewrites CRLF): anything else is the one-shot path's.
func cutList(data []byte) (*listText, bool) {
	if len(data) == 0 || bytes.IndexByte(data, '\r') >= 0 || bytes.HasPrefix(data, []byte("\xef\xbb\xbf")) {
		return nil, false
	}
	const (
		before = iota
		inItems
		after
	)
	state := before
	var lt listText
	regionStart, regionEnd := -1, -1
	lastContent := true // the last line of the current item is content
	closeItem := func(end int) bool {
		if n := len(lt.items); n > 0 {
			lt.items[n-1].end = end
			return lastContent
		}
		return true
	}
	line := 0
	for pos := 0; pos < len(data); {
		next := len(data)
		if i := bytes.IndexByte(data[pos:], '\n'); i >= 0 {
			next = pos + i + 1
		}
		text := bytes.TrimSuffix(data[pos:next], []byte("\n"))
		line++
		if bytes.HasPrefix(text, []byte("---")) || bytes.HasPrefix(text, []byte("...")) ||
			bytes.HasPrefix(text, []byte("%")) || bytes.HasPrefix(text, []byte("\t")) {
			return nil, false
		}
		switch state {
		case before:
			if key, ok := topLevelKey(text); ok && key == "items" {
				if len(bytes.TrimRight(text, " ")) != len("items:") {
					return nil, false // a value or comment on the key's line
				}
				state, regionStart, lt.itemsLine = inItems, next, line
			}
		case inItems:
			switch {
			case bytes.HasPrefix(text, []byte("- ")):
				if len(text) < 3 || !keyStart(text[2]) || !closeItem(pos) {
					return nil, false
				}
				lt.items = append(lt.items, itemText{start: pos, line: line})
				lastContent = true
			case len(text) == 0 || text[0] == ' ':
				if len(lt.items) == 0 {
					return nil, false
				}
				trimmed := bytes.TrimLeft(text, " ")
				lastContent = len(trimmed) > 0 && trimmed[0] != '#'
			default:
				if _, ok := topLevelKey(text); !ok || !closeItem(pos) {
					return nil, false
				}
				state, regionEnd = after, pos
				lt.itemLines = line - lt.itemsLine - 1
			}
		}
		pos = next
	}
	switch state {
	case before:
		return nil, false
	case inItems:
		if !closeItem(len(data)) {
			return nil, false
		}
		regionEnd = len(data)
		lt.itemLines = line - lt.itemsLine
	}
	if len(lt.items) == 0 || !bytes.HasSuffix(data[regionStart:regionEnd], []byte("\n")) {
		return nil, false
	}
	lt.skeleton = append(append(make([]byte, 0, len(data)-(regionEnd-regionStart)), data[:regionStart]...), data[regionEnd:]...)
	return &lt, true
}

// topLevelKey reads a line that starts a plain key at column 0: "name:"
// alone or followed by a space.
func topLevelKey(text []byte) (string, bool) {
	if len(text) == 0 || !keyStart(text[0]) {
		return "", false
	}
	for i := 1; i < len(text); i++ {
		c := text[i]
		switch {
		case c == ':':
			if i+1 == len(text) || text[i+1] == ' ' {
				return string(text[:i]), true
			}
			return "", false
		case keyStart(c) || c >= '0' && c <= '9' || c == '-' || c == '.' || c == '/':
		default:
			return "", false
		}
	}
	return "", false
}

// keyStart reports whether c may start a plain key as kyaml writes them.
func keyStart(c byte) bool {
	return c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c == '_'
}

// krmList is the streamed reading of a ResourceList.
type krmList struct {
	data []byte
	text *listText
	// apiVersion and kind are the list's, written back at its head.
	apiVersion, kind string
	functionConfig   *yaml.RNode
	results          *yaml.RNode // the input's, written back when the run adds none
}

// readList reads what the one-shot path reads of the list around its
// items, as kyaml's reader and checkResourceList and checkListShape do.
func readList(data []byte) (*krmList, bool) {
	lt, ok := cutList(data)
	if !ok {
		return nil, false
	}
	docs, err := checkResourceList(lt.skeleton, manifest.Limits{})
	if err != nil || checkListShape(docs) != nil {
		return nil, false
	}
	root := docs[0].Node
	shiftLines(root.YNode(), lt.itemsLine, lt.itemLines)
	meta, err := root.GetMeta()
	if err != nil && err != yaml.ErrMissingMetadata {
		return nil, false
	}
	l := &krmList{data: data, text: lt, apiVersion: meta.APIVersion, kind: meta.Kind}
	if fc := root.Field("functionConfig"); fc != nil {
		l.functionConfig = fc.Value
	}
	if res := root.Field("results"); res != nil {
		l.results = res.Value
	}
	// As spliceable: the list is written a part at a time.
	for _, n := range []*yaml.RNode{l.functionConfig, l.results} {
		if n != nil && tied(n.YNode()) {
			return nil, false
		}
	}
	return l, true
}

// shiftLines moves the lines of the nodes below line down by n.
func shiftLines(node *yaml.Node, line, n int) {
	if node == nil {
		return
	}
	if node.Line > line {
		node.Line += n
	}
	for _, c := range node.Content {
		shiftLines(c, line, n)
	}
}

// parseItems parses items [from, to) of the list, within the default
// limits as the whole list would be (an item read as "items:" and its
// lines nests as deep as it does in the list), into the nodes kyaml's
// reader makes of them, lines included. false when any does not parse,
// is not an object, or carries what writeList would not splice (comments
// on the item itself, anchors, aliases).
func (l *krmList) parseItems(from, to int) ([]*yaml.RNode, bool) {
	return l.parse(l.text.items[from:to])
}

// parse is parseItems for any items of the list.
func (l *krmList) parse(items []itemText) ([]*yaml.RNode, bool) {
	var buf bytes.Buffer
	for i, it := range items {
		if i > 0 {
			buf.WriteString("---\n")
		}
		buf.WriteString("items:\n")
		buf.Write(l.data[it.start:it.end])
	}
	docs, err := manifest.SplitLimited("standard input", buf.Bytes(), manifest.Limits{})
	if err != nil || len(docs) != len(items) {
		return nil, false
	}
	out := make([]*yaml.RNode, len(items))
	for i, d := range docs {
		if d.Node == nil {
			return nil, false
		}
		root := d.Node.YNode()
		if len(root.Content) != 2 || root.Content[1].Kind != yaml.SequenceNode || len(root.Content[1].Content) != 1 {
			return nil, false
		}
		n := root.Content[1].Content[0]
		if n.Kind != yaml.MappingNode || n.HeadComment != "" || n.LineComment != "" || n.FootComment != "" {
			return nil, false
		}
		if bytes.ContainsAny(l.data[items[i].start:items[i].end], "&*") && tied(n) {
			return nil, false
		}
		shiftLines(n, 0, items[i].line-2) // "items:" is line 1, the item's first line 2
		out[i] = yaml.NewRNode(n)
	}
	return out, true
}

// streamResourceList runs the KRM function over data streaming, writing
// the output to out. It returns true when it did; false when the run is
// the one-shot path's to do, having written nothing that counts (the
// caller discards out).
func streamResourceList(r *run, env lookupEnv, data []byte, w io.Writer) bool {
	out := bufio.NewWriterSize(w, 1<<16)
	l, ok := readList(data)
	if !ok {
		return false
	}
	if mode, err := functionMode(l.functionConfig); err != nil || mode != config.ModeInject {
		return false
	}
	// The function config goes back as it came: its encoding (Istio's
	// templates are a hundred kilobytes) is done while the run goes on, on
	// a copy that nothing else touches (the strings are shared, not
	// copied).
	fcPart := make(chan []byte, 1)
	var fcCopy *yaml.RNode
	if l.functionConfig != nil {
		fcCopy = l.functionConfig.Copy()
	}
	go func() {
		defer func() {
			if recover() != nil {
				fcPart <- nil // encodeTail tries again, guarded
			}
		}()
		fcPart <- encodeFunctionConfig(fcCopy)
	}()
	// The items that may configure, read first: Istio's ConfigMaps and
	// the Namespaces and webhooks that decide may follow the workloads.
	var objects []*yaml.RNode
	var configuring []itemText
	var positions []int
	for i, it := range l.text.items {
		if mayConfigure(l.data[it.start:it.end]) {
			configuring, positions = append(configuring, it), append(positions, i)
		}
	}
	for from := 0; from < len(configuring); from += krmBatch {
		to := min(from+krmBatch, len(configuring))
		nodes, ok := l.parse(configuring[from:to])
		if !ok {
			return false
		}
		for k, n := range nodes {
			if !migrationIDs([]*yaml.RNode{n}, positions[from+k], nil) {
				return false
			}
		}
		objects = append(objects, nodes...)
	}
	cfg, err := config.Load(config.Input{FunctionConfig: l.functionConfig, Items: objects, Getenv: env})
	if err != nil {
		return false
	}
	r.setTimeout(cfg.Options.RunTimeout)
	if inputLimits(cfg.Options) != (manifest.Limits{}).WithDefaults() {
		return false // read again, or warned about: the one-shot path's
	}
	injector, err := inject.New(cfg, objects)
	if err != nil {
		return false
	}
	objects = nil
	results := (&report.Report{RunWarnings: injector.RunWarnings()}).Results()
	var witness map[string]string
	for from := 0; from < len(l.text.items); from += krmBatch {
		to := min(from+krmBatch, len(l.text.items))
		items, ok := l.parseItems(from, to)
		if !ok {
			return false
		}
		annotations := map[string]map[string]string{}
		if !migrationIDs(items, from, annotations) {
			return false
		}
		rep, err := injector.Run(items, from)
		if err != nil {
			return false
		}
		results = append(results, rep.Results()...)
		// The annotation format of the whole list is that of its first
		// item with kyaml's index, path or id annotations, which every
		// other such item must share: reconciled with it, a batch is
		// reconciled as within the whole list, and a mismatch fails.
		for id := from; witness == nil && id < to; id++ {
			if a := annotations[strconv.Itoa(id)]; hasKyamlAnnotations(a) {
				witness = a
			}
		}
		if witness != nil {
			annotations["witness"] = witness // matches no item's id
		}
		if err := kio.ReconcileInternalAnnotations(items, annotations); err != nil {
			return false
		}
		parts := make([][]byte, len(items))
		var failed atomic.Bool
		forEach(len(items), func(i int) {
			defer func() {
				if recover() != nil { // the one-shot path meets it again, and reports it
					failed.Store(true)
				}
			}()
			b, ok, err := encodeItem(l.apiVersion, l.kind, from+i, items[i])
			if err != nil || !ok {
				failed.Store(true)
			}
			parts[i] = b
		})
		if failed.Load() {
			return false
		}
		for _, p := range parts {
			if _, err := out.Write(p); err != nil {
				return false
			}
		}
	}
	resultsNode := l.results
	if len(results) > 0 {
		if resultsNode, err = marshalResults(results); err != nil {
			return false
		}
	}
	tail, err := joinTail(<-fcPart, l.functionConfig, resultsNode)
	if err != nil {
		return false
	}
	if _, err := out.Write(tail); err != nil {
		return false
	}
	return out.Flush() == nil
}

// encodeFunctionConfig is the part of the tail of a list that holds its
// function config, encoded alone: nil when there is none, or when it may
// not come out alone as it does before the results. yaml.v3 writes a
// mapping's entries one after the other, each from its own events; what
// the next entry can change is a foot comment's place (the encoder moves
// it to the next key) and how the part ends (an open-ended scalar makes
// it end the document with "...").
func encodeFunctionConfig(fc *yaml.RNode) []byte {
	if fc == nil || footComments(fc.YNode()) {
		return nil
	}
	b, err := encodePart(&yaml.Node{Kind: yaml.MappingNode, Content: []*yaml.Node{scalarKey("functionConfig"), fc.YNode()}})
	if err != nil || bytes.HasSuffix(b, []byte("\n...\n")) || !bytes.HasSuffix(b, []byte("\n")) {
		return nil
	}
	return b
}

// joinTail is encodeTail with the function config's part encoded already
// (fcPart; nil when it could not be).
func joinTail(fcPart []byte, fc, results *yaml.RNode) ([]byte, error) {
	if fcPart == nil {
		return encodeTail(fc, results)
	}
	if results == nil {
		return fcPart, nil
	}
	rest, err := encodeTail(nil, results)
	if err != nil {
		return nil, err
	}
	return append(fcPart, rest...), nil
}

// footComments reports whether n or a node below it has a foot comment.
func footComments(n *yaml.Node) bool {
	if n == nil {
		return false
	}
	if n.FootComment != "" {
		return true
	}
	for _, c := range n.Content {
		if footComments(c) {
			return true
		}
	}
	return false
}

// migrationIDs does for items, the list's from-th item first, what
// kio.PreprocessResourcesForInternalAnnotationMigration does for a whole
// list: each item gets its position as kyaml's migration id, and its
// legacy annotations copied; annotations, when not nil, gets each item's
// internal annotations by id. false where kyaml fails.
func migrationIDs(items []*yaml.RNode, from int, annotations map[string]map[string]string) bool {
	for i, it := range items {
		id := strconv.Itoa(from + i)
		if err := it.PipeE(yaml.SetAnnotation(kioutil.InternalAnnotationsMigrationResourceIDAnnotation, id)); err != nil {
			return false
		}
		if annotations != nil {
			annotations[id] = kioutil.GetInternalAnnotations(it)
		}
		if err := kioutil.CopyLegacyAnnotations(it); err != nil {
			return false
		}
		meta, _ := it.GetMeta()
		a := meta.Annotations
		for _, pair := range [][2]string{
			{kioutil.PathAnnotation, kioutil.LegacyPathAnnotation},
			{kioutil.IndexAnnotation, kioutil.LegacyIndexAnnotation},
			{kioutil.IdAnnotation, kioutil.LegacyIdAnnotation},
		} {
			if v, legacy := a[pair[0]], a[pair[1]]; v != "" && legacy != "" && v != legacy {
				return false // kyaml: mismatched legacy and internal annotations
			}
		}
	}
	return true
}

// hasKyamlAnnotations reports whether an item's internal annotations
// decide the list's annotation format, as kyaml's reconciliation has it.
func hasKyamlAnnotations(a map[string]string) bool {
	for _, k := range []string{
		kioutil.PathAnnotation, kioutil.IndexAnnotation, kioutil.IdAnnotation,
		kioutil.LegacyPathAnnotation, kioutil.LegacyIndexAnnotation, kioutil.LegacyIdAnnotation,
	} {
		if _, ok := a[k]; ok {
			return true
		}
	}
	return false
}

// marshalResults is the results node executeFunction writes.
func marshalResults(results framework.Results) (*yaml.RNode, error) {
	b, err := yaml.Marshal(results)
	if err != nil {
		return nil, err
	}
	return yaml.Parse(string(b))
}

// forEach calls fn(i) for i in [0, n) on every core.
func forEach(n int, fn func(int)) {
	workers := min(n, runtime.GOMAXPROCS(0))
	if workers <= 1 {
		for i := range n {
			fn(i)
		}
		return
	}
	var next atomic.Int64
	var wg sync.WaitGroup
	for range workers {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := int(next.Add(1) - 1); i < n; i = int(next.Add(1) - 1) {
				fn(i)
			}
		}()
	}
	wg.Wait()
}
