package writeback

import (
	"bytes"
	"encoding/json"
	"fmt"
	"math/rand/v2"
	"os"
	"path/filepath"
	"reflect"
	"sort"
	"strings"
	"testing"

	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/api/resource"
	"k8s.io/apimachinery/pkg/util/intstr"
	"sigs.k8s.io/kustomize/kyaml/yaml"
	"sigs.k8s.io/randfill"

	"github.com/inject-sidecar/inject-sidecar/pkg/internal/typedjson"
	"github.com/inject-sidecar/inject-sidecar/pkg/podtemplate"
)

// The typed write-back (tapeValue) is a shortcut for the model one
// (modelValue): the tests here hold it to writing the very same nodes,
// with the same report and errors, on the testdata pods with their edits
// and random ones, on Istio's corpus (injected and uninjected) and on
// generated workloads.

// differential runs Pod both ways on two parses of src, with the after
// pods that mutate makes of each target's pod (i is the target's index),
// and reports the first difference.
func differential(t testing.TB, src []byte, mutate func(i int, p *corev1.Pod)) {
	t.Helper()
	run := func(typed bool) (*yaml.Node, []string, bool) {
		var doc yaml.Node
		if err := yaml.Unmarshal(src, &doc); err != nil || len(doc.Content) == 0 {
			return nil, nil, false
		}
		targets, err := podtemplate.Find([]*yaml.RNode{yaml.NewRNode(doc.Content[0])})
		if err != nil || len(targets) == 0 {
			return nil, nil, false
		}
		befores := make([]*corev1.Pod, len(targets))
		afters := make([]*corev1.Pod, len(targets))
		for i := range targets {
			before, err := targets[i].Pod()
			if err != nil {
				before = &corev1.Pod{}
			}
			befores[i], afters[i] = before, before.DeepCopy()
			mutate(i, afters[i])
		}
		var results []string
		for i := range targets {
			changed, err := podWith(&targets[i], befores[i], afters[i], typed)
			results = append(results, fmt.Sprintf("target %d: changed %v, error %v", i, changed, err))
			if err != nil {
				break
			}
		}
		return &doc, results, true
	}
	typedDoc, typedResults, ok := run(true)
	if !ok {
		return
	}
	modelDoc, modelResults, _ := run(false)
	if !reflect.DeepEqual(typedResults, modelResults) {
		t.Fatalf("typed write-back reports\n%s\nthe model one\n%s", strings.Join(typedResults, "\n"), strings.Join(modelResults, "\n"))
	}
	if diff := nodeDiff(typedDoc, modelDoc, "", 0); diff != "" {
		t.Fatalf("typed and model write-backs differ at %s", diff)
	}
}

// nodeDiff compares two node trees field by field; aliases by the anchor
// they point to.
func nodeDiff(a, b *yaml.Node, path string, depth int) string {
	switch {
	case a == nil && b == nil:
		return ""
	case a == nil || b == nil:
		return fmt.Sprintf("%s: one node is missing", path)
	case depth > 400:
		return ""
	}
	type fields struct {
		Kind                                  yaml.Kind
		Style                                 yaml.Style
		Tag, Value, Anchor                    string
		HeadComment, LineComment, FootComment string
		Line, Column, Content                 int
		Alias                                 string
	}
	of := func(n *yaml.Node) fields {
		f := fields{n.Kind, n.Style, n.Tag, n.Value, n.Anchor, n.HeadComment, n.LineComment, n.FootComment, n.Line, n.Column, len(n.Content), ""}
		if n.Alias != nil {
			f.Alias = fmt.Sprintf("%s@%d:%d", n.Alias.Anchor, n.Alias.Line, n.Alias.Column)
		}
		return f
	}
	if fa, fb := of(a), of(b); fa != fb {
		return fmt.Sprintf("%s: typed %+v, model %+v", path, fa, fb)
	}
	for i := range a.Content {
		if d := nodeDiff(a.Content[i], b.Content[i], fmt.Sprintf("%s/%d", path, i), depth+1); d != "" {
			return d
		}
	}
	return ""
}

// podEdits are the changes TestPod makes, and a few more.
var podEdits = map[string]func(p *corev1.Pod){
	"uninjected-metadata": func(p *corev1.Pod) { p.Labels, p.Annotations = nil, nil },
	"injected-canonical": func(p *corev1.Pod) {
		if len(p.Spec.Containers) > 1 {
			p.Spec.Containers[1].Env = []corev1.EnvVar{{Name: "PROXY_CONFIG", Value: "{}"}}
		}
	},
	"injected": inject,
	"cronjob-no-metadata": func(p *corev1.Pod) {
		p.Annotations = map[string]string{"sidecar.istio.io/status": `{"containers":["istio-proxy"]}`}
		p.Labels = map[string]string{"security.istio.io/tlsMode": "istio"}
	},
	"list-item": func(p *corev1.Pod) {
		p.Annotations = map[string]string{"sidecar.istio.io/status": "{}"}
		p.Spec.Containers = append(p.Spec.Containers, corev1.Container{Name: "istio-proxy", Image: "proxyv2"})
	},
	"native": func(p *corev1.Pod) {
		// istio-proxy moves to the init containers, as native sidecars do.
		for i, c := range p.Spec.Containers {
			if c.Name == "istio-proxy" {
				c.RestartPolicy = ptr(corev1.ContainerRestartPolicyAlways)
				p.Spec.InitContainers = append(p.Spec.InitContainers, c)
				p.Spec.Containers = append(p.Spec.Containers[:i:i], p.Spec.Containers[i+1:]...)
				p.Annotations = map[string]string{"sidecar.istio.io/status": `{"initContainers":["istio-proxy"]}`}
				return
			}
		}
	},
}

func TestTypedMatchesModel(t *testing.T) {
	files, _ := filepath.Glob(filepath.Join("testdata", "pod", "*.in.yaml"))
	if len(files) == 0 {
		t.Fatal("no testdata/pod/*.in.yaml")
	}
	names := make([]string, 0, len(podEdits))
	for name := range podEdits {
		names = append(names, name)
	}
	sort.Strings(names)
	for _, file := range files {
		src, err := os.ReadFile(file)
		if err != nil {
			t.Fatal(err)
		}
		for _, name := range names {
			t.Run(filepath.Base(file)+"/"+name, func(t *testing.T) {
				differential(t, src, func(_ int, p *corev1.Pod) {
					defer func() { _ = recover() }() // an edit that does not fit this pod
					podEdits[name](p)
				})
			})
		}
		for seed := range uint64(40) {
			t.Run(fmt.Sprintf("%s/random-%d", filepath.Base(file), seed), func(t *testing.T) {
				differential(t, src, func(i int, p *corev1.Pod) {
					mutatePod(p, rand.New(rand.NewPCG(seed, uint64(i))))
				})
			})
		}
	}
}

// TestTypedMatchesModelCorpus writes each pod of Istio's corpus as its
// golden file has it injected, and back (uninjection), both ways.
func TestTypedMatchesModelCorpus(t *testing.T) {
	dir := os.Getenv("ISTIO_CONFORMANCE_DIR")
	if dir == "" {
		dir = filepath.Join("..", "..", "..", "shared", "istio-conformance")
	}
	outputs, _ := filepath.Glob(filepath.Join(dir, "inject", "*.injected"))
	if len(outputs) == 0 {
		if os.Getenv("CI") == "true" {
			t.Fatalf("Istio's corpus is not at %s", dir)
		}
		t.Skipf("Istio's corpus is not at %s (set ISTIO_CONFORMANCE_DIR): the corpus pods are not compared", dir)
	}
	pairs := 0
	for _, out := range outputs {
		in := filepath.Join(dir, "inject", strings.SplitN(filepath.Base(out), ".yaml", 2)[0]+".yaml")
		inSrc, err1 := os.ReadFile(in)
		outSrc, err2 := os.ReadFile(out)
		if err1 != nil || err2 != nil {
			continue
		}
		inDocs, outDocs := splitDocs(inSrc), splitDocs(outSrc)
		if len(inDocs) != len(outDocs) {
			continue
		}
		for d := range inDocs {
			for _, way := range []struct {
				name     string
				from, to []byte
			}{{"inject", inDocs[d], outDocs[d]}, {"uninject", outDocs[d], inDocs[d]}} {
				goal := podsOf(way.to)
				if goal == nil {
					continue
				}
				pairs++
				t.Run(fmt.Sprintf("%s/%d/%s", filepath.Base(out), d, way.name), func(t *testing.T) {
					differential(t, way.from, func(i int, p *corev1.Pod) {
						if i < len(goal) {
							*p = *goal[i].DeepCopy()
						}
					})
				})
			}
		}
	}
	if pairs < 100 {
		t.Errorf("only %d corpus pods compared", pairs)
	}
}

// splitDocs splits a multi-document YAML file.
func splitDocs(src []byte) [][]byte {
	var out [][]byte
	for _, d := range bytes.Split(src, []byte("\n---")) {
		if len(bytes.TrimSpace(d)) > 0 {
			out = append(out, d)
		}
	}
	return out
}

// podsOf reads the pods of a document's templates, nil when there are
// none or one is unreadable.
func podsOf(src []byte) []*corev1.Pod {
	var doc yaml.Node
	if err := yaml.Unmarshal(src, &doc); err != nil || len(doc.Content) == 0 {
		return nil
	}
	targets, err := podtemplate.Find([]*yaml.RNode{yaml.NewRNode(doc.Content[0])})
	if err != nil || len(targets) == 0 {
		return nil
	}
	var pods []*corev1.Pod
	for i := range targets {
		p, err := targets[i].Pod()
		if err != nil {
			return nil
		}
		pods = append(pods, p)
	}
	return pods
}

// FuzzTypedMatchesModel holds the typed write-back to the model one on
// any document and random edits of its pods.
func FuzzTypedMatchesModel(f *testing.F) {
	files, _ := filepath.Glob(filepath.Join("testdata", "pod", "*.in.yaml"))
	for i, file := range files {
		src, err := os.ReadFile(file)
		if err != nil {
			f.Fatal(err)
		}
		f.Add(src, uint64(i))
	}
	f.Fuzz(func(t *testing.T, src []byte, seed uint64) {
		differential(t, src, func(i int, p *corev1.Pod) {
			mutatePod(p, rand.New(rand.NewPCG(seed, uint64(i))))
		})
	})
}

// tricky are strings that YAML must quote, or write as blocks, or that
// encoding/json escapes or changes.
var tricky = []string{"", "true", "on", "15020", "a: b", "- x", "line one\nline two\n", "ünïcödé", " lead", "trail ",
	"#hash", "*", "{\"a\":1}", "100m", "1.5", "0x1F", "~", "a\tb", "<html>&",
	// Invalid UTF-8, which encoding/json changes: such pods take the JSON road.
	"\xff\xfe bad", "a\xc3"}

// mutatePod makes one to four random edits of the kinds injection and
// uninjection make, and some they do not.
func mutatePod(p *corev1.Pod, r *rand.Rand) {
	str := func() string {
		if r.IntN(2) == 0 {
			return tricky[r.IntN(len(tricky))]
		}
		return fmt.Sprintf("v%d", r.IntN(5))
	}
	pickList := func() *[]corev1.Container {
		if r.IntN(2) == 0 {
			return &p.Spec.Containers
		}
		return &p.Spec.InitContainers
	}
	for range 1 + r.IntN(4) {
		switch r.IntN(16) {
		case 0: // a new container, randomly filled, somewhere
			var c corev1.Container
			randfill.NewWithSeed(r.Int64()).NilChance(0.5).NumElements(0, 2).MaxDepth(6).Funcs(
				func(q *resource.Quantity, c randfill.Continue) {
					*q = resource.MustParse([]string{"0", "1", "100m", "1.5Gi", "3000m"}[c.Intn(5)])
				},
				func(q *intstr.IntOrString, c randfill.Continue) {
					if c.Bool() {
						*q = intstr.FromInt32(c.Int31n(70000))
					} else {
						*q = intstr.FromString("http")
					}
				},
			).Fill(&c)
			c.Name = []string{"istio-proxy", "istio-init", "app", str()}[r.IntN(4)]
			l := pickList()
			at := r.IntN(len(*l) + 1)
			*l = append((*l)[:at:at], append([]corev1.Container{c}, (*l)[at:]...)...)
		case 1: // a container moves to the other list
			from, to := &p.Spec.Containers, &p.Spec.InitContainers
			if r.IntN(2) == 0 {
				from, to = to, from
			}
			if len(*from) > 0 {
				i := r.IntN(len(*from))
				c := (*from)[i]
				*from = append((*from)[:i:i], (*from)[i+1:]...)
				*to = append(*to, c)
			}
		case 2: // a container goes
			l := pickList()
			if len(*l) > 0 {
				i := r.IntN(len(*l))
				*l = append((*l)[:i:i], (*l)[i+1:]...)
			}
		case 3: // lists reversed
			for _, l := range []*[]corev1.Container{&p.Spec.Containers, &p.Spec.InitContainers} {
				for i, j := 0, len(*l)-1; i < j; i, j = i+1, j-1 {
					(*l)[i], (*l)[j] = (*l)[j], (*l)[i]
				}
			}
		case 4: // labels and annotations
			if r.IntN(4) == 0 {
				p.Labels, p.Annotations = nil, nil
				continue
			}
			if p.Annotations == nil {
				p.Annotations = map[string]string{}
			}
			p.Annotations[str()] = str()
			if p.Labels == nil {
				p.Labels = map[string]string{}
			}
			if keys := sortedKeys(toAny(p.Labels)); len(keys) > 0 {
				k := keys[r.IntN(len(keys))]
				if r.IntN(2) == 0 {
					delete(p.Labels, k)
				} else {
					p.Labels[k] = str()
				}
			}
		case 5: // an image, a command, an argument
			if c := container(p, r); c != nil {
				c.Image = str()
				c.Args = append(c.Args, str())
				if r.IntN(2) == 0 {
					c.Command = nil
				}
			}
		case 6: // env
			if c := container(p, r); c != nil {
				switch {
				case len(c.Env) > 0 && r.IntN(2) == 0:
					i := r.IntN(len(c.Env))
					c.Env = append(c.Env[:i:i], c.Env[i+1:]...)
				case len(c.Env) > 0 && r.IntN(2) == 0:
					c.Env[r.IntN(len(c.Env))].Value = str()
				default:
					c.Env = append(c.Env, corev1.EnvVar{Name: str(), Value: str()})
				}
			}
		case 7: // probes rewritten, as for the app's health checks
			if c := container(p, r); c != nil {
				c.ReadinessProbe = &corev1.Probe{ProbeHandler: corev1.ProbeHandler{HTTPGet: &corev1.HTTPGetAction{
					Path: "/app-health/" + c.Name + "/readyz", Port: intstr.FromInt32(15020)}}}
				if c.LivenessProbe != nil {
					c.LivenessProbe.TCPSocket = nil
					c.LivenessProbe.HTTPGet = &corev1.HTTPGetAction{Path: "/app-health/livez", Port: intstr.FromInt32(15020)}
				}
			}
		case 8: // resources
			if c := container(p, r); c != nil {
				switch r.IntN(3) {
				case 0:
					c.Resources = corev1.ResourceRequirements{}
				case 1:
					c.Resources.Limits = corev1.ResourceList{corev1.ResourceCPU: resource.MustParse("3")}
				default:
					c.Resources.Requests = corev1.ResourceList{corev1.ResourceMemory: resource.MustParse("128Mi")}
				}
			}
		case 9: // volumes
			if len(p.Spec.Volumes) > 0 && r.IntN(2) == 0 {
				p.Spec.Volumes = p.Spec.Volumes[1:]
			} else {
				p.Spec.Volumes = append(p.Spec.Volumes, corev1.Volume{Name: str(),
					VolumeSource: corev1.VolumeSource{EmptyDir: &corev1.EmptyDirVolumeSource{Medium: corev1.StorageMediumMemory}}})
			}
		case 10: // numbers
			p.Spec.TerminationGracePeriodSeconds = ptr(int64(r.IntN(100)))
			if c := container(p, r); c != nil && len(c.Ports) > 0 {
				c.Ports[0].ContainerPort = int32(r.IntN(70000))
			}
		case 11: // pointers set and cleared
			if c := container(p, r); c != nil {
				if c.SecurityContext == nil {
					c.SecurityContext = &corev1.SecurityContext{RunAsUser: ptr(int64(1337)), RunAsNonRoot: ptr(true)}
				} else {
					c.SecurityContext = nil
				}
			}
			if p.Spec.SecurityContext != nil && r.IntN(2) == 0 {
				p.Spec.SecurityContext = nil
			}
		case 12: // the whole spec's scalars
			p.Spec.ServiceAccountName = str()
			p.Spec.DNSPolicy = corev1.DNSPolicy(str())
			p.Spec.NodeSelector = nil
		case 13: // volume mounts
			if c := container(p, r); c != nil {
				c.VolumeMounts = append([]corev1.VolumeMount{{Name: str(), MountPath: "/" + str()}}, c.VolumeMounts...)
			}
		case 14: // Istio's edits
			defer func() { _ = recover() }()
			inject(p)
		case 15: // a status as injection writes it
			if p.Annotations == nil {
				p.Annotations = map[string]string{}
			}
			var names []string
			for _, c := range append(append([]corev1.Container(nil), p.Spec.Containers...), p.Spec.InitContainers...) {
				if r.IntN(2) == 0 {
					names = append(names, c.Name)
				}
			}
			st, _ := json.Marshal(map[string]any{"containers": names, "initContainers": names})
			p.Annotations["sidecar.istio.io/status"] = string(st)
		}
	}
}

func toAny(m map[string]string) map[string]any {
	out := map[string]any{}
	for k, v := range m {
		out[k] = v
	}
	return out
}

// container picks a container of p, nil when it has none.
func container(p *corev1.Pod, r *rand.Rand) *corev1.Container {
	all := []*corev1.Container{}
	for i := range p.Spec.Containers {
		all = append(all, &p.Spec.Containers[i])
	}
	for i := range p.Spec.InitContainers {
		all = append(all, &p.Spec.InitContainers[i])
	}
	if len(all) == 0 {
		return nil
	}
	return all[r.IntN(len(all))]
}

// agreeOn reads part, a pointer to a part of a pod, as modelValue and
// tapeValue and compares every answer.
func agreeOn(part any, name string) string {
	m, err := modelOf(part)
	if err != nil {
		return err.Error()
	}
	tv, err := tapeOf(&typedjson.Arena{}, part)
	if err != nil {
		return err.Error()
	}
	var b builder
	return agree(m, tv, &b, name)
}

// TestValuesAgree compares modelValue and tapeValue on the testdata
// pods, with random edits.
func TestValuesAgree(t *testing.T) {
	files, _ := filepath.Glob(filepath.Join("testdata", "pod", "*.in.yaml"))
	n := 0
	for _, file := range files {
		src, err := os.ReadFile(file)
		if err != nil {
			t.Fatal(err)
		}
		for _, p := range podsOf(src) {
			for seed := range uint64(10) {
				q := p.DeepCopy()
				if seed > 0 {
					mutatePod(q, rand.New(rand.NewPCG(seed, 3)))
				}
				for _, part := range []any{&q.ObjectMeta, &q.Spec} {
					n++
					if d := agreeOn(part, fmt.Sprintf("%s seed %d", filepath.Base(file), seed)); d != "" {
						t.Fatal(d)
					}
				}
			}
		}
	}
	if n < 100 {
		t.Errorf("only %d values compared", n)
	}
}

// agree compares every answer of m and tv, which read the same value.
func agree(m modelValue, tv tapeValue, b *builder, path string) string {
	type answers struct {
		Null, Object, List bool
		Keys               []string
		Size, Length       int
		Str, Text          string
		IsStr, IsText      bool
	}
	of := func(v interface {
		isNull() bool
		object() bool
		list() bool
		keys() []string
		size() int
		length() int
		str() (string, bool)
		text() (string, bool)
	}) answers {
		a := answers{Null: v.isNull(), Object: v.object(), List: v.list(), Keys: v.keys(), Size: v.size(), Length: v.length()}
		a.Str, a.IsStr = v.str()
		a.Text, a.IsText = v.text()
		if len(a.Keys) == 0 {
			a.Keys = nil
		}
		return a
	}
	if am, at := of(m), of(tv); !reflect.DeepEqual(am, at) {
		return fmt.Sprintf("%s: model %+v, typed %+v", path, am, at)
	}
	mn, merr := m.node(b)
	tn, terr := tv.node(b)
	if (merr == nil) != (terr == nil) {
		return fmt.Sprintf("%s: node errors %v and %v", path, merr, terr)
	}
	if d := nodeDiff(tn, mn, path, 0); merr == nil && d != "" {
		return "node of " + d
	}
	for _, k := range m.keys() {
		mv, _ := m.get(k)
		tv2, ok := tv.get(k)
		if !ok {
			return fmt.Sprintf("%s.%s: missing typed", path, k)
		}
		if d := agree(mv, tv2, b, path+"."+k); d != "" {
			return d
		}
	}
	for _, k := range []string{"no-such-key", "name"} {
		mv, mok := m.get(k)
		tv2, tok := tv.get(k)
		if mok != tok || mv.isNull() != tv2.isNull() {
			return fmt.Sprintf("%s: get(%q) differs", path, k)
		}
	}
	for i := range m.length() {
		if d := agree(m.index(i), tv.index(i), b, fmt.Sprintf("%s[%d]", path, i)); d != "" {
			return d
		}
	}
	// Equality between the elements of a list, and with the value itself.
	for i := range m.length() {
		for j := range m.length() {
			if got, want := tv.index(i).equal(tv.index(j)), m.index(i).equal(m.index(j)); got != want {
				return fmt.Sprintf("%s: elements %d and %d: typed equal %v, model %v", path, i, j, got, want)
			}
		}
	}
	if !tv.equal(tv) {
		return fmt.Sprintf("%s: not equal to itself", path)
	}
	return ""
}
