package compiled

import (
	"cmp"
	"fmt"
	"reflect"
	"slices"
	"strconv"
	"sync/atomic"
	"text/template/parse"
)

// maxDepth bounds nested template calls; deeper recursion declines, and
// text/template applies its own limit under the caller's timeout.
const maxDepth = 1000

type variable struct {
	name  string
	value reflect.Value
}

// state is one execution. vars is text/template's variable stack; the
// variables of the template being executed start at base.
type state struct {
	out   []byte
	max   int
	stop  *atomic.Bool
	vars  []variable
	base  int
	depth int
	args  []reflect.Value // argument stack of function calls in progress
}

// declineSignal and stopSignal are panic values, recovered by Execute.
type signal int

const (
	declineSignal signal = iota
	stopSignal
)

func (s *state) decline() { panic(declineSignal) }

func (s *state) checkStop() {
	if s.stop != nil && s.stop.Load() {
		panic(stopSignal)
	}
}

func (s *state) write(b []byte) {
	s.checkStop()
	if len(b) > s.max-len(s.out) {
		s.decline() // text/template reports the limit
	}
	s.out = append(s.out, b...)
}

func (s *state) writeString(str string) {
	s.checkStop()
	if len(str) > s.max-len(s.out) {
		s.decline()
	}
	s.out = append(s.out, str...)
}

func valueOf(data any) reflect.Value {
	if v, ok := data.(reflect.Value); ok {
		return v
	}
	return reflect.ValueOf(data)
}

func (s *state) run(t *tmpl, dot reflect.Value) {
	s.vars = append(s.vars[:0], variable{"$", dot})
	t.body(s, dot)
}

// call executes a {{template}}: its own variables, starting with $.
func (s *state) call(t *tmpl, dot reflect.Value) {
	s.checkStop()
	if s.depth >= maxDepth {
		s.decline()
	}
	oldBase := s.base
	s.base = len(s.vars)
	s.depth++
	s.vars = append(s.vars, variable{"$", dot})
	t.body(s, dot)
	s.vars = s.vars[:s.base]
	s.base = oldBase
	s.depth--
}

func (s *state) varValue(name string) reflect.Value {
	for i := len(s.vars) - 1; i >= s.base; i-- {
		if s.vars[i].name == name {
			return s.vars[i].value
		}
	}
	s.decline()
	return reflect.Value{}
}

func (s *state) setVar(name string, v reflect.Value) {
	for i := len(s.vars) - 1; i >= s.base; i-- {
		if s.vars[i].name == name {
			s.vars[i].value = v
			return
		}
	}
	s.decline()
}

var (
	errorType        = reflect.TypeFor[error]()
	stringerType     = reflect.TypeFor[fmt.Stringer]()
	reflectValueType = reflect.TypeFor[reflect.Value]()
	stringType       = reflect.TypeFor[string]()
	intType          = reflect.TypeFor[int]()
	int64Type        = reflect.TypeFor[int64]()
	boolType         = reflect.TypeFor[bool]()
	anyType          = reflect.TypeFor[any]()
	mapStringAny     = reflect.TypeFor[map[string]any]()
	mapStringString  = reflect.TypeFor[map[string]string]()
	zeroAny          = reflect.Zero(anyType)
	emptyString      = reflect.ValueOf("")
	trueValue        = reflect.ValueOf(true)
	falseValue       = reflect.ValueOf(false)
)

func boolValue(b bool) reflect.Value {
	if b {
		return trueValue
	}
	return falseValue
}

// print writes a value as text/template prints an action's value.
func (s *state) print(v reflect.Value) {
	if !v.IsValid() {
		s.writeString("<no value>")
		return
	}
	// The common cases, formatted as fmt formats them.
	switch v.Type() {
	case stringType:
		s.writeString(v.String())
		return
	case boolType:
		s.writeString(strconv.FormatBool(v.Bool()))
		return
	case intType, int64Type:
		s.writeString(strconv.FormatInt(v.Int(), 10))
		return
	}
	iface, ok := printable(v)
	if !ok {
		s.decline()
	}
	s.checkStop()
	n := len(s.out)
	s.out = fmt.Append(s.out, iface)
	if len(s.out) > s.max {
		s.out = s.out[:n]
		s.decline()
	}
}

// printable is the value fmt receives for v, as text/template chooses it.
func printable(v reflect.Value) (any, bool) {
	if v.Kind() == reflect.Pointer {
		v, _ = indirect(v)
	}
	if !v.IsValid() {
		return "<no value>", true
	}
	if !v.Type().Implements(errorType) && !v.Type().Implements(stringerType) {
		if v.CanAddr() && (reflect.PointerTo(v.Type()).Implements(errorType) || reflect.PointerTo(v.Type()).Implements(stringerType)) {
			v = v.Addr()
		} else {
			switch v.Kind() {
			case reflect.Chan, reflect.Func:
				return nil, false
			}
		}
	}
	return v.Interface(), true
}

// validate converts an argument to its parameter type as text/template
// does (typ nil: any value); anything text/template rejects declines.
func (s *state) validate(v reflect.Value, typ reflect.Type) reflect.Value {
	if !v.IsValid() {
		if typ == nil {
			return reflect.Value{}
		}
		if canBeNil(typ) {
			return reflect.Zero(typ)
		}
		s.decline()
	}
	if typ == nil {
		return v
	}
	vt := v.Type()
	if vt == typ {
		return v
	}
	if typ == reflectValueType || vt == reflectValueType {
		s.decline() // functions taking reflect.Value are not compiled
	}
	if vt.AssignableTo(typ) {
		return v
	}
	if v.Kind() == reflect.Interface && !v.IsNil() {
		v = v.Elem()
		if v.Type().AssignableTo(typ) {
			return v
		}
	}
	switch {
	case v.Kind() == reflect.Pointer && v.Type().Elem().AssignableTo(typ):
		v = v.Elem()
		if !v.IsValid() {
			s.decline()
		}
	case reflect.PointerTo(v.Type()).AssignableTo(typ) && v.CanAddr():
		v = v.Addr()
	default:
		s.decline()
	}
	return v
}

func canBeNil(typ reflect.Type) bool {
	if typ == nil {
		return false
	}
	switch typ.Kind() {
	case reflect.Chan, reflect.Func, reflect.Interface, reflect.Map, reflect.Pointer, reflect.Slice:
		return true
	case reflect.Struct:
		return typ == reflectValueType
	}
	return false
}

func indirect(v reflect.Value) (rv reflect.Value, isNil bool) {
	for ; v.Kind() == reflect.Pointer || v.Kind() == reflect.Interface; v = v.Elem() {
		if v.IsNil() {
			return v, true
		}
	}
	return v, false
}

func indirectInterface(v reflect.Value) reflect.Value {
	if v.Kind() != reflect.Interface {
		return v
	}
	if v.IsNil() {
		return reflect.Value{}
	}
	return v.Elem()
}

// isTrue is text/template's truth; ok is false for values it cannot judge.
func isTrue(v reflect.Value) (truth, ok bool) {
	if !v.IsValid() {
		return false, true
	}
	switch v.Kind() {
	case reflect.Array, reflect.Map, reflect.Slice, reflect.String:
		return v.Len() > 0, true
	case reflect.Bool:
		return v.Bool(), true
	case reflect.Complex64, reflect.Complex128:
		return v.Complex() != 0, true
	case reflect.Chan, reflect.Func, reflect.Pointer, reflect.UnsafePointer, reflect.Interface:
		return !v.IsNil(), true
	case reflect.Int, reflect.Int8, reflect.Int16, reflect.Int32, reflect.Int64:
		return v.Int() != 0, true
	case reflect.Float32, reflect.Float64:
		return v.Float() != 0, true
	case reflect.Uint, reflect.Uint8, reflect.Uint16, reflect.Uint32, reflect.Uint64, reflect.Uintptr:
		return v.Uint() != 0, true
	case reflect.Struct:
		return true, true
	}
	return false, false
}

func truth(v reflect.Value) bool {
	t, _ := isTrue(indirectInterface(v))
	return t
}

// rangeNode compiles {{range}}: slices and arrays in order, maps in sorted
// key order (string and integer keys), integers from 0; else-branch when
// there is nothing to iterate.
func (c *compiler) rangeNode(r *parse.RangeNode) nodeFn {
	pipe := c.pipeline(r.Pipe)
	body := c.list(r.List)
	var elseBody nodeFn
	if r.ElseList != nil {
		elseBody = c.list(r.ElseList)
	}
	var decl []string
	for _, v := range r.Pipe.Decl {
		decl = append(decl, v.Ident[0])
	}
	assign := r.Pipe.IsAssign
	return func(s *state, dot reflect.Value) ctrl {
		mark0 := len(s.vars)
		val, _ := indirect(pipe(s, dot))
		mark := len(s.vars)
		iterate := func(index, elem reflect.Value) ctrl {
			s.checkStop()
			if len(decl) > 0 {
				switch {
				case !assign:
					s.vars[len(s.vars)-1].value = elem
				case len(decl) > 1:
					s.setVar(decl[0], index)
				default:
					s.setVar(decl[0], elem)
				}
			}
			if len(decl) > 1 {
				if assign {
					s.setVar(decl[1], elem)
				} else {
					s.vars[len(s.vars)-2].value = index
				}
			}
			res := body(s, elem)
			s.vars = s.vars[:mark]
			return res
		}
		ran := false
		switch val.Kind() {
		case reflect.Int, reflect.Int8, reflect.Int16, reflect.Int32, reflect.Int64,
			reflect.Uint, reflect.Uint8, reflect.Uint16, reflect.Uint32, reflect.Uint64, reflect.Uintptr:
			if len(decl) > 1 {
				s.decline()
			}
			for v := range val.Seq() {
				ran = true
				if iterate(reflect.Value{}, v) == ctrlBreak {
					break
				}
			}
		case reflect.Array, reflect.Slice:
			n := val.Len()
			for i := 0; i < n; i++ {
				ran = true
				if iterate(reflect.ValueOf(i), val.Index(i)) == ctrlBreak {
					break
				}
			}
		case reflect.Map:
			if val.Len() == 0 {
				break
			}
			ran = true
			for _, kv := range sortedMap(s, val) {
				if iterate(kv.key, kv.value) == ctrlBreak {
					break
				}
			}
		case reflect.Invalid:
		default:
			s.decline()
		}
		if !ran && elseBody != nil {
			elseBody(s, dot)
		}
		s.vars = s.vars[:mark0]
		return ctrlNone
	}
}

type keyValue struct{ key, value reflect.Value }

// sortedMap returns a map's entries in the order text/template ranges over
// them (internal/fmtsort), for string and integer keys; other keys decline.
func sortedMap(s *state, m reflect.Value) []keyValue {
	kvs := make([]keyValue, 0, m.Len())
	it := m.MapRange()
	for it.Next() {
		kvs = append(kvs, keyValue{it.Key(), it.Value()})
	}
	switch m.Type().Key().Kind() {
	case reflect.String:
		slices.SortFunc(kvs, func(a, b keyValue) int { return cmp.Compare(a.key.String(), b.key.String()) })
	case reflect.Int, reflect.Int8, reflect.Int16, reflect.Int32, reflect.Int64:
		slices.SortFunc(kvs, func(a, b keyValue) int { return cmp.Compare(a.key.Int(), b.key.Int()) })
	case reflect.Uint, reflect.Uint8, reflect.Uint16, reflect.Uint32, reflect.Uint64, reflect.Uintptr:
		slices.SortFunc(kvs, func(a, b keyValue) int { return cmp.Compare(a.key.Uint(), b.key.Uint()) })
	default:
		s.decline()
	}
	return kvs
}
