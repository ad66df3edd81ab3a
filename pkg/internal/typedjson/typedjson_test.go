package typedjson

import (
	"bytes"
	"encoding/json"
	"maps"
	"math/rand"
	"reflect"
	"slices"
	"strings"
	"testing"
	"time"

	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/api/resource"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/util/intstr"
	"sigs.k8s.io/randfill"
)

// viaText is the JSON-text road ToModel replaces.
func viaText(t *testing.T, v any, n Numbers) (any, error) {
	t.Helper()
	raw, err := json.Marshal(v)
	if err != nil {
		return nil, err
	}
	d := json.NewDecoder(bytes.NewReader(raw))
	if n == Number {
		d.UseNumber()
	}
	var out any
	err = d.Decode(&out)
	return out, err
}

// intoViaText is the JSON-text road FromModel replaces.
func intoViaText(m any, into any) error {
	raw, err := json.Marshal(m)
	if err != nil {
		return err
	}
	return json.Unmarshal(raw, into)
}

// trickyStrings replace some random strings: what encoding/json escapes,
// changes or refuses.
var trickyStrings = []string{
	"", "a<b>&c", "\u2028\u2029", "tab\there", "quote\"back\\slash",
	"ünïcödé", "1Gi", "100m", "null", "123",
}

// invalidStrings are refused (encoding/json would change them).
var invalidStrings = []string{"\xff\xfe invalid", "a\xc3"}

// randomPods is how many random pods the property tests try: fewer
// with -short, which the race tier uses.
func randomPods(t *testing.T) int {
	if testing.Short() {
		return 40
	}
	return 200
}

func randomPod(seed int64) *corev1.Pod {
	f := randfill.NewWithSeed(seed).NilChance(0.3).NumElements(0, 2).MaxDepth(12).Funcs(
		func(q *resource.Quantity, c randfill.Continue) {
			*q = resource.MustParse([]string{"0", "1", "100m", "1.5Gi", "2e3", "129M", "0.5"}[c.Intn(7)])
		},
		func(q *intstr.IntOrString, c randfill.Continue) {
			if c.Bool() {
				*q = intstr.FromInt32(c.Int31n(70000) - 100)
			} else {
				*q = intstr.FromString([]string{"http", "", "8080", "a<b"}[c.Intn(4)])
			}
		},
		func(tm *metav1.Time, c randfill.Continue) {
			if c.Bool() {
				*tm = metav1.Time{}
			} else {
				*tm = metav1.NewTime(time.Unix(c.Int63n(4e9), 0))
			}
		},
	)
	var pod corev1.Pod
	f.Fill(&pod)
	pod.ManagedFields = nil // raw bytes: refused
	r := rand.New(rand.NewSource(seed))
	replaceStrings(reflect.ValueOf(&pod).Elem(), r, 0)
	return &pod
}

// replaceStrings puts a tricky string in about one string field in ten,
// and rarely an invalid one.
func replaceStrings(v reflect.Value, r *rand.Rand, depth int) {
	if depth > 40 {
		return
	}
	switch v.Kind() {
	case reflect.String:
		switch {
		case !v.CanSet():
		case r.Intn(10) == 0:
			v.SetString(trickyStrings[r.Intn(len(trickyStrings))])
		case r.Intn(2000) == 0:
			v.SetString(invalidStrings[r.Intn(len(invalidStrings))])
		}
	case reflect.Pointer:
		if !v.IsNil() {
			replaceStrings(v.Elem(), r, depth+1)
		}
	case reflect.Struct:
		if v.Type() == reflect.TypeFor[resource.Quantity]() || v.Type() == reflect.TypeFor[intstr.IntOrString]() || v.Type() == reflect.TypeFor[metav1.Time]() {
			return
		}
		for i := range v.NumField() {
			if v.Type().Field(i).IsExported() {
				replaceStrings(v.Field(i), r, depth+1)
			}
		}
	case reflect.Slice:
		for i := range v.Len() {
			replaceStrings(v.Index(i), r, depth+1)
		}
	}
}

// TestToModelMatchesEncodingJSON holds ToModel to the JSON-text road on
// random pods and their parts (addressable and not), in both number forms.
func TestToModelMatchesEncodingJSON(t *testing.T) {
	converted := 0
	pods := randomPods(t)
	for seed := range int64(pods) {
		pod := randomPod(seed)
		for _, v := range []any{pod, *pod, pod.ObjectMeta, pod.Spec, &pod.Spec} {
			for _, n := range []Numbers{Float64, Number} {
				got, ok := ToModel(v, n)
				want, err := viaText(t, v, n)
				if !ok {
					continue
				}
				if err != nil {
					t.Fatalf("seed %d %T: ToModel converted a value encoding/json refuses: %v", seed, v, err)
				}
				if !reflect.DeepEqual(got, want) {
					t.Fatalf("seed %d %T numbers %d:\n got %#v\nwant %#v", seed, v, n, got, want)
				}
				if _, isPod := v.(*corev1.Pod); isPod && n == Float64 {
					converted++
				}
			}
		}
	}
	t.Logf("%d of %d random pods converted directly", converted, pods)
	// Tricky strings make some pods fall back; most must not.
	if converted < pods/3 {
		t.Errorf("only %d of %d random pods converted directly", converted, pods)
	}
}

// TestFromModelMatchesEncodingJSON holds FromModel to the JSON-text road
// on the models of random pods, and on those models damaged the ways
// merged patches and user input can be: keys in another case, nulls,
// values of the wrong type, fractions, huge and negative numbers.
func TestFromModelMatchesEncodingJSON(t *testing.T) {
	decoded, damagedDecoded := 0, 0
	pods := randomPods(t)
	for seed := range int64(pods) {
		pod := randomPod(seed)
		for _, n := range []Numbers{Float64, Number} {
			model, err := viaText(t, pod, n)
			if err != nil {
				continue
			}
			r := rand.New(rand.NewSource(seed))
			for round := range 4 {
				m := model
				if round > 0 {
					m = damage(copyModel(model), r, n, []int{0, 1000, 200, 40}[round])
				}
				var got, want corev1.Pod
				ok := FromModel(m, &got)
				werr := intoViaText(m, &want)
				if !ok {
					continue
				}
				if werr != nil {
					t.Fatalf("seed %d round %d: FromModel decoded what encoding/json refuses (%v)", seed, round, werr)
				}
				if !reflect.DeepEqual(got, want) {
					g, _ := json.Marshal(got)
					w, _ := json.Marshal(want)
					t.Fatalf("seed %d round %d:\n got %s\nwant %s", seed, round, g, w)
				}
				if round == 0 {
					decoded++
				} else {
					damagedDecoded++
				}
			}
		}
	}
	t.Logf("decoded directly: %d undamaged models, %d damaged ones", decoded, damagedDecoded)
	if decoded < pods*3/4 || damagedDecoded < pods/4 {
		t.Errorf("too few models decoded directly: %d undamaged, %d damaged", decoded, damagedDecoded)
	}
}

func copyModel(v any) any {
	switch x := v.(type) {
	case map[string]any:
		out := make(map[string]any, len(x))
		for k, e := range x {
			out[k] = copyModel(e)
		}
		return out
	case []any:
		out := make([]any, len(x))
		for i, e := range x {
			out[i] = copyModel(e)
		}
		return out
	}
	return v
}

// damage changes about one value in rate of a model.
func damage(v any, r *rand.Rand, n Numbers, rate int) any {
	num := func(f float64, s string) any {
		if n == Number {
			return json.Number(s)
		}
		return f
	}
	replacements := []func() any{
		func() any { return nil },
		func() any { return "text" },
		func() any { return true },
		func() any { return num(1.5, "1.5") },
		func() any { return num(1e21, "1e21") },
		func() any { return num(-3, "-3") },
		func() any { return num(70000, "70000") },
		func() any { return num(5e9, "5000000000") },
		func() any { return []any{"x"} },
		func() any { return map[string]any{"name": "x"} },
	}
	switch x := v.(type) {
	case map[string]any:
		for _, k := range slices.Sorted(maps.Keys(x)) {
			e := x[k]
			switch r.Intn(rate) {
			case 0:
				x[k] = replacements[r.Intn(len(replacements))]()
			case 1:
				delete(x, k)
				x[strings.ToUpper(k)] = e
			case 2:
				x["unknownField"] = e
			default:
				x[k] = damage(e, r, n, rate)
			}
		}
		return x
	case []any:
		for i := range x {
			if r.Intn(rate) == 0 {
				x[i] = replacements[r.Intn(len(replacements))]()
			} else {
				x[i] = damage(x[i], r, n, rate)
			}
		}
		return x
	}
	return v
}

// TestDeclines pins what is left to encoding/json, and that a decline
// is all that happens.
func TestDeclines(t *testing.T) {
	for _, tc := range []struct {
		name  string
		model any
	}{
		{"a key in another case", map[string]any{"metadata": map[string]any{"Name": "x"}}},
		{"a non-ASCII key", map[string]any{"metadata": map[string]any{"nąme": "x"}}},
		{"a fraction for an integer", map[string]any{"spec": map[string]any{"priority": 1.5}}},
		{"an overflow", map[string]any{"spec": map[string]any{"priority": 3e9}}},
		{"a string for an integer", map[string]any{"spec": map[string]any{"priority": "1"}}},
		{"a number for a string", map[string]any{"metadata": map[string]any{"name": 1.0}}},
		{"a list for an object", map[string]any{"spec": []any{}}},
		{"invalid UTF-8", map[string]any{"metadata": map[string]any{"name": "\xff"}}},
		{"a bad quantity", map[string]any{"spec": map[string]any{"overhead": map[string]any{"cpu": "lots"}}}},
		{"an int64", map[string]any{"spec": map[string]any{"priority": int64(1)}}},
		{"an integer beyond 2^53", map[string]any{"spec": map[string]any{"activeDeadlineSeconds": 1e17 + 64}}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			var pod corev1.Pod
			if FromModel(tc.model, &pod) {
				var want corev1.Pod
				err := intoViaText(tc.model, &want)
				if err != nil || !reflect.DeepEqual(pod, want) {
					t.Fatalf("decoded, but encoding/json gives %v / %+v", err, want)
				}
				t.Fatalf("decoded; expected a decline")
			}
		})
	}
}

// TestNulls pins encoding/json's handling of null: pointers, maps and
// slices are cleared, timestamps see UnmarshalJSON("null"), other values
// stay.
func TestNulls(t *testing.T) {
	model := map[string]any{
		"metadata": map[string]any{"name": nil, "labels": nil, "creationTimestamp": nil, "deletionTimestamp": nil},
		"spec":     map[string]any{"containers": nil, "priority": nil, "hostNetwork": nil},
	}
	var got, want corev1.Pod
	if !FromModel(model, &got) {
		t.Fatal("declined")
	}
	if err := intoViaText(model, &want); err != nil {
		t.Fatal(err)
	}
	if !reflect.DeepEqual(got, want) {
		t.Fatalf("got %+v\nwant %+v", got, want)
	}
}
