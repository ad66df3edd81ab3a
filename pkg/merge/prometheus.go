package merge

import (
	"encoding/json"
	"fmt"
	"sort"
	"strconv"
	"strings"

	"istio.io/api/annotation"
	meshconfig "istio.io/api/mesh/v1alpha1"
	corev1 "k8s.io/api/core/v1"
)

// Prometheus annotations, by their sanitized names: Prometheus treats
// prometheus.io/port, prometheus.io.port and prometheus-io/port alike, so
// Istio matches every spelling.
const (
	promScrape = "prometheus_io_scrape"
	promPort   = "prometheus_io_port"
	promPath   = "prometheus_io_path"

	// annoScrapeTargets lists several application endpoints to merge, as
	// "port:path,port:path".
	annoScrapeTargets = "prometheus.istio.io/scrape-targets"

	envPrometheusAnnotations = "ISTIO_PROMETHEUS_ANNOTATIONS"
	agentMetricsPath         = "/stats/prometheus"
	defaultMetricsPath       = "/metrics"
)

// reservedPorts are the data-plane ports the sidecar owns; a scrape target
// on one of them would scrape Istio itself.
var reservedPorts = map[string]string{
	"15000": "Envoy admin",
	"15001": "outbound traffic capture",
	"15004": "pilot debug",
	"15006": "inbound traffic capture",
	"15008": "HBONE tunnel",
	"15020": "pilot-agent status / merged Prometheus",
	"15021": "Envoy health",
	"15053": "DNS proxy",
	"15090": "Envoy Prometheus (already merged)",
}

// scrapeTarget and scrapeConfig are the JSON the agent reads from
// ISTIO_PROMETHEUS_ANNOTATIONS; field order is the agent's.
type scrapeTarget struct {
	Port string `json:"port"`
	Path string `json:"path"`
}

type scrapeConfig struct {
	Scrape  string         `json:"scrape"`
	Path    string         `json:"path"`
	Port    string         `json:"port"`
	Targets []scrapeTarget `json:"targets,omitempty"`
}

func (c scrapeConfig) empty() bool {
	return c.Scrape == "" && c.Path == "" && c.Port == "" && len(c.Targets) == 0
}

// applyPrometheusMerge implements metrics merging: the application's
// prometheus.io annotations move into ISTIO_PROMETHEUS_ANNOTATIONS on the
// proxy, and the pod is annotated to be scraped on the agent's status port,
// which serves Envoy's, the agent's and the application's metrics together.
func applyPrometheusMerge(pod *corev1.Pod, p Params) error {
	if !prometheusScrape(pod.Annotations) || !prometheusMergeEnabled(p.Injector.Mesh, pod.Annotations) {
		return nil
	}
	target := strconv.Itoa(int(p.statusPort()))
	if cur, found := prometheusAnnotation(pod.Annotations, promPort); found && cur == target {
		// Already pointing at the agent: re-injection, or the user's choice.
		return nil
	}
	cfg, err := scrapeConfiguration(pod.Annotations, target)
	if err != nil {
		return stepError("prometheus merge", err)
	}
	if sidecar := findInPod(pod, proxyName); sidecar != nil && !cfg.empty() {
		b, err := json.Marshal(cfg)
		if err != nil {
			return stepError("prometheus merge", fmt.Errorf("encoding %s: %w", envPrometheusAnnotations, err))
		}
		sidecar.Env = append(sidecar.Env, corev1.EnvVar{Name: envPrometheusAnnotations, Value: string(b)})
	}
	// Every spelling of the annotations goes, else Prometheus could pick
	// the application's one.
	clearPrometheusAnnotations(pod.Annotations)
	delete(pod.Annotations, annoScrapeTargets)
	pod.Annotations["prometheus.io/port"] = target
	pod.Annotations["prometheus.io/path"] = agentMetricsPath
	pod.Annotations["prometheus.io/scrape"] = "true"
	return nil
}

// prometheusMergeEnabled: the pod annotation prometheus.istio.io/merge-metrics
// when it is a valid bool, else mesh enablePrometheusMerge, else true.
func prometheusMergeEnabled(mesh *meshconfig.MeshConfig, annotations map[string]string) bool {
	if v, ok := annotations[annotation.PrometheusMergeMetrics.Name]; ok {
		if b, err := strconv.ParseBool(v); err == nil {
			return b
		}
	}
	if m := mesh.GetEnablePrometheusMerge(); m != nil {
		return m.GetValue()
	}
	return true
}

// prometheusScrape is false only when a scrape annotation says so.
func prometheusScrape(annotations map[string]string) bool {
	for _, k := range keysNamed(annotations, promScrape) {
		if b, err := strconv.ParseBool(annotations[k]); err == nil {
			return b
		}
	}
	return true
}

// prometheusAnnotation finds an annotation by its sanitized name. Keys are
// visited in order so that the result is deterministic when several
// spellings are present (Istio's map iteration is random there).
func prometheusAnnotation(annotations map[string]string, sanitized string) (string, bool) {
	if keys := keysNamed(annotations, sanitized); len(keys) > 0 {
		return annotations[keys[0]], true
	}
	return "", false
}

func clearPrometheusAnnotations(annotations map[string]string) {
	for k := range annotations {
		if promName(k) != "" {
			delete(annotations, k)
		}
	}
}

// scrapeConfiguration collects the application's scrape settings. With
// prometheus.istio.io/scrape-targets, the targets are listed too, and the
// first one stands for the port and path when those are not annotated.
func scrapeConfiguration(annotations map[string]string, statusPort string) (scrapeConfig, error) {
	var cfg scrapeConfig
	for _, k := range keysNamed(annotations, promScrape, promPort, promPath) {
		switch promName(k) {
		case promPort:
			cfg.Port = annotations[k]
		case promScrape:
			cfg.Scrape = annotations[k]
		case promPath:
			cfg.Path = annotations[k]
		}
	}
	raw, ok := annotations[annoScrapeTargets]
	if !ok {
		return cfg, nil
	}
	targets, err := parseScrapeTargets(raw, statusPort)
	if err != nil {
		return scrapeConfig{}, fmt.Errorf("annotation %s: %w", annoScrapeTargets, err)
	}
	cfg.Targets = targets
	if len(targets) > 0 && cfg.Port == "" {
		cfg.Port = targets[0].Port
		if cfg.Path == "" {
			cfg.Path = targets[0].Path
		}
	}
	return cfg, nil
}

// parseScrapeTargets reads "port:path,port:path" (path defaults to
// /metrics). A target without a port, with a port that is not a valid port
// number, or on a port the sidecar owns is an error.
func parseScrapeTargets(raw, statusPort string) ([]scrapeTarget, error) {
	var out []scrapeTarget
	for _, entry := range strings.Split(raw, ",") {
		entry = strings.TrimSpace(entry)
		if entry == "" {
			continue
		}
		port, path, _ := strings.Cut(entry, ":")
		port, path = strings.TrimSpace(port), strings.TrimSpace(path)
		if port == "" {
			return nil, fmt.Errorf("empty port in scrape target %q", entry)
		}
		if n, err := strconv.Atoi(port); err != nil || n < 1 || n > 65535 {
			return nil, fmt.Errorf("invalid port in scrape target %q", entry)
		}
		if reason, reserved := reservedPorts[port]; reserved {
			return nil, fmt.Errorf("scrape target %q uses port %s, reserved by Istio (%s)", entry, port, reason)
		}
		if port == statusPort {
			return nil, fmt.Errorf("scrape target %q uses the agent status port %s", entry, port)
		}
		if path == "" {
			path = defaultMetricsPath
		}
		out = append(out, scrapeTarget{Port: port, Path: path})
	}
	return out, nil
}

// sanitizeLabelName maps an annotation name to the Prometheus label name
// it becomes: every character outside [a-zA-Z0-9_] turns into "_".
func sanitizeLabelName(name string) string {
	var b strings.Builder
	b.Grow(len(name))
	for _, r := range name {
		switch {
		case r >= 'a' && r <= 'z', r >= 'A' && r <= 'Z', r >= '0' && r <= '9', r == '_':
			b.WriteRune(r)
		default:
			b.WriteByte('_')
		}
	}
	return b.String()
}

// labelNameIs reports whether sanitizeLabelName(name) == want, without
// building the sanitized name (annotations are scanned several times per
// pod, and few are Prometheus ones).
func labelNameIs(name, want string) bool {
	i := 0
	for _, r := range name {
		if i >= len(want) {
			return false
		}
		c := rune(want[i])
		if r >= 'a' && r <= 'z' || r >= 'A' && r <= 'Z' || r >= '0' && r <= '9' || r == '_' {
			if r != c {
				return false
			}
		} else if c != '_' {
			return false
		}
		i++
	}
	return i == len(want)
}

// promName returns the sanitized name of a Prometheus scrape annotation
// (promScrape, promPort or promPath), or "" for other annotations.
func promName(name string) string {
	for _, want := range [...]string{promScrape, promPort, promPath} {
		if labelNameIs(name, want) {
			return want
		}
	}
	return ""
}

// keysNamed returns, sorted, the keys of m whose sanitized name is one of
// names.
func keysNamed(m map[string]string, names ...string) []string {
	var keys []string
	for k := range m {
		for _, n := range names {
			if labelNameIs(k, n) {
				keys = append(keys, k)
				break
			}
		}
	}
	sort.Strings(keys)
	return keys
}
