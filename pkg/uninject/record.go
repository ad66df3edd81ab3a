package uninject

import (
	"bytes"
	"encoding/json"
	"fmt"
	"reflect"

	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/util/strategicpatch"
)

// record is the JSON of the annotation inject-sidecar.dev/injected: what
// Pod must do, after undoing what Istio's annotations prove, to get the
// pod back exactly as it was before injection.
//
//	{"labels":      {"<key>": "<value before injection>" | null, ...},
//	 "annotations": {"<key>": "<value before injection>" | null, ...},
//	 "spec":        <strategic merge patch of the pod spec>,
//	 "fullSpec":    <the whole pod spec before injection>}
//
// null means the key was absent. Each field is left out when there is
// nothing to restore: a pod whose templates added nothing beyond what
// Istio records carries "{}", which still says the record is complete.
// fullSpec replaces spec only in the rare case where no patch reproduces
// the original (duplicate container names, say).
type record struct {
	Labels      map[string]*string `json:"labels,omitempty"`
	Annotations map[string]*string `json:"annotations,omitempty"`
	Spec        json.RawMessage    `json:"spec,omitempty"`
	FullSpec    *corev1.PodSpec    `json:"fullSpec,omitempty"`
}

// Record returns the value of Annotation for injected, the pod that
// injection made from original: everything Pod needs beyond Istio's own
// annotations to return exactly original. The record is checked by
// running Pod on it; an error means no exact record could be made, and
// injected must then go without one.
func Record(injected, original *corev1.Pod) (string, error) {
	if injected == nil || original == nil {
		return "", fmt.Errorf("record: missing the pod before or after injection")
	}
	cur := injected.DeepCopy()
	delete(cur.Annotations, Annotation)
	st, ok, err := readStatus(cur)
	if err != nil {
		return "", fmt.Errorf("record: %w", err)
	}
	if !ok {
		return "", fmt.Errorf("record: the injected pod has no %s annotation", "sidecar.istio.io/status")
	}
	undone := cur.DeepCopy()
	if err := strip(undone, st, &Result{}); err != nil {
		return "", fmt.Errorf("record: %w", err)
	}
	normalize(undone)
	want := original.DeepCopy()
	normalize(want)

	rec := record{
		Labels:      mapDiff(undone.Labels, want.Labels),
		Annotations: mapDiff(undone.Annotations, want.Annotations),
	}
	from, err := json.Marshal(undone.Spec)
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
		if value, err := verify(cur, rec, want); err == nil {
			return value, nil
		}
	}
	// No patch reproduces the original: keep the whole spec instead.
	rec.Spec, rec.FullSpec = nil, &want.Spec
	value, err := verify(cur, rec, want)
	if err != nil {
		return "", fmt.Errorf("record: %w", err)
	}
	return value, nil
}

// verify encodes rec, annotates a copy of injected with it, uninjects that
// and checks that want comes back.
func verify(injected *corev1.Pod, rec record, want *corev1.Pod) (string, error) {
	b, err := json.Marshal(rec)
	if err != nil {
		return "", fmt.Errorf("encoding annotation %s: %w", Annotation, err)
	}
	probe := injected.DeepCopy()
	if probe.Annotations == nil {
		probe.Annotations = map[string]string{}
	}
	probe.Annotations[Annotation] = string(b)
	got, _, err := Pod(probe)
	if err != nil {
		return "", err
	}
	if !Equal(got, want) {
		return "", fmt.Errorf("uninjecting with the record does not give back the original pod")
	}
	return string(b), nil
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
	d := json.NewDecoder(bytes.NewReader([]byte(raw)))
	d.DisallowUnknownFields()
	var rec record
	if err := d.Decode(&rec); err != nil {
		return record{}, false, fmt.Errorf("annotation %s is not a valid record: %w", Annotation, err)
	}
	if d.More() {
		return record{}, false, fmt.Errorf("annotation %s is not a valid record: trailing data", Annotation)
	}
	return rec, true, nil
}

// apply restores what the record holds into pod, which Istio's own
// annotations have already been undone from.
func (r record) apply(pod *corev1.Pod) error {
	pod.Labels = applyMap(pod.Labels, r.Labels)
	pod.Annotations = applyMap(pod.Annotations, r.Annotations)
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
