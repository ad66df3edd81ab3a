package render

import (
	"fmt"
	"strings"

	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/types"
)

// defaultProxyID is the UID and GID istio-proxy runs as.
const defaultProxyID int64 = 1337

// OpenShift namespace annotations with the preallocated ID ranges.
const (
	openShiftUIDRange           = "openshift.io/sa.scc.uid-range"
	openShiftSupplementalGroups = "openshift.io/sa.scc.supplemental-groups"
)

// openShiftProxyIDs picks the proxy IDs from an OpenShift namespace's
// annotations as Istio does: the UID is the top of the uid-range; the GID the
// top of the first supplemental-groups block (falling back to the uid-range
// annotation). Anything missing or unparsable keeps 1337.
func openShiftProxyIDs(nsAnnotations map[string]string) (uid, gid int64) {
	uid, gid = defaultProxyID, defaultProxyID
	if v := nsAnnotations[openShiftUIDRange]; v != "" {
		if b, err := parseIDBlock(v); err == nil {
			uid = int64(b.end)
		}
	}
	groups, ok := nsAnnotations[openShiftSupplementalGroups]
	if !ok {
		groups = nsAnnotations[openShiftUIDRange]
	}
	if groups != "" {
		// Every block must parse, as in OpenShift's own matcher; the first one counts.
		var first *idBlock
		for i, segment := range strings.Split(groups, ",") {
			b, err := parseIDBlock(segment)
			if err != nil {
				first = nil
				break
			}
			if i == 0 {
				first = &b
			}
		}
		if first != nil {
			gid = int64(first.end)
		}
	}
	return uid, gid
}

// idBlock is an inclusive range of IDs.
type idBlock struct{ start, end uint32 }

// parseIDBlock reads "start/size" or "start-end" with fmt's number rules,
// like OpenShift's library does (so "5/0" wraps, as there).
func parseIDBlock(s string) (idBlock, error) {
	var a, b uint32
	if strings.Contains(s, "/") {
		if _, err := fmt.Sscanf(s, "%d/%d", &a, &b); err != nil {
			return idBlock{}, fmt.Errorf("parsing ID block %q: %w", s, err)
		}
		return idBlock{start: a, end: a + b - 1}, nil
	}
	if _, err := fmt.Sscanf(s, "%d-%d", &a, &b); err != nil {
		return idBlock{}, fmt.Errorf("parsing ID block %q: %w", s, err)
	}
	return idBlock{start: a, end: b}, nil
}

// workloadIdentity is what templates get as .TypeMeta and .DeploymentMeta:
// the workload's own for a workload; for a bare Pod, Istio's guess from the
// pod's controller (a ReplicaSet with the pod-template-hash becomes its
// Deployment, a Job with a timestamp suffix its CronJob, ...), since that is
// what the webhook sees for pods of every kind.
func workloadIdentity(pod *corev1.Pod, w Workload) (metav1.TypeMeta, types.NamespacedName) {
	if w.TypeMeta.Kind != "Pod" {
		return w.TypeMeta, types.NamespacedName{Name: w.Name, Namespace: w.Namespace}
	}
	meta := types.NamespacedName{Name: pod.Name, Namespace: pod.Namespace}
	if meta.Name == "" {
		meta.Name = w.Name
	}
	if meta.Namespace == "" {
		meta.Namespace = w.Namespace
	}
	typeMeta := metav1.TypeMeta{APIVersion: "v1", Kind: "Pod"}
	if pod.GenerateName == "" {
		return typeMeta, meta
	}
	var owner *metav1.OwnerReference
	for i := range pod.OwnerReferences {
		if c := pod.OwnerReferences[i].Controller; c != nil && *c {
			owner = &pod.OwnerReferences[i]
			break
		}
	}
	if owner == nil {
		return typeMeta, meta
	}
	typeMeta = metav1.TypeMeta{APIVersion: owner.APIVersion, Kind: owner.Kind}
	meta.Name = owner.Name
	hash := pod.Labels["pod-template-hash"]
	rolloutHash := pod.Labels["rollouts-pod-template-hash"]
	switch {
	case owner.Kind == "ReplicaSet" && hash != "" && strings.HasSuffix(owner.Name, hash):
		meta.Name = strings.TrimSuffix(owner.Name, "-"+hash)
		typeMeta.Kind = "Deployment"
	case owner.Kind == "ReplicaSet" && rolloutHash != "" && strings.HasSuffix(owner.Name, rolloutHash):
		meta.Name = strings.TrimSuffix(owner.Name, "-"+rolloutHash)
		typeMeta = metav1.TypeMeta{APIVersion: "v1alpha1", Kind: "Rollout"}
	case owner.Kind == "ReplicationController" && pod.Labels["deploymentconfig"] != "":
		meta.Name = pod.Labels["deploymentconfig"]
		typeMeta.Kind = "DeploymentConfig"
	case owner.Kind == "Job":
		if name, ok := cronJobName(owner.Name); ok {
			meta.Name = name
			typeMeta = metav1.TypeMeta{APIVersion: "batch/v1", Kind: "CronJob"}
		}
	}
	if meta.Name == "" {
		meta.Name = pod.Name
	}
	return typeMeta, meta
}

// cronJobName recognises a Job created by a CronJob, "<cronjob>-<8 to 10
// digits>", and returns the CronJob's name.
func cronJobName(job string) (string, bool) {
	i := strings.LastIndexByte(job, '-')
	if i < 1 {
		return "", false
	}
	prefix, digits := job[:i], job[i+1:]
	if len(digits) < 8 || len(digits) > 10 || strings.ContainsRune(prefix, '\n') {
		return "", false
	}
	for _, c := range digits {
		if c < '0' || c > '9' {
			return "", false
		}
	}
	return prefix, true
}
