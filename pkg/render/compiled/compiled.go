// Package compiled executes text/template templates without text/template's
// per-node interpretation: each template is walked once into Go closures,
// field names are resolved once per receiver type, and the template
// functions a sidecar template calls most are called directly instead of
// through reflect.Value.Call.
//
// It is a shortcut, not a replacement. It implements the success path of
// text/template's semantics (truth, printing, missing map keys, and/or
// short-circuit, comparison, index, len, print*, range over sorted map keys,
// slices and integers, with/else, variables, break/continue, template
// calls) and declines in every other case: a node, function or method it does
// not know at compile time, or any error at run time. A caller that gets
// ErrDecline runs the real text/template, so output and error messages
// always are text/template's.
//
// Programs assume text/template's default options (missingkey=default).
package compiled

import (
	"fmt"
	"sync/atomic"
	"text/template"
)

// Error is the type of this package's sentinel errors; constants, so that
// no caller can replace them.
type Error string

func (e Error) Error() string { return string(e) }

const (
	// ErrDecline is returned when a program cannot execute the template
	// with certainty of matching text/template; the caller runs
	// text/template instead. Callers never show it.
	ErrDecline Error = "compiled: declined"
	// ErrStopped is returned when Limits.Stop was set during the
	// execution; callers report their own timeout.
	ErrStopped Error = "compiled: stopped"
)

// Program is one compiled template with the templates it can call.
type Program struct {
	root *tmpl
}

// Limits bound one execution.
type Limits struct {
	// MaxOutput is how many bytes the template may write; writing more
	// declines (text/template then reports the limit with its own message).
	MaxOutput int
	// Stop, when set by another goroutine, makes the execution return
	// ErrStopped at the next write, loop iteration or template call.
	Stop *atomic.Bool
}

// Compile compiles t and every template it calls. A template it cannot
// compile is an error: the caller keeps using text/template for it.
// fm must be the function map t was built with (text/template does not
// expose it).
func Compile(t *template.Template, fm template.FuncMap) (*Program, error) {
	c := &compiler{set: t, funcs: fm, tmpls: map[string]*tmpl{}}
	root, err := c.template(t.Name())
	if err != nil {
		return nil, err
	}
	if root == nil {
		return nil, fmt.Errorf("template %q is empty or incomplete", t.Name())
	}
	return &Program{root: root}, nil
}

// Execute runs the program with data and appends the output to buf,
// returning the extended buffer. On error, buf's content beyond its
// original length is unspecified; the error is ErrDecline or ErrStopped.
func (p *Program) Execute(buf []byte, data any, lim Limits) (out []byte, err error) {
	s := &state{out: buf, max: len(buf) + lim.MaxOutput, stop: lim.Stop}
	defer func() {
		if r := recover(); r != nil {
			out = buf
			if r == stopSignal {
				err = ErrStopped
				return
			}
			// A declined construct, a failed function or any runtime
			// error: text/template decides what the result is.
			err = ErrDecline
		}
	}()
	s.run(p.root, valueOf(data))
	return s.out, nil
}
