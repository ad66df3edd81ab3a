package uninject

import (
	"encoding/json"
	"fmt"
	"strconv"
	"strings"

	corev1 "k8s.io/api/core/v1"
)

// Prometheus annotations that metrics merging rewrites.
const (
	annoScrape        = "prometheus.io/scrape"
	annoPort          = "prometheus.io/port"
	annoPath          = "prometheus.io/path"
	annoScrapeTargets = "prometheus.istio.io/scrape-targets"
	annoSecurePort    = "prometheus.istio.io/secure-port"

	envSecureMergedMetricsPort = "ENVOY_SECURE_MERGED_METRICS_PORT"
)

// scrapeConfig is the JSON of ISTIO_PROMETHEUS_ANNOTATIONS.
type scrapeConfig struct {
	Scrape  string `json:"scrape"`
	Path    string `json:"path"`
	Port    string `json:"port"`
	Targets []struct {
		Port string `json:"port"`
		Path string `json:"path"`
	} `json:"targets,omitempty"`
}

// restorePrometheus undoes metrics merging when the proxy proves it
// happened: ISTIO_PROMETHEUS_ANNOTATIONS holds the application's scrape
// settings, which go back under their canonical annotation names in place
// of the agent's. prometheus.istio.io/secure-port goes when the proxy sets
// the port it advertises. Without that proof the annotations stay (the
// warning of Pod names them).
func restorePrometheus(pod *corev1.Pod, proxyEnv []corev1.EnvVar, res *Result) error {
	if raw, ok := envValue(proxyEnv, envSecureMergedMetricsPort); ok {
		if n, err := strconv.Atoi(strings.TrimSpace(raw)); err == nil && pod.Annotations[annoSecurePort] == strconv.Itoa(n) {
			delete(pod.Annotations, annoSecurePort)
			res.Removed = append(res.Removed, "annotation "+annoSecurePort)
		}
	}
	raw, ok := envValue(proxyEnv, envPrometheusAnnotations)
	if !ok {
		return nil
	}
	var cfg scrapeConfig
	if err := json.Unmarshal([]byte(raw), &cfg); err != nil {
		return fmt.Errorf("%s of container %s is not valid JSON: %w", envPrometheusAnnotations, proxyName, err)
	}
	if pod.Annotations == nil {
		pod.Annotations = map[string]string{}
	}
	for k, v := range map[string]string{annoScrape: cfg.Scrape, annoPort: cfg.Port, annoPath: cfg.Path} {
		delete(pod.Annotations, k)
		if v != "" {
			pod.Annotations[k] = v
		}
	}
	if len(cfg.Targets) > 0 {
		targets := make([]string, len(cfg.Targets))
		for i, t := range cfg.Targets {
			targets[i] = t.Port + ":" + t.Path
		}
		pod.Annotations[annoScrapeTargets] = strings.Join(targets, ",")
		res.notes = append(res.notes, fmt.Sprintf("%s restored as %q, paths spelled out; "+
			"%s and %s may have been derived from it rather than set", annoScrapeTargets, pod.Annotations[annoScrapeTargets], annoPort, annoPath))
	}
	res.Restored = append(res.Restored, "prometheus.io annotations (from "+envPrometheusAnnotations+")")
	return nil
}
