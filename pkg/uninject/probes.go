package uninject

import (
	"encoding/json"
	"fmt"

	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/util/intstr"
)

// prober is one entry of ISTIO_KUBE_APP_PROBERS: the application's own
// probe or hook action, which the agent performs when the kubelet calls
// the rewritten one.
type prober struct {
	HTTPGet        *corev1.HTTPGetAction   `json:"httpGet,omitempty"`
	TCPSocket      *corev1.TCPSocketAction `json:"tcpSocket,omitempty"`
	GRPC           *corev1.GRPCAction      `json:"grpc,omitempty"`
	TimeoutSeconds int32                   `json:"timeoutSeconds,omitempty"`
}

// envValue is the literal value of the variable name in env.
func envValue(env []corev1.EnvVar, name string) (string, bool) {
	for _, e := range env {
		if e.Name == name && e.ValueFrom == nil {
			return e.Value, true
		}
	}
	return "", false
}

// restoreProbes gives back the probes and lifecycle hooks that injection
// pointed at the agent (an HTTP GET on /app-health/<container>/<probe> or
// /app-lifecycle/<container>/<hook>) their original action, recorded in
// the proxy's ISTIO_KUBE_APP_PROBERS. Timings and thresholds were kept by
// the rewrite and stay. A rewritten probe without a recorded original is
// left as it is, with a warning.
func restoreProbes(pod *corev1.Pod, proxyEnv []corev1.EnvVar, res *Result) error {
	probers := map[string]*prober{}
	if raw, ok := envValue(proxyEnv, envKubeAppProbers); ok && raw != "" {
		if err := json.Unmarshal([]byte(raw), &probers); err != nil {
			return fmt.Errorf("%s of container %s is not valid JSON: %w", envKubeAppProbers, proxyName, err)
		}
	}
	for _, list := range []struct {
		cs   []corev1.Container
		kind string
	}{{pod.Spec.Containers, "container"}, {pod.Spec.InitContainers, "init container"}} {
		for i := range list.cs {
			c := &list.cs[i]
			if c.Name == proxyName {
				continue
			}
			who := list.kind + " " + c.Name
			// Probes and hooks are replaced, never written through: the
			// pod strip works on may share them with another (Record's).
			for _, p := range []struct {
				field, path string
				probe       **corev1.Probe
			}{
				{"readinessProbe", "/app-health/" + c.Name + "/readyz", &c.ReadinessProbe},
				{"livenessProbe", "/app-health/" + c.Name + "/livez", &c.LivenessProbe},
				{"startupProbe", "/app-health/" + c.Name + "/startupz", &c.StartupProbe},
			} {
				probe := *p.probe
				if probe == nil || probe.HTTPGet == nil || probe.HTTPGet.Path != p.path {
					continue
				}
				orig := probers[p.path]
				if orig == nil || (orig.HTTPGet == nil && orig.TCPSocket == nil && orig.GRPC == nil) {
					res.Warnings = append(res.Warnings, fmt.Sprintf("%s of %s points at the agent (%s) but %s records no original: left as it is",
						p.field, who, p.path, envKubeAppProbers))
					continue
				}
				restored := *probe
				restored.HTTPGet, restored.TCPSocket, restored.GRPC = orig.HTTPGet, orig.TCPSocket, orig.GRPC
				*p.probe = &restored
				res.Restored = append(res.Restored, p.field+" of "+who)
				res.notes = append(res.notes, namedPortNote(c, p.field, who, orig))
			}
			if c.Lifecycle == nil {
				continue
			}
			lifecycle := *c.Lifecycle
			for _, h := range []struct {
				field, path string
				hook        **corev1.LifecycleHandler
			}{
				{"lifecycle.preStop", "/app-lifecycle/" + c.Name + "/prestopz", &lifecycle.PreStop},
				{"lifecycle.postStart", "/app-lifecycle/" + c.Name + "/poststartz", &lifecycle.PostStart},
			} {
				hook := *h.hook
				if hook == nil || hook.HTTPGet == nil || hook.HTTPGet.Path != h.path {
					continue
				}
				orig := probers[h.path]
				if orig == nil || (orig.HTTPGet == nil && orig.TCPSocket == nil) {
					res.Warnings = append(res.Warnings, fmt.Sprintf("%s of %s points at the agent (%s) but %s records no original: left as it is",
						h.field, who, h.path, envKubeAppProbers))
					continue
				}
				restored := *hook
				restored.HTTPGet, restored.TCPSocket = orig.HTTPGet, orig.TCPSocket
				*h.hook = &restored
				c.Lifecycle = &lifecycle
				res.Restored = append(res.Restored, h.field+" of "+who)
				res.notes = append(res.notes, namedPortNote(c, h.field, who, orig))
			}
		}
	}
	return nil
}

// namedPortNote says, for a restored action whose port is a number that
// one of the container's ports names, that the original may have used the
// name: injection records named ports resolved. "" otherwise.
func namedPortNote(c *corev1.Container, field, who string, p *prober) string {
	var port int32
	switch {
	case p.HTTPGet != nil && p.HTTPGet.Port.Type == intstr.Int:
		port = p.HTTPGet.Port.IntVal
	case p.TCPSocket != nil && p.TCPSocket.Port.Type == intstr.Int:
		port = p.TCPSocket.Port.IntVal
	default:
		return ""
	}
	for _, cp := range c.Ports {
		if cp.ContainerPort == port && cp.Name != "" {
			return fmt.Sprintf("%s of %s restored with port %d, which the original may have named %q", field, who, port, cp.Name)
		}
	}
	return ""
}
