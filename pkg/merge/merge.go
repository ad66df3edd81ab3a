// Package merge puts the rendered injection templates into a pod and then
// post-processes the result, reproducing what Istio's sidecar injector does
// after it has run its templates: user overrides of the injected containers,
// cluster/network environment, Prometheus metrics merging, probe rewriting,
// the sidecar.istio.io/status annotation and container ordering.
//
// Apply does, in Istio's order (webhook.go injectPod/postProcessPod):
//  1. the overlays, one by one, into the pod and into an empty pod that
//     records what the templates injected;
//  2. the user's own declarations of injected containers on top
//     (proxy.istio.io/overrides), then the init containers' uid fix-ups;
//  3. cluster/network variables moved to the end of the proxy's env;
//  4. Prometheus metrics merging, then prometheus.istio.io/secure-port;
//  5. probe and lifecycle-hook rewriting (ISTIO_KUBE_APP_PROBERS);
//  6. the network label, sidecar.istio.io/status, injectedAnnotations;
//  7. container ordering.
//
// Everything here works on corev1.Pod values. Callers' pods are never
// modified: every function works on deep copies.
package merge

import (
	"encoding/json"
	"errors"
	"fmt"

	"istio.io/api/annotation"
	meshconfig "istio.io/api/mesh/v1alpha1"
	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/util/strategicpatch"
	"sigs.k8s.io/yaml"

	"github.com/inject-sidecar/inject-sidecar/pkg/config"
	"github.com/inject-sidecar/inject-sidecar/pkg/internal/typedjson"
)

// Names of the containers Istio's post-processing treats specially.
const (
	proxyName      = "istio-proxy"
	initName       = "istio-init"
	validationName = "istio-validation"
	coreDumpName   = "enable-core-dump"

	// autoImage in a user's own istio-proxy/istio-init declaration means
	// "keep the image the template injected".
	autoImage = "auto"

	// openShift is the value of Options.Platform for OpenShift.
	openShift = "openshift"
)

// Params is what Apply needs besides the pod and the rendered overlays.
type Params struct {
	// Injector is the configuration of the revision serving the pod:
	// Values, Mesh, Revision and InjectedAnnotations are read.
	Injector *config.Injector
	// Options are the process-level settings (native sidecars, platform,
	// decision mode).
	Options config.Options
	// ProxyConfig is the effective proxy configuration of the pod (mesh
	// defaultConfig overlaid with proxy.istio.io/config). When nil, the
	// mesh defaultConfig is used.
	ProxyConfig *meshconfig.ProxyConfig
}

func (p Params) check() error {
	if p.Injector == nil {
		return errors.New("no injector configuration given")
	}
	return nil
}

// proxyConfig returns the effective proxy configuration; the result may be
// nil, and protobuf getters are nil-safe.
func (p Params) proxyConfig() *meshconfig.ProxyConfig {
	if p.ProxyConfig != nil {
		return p.ProxyConfig
	}
	if p.Injector == nil {
		return nil
	}
	return p.Injector.Mesh.GetDefaultConfig()
}

func (p Params) kubeInject() bool {
	return p.Options.DecisionMode == config.DecideLikeKubeInject
}

// statusPort is the agent status port that Prometheus merging, probe
// rewriting and stripping use. Istio's webhook reads it from the mesh
// defaultConfig only, while istioctl kube-inject first overlays the pod's
// proxy.istio.io/config annotation on the mesh (which is what the effective
// ProxyConfig is); both quirks are kept so output matches either tool.
func (p Params) statusPort() int32 {
	if p.kubeInject() && p.ProxyConfig != nil {
		return p.ProxyConfig.GetStatusPort()
	}
	if p.Injector != nil {
		if dc := p.Injector.Mesh.GetDefaultConfig(); dc != nil {
			return dc.GetStatusPort()
		}
	}
	return p.ProxyConfig.GetStatusPort()
}

// Apply applies the rendered overlays (each the partial Pod YAML of one
// selected template, in order) to original with a strategic merge patch,
// re-applies the user's own declarations of injected containers on top,
// and post-processes the result in Istio's order. original is the pod as
// found in the input, before Strip; it is not modified.
func Apply(original *corev1.Pod, overlays [][]byte, p Params) (*corev1.Pod, error) {
	return apply(original, overlays, p, true)
}

// apply is Apply; typed false keeps every overlay on the general road
// (the differential tests compare both).
func apply(original *corev1.Pod, overlays [][]byte, p Params, typed bool) (*corev1.Pod, error) {
	if original == nil {
		return nil, errors.New("merge: no pod given")
	}
	if err := p.check(); err != nil {
		return nil, fmt.Errorf("merge: %w", err)
	}
	// Nothing below changes orig but the OpenShift reset: a copy only
	// then.
	orig := original
	if resetsOpenShiftProxyUser(p) {
		orig = original.DeepCopy()
		resetOpenShiftProxyUser(orig, p)
	}

	merged, templ, err := applyOverlays(orig, overlays, p, typed)
	if err != nil {
		return nil, fmt.Errorf("merge: %w", err)
	}
	merged, err = reapplyUserContainers(merged, orig, templ, p.proxyConfig())
	if err != nil {
		return nil, fmt.Errorf("merge: re-applying user containers: %w", err)
	}
	if err := postProcess(merged, orig, templ, p); err != nil {
		return nil, fmt.Errorf("merge: post-processing: %w", err)
	}
	return merged, nil
}

// applyOverlays merges every overlay, in order, both into the pod and into
// an initially empty pod. The latter records what the templates injected:
// the status annotation and the user-override logic are based on it.
//
// With typed, an overlay the typed merge takes (see mergeTyped) is merged
// straight into the typed pods; others, and pods whose trip through the
// JSON model would change them, take the general road.
func applyOverlays(orig *corev1.Pod, overlays [][]byte, p Params, typed bool) (merged, templ *corev1.Pod, err error) {
	merged = orig.DeepCopy()
	templ = &corev1.Pod{}
	typed = typed && jsonStable(orig)
	var previous injectedNames
	if raw, ok := orig.Annotations[annotation.SidecarStatus.Name]; ok {
		previous = parseStatusNames(raw)
	}
	// The agent's records on a previous proxy that goes (see below).
	var carried []corev1.EnvVar
	for i, ov := range overlays {
		// Read once, applied twice: reading is the dearer half. The
		// typed road reads block YAML straight into a pod, or else the
		// parsed patch; the general road needs the patch.
		var (
			ovPod *corev1.Pod
			node  *pnode
			patch map[string]any
			err   error
		)
		if typed {
			ovPod, node, _ = decodeBlockTyped(ov)
		}
		if ovPod == nil {
			patch, err = parseOverlay(ov)
			if err == nil && typed {
				ovPod, node, _ = decodeOverlay(patch)
			}
		}
		switch {
		case err != nil:
		case ovPod != nil && i == 0 && len(overlays) == 1:
			// Into the empty pod: the decoded overlay is the result, of
			// which only names are read (skeleton).
			templ = skeleton(ovPod)
		case ovPod != nil && i == 0:
			templ = ovPod.DeepCopy()
		case ovPod != nil && mergeTyped(templ, ovPod.DeepCopy(), node):
		default:
			if patch == nil {
				patch, err = parseOverlay(ov)
			}
			if err == nil {
				templ, err = applyPatchMap(templ, copyJSON(patch))
			}
		}
		if err != nil {
			return nil, nil, fmt.Errorf("applying overlay %d: %w", i, err)
		}
		// With native sidecars the template puts istio-proxy among the init
		// containers while a user customising it declares it among the
		// containers: move the user's one so that both merge into one.
		if nativeSidecars(merged, p.Options) &&
			findContainer(templ.Spec.InitContainers, proxyName) != nil &&
			findContainer(merged.Spec.Containers, proxyName) != nil {
			merged.Spec.Containers, merged.Spec.InitContainers = moveContainer(merged.Spec.Containers, merged.Spec.InitContainers, proxyName)
		}
		// The other way, a previous injection's native istio-proxy, which
		// the template now puts among the containers, goes: Istio leaves
		// it as a second istio-proxy, which the API server refuses. The
		// original probes and scrape settings it holds go to the new one,
		// as they would if the two merged.
		if !nativeSidecars(merged, p.Options) && contains(previous.initContainers, proxyName) &&
			findContainer(templ.Spec.Containers, proxyName) != nil &&
			findContainer(templ.Spec.InitContainers, proxyName) == nil {
			if old := findContainer(merged.Spec.InitContainers, proxyName); old != nil {
				for _, e := range old.Env {
					if e.Name == envKubeAppProbers || e.Name == envPrometheusAnnotations {
						carried = append(carried, e)
					}
				}
			}
			merged.Spec.InitContainers = reorder(merged.Spec.InitContainers, proxyName, remove)
		}
		if ovPod != nil && mergeTyped(merged, ovPod, node) {
			continue
		}
		if patch == nil {
			if patch, err = parseOverlay(ov); err != nil {
				return nil, nil, fmt.Errorf("applying overlay %d: %w", i, err)
			}
		}
		merged, err = applyPatchMap(merged, patch)
		if err != nil {
			return nil, nil, fmt.Errorf("merging overlay %d into the pod: %w", i, err)
		}
	}
	if sidecar := findContainer(merged.Spec.Containers, proxyName); sidecar != nil {
		for _, e := range carried {
			if !hasEnv(sidecar.Env, e.Name) {
				sidecar.Env = append(sidecar.Env, e)
			}
		}
	}
	return merged, templ, nil
}

func hasEnv(env []corev1.EnvVar, name string) bool {
	for _, e := range env {
		if e.Name == name {
			return true
		}
	}
	return false
}

// nativeSidecars resolves the native sidecar setting for one pod: the pod
// annotation sidecar.istio.io/nativeSidecar, when exactly "true" or
// "false", wins over the process-wide setting.
func nativeSidecars(pod *corev1.Pod, o config.Options) bool {
	switch pod.Annotations[annotation.SidecarNativeSidecar.Name] {
	case "true":
		return true
	case "false":
		return false
	}
	return o.Native()
}

// applyYAMLPatch applies one rendered template (YAML) to target with a
// strategic merge patch driven by corev1.Pod's patch metadata. The result
// goes through JSON into a fresh Pod, as Istio does, so fields unknown to
// corev1.Pod are dropped and type errors are reported.
func applyYAMLPatch(target *corev1.Pod, overlay []byte) (*corev1.Pod, error) {
	patch, err := parseOverlay(overlay)
	if err != nil {
		return nil, err
	}
	return applyPatchMap(target, patch)
}

// parseOverlay reads a rendered template as a patch, with
// sigs.k8s.io/yaml as Istio does (directly when that reads the same).
func parseOverlay(overlay []byte) (map[string]any, error) {
	if patch, ok := parseOverlayDirect(overlay); ok {
		return patch, nil
	}
	var patch map[string]any
	if err := yaml.Unmarshal(overlay, &patch); err != nil {
		return nil, fmt.Errorf("overlay is not a YAML mapping: %w", err)
	}
	if patch == nil {
		patch = map[string]any{}
	}
	return patch, nil
}

// applyPatchMap applies a parsed overlay to target; the merge may modify
// patch.
func applyPatchMap(target *corev1.Pod, patch map[string]any) (*corev1.Pod, error) {
	original, err := podToMap(target)
	if err != nil {
		return nil, err
	}
	schema, err := strategicpatch.NewPatchMetaFromStruct(corev1.Pod{})
	if err != nil {
		return nil, fmt.Errorf("reading Pod patch metadata: %w", err)
	}
	result, err := strategicpatch.StrategicMergeMapPatchUsingLookupPatchMeta(original, patch, schema)
	if err != nil {
		return nil, fmt.Errorf("strategic merge: %w", err)
	}
	return podFromMap(result)
}

// applyJSONPatch applies a strategic merge patch given as JSON to target.
func applyJSONPatch(target *corev1.Pod, patch []byte) (*corev1.Pod, error) {
	current, err := json.Marshal(target)
	if err != nil {
		return nil, fmt.Errorf("encoding pod: %w", err)
	}
	out, err := strategicpatch.StrategicMergePatch(current, patch, corev1.Pod{})
	if err != nil {
		return nil, fmt.Errorf("strategic merge: %w", err)
	}
	var pod corev1.Pod
	if err := json.Unmarshal(out, &pod); err != nil {
		return nil, fmt.Errorf("decoding merged pod: %w", err)
	}
	return &pod, nil
}

// podToMap is json.Unmarshal(json.Marshal(pod)) into a map, directly
// when typedjson can tell the result.
func podToMap(pod *corev1.Pod) (map[string]any, error) {
	if m, ok := typedjson.ToModel(pod, typedjson.Float64); ok {
		if m, ok := m.(map[string]any); ok {
			return m, nil
		}
	}
	current, err := json.Marshal(pod)
	if err != nil {
		return nil, fmt.Errorf("encoding pod: %w", err)
	}
	var original map[string]any
	if err := json.Unmarshal(current, &original); err != nil {
		return nil, fmt.Errorf("decoding pod: %w", err)
	}
	return original, nil
}

// podFromMap is json.Unmarshal(json.Marshal(m)) into a Pod, directly
// when typedjson can do it exactly; otherwise, and for every error,
// through JSON text.
func podFromMap(m map[string]any) (*corev1.Pod, error) {
	if pod := new(corev1.Pod); typedjson.FromModel(m, pod) {
		return pod, nil
	}
	b, err := json.Marshal(m)
	if err != nil {
		return nil, fmt.Errorf("encoding merged pod: %w", err)
	}
	var pod corev1.Pod
	if err := json.Unmarshal(b, &pod); err != nil {
		return nil, fmt.Errorf("decoding merged pod: %w", err)
	}
	return &pod, nil
}

// userContainers is the JSON shape of the proxy.istio.io/overrides
// annotation: the user's own declarations of injected containers.
type userContainers struct {
	Containers     []corev1.Container `json:"containers,omitempty"`
	InitContainers []corev1.Container `json:"initContainers,omitempty"`
}

// reapplyUserContainers merges, for every container the templates
// injected, the user's own declaration of it (from a previous
// proxy.istio.io/overrides annotation, else from the original pod) back on
// top of the merged pod, so that the user's fields win. Containers that a
// previous injection added (listed in sidecar.istio.io/status) are not
// user declarations: for those only the recorded overrides count (Istio
// skips them altogether, so a re-injection loses the user's overrides and
// is not idempotent). On a first injection the overrides are recorded in
// proxy.istio.io/overrides for later re-injections.
func reapplyUserContainers(final, orig, templ *corev1.Pod, pc *meshconfig.ProxyConfig) (*corev1.Pod, error) {
	var existing userContainers
	if raw, ok := orig.Annotations[annotation.ProxyOverrides.Name]; ok {
		if err := json.Unmarshal([]byte(raw), &existing); err != nil {
			return nil, fmt.Errorf("reading annotation %s: %w", annotation.ProxyOverrides.Name, err)
		}
	}
	var previous injectedNames
	rawStatus, reinjected := orig.Annotations[annotation.SidecarStatus.Name]
	if reinjected {
		previous = parseStatusNames(rawStatus)
	}

	var recorded userContainers
	var err error
	for _, c := range templ.Spec.Containers {
		match := existing.find(c.Name)
		if match == nil && !contains(previous.containers, c.Name) {
			match = findContainer(orig.Spec.Containers, c.Name)
		}
		if match == nil {
			continue
		}
		overlay := userOverlay(match)
		recorded.Containers = append(recorded.Containers, overlay)
		if final, err = applyContainerPatch(final, overlay, false); err != nil {
			return nil, fmt.Errorf("container %s: %w", c.Name, err)
		}
	}
	for _, c := range templ.Spec.InitContainers {
		match := existing.find(c.Name)
		if match == nil && !contains(previous.initContainers, c.Name) {
			// The user may have declared it among the containers (native
			// sidecars): look in both lists.
			match = findInPod(orig, c.Name)
		}
		if match == nil {
			continue
		}
		overlay := userOverlay(match)
		recorded.InitContainers = append(recorded.InitContainers, overlay)
		if final, err = applyContainerPatch(final, overlay, true); err != nil {
			return nil, fmt.Errorf("init container %s: %w", c.Name, err)
		}
	}

	// Recorded on a first injection; on a re-injection the record is
	// rewritten only when there is one (native sidecars may have moved a
	// declaration from one list to the other): Istio records nothing for
	// a previous proxy it takes for the user's.
	_, hadOverrides := orig.Annotations[annotation.ProxyOverrides.Name]
	if (!reinjected || hadOverrides) && (len(recorded.Containers) > 0 || len(recorded.InitContainers) > 0) {
		b, err := json.Marshal(recorded)
		if err != nil {
			return nil, fmt.Errorf("encoding annotation %s: %w", annotation.ProxyOverrides.Name, err)
		}
		if final.Annotations == nil {
			final.Annotations = map[string]string{}
		}
		final.Annotations[annotation.ProxyOverrides.Name] = string(b)
	}

	adjustInitContainerUser(final, userProxy(orig, existing, previous), pc)
	return final, nil
}

// find returns the user's declaration of the container name, in either
// list: a switch of native sidecars moves istio-proxy between them.
func (u userContainers) find(name string) *corev1.Container {
	if c := findContainer(u.Containers, name); c != nil {
		return c
	}
	return findContainer(u.InitContainers, name)
}

// userOverlay copies a user's declaration; image "auto" becomes no image,
// so the merge keeps the injected one.
func userOverlay(c *corev1.Container) corev1.Container {
	out := *c.DeepCopy()
	if out.Image == autoImage {
		out.Image = ""
	}
	return out
}

// applyContainerPatch merges one container into the pod's containers (or
// init containers) by name.
func applyContainerPatch(target *corev1.Pod, c corev1.Container, init bool) (*corev1.Pod, error) {
	overlay := corev1.Pod{Spec: corev1.PodSpec{Containers: []corev1.Container{c}}}
	if init {
		// An empty, non-nil list: a null "containers" in the patch would
		// delete every container.
		overlay.Spec = corev1.PodSpec{Containers: []corev1.Container{}, InitContainers: []corev1.Container{c}}
	}
	b, err := json.Marshal(overlay)
	if err != nil {
		return nil, fmt.Errorf("encoding container: %w", err)
	}
	return applyJSONPatch(target, b)
}

// userProxy is the user's own declaration of istio-proxy: the recorded
// override, else the pod's istio-proxy unless a previous injection put it
// there (then it is not the user's, and re-injection must not take its
// user for the user's choice).
func userProxy(orig *corev1.Pod, existing userContainers, previous injectedNames) *corev1.Container {
	if c := findContainer(existing.Containers, proxyName); c != nil {
		return c
	}
	if c := findContainer(existing.InitContainers, proxyName); c != nil {
		return c
	}
	if contains(previous.containers, proxyName) || contains(previous.initContainers, proxyName) {
		return nil
	}
	return findInPod(orig, proxyName)
}

// adjustInitContainerUser keeps the traffic-redirection containers
// consistent with a user-declared istio-proxy (user) that sets runAsUser
// or runAsGroup: the validation container runs as the proxy user,
// iptables' "-u" owner follows it, and in TPROXY mode the proxy must run
// as root.
func adjustInitContainerUser(final *corev1.Pod, user *corev1.Container, pc *meshconfig.ProxyConfig) {
	if user == nil || user.SecurityContext == nil ||
		(user.SecurityContext.RunAsUser == nil && user.SecurityContext.RunAsGroup == nil) {
		return
	}
	var redirect *corev1.Container
	for _, name := range []string{initName, validationName} {
		if c := findContainer(final.Spec.InitContainers, name); c != nil {
			redirect = c
			break
		}
	}
	if redirect == nil {
		return
	}

	tproxy := pc.GetInterceptionMode() == meshconfig.ProxyConfig_TPROXY ||
		final.Annotations[annotation.SidecarInterceptionMode.Name] == "TPROXY"

	if tproxy && user.SecurityContext.RunAsUser != nil {
		if sidecar := findInPod(final, proxyName); sidecar != nil {
			if sidecar.SecurityContext == nil {
				sidecar.SecurityContext = &corev1.SecurityContext{}
			}
			root := int64(0)
			sidecar.SecurityContext.RunAsUser = &root
		}
	}

	if !tproxy && redirect.Name == validationName {
		if redirect.SecurityContext == nil {
			redirect.SecurityContext = &corev1.SecurityContext{}
		}
		if u := user.SecurityContext.RunAsUser; u != nil {
			v := *u
			redirect.SecurityContext.RunAsUser = &v
		}
		if g := user.SecurityContext.RunAsGroup; g != nil {
			v := *g
			redirect.SecurityContext.RunAsGroup = &v
		}
	}

	// iptables' --uid-owner must not be 0.
	if user.SecurityContext.RunAsUser == nil || *user.SecurityContext.RunAsUser == 0 {
		return
	}
	for i := 0; i+1 < len(redirect.Args); i++ {
		if redirect.Args[i] == "-u" {
			redirect.Args[i+1] = fmt.Sprintf("%d", *user.SecurityContext.RunAsUser)
			return
		}
	}
}

// resetOpenShiftProxyUser mirrors Istio's webhook on OpenShift: the
// platform gives every container the same runAsUser, so a user-declared
// istio-proxy whose user equals the application's has its user and group
// cleared and the template's values are kept. istioctl kube-inject does not
// do this.
func resetOpenShiftProxyUser(pod *corev1.Pod, p Params) {
	if !resetsOpenShiftProxyUser(p) {
		return
	}
	proxy := findInPod(pod, proxyName)
	if proxy == nil || proxy.SecurityContext == nil {
		return
	}
	if proxyUserMatchesApp(pod) {
		proxy.SecurityContext.RunAsUser = nil
		proxy.SecurityContext.RunAsGroup = nil
	}
}

// resetsOpenShiftProxyUser reports whether resetOpenShiftProxyUser may
// change a pod.
func resetsOpenShiftProxyUser(p Params) bool {
	return p.Options.Platform == openShift && !p.kubeInject()
}

// proxyUserMatchesApp compares the runAsUser of istio-proxy with that of
// the application containers (the last one set wins, unset counts as 0).
func proxyUserMatchesApp(pod *corev1.Pod) bool {
	var proxyUser, appUser int64
	all := append(append([]corev1.Container{}, pod.Spec.Containers...), pod.Spec.InitContainers...)
	for _, c := range all {
		if c.SecurityContext == nil || c.SecurityContext.RunAsUser == nil {
			continue
		}
		switch c.Name {
		case proxyName:
			proxyUser = *c.SecurityContext.RunAsUser
		case validationName, initName:
		default:
			appUser = *c.SecurityContext.RunAsUser
		}
	}
	return proxyUser == appUser
}
