package config

import (
	"errors"
	"fmt"
	"sort"
	"strconv"
	"strings"

	meshconfig "istio.io/api/mesh/v1alpha1"
	"sigs.k8s.io/kustomize/kyaml/kio/kioutil"
	"sigs.k8s.io/kustomize/kyaml/yaml"

	"github.com/inject-sidecar/inject-sidecar/pkg/manifest"
)

// Input is everything Load reads. Only the byte slices that were given are
// non-nil.
type Input struct {
	// FunctionConfig is the KRM functionConfig; nil when absent.
	FunctionConfig *yaml.RNode
	// Extra are the objects of --config files: a SidecarInjector, Istio's
	// ConfigMaps, or a ConfigMap of function settings. Namespace and
	// MutatingWebhookConfiguration objects are passed on in
	// Config.ClusterObjects for the decision.
	Extra []*yaml.RNode
	// Items are the resources being rendered. Istio's ConfigMaps found here
	// are read (not consumed); nothing else in Items is looked at.
	Items []*yaml.RNode
	// The istioctl kube-inject flag files: --injectConfigFile, --valuesFile,
	// --meshConfigFile, --operatorFileName.
	InjectConfig, Values, Mesh, Operator []byte
	// Optional names of those files, used in messages.
	InjectConfigPath, ValuesPath, MeshPath, OperatorPath string
	// Revision is -r/--revision.
	Revision string
	// Getenv reads the process environment. KUBE_VERSION and
	// ARGOCD_APP_NAMESPACE are always consulted; nil reads nothing.
	Getenv func(string) (string, bool)
	// IstioEnvFallback (the inject command only): ENABLE_NATIVE_SIDECARS,
	// COMPLIANCE_POLICY and PLATFORM are read from Getenv when the
	// configuration does not set them.
	IstioEnvFallback bool
}

// Load reads the whole configuration and resolves every option.
//
// The function configuration is a ConfigMap (Istio's keys config, values
// and mesh, plus optional flat settings such as revision or nativeSidecars;
// this is what "kpt fn eval -- key=value" produces) or a SidecarInjector
// (see SidecarInjectorSpec). One SidecarInjector and one settings ConfigMap
// may also come from --config files (Input.Extra). Any other kind is an
// error.
//
// Each part of the selected revision's injector is taken from the first
// source that has it, in this order:
//
//	data.config: SidecarInjector spec.injector.config
//	             > function ConfigMap data.config
//	             > --injectConfigFile (an injector configuration or a bare template)
//	             > ConfigMap istio-sidecar-injector[-<rev>] data.config in --config files
//	             > the same in the input items
//	data.values: spec.injector.values > function ConfigMap data.values
//	             > --operatorFileName (spec.values; replaces --valuesFile, as in istioctl)
//	             > --valuesFile > ConfigMap istio-sidecar-injector[-<rev>] data.values
//	             (--config files, then items)
//	data.mesh:   spec.injector.mesh > function ConfigMap data.mesh
//	             > --operatorFileName spec.meshConfig (replaces --meshConfigFile when present)
//	             > --meshConfigFile > ConfigMap istio[-<rev>] data.mesh (--config files,
//	             then items) > Istio's defaults
//
// No injector configuration or no values anywhere is an error that lists
// where Load looked. Settings of the SidecarInjector win over the same
// settings in a function ConfigMap. A revision given both as -r and in the
// configuration must agree.
//
// Other revisions come from ConfigMaps: istio-sidecar-injector-<rev>
// (data.config and data.values) and istio-<rev> (data.mesh; Istio's defaults
// when absent), or the names listed in spec.revisions, in which case only
// the listed revisions are loaded, besides the selected revision and the
// default revision when its ConfigMap exists. spec.fromConfigMaps
// renames the base names and restricts the namespace; ConfigMaps without a
// namespace always match.
//
// Options: Revision is the selected revision ("default" when unset);
// NativeSidecars is the configured mode, else (IstioEnvFallback)
// ENABLE_NATIVE_SIDECARS, else auto, resolved by Options.Native from
// KubeVersion (configured, else KUBE_VERSION); DefaultNamespace is the
// configured one, else ARGOCD_APP_NAMESPACE, else "default"; DecisionMode
// defaults to webhook, UnknownNamespace to inject, limits to the Default*
// constants.
func Load(in Input) (*Config, error) {
	l := &loader{in: in, getenv: in.Getenv}
	if l.getenv == nil {
		l.getenv = func(string) (string, bool) { return "", false }
	}
	return l.load()
}

// ReadLimits returns the limits that the SidecarInjector and the settings
// ConfigMap among objs (--config files) set, zero where they set none;
// objs are checked as Load checks them. The inject command reads them
// before its manifests, so that a configured limit also governs reading.
func ReadLimits(objs []*yaml.RNode) (Limits, error) {
	l := &loader{in: Input{Extra: objs}, getenv: func(string) (string, bool) { return "", false }}
	typed, fnCM, _, err := l.functionConfigs()
	if err != nil {
		return Limits{}, err
	}
	return mergeSettings(typed, fnCM).Limits, nil
}

// ItemsRead returns a predicate that is true for every input item Load
// may read, given the --config objects objs (checked as ReadLimits checks
// them): anything but a ConfigMap, and the ConfigMaps that Istio's names,
// under the configured naming, select. Load ignores the other ConfigMaps,
// so a caller that gathers items for it may drop them: the inject
// command's first reading does, so that its memory does not grow with the
// input's own ConfigMaps.
func ItemsRead(objs []*yaml.RNode) (func(*yaml.RNode) bool, error) {
	l := &loader{in: Input{Extra: objs}, getenv: func(string) (string, bool) { return "", false }}
	typed, fnCM, _, err := l.functionConfigs()
	if err != nil {
		return nil, err
	}
	settings := mergeSettings(typed, fnCM)
	return func(n *yaml.RNode) bool {
		if n == nil || n.IsNil() || n.GetKind() != "ConfigMap" {
			return true
		}
		return isIstioConfigMapName(n.GetName(), settings.FromConfigMaps, settings.Revisions)
	}, nil
}

type loader struct {
	in       Input
	getenv   func(string) (string, bool)
	warnings []string
	// clusterObjs are the Namespaces and MutatingWebhookConfigurations
	// of --config files (Config.ClusterObjects).
	clusterObjs []*yaml.RNode
}

// functionSettings is a configuration read from a function config or a
// --config file, with a description of where it came from.
type functionSettings struct {
	spec   *SidecarInjectorSpec
	source string
}

func (l *loader) warn(format string, args ...any) {
	l.warnings = append(l.warnings, fmt.Sprintf(format, args...))
}

func (l *loader) load() (*Config, error) {
	typed, fnCM, extraCMs, err := l.functionConfigs()
	if err != nil {
		return nil, err
	}
	settings := mergeSettings(typed, fnCM)

	opts, err := l.options(settings, typed, fnCM)
	if err != nil {
		return nil, err
	}

	cms := newConfigMapIndex(settings.FromConfigMaps, settings.Revisions, extraCMs, l.in.Items)
	if err := l.checkTexts(opts, typed, fnCM, cms); err != nil {
		return nil, err
	}

	injectors := map[string]*Injector{}
	// A revision tag (-r prod) is served by the revision it points at:
	// its configuration is that revision's.
	primaryRev := resolveTag(opts.Revision, settings.Tags, l.in.Items)
	primary, err := l.primaryInjector(primaryRev, typed, fnCM, cms)
	if err != nil {
		return nil, err
	}
	injectors[primary.Revision] = primary

	for _, rev := range cms.revisions() {
		if rev == primaryRev {
			continue
		}
		inj, err := l.configMapInjector(rev, cms)
		if err != nil {
			return nil, err
		}
		injectors[rev] = inj
	}

	tags := map[string]string{}
	for _, tag := range sortedKeys(settings.Tags) {
		rev := settings.Tags[tag]
		if _, ok := injectors[rev]; !ok {
			return nil, fmt.Errorf("%s spec.tags.%s: revision %q has no injector configuration (known revisions: %s)",
				SidecarInjectorKind, tag, rev, strings.Join(sortedKeys(injectors), ", "))
		}
		if _, ok := injectors[tag]; ok {
			return nil, fmt.Errorf("%s spec.tags.%s: a revision of that name exists; a tag cannot shadow it",
				SidecarInjectorKind, tag)
		}
		tags[tag] = rev
	}

	return &Config{
		Injectors: injectors,
		Tags:      tags,
		Options:   opts,
		Warnings:  l.warnings,

		ClusterObjects: l.clusterObjs,
	}, nil
}

// functionConfigs finds the SidecarInjector and the settings ConfigMap in
// the function config and the --config objects, and returns the --config
// objects that are Istio ConfigMaps. Namespaces and
// MutatingWebhookConfigurations go to l.clusterObjs.
func (l *loader) functionConfigs() (typed, fnCM *functionSettings, istioCMs []*yaml.RNode, err error) {
	if fc := l.in.FunctionConfig; fc != nil && !fc.IsNil() {
		// kyaml's getters index into the node as a mapping and panic on
		// anything else.
		if k := fc.YNode().Kind; k != yaml.MappingNode {
			what := map[yaml.Kind]string{yaml.SequenceNode: "a list", yaml.ScalarNode: "a scalar", yaml.AliasNode: "an alias"}[k]
			return nil, nil, nil, fmt.Errorf("function config: expected an object (a ConfigMap or a %s), got %s",
				SidecarInjectorKind, what)
		}
		kind, apiVersion := fc.GetKind(), fc.GetApiVersion()
		switch {
		case kind == SidecarInjectorKind:
			spec, err := ParseSidecarInjector(fc)
			if err != nil {
				return nil, nil, nil, fmt.Errorf("function config: %w", err)
			}
			typed = &functionSettings{spec: spec, source: fmt.Sprintf("%s %q (function config)", kind, fc.GetName())}
		case kind == "ConfigMap" && (apiVersion == "v1" || apiVersion == ""):
			fnCM, err = settingsConfigMap(fc, "function config")
			if err != nil {
				return nil, nil, nil, err
			}
		case kind == "" && apiVersion == "" && len(fc.Content()) == 0:
			// An empty function config is no function config.
		default:
			return nil, nil, nil, fmt.Errorf("function config: unsupported object %s; want a v1 ConfigMap "+
				"(keys config, values, mesh) or an %s %s", describeObject(fc), SidecarInjectorAPIVersion, SidecarInjectorKind)
		}
	}

	var configMaps []*yaml.RNode
	for _, x := range l.in.Extra {
		if x == nil || x.IsNil() {
			continue
		}
		switch kind := x.GetKind(); {
		case kind == SidecarInjectorKind:
			spec, err := ParseSidecarInjector(x)
			if err != nil {
				return nil, nil, nil, fmt.Errorf("%s: %w", configOrigin(x), err)
			}
			src := fmt.Sprintf("%s %q (%s)", SidecarInjectorKind, x.GetName(), configOrigin(x))
			if typed != nil {
				return nil, nil, nil, fmt.Errorf("two %s configurations: %s and %s", SidecarInjectorKind, typed.source, src)
			}
			typed = &functionSettings{spec: spec, source: src}
		case kind == "ConfigMap" && (x.GetApiVersion() == "v1" || x.GetApiVersion() == ""):
			configMaps = append(configMaps, x)
		case kind == "Namespace" || kind == "MutatingWebhookConfiguration":
			// Read by the stages that decide injection.
			l.clusterObjs = append(l.clusterObjs, x)
		default:
			return nil, nil, nil, fmt.Errorf("%s: unsupported object %s; want a %s, ConfigMaps, "+
				"Namespaces or MutatingWebhookConfigurations", configOrigin(x), describeObject(x), SidecarInjectorKind)
		}
	}

	var names ConfigMapNames
	var revisions []RevisionConfigMaps
	if typed != nil {
		names, revisions = typed.spec.FromConfigMaps, typed.spec.Revisions
	}
	for _, cm := range configMaps {
		if isIstioConfigMapName(cm.GetName(), names, revisions) {
			istioCMs = append(istioCMs, cm)
			continue
		}
		s, err := settingsConfigMap(cm, configOrigin(cm))
		if err != nil {
			return nil, nil, nil, err
		}
		if fnCM != nil {
			return nil, nil, nil, fmt.Errorf("two ConfigMaps of function settings: %s and %s", fnCM.source, s.source)
		}
		fnCM = s
	}
	return typed, fnCM, istioCMs, nil
}

// configOrigin names a --config object in messages: "--config FILE" when
// the reader recorded its file in kyaml's path annotation, as the inject
// command does.
func configOrigin(x *yaml.RNode) string {
	if p := x.GetAnnotations()[kioutil.PathAnnotation]; p != "" {
		return "--config " + p
	}
	return "--config"
}

// settingsConfigMap reads a ConfigMap of function settings.
func settingsConfigMap(node *yaml.RNode, origin string) (*functionSettings, error) {
	id := objectID(node)
	spec, err := parseConfigMapSettings(node.GetDataMap(), fmt.Sprintf("ConfigMap %s data", id))
	if err != nil {
		return nil, fmt.Errorf("%s: %w", origin, err)
	}
	return &functionSettings{spec: spec, source: fmt.Sprintf("ConfigMap %s (%s)", id, origin)}, nil
}

// mergeSettings lays the typed settings over the ConfigMap settings.
func mergeSettings(typed, fnCM *functionSettings) SidecarInjectorSpec {
	var out SidecarInjectorSpec
	for _, fs := range []*functionSettings{fnCM, typed} {
		if fs == nil {
			continue
		}
		s := fs.spec
		if s.Revision != "" {
			out.Revision = s.Revision
		}
		if s.NativeSidecars != "" {
			out.NativeSidecars = s.NativeSidecars
		}
		if s.KubeVersion != nil {
			out.KubeVersion = s.KubeVersion
		}
		if s.CompliancePolicy != nil {
			out.CompliancePolicy = s.CompliancePolicy
		}
		if s.Platform != nil {
			out.Platform = s.Platform
		}
		if s.DefaultNamespace != nil {
			out.DefaultNamespace = s.DefaultNamespace
		}
		if s.DecisionMode != "" {
			out.DecisionMode = s.DecisionMode
		}
		if s.Mode != "" {
			out.Mode = s.Mode
		}
		if s.UnknownNamespace != "" {
			out.UnknownNamespace = s.UnknownNamespace
		}
		if s.Namespaces != nil {
			out.Namespaces = s.Namespaces
		}
		if s.AllowedEnv != nil {
			out.AllowedEnv = s.AllowedEnv
		}
		if s.Limits.MaxTemplateOutput != 0 {
			out.Limits.MaxTemplateOutput = s.Limits.MaxTemplateOutput
		}
		if s.Limits.TemplateTimeout != 0 {
			out.Limits.TemplateTimeout = s.Limits.TemplateTimeout
		}
		if s.Limits.MaxInputSize != 0 {
			out.Limits.MaxInputSize = s.Limits.MaxInputSize
		}
		if s.Limits.MaxNestingDepth != 0 {
			out.Limits.MaxNestingDepth = s.Limits.MaxNestingDepth
		}
		if s.Limits.MaxAliasExpansion != 0 {
			out.Limits.MaxAliasExpansion = s.Limits.MaxAliasExpansion
		}
		if s.Limits.RunTimeout != 0 {
			out.Limits.RunTimeout = s.Limits.RunTimeout
		}
		// Injector parts, FromConfigMaps, Revisions and Tags only exist in
		// the typed form (the ConfigMap's config/values/mesh are a separate
		// tier, see Load).
		if fs == typed {
			out.FromConfigMaps = s.FromConfigMaps
			out.Revisions = s.Revisions
			out.Tags = s.Tags
		}
	}
	return out
}

func (l *loader) options(s SidecarInjectorSpec, typed, fnCM *functionSettings) (Options, error) {
	o := Options{
		Revision:          s.Revision,
		NativeSidecars:    s.NativeSidecars,
		DecisionMode:      s.DecisionMode,
		Mode:              s.Mode,
		UnknownNamespace:  s.UnknownNamespace,
		Namespaces:        s.Namespaces,
		AllowedEnv:        s.AllowedEnv,
		MaxTemplateOutput: s.Limits.MaxTemplateOutput,
		TemplateTimeout:   s.Limits.TemplateTimeout,
		MaxInputSize:      s.Limits.MaxInputSize,
		MaxNestingDepth:   s.Limits.MaxNestingDepth,
		MaxAliasExpansion: s.Limits.MaxAliasExpansion,
		RunTimeout:        s.Limits.RunTimeout,
	}

	if r := l.in.Revision; r != "" {
		if o.Revision != "" && o.Revision != r {
			src := "the function config"
			if typed != nil && typed.spec.Revision != "" {
				src = typed.source
			} else if fnCM != nil {
				src = fnCM.source
			}
			return Options{}, fmt.Errorf("--revision %q conflicts with revision %q set in %s", r, o.Revision, src)
		}
		if _, err := parseRevisionName(r, "--revision"); err != nil {
			return Options{}, err
		}
		o.Revision = r
	}
	if o.Revision == "" {
		o.Revision = DefaultRevision
	}

	if s.KubeVersion != nil {
		o.KubeVersion = *s.KubeVersion
	} else if v, ok := l.getenv("KUBE_VERSION"); ok && v != "" {
		if !validKubeVersion(v) {
			l.warn("environment KUBE_VERSION=%q is not a Kubernetes version; native sidecars stay off in auto mode", v)
		}
		o.KubeVersion = v
	}

	if o.NativeSidecars == "" && l.in.IstioEnvFallback {
		if v, ok := l.getenv("ENABLE_NATIVE_SIDECARS"); ok && v != "" {
			b, err := strconv.ParseBool(v)
			if err != nil {
				return Options{}, fmt.Errorf("environment ENABLE_NATIVE_SIDECARS=%q: not a boolean", v)
			}
			o.NativeSidecars = NativeSidecarsFalse
			if b {
				o.NativeSidecars = NativeSidecarsTrue
			}
		}
	}
	if o.NativeSidecars == "" {
		o.NativeSidecars = NativeSidecarsAuto
	}

	if s.CompliancePolicy != nil {
		o.CompliancePolicy = *s.CompliancePolicy
	} else if l.in.IstioEnvFallback {
		if v, ok := l.getenv("COMPLIANCE_POLICY"); ok {
			cp, err := parseCompliancePolicy(v, "environment COMPLIANCE_POLICY")
			if err != nil {
				return Options{}, err
			}
			o.CompliancePolicy = cp
		}
	}
	if s.Platform != nil {
		o.Platform = *s.Platform
	} else if l.in.IstioEnvFallback {
		if v, ok := l.getenv("PLATFORM"); ok {
			o.Platform = v
		}
	}

	switch {
	case s.DefaultNamespace != nil:
		o.DefaultNamespace = *s.DefaultNamespace
	default:
		if v, ok := l.getenv("ARGOCD_APP_NAMESPACE"); ok && v != "" {
			ns, err := parseNamespaceName(v, "environment ARGOCD_APP_NAMESPACE")
			if err != nil {
				return Options{}, err
			}
			o.DefaultNamespace = ns
		}
	}
	if o.DefaultNamespace == "" {
		o.DefaultNamespace = "default"
	}

	if o.DecisionMode == "" {
		o.DecisionMode = DecideLikeWebhook
	}
	if o.UnknownNamespace == "" {
		o.UnknownNamespace = UnknownNamespaceInject
	}
	if o.Namespaces == nil {
		o.Namespaces = map[string]Namespace{}
	}
	if o.MaxTemplateOutput == 0 {
		o.MaxTemplateOutput = DefaultMaxTemplateOutput
	}
	if o.TemplateTimeout == 0 {
		o.TemplateTimeout = DefaultTemplateTimeout
	}
	if o.MaxInputSize == 0 {
		o.MaxInputSize = DefaultMaxInputSize
	}
	if o.MaxNestingDepth == 0 {
		o.MaxNestingDepth = DefaultMaxNestingDepth
	}
	if o.MaxAliasExpansion == 0 {
		o.MaxAliasExpansion = DefaultMaxAliasExpansion
	}
	if o.RunTimeout == 0 {
		o.RunTimeout = DefaultRunTimeout
	}
	if len(o.AllowedEnv) > 0 {
		allowed := make(map[string]bool, len(o.AllowedEnv))
		for _, n := range o.AllowedEnv {
			allowed[n] = true
		}
		getenv := l.getenv
		o.Env = func(name string) (string, bool) {
			if !allowed[name] {
				return "", false
			}
			return getenv(name)
		}
	}
	return o, nil
}

// primaryInjector builds the selected revision's injector from the tiers
// described on Load.
func (l *loader) primaryInjector(rev string, typed, fnCM *functionSettings, cms *configMapIndex) (*Injector, error) {
	inj := &Injector{Revision: rev}
	var looked []string

	// data.config
	var cfg *InjectorConfig
	var cfgSrc string
	type rawSource struct {
		data []byte
		src  string
	}
	var cfgCandidates []rawSource
	if typed != nil {
		cfgCandidates = append(cfgCandidates, rawSource{typed.spec.Injector.Config, typed.source + " spec.injector.config"})
	}
	if fnCM != nil {
		cfgCandidates = append(cfgCandidates, rawSource{fnCM.spec.Injector.Config, fnCM.source + " data.config"})
	}
	if len(cfgCandidates) == 0 {
		looked = append(looked, "the function config (none given)")
	}
	for _, c := range cfgCandidates {
		looked = append(looked, lookedAt(c.src, c.data != nil, "not set"))
	}
	for _, c := range cfgCandidates {
		if c.data == nil {
			continue
		}
		parsed, err := ParseInjectorConfig(c.data)
		if err != nil {
			return nil, fmt.Errorf("%s: %w", c.src, err)
		}
		cfg, cfgSrc = parsed, c.src
		break
	}
	if cfg == nil {
		looked = append(looked, lookedAt("--injectConfigFile", l.in.InjectConfig != nil, "not given"))
		if l.in.InjectConfig != nil {
			src := flagSource("--injectConfigFile", l.in.InjectConfigPath)
			parsed, err := ParseInjectConfigFile(l.in.InjectConfig)
			if err != nil {
				return nil, fmt.Errorf("%s: %w", src, err)
			}
			cfg, cfgSrc = parsed, src
		}
	}
	if cfg == nil {
		name := cms.injectorName(rev)
		looked = append(looked, fmt.Sprintf("ConfigMap %q data.config in --config files and in the input items (not found)", name))
		cm, err := cms.find(name)
		if err != nil {
			return nil, err
		}
		if cm != nil {
			cfg, cfgSrc, err = cm.injectorConfig()
			if err != nil {
				return nil, err
			}
		}
	}
	if cfg == nil {
		msg := fmt.Sprintf("no injector configuration (data.config) for revision %q; looked in: %s", rev, strings.Join(looked, "; "))
		if others := cms.revisions(); len(others) > 0 {
			msg += fmt.Sprintf(" (ConfigMaps exist for revisions: %s; select one with revision or -r)", strings.Join(others, ", "))
		}
		return nil, fmt.Errorf("%s", msg)
	}
	l.useInjectorConfig(inj, cfg, cfgSrc)

	// data.values
	looked = looked[:0]
	var values map[string]any
	var valuesSrc string
	setValues := func(data []byte, src string) error {
		looked = append(looked, lookedAt(src, data != nil, "not given"))
		if values != nil || data == nil {
			return nil
		}
		v, err := ParseValues(data)
		if err != nil {
			return fmt.Errorf("%s: %w", src, err)
		}
		values, valuesSrc = v, src
		return nil
	}
	if typed == nil && fnCM == nil {
		looked = append(looked, "the function config (none given)")
	}
	if typed != nil {
		if err := setValues(typed.spec.Injector.Values, typed.source+" spec.injector.values"); err != nil {
			return nil, err
		}
	}
	if fnCM != nil {
		if err := setValues(fnCM.spec.Injector.Values, fnCM.source+" data.values"); err != nil {
			return nil, err
		}
	}
	var opMesh *meshconfig.MeshConfig
	opSrc := flagSource("--operatorFileName", l.in.OperatorPath)
	if l.in.Operator != nil {
		opValues, m, ws, err := parseOperator(l.in.Operator)
		if err != nil {
			return nil, fmt.Errorf("%s: %w", opSrc, err)
		}
		for _, w := range ws {
			l.warn("%s: %s", opSrc, w)
		}
		opMesh = m
		if values == nil {
			values, valuesSrc = opValues, opSrc+" spec.values"
			if l.in.Values != nil {
				l.warn("%s is ignored: %s supplies the values (as in istioctl)",
					flagSource("--valuesFile", l.in.ValuesPath), opSrc)
			}
		}
	}
	if l.in.Operator == nil {
		looked = append(looked, "--operatorFileName (not given)")
	}
	if err := setValues(l.in.Values, flagSource("--valuesFile", l.in.ValuesPath)); err != nil {
		return nil, err
	}
	if values == nil {
		name := cms.injectorName(rev)
		looked = append(looked, fmt.Sprintf("ConfigMap %q data.values in --config files and in the input items (not found)", name))
		cm, err := cms.find(name)
		if err != nil {
			return nil, err
		}
		if cm != nil {
			if _, ok := cm.data["values"]; ok {
				if values, valuesSrc, err = cm.values(); err != nil {
					return nil, err
				}
			}
		}
	}
	if values == nil {
		return nil, fmt.Errorf("no injector values (data.values) for revision %q; looked in: %s", rev, strings.Join(looked, "; "))
	}
	inj.Values, inj.Sources.Values = values, valuesSrc

	// data.mesh
	var mesh *meshconfig.MeshConfig
	var meshSrc string
	setMesh := func(data []byte, src string) error {
		if mesh != nil || data == nil {
			return nil
		}
		m, ws, err := parseMesh(data)
		if err != nil {
			return fmt.Errorf("%s: %w", src, err)
		}
		for _, w := range ws {
			l.warn("%s: %s", src, w)
		}
		mesh, meshSrc = m, src
		return nil
	}
	if typed != nil {
		if err := setMesh(typed.spec.Injector.Mesh, typed.source+" spec.injector.mesh"); err != nil {
			return nil, err
		}
	}
	if fnCM != nil {
		if err := setMesh(fnCM.spec.Injector.Mesh, fnCM.source+" data.mesh"); err != nil {
			return nil, err
		}
	}
	if mesh == nil && opMesh != nil {
		mesh, meshSrc = opMesh, opSrc+" spec.meshConfig"
		if l.in.Mesh != nil {
			l.warn("%s is ignored: %s has spec.meshConfig (as in istioctl)",
				flagSource("--meshConfigFile", l.in.MeshPath), opSrc)
		}
	}
	if err := setMesh(l.in.Mesh, flagSource("--meshConfigFile", l.in.MeshPath)); err != nil {
		return nil, err
	}
	if mesh == nil {
		m, src, err := l.configMapMesh(rev, cms)
		if err != nil {
			return nil, err
		}
		mesh, meshSrc = m, src
	}
	inj.Mesh, inj.Sources.Mesh = mesh, meshSrc
	return inj, nil
}

// checkTexts holds every YAML text of Istio's configuration to the input
// limits before any parser sees it: the parsers expand aliases (bounded
// only by a ratio, after millions of nodes) and nest without a configurable
// limit. Syntax errors are left to the parsers, which report them in
// their terms; a bare template is not YAML at all.
func (l *loader) checkTexts(o Options, typed, fnCM *functionSettings, cms *configMapIndex) error {
	lim := manifest.Limits{MaxInputSize: o.MaxInputSize, MaxDepth: o.MaxNestingDepth, MaxAliasExpansion: o.MaxAliasExpansion}
	check := func(src string, data []byte) error {
		if manifest.Bounded(data, lim) || withinLimits(data, lim) {
			return nil // within the limits by its text alone: no need to parse
		}
		if err := manifest.Check(src, data, lim); errors.Is(err, manifest.ErrLimit) {
			return err
		}
		return nil
	}
	for _, fs := range []*functionSettings{typed, fnCM} {
		if fs == nil {
			continue
		}
		for _, t := range []struct {
			key  string
			data []byte
		}{{"config", fs.spec.Injector.Config}, {"values", fs.spec.Injector.Values}, {"mesh", fs.spec.Injector.Mesh}} {
			src := fs.source + " data." + t.key
			if fs == typed {
				src = fs.source + " spec.injector." + t.key
			}
			if err := check(src, t.data); err != nil {
				return err
			}
		}
	}
	for _, f := range []struct {
		flag, path string
		data       []byte
	}{
		{"--injectConfigFile", l.in.InjectConfigPath, l.in.InjectConfig},
		{"--valuesFile", l.in.ValuesPath, l.in.Values},
		{"--meshConfigFile", l.in.MeshPath, l.in.Mesh},
		{"--operatorFileName", l.in.OperatorPath, l.in.Operator},
	} {
		if err := check(flagSource(f.flag, f.path), f.data); err != nil {
			return err
		}
	}
	for _, tier := range cms.tiers {
		for _, cm := range tier {
			for _, key := range []string{"config", "values", "mesh"} {
				if data, ok := cm.data[key]; ok {
					if err := check(cm.source(key), []byte(data)); err != nil {
						return err
					}
				}
			}
		}
	}
	return nil
}

// configMapInjector builds a revision's injector from ConfigMaps only.
func (l *loader) configMapInjector(rev string, cms *configMapIndex) (*Injector, error) {
	name := cms.injectorName(rev)
	cm, err := cms.find(name)
	if err != nil {
		return nil, err
	}
	if cm == nil {
		return nil, fmt.Errorf("revision %q: no ConfigMap %q in --config files or in the input items", rev, name)
	}
	inj := &Injector{Revision: rev}
	cfg, src, err := cm.injectorConfig()
	if err != nil {
		return nil, err
	}
	l.useInjectorConfig(inj, cfg, src)
	if inj.Values, inj.Sources.Values, err = cm.values(); err != nil {
		return nil, err
	}
	if inj.Mesh, inj.Sources.Mesh, err = l.configMapMesh(rev, cms); err != nil {
		return nil, err
	}
	return inj, nil
}

func (l *loader) configMapMesh(rev string, cms *configMapIndex) (*meshconfig.MeshConfig, string, error) {
	name := cms.meshName(rev)
	cm, err := cms.find(name)
	if err != nil {
		return nil, "", err
	}
	if cm == nil {
		if rev != DefaultRevision {
			l.warn("revision %q: no mesh ConfigMap %q; using Istio's mesh defaults", rev, name)
		}
		return DefaultMeshConfig(), "Istio's defaults", nil
	}
	data, ok := cm.data["mesh"]
	if !ok {
		return nil, "", fmt.Errorf("%s: no key \"mesh\"", cm.describe())
	}
	src := cm.source("mesh")
	m, ws, err := parseMesh([]byte(data))
	if err != nil {
		return nil, "", fmt.Errorf("%s: %w", src, err)
	}
	for _, w := range ws {
		l.warn("%s: %s", src, w)
	}
	return m, src, nil
}

func (l *loader) useInjectorConfig(inj *Injector, cfg *InjectorConfig, src string) {
	inj.Policy = cfg.Policy
	inj.NeverInjectSelector = cfg.NeverInjectSelector
	inj.AlwaysInjectSelector = cfg.AlwaysInjectSelector
	inj.DefaultTemplates = cfg.DefaultTemplates
	inj.Aliases = cfg.Aliases
	inj.Templates = cfg.Templates
	inj.InjectedAnnotations = cfg.InjectedAnnotations
	inj.Sources.Config = src
	for _, w := range cfg.Warnings {
		l.warn("%s: %s", src, w)
	}
}

// lookedAt describes a place Load looked in for an error message.
func lookedAt(src string, present bool, absent string) string {
	if present {
		return src
	}
	return src + " (" + absent + ")"
}

func flagSource(flag, path string) string {
	if path == "" {
		return flag
	}
	return flag + " " + path
}

func describeObject(n *yaml.RNode) string {
	s := strings.TrimSpace(n.GetApiVersion() + " " + n.GetKind())
	if s == "" {
		s = "without apiVersion and kind"
	}
	if name := n.GetName(); name != "" {
		s += fmt.Sprintf(" %q", name)
	}
	return s
}

// objectID is "namespace/name", or the quoted name without a namespace.
func objectID(n *yaml.RNode) string {
	if ns := n.GetNamespace(); ns != "" {
		return ns + "/" + n.GetName()
	}
	return strconv.Quote(n.GetName())
}

func sortedKeys[V any](m map[string]V) []string {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	return keys
}

// resolveTag maps a revision tag to its revision: from the configured
// tags, else from a tag webhook of a rendered install in items (Istio labels
// istio-revision-tag-<tag> with istio.io/tag and istio.io/rev). A name that
// is no tag is returned as it is.
func resolveTag(name string, tags map[string]string, items []*yaml.RNode) string {
	if rev, ok := tags[name]; ok {
		return rev
	}
	for _, it := range items {
		if it.GetKind() != "MutatingWebhookConfiguration" {
			continue
		}
		labels := it.GetLabels()
		if labels["istio.io/tag"] == name && labels["istio.io/rev"] != "" {
			return labels["istio.io/rev"]
		}
	}
	return name
}
