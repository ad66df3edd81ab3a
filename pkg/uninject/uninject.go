// Package uninject takes an injection back out of a pod: what Istio's own
// annotations prove was injected (sidecar.istio.io/status,
// proxy.istio.io/overrides, the proxy's ISTIO_KUBE_APP_PROBERS and
// ISTIO_PROMETHEUS_ANNOTATIONS), then, when the pod carries it, this
// project's record of everything else (the annotation
// inject-sidecar.dev/injected, written at injection time by Record).
//
// With the record the original pod comes back exactly. Without it nothing
// is guessed: only what Istio's annotations prove is undone, and the
// result's warnings name what may remain.
package uninject

import (
	"encoding/json"
	"fmt"
	"slices"
	"sort"
	"strings"

	"istio.io/api/annotation"
	corev1 "k8s.io/api/core/v1"
)

// Annotation is this project's record of what injection changed that
// Istio's annotations do not record: see Record.
const Annotation = "inject-sidecar.dev/injected"

// Names Istio's injection uses.
const (
	proxyName = "istio-proxy"

	envKubeAppProbers        = "ISTIO_KUBE_APP_PROBERS"
	envPrometheusAnnotations = "ISTIO_PROMETHEUS_ANNOTATIONS"
)

// Result says what Pod did.
type Result struct {
	// Injected is set when the pod carried a valid sidecar.istio.io/status.
	Injected bool
	// Recorded is set when this project's record was present and applied:
	// the pod is then exactly as it was before injection.
	Recorded bool
	// Revision is the one the status annotation names.
	Revision string
	// Removed lists what was taken out, for reports: "container
	// istio-proxy", "volume istio-envoy", "annotation ...".
	Removed []string
	// Restored lists what was put back: "readinessProbe of container web".
	Restored []string
	// Warnings name what could not be restored, or was left in place
	// because nothing proves injection added it.
	Warnings []string
	// Sources are the record's: how the user wrote what the pod now
	// reads as, where it would be written back spelled otherwise (see
	// RestoreSources).
	Sources []Source

	// notes are doubts about what was restored (a probe port that may
	// have been named); they become warnings only when no record settles
	// them.
	notes []string
}

// status is the JSON of sidecar.istio.io/status, read strictly as Istio
// reads it: a field of the wrong type makes the whole annotation invalid.
type status struct {
	InitContainers   []string `json:"initContainers"`
	Containers       []string `json:"containers"`
	Volumes          []string `json:"volumes"`
	ImagePullSecrets []string `json:"imagePullSecrets"`
	Revision         string   `json:"revision"`
}

// Injected reports whether pod carries a valid sidecar.istio.io/status,
// the proof Istio itself uses that a pod was injected.
func Injected(pod *corev1.Pod) bool {
	_, ok, _ := readStatus(pod)
	return ok
}

// Revision returns the revision the pod's sidecar.istio.io/status names,
// and whether the pod carries a valid one.
func Revision(pod *corev1.Pod) (string, bool) {
	st, ok, _ := readStatus(pod)
	return st.Revision, ok
}

// Recorded reports whether pod carries this project's record.
func Recorded(pod *corev1.Pod) bool {
	if pod == nil {
		return false
	}
	_, ok := pod.Annotations[Annotation]
	return ok
}

func readStatus(pod *corev1.Pod) (status, bool, error) {
	if pod == nil {
		return status{}, false, nil
	}
	raw, ok := pod.Annotations[annotation.SidecarStatus.Name]
	if !ok {
		return status{}, false, nil
	}
	var s status
	if err := json.Unmarshal([]byte(raw), &s); err != nil {
		return status{}, false, fmt.Errorf("annotation %s is not valid: %w", annotation.SidecarStatus.Name, err)
	}
	return s, true, nil
}

// Pod returns a copy of pod with the injection taken out. A pod without
// sidecar.istio.io/status is returned unchanged (Result.Injected false);
// one whose status cannot be read too, with a warning, since Istio then
// treats it as not injected. A record that cannot be read is an error:
// applying part of it would guess.
func Pod(pod *corev1.Pod) (*corev1.Pod, Result, error) {
	if pod == nil {
		return nil, Result{}, fmt.Errorf("uninject: no pod given")
	}
	out := pod.DeepCopy()
	st, ok, err := readStatus(out)
	if err != nil {
		return out, Result{Warnings: []string{err.Error() + "; the pod is left as it is"}}, nil
	}
	if !ok {
		res := Result{}
		if Recorded(out) {
			res.Warnings = append(res.Warnings, fmt.Sprintf("annotation %s without %s: the pod is not injected; left as it is",
				Annotation, annotation.SidecarStatus.Name))
		}
		return out, res, nil
	}
	rec, hasRecord, err := readRecord(out)
	if err != nil {
		return nil, Result{}, err
	}
	res := Result{Injected: true, Revision: st.Revision, Recorded: hasRecord, Sources: rec.Source}
	if hasRecord {
		delete(out.Annotations, Annotation)
	}
	if err := strip(out, st, &res); err != nil {
		return nil, Result{}, err
	}
	if hasRecord {
		if err := rec.apply(out); err != nil {
			return nil, Result{}, err
		}
		// The record restores everything else; the warnings of the
		// Istio-only pass do not apply.
		res.Warnings = nil
	} else {
		res.Warnings = append(res.Warnings, unprovenWarnings(out)...)
		for _, n := range res.notes {
			if n != "" {
				res.Warnings = append(res.Warnings, n)
			}
		}
	}
	res.notes = nil
	normalize(out)
	return out, res, nil
}

// strip undoes what Istio's own annotations prove: the listed containers,
// init containers, volumes and image pull secrets go; the user's own
// declarations of injected containers come back from
// proxy.istio.io/overrides; rewritten probes and hooks come back from
// ISTIO_KUBE_APP_PROBERS and moved Prometheus annotations from
// ISTIO_PROMETHEUS_ANNOTATIONS; the status annotation goes. pod is edited
// in place and its status annotation must be valid (st).
func strip(pod *corev1.Pod, st status, res *Result) error {
	proxy := injectedProxy(pod, st)
	var proxyEnv []corev1.EnvVar
	if proxy != nil {
		proxyEnv = slices.Clone(proxy.Env)
	}

	injected := append(append([]string{}, st.InitContainers...), st.Containers...)
	// Kubernetes wants container names unique across both lists, so a
	// listed name is the injected container wherever it is now: after a
	// switch of native sidecars Istio may have left it in the other list.
	for _, name := range dedupe(injected) {
		var n int
		pod.Spec.Containers, n = removeContainers(pod.Spec.Containers, name)
		var m int
		pod.Spec.InitContainers, m = removeContainers(pod.Spec.InitContainers, name)
		if n > 0 {
			res.Removed = append(res.Removed, "container "+name)
		}
		if m > 0 {
			res.Removed = append(res.Removed, "init container "+name)
		}
	}
	for _, name := range dedupe(st.Volumes) {
		before := len(pod.Spec.Volumes)
		pod.Spec.Volumes = slices.DeleteFunc(pod.Spec.Volumes, func(v corev1.Volume) bool { return v.Name == name })
		if len(pod.Spec.Volumes) < before {
			res.Removed = append(res.Removed, "volume "+name)
		}
	}
	for _, name := range dedupe(st.ImagePullSecrets) {
		before := len(pod.Spec.ImagePullSecrets)
		pod.Spec.ImagePullSecrets = slices.DeleteFunc(pod.Spec.ImagePullSecrets, func(r corev1.LocalObjectReference) bool { return r.Name == name })
		if len(pod.Spec.ImagePullSecrets) < before {
			res.Removed = append(res.Removed, "image pull secret "+name)
		}
	}

	if err := restoreUserContainers(pod, res); err != nil {
		return err
	}
	if err := restoreProbes(pod, proxyEnv, res); err != nil {
		return err
	}
	if err := restorePrometheus(pod, proxyEnv, res); err != nil {
		return err
	}
	delete(pod.Annotations, annotation.SidecarStatus.Name)
	res.Removed = append(res.Removed, "annotation "+annotation.SidecarStatus.Name)
	return nil
}

// injectedProxy is the istio-proxy that the status lists, among the
// containers or the init containers; nil when the status lists none.
func injectedProxy(pod *corev1.Pod, st status) *corev1.Container {
	if !slices.Contains(st.Containers, proxyName) && !slices.Contains(st.InitContainers, proxyName) {
		return nil
	}
	// A previous switch of native sidecars may have left two: prefer the
	// one that holds the agent's records.
	var first *corev1.Container
	for _, list := range [][]corev1.Container{pod.Spec.Containers, pod.Spec.InitContainers} {
		for i := range list {
			if list[i].Name != proxyName {
				continue
			}
			if first == nil {
				first = &list[i]
			}
			for _, e := range list[i].Env {
				if e.Name == envKubeAppProbers || e.Name == envPrometheusAnnotations {
					return &list[i]
				}
			}
		}
	}
	return first
}

func removeContainers(cs []corev1.Container, name string) ([]corev1.Container, int) {
	before := len(cs)
	out := slices.DeleteFunc(cs, func(c corev1.Container) bool { return c.Name == name })
	return out, before - len(out)
}

// userContainers is the JSON of proxy.istio.io/overrides.
type userContainers struct {
	Containers     []corev1.Container `json:"containers,omitempty"`
	InitContainers []corev1.Container `json:"initContainers,omitempty"`
}

// restoreUserContainers puts back the user's own declarations of injected
// containers that injection recorded in proxy.istio.io/overrides, in the
// list the annotation names, and removes the annotation.
func restoreUserContainers(pod *corev1.Pod, res *Result) error {
	raw, ok := pod.Annotations[annotation.ProxyOverrides.Name]
	if !ok {
		return nil
	}
	var uc userContainers
	if err := json.Unmarshal([]byte(raw), &uc); err != nil {
		return fmt.Errorf("annotation %s is not valid: %w", annotation.ProxyOverrides.Name, err)
	}
	for _, c := range uc.Containers {
		if !hasContainer(pod, c.Name) {
			pod.Spec.Containers = append(pod.Spec.Containers, c)
			res.Restored = append(res.Restored, "container "+c.Name+" (from "+annotation.ProxyOverrides.Name+")")
		}
	}
	for _, c := range uc.InitContainers {
		if !hasContainer(pod, c.Name) {
			pod.Spec.InitContainers = append(pod.Spec.InitContainers, c)
			res.Restored = append(res.Restored, "init container "+c.Name+" (from "+annotation.ProxyOverrides.Name+")")
		}
	}
	delete(pod.Annotations, annotation.ProxyOverrides.Name)
	res.Removed = append(res.Removed, "annotation "+annotation.ProxyOverrides.Name)
	return nil
}

func hasContainer(pod *corev1.Pod, name string) bool {
	for _, list := range [][]corev1.Container{pod.Spec.Containers, pod.Spec.InitContainers} {
		for _, c := range list {
			if c.Name == name {
				return true
			}
		}
	}
	return false
}

// knownLabels and knownAnnotations are what Istio's own templates and
// post-processing add besides the status annotation. Without a record
// they stay, and the warning names those present.
var (
	knownLabels = []string{
		"security.istio.io/tlsMode",
		"service.istio.io/canonical-name",
		"service.istio.io/canonical-revision",
		"networking.istio.io/tunnel",
		"topology.istio.io/network",
	}
	knownAnnotations = []string{
		"istio.io/rev",
		"kubectl.kubernetes.io/default-container",
		"kubectl.kubernetes.io/default-logs-container",
		"k8s.v1.cni.cncf.io/networks",
		"prometheus.io/path",
		"prometheus.io/port",
		"prometheus.io/scrape",
		"prometheus.istio.io/secure-port",
		"sidecar.istio.io/interceptionMode",
		"traffic.sidecar.istio.io/excludeInboundPorts",
		"traffic.sidecar.istio.io/excludeInterfaces",
		"traffic.sidecar.istio.io/excludeOutboundIPRanges",
		"traffic.sidecar.istio.io/excludeOutboundPorts",
		"traffic.sidecar.istio.io/includeInboundPorts",
		"traffic.sidecar.istio.io/includeOutboundIPRanges",
		"traffic.sidecar.istio.io/includeOutboundPorts",
		"traffic.sidecar.istio.io/kubevirtInterfaces",
	}
)

// unprovenWarnings names, for a pod uninjected without a record, the
// labels and annotations Istio's templates add that are still there: the
// user may have set them, so they stay.
func unprovenWarnings(pod *corev1.Pod) []string {
	var labels, annotations []string
	for _, k := range knownLabels {
		if _, ok := pod.Labels[k]; ok {
			labels = append(labels, k)
		}
	}
	for _, k := range knownAnnotations {
		if _, ok := pod.Annotations[k]; ok {
			annotations = append(annotations, k)
		}
	}
	var kept []string
	if len(labels) > 0 {
		kept = append(kept, "labels "+strings.Join(labels, ", "))
	}
	if len(annotations) > 0 {
		kept = append(kept, "annotations "+strings.Join(annotations, ", "))
	}
	msg := fmt.Sprintf("no %s record (injected by Istio, or in kube-inject mode): only what Istio's annotations prove was removed; "+
		"what the templates added or overwrote elsewhere cannot be known", Annotation)
	if len(kept) > 0 {
		msg += "; kept " + strings.Join(kept, "; ")
	}
	return []string{msg}
}

// normalize makes empty collections absent, as they read in YAML and as
// the API server stores them, so that a pod compares equal however its
// lists were emptied.
func normalize(pod *corev1.Pod) {
	if len(pod.Labels) == 0 {
		pod.Labels = nil
	}
	if len(pod.Annotations) == 0 {
		pod.Annotations = nil
	}
	if len(pod.Spec.Containers) == 0 {
		pod.Spec.Containers = nil
	}
	if len(pod.Spec.InitContainers) == 0 {
		pod.Spec.InitContainers = nil
	}
	if len(pod.Spec.Volumes) == 0 {
		pod.Spec.Volumes = nil
	}
	if len(pod.Spec.ImagePullSecrets) == 0 {
		pod.Spec.ImagePullSecrets = nil
	}
}

func dedupe(names []string) []string {
	seen := map[string]bool{}
	var out []string
	for _, n := range names {
		if !seen[n] {
			seen[n] = true
			out = append(out, n)
		}
	}
	sort.Strings(out)
	return out
}
