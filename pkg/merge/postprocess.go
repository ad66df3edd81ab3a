package merge

import (
	"fmt"
	"sort"
	"strconv"
	"strings"

	"istio.io/api/annotation"
	"istio.io/api/label"
	corev1 "k8s.io/api/core/v1"
)

// Proxy environment variables set from the cluster/network settings.
const (
	envClusterID = "ISTIO_META_CLUSTER_ID"
	envNetwork   = "ISTIO_META_NETWORK"

	// envSecureMergedMetricsPort enables the agent's mTLS merged-metrics
	// listener; the injector advertises it in annoSecurePort.
	envSecureMergedMetricsPort = "ENVOY_SECURE_MERGED_METRICS_PORT"
	annoSecurePort             = "prometheus.istio.io/secure-port"
)

// postProcess applies, in Istio's order, the transformations that templates
// cannot express. orig is the pod before injection, templ what the
// templates alone produced.
func postProcess(pod, orig, templ *corev1.Pod, p Params) error {
	if pod.Annotations == nil {
		pod.Annotations = map[string]string{}
	}
	if pod.Labels == nil {
		pod.Labels = map[string]string{}
	}

	envs := clusterEnvs(orig, p)
	moveClusterEnvs(pod, envs)

	if err := applyPrometheusMerge(pod, p); err != nil {
		return err
	}
	applySecureMetricsPort(pod)

	if err := rewriteAppProbes(pod, p); err != nil {
		return err
	}

	if err := applyMetadata(pod, templ, envs, p); err != nil {
		return stepError("metadata", err)
	}

	reorderContainers(pod, p)
	return nil
}

// clusterEnvs returns the cluster and network the proxy must report: the
// cluster from values global.multiCluster.clusterName, the network from
// values global.network unless the pod carries a topology.istio.io/network
// label (even an empty one). Empty settings are left out.
func clusterEnvs(orig *corev1.Pod, p Params) map[string]string {
	values := p.Injector.Values
	cluster := valueString(values, "global", "multiCluster", "clusterName")
	network := valueString(values, "global", "network")
	if n, ok := orig.Labels[label.TopologyNetwork.Name]; ok {
		network = n
	}
	envs := map[string]string{}
	if cluster != "" {
		envs[envClusterID] = cluster
	}
	if network != "" {
		envs[envNetwork] = network
	}
	return envs
}

// moveClusterEnvs replaces the proxy's cluster/network variables by plain
// values appended at the end, in name order, whatever the template set.
// On a re-injection the variables later post-processing appends
// (ISTIO_PROMETHEUS_ANNOTATIONS, ISTIO_KUBE_APP_PROBERS) are already
// there: the cluster variables go before them, where a first injection
// put them, so that re-injection gives the same order.
func moveClusterEnvs(pod *corev1.Pod, envs map[string]string) {
	sidecar := findInPod(pod, proxyName)
	if sidecar == nil || len(envs) == 0 {
		return
	}
	kept := make([]corev1.EnvVar, 0, len(sidecar.Env)+len(envs))
	for _, e := range sidecar.Env {
		if _, replaced := envs[e.Name]; !replaced {
			kept = append(kept, e)
		}
	}
	at := len(kept)
	for i, e := range kept {
		if e.Name == envPrometheusAnnotations || e.Name == envKubeAppProbers {
			at = i
			break
		}
	}
	names := make([]string, 0, len(envs))
	for n := range envs {
		names = append(names, n)
	}
	sort.Strings(names)
	moved := make([]corev1.EnvVar, 0, len(names))
	for _, n := range names {
		moved = append(moved, corev1.EnvVar{Name: n, Value: envs[n]})
	}
	sidecar.Env = append(append(kept[:at:at], moved...), kept[at:]...)
}

// applySecureMetricsPort advertises the agent's mTLS merged-metrics port:
// when istio-proxy sets ENVOY_SECURE_MERGED_METRICS_PORT (typically from
// proxyMetadata), the pod gets prometheus.istio.io/secure-port with it.
func applySecureMetricsPort(pod *corev1.Pod) {
	sidecar := findInPod(pod, proxyName)
	if sidecar == nil {
		return
	}
	port := ""
	for _, e := range sidecar.Env {
		if e.Name == envSecureMergedMetricsPort && e.ValueFrom == nil {
			port = strings.TrimSpace(e.Value)
		}
	}
	if n, err := strconv.Atoi(port); err == nil && n > 0 && n <= 65535 {
		pod.Annotations[annoSecurePort] = strconv.Itoa(n)
	}
}

// applyMetadata sets the network label, the status annotation and, in
// webhook mode, the injector's injectedAnnotations (istioctl kube-inject
// does not add those).
func applyMetadata(pod, templ *corev1.Pod, envs map[string]string, p Params) error {
	if nw, ok := envs[envNetwork]; ok {
		pod.Labels[label.TopologyNetwork.Name] = nw
	}
	status, err := statusAnnotation(templ.Spec, p.Injector.Revision)
	if err != nil {
		return err
	}
	pod.Annotations[annotation.SidecarStatus.Name] = status
	if !p.kubeInject() {
		for k, v := range p.Injector.InjectedAnnotations {
			pod.Annotations[k] = v
		}
	}
	return nil
}

// reorderContainers puts the proxy last among the containers, so that
// kubectl exec/logs default to the application, or first when the
// application must wait for it (holdApplicationUntilProxyStarts, from the
// effective ProxyConfig or values global.proxy). Init containers:
//   - native sidecars (istio-proxy is an init container): istio-init,
//     istio-validation, istio-proxy, enable-core-dump, then the user's, so
//     that the user's init containers run inside the mesh;
//   - otherwise: istio-validation first (it must block everything),
//     istio-init then enable-core-dump last, so that the user's init
//     containers run before traffic is redirected.
func reorderContainers(pod *corev1.Pod, p Params) {
	hold := p.proxyConfig().GetHoldApplicationUntilProxyStarts().GetValue() ||
		valueBool(p.Injector.Values, "global", "proxy", "holdApplicationUntilProxyStarts")
	where := moveLast
	if hold {
		where = moveFirst
	}
	pod.Spec.Containers = reorder(pod.Spec.Containers, proxyName, where)

	ic := pod.Spec.InitContainers
	if findContainer(ic, proxyName) != nil {
		ic = reorder(ic, coreDumpName, moveFirst)
		ic = reorder(ic, proxyName, moveFirst)
		ic = reorder(ic, validationName, moveFirst)
		ic = reorder(ic, initName, moveFirst)
	} else {
		ic = reorder(ic, validationName, moveFirst)
		ic = reorder(ic, initName, moveLast)
		ic = reorder(ic, coreDumpName, moveLast)
	}
	pod.Spec.InitContainers = ic
}

// stepError wraps errors of one post-processing step with its name.
func stepError(step string, err error) error {
	return fmt.Errorf("%s: %w", step, err)
}
