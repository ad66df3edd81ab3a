package funcs

import (
	"encoding/json"
	"fmt"
	"path"
	"strconv"
	"strings"

	yamlv2 "go.yaml.in/yaml/v2"
	"google.golang.org/protobuf/types/known/durationpb"
	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"sigs.k8s.io/yaml"
)

// proxyContainerName is the sidecar container Istio injects.
const proxyContainerName = "istio-proxy"

// The signatures below are Istio's: text/template converts arguments to
// these types and reports a mismatch as an execution error, which is the
// behaviour Istio's templates are written against.

// formatDuration prints a protobuf duration in Go's time.Duration form
// ("5s", "1m30s"); a nil duration prints "0s".
func formatDuration(d *durationpb.Duration) string {
	return d.AsDuration().String()
}

// isset reports whether key is present in m, even with an empty value.
func isset(m map[string]string, key string) bool {
	_, ok := m[key]
	return ok
}

// directory returns the directory part of a slash-separated path, keeping
// its trailing slash ("/etc/certs/root.pem" gives "/etc/certs/").
func directory(p string) string {
	dir, _ := path.Split(p)
	return dir
}

// contains takes the needle first so that it reads well in pipelines:
// contains "/" .Image.
func contains(needle, haystack string) bool {
	return strings.Contains(haystack, needle)
}

// toLower is strings.ToLower under the name Istio's templates use.
func toLower(s string) string {
	return strings.ToLower(s)
}

// excludeInboundPort adds port to a comma-separated port list unless it is
// empty, "0" or already listed. The list is returned unchanged in those
// cases; otherwise it is rebuilt from its trimmed, non-empty entries.
func excludeInboundPort(port any, excluded string) string {
	portStr := strings.TrimSpace(fmt.Sprint(port))
	if portStr == "" || portStr == "0" {
		return excluded
	}
	entries := strings.Split(excluded, ",")
	out := make([]string, 0, len(entries)+1)
	for _, e := range entries {
		// Istio compares the untrimmed entry, so " 15020" does not count
		// as already excluded; keep that.
		if e == portStr {
			return excluded
		}
		if e = strings.TrimSpace(e); e != "" {
			out = append(out, e)
		}
	}
	return strings.Join(append(out, portStr), ",")
}

// valueOrDefault returns def when value is nil or the empty string; any
// other value, including 0 and false, is returned as is.
func valueOrDefault(value, def any) any {
	if value == nil || value == "" {
		return def
	}
	return value
}

// toJSON encodes a string map as compact JSON with sorted keys; nil gives
// "{}".
func toJSON(m map[string]string) string {
	if m == nil {
		return "{}"
	}
	b, err := json.Marshal(m)
	if err != nil {
		return "{}"
	}
	return string(b)
}

// fromJSON decodes JSON into generic values. Like Istio, invalid JSON gives
// the string "{}" rather than an error.
func fromJSON(s string) any {
	var v any
	if err := json.Unmarshal([]byte(s), &v); err != nil {
		return "{}"
	}
	return v
}

// structToJSON encodes any value with encoding/json; nil or a value that
// cannot be encoded gives "{}".
func structToJSON(v any) string {
	if v == nil {
		return "{}"
	}
	b, err := json.Marshal(v)
	if err != nil {
		return "{}"
	}
	return string(b)
}

// toYaml encodes v as YAML via its JSON form (sigs.k8s.io/yaml): keys
// sorted, JSON field names, a trailing newline; nil gives "null\n". A value
// that cannot be encoded gives "".
func toYaml(v any) string {
	if y, ok := yamlValue(v, 0); ok {
		if out, ok := marshalYAMLValue(y); ok {
			return out
		}
	}
	return toYamlViaJSON(v)
}

// marshalYAMLValue encodes a yamlValue result, as sigs.k8s.io/yaml would
// encode the value it came from.
func marshalYAMLValue(y any) (string, bool) {
	b, err := yamlv2.Marshal(y)
	if err != nil {
		return "", false
	}
	return string(b), true
}

// toYamlViaJSON is toYaml the long way, through sigs.k8s.io/yaml.
func toYamlViaJSON(v any) string {
	b, err := yaml.Marshal(v)
	if err != nil {
		return ""
	}
	return string(b)
}

// indent prefixes every line except the first with spaces; the first line
// stays where the template placed it. A negative count indents by its
// magnitude, as Istio's printf-width implementation does.
func indent(spaces int, s string) string {
	if spaces < 0 {
		spaces = -spaces
	}
	pad := strings.Repeat(" ", spaces)
	lines := strings.Split(s, "\n")
	for i := 1; i < len(lines); i++ {
		lines[i] = pad + lines[i]
	}
	return strings.Join(lines, "\n")
}

// annotation returns the pod annotation name, or def printed with
// fmt.Sprint when the annotation is absent (a present empty value wins).
func annotation(meta metav1.ObjectMeta, name string, def any) string {
	if v, ok := meta.Annotations[name]; ok {
		return v
	}
	switch d := def.(type) {
	case string: // what fmt.Sprint gives, without its allocations
		return d
	case bool:
		return strconv.FormatBool(d)
	}
	return fmt.Sprint(def)
}

// appendMultusNetwork adds the Istio CNI network ("name" or
// "namespace/name") to the value of k8s.v1.cni.cncf.io/networks, which is
// either a comma-separated list or a JSON list of objects. The value is
// returned unchanged when the network is already listed or the JSON form
// cannot be parsed.
func appendMultusNetwork(existing, network string) string {
	if existing == "" {
		return network
	}
	end := strings.LastIndex(existing, "]")
	if end == -1 {
		for _, n := range strings.Split(existing, ",") {
			if strings.TrimSpace(n) == network {
				return existing
			}
		}
		return existing + ", " + network
	}

	var entries []map[string]any
	if err := json.Unmarshal([]byte(existing), &entries); err != nil {
		return existing
	}
	ns, name := splitQualifiedName(network)
	for _, e := range entries {
		if e["name"] != name {
			continue
		}
		// An entry without namespace matches only a network without one.
		entryNS, isString := e["namespace"].(string)
		if e["namespace"] == nil {
			entryNS, isString = "", true
		}
		if isString && entryNS == ns {
			return existing
		}
	}
	// Splice the new entry in textually so the user's formatting survives.
	entry := fmt.Sprintf(`, {"name": "%s"}`, name)
	if ns != "" {
		entry = fmt.Sprintf(`, {"name": "%s", "namespace": "%s"}`, name, ns)
	}
	return existing[:end] + entry + existing[end:]
}

// splitQualifiedName splits "namespace/name"; without a slash the namespace
// is empty. Extra segments after the second are ignored, as Kubernetes'
// helper of the same name does.
func splitQualifiedName(s string) (namespace, name string) {
	parts := strings.Split(s, "/")
	if len(parts) < 2 {
		return "", s
	}
	return parts[0], parts[1]
}

// applicationPorts lists the TCP container ports of every container but the
// proxy, comma-separated. Istio keeps it for older templates.
func applicationPorts(containers []corev1.Container) string {
	return containerPorts(containers, func(c corev1.Container) bool { return c.Name != proxyContainerName })
}

// includeInboundPorts lists the TCP container ports of all containers,
// comma-separated.
func includeInboundPorts(containers []corev1.Container) string {
	return containerPorts(containers, func(corev1.Container) bool { return true })
}

// containerPorts joins the container ports of the selected containers,
// skipping UDP and SCTP ports, which the sidecar does not capture.
func containerPorts(containers []corev1.Container, include func(corev1.Container) bool) string {
	var ports []string
	for _, c := range containers {
		if !include(c) {
			continue
		}
		for _, p := range c.Ports {
			if p.Protocol == corev1.ProtocolUDP || p.Protocol == corev1.ProtocolSCTP {
				continue
			}
			ports = append(ports, strconv.Itoa(int(p.ContainerPort)))
		}
	}
	return strings.Join(ports, ",")
}

// kubevirtInterfaces returns its argument; Istio's templates call it for
// backwards compatibility.
func kubevirtInterfaces(s string) string {
	return s
}

// excludeInterfaces returns its argument, like kubevirtInterfaces.
func excludeInterfaces(s string) string {
	return s
}

// omit returns a copy of m without keys; it never returns nil.
func omit(m map[string]string, keys ...string) map[string]string {
	drop := make(map[string]bool, len(keys))
	for _, k := range keys {
		drop[k] = true
	}
	out := make(map[string]string, len(m))
	for k, v := range m {
		if !drop[k] {
			out[k] = v
		}
	}
	return out
}

// strdict is sprig's dict for strings: alternating keys and values, a
// trailing key without value maps to "". Its result can feed labels and
// annotations, which are string maps.
func strdict(kv ...string) map[string]string {
	out := make(map[string]string, (len(kv)+1)/2)
	for i := 0; i < len(kv); i += 2 {
		if i+1 < len(kv) {
			out[kv[i]] = kv[i+1]
		} else {
			out[kv[i]] = ""
		}
	}
	return out
}

// mergeMaps merges string maps; later maps win on shared keys. With no
// argument it returns nil.
func mergeMaps(maps ...map[string]string) map[string]string {
	if len(maps) == 0 {
		return nil
	}
	out := make(map[string]string, len(maps[0]))
	for _, m := range maps {
		for k, v := range m {
			out[k] = v
		}
	}
	return out
}

// toJSONMap merges the maps as mergeMaps does and encodes the result as
// compact JSON with sorted keys; with no argument it gives "null".
func toJSONMap(maps ...map[string]string) string {
	b, err := json.Marshal(mergeMaps(maps...))
	if err != nil {
		return ""
	}
	return string(b)
}

// omitNil drops nil values from generic maps and slices, recursively. A map
// or slice left empty by the removal becomes nil itself and is dropped from
// its parent; one that was empty to begin with is kept. Inputs without nils
// are returned as they are, not copied.
func omitNil(v any) any {
	out, _ := pruneNil(v)
	return out
}

// pruneNil returns v without nils and whether anything was removed.
func pruneNil(v any) (any, bool) {
	switch t := v.(type) {
	case nil:
		return nil, true
	case map[string]any:
		changed := false
		pruned := make(map[string]any, len(t))
		for k, e := range t {
			pe, c := pruneNil(e)
			changed = changed || c
			if pe != nil {
				pruned[k] = pe
			}
		}
		if !changed {
			return t, false
		}
		if len(pruned) == 0 {
			return nil, true
		}
		return pruned, true
	case []any:
		changed := false
		pruned := make([]any, 0, len(t))
		for _, e := range t {
			pe, c := pruneNil(e)
			changed = changed || c
			if pe != nil {
				pruned = append(pruned, pe)
			}
		}
		if !changed {
			return t, false
		}
		if len(pruned) == 0 {
			return nil, true
		}
		return pruned, true
	default:
		return v, false
	}
}
