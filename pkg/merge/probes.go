package merge

import (
	"encoding/json"
	"fmt"
	"strconv"
	"strings"

	"istio.io/api/annotation"
	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/util/intstr"
)

// envKubeAppProbers carries the application's original probes to the
// agent, which performs them when the kubelet calls the rewritten ones.
const envKubeAppProbers = "ISTIO_KUBE_APP_PROBERS"

// prober is one entry of ISTIO_KUBE_APP_PROBERS; the JSON shape (key names,
// omitempty, field order) is the agent's.
type prober struct {
	HTTPGet        *corev1.HTTPGetAction   `json:"httpGet,omitempty"`
	TCPSocket      *corev1.TCPSocketAction `json:"tcpSocket,omitempty"`
	GRPC           *corev1.GRPCAction      `json:"grpc,omitempty"`
	TimeoutSeconds int32                   `json:"timeoutSeconds,omitempty"`
}

// proberURLs are the agent paths that take over one container's probes
// and lifecycle hooks.
type proberURLs struct {
	readyz, livez, startupz, prestopz, poststartz string
}

func urlsFor(container string) proberURLs {
	return proberURLs{
		readyz:     "/app-health/" + container + "/readyz",
		livez:      "/app-health/" + container + "/livez",
		startupz:   "/app-health/" + container + "/startupz",
		prestopz:   "/app-lifecycle/" + container + "/prestopz",
		poststartz: "/app-lifecycle/" + container + "/poststartz",
	}
}

// rewriteAppProbes makes the kubelet probe the application through the
// agent: with mTLS the kubelet could not reach it directly. HTTP, TCP and
// gRPC probes and HTTP/TCP lifecycle hooks of every container except the
// proxy become HTTP GETs on the status port; the originals are recorded in
// ISTIO_KUBE_APP_PROBERS on the proxy. Enabled by
// sidecar.istio.io/rewriteAppHTTPProbers when it is a valid bool, else by
// values sidecarInjectorWebhook.rewriteAppHTTPProbe.
func rewriteAppProbes(pod *corev1.Pod, p Params) error {
	sidecar := findInPod(pod, proxyName)
	if sidecar == nil {
		return nil
	}
	rewrite := valueBool(p.Injector.Values, "sidecarInjectorWebhook", "rewriteAppHTTPProbe")
	if v, ok := pod.Annotations[annotation.SidecarRewriteAppHTTPProbers.Name]; ok {
		if b, err := strconv.ParseBool(v); err == nil {
			rewrite = b
		}
	}
	if !rewrite {
		return nil
	}

	probers, err := dumpAppProbers(pod)
	if err != nil {
		return stepError("probe rewrite", err)
	}
	if probers != "" {
		_, reinjected := pod.Annotations[annotation.SidecarStatus.Name]
		sidecar.Env = mergeOrAppendProbers(reinjected, sidecar.Env, probers)
	}

	port := int(p.statusPort())
	if v, ok := pod.Annotations[annotation.SidecarStatusPort.Name]; ok {
		n, err := strconv.Atoi(v)
		if err != nil {
			return stepError("probe rewrite", fmt.Errorf("annotation %s=%q is not a port number", annotation.SidecarStatusPort.Name, v))
		}
		port = n
	}
	ports := inboundPortFilter(pod.Annotations)
	for i := range pod.Spec.Containers {
		if pod.Spec.Containers[i].Name != proxyName {
			rewriteContainer(&pod.Spec.Containers[i], port, ports)
		}
	}
	for i := range pod.Spec.InitContainers {
		if pod.Spec.InitContainers[i].Name != proxyName {
			rewriteContainer(&pod.Spec.InitContainers[i], port, ports)
		}
	}
	return nil
}

// dumpAppProbers returns the JSON of every probe and lifecycle hook the
// agent must take over ("" when there is none). Named ports are resolved
// to numbers, in the pod itself too: the rewrite that follows filters on
// the numeric port, as Istio's does after this same in-place resolution.
// Probes on ports the inbound port annotations exclude are skipped.
func dumpAppProbers(pod *corev1.Pod) (string, error) {
	ports := inboundPortFilter(pod.Annotations)
	out := map[string]*prober{}
	add := func(key string, pr *prober, container string) {
		if pr = resolveProber(pod, pr, ports, container); pr != nil {
			out[key] = pr
		}
	}
	all := append(append([]corev1.Container{}, pod.Spec.InitContainers...), pod.Spec.Containers...)
	for _, c := range all {
		if c.Name == proxyName {
			continue
		}
		u := urlsFor(c.Name)
		add(u.readyz, proberOf(c.ReadinessProbe), c.Name)
		add(u.livez, proberOf(c.LivenessProbe), c.Name)
		add(u.startupz, proberOf(c.StartupProbe), c.Name)
		if c.Lifecycle != nil {
			add(u.prestopz, hookProberOf(c.Lifecycle.PreStop), c.Name)
			add(u.poststartz, hookProberOf(c.Lifecycle.PostStart), c.Name)
		}
	}
	if len(out) == 0 {
		return "", nil
	}
	b, err := json.Marshal(out)
	if err != nil {
		return "", fmt.Errorf("encoding %s: %w", envKubeAppProbers, err)
	}
	return string(b), nil
}

// proberOf shares the probe's action with the pod (no copy), so that
// resolving a named port updates the pod as well.
func proberOf(p *corev1.Probe) *prober {
	switch {
	case p == nil:
		return nil
	case p.HTTPGet != nil:
		return &prober{HTTPGet: p.HTTPGet, TimeoutSeconds: p.TimeoutSeconds}
	case p.TCPSocket != nil:
		return &prober{TCPSocket: p.TCPSocket, TimeoutSeconds: p.TimeoutSeconds}
	case p.GRPC != nil:
		return &prober{GRPC: p.GRPC, TimeoutSeconds: p.TimeoutSeconds}
	}
	return nil
}

func hookProberOf(h *corev1.LifecycleHandler) *prober {
	switch {
	case h == nil:
		return nil
	case h.HTTPGet != nil:
		return &prober{HTTPGet: h.HTTPGet}
	case h.TCPSocket != nil:
		return &prober{TCPSocket: h.TCPSocket}
	}
	return nil
}

// resolveProber turns a named port into its number (looking in the
// container's own ports, else parsing the name as a number) and drops
// probers whose port is filtered out or cannot be resolved.
func resolveProber(pod *corev1.Pod, pr *prober, ports map[int32]bool, container string) *prober {
	if pr == nil {
		return nil
	}
	if pr.GRPC != nil {
		if !portIncluded(pr.GRPC.Port, ports) {
			return nil
		}
		return pr
	}
	var port *intstr.IntOrString
	switch {
	case pr.HTTPGet != nil:
		port = &pr.HTTPGet.Port
	case pr.TCPSocket != nil:
		port = &pr.TCPSocket.Port
	default:
		return nil
	}
	switch port.Type {
	case intstr.String:
		n, ok := namedPort(pod, container, port.StrVal)
		if !ok || !portIncluded(n, ports) {
			return nil
		}
		*port = intstr.FromInt32(n)
	case intstr.Int:
		if !portIncluded(port.IntVal, ports) {
			return nil
		}
	}
	return pr
}

// namedPort resolves a port name among the container's ports; a name that
// is a number stands for itself.
func namedPort(pod *corev1.Pod, container, name string) (int32, bool) {
	if n := lookupNamedPort(pod, container, name); n > 0 {
		return n, true
	}
	n, err := strconv.ParseInt(name, 10, 32)
	if err != nil {
		return 0, false
	}
	return int32(n), true
}

// lookupNamedPort returns the number of the first port called name of the
// container (checked among containers, then init containers), 0 if none.
func lookupNamedPort(pod *corev1.Pod, container, name string) int32 {
	for _, list := range [][]corev1.Container{pod.Spec.Containers, pod.Spec.InitContainers} {
		c := findContainer(list, container)
		if c == nil {
			continue
		}
		for _, p := range c.Ports {
			if p.Name == name {
				return p.ContainerPort
			}
		}
	}
	return 0
}

// mergeOrAppendProbers adds the probers variable to the proxy. When the pod
// was injected before, an existing variable is merged instead, its entries
// winning: they hold the original probes, while the pod's probes were
// rewritten by that previous injection.
func mergeOrAppendProbers(reinjected bool, env []corev1.EnvVar, probers string) []corev1.EnvVar {
	if !reinjected {
		return append(env, corev1.EnvVar{Name: envKubeAppProbers, Value: probers})
	}
	for i, e := range env {
		if e.Name != envKubeAppProbers {
			continue
		}
		var existing, fresh map[string]*prober
		if err := json.Unmarshal([]byte(e.Value), &existing); err != nil {
			// Istio keeps the variable as it is when it cannot read it.
			return env
		}
		if err := json.Unmarshal([]byte(probers), &fresh); err != nil {
			return env
		}
		if fresh == nil {
			fresh = map[string]*prober{}
		}
		for k, v := range existing {
			fresh[k] = v
		}
		b, err := json.Marshal(fresh)
		if err != nil {
			return env
		}
		env[i] = corev1.EnvVar{Name: envKubeAppProbers, Value: string(b)}
		return env
	}
	return append(env, corev1.EnvVar{Name: envKubeAppProbers, Value: probers})
}

// rewriteContainer points the container's probes and hooks at the agent.
func rewriteContainer(c *corev1.Container, statusPort int, ports map[int32]bool) {
	u := urlsFor(c.Name)
	if c.ReadinessProbe != nil && portIncluded(probePort(c.ReadinessProbe), ports) {
		if p := agentProbe(c.ReadinessProbe, u.readyz, statusPort); p != nil {
			c.ReadinessProbe = p
		}
	}
	if c.LivenessProbe != nil && portIncluded(probePort(c.LivenessProbe), ports) {
		if p := agentProbe(c.LivenessProbe, u.livez, statusPort); p != nil {
			c.LivenessProbe = p
		}
	}
	if c.StartupProbe != nil && portIncluded(probePort(c.StartupProbe), ports) {
		if p := agentProbe(c.StartupProbe, u.startupz, statusPort); p != nil {
			c.StartupProbe = p
		}
	}
	if c.Lifecycle == nil {
		return
	}
	lc := c.Lifecycle.DeepCopy()
	if lc.PreStop != nil && portIncluded(hookPort(lc.PreStop), ports) {
		if h := agentHook(lc.PreStop, u.prestopz, statusPort); h != nil {
			lc.PreStop = h
		}
	}
	if lc.PostStart != nil && portIncluded(hookPort(lc.PostStart), ports) {
		if h := agentHook(lc.PostStart, u.poststartz, statusPort); h != nil {
			lc.PostStart = h
		}
	}
	c.Lifecycle = lc
}

// probePort is the numeric port a probe targets (0 for an unresolved name).
func probePort(p *corev1.Probe) int32 {
	switch {
	case p.HTTPGet != nil:
		return p.HTTPGet.Port.IntVal
	case p.TCPSocket != nil:
		return p.TCPSocket.Port.IntVal
	case p.GRPC != nil:
		return p.GRPC.Port
	}
	return 0
}

func hookPort(h *corev1.LifecycleHandler) int32 {
	switch {
	case h.HTTPGet != nil:
		return h.HTTPGet.Port.IntVal
	case h.TCPSocket != nil:
		return h.TCPSocket.Port.IntVal
	}
	return 0
}

// agentProbe returns the probe as an HTTP GET on the agent, keeping its
// timings and thresholds (nil for probes the agent cannot take over).
func agentProbe(p *corev1.Probe, path string, statusPort int) *corev1.Probe {
	switch {
	case p.HTTPGet != nil:
		out := p.DeepCopy()
		pointAtAgent(out.HTTPGet, path, statusPort)
		return out
	case p.TCPSocket != nil, p.GRPC != nil:
		// The agent performs the TCP connect or the gRPC health check.
		out := p.DeepCopy()
		out.TCPSocket, out.GRPC = nil, nil
		out.HTTPGet = &corev1.HTTPGetAction{}
		pointAtAgent(out.HTTPGet, path, statusPort)
		return out
	}
	return nil
}

func agentHook(h *corev1.LifecycleHandler, path string, statusPort int) *corev1.LifecycleHandler {
	switch {
	case h.HTTPGet != nil:
		out := h.DeepCopy()
		pointAtAgent(out.HTTPGet, path, statusPort)
		return out
	case h.TCPSocket != nil:
		out := h.DeepCopy()
		out.TCPSocket = nil
		out.HTTPGet = &corev1.HTTPGetAction{}
		pointAtAgent(out.HTTPGet, path, statusPort)
		return out
	}
	return nil
}

// pointAtAgent keeps host and headers. HTTPS becomes HTTP: the kubelet
// talks plain HTTP to the agent, which uses HTTPS towards the application.
func pointAtAgent(a *corev1.HTTPGetAction, path string, statusPort int) {
	a.Port = intstr.FromInt32(int32(statusPort))
	a.Path = path
	if a.Scheme == corev1.URISchemeHTTPS {
		a.Scheme = corev1.URISchemeHTTP
	}
}

// inboundPortFilter reads traffic.sidecar.istio.io/includeInboundPorts and
// excludeInboundPorts into a port filter: true for included, false for
// excluded ports; empty means every port. An include list other than "*"
// overrides the exclude list.
func inboundPortFilter(annotations map[string]string) map[int32]bool {
	ports := map[int32]bool{}
	include := annotations[annotation.SidecarTrafficIncludeInboundPorts.Name]
	exclude := annotations[annotation.SidecarTrafficExcludeInboundPorts.Name]
	if include != "" && include != "*" {
		for _, s := range strings.Split(include, ",") {
			if n := portNumber(s); n != 0 {
				ports[n] = true
			}
		}
		return ports
	}
	if exclude != "" {
		for _, s := range strings.Split(exclude, ",") {
			if n := portNumber(s); n != 0 {
				ports[n] = false
			}
		}
	}
	return ports
}

// portNumber parses one entry of a port list; 0 when it is not a number.
func portNumber(s string) int32 {
	n, err := strconv.ParseInt(strings.TrimSpace(s), 10, 32)
	if err != nil {
		return 0
	}
	return int32(n)
}

// portIncluded: an explicitly listed port follows its flag; an unlisted
// one is included unless some port was explicitly included.
func portIncluded(port int32, ports map[int32]bool) bool {
	if included, listed := ports[port]; listed {
		return included
	}
	for _, included := range ports {
		if included {
			return false
		}
	}
	return true
}
