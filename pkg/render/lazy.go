package render

import (
	"fmt"
	"runtime"
	"slices"
	"sort"
	"sync"
	"sync/atomic"
	"text/template"

	"github.com/inject-sidecar/inject-sidecar/pkg/render/compiled"
)

// templateSet is one revision's templates, each parsed at most once: by
// the first Render that selects it, or by the background workers that
// Prepare starts, whichever comes first. Istio's configuration is a
// hundred kilobytes of templates (sidecar, gateway, grpc-*, waypoint...)
// while a pod uses one or two, so a short run renders as soon as its own
// templates are parsed, the others being checked on the remaining cores.
type templateSet struct {
	revision string
	names    []string // sorted
	order    []string // as the background parses them
	entries  map[string]*lazyTemplate
	// base holds the template functions, each template a clone of it:
	// cloning copies the functions Funcs checked and wrapped once, where
	// Funcs on every template did that work again (about a millisecond for
	// Istio's nine templates and sprig's two hundred functions).
	base *template.Template
	// funcs is the function map of base, which compiled programs call.
	funcs template.FuncMap

	done chan struct{} // closed once every template is parsed
	err  error         // the first parse error in name order; set before done closes
}

type lazyTemplate struct {
	text string
	once sync.Once
	t    *template.Template
	err  error
	// prog is t compiled, nil when it does not compile (progErr says why):
	// then t executes. It is compiled when a render first uses the
	// template, not when it is parsed: most templates are parsed only to
	// be checked, and compiling them all cost a short run a millisecond.
	compileOnce sync.Once
	prog        *compiled.Program
	progErr     error
}

func newTemplateSet(revision string, texts map[string]string, fm template.FuncMap) *templateSet {
	s := &templateSet{
		revision: revision,
		names:    make([]string, 0, len(texts)),
		entries:  make(map[string]*lazyTemplate, len(texts)),
		base:     template.New("").Funcs(fm),
		funcs:    fm,
		done:     make(chan struct{}),
	}
	for name, text := range texts {
		s.names = append(s.names, name)
		s.entries[name] = &lazyTemplate{text: text}
	}
	sort.Strings(s.names) // deterministic: the first bad template is always the same one
	return s
}

// has reports whether the set holds a template of that name.
func (s *templateSet) has(name string) bool {
	_, ok := s.entries[name]
	return ok
}

// get returns the parsed template, parsing it now unless that was done.
func (s *templateSet) get(name string) (*template.Template, error) {
	e, err := s.parsed(name)
	if err != nil {
		return nil, err
	}
	return e.t, nil
}

// entry returns the parsed template with its compiled program (nil when it
// does not compile), parsing and compiling it now unless that was done.
func (s *templateSet) entry(name string) (*lazyTemplate, error) {
	e, err := s.parsed(name)
	if err != nil {
		return nil, err
	}
	// A template that does not compile runs on text/template: compiling
	// is an optimisation, never a requirement.
	e.compileOnce.Do(func() { e.prog, e.progErr = compiled.Compile(e.t, s.funcs) })
	return e, nil
}

// parsed returns the parsed template, parsing it now unless that was done.
func (s *templateSet) parsed(name string) (*lazyTemplate, error) {
	e := s.entries[name]
	if e == nil {
		return nil, fmt.Errorf("render: no template %q in revision %q", name, s.revision)
	}
	e.once.Do(func() {
		defer func() {
			// The parser recovers its own panics but re-raises runtime
			// errors; on a background worker one would end the process.
			if v := recover(); v != nil {
				e.t, e.err = nil, fmt.Errorf("render: parsing template %q of revision %q: internal error: %v", name, s.revision, v)
			}
		}()
		t, err := s.base.Clone()
		if err == nil {
			t, err = t.New(name).Parse(e.text)
		}
		if err != nil {
			err = fmt.Errorf("render: parsing template %q of revision %q: %w", name, s.revision, err)
		}
		e.t, e.err = t, err
	})
	if e.err != nil {
		return nil, e.err
	}
	return e, nil
}

// parseAll parses every template not parsed yet on workers goroutines,
// those a pod is likely to want (first) last: a Render that needs them
// meanwhile parses them itself, on its own core. It returns at once; done
// is closed when all are parsed.
func (s *templateSet) parseAll(workers int, likely []string) {
	order := slices.Clone(s.names)
	sort.SliceStable(order, func(i, j int) bool {
		return !slices.Contains(likely, order[i]) && slices.Contains(likely, order[j])
	})
	s.order = order
	workers = max(1, min(workers, len(order)))
	var next atomic.Int64
	var wg sync.WaitGroup
	for range workers {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for {
				i := int(next.Add(1) - 1)
				if i >= len(order) {
					return
				}
				s.get(order[i]) // errors are collected below, in name order
			}
		}()
	}
	go func() {
		wg.Wait()
		for _, name := range s.names {
			if _, err := s.get(name); err != nil {
				s.err = err
				break
			}
		}
		close(s.done)
	}()
}

// wait returns once every template is parsed: nil, or the error of the
// first template in name order that does not parse. Meanwhile it parses
// what the background has not reached yet, from the other end.
func (s *templateSet) wait() error {
	select {
	case <-s.done:
		return s.err
	default:
	}
	for i := len(s.order) - 1; i >= 0; i-- {
		s.get(s.order[i]) // the background collects the errors
	}
	<-s.done
	return s.err
}

// backgroundWorkers is how many goroutines parse templates while the run
// goes on: every core but the one the run itself is on.
func backgroundWorkers() int {
	return max(1, runtime.GOMAXPROCS(0)-1)
}
