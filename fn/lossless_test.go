package main

import (
	"bytes"
	"encoding/json"
	"fmt"
	"maps"
	"math/rand/v2"
	"os"
	"path/filepath"
	"reflect"
	"regexp"
	"slices"
	"sort"
	"strings"
	"testing"

	corev1 "k8s.io/api/core/v1"
	"sigs.k8s.io/kustomize/kyaml/yaml"
	sigsyaml "sigs.k8s.io/yaml"

	"github.com/inject-sidecar/inject-sidecar/pkg/config"
	"github.com/inject-sidecar/inject-sidecar/pkg/inject"
	"github.com/inject-sidecar/inject-sidecar/pkg/manifest"
	"github.com/inject-sidecar/inject-sidecar/pkg/podtemplate"
	"github.com/inject-sidecar/inject-sidecar/pkg/uninject"
)

// The properties of issue 5, checked over every input of Istio's corpus
// (with each case's own configuration) and over a generated set:
//
//   - lossless: documents that are not injected come out byte for byte
//     (inject command) or node for node (KRM mode); in injected ones,
//     comments, key order, quoting and unknown fields survive, also inside
//     the pod template and the user's containers; documents keep their
//     order and number, and nothing but the injection is added;
//   - the user's text: in the inject command's output, every line of an
//     injected document that injection did not change is there as
//     written (indentation, blank lines, trailing spaces), in order, also
//     for inputs laid out by hand (relayout), and the document reads
//     exactly as its edited nodes encoded again (checkKeptText);
//   - idempotent: injecting the output again changes no byte;
//   - switching native sidecars or the revision, or upgrading to another
//     configuration, and re-injecting gives what injecting the original
//     with the new setting gives;
//   - uninject(inject(x)) gives x back.

// losslessSetup is one configuration to run the commands with.
type losslessSetup struct {
	name string
	// mode is the decision mode: kube-inject or webhook.
	mode string
	env  fakeEnv
	// The configuration files: the SidecarInjector (--config) and the
	// kube-inject flag files; operator and revision are optional.
	sidecarInjector, injectConfig, values, mesh, operator, revision string
	// configs caches loaded configurations by setup, for the runs that
	// need not go through the command line.
	configs map[string]*config.Config
}

// losslessSidecarInjector writes the SidecarInjector that conformance
// cases run with, in the given decision mode, and returns its path.
func losslessSidecarInjector(t *testing.T, mode string) string {
	t.Helper()
	path := filepath.Join(t.TempDir(), "sidecar-injector-"+mode+".yaml")
	if err := os.WriteFile(path, []byte(losslessSidecarInjectorText(mode, nil)), 0o644); err != nil {
		t.Fatal(err)
	}
	return path
}

// losslessSidecarInjectorText is the SidecarInjector of the corpus cases
// (the OpenShift cases need their namespace's annotations), with the
// given extra spec fields.
func losslessSidecarInjectorText(mode string, extra map[string]any) string {
	spec := map[string]any{
		"decisionMode": mode,
		"namespaces": map[string]any{
			"test-ns": map[string]any{
				"labels": map[string]any{"istio-injection": "enabled"},
				"annotations": map[string]any{
					"openshift.io/sa.scc.uid-range":           "1000620000/10000",
					"openshift.io/sa.scc.supplemental-groups": "1000620000/10000",
				},
			},
		},
	}
	for k, v := range extra {
		spec[k] = v
	}
	b, err := sigsyaml.Marshal(map[string]any{
		"apiVersion": "inject-sidecar.dev/v1alpha1",
		"kind":       "SidecarInjector",
		"metadata":   map[string]any{"name": "lossless"},
		"spec":       spec,
	})
	if err != nil {
		panic(err) // a literal map always encodes
	}
	return string(b)
}

// losslessCaseSetup is a conformance case's configuration in the given
// decision mode, and the path of its input.
func losslessCaseSetup(t *testing.T, c conformanceCase, mode string, configs map[string]*config.Config) (losslessSetup, string) {
	t.Helper()
	s := losslessSetup{name: c.ID + " (" + mode + ")", mode: mode, env: fakeEnv{}, configs: configs}
	for k, v := range c.Env {
		s.env[k] = v
	}
	s.sidecarInjector = losslessSidecarInjector(t, mode)
	if c.Args == nil {
		s.injectConfig = filepath.Join(c.dir, c.InjectConfig)
		s.values = filepath.Join(c.dir, c.Values)
		s.mesh = filepath.Join(c.dir, c.Mesh)
		return s, filepath.Join(c.dir, c.Input)
	}
	input := ""
	for i := 0; i+1 < len(c.Args); i += 2 {
		v := filepath.Join(c.dir, c.Args[i+1])
		switch c.Args[i] {
		case "-f", "--filename":
			if input == "" {
				input = v
			}
		case "--injectConfigFile":
			s.injectConfig = v
		case "--valuesFile":
			s.values = v
		case "--meshConfigFile":
			s.mesh = v
		case "--operatorFileName":
			s.operator = v
		default:
			t.Fatalf("%s: unexpected argument %s", c.ID, c.Args[i])
		}
	}
	return s, input
}

func (s losslessSetup) flags() []string {
	var f []string
	for _, kv := range [][2]string{
		{"--config", s.sidecarInjector}, {"--injectConfigFile", s.injectConfig}, {"--valuesFile", s.values},
		{"--meshConfigFile", s.mesh}, {"--operatorFileName", s.operator}, {"--revision", s.revision},
	} {
		if kv[1] != "" {
			f = append(f, kv[0], kv[1])
		}
	}
	return f
}

// cli runs one command of the binary in-process on input.
func (s losslessSetup) cli(t *testing.T, command string, input []byte) ([]byte, string) {
	t.Helper()
	args := []string{command}
	if command != "uninject" {
		args = append(args, s.flags()...)
	}
	args = append(args, "-f", "-")
	var out, errOut bytes.Buffer
	cmd := newRootCommand(streams{In: bytes.NewReader(input), Out: &out, Err: &errOut}, s.env.lookup)
	cmd.SetArgs(args)
	if err := cmd.Execute(); err != nil {
		t.Fatalf("%s %s: %v\nstderr: %s", command, s.name, err, errOut.String())
	}
	return out.Bytes(), errOut.String()
}

// inject does what the inject command does, with the configuration
// loaded once per setup: the command line would parse Istio's 2,600
// lines of templates again for every run.
func (s losslessSetup) inject(t *testing.T, input []byte) []byte {
	t.Helper()
	out, err := s.tryInject(t, input)
	if err != nil {
		t.Fatalf("inject %s: %v", s.name, err)
	}
	return out
}

func (s losslessSetup) tryInject(t *testing.T, input []byte) ([]byte, error) {
	t.Helper()
	docs := losslessSplit(t, input)
	rep, err := inject.Run(s.config(t), manifest.Nodes(docs))
	if err != nil {
		return nil, err
	}
	changed := rep.Changed()
	var buf bytes.Buffer
	if err := manifest.Write(&buf, docs, func(d *manifest.Document) bool { return changed[d.Node] }); err != nil {
		t.Fatal(err)
	}
	return buf.Bytes(), nil
}

// injectKeeping does what the inject command does, and checks that the
// output keeps the user's text (see checkKeptText).
func (s losslessSetup) injectKeeping(t *testing.T, input []byte) []byte {
	t.Helper()
	docs := losslessSplit(t, input)
	rep, err := inject.Run(s.config(t), manifest.Nodes(docs))
	if err != nil {
		t.Fatalf("inject %s: %v", s.name, err)
	}
	changed := rep.Changed()
	var buf bytes.Buffer
	if err := manifest.Write(&buf, docs, func(d *manifest.Document) bool { return changed[d.Node] }); err != nil {
		t.Fatal(err)
	}
	checkKeptText(t, input, docs, buf.Bytes())
	return buf.Bytes()
}

func (s losslessSetup) config(t *testing.T) *config.Config {
	t.Helper()
	key := strings.Join(append(s.flags(), fmt.Sprint(losslessSortedEnv(s.env))), " ")
	if cfg, ok := s.configs[key]; ok {
		return cfg
	}
	in := config.Input{Revision: s.revision, Getenv: s.env.lookup, IstioEnvFallback: true}
	for _, f := range []struct {
		path string
		into *[]byte
	}{{s.injectConfig, &in.InjectConfig}, {s.values, &in.Values}, {s.mesh, &in.Mesh}, {s.operator, &in.Operator}} {
		if f.path == "" {
			continue
		}
		b, err := os.ReadFile(f.path)
		if err != nil {
			t.Fatal(err)
		}
		*f.into = b
	}
	if s.sidecarInjector != "" {
		b, err := os.ReadFile(s.sidecarInjector)
		if err != nil {
			t.Fatal(err)
		}
		in.Extra = manifest.Nodes(losslessSplit(t, b))
	}
	cfg, err := config.Load(in)
	if err != nil {
		t.Fatalf("%s: %v", s.name, err)
	}
	s.configs[key] = cfg
	return cfg
}

func losslessSortedEnv(env fakeEnv) []string {
	var out []string
	for _, k := range losslessSortedKeys(env) {
		out = append(out, k+"="+env[k])
	}
	return out
}

// with returns a copy of s with more environment, or another revision.
func (s losslessSetup) with(name string, env map[string]string, revision string) losslessSetup {
	c := s
	c.name = s.name + " " + name
	c.env = fakeEnv{}
	for k, v := range s.env {
		c.env[k] = v
	}
	for k, v := range env {
		c.env[k] = v
	}
	if revision != "" {
		c.revision = revision
	}
	return c
}

// losslessModes are the decision modes a case runs in: kube-inject for
// the cases Istio tests with kube-inject (as the conformance test runs
// them), and webhook, the default, for every case of the main corpus
// (istioctl's own cases use an injector configuration without a policy,
// which the webhook mode rejects, as Istio's webhook would).
func losslessModes(c conformanceCase) []string {
	var modes []string
	if c.KubeInjectTested == nil || *c.KubeInjectTested {
		modes = append(modes, "kube-inject")
	}
	if c.Args == nil {
		modes = append(modes, "webhook")
	}
	return modes
}

// losslessCases are the corpus cases that inject successfully.
func losslessCases(t *testing.T) []conformanceCase {
	t.Helper()
	var out []conformanceCase
	for _, c := range loadCases(t, corpusDir(t)) {
		if c.ExpectedError == "" {
			out = append(out, c)
		}
	}
	return out
}

// notIdempotentInKubeInjectMode are the corpus cases whose re-injection
// in kube-inject mode does not give the output back, and why. That mode
// reproduces istioctl kube-inject and writes no record of what it cannot
// tell from Istio's annotations. A pod is left as it is when injecting
// the pod those annotations prove it was gives exactly that pod again
// (sidecar-spire, whose istio-proxy is injected twice, and
// only-proxy-container, left without containers: Istio's own
// re-injection changes the one, and inject would refuse the other); any
// other pod is re-injected as Istio does. In webhook mode, the default,
// every case is idempotent.
var notIdempotentInKubeInjectMode = map[string]string{
	// The input carries a classic proxy, injected before, which Istio
	// takes for the user's own declaration of the native istio-proxy:
	// the output keeps its fields (--concurrency 2, its probe timings,
	// ISTIO_META_APP_CONTAINERS without the container "new") and records
	// none of them. Nothing in the output tells them from what an older
	// configuration injected (they are exactly that), so the next run
	// re-renders the proxy, as it must after an upgrade; the run after
	// that changes nothing.
	"TestInjection/56/merge-probers.yaml.injected": "changed",
}

// notNodeIdenticalAfterUninject are the corpus cases where
// uninject(inject(x)) reads as x but is not x node for node, and why.
// None: where the typed pod cannot tell how the user wrote a value that
// injection rewrites or removes ("cpu: 3000m" and "resources: {}" in the
// user's istio-proxy, which Istio writes "3" and leaves out; a quoted
// annotation that metrics merging removes), the record keeps the user's
// text ("source"), and uninject writes it back.
var notNodeIdenticalAfterUninject = map[string]string{}

// TestLosslessCorpus checks, over every corpus input, as it is and
// decorated with comments and unknown fields, in both decision modes:
// the lossless properties of the inject command and of the KRM function,
// idempotence, and uninject(inject(x)) = x.
func TestLosslessCorpus(t *testing.T) {
	configs := map[string]*config.Config{}
	notIdempotent, notNodeIdentical := map[string]string{}, map[string]string{}
	planned, ran, roundTrips, byteIdentical, laidOutRoundTrips, laidOutByteIdentical := 0, 0, 0, 0, 0, 0
	for i, c := range losslessCases(t) {
		if testing.Short() && i%8 != 0 {
			continue
		}
		for _, mode := range losslessModes(c) {
			s, input := losslessCaseSetup(t, c, mode, configs)
			planned++
			t.Run(s.name, func(t *testing.T) {
				ran++
				x, err := os.ReadFile(input)
				if err != nil {
					t.Fatal(err)
				}
				r := checkProperties(t, s, x)
				roundTrips += r.roundTrips
				byteIdentical += r.byteIdentical
				laidOutRoundTrips += r.laidOutRoundTrips
				laidOutByteIdentical += r.laidOutByteIdentical
				if r.reinjection != "" && mode == "kube-inject" {
					notIdempotent[c.ID] = r.reinjection
				}
				if r.uninjectDiff && mode == "webhook" {
					notNodeIdentical[c.ID] = notNodeIdenticalAfterUninject[c.ID]
					if notNodeIdentical[c.ID] == "" {
						notNodeIdentical[c.ID] = "?"
					}
				}
			})
		}
	}
	t.Logf("uninject(inject(x)): %d of %d injected documents (plain and decorated, webhook mode) came back byte for byte; "+
		"laid out by hand: %d of %d", byteIdentical, roundTrips, laidOutByteIdentical, laidOutRoundTrips)
	if testing.Short() || ran != planned {
		return // the expected lists are about the whole corpus
	}
	if !reflect.DeepEqual(notIdempotent, notIdempotentInKubeInjectMode) {
		t.Errorf("cases whose re-injection in kube-inject mode does not give the output back: %q, want %q "+
			"(update notIdempotentInKubeInjectMode and its comments if this is an improvement)",
			notIdempotent, notIdempotentInKubeInjectMode)
	}
	if !reflect.DeepEqual(notNodeIdentical, notNodeIdenticalAfterUninject) {
		t.Errorf("cases where uninject(inject(x)) is not x node for node: %q, want %q "+
			"(update notNodeIdenticalAfterUninject and its comments if this is an improvement)",
			notNodeIdentical, notNodeIdenticalAfterUninject)
	}
}

// TestReinjectCorpus checks, in webhook mode, that re-injecting an
// injected corpus input with another setting gives what injecting the
// original with that setting gives: native sidecars switched, another
// revision, another case's configuration (other templates, values, mesh
// or environment), and another proxy image (hub and tag). Istio instead
// leaves the previous injection's containers where the new one does not
// put them: a duplicate istio-proxy when native sidecars are switched.
func TestReinjectCorpus(t *testing.T) {
	configs := map[string]*config.Config{}
	cases := losslessCases(t)
	var mains []conformanceCase
	for _, c := range cases {
		if c.Args == nil {
			mains = append(mains, c)
		}
	}
	tagged := map[string]bool{}
	for i, c := range mains {
		if testing.Short() && i%8 != 0 {
			continue
		}
		s, input := losslessCaseSetup(t, c, "webhook", configs)
		t.Run(c.ID, func(t *testing.T) {
			x, err := os.ReadFile(input)
			if err != nil {
				t.Fatal(err)
			}
			y := s.inject(t, x)
			if injectedPods(t, y) == 0 {
				t.Skip("not injected in webhook mode")
			}
			native := "true"
			if s.config(t).Options.Native() {
				native = "false"
			}
			variants := []losslessSetup{
				s.with("nativeSidecars="+native, map[string]string{"ENABLE_NATIVE_SIDECARS": native}, ""),
			}
			// The next case with another configuration: an upgrade (or a
			// downgrade) to other templates, values, mesh or settings.
			for j := 1; j < len(mains); j++ {
				o := mains[(i+j)%len(mains)]
				if o.InjectConfig != c.InjectConfig || o.Values != c.Values || o.Mesh != c.Mesh || !maps.Equal(o.Env, c.Env) {
					u, _ := losslessCaseSetup(t, o, "webhook", configs)
					u.name = s.name + " upgraded to the configuration of " + o.ID
					variants = append(variants, u)
					break
				}
			}
			// Another revision and another proxy image, once per
			// configuration.
			if key := c.InjectConfig + c.Values + c.Mesh; !tagged[key] {
				tagged[key] = true
				variants = append(variants, s.with("revision canary", nil, "canary"),
					s.withImage(t, "example.com/istio", "1.99.0-upgraded"))
			}
			for vi, v := range variants {
				want, err := v.tryInject(t, x)
				if err != nil {
					// The other configuration cannot inject the original
					// (it lacks a template the pod names): neither may it
					// re-inject.
					if _, err2 := v.tryInject(t, y); err2 == nil {
						t.Errorf("%s: re-injecting succeeded where injecting the original fails with: %v", v.name, err)
					}
					continue
				}
				if injectedPods(t, want) == 0 {
					continue // not injected with that setting: nothing to compare
				}
				got := v.inject(t, y)
				switch diff := semanticDiff(want, got); {
				case diff != "":
					t.Errorf("%s: re-injecting differs from injecting the original:\n%s", v.name, diff)
				case bytes.Equal(want, got):
				case vi == 0 && declaresInjected(x):
					// The user's declaration of the proxy moved to the other
					// list when native sidecars were switched: written anew
					// there, its layout is the encoder's, and moving back
					// cannot restore the user's.
					t.Logf("%s: re-injecting reads as injecting the original; the text of the user's proxy declaration differs:\n%s",
						v.name, lineDiff(string(want), string(got)))
				default:
					t.Errorf("%s: re-injecting reads as injecting the original, but differs in its text:\n%s",
						v.name, lineDiff(string(want), string(got)))
				}
			}
		})
	}
}

// TestNativeSwitchKubeInjectMode: in kube-inject mode (Istio's own
// re-injection, without a record) switching native sidecars either way
// leaves one istio-proxy; Istio leaves two after switching them off. From
// native to classic the result is what injecting the original gives; the
// other way Istio takes the previous proxy for the user's declaration of
// it (the corpus's merge-probers case pins that), so only the uniqueness
// is checked. Once per configuration of the corpus.
func TestNativeSwitchKubeInjectMode(t *testing.T) {
	configs := map[string]*config.Config{}
	seen := map[string]bool{}
	for _, c := range losslessCases(t) {
		key := c.InjectConfig + c.Values + c.Mesh
		if c.Args != nil || seen[key] || (c.KubeInjectTested != nil && !*c.KubeInjectTested) {
			continue
		}
		seen[key] = true
		s, input := losslessCaseSetup(t, c, "kube-inject", configs)
		t.Run(c.ID, func(t *testing.T) {
			x, err := os.ReadFile(input)
			if err != nil {
				t.Fatal(err)
			}
			for _, from := range []string{"true", "false"} {
				to := map[string]string{"true": "false", "false": "true"}[from]
				a, b := s.with("native "+from, map[string]string{"ENABLE_NATIVE_SIDECARS": from}, ""),
					s.with("native "+to, map[string]string{"ENABLE_NATIVE_SIDECARS": to}, "")
				got, fresh := b.inject(t, a.inject(t, x)), b.inject(t, x)
				// Istio's spire template injects istio-proxy twice even
				// into a fresh pod: re-injection must not add to that.
				if n, want := proxies(t, got), proxies(t, fresh); n > want {
					t.Errorf("native %s -> %s: istio-proxy %d times, %d in a fresh injection", from, to, n, want)
				}
				if from == "true" {
					if diff := sameObjects(t, fresh, got); diff != "" {
						t.Errorf("native true -> false: re-injecting differs from injecting the original:\n%s", diff)
					}
				}
			}
		})
	}
}

// pods calls fn with every pod template of the manifests in data.
func pods(t *testing.T, data []byte, fn func(*corev1.Pod)) {
	t.Helper()
	for _, d := range losslessSplit(t, data) {
		if d.Node == nil {
			continue
		}
		targets, err := podtemplate.Find([]*yaml.RNode{d.Node})
		if err != nil {
			t.Fatal(err)
		}
		for _, tg := range targets {
			pod, err := tg.Pod()
			if err != nil {
				t.Fatal(err)
			}
			fn(pod)
		}
	}
}

// proxies is the most times a pod template of the manifests declares
// istio-proxy, among its containers and init containers together.
func proxies(t *testing.T, data []byte) int {
	t.Helper()
	most := 0
	pods(t, data, func(pod *corev1.Pod) {
		n := 0
		for _, c := range append(pod.Spec.InitContainers, pod.Spec.Containers...) {
			if c.Name == "istio-proxy" {
				n++
			}
		}
		most = max(most, n)
	})
	return most
}

// withImage is s with the values' global.hub and global.tag replaced.
func (s losslessSetup) withImage(t *testing.T, hub, tag string) losslessSetup {
	t.Helper()
	b, err := os.ReadFile(s.values)
	if err != nil {
		t.Fatal(err)
	}
	var values map[string]any
	if err := json.Unmarshal(b, &values); err != nil {
		t.Fatal(err)
	}
	global, _ := values["global"].(map[string]any)
	if global == nil {
		global = map[string]any{}
		values["global"] = global
	}
	global["hub"], global["tag"] = hub, tag
	b, err = json.Marshal(values)
	if err != nil {
		t.Fatal(err)
	}
	c := s
	c.name = s.name + " with image " + hub + ":" + tag
	c.values = filepath.Join(t.TempDir(), "values.json")
	if err := os.WriteFile(c.values, b, 0o644); err != nil {
		t.Fatal(err)
	}
	return c
}

// propertyResult is what checkProperties found that may be expected.
type propertyResult struct {
	// reinjection is "changed" or "refused" when injecting the output
	// again does not give it back (an error in webhook mode).
	reinjection string
	// uninjectDiff is set when uninject(inject(x)) reads as x but is not
	// x node for node.
	uninjectDiff bool
	// roundTrips counts the injected documents taken through uninject,
	// byteIdentical those that came back byte for byte; the laidOut
	// counts are the same for the input laid out by hand.
	roundTrips, byteIdentical               int
	laidOutRoundTrips, laidOutByteIdentical int
}

// checkProperties checks every property on input x with setup s: the
// inject command on x, the same pipeline on x decorated, and in webhook
// mode the KRM function on it.
func checkProperties(t *testing.T, s losslessSetup, x []byte) (r propertyResult) {
	t.Helper()
	y, _ := s.cli(t, "inject", x)
	checkDocuments(t, x, y)
	if kept := s.injectKeeping(t, x); !bytes.Equal(kept, y) {
		t.Errorf("the inject command's output differs from the pipeline's:\n%s", lineDiff(string(kept), string(y)))
	}

	xd := decorate(t, x)
	yd := s.injectKeeping(t, xd)
	checkDocuments(t, xd, yd)
	checkMarkers(t, xd, yd)
	// The decorations change nothing else: without them, the decorated
	// output reads as the plain one.
	if diff := semanticDiff(undecorated(t, y), undecorated(t, yd)); diff != "" {
		t.Errorf("decorating the input changed the injection:\n%s", diff)
	}

	// Laid out by hand, which changes nothing but the text (and the
	// comments relayout adds).
	xl := relayout(t, xd)
	yl := s.injectKeeping(t, xl)
	checkDocuments(t, xl, yl)
	checkMarkers(t, xl, yl)
	if diff := semanticDiff(undecorated(t, yd), undecorated(t, yl)); diff != "" {
		t.Errorf("laying the input out by hand changed the injection:\n%s", diff)
	}

	for _, out := range [][]byte{y, yd, yl} {
		again, err := s.tryInject(t, out)
		switch {
		case err != nil:
			r.reinjection = "refused"
			if s.mode == "webhook" {
				t.Errorf("injecting the output again failed: %v", err)
			}
		case !bytes.Equal(again, out):
			r.reinjection = "changed"
			if s.mode == "webhook" {
				t.Errorf("injecting the output again changed it:\n%s", lineDiff(string(out), string(again)))
			} else {
				t.Logf("injecting the output again changed it:\n%s", lineDiff(string(out), string(again)))
			}
		}
	}

	for i, in := range [][2][]byte{{x, y}, {xd, yd}, {xl, yl}} {
		u := checkUninject(t, s, in[0], in[1])
		r.uninjectDiff = r.uninjectDiff || u.nodesDiffer
		if i < 2 {
			r.roundTrips += u.injected
			r.byteIdentical += u.byteIdentical
		} else {
			r.laidOutRoundTrips += u.injected
			r.laidOutByteIdentical += u.byteIdentical
		}
	}
	if s.mode == "webhook" {
		checkKRM(t, s, xd, yd)
	}
	return r
}

// checkUninject checks that uninject takes back what inject did to x
// (y). In webhook mode the pods carry the record, and the result must be
// x node for node, every document that is not injected byte for byte,
// without a warning; when x was injected before, the result is what
// uninject makes of x. In kube-inject mode there is no record: every
// injection must be gone, with a warning for each.
// roundTrip is what checkUninject found.
type roundTrip struct {
	nodesDiffer             bool
	injected, byteIdentical int
}

func checkUninject(t *testing.T, s losslessSetup, x, y []byte) (r roundTrip) {
	t.Helper()
	u, stderr := s.cli(t, "uninject", y)
	if s.mode == "kube-inject" {
		if n := injectedPods(t, u); n > 0 {
			t.Errorf("%d pod templates still injected after uninject", n)
		}
		injected := injectedPods(t, y)
		if got := strings.Count(stderr, "no "+uninject.Annotation+" record"); got != injected {
			t.Errorf("uninject without a record warned %d times for %d injected workloads:\n%s", got, injected, stderr)
		}
		return r
	}
	if stderr != "" {
		t.Errorf("uninject with records warned:\n%s", stderr)
	}
	want := x
	if bytes.Contains(x, []byte("sidecar.istio.io/status")) {
		want, _ = s.cli(t, "uninject", x)
	}
	ws, us, ys := losslessSplit(t, want), losslessSplit(t, u), losslessSplit(t, y)
	if len(ws) != len(us) || len(ys) != len(us) {
		t.Fatalf("%d documents in, %d injected, %d after inject and uninject", len(ws), len(ys), len(us))
	}
	for i := range ws {
		if !bytes.Equal(ys[i].Raw, us[i].Raw) {
			r.injected++
			if bytes.Equal(ws[i].Raw, us[i].Raw) {
				r.byteIdentical++
			}
		}
		if bytes.Equal(ws[i].Raw, us[i].Raw) {
			continue
		}
		if ws[i].Node == nil || us[i].Node == nil {
			t.Errorf("document %d differs after inject and uninject:\n%s", i+1, lineDiff(string(ws[i].Raw), string(us[i].Raw)))
			continue
		}
		if diff := semanticDiff(typedView(t, ws[i].Node), typedView(t, us[i].Node)); diff != "" {
			t.Errorf("document %d (%s) does not read as before inject and uninject:\n%s", i+1, id(ws[i].Node), diff)
			continue
		}
		if w, g := ws[i].Node.MustString(), us[i].Node.MustString(); w != g {
			r.nodesDiffer = true
			t.Logf("document %d (%s) is not node for node what it was before inject and uninject:\n%s",
				i+1, id(ws[i].Node), lineDiff(w, g))
		}
	}
	return r
}

// typedView is the object with its pod templates as the typed model reads
// them ("3000m" and "3" are the same quantity), for comparisons.
func typedView(t *testing.T, n *yaml.RNode) []byte {
	t.Helper()
	c := n.Copy()
	targets, err := podtemplate.Find([]*yaml.RNode{c})
	if err != nil {
		t.Fatal(err)
	}
	for _, tg := range targets {
		pod, err := tg.Pod()
		if err != nil {
			t.Fatal(err)
		}
		for _, part := range []struct {
			path []string
			v    any
		}{{tg.MetaPath, pod.ObjectMeta}, {tg.SpecPath, pod.Spec}} {
			b, err := json.Marshal(part.v)
			if err != nil {
				t.Fatal(err)
			}
			typed, err := yaml.Parse(string(b))
			if err != nil {
				t.Fatal(err)
			}
			parent, err := tg.Object.Pipe(yaml.LookupCreate(yaml.MappingNode, part.path[:len(part.path)-1]...))
			if err != nil {
				t.Fatal(err)
			}
			if err := parent.PipeE(yaml.SetField(part.path[len(part.path)-1], typed)); err != nil {
				t.Fatal(err)
			}
		}
	}
	return []byte(c.MustString())
}

// injectedPods counts the pod templates carrying sidecar.istio.io/status.
func injectedPods(t *testing.T, data []byte) int {
	t.Helper()
	n := 0
	pods(t, data, func(pod *corev1.Pod) {
		if uninject.Injected(pod) {
			n++
		}
	})
	return n
}

// checkKRM runs the function mode on x's documents and checks its items
// as checkDocuments checks the inject command's output, but node for node
// (orchestrators write the items out themselves), and that they are what
// the inject command made of them (y).
func checkKRM(t *testing.T, s losslessSetup, x, y []byte) {
	t.Helper()
	docs := losslessSplit(t, x)
	items := manifest.Nodes(docs)
	rl := yaml.NewMapRNode(&map[string]string{"apiVersion": "config.kubernetes.io/v1", "kind": "ResourceList"})
	list := &yaml.Node{Kind: yaml.SequenceNode, Tag: "!!seq"}
	for _, it := range items {
		list.Content = append(list.Content, it.Copy().YNode())
	}
	fc, err := yaml.Parse(s.functionConfig(t))
	if err != nil {
		t.Fatal(err)
	}
	if err := rl.PipeE(yaml.SetField("items", yaml.NewRNode(list))); err != nil {
		t.Fatal(err)
	}
	if err := rl.PipeE(yaml.SetField("functionConfig", fc)); err != nil {
		t.Fatal(err)
	}
	var out, errOut bytes.Buffer
	cmd := newRootCommand(streams{In: strings.NewReader(rl.MustString()), Out: &out, Err: &errOut}, fakeEnv{}.lookup)
	cmd.SetArgs([]string{})
	if err := cmd.Execute(); err != nil {
		t.Fatalf("KRM %s: %v\n%s", s.name, err, errOut.String())
	}
	res, err := yaml.Parse(out.String())
	if err != nil {
		t.Fatal(err)
	}
	got, err := res.Pipe(yaml.Lookup("items"))
	if err != nil || got == nil {
		t.Fatalf("KRM %s: no items in the output: %v", s.name, err)
	}
	outItems, err := got.Elements()
	if err != nil {
		t.Fatal(err)
	}
	if len(outItems) != len(items) {
		t.Fatalf("KRM: %d items in, %d out", len(items), len(outItems))
	}
	cliDocs := manifest.Nodes(losslessSplit(t, y))
	for i, in := range items {
		o := outItems[i]
		if id(in) != id(o) {
			t.Errorf("KRM item %d: %s became %s", i+1, id(in), id(o))
			continue
		}
		if !podsChanged(t, in, o) {
			if w, g := in.MustString(), o.MustString(); w != g {
				t.Errorf("KRM item %d (%s) was not injected, yet changed:\n%s", i+1, id(in), lineDiff(w, g))
			}
			continue
		}
		var problems []string
		preserved(in.YNode(), o.YNode(), "", &problems)
		want, gotMarkers := markers([]byte(in.MustString())), markers([]byte(o.MustString()))
		sort.Strings(want)
		sort.Strings(gotMarkers)
		if !slices.Equal(want, gotMarkers) {
			problems = append(problems, "comments and unknown fields:\n"+lineDiff(strings.Join(want, "\n"), strings.Join(gotMarkers, "\n")))
		}
		if len(problems) > 0 {
			t.Errorf("KRM item %d (%s): what injection did not change was not kept:\n  %s", i+1, id(in), strings.Join(problems, "\n  "))
		}
		if diff := semanticDiff([]byte(cliDocs[i].MustString()), []byte(o.MustString())); diff != "" {
			t.Errorf("KRM item %d (%s) differs from the inject command's output:\n%s", i+1, id(in), diff)
		}
	}
}

// functionConfig is the setup as a KRM function config: a SidecarInjector
// with Istio's configuration inline and the environment's settings made
// explicit (a function reads no environment for them).
func (s losslessSetup) functionConfig(t *testing.T) string {
	t.Helper()
	injector := map[string]any{}
	for key, path := range map[string]string{"config": s.injectConfig, "values": s.values, "mesh": s.mesh} {
		if path == "" {
			continue
		}
		b, err := os.ReadFile(path)
		if err != nil {
			t.Fatal(err)
		}
		injector[key] = string(b)
	}
	extra := map[string]any{"injector": injector}
	if v, ok := s.env["ENABLE_NATIVE_SIDECARS"]; ok {
		extra["nativeSidecars"] = v
	}
	if v, ok := s.env["COMPLIANCE_POLICY"]; ok {
		extra["compliancePolicy"] = v
	}
	if v, ok := s.env["PLATFORM"]; ok {
		extra["platform"] = v
	}
	if s.revision != "" {
		extra["revision"] = s.revision
	}
	return losslessSidecarInjectorText(s.mode, extra)
}

// checkDocuments checks that y has x's documents in x's order, that those
// injection left alone are byte for byte x's, and that in the others
// every node of x is still there with its comments, key order and style,
// but where injection changed it.
func checkDocuments(t *testing.T, x, y []byte) {
	t.Helper()
	xs, ys := losslessSplit(t, x), losslessSplit(t, y)
	if len(xs) != len(ys) {
		t.Fatalf("%d documents in, %d out", len(xs), len(ys))
	}
	for i := range xs {
		xd, yd := xs[i], ys[i]
		if !bytes.Equal(xd.Separator, yd.Separator) {
			t.Errorf("document %d: separator %q became %q", i+1, xd.Separator, yd.Separator)
		}
		if bytes.Equal(xd.Raw, yd.Raw) {
			continue
		}
		if xd.Node == nil || yd.Node == nil {
			t.Errorf("document %d changed but holds no object:\n%s", i+1, yd.Raw)
			continue
		}
		if id(xd.Node) != id(yd.Node) {
			t.Errorf("document %d: %s became %s", i+1, id(xd.Node), id(yd.Node))
		}
		if !podsChanged(t, xd.Node, yd.Node) {
			t.Errorf("document %d (%s) was rewritten though none of its pod templates changed:\n--- in\n%s--- out\n%s",
				i+1, id(xd.Node), xd.Raw, yd.Raw)
			continue
		}
		var problems []string
		preserved(xd.Node.YNode(), yd.Node.YNode(), "", &problems)
		if len(problems) > 0 {
			t.Errorf("document %d (%s): what injection did not change was not kept:\n  %s\n--- in\n%s--- out\n%s",
				i+1, id(xd.Node), strings.Join(problems, "\n  "), xd.Raw, yd.Raw)
		}
	}
}

func losslessSplit(t *testing.T, data []byte) []*manifest.Document {
	t.Helper()
	docs, err := manifest.Split("-", data)
	if err != nil {
		t.Fatal(err)
	}
	return docs
}

func id(n *yaml.RNode) string {
	return n.GetApiVersion() + " " + n.GetKind() + " " + n.GetNamespace() + "/" + n.GetName()
}

// podsChanged reports whether some pod template of the object differs
// between x and y, as typed pods.
func podsChanged(t *testing.T, x, y *yaml.RNode) bool {
	t.Helper()
	xt, err := podtemplate.Find([]*yaml.RNode{x})
	if err != nil {
		t.Fatal(err)
	}
	yt, err := podtemplate.Find([]*yaml.RNode{y})
	if err != nil {
		t.Fatal(err)
	}
	if len(xt) != len(yt) {
		return true
	}
	for i := range xt {
		xp, err1 := xt[i].Pod()
		yp, err2 := yt[i].Pod()
		if err1 != nil || err2 != nil || !uninject.Equal(xp, yp) {
			return true
		}
	}
	return false
}

// preserved walks x's nodes and the nodes of y at the same place. Every
// mapping key of x must still be there, in the same order relative to the
// other keys of x (injection only adds keys, or takes away the handlers
// of rewritten probes and the annotations it rewrites), with the same
// comments; a scalar whose value did not change keeps its style and tag.
// List elements are matched by name when they have names, else by
// position when the lengths agree.
func preserved(x, y *yaml.Node, path string, problems *[]string) {
	x, y = losslessContent(x), losslessContent(y)
	if x == nil || y == nil {
		return
	}
	if x.HeadComment != y.HeadComment || x.LineComment != y.LineComment || x.FootComment != y.FootComment {
		*problems = append(*problems, fmt.Sprintf("%s: comments %q/%q/%q became %q/%q/%q", path,
			x.HeadComment, x.LineComment, x.FootComment, y.HeadComment, y.LineComment, y.FootComment))
	}
	if x.Kind != y.Kind {
		return // replaced by injection (a probe handler, say)
	}
	switch x.Kind {
	case yaml.ScalarNode:
		if x.Value == y.Value && (x.Style != y.Style || x.Tag != y.Tag) {
			*problems = append(*problems, fmt.Sprintf("%s: style of %q changed (%v %s -> %v %s)", path, x.Value, x.Style, x.Tag, y.Style, y.Tag))
		}
	case yaml.MappingNode:
		if x.Style&yaml.FlowStyle != y.Style&yaml.FlowStyle && len(x.Content) > 0 {
			*problems = append(*problems, fmt.Sprintf("%s: flow style changed", path))
		}
		var order []string
		for i := 0; i+1 < len(x.Content); i += 2 {
			k := x.Content[i]
			p := path + "." + k.Value
			j := keyIndex(y, k.Value)
			if j < 0 {
				if !mayRemove(path, k.Value) {
					*problems = append(*problems, p+": removed")
				}
				continue
			}
			order = append(order, k.Value)
			yk := y.Content[j]
			if k.HeadComment != yk.HeadComment || k.LineComment != yk.LineComment || k.FootComment != yk.FootComment {
				*problems = append(*problems, fmt.Sprintf("%s: key comments %q/%q/%q became %q/%q/%q", p,
					k.HeadComment, k.LineComment, k.FootComment, yk.HeadComment, yk.LineComment, yk.FootComment))
			}
			if k.Style != yk.Style {
				*problems = append(*problems, p+": key style changed")
			}
			if path == ".metadata.annotations" || strings.HasSuffix(path, ".template.metadata.annotations") {
				continue // values are injection's to rewrite
			}
			preserved(x.Content[i+1], y.Content[j+1], p, problems)
		}
		var yorder []string
		for i := 0; i+1 < len(y.Content); i += 2 {
			if slices.Contains(order, y.Content[i].Value) {
				yorder = append(yorder, y.Content[i].Value)
			}
		}
		if !slices.Equal(order, yorder) {
			*problems = append(*problems, fmt.Sprintf("%s: key order %v became %v", path, order, yorder))
		}
	case yaml.SequenceNode:
		xn, yn := elementNames(x), elementNames(y)
		if xn != nil && yn != nil {
			for i, n := range xn {
				if j := slices.Index(yn, n); j >= 0 {
					preserved(x.Content[i], y.Content[j], fmt.Sprintf("%s[%s]", path, n), problems)
				}
			}
			return
		}
		if len(x.Content) == len(y.Content) {
			for i := range x.Content {
				preserved(x.Content[i], y.Content[i], fmt.Sprintf("%s[%d]", path, i), problems)
			}
		}
	}
}

// mayRemove says which keys injection takes away: the handler of a probe
// or hook it points at the agent (a TCP or gRPC check becomes an HTTP
// GET), and the annotations metrics merging and re-injection rewrite.
func mayRemove(path, key string) bool {
	switch key {
	case "tcpSocket", "grpc":
		return true
	}
	return strings.HasSuffix(path, ".annotations")
}

func keyIndex(m *yaml.Node, key string) int {
	for i := 0; i+1 < len(m.Content); i += 2 {
		if m.Content[i].Value == key {
			return i
		}
	}
	return -1
}

// elementNames returns the names of a list's elements when every element
// is a mapping with a unique scalar name, else nil.
func elementNames(seq *yaml.Node) []string {
	var names []string
	for _, e := range seq.Content {
		e = losslessContent(e)
		if e == nil || e.Kind != yaml.MappingNode {
			return nil
		}
		j := keyIndex(e, "name")
		if j < 0 || e.Content[j+1].Kind != yaml.ScalarNode || slices.Contains(names, e.Content[j+1].Value) {
			return nil
		}
		names = append(names, e.Content[j+1].Value)
	}
	return names
}

func losslessContent(n *yaml.Node) *yaml.Node {
	for n != nil && (n.Kind == yaml.DocumentNode || n.Kind == yaml.AliasNode) {
		if n.Kind == yaml.DocumentNode {
			if len(n.Content) != 1 {
				return nil
			}
			n = n.Content[0]
		} else {
			n = n.Alias
		}
	}
	return n
}

// Decoration: comments and fields unknown to k8s.io/api added to copies of
// the inputs, in every object-like mapping the injection does not own
// (not in maps of labels, annotations, selectors or quantities, not in the
// containers and volumes a previous injection added), each with a unique
// marker, so that the output can be searched for them.

// dataMaps are fields whose mappings are data, not objects: a key added
// there would change the workload.
var dataMaps = map[string]bool{
	"labels": true, "annotations": true, "matchLabels": true, "selector": true, "nodeSelector": true,
	"limits": true, "requests": true, "data": true, "stringData": true, "binaryData": true,
	"overhead": true, "hard": true, "volumeAttributes": true, "parameters": true, "claims": true,
	"injector": true, "spec.injector": true,
}

// handlers are probe and hook actions: injection may replace them whole.
var handlers = map[string]bool{"httpGet": true, "tcpSocket": true, "grpc": true, "exec": true, "sleep": true}

var markerStyles = []string{"plain", "single", "double", "flow", "literal"}

type decorator struct {
	n        int
	injected map[string]bool
}

// decorate returns x with markers added to every document that is an
// object (not to ConfigMaps, whose data configures Istio).
func decorate(t *testing.T, x []byte) []byte {
	t.Helper()
	var out bytes.Buffer
	d := &decorator{}
	for _, doc := range losslessSplit(t, x) {
		out.Write(doc.Separator)
		if doc.Node == nil || doc.Node.GetKind() == "ConfigMap" {
			out.Write(doc.Raw)
			continue
		}
		d.injected = injectedNames(doc.Node.YNode())
		root := losslessContent(doc.Node.YNode())
		d.walk(root, "", false)
		s, err := doc.Node.String()
		if err != nil {
			t.Fatal(err)
		}
		out.WriteString(s)
	}
	return out.Bytes()
}

// injectedNames collects the names that sidecar.istio.io/status
// annotations in the document list: a previous injection owns them.
func injectedNames(n *yaml.Node) map[string]bool {
	names := map[string]bool{}
	var walk func(n *yaml.Node)
	walk = func(n *yaml.Node) {
		if n == nil {
			return
		}
		if n.Kind == yaml.MappingNode {
			for i := 0; i+1 < len(n.Content); i += 2 {
				if n.Content[i].Value == "sidecar.istio.io/status" {
					var st map[string][]string
					_ = json.Unmarshal([]byte(n.Content[i+1].Value), &st)
					for _, list := range st {
						for _, name := range list {
							names[name] = true
						}
					}
				}
			}
		}
		for _, c := range n.Content {
			walk(c)
		}
	}
	walk(n)
	return names
}

func (d *decorator) walk(n *yaml.Node, key string, owned bool) {
	if n == nil {
		return
	}
	switch n.Kind {
	case yaml.MappingNode:
		if nameIdx := keyIndex(n, "name"); nameIdx >= 0 && d.injected[n.Content[nameIdx+1].Value] {
			owned = true
		}
		for i := 0; i+1 < len(n.Content); i += 2 {
			k := n.Content[i].Value
			if dataMaps[k] || handlers[k] {
				continue
			}
			d.walk(n.Content[i+1], k, owned)
		}
		if !owned && n.Style&yaml.FlowStyle == 0 && len(n.Content) >= 2 && !handlers[key] {
			d.mark(n)
		}
	case yaml.SequenceNode:
		for _, e := range n.Content {
			d.walk(e, key, owned)
		}
	}
}

// mark adds an unknown field after the mapping's first key, with a head
// comment, in one of several styles, and a line comment on the first
// key's scalar value when it has none.
func (d *decorator) mark(m *yaml.Node) {
	d.n++
	id := d.n
	key := &yaml.Node{Kind: yaml.ScalarNode, Tag: "!!str", Value: fmt.Sprintf("xKeep%d", id), HeadComment: fmt.Sprintf("# keep-%d", id)}
	var val *yaml.Node
	text := fmt.Sprintf("v-%d", id)
	switch markerStyles[id%len(markerStyles)] {
	case "plain":
		val = &yaml.Node{Kind: yaml.ScalarNode, Tag: "!!str", Value: text}
	case "single":
		val = &yaml.Node{Kind: yaml.ScalarNode, Tag: "!!str", Value: text, Style: yaml.SingleQuotedStyle}
	case "double":
		val = &yaml.Node{Kind: yaml.ScalarNode, Tag: "!!str", Value: text, Style: yaml.DoubleQuotedStyle}
	case "flow":
		val = &yaml.Node{Kind: yaml.MappingNode, Tag: "!!map", Style: yaml.FlowStyle, Content: []*yaml.Node{
			{Kind: yaml.ScalarNode, Tag: "!!str", Value: "k"}, {Kind: yaml.ScalarNode, Tag: "!!str", Value: text},
		}}
	default:
		val = &yaml.Node{Kind: yaml.ScalarNode, Tag: "!!str", Value: text + "\nsecond line\n", Style: yaml.LiteralStyle}
	}
	m.Content = slices.Insert(m.Content, 2, key, val)
	if v := m.Content[1]; v.Kind == yaml.ScalarNode && v.LineComment == "" {
		v.LineComment = fmt.Sprintf("# line-%d", id)
	}
}

var markerLine = regexp.MustCompile(`(# (keep|line|layout)-\d+(: the end)?|xKeep\d+:.*)$`)

// markers lists, in order, the marker texts of a document: the comments
// and the unknown fields with their value as written (quotes included).
func markers(doc []byte) []string {
	var out []string
	for _, line := range strings.Split(string(doc), "\n") {
		if m := markerLine.FindString(strings.TrimSpace(line)); m != "" {
			out = append(out, m)
		}
	}
	return out
}

// checkMarkers checks that every document of the output has the markers
// of its input, written the same way. Their order is not compared here:
// an element injection moves (istio-proxy becoming an init container)
// takes its markers along; preserved checks the order of keys.
func checkMarkers(t *testing.T, xd, yd []byte) {
	t.Helper()
	xs, ys := losslessSplit(t, xd), losslessSplit(t, yd)
	for i := range xs {
		if i >= len(ys) {
			return
		}
		want, got := markers(xs[i].Raw), markers(ys[i].Raw)
		sort.Strings(want)
		sort.Strings(got)
		if !slices.Equal(want, got) {
			t.Errorf("document %d: comments and unknown fields not kept as written:\n%s", i+1,
				lineDiff(strings.Join(want, "\n"), strings.Join(got, "\n")))
		}
	}
}

// checkKeptText checks, for every document injection changed, that the
// output (out) keeps the text of the input (x) outside what injection
// changed, and that it reads exactly as the document's edited nodes
// (edited, x's documents after injection), which the whole document
// encoded again would give.
//
// "Outside what injection changed" is defined on the nodes of x and of
// the edited document: the lines of x's subtrees that are gone or differ
// (a key removed, a scalar rewritten, a list item replaced, moved or
// removed, a flow collection or a comment that changed) are changed,
// from their key's line to their last line, with the comment lines right
// above them; what injection adds changes no line of x. Every other line
// of x, blank lines, trailing spaces and comments included, must be in
// the output byte for byte, in the same order: they form a subsequence of
// its lines.
func checkKeptText(t *testing.T, x []byte, edited []*manifest.Document, out []byte) {
	t.Helper()
	xs, outs := losslessSplit(t, x), losslessSplit(t, out)
	if len(xs) != len(outs) || len(xs) != len(edited) {
		t.Fatalf("%d documents in, %d out", len(xs), len(outs))
	}
	for i := range xs {
		if bytes.Equal(xs[i].Raw, outs[i].Raw) || xs[i].Node == nil || edited[i].Node == nil || outs[i].Node == nil {
			continue
		}
		if w, g := encodeTree(t, edited[i].Node.YNode()), encodeTree(t, outs[i].Node.YNode()); w != g {
			t.Errorf("document %d (%s) does not read as its edited nodes encoded again:\n%s", i+1, id(xs[i].Node), lineDiff(w, g))
			continue
		}
		lines := textLines(xs[i].Raw)
		c := newChangedLines(lines, xs[i].Node.YNode())
		c.walk(xs[i].Node.YNode(), edited[i].Node.YNode(), xs[i].Node.YNode().Line)
		var kept []string
		var at []int
		for n, l := range lines {
			if !c.marked[n+1] {
				kept = append(kept, l)
				at = append(at, n+1)
			}
		}
		if k, ok := subsequence(kept, textLines(outs[i].Raw)); !ok {
			t.Errorf("document %d (%s): line %d, which injection did not change, is not in the output as written "+
				"(or not in order): %q\n--- in\n%s--- out\n%s", i+1, id(xs[i].Node), at[k], kept[k], xs[i].Raw, outs[i].Raw)
		}
	}
}

// encodeTree writes a node and what it holds, for comparisons.
func encodeTree(t *testing.T, n *yaml.Node) string {
	t.Helper()
	var b bytes.Buffer
	enc := yaml.NewEncoder(&b)
	if err := enc.Encode(n); err != nil {
		t.Fatal(err)
	}
	if err := enc.Close(); err != nil {
		t.Fatal(err)
	}
	return b.String()
}

func textLines(text []byte) []string {
	s := strings.TrimSuffix(string(text), "\n")
	if s == "" {
		return nil
	}
	return strings.Split(s, "\n")
}

// subsequence reports whether sub's lines are, in order, lines of text;
// when not, k is the first line of sub that could not be placed.
func subsequence(sub, text []string) (k int, ok bool) {
	j := 0
	for k = range sub {
		for j < len(text) && text[j] != sub[k] {
			j++
		}
		if j == len(text) {
			return k, false
		}
		j++
	}
	return 0, true
}

// changedLines marks the lines of a document's text (from 1) that the
// subtrees injection changed span.
type changedLines struct {
	lines  []string
	starts []int // the lines nodes start on, sorted
	marked map[int]bool
}

func newChangedLines(lines []string, root *yaml.Node) *changedLines {
	c := &changedLines{lines: lines, marked: map[int]bool{}}
	seen := map[int]bool{}
	var walk func(n *yaml.Node)
	walk = func(n *yaml.Node) {
		if n.Line > 0 && !seen[n.Line] {
			seen[n.Line] = true
			c.starts = append(c.starts, n.Line)
		}
		for _, k := range n.Content {
			walk(k)
		}
	}
	walk(root)
	sort.Ints(c.starts)
	return c
}

// end is the last line of n's subtree: the line before the next node
// that starts after it, less the blank and comment lines before that
// node (they are its own, or the document's).
func (c *changedLines) end(n *yaml.Node) int {
	last := 0
	var walk func(n *yaml.Node)
	walk = func(n *yaml.Node) {
		last = max(last, n.Line)
		for _, k := range n.Content {
			walk(k)
		}
	}
	walk(n)
	end := len(c.lines)
	if i := sort.SearchInts(c.starts, last+1); i < len(c.starts) {
		end = c.starts[i] - 1
	}
	for end > last {
		l := strings.TrimSpace(c.lines[end-1])
		if l != "" && !strings.HasPrefix(l, "#") {
			break
		}
		end--
	}
	return end
}

// mark marks lines from..to, and with comments the comment lines right
// above from.
func (c *changedLines) mark(from, to int, comments bool) {
	for comments && from > 1 && strings.HasPrefix(strings.TrimSpace(c.lines[from-2]), "#") {
		from--
	}
	for l := from; l <= to; l++ {
		c.marked[l] = true
	}
}

// walk marks what differs between x, a node of the input, and y, the
// same node after injection; owner is the line x's key (or list item)
// starts on.
func (c *changedLines) walk(x, y *yaml.Node, owner int) {
	if sameTree(x, y) {
		return
	}
	// An empty collection is written "[]" or "{}" on its key's line.
	emptied := len(y.Content) == 0 && len(x.Content) > 0
	if comments := x.HeadComment != y.HeadComment || x.LineComment != y.LineComment || x.FootComment != y.FootComment; comments ||
		x.Kind != y.Kind || x.Style != y.Style || x.Anchor != y.Anchor || x.Style&yaml.FlowStyle != 0 || emptied ||
		(x.Kind != yaml.MappingNode && x.Kind != yaml.SequenceNode) {
		c.mark(owner, c.end(x), comments)
		return
	}
	if x.Kind == yaml.MappingNode {
		var pos []int
		for i := 0; i+1 < len(x.Content); i += 2 {
			pos = append(pos, keyIndex(y, x.Content[i].Value))
		}
		stays := inOrder(pos)
		for i := 0; i+1 < len(x.Content); i += 2 {
			k, v, j := x.Content[i], x.Content[i+1], pos[i/2]
			if j < 0 || !stays[i/2] || !sameScalar(k, y.Content[j]) {
				c.mark(k.Line, c.end(v), true)
				continue
			}
			c.walk(v, y.Content[j+1], k.Line)
		}
		return
	}
	// A list: elements matched by name, else by position when the
	// lengths agree, else as they are.
	pos := make([]int, len(x.Content))
	xn, yn := elementNames(x), elementNames(y)
	switch {
	case xn != nil && yn != nil:
		for i, n := range xn {
			pos[i] = slices.Index(yn, n)
		}
	case len(x.Content) == len(y.Content):
		for i := range pos {
			pos[i] = i
		}
	default:
		for i, e := range x.Content {
			pos[i] = slices.IndexFunc(y.Content, func(f *yaml.Node) bool { return sameTree(e, f) })
		}
	}
	stays := inOrder(pos)
	for i, e := range x.Content {
		if pos[i] < 0 || !stays[i] {
			c.mark(e.Line, c.end(e), true)
			continue
		}
		c.walk(e, y.Content[pos[i]], e.Line)
	}
}

// inOrder marks the positions (-1: none) that keep their order: a
// longest increasing subsequence of them.
func inOrder(pos []int) []bool {
	best, prev := make([]int, len(pos)), make([]int, len(pos))
	end := -1
	for i, p := range pos {
		best[i], prev[i] = 0, -1
		if p < 0 {
			continue
		}
		best[i] = 1
		for j := 0; j < i; j++ {
			if pos[j] >= 0 && pos[j] < p && best[j]+1 > best[i] {
				best[i], prev[i] = best[j]+1, j
			}
		}
		if end < 0 || best[i] > best[end] {
			end = i
		}
	}
	out := make([]bool, len(pos))
	for i := end; i >= 0; i = prev[i] {
		out[i] = true
	}
	return out
}

// sameTree reports whether two nodes hold the same values, tags (short
// form), styles, anchors and comments, all the way down.
func sameTree(x, y *yaml.Node) bool {
	if !sameScalar(x, y) || x.Anchor != y.Anchor || len(x.Content) != len(y.Content) {
		return false
	}
	for i := range x.Content {
		if !sameTree(x.Content[i], y.Content[i]) {
			return false
		}
	}
	return true
}

func sameScalar(x, y *yaml.Node) bool {
	return x.Kind == y.Kind && x.Value == y.Value && x.ShortTag() == y.ShortTag() && x.Style == y.Style &&
		x.HeadComment == y.HeadComment && x.LineComment == y.LineComment && x.FootComment == y.FootComment
}

// relayout rewrites every object document of data the way people write
// YAML by hand, which the encoder never does: indented by four spaces,
// with blank lines between some keys and list items, trailing spaces
// after some keys, comments after some keys that open a block (not after
// a probe's handler, which injection may replace, nor in what a previous
// injection added), and a comment line at the end. Only the comments change what a document
// reads as: relayout fails the test when anything else does.
func relayout(t *testing.T, data []byte) []byte {
	t.Helper()
	var out bytes.Buffer
	n := 0
	for _, doc := range losslessSplit(t, data) {
		out.Write(doc.Separator)
		if doc.Node == nil {
			out.Write(doc.Raw)
			continue
		}
		text := relayoutDocument(t, doc.Raw, &n)
		if a, b := yamlData(t, doc.Raw), yamlData(t, text); a != b {
			t.Fatalf("test bug: relayout changed what %s reads as:\n%s", doc.Name(), lineDiff(a, b))
		}
		out.Write(text)
	}
	return out.Bytes()
}

// relayoutDocument is relayout for one document's text; n numbers the
// comments it adds.
func relayoutDocument(t *testing.T, raw []byte, n *int) []byte {
	t.Helper()
	var doc yaml.Node
	if err := yaml.Unmarshal(raw, &doc); err != nil {
		t.Fatal(err)
	}
	var b bytes.Buffer
	enc := yaml.NewEncoder(&b)
	enc.SetIndent(4)
	if err := enc.Encode(&doc); err != nil {
		t.Fatal(err)
	}
	if err := enc.Close(); err != nil {
		t.Fatal(err)
	}
	// Where things go is found on the four-space text's own nodes.
	var wide yaml.Node
	if err := yaml.Unmarshal(b.Bytes(), &wide); err != nil {
		t.Fatal(err)
	}
	lines := strings.Split(strings.TrimSuffix(b.String(), "\n"), "\n")
	blankBefore, trailing := map[int]bool{}, map[int]string{}
	count := 0
	// What a previous injection added is injection's to rewrite: no
	// comments there.
	injected := injectedNames(&wide)
	var walk func(n *yaml.Node, owned bool)
	walk = func(node *yaml.Node, owned bool) {
		if node == nil || node.Style&yaml.FlowStyle != 0 {
			return
		}
		switch node.Kind {
		case yaml.DocumentNode:
			for _, c := range node.Content {
				walk(c, owned)
			}
		case yaml.MappingNode:
			if i := keyIndex(node, "name"); i >= 0 && injected[node.Content[i+1].Value] {
				owned = true
			}
			for i := 0; i+1 < len(node.Content); i += 2 {
				k, v := node.Content[i], node.Content[i+1]
				count++
				line := k.Line - 1
				if i > 0 && count%3 == 0 {
					blankBefore[line] = true
				}
				switch {
				case count%4 == 1 && !owned && !handlers[k.Value] && strings.HasSuffix(lines[line], ":") && !strings.Contains(lines[line], "#") &&
					(v.Kind == yaml.MappingNode || v.Kind == yaml.SequenceNode) && v.Style&yaml.FlowStyle == 0:
					*n++
					trailing[line] = fmt.Sprintf(" # layout-%d", *n)
				case count%5 == 2:
					trailing[line] = "   "
				}
				walk(v, owned)
			}
		case yaml.SequenceNode:
			for i, c := range node.Content {
				count++
				if i > 0 && count%4 == 0 {
					blankBefore[c.Line-1] = true
				}
				walk(c, owned)
			}
		}
	}
	walk(&wide, false)
	var out []string
	for i, line := range lines {
		if blankBefore[i] {
			// Above the line's own comments, which stay with it.
			at, ind := len(out), indentOf(line)
			for at > 0 && indentOf(out[at-1]) == ind && strings.HasPrefix(strings.TrimSpace(out[at-1]), "#") {
				at--
			}
			out = slices.Insert(out, at, "")
		}
		out = append(out, line+trailing[i])
	}
	*n++
	out = append(out, fmt.Sprintf("# layout-%d: the end", *n))
	return []byte(strings.Join(out, "\n") + "\n")
}

func indentOf(line string) int {
	return len(line) - len(strings.TrimLeft(line, " "))
}

// yamlData is what a document's text reads as, as JSON.
func yamlData(t *testing.T, text []byte) string {
	t.Helper()
	b, err := sigsyaml.YAMLToJSON(text)
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}

// undecorated removes the unknown marker fields from every document.
func undecorated(t *testing.T, data []byte) []byte {
	t.Helper()
	var out []string
	for _, doc := range losslessSplit(t, data) {
		if doc.Node == nil {
			continue
		}
		var v any
		if err := sigsyaml.Unmarshal([]byte(doc.Node.MustString()), &v); err != nil {
			t.Fatal(err)
		}
		dropMarkers(v)
		b, err := sigsyaml.Marshal(v)
		if err != nil {
			t.Fatal(err)
		}
		out = append(out, string(b))
	}
	return []byte(strings.Join(out, "---\n"))
}

func dropMarkers(v any) {
	switch x := v.(type) {
	case map[string]any:
		for k, e := range x {
			if strings.HasPrefix(k, "xKeep") {
				delete(x, k)
				continue
			}
			dropMarkers(e)
		}
	case []any:
		for _, e := range x {
			dropMarkers(e)
		}
	}
}

// sortedKeys is for stable messages.
func losslessSortedKeys[V any](m map[string]V) []string {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	return keys
}

// TestLosslessGenerated checks the same properties as TestLosslessCorpus
// and TestReinjectCorpus over generated manifests: every kind of workload
// Istio injects plus Argo Rollouts and Lists, with probes and hooks of
// every kind, named and numbered ports, Prometheus annotations, the
// user's own init containers, native sidecars and istio-proxy overrides,
// comments, quoting and flow styles, anchors, and both sequence
// indentations; with the quickstart's injector and Istio's own chart, in
// both decision modes.
func TestLosslessGenerated(t *testing.T) {
	configs := map[string]*config.Config{}
	corpus := ""
	if _, err := os.Stat(filepath.Join(corpusDirOrEmpty(), "cases.json")); err == nil {
		corpus = corpusDirOrEmpty()
	}
	var setups []losslessSetup
	for _, mode := range []string{"webhook", "kube-inject"} {
		quick := quickstartSetup(t, mode, configs)
		setups = append(setups, quick)
		if corpus == "" {
			continue
		}
		for _, native := range []string{"true", "false"} {
			setups = append(setups, losslessSetup{
				name: "istio chart, native sidecars " + native + " (" + mode + ")", mode: mode,
				env:             fakeEnv{"ENABLE_NATIVE_SIDECARS": native},
				sidecarInjector: losslessSidecarInjector(t, mode),
				injectConfig:    filepath.Join(corpus, "configs", "inject-config-d521712c8b.yaml"),
				values:          filepath.Join(corpus, "configs", "values-c17411c347.json"),
				mesh:            filepath.Join(corpus, "configs", "mesh-d3ed38e8ee.yaml"),
				configs:         configs,
			})
		}
	}
	if corpus == "" {
		t.Logf("Istio's corpus is not at %s: the generated set runs with the quickstart's injector only", corpusDirOrEmpty())
	}
	seeds := uint64(4)
	if testing.Short() {
		seeds = 1
	}
	for seed := uint64(1); seed <= seeds; seed++ {
		x := generateManifests(seed, 10)
		for _, s := range setups {
			t.Run(fmt.Sprintf("seed %d %s", seed, s.name), func(t *testing.T) {
				if injectedPods(t, s.inject(t, x)) == 0 {
					t.Fatalf("nothing injected: the generator or the setup is broken")
				}
				r := checkProperties(t, s, x)
				if r.reinjection != "" {
					t.Errorf("re-injection %s the output", r.reinjection)
				}
				if s.mode != "webhook" {
					return
				}
				y := s.inject(t, x)
				native := "true"
				if s.config(t).Options.Native() {
					native = "false"
				}
				same := func(b []byte) []byte { return b }
				// Moving namespace gen to revision canary.
				canary := func(b []byte) []byte {
					return bytes.ReplaceAll(b, []byte("istio-injection: enabled # injected"), []byte("istio.io/rev: canary"))
				}
				for _, v := range []struct {
					setup losslessSetup
					edit  func([]byte) []byte
				}{
					{s.with("nativeSidecars="+native, map[string]string{"ENABLE_NATIVE_SIDECARS": native}, ""), same},
					{s.with("revision canary", nil, "canary"), canary},
					{s.withImage(t, "example.com/istio", "1.99.0-upgraded"), same},
				} {
					want, got := v.setup.inject(t, v.edit(x)), v.setup.inject(t, v.edit(y))
					if diff := sameObjects(t, want, got); diff != "" {
						t.Errorf("%s: re-injecting differs from injecting the original:\n%s", v.setup.name, diff)
					} else if !bytes.Equal(want, got) && !declaresInjected(x) {
						t.Errorf("%s: re-injecting reads as injecting the original, but differs in its text:\n%s",
							v.setup.name, lineDiff(string(want), string(got)))
					}
				}
			})
		}
	}
}

// declaresInjected reports whether the manifests declare a container of
// the name injection uses for the proxy: the fields injection adds to
// such a declaration follow the user's own, so that after a change of
// native sidecars they may come in another order than in a fresh
// injection (the objects are equal).
func declaresInjected(x []byte) bool {
	return bytes.Contains(x, []byte("name: istio-proxy"))
}

// sameObjects compares two manifests document by document, pod templates
// as the typed model reads them; "" when they are equal.
func sameObjects(t *testing.T, want, got []byte) string {
	t.Helper()
	ws, gs := losslessSplit(t, want), losslessSplit(t, got)
	if len(ws) != len(gs) {
		return fmt.Sprintf("%d documents, want %d", len(gs), len(ws))
	}
	var b strings.Builder
	for i := range ws {
		if ws[i].Node == nil || gs[i].Node == nil {
			if !bytes.Equal(ws[i].Raw, gs[i].Raw) {
				fmt.Fprintf(&b, "document %d differs\n", i+1)
			}
			continue
		}
		if diff := semanticDiff(typedView(t, ws[i].Node), typedView(t, gs[i].Node)); diff != "" {
			fmt.Fprintf(&b, "document %d (%s):\n%s", i+1, id(ws[i].Node), diff)
		}
	}
	return b.String()
}

// corpusDirOrEmpty is where Istio's corpus is looked for, without
// skipping: the generated set runs without it, with less.
func corpusDirOrEmpty() string {
	if dir := os.Getenv("ISTIO_CONFORMANCE_DIR"); dir != "" {
		return dir
	}
	return filepath.Join("..", "..", "shared", "istio-conformance")
}

// quickstartSetup runs with the quickstart's injector (its ConfigMap's
// config, values and mesh as flag files).
func quickstartSetup(t *testing.T, mode string, configs map[string]*config.Config) losslessSetup {
	t.Helper()
	b, err := os.ReadFile(filepath.Join("..", "examples", "quickstart", "injector.yaml"))
	if err != nil {
		t.Fatal(err)
	}
	cm, err := yaml.Parse(string(b))
	if err != nil {
		t.Fatal(err)
	}
	dir := t.TempDir()
	s := losslessSetup{name: "quickstart (" + mode + ")", mode: mode, env: fakeEnv{}, configs: configs,
		sidecarInjector: losslessSidecarInjector(t, mode)}
	for key, into := range map[string]*string{"config": &s.injectConfig, "values": &s.values, "mesh": &s.mesh} {
		*into = filepath.Join(dir, key)
		if err := os.WriteFile(*into, []byte(cm.GetDataMap()[key]), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	return s
}

// generateManifests writes n random workloads (deterministic for a seed)
// after two Namespaces, "gen" selected for injection and "plain" not, and
// between them Services and ConfigMaps that are not injected.
func generateManifests(seed uint64, n int) []byte {
	g := &generator{r: rand.New(rand.NewPCG(seed, 0x5eed))}
	var docs []string
	docs = append(docs, "apiVersion: v1\nkind: Namespace\nmetadata:\n  name: gen\n  labels:\n    istio-injection: enabled # injected\n",
		"# not selected by any webhook\napiVersion: v1\nkind: Namespace\nmetadata: {name: plain}\n")
	for i := 0; i < n; i++ {
		docs = append(docs, g.workload(i))
		if g.r.IntN(3) == 0 {
			docs = append(docs, fmt.Sprintf("apiVersion: v1\nkind: Service\nmetadata:\n  name: svc-%d   # spaced comment\n  namespace: gen\nspec:\n  ports:\n  - {port: 80, targetPort: http}\n", i))
		}
		if g.r.IntN(4) == 0 {
			docs = append(docs, fmt.Sprintf("apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: app-config-%d\ndata:\n  key: |\n    literal text\n    kept\n", i))
		}
	}
	return []byte(strings.Join(docs, "---\n"))
}

type generator struct {
	r *rand.Rand
}

func (g *generator) pick(options ...string) string { return options[g.r.IntN(len(options))] }
func (g *generator) chance(in int) bool            { return g.r.IntN(in) == 0 }

// workload writes one workload; its pod template is indented by the
// kind's layout, its lists in one of the two sequence styles.
func (g *generator) workload(i int) string {
	name := fmt.Sprintf("app-%d", i)
	ns := "gen"
	if g.chance(6) {
		ns = "plain"
	}
	wide := g.chance(2)
	kind := g.pick("Deployment", "StatefulSet", "DaemonSet", "ReplicaSet", "Job", "CronJob", "Pod", "Rollout", "List")
	var b strings.Builder
	header := func(apiVersion, kind string) {
		fmt.Fprintf(&b, "apiVersion: %s\nkind: %s\nmetadata:\n  name: %s # workload\n  namespace: %s\n", apiVersion, kind, name, ns)
		if kind == "Pod" {
			fmt.Fprintf(&b, "  labels:\n    app: %s\n", name)
			if anns := g.annotations(); len(anns) > 0 {
				b.WriteString("  annotations:\n    " + strings.Join(anns, "\n    ") + "\n")
			}
		} else if g.chance(3) {
			b.WriteString("  labels:\n    team: 'payments'\n")
		}
	}
	switch kind {
	case "Pod":
		header("v1", "Pod")
		b.WriteString(g.podTemplate(name, "", wide, true))
	case "CronJob":
		header("batch/v1", "CronJob")
		b.WriteString("spec:\n  schedule: \"*/5 * * * *\"\n  jobTemplate:\n    spec:\n      template:\n")
		b.WriteString(g.podTemplate(name, "        ", wide, false))
	case "Job":
		header("batch/v1", "Job")
		b.WriteString("spec:\n  backoffLimit: 2\n  template:\n")
		b.WriteString(g.podTemplate(name, "    ", wide, false))
	case "Rollout":
		header("argoproj.io/v1alpha1", "Rollout")
		b.WriteString("spec:\n  replicas: 2\n  strategy:\n    canary:\n      steps:\n      - setWeight: 20\n      - pause: {duration: 1h}\n")
		fmt.Fprintf(&b, "  selector:\n    matchLabels: {app: %s}\n  analysis: {successfulRunHistoryLimit: 3} # an Argo field\n  template:\n", name)
		b.WriteString(g.podTemplate(name, "    ", wide, false))
	case "List":
		b.WriteString("apiVersion: v1\nkind: List\nitems:\n")
		for j := 0; j < 2; j++ {
			item := fmt.Sprintf("apiVersion: apps/v1\nkind: Deployment\nmetadata:\n  name: %s-%d\n  namespace: %s\nspec:\n  selector:\n    matchLabels: {app: %s}\n  template:\n", name, j, ns, name) +
				g.podTemplate(name, "    ", wide, false)
			for k, line := range strings.Split(strings.TrimSuffix(item, "\n"), "\n") {
				if k == 0 {
					b.WriteString("- " + line + "\n")
				} else {
					b.WriteString("  " + line + "\n")
				}
			}
		}
	default:
		apiVersion := "apps/v1"
		header(apiVersion, kind)
		fmt.Fprintf(&b, "spec:\n  selector:\n    matchLabels:\n      app: %s\n", name)
		if kind != "DaemonSet" && g.chance(2) {
			b.WriteString("  replicas: 3\n")
		}
		b.WriteString("  template:\n")
		b.WriteString(g.podTemplate(name, "    ", wide, false))
	}
	return b.String()
}

// podTemplate writes a pod template's metadata and spec at indent (for a
// Pod, the object's own spec and labels).
func (g *generator) podTemplate(app, indent string, wide, pod bool) string {
	var b strings.Builder
	line := func(depth int, format string, args ...any) {
		b.WriteString(indent + strings.Repeat("  ", depth) + fmt.Sprintf(format, args...) + "\n")
	}
	// item starts a list element: "- " at the list's own indentation
	// (compact) or two further in (wide).
	item := func(depth int, format string, args ...any) int {
		if wide {
			depth++
		}
		line(depth, "- "+format, args...)
		return depth + 1
	}
	// A Pod's metadata is the object's own, which the caller writes.
	// Otherwise the template may have none: injection then creates it.
	if !pod && !g.chance(5) {
		line(0, "metadata:")
		line(1, "labels:")
		line(2, "app: %s", app)
		if g.chance(2) {
			line(2, "version: \"v%d\"", g.r.IntN(3))
		}
		if g.chance(8) {
			line(2, "sidecar.istio.io/inject: \"false\" # opted out")
		}
		if anns := g.annotations(); len(anns) > 0 {
			line(1, "annotations:")
			for _, a := range anns {
				line(2, "%s", a)
			}
		}
	}
	line(0, "spec:")
	if g.chance(4) {
		line(1, "# the service account")
		line(1, "serviceAccountName: %s", app)
	}
	if g.chance(3) {
		line(1, "futurePodField: {enabled: true} # unknown to k8s.io/api")
	}
	if g.chance(3) {
		line(1, "initContainers:")
		d := item(1, "name: init-db")
		line(d, "image: busybox:1.36")
		line(d, "command: [sh, -c, 'until nslookup db; do sleep 2; done']")
		if g.chance(2) {
			line(d, "restartPolicy: Always # a native sidecar of the user's")
			g.probe(line, d, "readinessProbe", 9000)
		}
	}
	line(1, "containers:")
	anchored := false
	for c := 0; c < 1+g.r.IntN(3); c++ {
		name := fmt.Sprintf("c%d", c)
		d := item(1, "name: %s%s", name, g.pick("", " # the main one", ""))
		line(d, "image: %s", g.pick("nginx:1.27", "\"registry.example.com/app:1.0\"", "'busybox:1.36'"))
		if g.chance(3) {
			line(d, "command:")
			e := item(d, "sh")
			_ = e
			item(d, "-c")
			item(d, "|")
			line(d+2, "echo started")
			line(d+2, "sleep 3600")
		}
		port := 8080 + c
		named := g.chance(2)
		line(d, "ports:")
		if named {
			e := item(d, "name: http%s", strings.Repeat("x", c))
			line(e, "containerPort: %d", port)
		} else {
			item(d, "containerPort: %d", port)
		}
		for _, p := range []string{"readinessProbe", "livenessProbe", "startupProbe"} {
			if g.chance(2) {
				target := any(port)
				if named {
					target = "http" + strings.Repeat("x", c)
				}
				g.probe(line, d, p, target)
			}
		}
		if g.chance(3) {
			line(d, "lifecycle:")
			switch g.r.IntN(3) {
			case 0:
				line(d+1, "preStop:")
				line(d+2, "httpGet: {path: /drain, port: %d}", port)
			case 1:
				line(d+1, "postStart:")
				line(d+2, "tcpSocket:")
				line(d+3, "port: %d", port)
			default:
				line(d+1, "preStop:")
				line(d+2, "exec: {command: [sleep, \"5\"]}")
			}
		}
		if g.chance(2) {
			if !anchored && g.chance(2) {
				line(d, "env: &env")
				anchored = true
			} else if anchored {
				line(d, "env: *env")
				goto envDone
			} else {
				line(d, "env:")
			}
			item(d, "{name: MODE, value: \"production\"}")
			e := item(d, "name: POD_NAME")
			line(e, "valueFrom: {fieldRef: {fieldPath: metadata.name}}")
		}
	envDone:
		if g.chance(2) {
			line(d, "resources:")
			line(d+1, "requests: {cpu: 100m, memory: 64Mi}")
		}
		if g.chance(4) {
			line(d, "futureContainerField: [a, b] # unknown to k8s.io/api")
		}
	}
	if g.chance(5) {
		d := item(1, "name: istio-proxy # the user's own proxy settings")
		line(d, "image: auto")
		line(d, "resources:")
		line(d+1, "requests:")
		line(d+2, "cpu: 50m")
	}
	if g.chance(3) {
		line(1, "volumes:")
		d := item(1, "name: cache")
		line(d, "emptyDir: {}")
	}
	if g.chance(4) {
		line(1, "imagePullSecrets:")
		item(1, "name: registry-credentials")
	}
	return b.String()
}

// annotations are pod template annotations that change injection.
func (g *generator) annotations() []string {
	var out []string
	if g.chance(3) {
		out = append(out, "prometheus.io/scrape: \"true\"", fmt.Sprintf("prometheus.io/port: '%d'", 9090+g.r.IntN(5)))
		if g.chance(2) {
			out = append(out, "prometheus.io/path: /metrics # the app's")
		}
	}
	if g.chance(5) {
		out = append(out, `proxy.istio.io/config: '{"holdApplicationUntilProxyStarts": true}'`)
	}
	if g.chance(6) {
		out = append(out, `sidecar.istio.io/rewriteAppHTTPProbers: "false"`)
	}
	if g.chance(6) {
		out = append(out, `sidecar.istio.io/nativeSidecar: "true"`)
	}
	if g.chance(6) {
		out = append(out, `traffic.sidecar.istio.io/excludeInboundPorts: "9901"`)
	}
	return out
}

// probe writes a probe of a random kind on port (a number or a name).
func (g *generator) probe(line func(int, string, ...any), d int, field string, port any) {
	line(d, "# %s", field)
	line(d, "%s:", field)
	switch g.r.IntN(5) {
	case 0:
		line(d+1, "httpGet:")
		line(d+2, "path: /%s", strings.TrimSuffix(field, "Probe"))
		line(d+2, "port: %v", port)
		if g.chance(3) {
			line(d+2, "scheme: HTTPS")
		}
	case 1:
		line(d+1, "httpGet: {path: /healthz, port: %v, httpHeaders: [{name: X-Probe, value: kubelet}]}", port)
	case 2:
		line(d+1, "tcpSocket:")
		line(d+2, "port: %v", port)
	case 3:
		if n, ok := port.(int); ok {
			line(d+1, "grpc: {port: %d}", n)
		} else {
			line(d+1, "exec: {command: [cat, /tmp/healthy]}")
		}
	default:
		line(d+1, "exec:")
		line(d+2, "command: [cat, /tmp/healthy]")
	}
	line(d+1, "periodSeconds: %d", 5+g.r.IntN(10))
	if g.chance(2) {
		line(d+1, "timeoutSeconds: 3")
	}
}

// TestModes runs the uninject and check commands and the function's
// uninject and check modes on the cases of testdata/lossless/<case>:
//   - args: the command line, one argument per line ({dir} is
//     testdata/lossless); absent for the function mode;
//   - stdin: the input file, or "injected <file>" for that file injected
//     first with the quickstart's injector;
//   - mode or function-config.yaml (function mode): the function config
//     is a ConfigMap with the quickstart's injector and data.mode, or
//     that file.
//
// output.txt is the golden: exit status, standard error and output.
func TestModes(t *testing.T) {
	base := filepath.Join("testdata", "lossless")
	dirs, err := filepath.Glob(filepath.Join(base, "*", "stdin"))
	if err != nil || len(dirs) == 0 {
		t.Fatalf("no cases in %s: %v", base, err)
	}
	quick := losslessSetup{name: "quickstart", mode: "webhook", env: fakeEnv{}, configs: map[string]*config.Config{},
		injectConfig: filepath.Join(base, "inject-config.yaml"), values: filepath.Join(base, "values.json"),
		mesh: filepath.Join(base, "mesh.yaml")}
	for _, stdinFile := range dirs {
		dir := filepath.Dir(stdinFile)
		t.Run(filepath.Base(dir), func(t *testing.T) {
			spec := strings.TrimSpace(readCaseFile(t, stdinFile))
			name, injected := strings.CutPrefix(spec, "injected ")
			input, err := os.ReadFile(filepath.Join(base, name))
			if err != nil {
				t.Fatal(err)
			}
			if injected {
				input = quick.inject(t, input)
			}
			var args []string
			if a := readCaseFile(t, filepath.Join(dir, "args")); a != "" {
				for _, line := range strings.Split(strings.TrimSpace(a), "\n") {
					args = append(args, strings.ReplaceAll(line, "{dir}", base))
				}
			} else {
				args = []string{}
				input = modeResourceList(t, dir, base, input)
			}
			var out, errOut bytes.Buffer
			cmd := newRootCommand(streams{In: bytes.NewReader(input), Out: &out, Err: &errOut}, fakeEnv{}.lookup)
			cmd.SetArgs(args)
			runErr := cmd.Execute()
			var b strings.Builder
			if runErr != nil {
				fmt.Fprintf(&b, "exit: 1\nerror: %v\n", runErr)
			} else {
				b.WriteString("exit: 0\n")
			}
			fmt.Fprintf(&b, "--- stderr\n%s--- stdout\n%s", errOut.String(), out.String())
			checkGolden(t, filepath.Join(dir, "output.txt"), []byte(b.String()))

			switch filepath.Base(dir) {
			case "uninject-cli":
				if want, _ := os.ReadFile(filepath.Join(base, name)); !bytes.Equal(out.Bytes(), want) {
					t.Errorf("uninject(inject(x)) is not x byte for byte:\n%s", lineDiff(string(want), out.String()))
				}
			case "krm-check", "krm-bad-mode":
				assertItemsUnchanged(t, input, out.Bytes())
			}
		})
	}
}

func readCaseFile(t *testing.T, path string) string {
	t.Helper()
	b, err := os.ReadFile(path)
	if os.IsNotExist(err) {
		return ""
	}
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}

// modeResourceList builds the function's input for a case: the items of
// input and the case's function config.
func modeResourceList(t *testing.T, dir, base string, input []byte) []byte {
	t.Helper()
	fc := readCaseFile(t, filepath.Join(dir, "function-config.yaml"))
	if fc == "" {
		data := map[string]string{"mode": strings.TrimSpace(readCaseFile(t, filepath.Join(dir, "mode")))}
		for key, file := range map[string]string{"config": "inject-config.yaml", "values": "values.json", "mesh": "mesh.yaml"} {
			data[key] = readCaseFile(t, filepath.Join(base, file))
		}
		b, err := sigsyaml.Marshal(map[string]any{"apiVersion": "v1", "kind": "ConfigMap",
			"metadata": map[string]any{"name": "inject-sidecar"}, "data": data})
		if err != nil {
			t.Fatal(err)
		}
		fc = string(b)
	}
	rl := yaml.NewMapRNode(&map[string]string{"apiVersion": "config.kubernetes.io/v1", "kind": "ResourceList"})
	list := &yaml.Node{Kind: yaml.SequenceNode, Tag: "!!seq"}
	for _, it := range manifest.Nodes(losslessSplit(t, input)) {
		list.Content = append(list.Content, it.YNode())
	}
	fcNode, err := yaml.Parse(fc)
	if err != nil {
		t.Fatal(err)
	}
	if err := rl.PipeE(yaml.SetField("items", yaml.NewRNode(list))); err != nil {
		t.Fatal(err)
	}
	if err := rl.PipeE(yaml.SetField("functionConfig", fcNode)); err != nil {
		t.Fatal(err)
	}
	return []byte(rl.MustString())
}
