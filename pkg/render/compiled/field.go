package compiled

import (
	"reflect"
	"strings"
	"sync/atomic"
	"text/template/parse"
)

// field is one name of a field chain (.A.B.C) with a cache of how it
// resolves for the last receiver type seen: executions run concurrently,
// so the cache is swapped atomically as a whole.
type field struct {
	name  string
	key   reflect.Value // the name as a map key
	cache atomic.Pointer[resolution]
}

type resolveKind uint8

const (
	resolveFail   resolveKind = iota // text/template fails: decline
	resolveMethod                    // a method of the receiver (or of its address)
	resolveField                     // an exported struct field
	resolveMapKey                    // a map with string keys
)

// resolution is how a name resolves for a receiver type, once addressed
// (addr) or not: text/template looks for methods on *T when it can take
// the receiver's address.
type resolution struct {
	typ    reflect.Type
	addr   bool
	kind   resolveKind
	method int
	index  []int
}

func (f *field) resolve(typ reflect.Type, addr bool) *resolution {
	if r := f.cache.Load(); r != nil && r.typ == typ && r.addr == addr {
		return r
	}
	r := &resolution{typ: typ, addr: addr}
	ptrType := typ
	if addr {
		ptrType = reflect.PointerTo(typ)
	}
	if m, ok := ptrType.MethodByName(f.name); ok {
		r.kind, r.method = resolveMethod, m.Index
	} else {
		switch typ.Kind() {
		case reflect.Struct:
			if sf, ok := typ.FieldByName(f.name); ok && sf.IsExported() {
				r.kind, r.index = resolveField, sf.Index
			}
		case reflect.Map:
			if stringType.AssignableTo(typ.Key()) {
				r.kind = resolveMapKey
			}
		}
	}
	f.cache.Store(r)
	return r
}

// pureMethod tells which methods field chains may call: protobuf getters
// and String, which read their receiver only. Others could modify the
// template data between a declined run and text/template's.
func pureMethod(name string) bool {
	return name == "String" || strings.HasPrefix(name, "Get")
}

// eval is text/template's evalField for a receiver, without arguments
// (hasArgs: the chain's last name was given some, which only a method
// could take).
func (f *field) eval(s *state, recv reflect.Value, hasArgs bool) reflect.Value {
	if !recv.IsValid() {
		return reflect.Value{} // missingkey=default: no value, no error
	}
	recv, isNil := indirect(recv)
	if recv.Kind() == reflect.Interface && isNil {
		s.decline()
	}
	ptr := recv
	addr := false
	if k := ptr.Kind(); k != reflect.Interface && k != reflect.Pointer && ptr.CanAddr() {
		ptr, addr = ptr.Addr(), true
	}
	r := f.resolve(recv.Type(), addr)
	switch r.kind {
	case resolveMethod:
		if hasArgs || !pureMethod(f.name) {
			s.decline()
		}
		return callMethod(s, ptr.Method(r.method))
	case resolveField:
		if hasArgs {
			s.decline()
		}
		if len(r.index) == 1 {
			return recv.Field(r.index[0])
		}
		v, err := recv.FieldByIndexErr(r.index)
		if err != nil {
			s.decline()
		}
		return v
	case resolveMapKey:
		if hasArgs {
			s.decline()
		}
		switch recv.Type() {
		case mapStringAny:
			x, ok := recv.Interface().(map[string]any)[f.name]
			switch {
			case !ok:
				return reflect.Value{}
			case x == nil:
				return zeroAny
			}
			// text/template holds the element as an interface value;
			// every use unwraps it, so the dynamic value is equivalent.
			return reflect.ValueOf(x)
		case mapStringString:
			x, ok := recv.Interface().(map[string]string)[f.name]
			if !ok {
				return reflect.Value{}
			}
			return reflect.ValueOf(x)
		}
		return recv.MapIndex(f.key)
	}
	s.decline()
	return reflect.Value{}
}

// callMethod calls a method without arguments as text/template does: one
// result, or a result and an error, which declines.
func callMethod(s *state, m reflect.Value) reflect.Value {
	t := m.Type()
	if t.NumIn() != 0 && !(t.IsVariadic() && t.NumIn() == 1) {
		s.decline()
	}
	if t.IsVariadic() {
		s.decline()
	}
	switch {
	case t.NumOut() == 1:
	case t.NumOut() == 2 && t.Out(1) == errorType:
	default:
		s.decline()
	}
	return callValue(s, m, nil)
}

// fieldChain compiles .A.B.C on dot, or on recv's value; args are the
// command's words (the chain first), hasFinal whether a previous command's
// value follows them.
func (c *compiler) fieldChain(names []string, recv argFn, args []parse.Node, hasFinal bool) cmdFn {
	fields := make([]*field, len(names))
	for i, name := range names {
		fields[i] = &field{name: name, key: reflect.ValueOf(name)}
	}
	hasArgs := len(args) > 1 || hasFinal
	last := fields[len(fields)-1]
	inner := fields[:len(fields)-1]
	return func(s *state, dot, _ reflect.Value) reflect.Value {
		r := dot
		if recv != nil {
			r = recv(s, dot)
		}
		for _, f := range inner {
			r = f.eval(s, r, false)
		}
		return last.eval(s, r, hasArgs)
	}
}
