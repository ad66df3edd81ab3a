package writeback

import (
	corev1 "k8s.io/api/core/v1"

	"github.com/inject-sidecar/inject-sidecar/pkg/podtemplate"
)

// For the tests of package writeback_test, which may use benchstages.
var (
	Differential = differential
	MutatePod    = mutatePod
	AgreeOn      = agreeOn
)

// PodModel is Pod reading values in the JSON data model only.
func PodModel(t *podtemplate.Target, before, after *corev1.Pod) (bool, error) {
	return podWith(t, before, after, false)
}
