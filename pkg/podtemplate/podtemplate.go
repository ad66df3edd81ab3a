// Package podtemplate finds the pod templates inside resources: which kinds
// carry one, where its metadata and spec sit, and how to read it as a typed
// Pod. It never modifies a resource.
package podtemplate

import (
	"encoding/json"
	"fmt"
	"reflect"
	"slices"
	"strings"

	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"sigs.k8s.io/kustomize/kyaml/kio/kioutil"
	"sigs.k8s.io/kustomize/kyaml/yaml"

	"github.com/inject-sidecar/inject-sidecar/pkg/internal/typedjson"
)

// Target is one pod template inside one resource.
type Target struct {
	// Resource is the top-level item of the input that holds the template.
	Resource *yaml.RNode
	// Index is Resource's position in the input.
	Index int
	// Object is the object that owns the template: Resource itself, or an
	// item of a List (possibly nested).
	Object *yaml.RNode
	// Path locates Object inside Resource ("" or "items[2].items[0]").
	Path string
	// TypeMeta, Name and Namespace are Object's own.
	TypeMeta        metav1.TypeMeta
	Name, Namespace string
	// MetaPath and SpecPath lead from Object to the pod template's metadata
	// and spec. For a CronJob the metadata is the job template's, as
	// istioctl kube-inject does it, unless Find was given PodMetadata.
	MetaPath, SpecPath []string
}

// layout says where a kind keeps its pod template.
type layout struct{ meta, spec []string }

var (
	templateLayout = layout{meta: []string{"spec", "template", "metadata"}, spec: []string{"spec", "template", "spec"}}
	podLayout      = layout{meta: []string{"metadata"}, spec: []string{"spec"}}
	cronJobLayout  = layout{meta: []string{"spec", "jobTemplate", "metadata"}, spec: []string{"spec", "jobTemplate", "spec", "template", "spec"}}
	// cronJobPodLayout is the metadata the API server's webhook sees for
	// a CronJob: that of the pods its Jobs create.
	cronJobPodLayout = layout{meta: []string{"spec", "jobTemplate", "spec", "template", "metadata"}, spec: cronJobLayout.spec}
)

// Option changes what Find returns.
type Option func(*options)

type options struct{ podMetadata bool }

// PodMetadata makes a CronJob's metadata that of its Jobs' pod template
// (spec.jobTemplate.spec.template.metadata), which is what the webhook
// reads and writes for the pods the CronJob creates. Without it, it is
// the job template's (spec.jobTemplate.metadata), where istioctl
// kube-inject reads and writes: its labels then land on the Jobs, not on
// the pods.
func PodMetadata() Option { return func(o *options) { o.podMetadata = true } }

// JobTemplateMetaPath is where, without PodMetadata, a CronJob target's
// metadata is; uninject uses it for CronJobs injected that way.
func JobTemplateMetaPath() []string { return slices.Clone(cronJobLayout.meta) }

// localConfigAnnotation marks resources that only client-side tools read.
const localConfigAnnotation = "config.kubernetes.io/local-config"

// layoutFor matches Istio's kinds by kind alone, whatever the apiVersion, as
// kube-inject does; Argo Rollouts, which Istio cannot handle, by group too,
// since "Rollout" is a common name for unrelated custom kinds.
func layoutFor(apiVersion, kind string) (layout, bool) {
	switch kind {
	case "Pod":
		return podLayout, true
	case "Deployment", "DaemonSet", "ReplicaSet", "StatefulSet", "Job", "ReplicationController", "DeploymentConfig":
		return templateLayout, true
	case "CronJob":
		return cronJobLayout, true
	case "Rollout":
		if strings.HasPrefix(apiVersion, "argoproj.io/") {
			return templateLayout, true
		}
	}
	return layout{}, false
}

// Find returns every pod template in items, in input order. Kptfiles and
// resources marked config.kubernetes.io/local-config: "true" are skipped,
// at the top level and inside Lists. A List's items are searched
// recursively. An object of a matching kind without a pod spec (a Rollout
// with a workloadRef, a partial object) holds no template and is not
// returned; one whose pod spec is there but malformed is, and its Pod
// method reports the fault.
func Find(items []*yaml.RNode, opts ...Option) ([]Target, error) {
	var o options
	for _, opt := range opts {
		opt(&o)
	}
	var out []Target
	for i, item := range items {
		if item == nil {
			continue
		}
		found, err := find(item, item, content(item.YNode()), i, "")
		if err != nil {
			return nil, err
		}
		if o.podMetadata {
			for j := range found {
				if found[j].TypeMeta.Kind == "CronJob" {
					found[j].MetaPath = slices.Clone(cronJobPodLayout.meta)
				}
			}
		}
		out = append(out, found...)
	}
	return out, nil
}

func skipped(obj *yaml.Node) bool {
	if scalar(field(obj, "kind")) == "Kptfile" {
		return true
	}
	return scalar(field(field(field(obj, "metadata"), "annotations"), localConfigAnnotation)) == "true"
}

// find looks at obj, which is resource itself (objRN is then resource) or
// an item of a List inside it.
func find(resource, objRN *yaml.RNode, obj *yaml.Node, index int, path string) ([]Target, error) {
	if obj == nil || obj.Kind != yaml.MappingNode || skipped(obj) {
		return nil, nil
	}
	apiVersion, kind := scalar(field(obj, "apiVersion")), scalar(field(obj, "kind"))
	if kind == "List" {
		return findInList(resource, obj, index, path)
	}
	l, ok := layoutFor(apiVersion, kind)
	if !ok {
		return nil, nil
	}
	if spec, err := walk(obj, l.spec); spec == nil && err == nil {
		// No pod spec: a Rollout referencing a Deployment's template
		// (workloadRef) or a partial object; there is nothing to inject.
		return nil, nil
	}
	if objRN == nil {
		objRN = yaml.NewRNode(obj)
	}
	meta := field(obj, "metadata")
	return []Target{{
		Resource:  resource,
		Index:     index,
		Object:    objRN,
		Path:      path,
		TypeMeta:  metav1.TypeMeta{APIVersion: apiVersion, Kind: kind},
		Name:      scalar(field(meta, "name")),
		Namespace: scalar(field(meta, "namespace")),
		MetaPath:  slices.Clone(l.meta),
		SpecPath:  slices.Clone(l.spec),
	}}, nil
}

func findInList(resource *yaml.RNode, list *yaml.Node, index int, path string) ([]Target, error) {
	itemsPath := joinPath(path, "items")
	items := field(list, "items")
	if isNull(items) {
		return nil, nil
	}
	if items.Kind != yaml.SequenceNode {
		return nil, fmt.Errorf("%s: field %s: expected a list of objects, got %s",
			describe(resource, index), itemsPath, describeNode(items))
	}
	var out []Target
	for j, el := range items.Content {
		// An item that is an alias (- *dep) keeps its own node as Object,
		// so writing it back expands the alias instead of editing the
		// anchored item, which is a target of its own.
		var objRN *yaml.RNode
		if el != nil && el.Kind == yaml.AliasNode {
			objRN = yaml.NewRNode(el)
		}
		found, err := find(resource, objRN, resolve(el), index, fmt.Sprintf("%s[%d]", itemsPath, j))
		if err != nil {
			return nil, err
		}
		out = append(out, found...)
	}
	return out, nil
}

// Pod reads the template as a typed Pod. Fields unknown to k8s.io/api are
// not in it; the write-back stage keeps them in the resource. Errors name
// the resource and the field at fault, down to the list index or map key.
func (t *Target) Pod() (*corev1.Pod, error) {
	if t == nil || t.Object == nil {
		return nil, fmt.Errorf("pod template: no object to read")
	}
	pod := &corev1.Pod{}
	if err := t.decode(t.MetaPath, &pod.ObjectMeta); err != nil {
		return nil, err
	}
	if err := t.decode(t.SpecPath, &pod.Spec); err != nil {
		return nil, err
	}
	return pod, nil
}

func (t *Target) decode(path []string, into any) error {
	n, nerr := walk(content(t.Object.YNode()), path)
	if nerr != nil {
		return t.fieldError(nil, nerr)
	}
	if n == nil {
		return nil
	}
	if n.Kind != yaml.MappingNode {
		return t.fieldError(path, &nodeError{msg: "expected an object, got " + describeNode(n)})
	}
	v, nerr := toJSON(n, 0)
	if nerr != nil {
		return t.fieldError(path, nerr)
	}
	if typedjson.FromModel(v, into) {
		return nil
	}
	// Through JSON text, which also words the errors, into a fresh value.
	reflect.ValueOf(into).Elem().SetZero()
	raw, err := json.Marshal(v)
	if err != nil {
		return t.fieldError(path, &nodeError{msg: err.Error()})
	}
	if err := json.Unmarshal(raw, into); err != nil {
		return t.fieldError(path, locate(n, typeOf(into), err))
	}
	return nil
}

func (t *Target) fieldError(path []string, e *nodeError) error {
	return fmt.Errorf("%s: field %s: %s", t, t.Field(append(append([]string(nil), path...), e.path)...), e.msg)
}

// Field renders a field path below Object for messages, prefixed with
// Object's place in a List when it has one. Elements may be names
// ("spec"), dotted paths ("spec.template") or start with an index
// ("[0]").
func (t *Target) Field(path ...string) string {
	s := t.Path
	for _, p := range path {
		s = joinPath(s, p)
	}
	return s
}

// String names the object for messages: "Deployment demo/hello", with the
// enclosing List and its position when the object is a List item.
// An unnamed top-level object is told apart by its position in the input
// ("Deployment (unnamed #3)"), a List item by its path.
func (t *Target) String() string {
	if t.Path != "" {
		return fmt.Sprintf("%s %s (%s of %s)", t.TypeMeta.Kind, qualified(t.Namespace, t.Name, ""),
			t.Path, describe(t.Resource, t.Index))
	}
	return t.TypeMeta.Kind + " " + qualified(t.Namespace, t.Name, fmt.Sprintf(" #%d", t.Index+1))
}

// ResourceID identifies Object for structured results.
func (t *Target) ResourceID() yaml.ResourceIdentifier {
	return yaml.ResourceIdentifier{
		TypeMeta: yaml.TypeMeta{APIVersion: t.TypeMeta.APIVersion, Kind: t.TypeMeta.Kind},
		NameMeta: yaml.NameMeta{Name: t.Name, Namespace: t.Namespace},
	}
}

// File returns the source file and document index the reader recorded on
// Resource, when it did: the internal.config.kubernetes.io annotations, or
// the legacy config.kubernetes.io ones older orchestrators write.
func (t *Target) File() (path string, index string) {
	if t == nil || t.Resource == nil {
		return "", ""
	}
	ann := field(field(content(t.Resource.YNode()), "metadata"), "annotations")
	get := func(key, legacy string) string {
		if v := field(ann, key); v != nil {
			return scalar(v)
		}
		return scalar(field(ann, legacy))
	}
	return get(kioutil.PathAnnotation, kioutil.LegacyPathAnnotation),
		get(kioutil.IndexAnnotation, kioutil.LegacyIndexAnnotation)
}

func describe(n *yaml.RNode, index int) string {
	var obj *yaml.Node
	if n != nil {
		obj = content(n.YNode())
	}
	kind := scalar(field(obj, "kind"))
	if kind == "" {
		return fmt.Sprintf("resource #%d", index+1)
	}
	meta := field(obj, "metadata")
	return kind + " " + qualified(scalar(field(meta, "namespace")), scalar(field(meta, "name")), fmt.Sprintf(" #%d", index+1))
}

// qualified renders namespace/name; an unnamed object is "(unnamed)" with
// position, which tells it apart.
func qualified(ns, name, position string) string {
	if name == "" {
		name = "(unnamed" + position + ")"
	}
	if ns == "" {
		return name
	}
	return ns + "/" + name
}

// joinPath appends b to the field path a: with a dot, or directly when b
// starts with an index or a bracketed key.
func joinPath(a, b string) string {
	switch {
	case a == "":
		return b
	case b == "":
		return a
	case strings.HasPrefix(b, "["):
		return a + b
	}
	return a + "." + b
}
