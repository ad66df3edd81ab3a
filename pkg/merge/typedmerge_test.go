package merge

import (
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"reflect"
	"slices"
	"strings"
	"testing"

	"istio.io/api/annotation"
	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"sigs.k8s.io/yaml"
)

// podJSON is the pod as everything downstream of the merge reads it.
func podJSON(t testing.TB, pod *corev1.Pod) string {
	t.Helper()
	b, err := json.Marshal(pod)
	if err != nil {
		t.Fatalf("encoding pod: %v", err)
	}
	return string(b)
}

// compareMerge merges overlay into pod with the typed merge and with the
// general road; it fails the test on any difference and reports whether
// the typed merge took the overlay. The pod is not modified.
func compareMerge(t testing.TB, pod *corev1.Pod, overlay string) bool {
	t.Helper()
	patch, err := parseOverlay([]byte(overlay))
	if err != nil {
		return false
	}
	want, wantErr := generalMerge(pod, patch)
	ov, node, ok := decodeOverlay(patch)
	if !ok || !jsonStable(pod) {
		return false
	}
	// Decoding on its own is merging into an empty pod.
	empty, err := generalMerge(&corev1.Pod{}, patch)
	if err != nil {
		t.Fatalf("decoded an overlay the general road refuses (%v):\n%s", err, overlay)
	}
	if g, w := podJSON(t, ov), podJSON(t, empty); g != w {
		t.Fatalf("decoded overlay differs from the merge into an empty pod:\n got %s\nwant %s\noverlay:\n%s", g, w, overlay)
	}
	got := pod.DeepCopy()
	before := podJSON(t, got)
	if !mergeTyped(got, ov, node) {
		if podJSON(t, got) != before {
			t.Fatalf("the typed merge declined but changed the pod:\n%s", overlay)
		}
		return false
	}
	if wantErr != nil {
		t.Fatalf("the typed merge took an overlay the general road refuses (%v):\n%s", wantErr, overlay)
	}
	if g, w := podJSON(t, got), podJSON(t, want); g != w {
		t.Fatalf("typed merge differs from the general road:\n got %s\nwant %s\npod %s\noverlay:\n%s", g, w, before, overlay)
	}
	return true
}

// applyRecovered is apply with the strategic merge's panics (see
// generalMerge) as errors, so that both roads can be compared on them.
func applyRecovered(pod *corev1.Pod, overlays [][]byte, p Params, typed bool) (_ *corev1.Pod, err error) {
	defer func() {
		if v := recover(); v != nil {
			err = fmt.Errorf("panicked: %v", v)
		}
	}()
	return apply(pod, overlays, p, typed)
}

// generalMerge is applyPatchMap on a copy of the patch; the strategic
// merge's panics on malformed patches (a null list item: see the
// typed_merge.yaml case) are errors here.
func generalMerge(pod *corev1.Pod, patch map[string]any) (_ *corev1.Pod, err error) {
	defer func() {
		if v := recover(); v != nil {
			err = fmt.Errorf("strategic merge panicked: %v", v)
		}
	}()
	return applyPatchMap(pod, copyJSON(patch))
}

// compareApply runs Apply with and without the typed merge: same pod (as
// JSON), same error, input untouched.
func compareApply(t testing.TB, pod *corev1.Pod, overlays [][]byte, p Params) {
	t.Helper()
	before := pod.DeepCopy()
	got, gotErr := applyRecovered(pod, overlays, p, true)
	if !reflect.DeepEqual(pod, before) {
		t.Fatalf("Apply modified its input pod")
	}
	want, wantErr := applyRecovered(pod, overlays, p, false)
	if (gotErr == nil) != (wantErr == nil) || gotErr != nil && gotErr.Error() != wantErr.Error() {
		t.Fatalf("errors differ: typed %v, general %v", gotErr, wantErr)
	}
	if gotErr != nil {
		return
	}
	if g, w := podJSON(t, got), podJSON(t, want); g != w {
		t.Fatalf("Apply differs from the general road:\n got %s\nwant %s", g, w)
	}
}

type typedCase struct {
	Name    string          `json:"name"`
	Typed   string          `json:"typed"`
	Pod     json.RawMessage `json:"pod"`
	Overlay string          `json:"overlay"`
}

func loadTypedCases(t testing.TB) []typedCase {
	t.Helper()
	b, err := os.ReadFile(filepath.Join("testdata", "typed_merge.yaml"))
	if err != nil {
		t.Fatal(err)
	}
	var f struct {
		Cases []typedCase `json:"cases"`
	}
	if err := yaml.Unmarshal(b, &f); err != nil {
		t.Fatalf("typed_merge.yaml: %v", err)
	}
	if len(f.Cases) < 20 {
		t.Fatalf("only %d cases in typed_merge.yaml", len(f.Cases))
	}
	return f.Cases
}

// TestTypedMerge: the table of merges the typed merge takes or declines,
// each checked against the general road.
func TestTypedMerge(t *testing.T) {
	for _, tc := range loadTypedCases(t) {
		t.Run(tc.Name, func(t *testing.T) {
			pod := &corev1.Pod{}
			if err := json.Unmarshal(tc.Pod, pod); err != nil {
				t.Fatalf("pod: %v", err)
			}
			took := compareMerge(t, pod, tc.Overlay)
			if want := tc.Typed == "take"; took != want {
				t.Errorf("typed merge took = %v, want %s", took, tc.Typed)
			}
			compareApply(t, pod, [][]byte{[]byte(tc.Overlay)}, basicParams(t))
		})
	}
}

func basicParams(t *testing.T) Params {
	return caseParams{}.build(t)
}

// TestTypedMergeCaseTables replays the Apply case tables with and
// without the typed merge.
func TestTypedMergeCaseTables(t *testing.T) {
	taken := 0
	for _, name := range []string{"merge.yaml", "probes.yaml", "prometheus.yaml", "postprocess.yaml"} {
		f := loadCaseFile(t, name)
		for _, tc := range f.Cases {
			t.Run(name+"/"+tc.Name, func(t *testing.T) {
				pod := decodePod(t, tc.Pod)
				var overlays [][]byte
				for _, o := range tc.Overlays {
					if shared, ok := f.Overlays[o]; ok {
						o = shared
					}
					overlays = append(overlays, []byte(o))
					if compareMerge(t, pod, o) {
						taken++
					}
				}
				compareApply(t, pod, overlays, tc.Params.build(t))
			})
		}
	}
	if taken < 50 {
		t.Errorf("the typed merge took only %d overlays of the case tables", taken)
	}
}

// TestTypedMergeBadOverlays: hostile overlays give the same errors or
// pods both ways.
func TestTypedMergeBadOverlays(t *testing.T) {
	b, err := os.ReadFile(filepath.Join("testdata", "bad_overlays.yaml"))
	if err != nil {
		t.Fatal(err)
	}
	var overlays []string
	if err := yaml.Unmarshal(b, &overlays); err != nil {
		t.Fatal(err)
	}
	pod := &corev1.Pod{Spec: corev1.PodSpec{Containers: []corev1.Container{{Name: "a", Image: "a"}}}}
	for _, o := range overlays {
		compareMerge(t, pod, o)
		compareApply(t, pod, [][]byte{[]byte(o)}, basicParams(t))
	}
}

// TestTypedMergeGoldens replays Istio's golden corpus (see
// TestApplyGoldens) with and without the typed merge.
func TestTypedMergeGoldens(t *testing.T) {
	dir := conformanceDir(t)
	b, err := os.ReadFile(filepath.Join(dir, "cases.json"))
	if err != nil {
		t.Fatal(err)
	}
	var cases []goldenCase
	if err := json.Unmarshal(b, &cases); err != nil {
		t.Fatalf("cases.json: %v", err)
	}
	taken, total := 0, 0
	for _, c := range cases {
		if c.Expected == "" {
			continue
		}
		in := goldenPods(t, filepath.Join(dir, c.Input))
		out := goldenPods(t, filepath.Join(dir, c.Expected))
		for i := range in {
			if i >= len(out) {
				break
			}
			if _, injected := out[i].Annotations[annotation.SidecarStatus.Name]; !injected {
				continue
			}
			overlay := overlayFromGolden(t, out[i])
			total++
			if compareMerge(t, in[i], string(overlay)) {
				taken++
			}
			compareApply(t, in[i], [][]byte{overlay}, goldenParams(t, dir, c, in[i]))
		}
	}
	t.Logf("typed merge took %d of %d golden overlays", taken, total)
	if taken < total*9/10 {
		t.Errorf("the typed merge took only %d of %d golden overlays", taken, total)
	}
}

// TestJSONStable: what the trip through the JSON model would change.
func TestJSONStable(t *testing.T) {
	big := int64(1<<53 + 1)
	tests := []struct {
		name string
		pod  *corev1.Pod
		want bool
	}{
		{"empty", &corev1.Pod{}, true},
		{"plain", &corev1.Pod{Spec: corev1.PodSpec{Containers: []corev1.Container{{Name: "a", Args: []string{"x"}}}}}, true},
		{"large int", &corev1.Pod{Spec: corev1.PodSpec{ActiveDeadlineSeconds: &big}}, false},
		{"large negative int", &corev1.Pod{Spec: corev1.PodSpec{Containers: []corev1.Container{{SecurityContext: &corev1.SecurityContext{RunAsUser: new(-big)}}}}}, false},
		{"invalid UTF-8 value", &corev1.Pod{Spec: corev1.PodSpec{Containers: []corev1.Container{{Args: []string{"\xff"}}}}}, false},
		{"invalid UTF-8 key", &corev1.Pod{ObjectMeta: metaWithLabel("\xfe", "v")}, false},
		{"managed fields", &corev1.Pod{ObjectMeta: managedMeta()}, false},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			if got := jsonStable(tc.pod); got != tc.want {
				t.Errorf("jsonStable = %v, want %v", got, tc.want)
			}
			if tc.want {
				// A stable pod reads back the same through JSON.
				var back corev1.Pod
				if err := json.Unmarshal([]byte(podJSON(t, tc.pod)), &back); err != nil {
					t.Fatal(err)
				}
				if podJSON(t, &back) != podJSON(t, tc.pod) {
					t.Errorf("stable pod changed through JSON")
				}
			}
		})
	}
}

// TestTypedTable: every type reachable from a pod that a template
// overlay touches is one the typed merge handles.
func TestTypedTable(t *testing.T) {
	root := tmTable()
	for _, path := range []string{
		"metadata.labels", "metadata.annotations", "spec.containers", "spec.initContainers",
		"spec.volumes", "spec.imagePullSecrets", "spec.securityContext", "spec.dnsConfig",
	} {
		tt := root
		var f *tmField
		for _, name := range strings.Split(path, ".") {
			if tt.kind == tmPtrStruct {
				tt = tt.elem
			}
			f = tt.fields[name]
			if f == nil || f.odd {
				t.Fatalf("%s: field %s unknown or odd", path, name)
			}
			tt = f.typ
		}
		if tt.kind == tmUnsupported {
			t.Errorf("%s: unsupported type %v", path, tt.t)
		}
		if tt.kind == tmSlice && f.merge && f.keyOf() == nil {
			t.Errorf("%s: merge list without a usable key", path)
		}
	}
}

// FuzzTypedMerge holds the typed merge to the general road for any pod
// (as JSON) and overlay.
func FuzzTypedMerge(f *testing.F) {
	for _, tc := range loadTypedCases(f) {
		f.Add(string(tc.Pod), tc.Overlay)
	}
	f.Fuzz(func(t *testing.T, podText, overlay string) {
		pod := &corev1.Pod{}
		if err := json.Unmarshal([]byte(podText), pod); err != nil {
			return
		}
		compareMerge(t, pod, overlay)
	})
}

func metaWithLabel(k, v string) metav1.ObjectMeta {
	return metav1.ObjectMeta{Labels: map[string]string{k: v}}
}

func managedMeta() metav1.ObjectMeta {
	return metav1.ObjectMeta{ManagedFields: []metav1.ManagedFieldsEntry{{
		Manager: "m", FieldsV1: &metav1.FieldsV1{Raw: []byte(`{ "f:metadata" : {} }`)},
	}}}
}

// compareBlockTyped holds decodeBlockTyped to parseBlockYAML followed by
// decodeOverlay: the same pod (exactly) and description, or a decline.
// It reports whether decodeBlockTyped took the document.
func compareBlockTyped(t testing.TB, doc string) bool {
	t.Helper()
	pod, n, ok := decodeBlockTyped([]byte(doc))
	var want *corev1.Pod
	var wn *pnode
	wok := false
	if m, mok := parseBlockYAML([]byte(doc)); mok {
		want, wn, wok = decodeOverlay(m)
	}
	if !ok {
		return false
	}
	if !wok {
		t.Fatalf("decodeBlockTyped took what the model road refuses:\n%s", doc)
	}
	if !reflect.DeepEqual(pod, want) {
		t.Fatalf("decodeBlockTyped reads differently:\n got %s\nwant %s\ndoc:\n%s", podJSON(t, pod), podJSON(t, want), doc)
	}
	if !reflect.DeepEqual(sortedNode(n), sortedNode(wn)) {
		t.Fatalf("decodeBlockTyped describes differently:\ndoc:\n%s", doc)
	}
	return true
}

// sortedNode orders a description's fields (the model road lists them
// in map order).
func sortedNode(n *pnode) *pnode {
	if n == nil {
		return nil
	}
	out := &pnode{kind: n.kind}
	for _, pf := range n.fields {
		out.fields = append(out.fields, pfield{pf.f, sortedNode(pf.n)})
	}
	slices.SortFunc(out.fields, func(a, b pfield) int { return a.f.ord - b.f.ord })
	for _, it := range n.items {
		out.items = append(out.items, sortedNode(it))
	}
	if n.kind == pList && out.items == nil {
		out.items = []*pnode{}
	}
	if n.kind == pMap && out.fields == nil {
		out.fields = []pfield{}
	}
	return out
}

// TestDecodeBlockTyped: the overlays of the test tables, read both ways.
func TestDecodeBlockTyped(t *testing.T) {
	taken, total := 0, 0
	for _, doc := range overlaySamples(t) {
		total++
		if compareBlockTyped(t, doc) {
			taken++
		}
	}
	for _, tc := range loadTypedCases(t) {
		total++
		if compareBlockTyped(t, tc.Overlay) {
			taken++
		}
	}
	t.Logf("decodeBlockTyped took %d of %d documents", taken, total)
	if taken < total/2 {
		t.Errorf("decodeBlockTyped took only %d of %d documents", taken, total)
	}
}

// TestDecodeBlockTypedMutations: mutated overlays, read both ways.
func TestDecodeBlockTypedMutations(t *testing.T) {
	mutateBlockYAML(t, overlaySamples(t), 300, func(doc string) bool { return compareBlockTyped(t, doc) })
}

// FuzzDecodeBlockTyped holds decodeBlockTyped to the model road for any
// document.
func FuzzDecodeBlockTyped(f *testing.F) {
	for _, tc := range loadTypedCases(f) {
		f.Add(tc.Overlay)
	}
	f.Fuzz(func(t *testing.T, doc string) {
		compareBlockTyped(t, doc)
	})
}

// TestLabelNameIs: the comparison without building the sanitized name
// agrees with sanitizeLabelName.
func TestLabelNameIs(t *testing.T) {
	names := []string{"", "prometheus.io/scrape", "prometheus_io_scrape", "prometheus-io/port", "prometheus.io.path",
		"Prometheus.io/scrape", "prometheus.io/scrapé", "prometheus.io/scrap", "prometheus.io/scrapee", "préometheus.io/port",
		"prometheus.io/port ", "prometheus\u00e9io/path", "a", "_"}
	for _, name := range names {
		for _, want := range []string{promScrape, promPort, promPath, "", "a", "_", "prometheus_io_scrap\u00e9"} {
			if got, exact := labelNameIs(name, want), sanitizeLabelName(name) == want; got != exact {
				t.Errorf("labelNameIs(%q, %q) = %v, want %v", name, want, got, exact)
			}
		}
	}
}

// FuzzLabelNameIs holds labelNameIs to sanitizeLabelName.
func FuzzLabelNameIs(f *testing.F) {
	f.Add("prometheus.io/scrape", promScrape)
	f.Add("prometheus-io.port", promPort)
	f.Fuzz(func(t *testing.T, name, want string) {
		if got, exact := labelNameIs(name, want), sanitizeLabelName(name) == want; got != exact {
			t.Errorf("labelNameIs(%q, %q) = %v, want %v", name, want, got, exact)
		}
	})
}

// TestPlainText: the eight-bytes-at-a-time test agrees with the byte
// loop, every byte value in every position.
func TestPlainText(t *testing.T) {
	for c := range 256 {
		for at := range 17 {
			b := []byte(strings.Repeat("a: b\n", 4))[:17]
			b[at] = byte(c)
			if got, want := plainText(string(b)), plainBytes(string(b)); got != want {
				t.Fatalf("plainText(%q) = %v, want %v", b, got, want)
			}
		}
	}
}

// FuzzPlainText holds plainText to the byte loop.
func FuzzPlainText(f *testing.F) {
	f.Add("metadata:\n  labels: {}\n")
	f.Fuzz(func(t *testing.T, s string) {
		if got, want := plainText(s), plainBytes(s); got != want {
			t.Errorf("plainText(%q) = %v, want %v", s, got, want)
		}
	})
}
