package uninject

import (
	"encoding/json"
	"math/rand/v2"
	"reflect"
	"testing"

	corev1 "k8s.io/api/core/v1"
)

// applied is what apply does with rec to a fixed pod, as JSON: two
// records that apply alike are the same to check.
func applied(t *testing.T, rec record) string {
	t.Helper()
	pod := corev1.Pod{}
	pod.Labels = map[string]string{"keep": "1", "drop": "2"}
	pod.Annotations = map[string]string{"a": "b"}
	pod.Spec.Containers = []corev1.Container{{Name: "web", Image: "nginx"}, {Name: "\xff", Image: "x"}}
	pod.Spec.InitContainers = []corev1.Container{{Name: "init", Image: "busybox"}}
	if err := rec.apply(&pod); err != nil {
		return "error: " + err.Error()
	}
	b, err := json.Marshal(pod)
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}

// checkReadsBack fails when readsBack accepts rec and decoding its JSON
// applies otherwise than rec itself.
func checkReadsBack(t *testing.T, name string, rec record) bool {
	t.Helper()
	if !readsBack(rec) {
		return false
	}
	b, err := json.Marshal(rec)
	if err != nil {
		t.Fatalf("%s: %v", name, err)
	}
	back, err := decodeRecord(b)
	if err != nil {
		t.Errorf("%s: readsBack accepted a record that does not decode: %v", name, err)
		return true
	}
	if got, want := applied(t, rec), applied(t, back); got != want {
		t.Errorf("%s: readsBack accepted a record that applies otherwise decoded:\n rec: %s\nback: %s", name, got, want)
	}
	for _, field := range []string{"containers", "initContainers"} {
		a, b := rec.Containers, back.Containers
		if field == "initContainers" {
			a, b = rec.InitContainers, back.InitContainers
		}
		if len(a) > 0 && !reflect.DeepEqual(a, b) {
			t.Errorf("%s: %s read back as %v, want %v", name, field, b, a)
		}
	}
	return true
}

func strp(s string) *string { return &s }

func TestReadsBack(t *testing.T) {
	probe, _ := json.Marshal(corev1.Probe{PeriodSeconds: 5})
	for _, tc := range []struct {
		name string
		rec  record
		want bool
	}{
		{"empty", record{}, true},
		{"maps", record{Labels: map[string]*string{"drop": nil, "keep": strp("<&>")}, Annotations: map[string]*string{"a": strp("\u2028")}}, true},
		{"empty maps", record{Labels: map[string]*string{}, Containers: map[string]containerFields{}}, true},
		{"invalid label value", record{Labels: map[string]*string{"k": strp("\xff")}}, false},
		{"invalid label key", record{Labels: map[string]*string{"\xff": nil}}, false},
		{"invalid container name", record{Containers: map[string]containerFields{"\xff": {"image": json.RawMessage(`"x"`)}}}, false},
		{"fields", record{Containers: map[string]containerFields{"web": {"readinessProbe": probe, "image": json.RawMessage(`"a\"b"`)}}}, true},
		{"init fields", record{InitContainers: map[string]containerFields{"init": {"args": json.RawMessage(`["a","b"]`)}}}, true},
		{"spaced JSON", record{Containers: map[string]containerFields{"web": {"args": json.RawMessage(`[ "a" ]`)}}}, false},
		{"HTML in JSON", record{Containers: map[string]containerFields{"web": {"image": json.RawMessage(`"<x>"`)}}}, false},
		{"unknown field", record{Containers: map[string]containerFields{"web": {"nope": json.RawMessage(`1`)}}}, false},
		{"spec patch", record{Spec: json.RawMessage(`{"hostname":"x"}`)}, false},
		{"full spec", record{FullSpec: &corev1.PodSpec{}}, false},
		{"sources", record{Source: []Source{{Path: []string{"spec", "x"}, YAML: "a: 1\n", After: "b"}}}, true},
	} {
		if got := checkReadsBack(t, tc.name, tc.rec); got != tc.want {
			t.Errorf("%s: readsBack = %v, want %v", tc.name, got, tc.want)
		}
	}
	// Random records of awkward strings and field values.
	r := rand.New(rand.NewPCG(3, 5))
	strs := []string{"", "a", "<", "&amp;", "\u2028", "é", "\xff", "\"", "\\", " ", "\x00"}
	raws := []string{`"x"`, `1`, `null`, `["a","b"]`, `{"periodSeconds":5}`, `"\u003c"`, `"é"`, `[ 1 ]`, `"\u2028"`, `{"a":1}`}
	keys := []string{"image", "args", "readinessProbe", "lifecycle", "command", "env"}
	pick := func(s []string) string { return s[r.IntN(len(s))] }
	accepted := 0
	for i := range 3000 {
		rec := record{Labels: map[string]*string{}, Containers: map[string]containerFields{}}
		for range r.IntN(3) {
			if r.IntN(3) == 0 {
				rec.Labels[pick(strs)] = nil
			} else {
				rec.Labels[pick(strs)] = strp(pick(strs))
			}
		}
		for range r.IntN(2) {
			name := []string{"web", "init", "\xff"}[r.IntN(3)]
			fields := containerFields{}
			for range 1 + r.IntN(2) {
				fields[keys[r.IntN(len(keys))]] = json.RawMessage(pick(raws))
			}
			rec.Containers[name] = fields
		}
		if checkReadsBack(t, "random "+string(rune('a'+i%26)), rec) {
			accepted++
		}
	}
	if accepted == 0 {
		t.Error("readsBack accepted no random record")
	}
}

// TestPlainEqual checks that plainEqual never calls values equal that
// reflect.DeepEqual tells apart, on every field of pairs of containers
// that differ in every way the kinds allow (nil, empty, equal, unequal).
func TestPlainEqual(t *testing.T) {
	one := int64(1)
	two := int64(2)
	yes := true
	variants := []corev1.Container{
		{},
		{Name: "a", Image: "x", Command: []string{}, Args: []string{"a"}, Env: []corev1.EnvVar{}, Stdin: true, TTY: true,
			TerminationMessagePolicy: "File", ReadinessProbe: &corev1.Probe{}, SecurityContext: &corev1.SecurityContext{RunAsUser: &one}},
		{Name: "a", Image: "y", Command: []string{"a"}, Args: []string{"a"}, Env: []corev1.EnvVar{{Name: "E"}},
			ReadinessProbe: &corev1.Probe{PeriodSeconds: 5}, SecurityContext: &corev1.SecurityContext{RunAsUser: &two},
			Resources: corev1.ResourceRequirements{Limits: corev1.ResourceList{}}},
		{Name: "b", Command: nil, Args: []string{}, Ports: []corev1.ContainerPort{{ContainerPort: 80}},
			SecurityContext: &corev1.SecurityContext{Privileged: &yes}},
	}
	checked, plain := 0, 0
	for i := range variants {
		for j := range variants {
			a, b := reflect.ValueOf(&variants[i]).Elem(), reflect.ValueOf(&variants[j]).Elem()
			for k := 0; k < a.NumField(); k++ {
				checked++
				if !plainEqual(a.Field(k), b.Field(k)) {
					continue
				}
				plain++
				if !reflect.DeepEqual(a.Field(k).Interface(), b.Field(k).Interface()) {
					t.Errorf("field %s of variants %d and %d: plainEqual, yet DeepEqual tells them apart",
						a.Type().Field(k).Name, i, j)
				}
			}
		}
	}
	if plain == 0 || plain == checked {
		t.Errorf("plainEqual said equal %d times of %d: the table does not exercise it", plain, checked)
	}
	// Values of other kinds are never plainly equal.
	for _, v := range []any{1.5, corev1.ResourceRequirements{}, [1]int{}} {
		if plainEqual(reflect.ValueOf(v), reflect.ValueOf(v)) {
			t.Errorf("plainEqual(%T): true", v)
		}
	}
}
