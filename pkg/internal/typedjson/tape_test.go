package typedjson

import (
	"bytes"
	"encoding/json"
	"fmt"
	"reflect"
	"testing"

	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/util/intstr"
)

// modelOfTape reads a tape back into the JSON data model through its
// accessors.
func modelOfTape(t *Tape, i int) any {
	switch t.Kind(i) {
	case KindNull:
		return nil
	case KindString:
		return t.Str(i)
	case KindNumber:
		text, _ := t.Text(i)
		return json.Number(text)
	case KindBool:
		text, _ := t.Text(i)
		return text == "true"
	case KindList:
		out := make([]any, 0, t.Len(i))
		for j, n := t.First(i), 0; n < t.Len(i); j, n = t.Next(j), n+1 {
			out = append(out, modelOfTape(t, j))
		}
		return out
	}
	out := make(map[string]any, t.Len(i))
	prev := ""
	for j, n := t.First(i), 0; n < t.Len(i); j, n = t.Next(j), n+1 {
		if n > 0 && t.Key(j) <= prev {
			panic(fmt.Sprintf("keys out of order: %q after %q", t.Key(j), prev))
		}
		prev = t.Key(j)
		if t.Field(i, t.Key(j)) != j {
			panic(fmt.Sprintf("Field(%q) does not find the member", t.Key(j)))
		}
		out[t.Key(j)] = modelOfTape(t, j)
	}
	if t.Field(i, "\xffnot a key") != -1 {
		panic("Field finds a missing key")
	}
	return out
}

// parts are the values of a pod the write-back lays out, and some of
// their parts.
func parts(pod *corev1.Pod) []any {
	out := []any{pod, pod.ObjectMeta, &pod.ObjectMeta, pod.Spec, &pod.Spec}
	for i := range pod.Spec.Containers {
		out = append(out, pod.Spec.Containers[i], &pod.Spec.Containers[i])
	}
	return out
}

// TestTapeMatchesModel holds TapeOf to ToModel, and where that declines
// to the JSON-text road through TapeOfModel, on random pods: every
// node read back through the accessors, Equal to reflect.DeepEqual on
// the models.
func TestTapeMatchesModel(t *testing.T) {
	pods := randomPods(t)
	var arena Arena
	laidOut := 0
	var tapes []*Tape
	var models []any
	for seed := range int64(pods) {
		pod := randomPod(seed)
		for _, v := range parts(pod) {
			want, ok := ToModel(v, Number)
			tape, tok := arena.TapeOf(v)
			if tok != ok {
				t.Fatalf("seed %d %T: TapeOf ok %v, ToModel ok %v", seed, v, tok, ok)
			}
			if !ok {
				m, err := viaText(t, v, Number)
				if err != nil {
					continue
				}
				if tape, err = TapeOfModel(m); err != nil {
					t.Fatalf("seed %d %T: TapeOfModel refused encoding/json's model: %v", seed, v, err)
				}
				want = m
			} else {
				laidOut++
			}
			if got := modelOfTape(tape, 0); !reflect.DeepEqual(got, want) {
				t.Fatalf("seed %d %T:\n got %#v\nwant %#v", seed, v, got, want)
			}
			if tape.Next(0) != len(tape.nodes) {
				t.Fatalf("seed %d %T: the value ends at %d of %d nodes", seed, v, tape.Next(0), len(tape.nodes))
			}
			if _, isSpec := v.(corev1.PodSpec); isSpec || len(tapes) < 40 {
				tapes, models = append(tapes, tape), append(models, want)
			}
		}
	}
	if laidOut < pods {
		t.Errorf("only %d parts of %d random pods laid out directly", laidOut, pods)
	}
	// Equal, on whole values and on their lists' elements, against the
	// models' reflect.DeepEqual.
	for a := range tapes {
		for b := range tapes {
			if got, want := Equal(tapes[a], 0, tapes[b], 0), reflect.DeepEqual(models[a], models[b]); got != want {
				t.Fatalf("Equal(%d, %d) = %v, reflect.DeepEqual says %v", a, b, got, want)
			}
		}
	}
}

// TestTapeEqualParts compares the elements of a spec's lists, and a spec
// with a copy edited in one place, as the write-back compares them.
func TestTapeEqualParts(t *testing.T) {
	for seed := range int64(randomPods(t)) {
		pod := randomPod(seed)
		edited := pod.DeepCopy()
		edited.Spec.Containers = append(edited.Spec.Containers, corev1.Container{Name: "x"})
		if len(edited.Spec.Containers) > 1 {
			edited.Spec.Containers[0].Image += "!"
		}
		a, aok := TapeOf(&pod.Spec)
		b, bok := TapeOf(&edited.Spec)
		am, _ := ToModel(pod.Spec, Number)
		bm, _ := ToModel(edited.Spec, Number)
		if !aok || !bok {
			continue
		}
		if Equal(a, 0, b, 0) != reflect.DeepEqual(am, bm) || Equal(a, 0, b, 0) {
			t.Fatalf("seed %d: an edited spec reads as equal", seed)
		}
		ac, bc := a.Field(0, "containers"), b.Field(0, "containers")
		if ac < 0 || bc < 0 || a.Kind(ac) != KindList || b.Kind(bc) != KindList {
			continue
		}
		alist, blist := am.(map[string]any)["containers"].([]any), bm.(map[string]any)["containers"].([]any)
		for i, n := a.First(ac), 0; n < a.Len(ac); i, n = a.Next(i), n+1 {
			for j, m := b.First(bc), 0; m < b.Len(bc); j, m = b.Next(j), m+1 {
				if got, want := Equal(a, i, b, j), reflect.DeepEqual(alist[n], blist[m]); got != want {
					t.Fatalf("seed %d: containers %d and %d: Equal %v, reflect.DeepEqual %v", seed, n, m, got, want)
				}
			}
		}
	}
}

// TestNoAddressDependentMarshalers: TapeOf declines a marshaler only a
// pointer has, which would make TapeOf(&x) read as ToModel(x) no more;
// none is reachable from a pod, so the write-back's tapes are direct.
func TestNoAddressDependentMarshalers(t *testing.T) {
	for typ, ti := range table() {
		if ti.addrMarshaler {
			t.Errorf("%v has MarshalJSON on its pointer only: the write-back's tapes of pods holding one take the JSON-text road", typ)
		}
	}
}

// TestTapeOfModelOther lays out values outside the JSON data model as
// encoding/json writes and reads them back, and passes on its errors.
func TestTapeOfModelOther(t *testing.T) {
	tests := []struct {
		name    string
		in      any
		want    any
		wantErr bool
	}{
		{name: "model", in: map[string]any{"a": []any{"x", json.Number("1"), true, nil}}, want: map[string]any{"a": []any{"x", json.Number("1"), true, nil}}},
		{name: "floats and ints", in: map[string]any{"f": 1.5, "i": 3, "s": []string{"a"}}, want: map[string]any{"f": json.Number("1.5"), "i": json.Number("3"), "s": []any{"a"}}},
		{name: "struct", in: struct {
			A string `json:"a,omitempty"`
			B int    `json:"b"`
		}{B: 2}, want: map[string]any{"b": json.Number("2")}},
		{name: "refused", in: map[string]any{"c": make(chan int)}, wantErr: true},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			tape, err := TapeOfModel(tc.in)
			if (err != nil) != tc.wantErr {
				t.Fatalf("error %v, want one: %v", err, tc.wantErr)
			}
			if err != nil {
				return
			}
			if got := modelOfTape(tape, 0); !reflect.DeepEqual(got, tc.want) {
				t.Errorf("got %#v, want %#v", got, tc.want)
			}
		})
	}
}

// TestTapeIntOrString holds the tape's shortcut for IntOrString (taken
// when the value is addressable) to the general road (taken when it is
// not) and to encoding/json, on the values where the shortcut answers and
// on those where it must decline.
func TestTapeIntOrString(t *testing.T) {
	tests := []struct {
		name string
		v    intstr.IntOrString
		// laidOut: the tape takes the value (else it declines, and the
		// JSON-text road takes it).
		laidOut bool
	}{
		{"int", intstr.FromInt32(15021), true},
		{"zero", intstr.IntOrString{}, true},
		{"negative", intstr.FromInt32(-7), true},
		{"min", intstr.FromInt32(-2147483648), true},
		{"name", intstr.FromString("http-envoy-prom"), true},
		{"empty string", intstr.FromString(""), true},
		{"digits", intstr.FromString("8080"), true},
		{"escaped by encoding/json", intstr.FromString("a<b"), false},
		{"quote", intstr.FromString(`a"b`), false},
		{"newline", intstr.FromString("a\nb"), false},
		{"not ASCII", intstr.FromString("pört"), false},
		{"invalid UTF-8", intstr.FromString("a\xffb"), false},
		{"unknown type", intstr.IntOrString{Type: 7, StrVal: "x"}, false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			h := corev1.TCPSocketAction{Port: tt.v, Host: "h"}
			// &h: Port is addressable (the shortcut); h: it is not.
			viaPtr, okPtr := TapeOf(&h)
			viaValue, okValue := TapeOf(h)
			if okPtr != okValue || okPtr != tt.laidOut {
				t.Fatalf("TapeOf(&h) ok %v, TapeOf(h) ok %v, want %v", okPtr, okValue, tt.laidOut)
			}
			raw, jsonErr := json.Marshal(h)
			if !okPtr {
				if _, ok := ToModel(h, Number); ok && jsonErr == nil {
					t.Fatalf("the tape declines what ToModel takes")
				}
				return
			}
			if !Equal(viaPtr, 0, viaValue, 0) {
				t.Fatalf("shortcut %#v, general road %#v", modelOfTape(viaPtr, 0), modelOfTape(viaValue, 0))
			}
			if jsonErr != nil {
				t.Fatalf("the tape takes what encoding/json refuses: %v", jsonErr)
			}
			d := json.NewDecoder(bytes.NewReader(raw))
			d.UseNumber()
			var want any
			if err := d.Decode(&want); err != nil {
				t.Fatal(err)
			}
			if got := modelOfTape(viaPtr, 0); !reflect.DeepEqual(got, want) {
				t.Fatalf("tape %#v, encoding/json %#v", got, want)
			}
		})
	}
}
