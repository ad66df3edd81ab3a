package main

import (
	"math"
	"runtime/debug"
)

// The garbage collector's settings for the commands that stream. The
// inject command's live heap is one batch (tens of MiB) whatever the
// input; KRM mode's is its input's text (at most maxInputSize), its
// results and one batch of items. Letting the heap grow to five times that
// instead of twice cuts the collector's share of the run from about a
// third to under a tenth, and lets a short run end before its first
// collection; the soft memory limit keeps the peak where it is for any
// input size (five times a batch that happens to be large would otherwise
// make the peak grow with the number of batches). When KRM mode cannot
// stream and holds the whole ResourceList, whose size the user controls,
// it goes back to Go's defaults (relaxGC).
const (
	streamingGCPercent   = 400
	streamingMemoryLimit = 192 << 20
	krmMemoryLimit       = 384 << 20
)

// tuneGC sets the collector for the command in args (the process's
// arguments after its name), except what the user set with GOGC or
// GOMEMLIMIT.
func tuneGC(args []string, env lookupEnv) {
	limit := int64(streamingMemoryLimit)
	switch {
	case len(args) == 0: // KRM mode
		limit = krmMemoryLimit
	case args[0] != "inject":
		return
	}
	if _, set := env("GOGC"); !set {
		debug.SetGCPercent(streamingGCPercent)
	}
	if _, set := env("GOMEMLIMIT"); !set {
		debug.SetMemoryLimit(limit)
	}
}

// relaxGC restores Go's defaults, except what the user set, for a run
// that holds its whole input: its live heap may exceed any fixed limit.
func relaxGC(env lookupEnv) {
	if _, set := env("GOGC"); !set {
		debug.SetGCPercent(100)
	}
	if _, set := env("GOMEMLIMIT"); !set {
		debug.SetMemoryLimit(math.MaxInt64)
	}
}
