// Package parallel runs independent pieces of work on every core the Go
// runtime may use, for stages whose results are then used in input order,
// so that output never depends on how the work was split.
package parallel

import (
	"runtime"
	"sync"
	"sync/atomic"
)

// Workers is how many goroutines work on n items: one per core the
// runtime may use (GOMAXPROCS), never more than the items, at least one.
func Workers(n int) int {
	return max(1, min(runtime.GOMAXPROCS(0), n))
}

// ForEach calls fn(i) for every i in [0, n) on up to Workers(n)
// goroutines and returns when all calls have returned; fn writes its
// result to slot i of a slice it owns. With one worker it runs on the
// calling goroutine. A panic in fn is re-raised on the calling goroutine
// once every item has run: the panic of the lowest index, the one a
// sequential loop meets first, whatever the scheduling.
func ForEach(n int, fn func(i int)) {
	w := Workers(n)
	if w == 1 {
		for i := range n {
			fn(i)
		}
		return
	}
	var next atomic.Int64
	panics := make([]any, n)
	var wg sync.WaitGroup
	for range w {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for {
				i := int(next.Add(1) - 1)
				if i >= n {
					return
				}
				run(i, fn, panics)
			}
		}()
	}
	wg.Wait()
	for _, v := range panics {
		if v != nil {
			panic(v)
		}
	}
}

func run(i int, fn func(int), panics []any) {
	defer func() {
		if v := recover(); v != nil {
			panics[i] = v
		}
	}()
	fn(i)
}
