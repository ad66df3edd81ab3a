package funcs

import (
	"regexp"
	"strings"

	meshconfig "istio.io/api/mesh/v1alpha1"
	corev1 "k8s.io/api/core/v1"
)

// Pod annotations and labels that OpenTelemetry's Kubernetes conventions
// read service attributes from.
const (
	otelAnnotationPrefix = "resource.opentelemetry.io/"
	appVersionLabel      = "app.kubernetes.io/version"
	// podNameRef is expanded by the kubelet from the proxy's POD_NAME env,
	// since the pod name is not known when the pod template is rendered.
	podNameRef = "$(POD_NAME)"
)

// otelResourceAttributes computes the value of OTEL_RESOURCE_ATTRIBUTES for
// the proxy when the mesh has an OpenTelemetry provider with
// serviceAttributeEnrichment OTEL_SEMANTIC_CONVENTIONS, and "" otherwise. It
// follows OpenTelemetry's Kubernetes fallback chains, in this order:
//
//   - service.namespace: annotation, else the namespace;
//   - service.version: annotation, else the app.kubernetes.io/version label,
//     else, for a single-container pod, "<tag>@<digest>", "<digest>" or
//     "<tag>" of its image;
//   - service.instance.id: annotation, else namespace, $(POD_NAME) and, for a
//     single-container pod, the container name, joined with ".".
//
// Attributes with no value are left out.
func otelResourceAttributes(mc *meshconfig.MeshConfig, annotations, labels map[string]string,
	namespace string, containers []corev1.Container,
) string {
	if !otelSemanticConventions(mc) {
		return ""
	}
	var single *corev1.Container
	if len(containers) == 1 {
		single = &containers[0]
	}

	var attrs []string
	add := func(key, value string) {
		if value != "" {
			attrs = append(attrs, key+"="+value)
		}
	}

	add("service.namespace", firstNonEmpty(annotations[otelAnnotationPrefix+"service.namespace"], namespace))

	version := firstNonEmpty(annotations[otelAnnotationPrefix+"service.version"], labels[appVersionLabel])
	if version == "" && single != nil {
		version = imageVersion(single.Image)
	}
	add("service.version", version)

	instance := annotations[otelAnnotationPrefix+"service.instance.id"]
	if instance == "" {
		parts := []string{namespace, podNameRef}
		if single != nil {
			parts = append(parts, single.Name)
		}
		instance = joinNonEmpty(parts, ".")
	}
	add("service.instance.id", instance)

	return strings.Join(attrs, ",")
}

// otelSemanticConventions reports whether any OpenTelemetry extension
// provider asks for OpenTelemetry's service attribute conventions.
func otelSemanticConventions(mc *meshconfig.MeshConfig) bool {
	for _, p := range mc.GetExtensionProviders() {
		if p.GetOpentelemetry().GetServiceAttributeEnrichment() == meshconfig.MeshConfig_ExtensionProvider_OTEL_SEMANTIC_CONVENTIONS {
			return true
		}
	}
	return false
}

// imageVersion derives a version from an image reference as OpenTelemetry
// specifies: "<tag>@<digest>", else "<digest>", else "<tag>"; "" when the
// reference has neither or is not a valid reference. It follows the grammar
// of the distribution/reference library, which the conventions point to.
func imageVersion(image string) string {
	// Compiled per call: this runs once per rendered pod, and a package
	// variable would be shared mutable state.
	ref, err := regexp.Compile(`^` + imageNamePattern + `(?::([\w][\w.-]{0,127}))?` +
		`(?:@([A-Za-z][A-Za-z0-9]*(?:[-_+.][A-Za-z][A-Za-z0-9]*)*:[0-9a-fA-F]{32,}))?$`)
	if err != nil {
		return ""
	}
	m := ref.FindStringSubmatch(image)
	if m == nil || len(m[1]) > 255 {
		return ""
	}
	tag, digest := m[2], m[3]
	if digest != "" && !validDigest(digest) {
		return ""
	}
	switch {
	case tag != "" && digest != "":
		return tag + "@" + digest
	case digest != "":
		return digest
	default:
		return tag
	}
}

// imageNamePattern is the repository name of distribution/reference, in a
// capture group: an optional domain (with optional port) and lower-case
// path components.
const imageNamePattern = `((?:(?:(?:[a-zA-Z0-9]|[a-zA-Z0-9][a-zA-Z0-9-]*[a-zA-Z0-9])` +
	`(?:\.(?:[a-zA-Z0-9]|[a-zA-Z0-9][a-zA-Z0-9-]*[a-zA-Z0-9]))*|\[[a-fA-F0-9:]+\])(?::[0-9]+)?/)?` +
	`[a-z0-9]+(?:(?:[._]|__|-+)[a-z0-9]+)*(?:/[a-z0-9]+(?:(?:[._]|__|-+)[a-z0-9]+)*)*)`

// validDigest accepts the digests the reference library can verify:
// sha256, sha384 and sha512 with lower-case hex of the right length.
func validDigest(d string) bool {
	alg, hex, _ := strings.Cut(d, ":")
	want := map[string]int{"sha256": 64, "sha384": 96, "sha512": 128}[alg]
	if want == 0 || len(hex) != want {
		return false
	}
	for _, r := range hex {
		if (r < '0' || r > '9') && (r < 'a' || r > 'f') {
			return false
		}
	}
	return true
}

func firstNonEmpty(values ...string) string {
	for _, v := range values {
		if v != "" {
			return v
		}
	}
	return ""
}

func joinNonEmpty(parts []string, sep string) string {
	kept := make([]string, 0, len(parts))
	for _, p := range parts {
		if p != "" {
			kept = append(kept, p)
		}
	}
	return strings.Join(kept, sep)
}
