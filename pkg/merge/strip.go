package merge

import (
	"encoding/json"
	"errors"
	"fmt"
	"strconv"

	"istio.io/api/annotation"
	corev1 "k8s.io/api/core/v1"
)

// injectionStatus is the JSON of the sidecar.istio.io/status annotation.
// Field order and the absence of omitempty matter: Istio writes null for
// empty lists, and the goldens expect exactly that.
type injectionStatus struct {
	InitContainers   []string `json:"initContainers"`
	Containers       []string `json:"containers"`
	Volumes          []string `json:"volumes"`
	ImagePullSecrets []string `json:"imagePullSecrets"`
	Revision         string   `json:"revision"`
}

// Strip returns a copy of pod as the injection templates must see it when
// the pod was injected before (it carries sidecar.istio.io/status):
//   - the containers and init containers listed in the status are removed
//     (volumes and image pull secrets are not: Istio keeps them, and the
//     overlays merge them by name again);
//   - the prometheus.io/{scrape,port,path} annotations are removed when the
//     port is the agent's status port, i.e. when a previous Prometheus merge
//     set them;
//   - the status annotation is removed.
//
// A status annotation that is not valid JSON is ignored, as Istio does.
// The user's own container declarations recorded in
// proxy.istio.io/overrides are then put back when missing, so that
// templates see the same pod as on the first injection. On OpenShift (in
// webhook mode) the user's istio-proxy runAsUser is reset as Apply does.
//
// p is used for the status port and the platform; its ProxyConfig may be
// nil (the mesh defaultConfig is then used).
func Strip(pod *corev1.Pod, p Params) (*corev1.Pod, error) {
	if pod == nil {
		return nil, errors.New("merge: strip: no pod given")
	}
	out := pod.DeepCopy()
	resetOpenShiftProxyUser(out, p)

	if status, ok := previousStatus(out); ok {
		for _, name := range status.Containers {
			out.Spec.Containers = reorder(out.Spec.Containers, name, remove)
		}
		for _, name := range status.InitContainers {
			out.Spec.InitContainers = reorder(out.Spec.InitContainers, name, remove)
		}
		target := strconv.Itoa(int(p.statusPort()))
		if cur, found := prometheusAnnotation(out.Annotations, promPort); found && cur == target {
			clearPrometheusAnnotations(out.Annotations)
		}
		delete(out.Annotations, annotation.SidecarStatus.Name)
	}

	if err := reinsertUserContainers(out); err != nil {
		return nil, fmt.Errorf("merge: strip: %w", err)
	}
	return out, nil
}

// previousStatus parses the status annotation strictly (as a struct), the
// way Istio decides whether to strip: any decoding error means "not
// injected before".
func previousStatus(pod *corev1.Pod) (injectionStatus, bool) {
	raw, ok := pod.Annotations[annotation.SidecarStatus.Name]
	if !ok {
		return injectionStatus{}, false
	}
	var s injectionStatus
	if err := json.Unmarshal([]byte(raw), &s); err != nil {
		return injectionStatus{}, false
	}
	return s, true
}

// injectedNames are the container names a previous injection listed.
type injectedNames struct {
	containers, initContainers []string
}

// parseStatusNames reads the container lists of a status annotation
// leniently (entries that are not strings are skipped), as the user
// override logic only needs the names. Invalid JSON yields no names.
func parseStatusNames(raw string) injectedNames {
	var m map[string]any
	if err := json.Unmarshal([]byte(raw), &m); err != nil {
		return injectedNames{}
	}
	names := func(key string) []string {
		list, _ := m[key].([]any)
		var out []string
		for _, v := range list {
			if s, ok := v.(string); ok {
				out = append(out, s)
			}
		}
		return out
	}
	return injectedNames{containers: names("containers"), initContainers: names("initContainers")}
}

// reinsertUserContainers appends the containers recorded in
// proxy.istio.io/overrides that the pod no longer has (stripping removed
// them because they were also injected).
func reinsertUserContainers(pod *corev1.Pod) error {
	raw, ok := pod.Annotations[annotation.ProxyOverrides.Name]
	if !ok {
		return nil
	}
	var existing userContainers
	if err := json.Unmarshal([]byte(raw), &existing); err != nil {
		return fmt.Errorf("reading annotation %s: %w", annotation.ProxyOverrides.Name, err)
	}
	for _, c := range existing.Containers {
		if findContainer(pod.Spec.Containers, c.Name) == nil {
			pod.Spec.Containers = append(pod.Spec.Containers, c)
		}
	}
	for _, c := range existing.InitContainers {
		if findContainer(pod.Spec.InitContainers, c.Name) == nil {
			pod.Spec.InitContainers = append(pod.Spec.InitContainers, c)
		}
	}
	return nil
}

// statusAnnotation renders sidecar.istio.io/status for what the templates
// injected (the template-only pod), not for the merged pod.
func statusAnnotation(injected corev1.PodSpec, revision string) (string, error) {
	var s injectionStatus
	for _, c := range injected.InitContainers {
		s.InitContainers = append(s.InitContainers, c.Name)
	}
	for _, c := range injected.Containers {
		s.Containers = append(s.Containers, c.Name)
	}
	for _, v := range injected.Volumes {
		s.Volumes = append(s.Volumes, v.Name)
	}
	for _, ref := range injected.ImagePullSecrets {
		s.ImagePullSecrets = append(s.ImagePullSecrets, ref.Name)
	}
	// The revision goes here rather than in an istio.io/rev label, which
	// would clobber a revision tag the user set.
	if revision == "" {
		revision = "default"
	}
	s.Revision = revision
	b, err := json.Marshal(s)
	if err != nil {
		return "", fmt.Errorf("encoding annotation %s: %w", annotation.SidecarStatus.Name, err)
	}
	return string(b), nil
}
