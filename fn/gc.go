package main

import "runtime/debug"

// streamingGCPercent is the garbage collector's target for the inject
// command: it streams, so its live heap is one batch whatever the input,
// and letting the heap grow to five times that (instead of twice) cuts
// the collector's share of the run from about a third to under a tenth
// for a few tens of MiB. KRM mode holds the whole ResourceList, whose
// size the user controls, and keeps Go's default.
const streamingGCPercent = 400

// tuneGC sets the collector for the command in args (the process's
// arguments after its name), unless the user set GOGC.
func tuneGC(args []string, env lookupEnv) {
	if _, set := env("GOGC"); set {
		return
	}
	if len(args) > 0 && args[0] == "inject" {
		debug.SetGCPercent(streamingGCPercent)
	}
}
