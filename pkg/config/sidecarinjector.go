package config

import (
	"encoding/json"
	"fmt"
	"math"
	"sort"
	"strconv"
	"strings"
	"time"

	"k8s.io/apimachinery/pkg/api/resource"
	"k8s.io/apimachinery/pkg/util/validation"
	"sigs.k8s.io/kustomize/kyaml/yaml"
)

// The function's own configuration kind.
const (
	SidecarInjectorAPIVersion = "inject-sidecar.dev/v1alpha1"
	SidecarInjectorKind       = "SidecarInjector"
)

// SidecarInjectorSpec is the spec of the SidecarInjector kind, the typed
// configuration of the function. All settings sit under spec; only
// apiVersion, kind, metadata and spec are allowed at the top level, and an
// unknown field anywhere is an error naming its path, for example
// "SidecarInjector.spec.limits.maxOutput: unknown field".
//
//	apiVersion: inject-sidecar.dev/v1alpha1
//	kind: SidecarInjector
//	metadata:
//	  name: inject-sidecar
//	spec:
//	  revision: default            # revision for workloads no webhook selects by revision
//	  nativeSidecars: auto         # auto | true | false
//	  kubeVersion: "1.33"          # target cluster version (quote it; "" = unknown)
//	  compliancePolicy: ""         # "" | fips-140-3
//	  platform: ""                 # e.g. openshift
//	  decisionMode: webhook        # webhook | kube-inject
//	  mode: inject                 # inject | uninject | check (a validator)
//	  defaultNamespace: default    # namespace of workloads without one
//	  unknownNamespace: inject     # inject | skip | error
//	  namespaces:
//	    shop:
//	      labels: {istio-injection: enabled}
//	      annotations: {}
//	  allowedEnv: [CLUSTER_NAME]   # variables templates may read with env/expandenv
//	  limits:
//	    maxTemplateOutput: 1Mi     # bytes, or a quantity
//	    templateTimeout: 2s
//	    maxInputSize: 128Mi        # one input file, stdin or ResourceList
//	    maxNestingDepth: 1000      # levels of one YAML document
//	    maxAliasExpansion: 1000000 # nodes aliases may add to one document
//	    runTimeout: 5m             # the whole run
//	  injector:                    # inline Istio configuration; each a string or an object
//	    config: |                  # data.config of istio-sidecar-injector
//	      policy: enabled
//	      templates: {sidecar: "..."}
//	    values: '{"global": {}}'   # data.values
//	    mesh: |                    # data.mesh of istio
//	      trustDomain: cluster.local
//	  fromConfigMaps:              # where to find Istio's ConfigMaps in the input
//	    injector: istio-sidecar-injector
//	    mesh: istio
//	    namespace: istio-system    # only ConfigMaps in this namespace (or none)
//	  revisions:
//	  - name: canary
//	    injectorConfigMap: istio-sidecar-injector-canary
//	    meshConfigMap: istio-canary
//	  tags:
//	    prod: canary               # revision tag -> revision
type SidecarInjectorSpec struct {
	Revision string
	// NativeSidecars is "" when not set.
	NativeSidecars NativeSidecarMode
	// Pointers are nil when not set (these have environment fallbacks).
	KubeVersion      *string
	CompliancePolicy *string
	Platform         *string
	DefaultNamespace *string
	// DecisionMode, UnknownNamespace and Mode are "" when not set.
	DecisionMode     DecisionMode
	UnknownNamespace UnknownNamespacePolicy
	Mode             Mode
	Namespaces       map[string]Namespace
	AllowedEnv       []string
	Limits           Limits
	Injector         InlineInjector
	FromConfigMaps   ConfigMapNames
	Revisions        []RevisionConfigMaps
	Tags             map[string]string
}

// Limits guard template execution, reading the input and the whole run;
// zero values are not set.
type Limits struct {
	MaxTemplateOutput int
	TemplateTimeout   time.Duration
	MaxInputSize      int64
	MaxNestingDepth   int
	MaxAliasExpansion int64
	RunTimeout        time.Duration
}

// InlineInjector is Istio's configuration given in the function config.
// Each is nil when not given; an object is kept as its JSON text.
type InlineInjector struct {
	Config, Values, Mesh []byte
}

// ConfigMapNames say which ConfigMaps in the input hold Istio's
// configuration. Empty names mean Istio's: istio-sidecar-injector and istio,
// suffixed "-<revision>" for a revision. An empty Namespace matches any.
type ConfigMapNames struct {
	Injector, Mesh, Namespace string
}

// RevisionConfigMaps names the ConfigMaps of one revision. Empty names
// default to the revision-suffixed names.
type RevisionConfigMaps struct {
	Name, InjectorConfigMap, MeshConfigMap string
}

const (
	defaultInjectorConfigMap = "istio-sidecar-injector"
	defaultMeshConfigMap     = "istio"
)

// ParseSidecarInjector reads a SidecarInjector object.
func ParseSidecarInjector(node *yaml.RNode) (*SidecarInjectorSpec, error) {
	if node == nil || node.IsNil() {
		return nil, fmt.Errorf("%s: no object", SidecarInjectorKind)
	}
	obj, err := nodeObject(node)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", SidecarInjectorKind, err)
	}
	return parseSidecarInjector(obj)
}

func parseSidecarInjector(obj map[string]any) (*SidecarInjectorSpec, error) {
	const root = SidecarInjectorKind
	if kind, _ := obj["kind"].(string); kind != SidecarInjectorKind {
		return nil, fmt.Errorf("%s: kind is %q", root, kind)
	}
	if av, _ := obj["apiVersion"].(string); av != SidecarInjectorAPIVersion {
		return nil, fmt.Errorf("%s: unsupported apiVersion %q, want %s", root, av, SidecarInjectorAPIVersion)
	}
	for k := range obj {
		switch k {
		case "apiVersion", "kind", "metadata", "spec":
		default:
			return nil, fmt.Errorf("%s.%s: unknown field; the settings of a %s belong under spec", root, k, root)
		}
	}
	spec, err := asObject(obj["spec"], root+".spec")
	if err != nil {
		return nil, err
	}
	return parseSpec(spec, root+".spec")
}

func parseSpec(spec map[string]any, path string) (*SidecarInjectorSpec, error) {
	if err := checkFields(spec, path, "revision", "nativeSidecars", "kubeVersion", "compliancePolicy",
		"platform", "decisionMode", "mode", "defaultNamespace", "unknownNamespace", "namespaces", "allowedEnv",
		"limits", "injector", "fromConfigMaps", "revisions", "tags"); err != nil {
		return nil, err
	}
	s := &SidecarInjectorSpec{}
	var err error
	field := func(name string) (any, string, bool) {
		v, ok := spec[name]
		return v, path + "." + name, ok && v != nil
	}

	if v, p, ok := field("revision"); ok {
		if s.Revision, err = parseRevisionName(v, p); err != nil {
			return nil, err
		}
	}
	if v, p, ok := field("nativeSidecars"); ok {
		if s.NativeSidecars, err = parseNativeSidecars(v, p); err != nil {
			return nil, err
		}
	}
	if v, p, ok := field("kubeVersion"); ok {
		kv, err := parseKubeVersion(v, p)
		if err != nil {
			return nil, err
		}
		s.KubeVersion = &kv
	}
	if v, p, ok := field("compliancePolicy"); ok {
		cp, err := parseCompliancePolicy(v, p)
		if err != nil {
			return nil, err
		}
		s.CompliancePolicy = &cp
	}
	if v, p, ok := field("platform"); ok {
		pl, err := asString(v, p)
		if err != nil {
			return nil, err
		}
		s.Platform = &pl
	}
	if v, p, ok := field("decisionMode"); ok {
		if s.DecisionMode, err = parseDecisionMode(v, p); err != nil {
			return nil, err
		}
	}
	if v, p, ok := field("mode"); ok {
		if s.Mode, err = ParseMode(v, p); err != nil {
			return nil, err
		}
	}
	if v, p, ok := field("defaultNamespace"); ok {
		ns, err := parseNamespaceName(v, p)
		if err != nil {
			return nil, err
		}
		s.DefaultNamespace = &ns
	}
	if v, p, ok := field("unknownNamespace"); ok {
		if s.UnknownNamespace, err = parseUnknownNamespace(v, p); err != nil {
			return nil, err
		}
	}
	if v, p, ok := field("namespaces"); ok {
		if s.Namespaces, err = parseNamespaces(v, p); err != nil {
			return nil, err
		}
	}
	if v, p, ok := field("allowedEnv"); ok {
		if s.AllowedEnv, err = asStringList(v, p); err != nil {
			return nil, err
		}
		if err := checkEnvNames(s.AllowedEnv, p); err != nil {
			return nil, err
		}
	}
	if v, p, ok := field("limits"); ok {
		if s.Limits, err = parseLimits(v, p); err != nil {
			return nil, err
		}
	}
	if v, p, ok := field("injector"); ok {
		if s.Injector, err = parseInlineInjector(v, p); err != nil {
			return nil, err
		}
	}
	if v, p, ok := field("fromConfigMaps"); ok {
		if s.FromConfigMaps, err = parseConfigMapNames(v, p); err != nil {
			return nil, err
		}
	}
	if v, p, ok := field("revisions"); ok {
		if s.Revisions, err = parseRevisions(v, p); err != nil {
			return nil, err
		}
	}
	if v, p, ok := field("tags"); ok {
		if s.Tags, err = parseTags(v, p); err != nil {
			return nil, err
		}
	}
	return s, nil
}

func parseRevisionName(v any, path string) (string, error) {
	s, err := asString(v, path)
	if err != nil {
		return "", err
	}
	if errs := validation.IsDNS1123Label(s); len(errs) > 0 {
		return "", fmt.Errorf("%s: %q is not a valid revision name: %s", path, s, strings.Join(errs, "; "))
	}
	return s, nil
}

func parseNamespaceName(v any, path string) (string, error) {
	s, err := asString(v, path)
	if err != nil {
		return "", err
	}
	if errs := validation.IsDNS1123Label(s); len(errs) > 0 {
		return "", fmt.Errorf("%s: %q is not a valid namespace name: %s", path, s, strings.Join(errs, "; "))
	}
	return s, nil
}

func parseNativeSidecars(v any, path string) (NativeSidecarMode, error) {
	switch t := v.(type) {
	case bool:
		if t {
			return NativeSidecarsTrue, nil
		}
		return NativeSidecarsFalse, nil
	case string:
		switch m := NativeSidecarMode(strings.ToLower(t)); m {
		case NativeSidecarsAuto, NativeSidecarsTrue, NativeSidecarsFalse:
			return m, nil
		}
		return "", fmt.Errorf("%s: %q is not one of auto, true, false", path, t)
	}
	return "", fmt.Errorf("%s: must be auto, true or false, got %s", path, describeJSON(v))
}

func parseKubeVersion(v any, path string) (string, error) {
	s, err := asString(v, path)
	if err != nil {
		return "", err
	}
	if s != "" && !validKubeVersion(s) {
		return "", fmt.Errorf("%s: %q is not a Kubernetes version like \"1.33\" or \"v1.34.2\"", path, s)
	}
	return s, nil
}

// validKubeVersion reports whether v parses as <major>.<minor>[...].
func validKubeVersion(v string) bool {
	return kubeVersionAtLeast(v, 0, 0)
}

func parseCompliancePolicy(v any, path string) (string, error) {
	s, err := asString(v, path)
	if err != nil {
		return "", err
	}
	switch s {
	case "", "fips-140-3":
		return s, nil
	}
	return "", fmt.Errorf("%s: %q is not a supported compliance policy (\"\" or \"fips-140-3\")", path, s)
}

func parseDecisionMode(v any, path string) (DecisionMode, error) {
	s, err := asString(v, path)
	if err != nil {
		return "", err
	}
	switch m := DecisionMode(s); m {
	case DecideLikeWebhook, DecideLikeKubeInject:
		return m, nil
	}
	return "", fmt.Errorf("%s: %q is not one of webhook, kube-inject", path, s)
}

// ParseMode reads the mode setting; path names it in errors.
func ParseMode(v any, path string) (Mode, error) {
	s, err := asString(v, path)
	if err != nil {
		return "", err
	}
	switch m := Mode(s); m {
	case ModeInject, ModeUninject, ModeCheck:
		return m, nil
	}
	return "", fmt.Errorf("%s: %q is not one of inject, uninject, check", path, s)
}

func parseUnknownNamespace(v any, path string) (UnknownNamespacePolicy, error) {
	s, err := asString(v, path)
	if err != nil {
		return "", err
	}
	switch p := UnknownNamespacePolicy(s); p {
	case UnknownNamespaceInject, UnknownNamespaceSkip, UnknownNamespaceError:
		return p, nil
	}
	return "", fmt.Errorf("%s: %q is not one of inject, skip, error", path, s)
}

func parseNamespaces(v any, path string) (map[string]Namespace, error) {
	m, err := asObject(v, path)
	if err != nil {
		return nil, err
	}
	out := make(map[string]Namespace, len(m))
	for name, e := range m {
		p := path + "." + name
		if errs := validation.IsDNS1123Label(name); len(errs) > 0 {
			return nil, fmt.Errorf("%s: %q is not a valid namespace name: %s", p, name, strings.Join(errs, "; "))
		}
		nsObj, err := asObject(e, p)
		if err != nil {
			return nil, err
		}
		if err := checkFields(nsObj, p, "labels", "annotations"); err != nil {
			return nil, err
		}
		var ns Namespace
		if ns.Labels, err = asStringMap(nsObj["labels"], p+".labels"); err != nil {
			return nil, err
		}
		if ns.Annotations, err = asStringMap(nsObj["annotations"], p+".annotations"); err != nil {
			return nil, err
		}
		out[name] = ns
	}
	return out, nil
}

func checkEnvNames(names []string, path string) error {
	for i, n := range names {
		if errs := validation.IsEnvVarName(n); n == "" || len(errs) > 0 {
			return fmt.Errorf("%s[%d]: %q is not an environment variable name", path, i, n)
		}
	}
	return nil
}

func parseLimits(v any, path string) (Limits, error) {
	m, err := asObject(v, path)
	if err != nil {
		return Limits{}, err
	}
	if err := checkFields(m, path, "maxTemplateOutput", "templateTimeout", "maxInputSize",
		"maxNestingDepth", "maxAliasExpansion", "runTimeout"); err != nil {
		return Limits{}, err
	}
	var l Limits
	if e := m["maxTemplateOutput"]; e != nil {
		if l.MaxTemplateOutput, err = parseByteSize(e, path+".maxTemplateOutput"); err != nil {
			return Limits{}, err
		}
	}
	if e := m["templateTimeout"]; e != nil {
		if l.TemplateTimeout, err = parsePositiveDuration(e, path+".templateTimeout"); err != nil {
			return Limits{}, err
		}
	}
	if e := m["maxInputSize"]; e != nil {
		n, err := parseByteSize(e, path+".maxInputSize")
		if err != nil {
			return Limits{}, err
		}
		l.MaxInputSize = int64(n)
	}
	if e := m["maxNestingDepth"]; e != nil {
		n, err := parseCount(e, path+".maxNestingDepth", maxNestingDepth)
		if err != nil {
			return Limits{}, err
		}
		l.MaxNestingDepth = int(n)
	}
	if e := m["maxAliasExpansion"]; e != nil {
		if l.MaxAliasExpansion, err = parseCount(e, path+".maxAliasExpansion", math.MaxInt32); err != nil {
			return Limits{}, err
		}
	}
	if e := m["runTimeout"]; e != nil {
		if l.RunTimeout, err = parsePositiveDuration(e, path+".runTimeout"); err != nil {
			return Limits{}, err
		}
	}
	return l, nil
}

// maxNestingDepth is the deepest nesting a limit may allow: the YAML
// parser refuses deeper documents itself.
const maxNestingDepth = 10000

// parseCount accepts a whole number in 1..max, as a number or, from a
// ConfigMap, a string of digits.
func parseCount(v any, path string, max int64) (int64, error) {
	var text string
	switch t := v.(type) {
	case json.Number:
		text = t.String()
	case string:
		text = strings.TrimSpace(t)
	default:
		return 0, fmt.Errorf("%s: must be a whole number, got %s", path, describeJSON(v))
	}
	n, err := strconv.ParseInt(text, 10, 64)
	if err != nil {
		return 0, fmt.Errorf("%s: %q is not a whole number", path, text)
	}
	if n < 1 || n > max {
		return 0, fmt.Errorf("%s: %d is not in 1..%d", path, n, max)
	}
	return n, nil
}

// parseByteSize accepts a positive integer or a quantity string ("1Mi").
func parseByteSize(v any, path string) (int, error) {
	var n int64
	switch t := v.(type) {
	case json.Number:
		i, err := t.Int64()
		if err != nil {
			return 0, fmt.Errorf("%s: %s is not a whole number of bytes", path, t)
		}
		n = i
	case string:
		q, err := resource.ParseQuantity(t)
		if err != nil {
			return 0, fmt.Errorf("%s: %q is not a byte size (like 1048576 or 1Mi): %w", path, t, err)
		}
		n = q.Value()
	default:
		return 0, fmt.Errorf("%s: must be a number of bytes or a quantity like 1Mi, got %s", path, describeJSON(v))
	}
	if n <= 0 || n > math.MaxInt32 {
		return 0, fmt.Errorf("%s: %d is not in 1..%d", path, n, math.MaxInt32)
	}
	return int(n), nil
}

func parsePositiveDuration(v any, path string) (time.Duration, error) {
	s, ok := v.(string)
	if !ok {
		return 0, fmt.Errorf("%s: must be a duration string like \"2s\", got %s", path, describeJSON(v))
	}
	d, err := time.ParseDuration(s)
	if err != nil {
		return 0, fmt.Errorf("%s: %q is not a duration like \"2s\"", path, s)
	}
	if d <= 0 {
		return 0, fmt.Errorf("%s: %q must be positive", path, s)
	}
	return d, nil
}

func parseInlineInjector(v any, path string) (InlineInjector, error) {
	m, err := asObject(v, path)
	if err != nil {
		return InlineInjector{}, err
	}
	if err := checkFields(m, path, "config", "values", "mesh"); err != nil {
		return InlineInjector{}, err
	}
	var in InlineInjector
	for _, f := range []struct {
		name string
		dst  *[]byte
	}{{"config", &in.Config}, {"values", &in.Values}, {"mesh", &in.Mesh}} {
		e, ok := m[f.name]
		if !ok || e == nil {
			continue
		}
		switch t := e.(type) {
		case string:
			*f.dst = []byte(t)
		case map[string]any:
			js, err := json.Marshal(t)
			if err != nil {
				return InlineInjector{}, fmt.Errorf("%s.%s: %w", path, f.name, err)
			}
			*f.dst = js
		default:
			return InlineInjector{}, fmt.Errorf("%s.%s: must be a string or a mapping, got %s", path, f.name, describeJSON(e))
		}
	}
	return in, nil
}

func parseConfigMapNames(v any, path string) (ConfigMapNames, error) {
	m, err := asObject(v, path)
	if err != nil {
		return ConfigMapNames{}, err
	}
	if err := checkFields(m, path, "injector", "mesh", "namespace"); err != nil {
		return ConfigMapNames{}, err
	}
	var c ConfigMapNames
	if c.Injector, err = parseObjectName(m["injector"], path+".injector"); err != nil {
		return ConfigMapNames{}, err
	}
	if c.Mesh, err = parseObjectName(m["mesh"], path+".mesh"); err != nil {
		return ConfigMapNames{}, err
	}
	if m["namespace"] != nil {
		if c.Namespace, err = parseNamespaceName(m["namespace"], path+".namespace"); err != nil {
			return ConfigMapNames{}, err
		}
	}
	return c, nil
}

// parseObjectName reads an optional object name ("" when absent).
func parseObjectName(v any, path string) (string, error) {
	s, err := asString(v, path)
	if err != nil || s == "" {
		return s, err
	}
	if errs := validation.IsDNS1123Subdomain(s); len(errs) > 0 {
		return "", fmt.Errorf("%s: %q is not a valid object name: %s", path, s, strings.Join(errs, "; "))
	}
	return s, nil
}

func parseRevisions(v any, path string) ([]RevisionConfigMaps, error) {
	list, ok := v.([]any)
	if !ok {
		return nil, fmt.Errorf("%s: must be a list, got %s", path, describeJSON(v))
	}
	seen := map[string]bool{}
	out := make([]RevisionConfigMaps, 0, len(list))
	for i, e := range list {
		p := fmt.Sprintf("%s[%d]", path, i)
		m, err := asObject(e, p)
		if err != nil {
			return nil, err
		}
		if err := checkFields(m, p, "name", "injectorConfigMap", "meshConfigMap"); err != nil {
			return nil, err
		}
		if m["name"] == nil {
			return nil, fmt.Errorf("%s.name: required", p)
		}
		var r RevisionConfigMaps
		if r.Name, err = parseRevisionName(m["name"], p+".name"); err != nil {
			return nil, err
		}
		if seen[r.Name] {
			return nil, fmt.Errorf("%s.name: revision %q is listed twice", p, r.Name)
		}
		seen[r.Name] = true
		if r.InjectorConfigMap, err = parseObjectName(m["injectorConfigMap"], p+".injectorConfigMap"); err != nil {
			return nil, err
		}
		if r.MeshConfigMap, err = parseObjectName(m["meshConfigMap"], p+".meshConfigMap"); err != nil {
			return nil, err
		}
		out = append(out, r)
	}
	return out, nil
}

func parseTags(v any, path string) (map[string]string, error) {
	m, err := asStringMap(v, path)
	if err != nil {
		return nil, err
	}
	for tag, rev := range m {
		p := path + "." + tag
		if errs := validation.IsDNS1123Label(tag); len(errs) > 0 {
			return nil, fmt.Errorf("%s: %q is not a valid tag name: %s", p, tag, strings.Join(errs, "; "))
		}
		if _, err := parseRevisionName(rev, p); err != nil {
			return nil, err
		}
	}
	return m, nil
}

// parseConfigMapSettings reads a ConfigMap of function settings: Istio's
// keys config, values and mesh (meshNetworks is accepted and ignored), and
// the scalar settings of the SidecarInjector spec, flattened (what
// "kpt fn eval -- key=value" produces): revision, nativeSidecars,
// kubeVersion, compliancePolicy, platform, decisionMode, mode,
// defaultNamespace, unknownNamespace, allowedEnv (comma-separated), maxTemplateOutput,
// templateTimeout, maxInputSize, maxNestingDepth, maxAliasExpansion and
// runTimeout. Any other key is an error.
func parseConfigMapSettings(data map[string]string, path string) (*SidecarInjectorSpec, error) {
	keys := make([]string, 0, len(data))
	for k := range data {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	s := &SidecarInjectorSpec{}
	var err error
	for _, k := range keys {
		v, p := data[k], path+"."+k
		switch k {
		case "config":
			s.Injector.Config = []byte(v)
		case "values":
			s.Injector.Values = []byte(v)
		case "mesh":
			s.Injector.Mesh = []byte(v)
		case "meshNetworks":
			// The other key of Istio's istio ConfigMap; not used for injection.
		case "revision":
			s.Revision, err = parseRevisionName(v, p)
		case "nativeSidecars":
			s.NativeSidecars, err = parseNativeSidecars(v, p)
		case "kubeVersion":
			var kv string
			kv, err = parseKubeVersion(v, p)
			s.KubeVersion = &kv
		case "compliancePolicy":
			var cp string
			cp, err = parseCompliancePolicy(v, p)
			s.CompliancePolicy = &cp
		case "platform":
			pl := v
			s.Platform = &pl
		case "decisionMode":
			s.DecisionMode, err = parseDecisionMode(v, p)
		case "mode":
			s.Mode, err = ParseMode(v, p)
		case "defaultNamespace":
			var ns string
			ns, err = parseNamespaceName(v, p)
			s.DefaultNamespace = &ns
		case "unknownNamespace":
			s.UnknownNamespace, err = parseUnknownNamespace(v, p)
		case "allowedEnv":
			for _, n := range strings.Split(v, ",") {
				if n = strings.TrimSpace(n); n != "" {
					s.AllowedEnv = append(s.AllowedEnv, n)
				}
			}
			err = checkEnvNames(s.AllowedEnv, p)
		case "maxTemplateOutput":
			s.Limits.MaxTemplateOutput, err = parseByteSize(v, p)
		case "templateTimeout":
			s.Limits.TemplateTimeout, err = parsePositiveDuration(v, p)
		case "maxInputSize":
			var n int
			n, err = parseByteSize(v, p)
			s.Limits.MaxInputSize = int64(n)
		case "maxNestingDepth":
			var n int64
			n, err = parseCount(v, p, maxNestingDepth)
			s.Limits.MaxNestingDepth = int(n)
		case "maxAliasExpansion":
			s.Limits.MaxAliasExpansion, err = parseCount(v, p, math.MaxInt32)
		case "runTimeout":
			s.Limits.RunTimeout, err = parsePositiveDuration(v, p)
		default:
			return nil, fmt.Errorf("%s: unknown key (known keys: config, values, mesh, meshNetworks, revision, nativeSidecars, "+
				"kubeVersion, compliancePolicy, platform, decisionMode, mode, defaultNamespace, unknownNamespace, "+
				"allowedEnv, maxTemplateOutput, templateTimeout, maxInputSize, maxNestingDepth, maxAliasExpansion, "+
				"runTimeout)", p)
		}
		if err != nil {
			return nil, err
		}
	}
	return s, nil
}
