package merge

import (
	corev1 "k8s.io/api/core/v1"
)

// findContainer returns a pointer into cs to the first container named name.
func findContainer(cs []corev1.Container, name string) *corev1.Container {
	for i := range cs {
		if cs[i].Name == name {
			return &cs[i]
		}
	}
	return nil
}

// findInPod looks among the containers first, then the init containers,
// which is where istio-proxy may be with native sidecars.
func findInPod(pod *corev1.Pod, name string) *corev1.Container {
	if c := findContainer(pod.Spec.Containers, name); c != nil {
		return c
	}
	return findContainer(pod.Spec.InitContainers, name)
}

func contains(names []string, name string) bool {
	for _, n := range names {
		if n == name {
			return true
		}
	}
	return false
}

// placement says where reorder puts a container.
type placement int

const (
	moveFirst placement = iota
	moveLast
	remove
)

// reorder drops every container named name from cs and, unless removing,
// puts one back first or last. Like Istio, the last duplicate is the one
// kept. A new slice is returned; cs is not modified.
func reorder(cs []corev1.Container, name string, where placement) []corev1.Container {
	out := make([]corev1.Container, 0, len(cs))
	var match *corev1.Container
	for i := range cs {
		if cs[i].Name == name {
			match = &cs[i]
			continue
		}
		out = append(out, cs[i])
	}
	if match == nil {
		// Keep nil lists nil so that they serialize as absent.
		if cs == nil {
			return nil
		}
		return out
	}
	switch where {
	case moveFirst:
		return append([]corev1.Container{*match}, out...)
	case moveLast:
		return append(out, *match)
	default:
		return out
	}
}

// moveContainer moves the first container named name from "from" to the
// end of "to".
func moveContainer(from, to []corev1.Container, name string) ([]corev1.Container, []corev1.Container) {
	for i := range from {
		if from[i].Name != name {
			continue
		}
		c := from[i]
		rest := append(append([]corev1.Container{}, from[:i]...), from[i+1:]...)
		return rest, append(to, c)
	}
	return from, to
}
