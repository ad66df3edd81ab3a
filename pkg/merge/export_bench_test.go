package merge

import corev1 "k8s.io/api/core/v1"

// MergeStage is the first part of Apply for the benchmarks: the overlays
// and the user's declarations of injected containers, without the
// post-processing. It returns what PostProcessStage needs.
func MergeStage(original *corev1.Pod, overlays [][]byte, p Params) (merged, orig, templ *corev1.Pod, err error) {
	orig = original
	if resetsOpenShiftProxyUser(p) {
		orig = original.DeepCopy()
		resetOpenShiftProxyUser(orig, p)
	}
	if merged, templ, err = applyOverlays(orig, overlays, p, true); err != nil {
		return nil, nil, nil, err
	}
	merged, err = reapplyUserContainers(merged, orig, templ, p.proxyConfig())
	return merged, orig, templ, err
}

// PostProcessStage is the rest of Apply: Istio's post-processing, in
// place on merged.
func PostProcessStage(merged, orig, templ *corev1.Pod, p Params) error {
	return postProcess(merged, orig, templ, p)
}

// ParseBlockYAML, MutateBlockYAML and ViaSigsYAML let the external tests
// read the generated workloads' overlays with the subset reader.
var (
	ParseBlockYAML  = parseBlockYAML
	MutateBlockYAML = mutateBlockYAML
	ViaSigsYAML     = viaSigsYAML
)

// Hooks of the differential tests of the typed merge.
var (
	ParseOverlay  = parseOverlay
	DecodeOverlay = decodeOverlay
	MergeTyped    = mergeTyped
	JSONStable    = jsonStable
)

// CompareBlockTyped holds decodeBlockTyped to the model road on one
// document and reports whether it took it.
var CompareBlockTyped = compareBlockTyped

// ApplyGeneral is Apply with every overlay on the general road.
func ApplyGeneral(original *corev1.Pod, overlays [][]byte, p Params) (*corev1.Pod, error) {
	return apply(original, overlays, p, false)
}
