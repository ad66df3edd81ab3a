// Package funcs provides the template functions for Istio injector templates:
// sprig v3's text/template functions with Istio's injector functions on top,
// reproducing the behaviour of Istio's own injector (pkg/kube/inject) so that
// its templates render the same way here.
//
// Unlike Istio, nothing here reads the process environment or the network:
// env and expandenv see only the variables an Env exposes, and getHostByName
// always fails. Manifests are rendered in CI and GitOps repo servers, where
// the process environment holds credentials that must not leak into output.
package funcs

import (
	"errors"
	"os"
	"text/template"

	"github.com/Masterminds/sprig/v3"
)

// Env looks up a variable templates may read; nil means none is readable.
type Env func(key string) (string, bool)

// lookup reads key through env, treating a nil Env as an empty environment.
func (e Env) lookup(key string) (string, bool) {
	if e == nil {
		return "", false
	}
	return e(key)
}

// Map returns sprig v3's TxtFuncMap with Istio's injector functions added on
// top (Istio's override same-named sprig ones). Each call returns a new map.
func Map(env Env) template.FuncMap {
	m := sprig.TxtFuncMap()
	for name, fn := range istioFuncs(env) {
		m[name] = fn
	}
	// sprig's versions of these read the process environment or resolve
	// names over the network; rendering must depend on its inputs only.
	m["expandenv"] = func(s string) string {
		// os.Expand is a pure string substitution; unknown names become "",
		// as os.ExpandEnv does for unset variables.
		return os.Expand(s, func(key string) string {
			v, _ := env.lookup(key)
			return v
		})
	}
	m["getHostByName"] = func(name string) (string, error) {
		return "", errors.New("getHostByName " + name + ": network lookups are disabled at render time")
	}
	return m
}

// istioFuncs are the functions of Istio's injector, by the names its
// templates use.
func istioFuncs(env Env) template.FuncMap {
	return template.FuncMap{
		"formatDuration":         formatDuration,
		"isset":                  isset,
		"excludeInboundPort":     excludeInboundPort,
		"includeInboundPorts":    includeInboundPorts,
		"kubevirtInterfaces":     kubevirtInterfaces,
		"excludeInterfaces":      excludeInterfaces,
		"applicationPorts":       applicationPorts,
		"annotation":             annotation,
		"valueOrDefault":         valueOrDefault,
		"toJSON":                 toJSON,
		"fromJSON":               fromJSON,
		"structToJSON":           structToJSON,
		"protoToJSON":            memoProtoToJSON(),
		"toYaml":                 memoToYaml(),
		"indent":                 indent,
		"directory":              directory,
		"contains":               contains,
		"toLower":                toLower,
		"appendMultusNetwork":    appendMultusNetwork,
		"env":                    envFunc(env),
		"omit":                   omit,
		"strdict":                strdict,
		"toJsonMap":              toJSONMap,
		"mergeMaps":              mergeMaps,
		"omitNil":                omitNil,
		"otelResourceAttributes": otelResourceAttributes,
	}
}

// envFunc is Istio's two-argument env: the variable's value, or def when it
// is unset or empty. It reads only through env.
func envFunc(env Env) func(key, def string) string {
	return func(key, def string) string {
		if v, ok := env.lookup(key); ok && v != "" {
			return v
		}
		return def
	}
}
