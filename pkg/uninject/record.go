package uninject

import (
	"bytes"
	"encoding/json"
	"fmt"
	"maps"
	"reflect"
	"slices"
	"strings"
	"unicode/utf8"

	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/util/strategicpatch"

	"github.com/inject-sidecar/inject-sidecar/pkg/internal/typedjson"
)

// record is the JSON of the annotation inject-sidecar.dev/injected: what
// Pod must do, after undoing what Istio's annotations prove, to get the
// pod back exactly as it was before injection.
//
//	{"labels":         {"<key>": "<value before injection>" | null, ...},
//	 "annotations":    {"<key>": "<value before injection>" | null, ...},
//	 "containers":     {"<name>": {"<field>": <value before injection>, ...}, ...},
//	 "initContainers": {"<name>": {"<field>": <value before injection>, ...}, ...},
//	 "spec":           <strategic merge patch of the pod spec>,
//	 "fullSpec":       <the whole pod spec before injection>,
//	 "source":         [{"path": [...], "yaml": "<text>"}, ...]}
//
// null means the key was absent (a container field: unset). Each field is
// left out when there is nothing to restore: a pod whose templates added
// nothing beyond what Istio records carries "{}", which still says the
// record is complete. containers and initContainers replace whole fields
// (a probe, say) of containers that are where they were before injection;
// where more than that changed, spec (a strategic merge patch) takes
// their place, and fullSpec replaces spec in the rare case where no patch
// reproduces the original (duplicate container names, say). source does
// not change what the pod reads as: it holds how the user wrote values
// that uninject would otherwise write back spelled differently (see
// Source).
type record struct {
	Labels         map[string]*string         `json:"labels,omitempty"`
	Annotations    map[string]*string         `json:"annotations,omitempty"`
	Containers     map[string]containerFields `json:"containers,omitempty"`
	InitContainers map[string]containerFields `json:"initContainers,omitempty"`
	Spec           json.RawMessage            `json:"spec,omitempty"`
	FullSpec       *corev1.PodSpec            `json:"fullSpec,omitempty"`
	Source         []Source                   `json:"source,omitempty"`
}

// containerFields are fields of one container by their JSON name, each
// with its value before injection.
type containerFields map[string]json.RawMessage

// Record returns the value of Annotation for injected, the pod that
// injection made from original: everything Pod needs beyond Istio's own
// annotations to return exactly original, and source (see Sources),
// which is kept as it is. The record is checked by taking the steps Pod
// takes, from the same pod: an error means no exact record could be
// made, and injected must then go without one.
func Record(injected, original *corev1.Pod, source []Source) (string, error) {
	if injected == nil || original == nil {
		return "", fmt.Errorf("record: missing the pod before or after injection")
	}
	cur := shallowCopy(injected)
	delete(cur.Annotations, Annotation)
	st, ok, err := readStatus(cur)
	if err != nil {
		return "", fmt.Errorf("record: %w", err)
	}
	if !ok {
		return "", fmt.Errorf("record: the injected pod has no %s annotation", "sidecar.istio.io/status")
	}
	// cur becomes what Pod has in hand when it applies the record.
	if err := strip(cur, st, &Result{}); err != nil {
		return "", fmt.Errorf("record: %w", err)
	}
	want := *original // normalize only sets fields: a shallow copy suffices
	normalize(&want)

	rec := record{
		Labels:      mapDiff(cur.Labels, want.Labels),
		Annotations: mapDiff(cur.Annotations, want.Annotations),
		Source:      source,
	}
	// Most often only fields of containers that stayed in place differ
	// (a probe's named port, which Istio records resolved): replacing
	// those is exact, and far cheaper to make and check than a patch.
	if cs, ics, ok := containerDiff(&cur.Spec, &want.Spec); ok {
		rec.Containers, rec.InitContainers = cs, ics
		if value, err := check(cur, rec, &want); err == nil {
			return value, nil
		}
		rec.Containers, rec.InitContainers = nil, nil
	}
	from, err := json.Marshal(cur.Spec)
	if err != nil {
		return "", fmt.Errorf("record: encoding the pod spec: %w", err)
	}
	to, err := json.Marshal(want.Spec)
	if err != nil {
		return "", fmt.Errorf("record: encoding the pod spec: %w", err)
	}
	if patch, err := strategicpatch.CreateTwoWayMergePatch(from, to, corev1.PodSpec{}); err == nil {
		if !bytes.Equal(patch, []byte("{}")) {
			rec.Spec = patch
		}
		if value, err := check(cur, rec, &want); err == nil {
			return value, nil
		}
	}
	// No patch reproduces the original: keep the whole spec instead.
	rec.Spec, rec.FullSpec = nil, &want.Spec
	value, err := check(cur, rec, &want)
	if err != nil {
		return "", fmt.Errorf("record: %w", err)
	}
	return value, nil
}

// check encodes rec, reads it back as Pod reads the annotation, applies
// it to a copy of stripped (the injected pod with what Istio's
// annotations prove undone, as Pod has it before applying the record) and
// checks that want comes back. Pod's other steps are those that made
// stripped, from the same pod.
func check(stripped *corev1.Pod, rec record, want *corev1.Pod) (string, error) {
	b, err := json.Marshal(rec)
	if err != nil {
		return "", fmt.Errorf("encoding annotation %s: %w", Annotation, err)
	}
	back := rec
	if !readsBack(rec) {
		if back, err = decodeRecord(b); err != nil {
			return "", err
		}
	}
	got := *stripped
	got.Labels, got.Annotations = maps.Clone(stripped.Labels), maps.Clone(stripped.Annotations)
	got.Spec.Containers, got.Spec.InitContainers = slices.Clone(stripped.Spec.Containers), slices.Clone(stripped.Spec.InitContainers)
	if err := back.apply(&got); err != nil {
		return "", err
	}
	normalize(&got)
	// Equal values are equal in JSON too; only unequal ones (the same
	// quantity spelled otherwise, say) need the slower comparison.
	if !reflect.DeepEqual(&got, want) && !Equal(&got, want) {
		return "", fmt.Errorf("uninjecting with the record does not give back the original pod")
	}
	return string(b), nil
}

// readsBack reports whether decoding rec's JSON certainly gives rec back
// as apply uses it, so that check need not decode it: strings that are
// valid UTF-8 survive JSON unchanged, container fields are JSON that
// json.Marshal made (compact, escaped as encoding escapes it), and
// collections left out when empty apply as nothing. A spec patch or a
// full spec is decoded.
func readsBack(rec record) bool {
	if rec.FullSpec != nil || len(rec.Spec) > 0 {
		return false
	}
	for _, m := range []map[string]*string{rec.Labels, rec.Annotations} {
		for k, v := range m {
			if !utf8.ValidString(k) || v != nil && !utf8.ValidString(*v) {
				return false
			}
		}
	}
	for _, cs := range []map[string]containerFields{rec.Containers, rec.InitContainers} {
		for name, fields := range cs {
			if !utf8.ValidString(name) {
				return false
			}
			for key, raw := range fields {
				if _, known := containerFieldIndex[key]; !known || !compactJSON(raw) {
					return false
				}
			}
		}
	}
	return true
}

// compactJSON reports whether raw is valid JSON as json.Marshal writes
// it: no white space outside strings, no character it escapes (HTML
// characters, U+2028, U+2029) unescaped, valid UTF-8.
func compactJSON(raw []byte) bool {
	if !json.Valid(raw) || !utf8.Valid(raw) {
		return false
	}
	inString := false
	for i := 0; i < len(raw); i++ {
		switch c := raw[i]; {
		case c == '"':
			inString = !inString
		case c == '\\':
			i++ // the escaped character cannot end the string
		case c == '<' || c == '>' || c == '&' || c == 0xE2:
			return false
		case !inString && (c == ' ' || c == '\t' || c == '\n' || c == '\r'):
			return false
		}
	}
	return true
}

// shallowCopy copies what strip and apply change in place (the label and
// annotation maps and the pod's lists); the rest is shared with pod,
// which strip and apply only replace, never write through.
func shallowCopy(pod *corev1.Pod) *corev1.Pod {
	out := *pod
	out.Labels, out.Annotations = maps.Clone(pod.Labels), maps.Clone(pod.Annotations)
	out.Spec.Containers = slices.Clone(pod.Spec.Containers)
	out.Spec.InitContainers = slices.Clone(pod.Spec.InitContainers)
	out.Spec.Volumes = slices.Clone(pod.Spec.Volumes)
	out.Spec.ImagePullSecrets = slices.Clone(pod.Spec.ImagePullSecrets)
	return &out
}

// containerDiff returns, when from and to differ only in fields of
// containers (init containers) that have the same names in the same
// order, those fields with to's values, by container name; ok is false
// otherwise.
func containerDiff(from, to *corev1.PodSpec) (cs, ics map[string]containerFields, ok bool) {
	f, t := *from, *to
	f.Containers, f.InitContainers, t.Containers, t.InitContainers = nil, nil, nil, nil
	for _, s := range []*corev1.PodSpec{&f, &t} {
		if len(s.Volumes) == 0 {
			s.Volumes = nil
		}
		if len(s.ImagePullSecrets) == 0 {
			s.ImagePullSecrets = nil
		}
	}
	// Pointers: DeepEqual compares what they point to, without copying
	// the specs into interfaces.
	if !reflect.DeepEqual(&f, &t) && !sameJSON(f, t) {
		return nil, nil, false
	}
	if cs, ok = listDiff(from.Containers, to.Containers); !ok {
		return nil, nil, false
	}
	if ics, ok = listDiff(from.InitContainers, to.InitContainers); !ok {
		return nil, nil, false
	}
	return cs, ics, true
}

// listDiff is containerDiff for one list; nil when nothing differs.
func listDiff(from, to []corev1.Container) (map[string]containerFields, bool) {
	if len(from) != len(to) {
		return nil, false
	}
	var out map[string]containerFields
	seen := map[string]bool{}
	for i := range from {
		name := from[i].Name
		if to[i].Name != name || seen[name] {
			return nil, false // moved, renamed, or not addressable by name
		}
		seen[name] = true
		if reflect.DeepEqual(&from[i], &to[i]) {
			continue
		}
		fv, tv := reflect.ValueOf(&from[i]).Elem(), reflect.ValueOf(&to[i]).Elem()
		fields := containerFields{}
		for _, cf := range containerFieldList {
			af, bf := fv.Field(cf.index), tv.Field(cf.index)
			if cf.omitEmpty && typedjson.IsEmpty(af) && typedjson.IsEmpty(bf) {
				continue // both left out of the pod's JSON
			}
			if plainEqual(af, bf) {
				continue
			}
			a, b := af.Interface(), bf.Interface()
			if reflect.DeepEqual(a, b) {
				continue
			}
			raw, err := json.Marshal(b)
			if err != nil {
				return nil, false
			}
			// Values that differ only in how they are held ("3000m" and
			// "3" are one quantity) are equal: the record depends on what
			// the pod reads as, not on how it was read.
			if sameJSON(a, b) {
				continue
			}
			fields[cf.name] = raw
		}
		if len(fields) == 0 {
			continue
		}
		if out == nil {
			out = map[string]containerFields{}
		}
		out[name] = fields
	}
	return out, true
}

// plainEqual reports, for two values of one type, that they are
// certainly deeply equal without converting them to interfaces (which
// allocates): equal strings, booleans and integers, and two nil
// pointers, slices or maps. false says nothing.
func plainEqual(a, b reflect.Value) bool {
	switch a.Kind() {
	case reflect.String:
		return a.String() == b.String()
	case reflect.Bool:
		return a.Bool() == b.Bool()
	case reflect.Int, reflect.Int8, reflect.Int16, reflect.Int32, reflect.Int64:
		return a.Int() == b.Int()
	case reflect.Pointer, reflect.Slice, reflect.Map:
		return a.IsNil() && b.IsNil()
	}
	return false
}

// sameJSON reports whether a and b encode alike: values that differ only
// in how they are held ("3000m" and "3" are one quantity) are the same
// to the API server, and so to the record, which must depend on what the
// pod reads as, not on how it was read.
func sameJSON(a, b any) bool {
	ja, err1 := json.Marshal(a)
	jb, err2 := json.Marshal(b)
	return err1 == nil && err2 == nil && bytes.Equal(ja, jb)
}

// containerField is a field of corev1.Container: its JSON name, its
// index in the struct, and whether JSON leaves it out when empty.
type containerField struct {
	name      string
	index     int
	omitEmpty bool
}

// containerFieldList and containerFieldIndex describe corev1.Container;
// they are built once, and only read.
var (
	containerFieldList  = containerFieldsOf(reflect.TypeOf(corev1.Container{}))
	containerFieldIndex = func() map[string]int {
		m := map[string]int{}
		for _, f := range containerFieldList {
			m[f.name] = f.index
		}
		return m
	}()
)

func containerFieldsOf(t reflect.Type) []containerField {
	var out []containerField
	for i := 0; i < t.NumField(); i++ {
		name, opts, _ := strings.Cut(t.Field(i).Tag.Get("json"), ",")
		if name == "" || name == "-" || name == "name" {
			continue // the name is the key; it never changes
		}
		omit := slices.Contains(strings.Split(opts, ","), "omitempty")
		out = append(out, containerField{name: name, index: i, omitEmpty: omit})
	}
	return out
}

// applyFields sets the recorded fields of the named containers in list.
func applyFields(list []corev1.Container, rec map[string]containerFields, field string) error {
	for _, name := range slices.Sorted(maps.Keys(rec)) {
		i := slices.IndexFunc(list, func(c corev1.Container) bool { return c.Name == name })
		if i < 0 {
			return fmt.Errorf("annotation %s: %s: the pod has no container %q", Annotation, field, name)
		}
		v := reflect.ValueOf(&list[i]).Elem()
		fields := rec[name]
		for _, key := range slices.Sorted(maps.Keys(fields)) {
			idx, ok := containerFieldIndex[key]
			if !ok {
				return fmt.Errorf("annotation %s: %s.%s: unknown container field %q", Annotation, field, name, key)
			}
			f := v.Field(idx)
			nv := reflect.New(f.Type())
			d := json.NewDecoder(bytes.NewReader(fields[key]))
			d.DisallowUnknownFields()
			if err := d.Decode(nv.Interface()); err != nil {
				return fmt.Errorf("annotation %s: %s.%s.%s: %w", Annotation, field, name, key, err)
			}
			f.Set(nv.Elem())
		}
	}
	return nil
}

// Equal compares two pods as the API server would store them: their JSON
// (empty and absent collections alike).
func Equal(a, b *corev1.Pod) bool {
	ja, err1 := generic(a)
	jb, err2 := generic(b)
	return err1 == nil && err2 == nil && reflect.DeepEqual(ja, jb)
}

func generic(v any) (any, error) {
	raw, err := json.Marshal(v)
	if err != nil {
		return nil, err
	}
	d := json.NewDecoder(bytes.NewReader(raw))
	d.UseNumber()
	var out any
	err = d.Decode(&out)
	return out, err
}

// mapDiff returns, for every key whose value differs between from and to,
// to's value (nil when absent in to); nil when none differs.
func mapDiff(from, to map[string]string) map[string]*string {
	var out map[string]*string
	set := func(k string, v *string) {
		if out == nil {
			out = map[string]*string{}
		}
		out[k] = v
	}
	for k, v := range to {
		if fv, ok := from[k]; !ok || fv != v {
			v := v
			set(k, &v)
		}
	}
	for k := range from {
		if _, ok := to[k]; !ok {
			set(k, nil)
		}
	}
	return out
}

// readRecord reads the record annotation strictly: a record that cannot
// be read cannot be trusted in part.
func readRecord(pod *corev1.Pod) (record, bool, error) {
	raw, ok := pod.Annotations[Annotation]
	if !ok {
		return record{}, false, nil
	}
	rec, err := decodeRecord([]byte(raw))
	return rec, err == nil, err
}

func decodeRecord(raw []byte) (record, error) {
	d := json.NewDecoder(bytes.NewReader(raw))
	d.DisallowUnknownFields()
	var rec record
	if err := d.Decode(&rec); err != nil {
		return record{}, fmt.Errorf("annotation %s is not a valid record: %w", Annotation, err)
	}
	if d.More() {
		return record{}, fmt.Errorf("annotation %s is not a valid record: trailing data", Annotation)
	}
	return rec, nil
}

// apply restores what the record holds into pod, which Istio's own
// annotations have already been undone from.
func (r record) apply(pod *corev1.Pod) error {
	pod.Labels = applyMap(pod.Labels, r.Labels)
	pod.Annotations = applyMap(pod.Annotations, r.Annotations)
	if err := applyFields(pod.Spec.Containers, r.Containers, "containers"); err != nil {
		return err
	}
	if err := applyFields(pod.Spec.InitContainers, r.InitContainers, "initContainers"); err != nil {
		return err
	}
	switch {
	case r.FullSpec != nil:
		pod.Spec = *r.FullSpec.DeepCopy()
	case len(r.Spec) > 0:
		cur, err := json.Marshal(pod.Spec)
		if err != nil {
			return fmt.Errorf("annotation %s: encoding the pod spec: %w", Annotation, err)
		}
		out, err := strategicpatch.StrategicMergePatch(cur, r.Spec, corev1.PodSpec{})
		if err != nil {
			return fmt.Errorf("annotation %s: applying its spec patch: %w", Annotation, err)
		}
		var spec corev1.PodSpec
		if err := json.Unmarshal(out, &spec); err != nil {
			return fmt.Errorf("annotation %s: decoding the restored pod spec: %w", Annotation, err)
		}
		pod.Spec = spec
	}
	return nil
}

func applyMap(m map[string]string, changes map[string]*string) map[string]string {
	for k, v := range changes {
		if v == nil {
			delete(m, k)
			continue
		}
		if m == nil {
			m = map[string]string{}
		}
		m[k] = *v
	}
	return m
}

// Same reports whether two pods read the same as the API server would
// store them: Equal, with empty labels, annotations and pod lists taken
// for absent ones.
func Same(a, b *corev1.Pod) bool {
	if a == nil || b == nil {
		return a == b
	}
	ac, bc := *a, *b // normalize only sets fields: shallow copies suffice
	normalize(&ac)
	normalize(&bc)
	return Equal(&ac, &bc)
}
