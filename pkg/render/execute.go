package render

import (
	"bytes"
	"errors"
	"fmt"
	"sync/atomic"
	"text/template"
	"time"

	"github.com/inject-sidecar/inject-sidecar/pkg/render/compiled"
)

// Error is the type of this package's sentinel errors; constants, so that
// no caller can replace them.
type Error string

func (e Error) Error() string { return string(e) }

const (
	// ErrOutputTooLarge matches (errors.Is) the error returned when a pod's
	// templates together render more than the configured maximum.
	ErrOutputTooLarge Error = "template output too large"
	// ErrTimeout matches (errors.Is) the error returned when a pod's
	// templates together take longer than the configured timeout.
	ErrTimeout Error = "template execution timed out"
)

// limitWriter collects a template's output and fails the execution once it
// would exceed its budget or once the execution has been abandoned.
// text/template stops at the first failed write and returns its error.
type limitWriter struct {
	buf       bytes.Buffer
	budget    int // bytes this template may still write
	limit     int // the per-pod limit, for the message
	abandoned atomic.Bool
}

// limitError reads "output exceeds N bytes" but matches its sentinel with errors.Is.
type limitError struct {
	sentinel Error
	msg      string
}

func (e *limitError) Error() string        { return e.msg }
func (e *limitError) Is(target error) bool { return target == error(e.sentinel) }

func timeoutError(timeout time.Duration) error {
	return &limitError{sentinel: ErrTimeout, msg: fmt.Sprintf("execution exceeds %s", timeout)}
}

func (w *limitWriter) Write(p []byte) (int, error) {
	if w.abandoned.Load() {
		return 0, ErrTimeout
	}
	if len(p) > w.budget-w.buf.Len() {
		return 0, &limitError{sentinel: ErrOutputTooLarge, msg: fmt.Sprintf("output exceeds %d bytes", w.limit)}
	}
	return w.buf.Write(p)
}

// initialOutput is the buffer a template's output starts in.
const initialOutput = 8 << 10

// limits bound the rendering of one pod, all templates together.
type limits struct {
	remaining int // output bytes still allowed
	maxOutput int // the per-pod total, for messages
	deadline  time.Time
	timeout   time.Duration // the per-pod total, for messages
}

// execute runs one template within the pod's remaining limits.
//
// Execution happens on its own goroutine because text/template cannot be
// interrupted: a template can loop without writing (range over a huge list)
// or sit in a slow function, where a writer-side check alone would never
// fire. On timeout the goroutine is abandoned: it is flagged so that its next
// write fails and it unwinds, but one stuck inside a function keeps running
// until that returns. That costs a goroutine and CPU until the process exits,
// which it does soon after, since a render error fails the run.
func execute(t *template.Template, data *TemplateData, l limits) ([]byte, error) {
	wait := time.Until(l.deadline)
	if wait <= 0 {
		return nil, timeoutError(l.timeout)
	}
	w := &limitWriter{budget: l.remaining, limit: l.maxOutput}
	// Istio's sidecar template renders about 6 KB: one allocation rather
	// than a dozen while the buffer grows.
	w.buf.Grow(min(max(l.remaining, 0), initialOutput))
	done := make(chan error, 1) // buffered: an abandoned run must not block forever
	go func() {
		defer func() {
			// text/template recovers panics in functions, not all runtime
			// errors; an escaped panic here would kill the process.
			if r := recover(); r != nil {
				done <- fmt.Errorf("template panicked: %v", r)
			}
		}()
		done <- t.Execute(w, data)
	}()

	timer := time.NewTimer(wait)
	defer timer.Stop()
	select {
	case err := <-done:
		if err != nil {
			return nil, err
		}
		return w.buf.Bytes(), nil
	case <-timer.C:
		w.abandoned.Store(true)
		return nil, timeoutError(l.timeout)
	}
}

// executeCompiled runs a template's compiled program on the calling
// goroutine: no goroutine to start, since the program checks a flag that a
// timer sets at the deadline on every write, loop iteration and template
// call, and calls only functions bounded by their arguments. It returns
// compiled.ErrDecline when the program declines: the caller then runs
// execute, so that results and errors are always text/template's.
func executeCompiled(e *lazyTemplate, data *TemplateData, l limits) ([]byte, error) {
	wait := time.Until(l.deadline)
	if wait <= 0 {
		return nil, timeoutError(l.timeout)
	}
	var stop atomic.Bool
	timer := time.AfterFunc(wait, func() { stop.Store(true) })
	buf := make([]byte, 0, min(max(l.remaining, 0), initialOutput))
	out, err := e.prog.Execute(buf, data, compiled.Limits{MaxOutput: l.remaining, Stop: &stop})
	timer.Stop()
	if errors.Is(err, compiled.ErrStopped) {
		return nil, timeoutError(l.timeout)
	}
	return out, err
}
