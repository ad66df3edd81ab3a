package compiled

import (
	"fmt"
	"reflect"
	"text/template/parse"
)

// function compiles a call of the function name with the argument nodes
// args and, when hasFinal, the previous command's value last. The function
// map comes first, then text/template's builtins, as text/template looks
// them up. Whatever text/template would reject declines when reached.
func (c *compiler) function(name string, args []parse.Node, hasFinal bool) cmdFn {
	fn, ok := c.funcs[name]
	if !ok {
		return c.builtin(name, args, hasFinal)
	}
	if !allowedFuncs[name] {
		return declineCmd
	}
	return c.goFunc(fn, args, hasFinal)
}

// goFunc compiles a call of a Go function with text/template's argument
// conversions, calling it directly when its signature is a known one.
func (c *compiler) goFunc(fn any, args []parse.Node, hasFinal bool) cmdFn {
	fv := reflect.ValueOf(fn)
	typ := fv.Type()
	if typ.Kind() != reflect.Func {
		return declineCmd
	}
	switch {
	case typ.NumOut() == 1:
	case typ.NumOut() == 2 && typ.Out(1) == errorType:
	default:
		return declineCmd
	}
	numIn := len(args)
	if hasFinal {
		numIn++
	}
	numFixed := len(args)
	if typ.IsVariadic() {
		numFixed = typ.NumIn() - 1
		if numIn < numFixed {
			return declineCmd
		}
	} else if numIn != typ.NumIn() {
		return declineCmd
	}
	for i := range typ.NumIn() {
		if t := typ.In(i); t == reflectValueType || (typ.IsVariadic() && i == typ.NumIn()-1 && t.Elem() == reflectValueType) {
			return declineCmd
		}
	}
	argFns := make([]argFn, len(args))
	i := 0
	for ; i < numFixed && i < len(args); i++ {
		argFns[i] = c.arg(args[i], typ.In(i))
	}
	if typ.IsVariadic() {
		elem := typ.In(typ.NumIn() - 1).Elem()
		for ; i < len(args); i++ {
			argFns[i] = c.arg(args[i], elem)
		}
	}
	var finalType reflect.Type
	if hasFinal {
		finalType = typ.In(typ.NumIn() - 1)
		if typ.IsVariadic() {
			if numIn-1 < numFixed {
				finalType = typ.In(numIn - 1)
			} else {
				finalType = finalType.Elem()
			}
		}
	}
	direct := adapter(fn)
	return func(s *state, dot, final reflect.Value) reflect.Value {
		base := len(s.args)
		for _, a := range argFns {
			v := a(s, dot)
			s.args = append(s.args, v)
		}
		if hasFinal {
			s.args = append(s.args, s.validate(final, finalType))
		}
		argv := s.args[base:]
		var v reflect.Value
		ok := false
		if direct != nil {
			v, ok = direct(argv)
		}
		if !ok {
			v = callValue(s, fv, argv)
		}
		clear(argv)
		s.args = s.args[:base]
		return v
	}
}

// callValue calls through reflection: one result, or a result and an
// error, which declines.
func callValue(s *state, fv reflect.Value, argv []reflect.Value) reflect.Value {
	out := fv.Call(argv)
	if len(out) == 2 && !out[1].IsNil() {
		s.decline()
	}
	v := out[0]
	if v.Type() == reflectValueType {
		s.decline()
	}
	return v
}

// builtin compiles text/template's own functions; html, js, urlquery,
// slice and call decline.
func (c *compiler) builtin(name string, args []parse.Node, hasFinal bool) cmdFn {
	numIn := len(args)
	if hasFinal {
		numIn++
	}
	argFns := make([]argFn, len(args))
	for i, a := range args {
		argFns[i] = c.builtinArg(a)
	}
	switch name {
	case "and", "or":
		if numIn < 1 {
			return declineCmd
		}
		or := name == "or"
		return func(s *state, dot, final reflect.Value) reflect.Value {
			var v reflect.Value
			for _, a := range argFns {
				v = a(s, dot)
				if truth(v) == or {
					return v
				}
			}
			if hasFinal {
				v = final
				if v.IsValid() && v.Type() == reflectValueType {
					s.decline()
				}
			}
			return v
		}
	case "not":
		if numIn != 1 {
			return declineCmd
		}
		return c.builtinCall(argFns, hasFinal, func(s *state, a []reflect.Value) reflect.Value {
			return boolValue(!truth(a[0]))
		})
	case "len":
		if numIn != 1 {
			return declineCmd
		}
		return c.builtinCall(argFns, hasFinal, func(s *state, a []reflect.Value) reflect.Value {
			item, isNil := indirect(a[0])
			if isNil {
				s.decline()
			}
			switch item.Kind() {
			case reflect.Array, reflect.Chan, reflect.Map, reflect.Slice, reflect.String:
				return reflect.ValueOf(item.Len())
			}
			s.decline()
			return reflect.Value{}
		})
	case "index":
		if numIn < 1 {
			return declineCmd
		}
		return c.builtinCall(argFns, hasFinal, func(s *state, a []reflect.Value) reflect.Value {
			return index(s, a[0], a[1:])
		})
	case "eq":
		if numIn < 1 {
			return declineCmd
		}
		return c.builtinCall(argFns, hasFinal, func(s *state, a []reflect.Value) reflect.Value {
			return boolValue(eq(s, a[0], a[1:]))
		})
	case "ne", "lt", "le", "gt", "ge":
		if numIn != 2 {
			return declineCmd
		}
		var f func(s *state, a, b reflect.Value) bool
		switch name {
		case "ne":
			f = func(s *state, a, b reflect.Value) bool { return !eq(s, a, []reflect.Value{b}) }
		case "lt":
			f = lt
		case "le":
			f = func(s *state, a, b reflect.Value) bool { return lt(s, a, b) || eq(s, a, []reflect.Value{b}) }
		case "gt":
			f = func(s *state, a, b reflect.Value) bool { return !(lt(s, a, b) || eq(s, a, []reflect.Value{b})) }
		case "ge":
			f = func(s *state, a, b reflect.Value) bool { return !lt(s, a, b) }
		}
		return c.builtinCall(argFns, hasFinal, func(s *state, a []reflect.Value) reflect.Value {
			return boolValue(f(s, a[0], a[1]))
		})
	case "print":
		return c.goFunc(fmt.Sprint, args, hasFinal)
	case "printf":
		return c.goFunc(fmt.Sprintf, args, hasFinal)
	case "println":
		return c.goFunc(fmt.Sprintln, args, hasFinal)
	}
	return declineCmd
}

// builtinCall evaluates a builtin's arguments (all of type reflect.Value
// in text/template, so unconverted) and calls f with them.
func (c *compiler) builtinCall(argFns []argFn, hasFinal bool, f func(s *state, a []reflect.Value) reflect.Value) cmdFn {
	return func(s *state, dot, final reflect.Value) reflect.Value {
		base := len(s.args)
		for _, a := range argFns {
			v := a(s, dot)
			s.args = append(s.args, v)
		}
		if hasFinal {
			if final.IsValid() && final.Type() == reflectValueType {
				s.decline()
			}
			s.args = append(s.args, final)
		}
		argv := s.args[base:]
		v := f(s, argv)
		clear(argv)
		s.args = s.args[:base]
		return v
	}
}

// builtinArg compiles an argument of a builtin: any value as it is, nil
// as no value, constants as their ideal values.
func (c *compiler) builtinArg(n parse.Node) argFn {
	switch n := n.(type) {
	case *parse.NilNode:
		return func(*state, reflect.Value) reflect.Value { return reflect.Value{} }
	case *parse.DotNode, *parse.FieldNode, *parse.VariableNode, *parse.PipeNode, *parse.IdentifierNode, *parse.ChainNode:
		a := c.arg(n, nil)
		return func(s *state, dot reflect.Value) reflect.Value {
			v := a(s, dot)
			if v.IsValid() && v.Type() == reflectValueType {
				s.decline()
			}
			return v
		}
	}
	v, ok := emptyInterfaceLiteral(n)
	if !ok {
		return declineArg
	}
	return func(*state, reflect.Value) reflect.Value { return v }
}

// index is text/template's index builtin.
func index(s *state, item reflect.Value, indexes []reflect.Value) reflect.Value {
	item = indirectInterface(item)
	if !item.IsValid() {
		s.decline()
	}
	for _, ix := range indexes {
		ix = indirectInterface(ix)
		var isNil bool
		if item, isNil = indirect(item); isNil {
			s.decline()
		}
		switch item.Kind() {
		case reflect.Array, reflect.Slice, reflect.String:
			var x int64
			switch ix.Kind() {
			case reflect.Int, reflect.Int8, reflect.Int16, reflect.Int32, reflect.Int64:
				x = ix.Int()
			case reflect.Uint, reflect.Uint8, reflect.Uint16, reflect.Uint32, reflect.Uint64, reflect.Uintptr:
				x = int64(ix.Uint())
			default:
				s.decline()
			}
			// text/template accepts an index equal to the length and
			// then fails in reflect; both decline here.
			if x < 0 || int(x) < 0 || int(x) >= item.Len() {
				s.decline()
			}
			item = item.Index(int(x))
		case reflect.Map:
			if item.Type() == mapStringString && ix.IsValid() && ix.Type() == stringType {
				if v, ok := item.Interface().(map[string]string)[ix.String()]; ok {
					item = reflect.ValueOf(v)
				} else {
					item = emptyString
				}
				continue
			}
			key := mapKey(s, ix, item.Type().Key())
			if x := item.MapIndex(key); x.IsValid() {
				item = x
			} else {
				item = reflect.Zero(item.Type().Elem())
			}
		default:
			s.decline()
		}
	}
	return item
}

// mapKey converts an index to a map's key type as text/template's index
// does: assignable values, and integers between integer types.
func mapKey(s *state, v reflect.Value, keyType reflect.Type) reflect.Value {
	if !v.IsValid() {
		if !canBeNil(keyType) {
			s.decline()
		}
		v = reflect.Zero(keyType)
	}
	if v.Type().AssignableTo(keyType) {
		return v
	}
	if intLike(v.Kind()) && intLike(keyType.Kind()) && v.Type().ConvertibleTo(keyType) {
		return v.Convert(keyType)
	}
	s.decline()
	return reflect.Value{}
}

func intLike(k reflect.Kind) bool {
	switch k {
	case reflect.Int, reflect.Int8, reflect.Int16, reflect.Int32, reflect.Int64,
		reflect.Uint, reflect.Uint8, reflect.Uint16, reflect.Uint32, reflect.Uint64, reflect.Uintptr:
		return true
	}
	return false
}

type basic uint8

const (
	invalidKind basic = iota
	boolKind
	complexKind
	intKind
	floatKind
	stringKind
	uintKind
)

func basicKind(v reflect.Value) basic {
	switch v.Kind() {
	case reflect.Bool:
		return boolKind
	case reflect.Int, reflect.Int8, reflect.Int16, reflect.Int32, reflect.Int64:
		return intKind
	case reflect.Uint, reflect.Uint8, reflect.Uint16, reflect.Uint32, reflect.Uint64, reflect.Uintptr:
		return uintKind
	case reflect.Float32, reflect.Float64:
		return floatKind
	case reflect.Complex64, reflect.Complex128:
		return complexKind
	case reflect.String:
		return stringKind
	}
	return invalidKind
}

func isNilValue(v reflect.Value) bool {
	if !v.IsValid() {
		return true
	}
	switch v.Kind() {
	case reflect.Chan, reflect.Func, reflect.Interface, reflect.Map, reflect.Pointer, reflect.Slice:
		return v.IsNil()
	}
	return false
}

// eq is text/template's eq: arg1 equal to any of others; what it cannot
// compare declines.
func eq(s *state, arg1 reflect.Value, others []reflect.Value) bool {
	arg1 = indirectInterface(arg1)
	if len(others) == 0 {
		s.decline()
	}
	k1 := basicKind(arg1)
	for _, arg := range others {
		arg = indirectInterface(arg)
		k2 := basicKind(arg)
		t := false
		if k1 != k2 {
			switch {
			case k1 == intKind && k2 == uintKind:
				t = arg1.Int() >= 0 && uint64(arg1.Int()) == arg.Uint()
			case k1 == uintKind && k2 == intKind:
				t = arg.Int() >= 0 && arg1.Uint() == uint64(arg.Int())
			default:
				if arg1.IsValid() && arg.IsValid() {
					s.decline()
				}
			}
		} else {
			switch k1 {
			case boolKind:
				t = arg1.Bool() == arg.Bool()
			case complexKind:
				t = arg1.Complex() == arg.Complex()
			case floatKind:
				t = arg1.Float() == arg.Float()
			case intKind:
				t = arg1.Int() == arg.Int()
			case stringKind:
				t = arg1.String() == arg.String()
			case uintKind:
				t = arg1.Uint() == arg.Uint()
			default:
				k1, k2 := arg1.Kind(), arg.Kind()
				if k1 != k2 && k1 != reflect.Invalid && k2 != reflect.Invalid {
					s.decline()
				}
				if isNilValue(arg1) || isNilValue(arg) {
					t = isNilValue(arg) == isNilValue(arg1)
				} else {
					if !arg.Type().Comparable() {
						s.decline()
					}
					t = arg1.Interface() == arg.Interface()
				}
			}
		}
		if t {
			return true
		}
	}
	return false
}

// lt is text/template's lt on basic kinds.
func lt(s *state, arg1, arg2 reflect.Value) bool {
	arg1 = indirectInterface(arg1)
	k1 := basicKind(arg1)
	arg2 = indirectInterface(arg2)
	k2 := basicKind(arg2)
	if k1 == invalidKind || k2 == invalidKind {
		s.decline()
	}
	if k1 != k2 {
		switch {
		case k1 == intKind && k2 == uintKind:
			return arg1.Int() < 0 || uint64(arg1.Int()) < arg2.Uint()
		case k1 == uintKind && k2 == intKind:
			return arg2.Int() >= 0 && arg1.Uint() < uint64(arg2.Int())
		}
		s.decline()
	}
	switch k1 {
	case floatKind:
		return arg1.Float() < arg2.Float()
	case intKind:
		return arg1.Int() < arg2.Int()
	case stringKind:
		return arg1.String() < arg2.String()
	case uintKind:
		return arg1.Uint() < arg2.Uint()
	}
	s.decline() // bool and complex
	return false
}
