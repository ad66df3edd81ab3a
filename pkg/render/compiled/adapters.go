package compiled

import (
	"reflect"

	"google.golang.org/protobuf/proto"
	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
)

// allowedFuncs are the functions of the function map that compiled
// templates call: pure (they modify none of their arguments, so that a
// declined execution leaves the data as text/template must find it) and
// bounded by the size of their arguments (compiled templates run on the
// caller's goroutine, where only writes, loops and template calls check
// the deadline). Any other function declines when reached. The names are
// those of package funcs' map (sprig's and Istio's); a function map that
// binds one of them to something else still gets the right results, since
// calls go through the map's function, but loses those guarantees.
var allowedFuncs = map[string]bool{
	// Istio's injector functions.
	"formatDuration": true, "isset": true, "excludeInboundPort": true, "includeInboundPorts": true,
	"kubevirtInterfaces": true, "excludeInterfaces": true, "applicationPorts": true,
	"annotation": true, "valueOrDefault": true, "toJSON": true, "fromJSON": true,
	"structToJSON": true, "protoToJSON": true, "toYaml": true, "indent": true,
	"directory": true, "contains": true, "toLower": true, "appendMultusNetwork": true,
	"env": true, "omit": true, "strdict": true, "toJsonMap": true, "mergeMaps": true,
	"omitNil": true, "otelResourceAttributes": true, "expandenv": true,
	// sprig: strings, defaults, lists and encodings.
	"default": true, "empty": true, "coalesce": true, "ternary": true,
	"quote": true, "squote": true, "trunc": true, "trim": true, "trimAll": true,
	"trimPrefix": true, "trimSuffix": true, "upper": true, "lower": true, "title": true,
	"replace": true, "hasPrefix": true, "hasSuffix": true, "nindent": true,
	"join": true, "split": true, "splitList": true, "list": true, "append": true, "push": true,
	"first": true, "last": true, "has": true, "toString": true, "toStrings": true,
	"toJson": true, "toPrettyJson": true, "toRawJson": true, "b64enc": true, "b64dec": true,
	"hasKey": true, "get": true, "dict": true, "keys": true, "atoi": true, "int": true, "int64": true,
	"add": true, "sub": true, "kindIs": true, "typeOf": true, "kindOf": true, "typeIs": true,
}

// adapter returns a direct caller for the function signatures that
// Istio's templates call most, or nil. The arguments have been converted
// to the parameter types already; a caller reporting false found an
// argument of a type assignable to the parameter's but not identical,
// which reflection then handles.
func adapter(fn any) func([]reflect.Value) (reflect.Value, bool) {
	switch f := fn.(type) {
	case func(string) string:
		return func(a []reflect.Value) (reflect.Value, bool) {
			return reflect.ValueOf(f(a[0].String())), true
		}
	case func(string, string) string:
		return func(a []reflect.Value) (reflect.Value, bool) {
			return reflect.ValueOf(f(a[0].String(), a[1].String())), true
		}
	case func(string, string) bool:
		return func(a []reflect.Value) (reflect.Value, bool) {
			return boolValue(f(a[0].String(), a[1].String())), true
		}
	case func(int, string) string:
		return func(a []reflect.Value) (reflect.Value, bool) {
			if a[0].Type() != intType {
				return reflect.Value{}, false
			}
			return reflect.ValueOf(f(int(a[0].Int()), a[1].String())), true
		}
	case func(...any) string:
		return func(a []reflect.Value) (reflect.Value, bool) {
			return reflect.ValueOf(f(anys(a)...)), true
		}
	case func(string, ...any) string:
		return func(a []reflect.Value) (reflect.Value, bool) {
			return reflect.ValueOf(f(a[0].String(), anys(a[1:])...)), true
		}
	case func(string, any) string:
		return func(a []reflect.Value) (reflect.Value, bool) {
			return reflect.ValueOf(f(a[0].String(), toAny(a[1]))), true
		}
	case func(any, string) string:
		return func(a []reflect.Value) (reflect.Value, bool) {
			return reflect.ValueOf(f(toAny(a[0]), a[1].String())), true
		}
	case func(any) string:
		return func(a []reflect.Value) (reflect.Value, bool) {
			return reflect.ValueOf(f(toAny(a[0]))), true
		}
	case func(any) any:
		return func(a []reflect.Value) (reflect.Value, bool) {
			return anyResult(f(toAny(a[0]))), true
		}
	case func(string) any:
		return func(a []reflect.Value) (reflect.Value, bool) {
			return anyResult(f(a[0].String())), true
		}
	case func(any, any) any:
		return func(a []reflect.Value) (reflect.Value, bool) {
			return anyResult(f(toAny(a[0]), toAny(a[1]))), true
		}
	case func(any, ...any) any:
		return func(a []reflect.Value) (reflect.Value, bool) {
			return anyResult(f(toAny(a[0]), anys(a[1:])...)), true
		}
	case func(...any) []any:
		return func(a []reflect.Value) (reflect.Value, bool) {
			return reflect.ValueOf(f(anys(a)...)), true
		}
	case func(any, any) []any:
		return func(a []reflect.Value) (reflect.Value, bool) {
			return reflect.ValueOf(f(toAny(a[0]), toAny(a[1]))), true
		}
	case func(map[string]string, string) bool:
		return func(a []reflect.Value) (reflect.Value, bool) {
			if a[0].Type() != mapStringString {
				return reflect.Value{}, false
			}
			return boolValue(f(mapSS(a[0]), a[1].String())), true
		}
	case func(metav1.ObjectMeta, string, any) string:
		return func(a []reflect.Value) (reflect.Value, bool) {
			if a[0].Type() != objectMetaType {
				return reflect.Value{}, false
			}
			return reflect.ValueOf(f(objectMeta(a[0]), a[1].String(), toAny(a[2]))), true
		}
	case func(proto.Message) string:
		return func(a []reflect.Value) (reflect.Value, bool) {
			m, ok := toAny(a[0]).(proto.Message)
			if !ok && a[0].IsValid() && !(a[0].Kind() == reflect.Interface && a[0].IsNil()) {
				return reflect.Value{}, false
			}
			return reflect.ValueOf(f(m)), true
		}
	case func([]corev1.Container) string:
		return func(a []reflect.Value) (reflect.Value, bool) {
			if a[0].Type() != containersType {
				return reflect.Value{}, false
			}
			return reflect.ValueOf(f(a[0].Interface().([]corev1.Container))), true
		}
	case func(map[string]string) string:
		return func(a []reflect.Value) (reflect.Value, bool) {
			if a[0].Type() != mapStringString {
				return reflect.Value{}, false
			}
			return reflect.ValueOf(f(mapSS(a[0]))), true
		}
	}
	return nil
}

var (
	objectMetaType = reflect.TypeFor[metav1.ObjectMeta]()
	containersType = reflect.TypeFor[[]corev1.Container]()
)

// toAny is what a parameter of type interface{} receives.
func toAny(v reflect.Value) any {
	if !v.IsValid() {
		return nil
	}
	return v.Interface()
}

func anys(a []reflect.Value) []any {
	out := make([]any, len(a))
	for i, v := range a {
		out[i] = toAny(v)
	}
	return out
}

// anyResult is a result of type interface{}: text/template holds it as an
// interface value, nil included; every use unwraps a non-nil one, so the
// dynamic value is equivalent.
func anyResult(x any) reflect.Value {
	if x == nil {
		return zeroAny
	}
	return reflect.ValueOf(x)
}

func mapSS(v reflect.Value) map[string]string {
	return v.Interface().(map[string]string)
}

// objectMeta reads a metav1.ObjectMeta argument without the heap copy
// that Interface makes of an addressable struct.
func objectMeta(v reflect.Value) metav1.ObjectMeta {
	if v.CanAddr() {
		return *(*metav1.ObjectMeta)(v.Addr().UnsafePointer())
	}
	return v.Interface().(metav1.ObjectMeta)
}
