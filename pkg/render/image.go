package render

import (
	"encoding/json"
	"fmt"
	"strings"

	"istio.io/api/annotation"
	"istio.io/api/label"
	networking "istio.io/api/networking/v1beta1"
	corev1 "k8s.io/api/core/v1"
)

// Image types Istio publishes as tag suffixes; "default" means no suffix.
const (
	imageTypeDefault    = "default"
	imageTypeDebug      = "debug"
	imageTypeDistroless = "distroless"
)

// defaultProxyImageName is the image name when values.global.proxy.image
// (or proxy_init.image) is unset.
const defaultProxyImageName = "proxyv2"

// proxyImage is the image Istio gives templates as .ProxyImage:
// {global.hub}/{global.proxy.image}:{global.tag}, with the image type taken
// from, in increasing precedence: values.global.variant, the effective proxy
// config's image.imageType (when image is set at all, even to an empty
// type), and the pod annotation sidecar.istio.io/proxyImageType (when
// present, even empty).
func proxyImage(values map[string]any, image *networking.ProxyImage, annotations map[string]string) string {
	return imageFor(values, "proxy", image, annotations)
}

// proxyInitImage is .ProxyInitImage, built like proxyImage from
// values.global.proxy_init.image (the init container that sets up iptables).
func proxyInitImage(values map[string]any, image *networking.ProxyImage, annotations map[string]string) string {
	return imageFor(values, "proxy_init", image, annotations)
}

func imageFor(values map[string]any, component string, image *networking.ProxyImage, annotations map[string]string) string {
	name := defaultProxyImageName
	if s, _ := lookup(values, "global", component, "image").(string); s != "" {
		name = s
	}
	hub, _ := lookup(values, "global", "hub").(string)
	imageType, _ := lookup(values, "global", "variant").(string)
	if image != nil {
		imageType = image.GetImageType()
	}
	if it, ok := annotations[annotation.SidecarProxyImageType.Name]; ok {
		imageType = it
	}
	return hub + "/" + name + ":" + withImageType(tagString(values), imageType)
}

// tagString renders values.global.tag the way Istio prints its typed value
// (a protobuf Value): strings as is, numbers as float64 ("1.1", "1e+06"),
// an explicit null as "<nil>", absent as "".
func tagString(values map[string]any) string {
	global, _ := lookup(values, "global").(map[string]any)
	tag, ok := global["tag"]
	if !ok {
		return ""
	}
	switch v := tag.(type) {
	case string:
		return v
	case json.Number:
		if f, err := v.Float64(); err == nil {
			return fmt.Sprintf("%v", f)
		}
		return v.String()
	case int:
		return fmt.Sprintf("%v", float64(v))
	case int64:
		return fmt.Sprintf("%v", float64(v))
	case uint64:
		return fmt.Sprintf("%v", float64(v))
	}
	return fmt.Sprintf("%v", tag)
}

// withImageType replaces a known image-type suffix of tag by imageType
// ("default" removes it); an empty imageType leaves tag alone.
func withImageType(tag, imageType string) string {
	if imageType == "" {
		return tag
	}
	for _, known := range []string{imageTypeDistroless, imageTypeDebug} {
		if strings.HasSuffix(tag, "-"+known) {
			tag = strings.TrimSuffix(tag, "-"+known)
			break
		}
	}
	if imageType == imageTypeDefault {
		return tag
	}
	return tag + "-" + imageType
}

// proxyEnv returns the cluster and network variables Istio appends to the
// proxy's env, sorted by name, only those with a value.
func proxyEnv(values map[string]any, podLabels map[string]string) []corev1.EnvVar {
	cluster, _ := lookup(values, "global", "multiCluster", "clusterName").(string)
	network, _ := lookup(values, "global", "network").(string)
	if n, ok := podLabels[label.TopologyNetwork.Name]; ok {
		network = n
	}
	var env []corev1.EnvVar
	if cluster != "" {
		env = append(env, corev1.EnvVar{Name: "ISTIO_META_CLUSTER_ID", Value: cluster})
	}
	if network != "" {
		env = append(env, corev1.EnvVar{Name: "ISTIO_META_NETWORK", Value: network})
	}
	return env
}

// lookup walks nested generic maps; nil when a step is missing or not a map.
func lookup(m map[string]any, path ...string) any {
	var cur any = m
	for _, key := range path {
		mm, ok := cur.(map[string]any)
		if !ok {
			return nil
		}
		cur = mm[key]
	}
	return cur
}

// deepCopyMap copies generic JSON-like data so that a template that modifies
// .Values (sprig's set, unset, merge...) cannot affect other pods.
func deepCopyMap(m map[string]any) map[string]any {
	if m == nil {
		return nil
	}
	out := make(map[string]any, len(m))
	for k, v := range m {
		out[k] = deepCopyValue(v)
	}
	return out
}

func deepCopyValue(v any) any {
	switch t := v.(type) {
	case map[string]any:
		return deepCopyMap(t)
	case []any:
		out := make([]any, len(t))
		for i, e := range t {
			out[i] = deepCopyValue(e)
		}
		return out
	}
	return v
}
