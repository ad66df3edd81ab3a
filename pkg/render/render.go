// Package render executes an injector's templates for one pod, the way
// Istio's sidecar injector does before it merges the result into the pod.
//
// An Engine is built once per injector revision (New parses every template
// once; Prepare parses each when first needed and checks them all in the
// background); Render is then called per pod and is safe for concurrent use. Render
// validates Istio's pod annotations, computes the data Istio gives to its
// templates (the effective ProxyConfig, proxy images, proxy UID/GID, ...),
// selects the templates, and executes them under an output-size and a time
// limit. Templates run as programs compiled once (package compiled) and
// fall back to text/template whenever a program declines, so the output and
// errors are text/template's either way. Merging the rendered overlays into
// the pod is the merge stage's job.
package render

import (
	"errors"
	"fmt"
	"maps"
	"slices"
	"strings"
	"time"

	"google.golang.org/protobuf/proto"
	"istio.io/api/annotation"
	meshconfig "istio.io/api/mesh/v1alpha1"
	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/types"

	"github.com/inject-sidecar/inject-sidecar/pkg/config"
	"github.com/inject-sidecar/inject-sidecar/pkg/render/compiled"
	"github.com/inject-sidecar/inject-sidecar/pkg/render/funcs"
)

// defaultTemplateName is what Istio injects when the injector configuration
// names no default templates.
const defaultTemplateName = "sidecar"

// platformOpenShift is the config.Options.Platform value that makes the proxy
// run with an ID from the namespace's OpenShift range (Istio's PLATFORM).
const platformOpenShift = "openshift"

// Workload identifies the object whose pod template is rendered.
type Workload struct {
	// TypeMeta is the workload's apiVersion and kind (apps/v1 Deployment).
	TypeMeta metav1.TypeMeta
	// Name and Namespace are the workload's metadata.name and
	// metadata.namespace (for a CronJob, the CronJob's, not the Job's).
	Name, Namespace string
}

// String names the workload in error messages: "Deployment ns/name".
func (w Workload) String() string {
	kind := w.TypeMeta.Kind
	if kind == "" {
		kind = "workload"
	}
	if w.Namespace == "" {
		return kind + " " + w.Name
	}
	return kind + " " + w.Namespace + "/" + w.Name
}

// Overlay is the output of one template: a partial Pod in YAML, to be
// applied to the pod with a strategic merge patch.
type Overlay struct {
	Template string
	YAML     []byte
}

// Output is everything Render computed for one pod that later stages need.
type Output struct {
	// Overlays has one entry per selected template, in selection order
	// (duplicates kept, as Istio applies them).
	Overlays []Overlay
	// ProxyConfig is the pod's effective proxy config: the mesh's
	// defaultConfig overlaid with the proxy.istio.io/config annotation. The
	// merge stage reads the status port, holdApplicationUntilProxyStarts and
	// the like from it. It is the object the templates saw; do not modify.
	ProxyConfig *meshconfig.ProxyConfig
	// ProxyImage and ProxyInitImage are the images the templates received
	// (hub/name:tag with the image type applied). A sidecar.istio.io/proxyImage
	// annotation is applied by the templates themselves, not here.
	ProxyImage     string
	ProxyInitImage string
	// ProxyUID and ProxyGID are the IDs the templates received: 1337, or the
	// top of the namespace's OpenShift range.
	ProxyUID, ProxyGID int64
	// NativeSidecar is whether istio-proxy runs as a native sidecar for this
	// pod: the sidecar.istio.io/nativeSidecar annotation when it is exactly
	// "true" or "false", else the configured mode. Istio uses this to move a
	// user-declared istio-proxy from containers to initContainers before
	// merging; templates get the configured mode and read the annotation
	// themselves.
	NativeSidecar bool
	// ProxyEnv are the cluster and network variables (ISTIO_META_CLUSTER_ID,
	// ISTIO_META_NETWORK; only those with a value, sorted by name) that Istio
	// moves to the end of the istio-proxy container's env after merging. The
	// network comes from the pod label topology.istio.io/network, else
	// values.global.network; the cluster from values.global.multiCluster.clusterName.
	ProxyEnv []corev1.EnvVar
	// TypeMeta and DeploymentMeta are what the templates received as the
	// workload's identity (for a bare Pod, derived from its owner like Istio does).
	TypeMeta       metav1.TypeMeta
	DeploymentMeta types.NamespacedName
}

// TemplateData is what the templates are executed with. Field names and
// types are those of Istio's SidecarTemplateData, which the templates access.
type TemplateData struct {
	TypeMeta                 metav1.TypeMeta
	DeploymentMeta           types.NamespacedName
	ObjectMeta               metav1.ObjectMeta
	Spec                     corev1.PodSpec
	ProxyConfig              *meshconfig.ProxyConfig
	MeshConfig               *meshconfig.MeshConfig
	Values                   map[string]any
	Revision                 string
	NativeSidecars           bool
	ProxyImage               string
	ProxyInitImage           string
	ProxyUID                 int64
	ProxyGID                 int64
	InboundTrafficPolicyMode string
	CompliancePolicy         string
}

// Engine renders one injector revision's templates. It is safe for
// concurrent use; only the parsing of its templates happens after New or
// Prepare returns.
type Engine struct {
	templates        *templateSet
	defaultTemplates []string
	aliases          map[string][]string
	values           map[string]any
	mesh             *meshconfig.MeshConfig
	revision         string

	native           bool
	compliancePolicy string
	openShift        bool
	namespaces       map[string]config.Namespace
	maxOutput        int
	timeout          time.Duration
}

// New parses every template of inj once, with the template functions of
// package funcs; env and expandenv see only opts.AllowedEnv through opts.Env.
// A template that does not parse is an error, the first in name order.
func New(inj *config.Injector, opts config.Options) (*Engine, error) {
	e, err := Prepare(inj, opts)
	if err != nil {
		return nil, err
	}
	if err := e.Wait(); err != nil {
		return nil, err
	}
	return e, nil
}

// Prepare is New without waiting for the templates: it returns at once,
// having started to parse them all in the background, and Render parses
// a template it needs that is not parsed yet. Wait returns the parse error
// New would have returned; a caller that must fail on a bad template,
// used or not, calls it before relying on any output.
func Prepare(inj *config.Injector, opts config.Options) (*Engine, error) {
	if inj == nil {
		return nil, errors.New("render: no injector configuration")
	}
	if inj.Mesh == nil {
		return nil, fmt.Errorf("render: injector revision %q has no mesh config", inj.Revision)
	}
	// Istio refuses to inject without values ("failed to parse values.yaml");
	// templates dereference .Values.global everywhere.
	if inj.Values == nil {
		return nil, fmt.Errorf("render: injector revision %q has no values", inj.Revision)
	}
	if opts.MaxTemplateOutput < 0 {
		return nil, fmt.Errorf("render: negative template output limit %d", opts.MaxTemplateOutput)
	}
	if opts.TemplateTimeout < 0 {
		return nil, fmt.Errorf("render: negative template timeout %s", opts.TemplateTimeout)
	}

	fm := funcs.Map(restrictedEnv(opts.AllowedEnv, opts.Env))
	templates := newTemplateSet(inj.Revision, inj.Templates, fm)

	defaults := slices.Clone(inj.DefaultTemplates)
	if len(defaults) == 0 {
		defaults = []string{defaultTemplateName}
	}
	aliases := make(map[string][]string, len(inj.Aliases))
	for k, v := range inj.Aliases {
		aliases[k] = slices.Clone(v)
	}

	// Private copies, so that the Engine stays immutable whatever the caller
	// does with its configuration afterwards.
	namespaces := make(map[string]config.Namespace, len(opts.Namespaces))
	for name, ns := range opts.Namespaces {
		namespaces[name] = config.Namespace{Labels: maps.Clone(ns.Labels), Annotations: maps.Clone(ns.Annotations)}
	}
	e := &Engine{
		templates:        templates,
		defaultTemplates: defaults,
		aliases:          aliases,
		values:           deepCopyMap(inj.Values),
		mesh:             proto.Clone(inj.Mesh).(*meshconfig.MeshConfig),
		revision:         inj.Revision,
		native:           opts.Native(),
		compliancePolicy: opts.CompliancePolicy,
		openShift:        opts.Platform == platformOpenShift,
		namespaces:       namespaces,
		maxOutput:        opts.MaxTemplateOutput,
		timeout:          opts.TemplateTimeout,
	}
	if e.maxOutput == 0 {
		e.maxOutput = config.DefaultMaxTemplateOutput
	}
	if e.timeout == 0 {
		e.timeout = config.DefaultTemplateTimeout
	}
	var likely []string // the templates of a pod that names none
	for _, name := range defaults {
		if expanded, ok := aliases[name]; ok {
			likely = append(likely, expanded...)
		} else {
			likely = append(likely, name)
		}
	}
	templates.parseAll(backgroundWorkers(), likely)
	return e, nil
}

// Wait waits until every template is parsed and returns the error of the
// first one, in name order, that does not parse.
func (e *Engine) Wait() error {
	return e.templates.wait()
}

// restrictedEnv exposes only the allowed names, so that templates calling
// env or expandenv cannot read secrets from the process environment.
func restrictedEnv(allowed []string, lookup func(string) (string, bool)) funcs.Env {
	set := make(map[string]struct{}, len(allowed))
	for _, name := range allowed {
		set[name] = struct{}{}
	}
	return func(key string) (string, bool) {
		if _, ok := set[key]; !ok || lookup == nil {
			return "", false
		}
		return lookup(key)
	}
}

// Render validates the pod's Istio annotations, computes the template data
// and executes the selected templates. pod is the pod template (metadata and
// spec) already stripped of a previous injection; it is not modified. Every
// error names the workload.
func (e *Engine) Render(pod *corev1.Pod, w Workload) (*Output, error) {
	start := time.Now()
	data, out, names, err := e.prepare(pod, w)
	if err != nil {
		return nil, err
	}
	lim := limits{remaining: e.maxOutput, maxOutput: e.maxOutput, deadline: start.Add(e.timeout), timeout: e.timeout}
	private := false // whether data is this render's own copy yet
	for _, name := range names {
		t, err := e.templates.entry(name)
		if err != nil {
			return nil, fmt.Errorf("%s: %w", w, err)
		}
		var rendered []byte
		if t.prog != nil {
			rendered, err = executeCompiled(t, data, lim)
		}
		if t.prog == nil || errors.Is(err, compiled.ErrDecline) {
			// text/template, on data of its own from now on: what it does
			// to the data, later templates see, as they would in Istio.
			if !private {
				data, private = privateData(data), true
			}
			rendered, err = execute(t.t, data, lim)
		}
		if err != nil {
			return nil, fmt.Errorf("template %q for %s: %w", name, w, err)
		}
		lim.remaining -= len(rendered)
		out.Overlays = append(out.Overlays, Overlay{Template: name, YAML: rendered})
	}
	return out, nil
}

// prepare validates the pod's annotations and computes the template data,
// the output without overlays, and the names of the templates to execute.
func (e *Engine) prepare(pod *corev1.Pod, w Workload) (*TemplateData, *Output, []string, error) {
	if pod == nil {
		return nil, nil, nil, fmt.Errorf("%s: no pod template", w)
	}
	// The data shares the pod, the values and the mesh config with the
	// caller and with concurrent renders: compiled templates call only
	// functions and methods that modify nothing. Before text/template runs
	// (which may call anything), Render makes a private copy.
	annotations := pod.Annotations

	if err := validateAnnotations(annotations); err != nil {
		return nil, nil, nil, fmt.Errorf("%s: %w", w, err)
	}
	names, err := e.selectTemplates(annotations)
	if err != nil {
		return nil, nil, nil, fmt.Errorf("%s: %w", w, err)
	}
	proxyConfig, err := effectiveProxyConfig(e.mesh.GetDefaultConfig(), annotations)
	if err != nil {
		return nil, nil, nil, fmt.Errorf("%s: %w", w, err)
	}

	typeMeta, deployMeta := workloadIdentity(pod, w)
	uid, gid := e.proxyIDs(namespaceOf(pod, w))
	data := &TemplateData{
		TypeMeta:                 typeMeta,
		DeploymentMeta:           deployMeta,
		ObjectMeta:               pod.ObjectMeta,
		Spec:                     pod.Spec,
		ProxyConfig:              proxyConfig,
		MeshConfig:               e.mesh,
		Values:                   e.values,
		Revision:                 e.revision,
		NativeSidecars:           e.native,
		ProxyImage:               proxyImage(e.values, proxyConfig.GetImage(), annotations),
		ProxyInitImage:           proxyInitImage(e.values, proxyConfig.GetImage(), annotations),
		ProxyUID:                 uid,
		ProxyGID:                 gid,
		InboundTrafficPolicyMode: inboundTrafficPolicyMode(e.mesh),
		CompliancePolicy:         e.compliancePolicy,
	}

	out := &Output{
		Overlays:       make([]Overlay, 0, len(names)),
		ProxyConfig:    proxyConfig,
		ProxyImage:     data.ProxyImage,
		ProxyInitImage: data.ProxyInitImage,
		ProxyUID:       uid,
		ProxyGID:       gid,
		NativeSidecar:  nativeForPod(e.native, annotations),
		ProxyEnv:       proxyEnv(e.values, pod.Labels),
		TypeMeta:       typeMeta,
		DeploymentMeta: deployMeta,
	}
	return data, out, names, nil
}

// privateData is a deep copy of the data's pod, values and mesh config
// (the proxy config is the render's own already: Output shares it).
func privateData(d *TemplateData) *TemplateData {
	c := *d
	c.ObjectMeta = *d.ObjectMeta.DeepCopy()
	c.Spec = *d.Spec.DeepCopy()
	c.MeshConfig = proto.Clone(d.MeshConfig).(*meshconfig.MeshConfig)
	c.Values = deepCopyMap(d.Values)
	return &c
}

// selectTemplates returns the template names for a pod: the
// inject.istio.io/templates annotation (comma separated, trimmed, duplicates
// kept; present but empty selects the template ""), else the defaults; each
// name then goes through the aliases, one level deep.
func (e *Engine) selectTemplates(annotations map[string]string) ([]string, error) {
	requested := e.defaultTemplates
	if list, ok := annotations[annotation.InjectTemplates.Name]; ok {
		requested = nil
		for _, name := range strings.Split(list, ",") {
			requested = append(requested, strings.TrimSpace(name))
		}
	}
	var names []string
	for _, name := range requested {
		if expanded, ok := e.aliases[name]; ok {
			names = append(names, expanded...)
		} else {
			names = append(names, name)
		}
	}
	for _, name := range names {
		if !e.templates.has(name) {
			known := e.templates.names // sorted
			return nil, fmt.Errorf("requested template %q not found; have %v", name, strings.Join(known, ", "))
		}
	}
	return names, nil
}

// namespaceOf is the namespace the pod will run in: the workload's, else the
// pod template's own (set only on bare pods).
func namespaceOf(pod *corev1.Pod, w Workload) string {
	if w.Namespace != "" {
		return w.Namespace
	}
	return pod.Namespace
}

// proxyIDs returns the proxy's UID and GID: 1337, or on OpenShift the top of
// the namespace's preallocated ranges when its annotations are known.
func (e *Engine) proxyIDs(namespace string) (uid, gid int64) {
	if !e.openShift {
		return defaultProxyID, defaultProxyID
	}
	ns, ok := e.namespaces[namespace]
	if !ok {
		return defaultProxyID, defaultProxyID
	}
	return openShiftProxyIDs(ns.Annotations)
}

// inboundTrafficPolicyMode is the mesh's inbound traffic policy as the
// templates spell it.
func inboundTrafficPolicyMode(mesh *meshconfig.MeshConfig) string {
	if mesh.GetInboundTrafficPolicy().GetMode() == meshconfig.MeshConfig_InboundTrafficPolicy_LOCALHOST {
		return "localhost"
	}
	return "passthrough"
}

// nativeForPod applies the sidecar.istio.io/nativeSidecar annotation, which
// Istio honours only when it is exactly "true" or "false".
func nativeForPod(configured bool, annotations map[string]string) bool {
	switch annotations[annotation.SidecarNativeSidecar.Name] {
	case "true":
		return true
	case "false":
		return false
	}
	return configured
}
