// Package config reads the injector configuration: Istio's own ConfigMaps
// (istio-sidecar-injector's data.config and data.values, istio's data.mesh),
// IstioOperator files, and the function's typed SidecarInjector kind. It
// turns them into one Config that the later stages only read.
package config

import (
	"time"

	meshconfig "istio.io/api/mesh/v1alpha1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"sigs.k8s.io/kustomize/kyaml/yaml"
)

// DefaultRevision is the revision name of an unnamed injector configuration.
const DefaultRevision = "default"

// Injector is one revision's injector configuration: what the
// istio-sidecar-injector ConfigMap (data.config, data.values) and the istio
// mesh ConfigMap (data.mesh) hold for that revision.
type Injector struct {
	// Revision this configuration serves ("default" when unnamed).
	Revision string
	// Policy is kept verbatim: "enabled", "disabled", or anything else,
	// which Istio treats as an invalid policy that never injects.
	Policy               string
	NeverInjectSelector  []metav1.LabelSelector
	AlwaysInjectSelector []metav1.LabelSelector
	// DefaultTemplates are used when a pod does not name templates with
	// inject.istio.io/templates.
	DefaultTemplates []string
	// Aliases map one template name to several (one level, no recursion).
	Aliases map[string][]string
	// Templates are the raw Go text/template sources by name.
	Templates map[string]string
	// InjectedAnnotations are added to every injected pod by the webhook.
	InjectedAnnotations map[string]string
	// Values is data.values decoded from JSON into generic maps, exactly as
	// templates see it under .Values.
	Values map[string]any
	// Mesh is data.mesh read over Istio's mesh defaults. Never nil.
	Mesh *meshconfig.MeshConfig
	// Sources say where Templates (and the rest of data.config), Values and
	// Mesh were read from, for reports and messages.
	Sources InjectorSources
}

// InjectorSources describe the origin of each part of an Injector, such as
// "ConfigMap istio-system/istio-sidecar-injector (input items) data.config",
// "--injectConfigFile inject-config.yaml" or "Istio's defaults".
type InjectorSources struct {
	Config, Values, Mesh string
}

// NativeSidecarMode says whether istio-proxy runs as a native sidecar
// (an init container with restartPolicy: Always).
type NativeSidecarMode string

const (
	// NativeSidecarsAuto uses native sidecars when the target Kubernetes
	// version is known to be at least 1.33, classic ones otherwise.
	NativeSidecarsAuto  NativeSidecarMode = "auto"
	NativeSidecarsTrue  NativeSidecarMode = "true"
	NativeSidecarsFalse NativeSidecarMode = "false"
)

// DecisionMode selects whose rules decide whether a pod is injected.
type DecisionMode string

const (
	// DecideLikeWebhook applies the API server's webhook selectors and the
	// injector's own rules (policy, selectors, pod label/annotation).
	DecideLikeWebhook DecisionMode = "webhook"
	// DecideLikeKubeInject reproduces istioctl kube-inject: policy forced to
	// enabled, selectors and namespace labels ignored. For compatibility and
	// for replaying Istio's golden corpus; never the default.
	DecideLikeKubeInject DecisionMode = "kube-inject"
)

// Mode is what the function does with the resources.
type Mode string

const (
	// ModeInject injects every pod template that is selected (the default).
	ModeInject Mode = "inject"
	// ModeUninject removes what injection added, from every injected pod
	// template; it needs no injector configuration.
	ModeUninject Mode = "uninject"
	// ModeCheck leaves the resources unchanged and reports every workload
	// whose injection is missing, unwanted or stale (a validator).
	ModeCheck Mode = "check"
)

// UnknownNamespacePolicy says what to do with a workload whose namespace's
// labels are not known (no Namespace object in the input, none in config).
type UnknownNamespacePolicy string

const (
	UnknownNamespaceInject UnknownNamespacePolicy = "inject"
	UnknownNamespaceSkip   UnknownNamespacePolicy = "skip"
	UnknownNamespaceError  UnknownNamespacePolicy = "error"
)

// Namespace is what the function knows about one namespace.
type Namespace struct {
	Labels      map[string]string
	Annotations map[string]string
}

// Options are the settings Istio takes from its process environment or
// the cluster, made explicit.
type Options struct {
	// Revision selects the injector configuration for workloads that no
	// webhook selects by revision (and the revision kube-inject mode uses).
	Revision string
	// NativeSidecars is the requested mode; Native is its resolution.
	NativeSidecars NativeSidecarMode
	// KubeVersion of the target cluster ("1.33", "v1.34.1"), if known.
	KubeVersion string
	// CompliancePolicy mirrors Istio's COMPLIANCE_POLICY ("" or "fips-140-3").
	CompliancePolicy string
	// Platform mirrors Istio's PLATFORM ("" or "openshift").
	Platform string
	// DecisionMode is DecideLikeWebhook unless set otherwise.
	DecisionMode DecisionMode
	// Mode is "" when not set, which is ModeInject.
	Mode Mode
	// DefaultNamespace is used for workloads without metadata.namespace.
	DefaultNamespace string
	// UnknownNamespace is the policy for namespaces whose labels are unknown.
	UnknownNamespace UnknownNamespacePolicy
	// Namespaces known from the config (Namespace objects in the input are
	// added by the pipeline).
	Namespaces map[string]Namespace
	// AllowedEnv lists the process environment variables that templates may
	// read through env and expandenv. Empty: none.
	AllowedEnv []string
	// Env looks up a process environment variable; nil means none is set.
	// Only consulted for names in AllowedEnv.
	Env func(string) (string, bool) `json:"-"`
	// MaxTemplateOutput bounds the bytes all templates may render for one pod.
	MaxTemplateOutput int
	// TemplateTimeout bounds the time all templates may take for one pod.
	TemplateTimeout time.Duration
	// MaxInputSize bounds the bytes of one input (file, standard input,
	// ResourceList).
	MaxInputSize int64
	// MaxNestingDepth bounds how deeply one YAML document nests.
	MaxNestingDepth int
	// MaxAliasExpansion bounds the YAML nodes aliases add to one document
	// once expanded.
	MaxAliasExpansion int64
	// RunTimeout bounds the time of the whole run.
	RunTimeout time.Duration
}

// Native reports whether istio-proxy is rendered as a native sidecar.
func (o Options) Native() bool {
	switch o.NativeSidecars {
	case NativeSidecarsTrue:
		return true
	case NativeSidecarsFalse:
		return false
	}
	return kubeVersionAtLeast(o.KubeVersion, 1, 33)
}

// Defaults for the limits that guard template execution, reading the
// input and the whole run. The input limits equal package manifest's.
const (
	DefaultMaxTemplateOutput = 1 << 20
	DefaultTemplateTimeout   = 2 * time.Second
	DefaultMaxInputSize      = 128 << 20
	DefaultMaxNestingDepth   = 1000
	DefaultMaxAliasExpansion = 1_000_000
	DefaultRunTimeout        = 5 * time.Minute
)

// Config is everything the pipeline needs, read once per run.
type Config struct {
	// Injectors by revision name; the default revision is "default".
	Injectors map[string]*Injector
	// Tags map a revision tag to the revision that serves it.
	Tags    map[string]string
	Options Options
	// Warnings are non-fatal findings while reading the configuration
	// (ignored keys and fields, ignored flag files, deprecated settings).
	Warnings []string
	// ClusterObjects are the Namespace and MutatingWebhookConfiguration
	// objects of --config files, in order: the decision reads them like
	// those of the input, but they are not part of the output.
	ClusterObjects []*yaml.RNode `json:"-"`
}
