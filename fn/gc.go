package main

import "runtime/debug"

// The garbage collector's settings for the inject command. It streams, so
// its live heap is one batch (tens of MiB) whatever the input. Letting the
// heap grow to five times that instead of twice cuts the collector's share
// of the run from about a third to under a tenth; the soft memory limit
// keeps the peak where it is for any input size (five times a batch that
// happens to be large would otherwise make the peak grow with the number
// of batches). KRM mode holds the whole ResourceList, whose size the user
// controls, and keeps Go's defaults.
const (
	streamingGCPercent   = 400
	streamingMemoryLimit = 192 << 20
)

// tuneGC sets the collector for the command in args (the process's
// arguments after its name), except what the user set with GOGC or
// GOMEMLIMIT.
func tuneGC(args []string, env lookupEnv) {
	if len(args) == 0 || args[0] != "inject" {
		return
	}
	if _, set := env("GOGC"); !set {
		debug.SetGCPercent(streamingGCPercent)
	}
	if _, set := env("GOMEMLIMIT"); !set {
		debug.SetMemoryLimit(streamingMemoryLimit)
	}
}
