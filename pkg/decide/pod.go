package decide

import (
	corev1 "k8s.io/api/core/v1"

	"github.com/inject-sidecar/inject-sidecar/pkg/podtemplate"
)

// PodOf builds the decision's view of a pod template found in a resource:
// the workload's kind, name and namespace from the target, labels,
// annotations, hostNetwork and the template's own namespace from the pod.
// Either may be nil.
func PodOf(t *podtemplate.Target, pod *corev1.Pod) Pod {
	var p Pod
	if t != nil {
		p.Kind, p.Name, p.Namespace = t.TypeMeta.Kind, t.Name, t.Namespace
	}
	if pod != nil {
		p.TemplateNamespace = pod.Namespace
		p.Labels, p.Annotations = pod.Labels, pod.Annotations
		p.HostNetwork = pod.Spec.HostNetwork
	}
	return p
}
