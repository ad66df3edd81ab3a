package config

import (
	"bytes"
	"encoding/json"
	"os"
	"path/filepath"
	"reflect"
	"regexp"
	"strings"
	"testing"
	"text/template"

	"google.golang.org/protobuf/proto"
	meshconfig "istio.io/api/mesh/v1alpha1"
	sigsyaml "sigs.k8s.io/yaml"
)

// Tests over Istio's conformance corpus (see corpusDir).

func TestCorpusInjectorConfigs(t *testing.T) {
	for _, f := range corpusFiles(t, "configs/inject-config-*.yaml") {
		t.Run(filepath.Base(f), func(t *testing.T) {
			data, err := os.ReadFile(f)
			if err != nil {
				t.Fatal(err)
			}
			c, err := ParseInjectorConfig(data)
			if err != nil {
				t.Fatal(err)
			}
			if c.Policy != "enabled" || !reflect.DeepEqual(c.DefaultTemplates, []string{"sidecar"}) {
				t.Errorf("policy %q defaultTemplates %v", c.Policy, c.DefaultTemplates)
			}
			for _, name := range []string{"sidecar", "gateway", "grpc-simple", "grpc-agent", "waypoint", "kube-gateway"} {
				if strings.TrimSpace(c.Templates[name]) == "" {
					t.Errorf("template %q missing", name)
				}
			}
			if len(c.NeverInjectSelector) != 0 || len(c.AlwaysInjectSelector) != 0 || len(c.InjectedAnnotations) != 0 {
				t.Errorf("selectors/annotations not empty: %+v", c)
			}
			// The chart's legacy "template" key is ignored silently.
			if len(c.Warnings) != 0 {
				t.Errorf("warnings: %q", c.Warnings)
			}
			// As an --injectConfigFile it is a configuration, not a bare template.
			fc, err := ParseInjectConfigFile(data)
			if err != nil || fc.Bare || !reflect.DeepEqual(fc.Templates, c.Templates) {
				t.Errorf("ParseInjectConfigFile: bare=%v err=%v", fc != nil && fc.Bare, err)
			}
		})
	}
}

func TestCorpusValues(t *testing.T) {
	for _, f := range corpusFiles(t, "configs/values-*.json") {
		t.Run(filepath.Base(f), func(t *testing.T) {
			data, err := os.ReadFile(f)
			if err != nil {
				t.Fatal(err)
			}
			v, err := ParseValues(data)
			if err != nil {
				t.Fatal(err)
			}
			global, ok := v["global"].(map[string]any)
			if !ok {
				t.Fatalf("no global values: %v", v)
			}
			proxy, _ := global["proxy"].(map[string]any)
			if _, ok := global["hub"].(string); !ok || proxy == nil {
				t.Errorf("global.hub / global.proxy missing")
			}
			// Numbers are float64, as templates see them in Istio.
			if sp, ok := proxy["statusPort"]; ok {
				if _, isFloat := sp.(float64); !isFloat {
					t.Errorf("global.proxy.statusPort is %T, want float64", sp)
				}
			}
		})
	}
}

type corpusCase struct {
	ID           string `json:"id"`
	Mesh         string `json:"mesh"`
	MeshMutated  bool   `json:"meshMutated"`
	MeshMutation string `json:"meshMutation"`
}

func readCorpusCases(t *testing.T) []corpusCase {
	t.Helper()
	data, err := os.ReadFile(filepath.Join(corpusDir(t), "cases.json"))
	if err != nil {
		t.Fatal(err)
	}
	var cases []corpusCase
	if err := json.Unmarshal(data, &cases); err != nil {
		t.Fatal(err)
	}
	return cases
}

func TestCorpusMesh(t *testing.T) {
	for _, f := range corpusFiles(t, "configs/mesh-*.yaml") {
		t.Run(filepath.Base(f), func(t *testing.T) {
			data, err := os.ReadFile(f)
			if err != nil {
				t.Fatal(err)
			}
			mc, warnings, err := parseMesh(data)
			if err != nil {
				t.Fatal(err)
			}
			if len(warnings) != 0 {
				t.Errorf("warnings: %q", warnings)
			}
			if mc.GetTrustDomain() != "cluster.local" || mc.GetDefaultConfig().GetDiscoveryAddress() != "istiod.istio-system.svc:15012" {
				t.Errorf("trustDomain %q discoveryAddress %q", mc.GetTrustDomain(), mc.GetDefaultConfig().GetDiscoveryAddress())
			}
		})
	}
}

// TestCorpusMeshDefaults checks the mesh defaults against Istio itself: the
// corpus's mutated mesh files are Istio's own serialization of its defaults
// applied to the chart's data.mesh, with one mutation. Reading the chart's
// data.mesh with the mutation must give the same configuration, and reading
// a serialization back must add nothing (no default Istio does not have).
func TestCorpusMeshDefaults(t *testing.T) {
	dir := corpusDir(t)
	cases := readCorpusCases(t)
	base := map[string]int{}
	for _, c := range cases {
		if !c.MeshMutated {
			base[c.Mesh]++
		}
	}
	if len(base) != 1 {
		t.Fatalf("want one unmutated mesh file, got %v", base)
	}
	var baseFile string
	for f := range base {
		baseFile = f
	}
	baseData, err := os.ReadFile(filepath.Join(dir, baseFile))
	if err != nil {
		t.Fatal(err)
	}

	seen := map[string]bool{}
	for _, c := range cases {
		if !c.MeshMutated || seen[c.Mesh] {
			continue
		}
		seen[c.Mesh] = true
		t.Run(c.MeshMutation, func(t *testing.T) {
			dump, err := os.ReadFile(filepath.Join(dir, c.Mesh))
			if err != nil {
				t.Fatal(err)
			}
			want, err := ParseMesh(dump)
			if err != nil {
				t.Fatal(err)
			}

			// Fixed point: the dump read without defaults equals the dump read
			// over them.
			js, err := sigsyaml.YAMLToJSON(dump)
			if err != nil {
				t.Fatal(err)
			}
			bare := &meshconfig.MeshConfig{}
			if err := bare.UnmarshalJSON(js); err != nil {
				t.Fatal(err)
			}
			if !proto.Equal(bare, want) {
				t.Errorf("reading %s over the defaults adds fields Istio does not have:\n got %v\nwant %v", c.Mesh, want, bare)
			}

			// The chart's data.mesh plus the mutation gives Istio's result.
			mutated := applyMutation(t, baseData, c.MeshMutation)
			got, err := ParseMesh(mutated)
			if err != nil {
				t.Fatal(err)
			}
			if !proto.Equal(got, want) {
				t.Errorf("%s + %s differs from Istio's %s:\n got %v\nwant %v", baseFile, c.MeshMutation, c.Mesh, got, want)
			}
		})
	}
	if len(seen) == 0 {
		t.Fatal("no mutated mesh cases in cases.json")
	}
}

// applyMutation applies "a.b=value" or "a+=[list]" (value in YAML) to a mesh
// YAML document.
func applyMutation(t *testing.T, mesh []byte, mutation string) []byte {
	t.Helper()
	var doc map[string]any
	if err := sigsyaml.Unmarshal(mesh, &doc); err != nil {
		t.Fatal(err)
	}
	path, value, ok := strings.Cut(mutation, "=")
	if !ok {
		t.Fatalf("mutation %q has no '='", mutation)
	}
	appendList := strings.HasSuffix(path, "+")
	path = strings.TrimSuffix(path, "+")
	var v any
	if err := sigsyaml.Unmarshal([]byte(value), &v); err != nil {
		t.Fatalf("mutation %q: %v", mutation, err)
	}
	keys := strings.Split(path, ".")
	m := doc
	for _, k := range keys[:len(keys)-1] {
		next, ok := m[k].(map[string]any)
		if !ok {
			next = map[string]any{}
			m[k] = next
		}
		m = next
	}
	last := keys[len(keys)-1]
	if appendList {
		list, _ := m[last].([]any)
		add, ok := v.([]any)
		if !ok {
			t.Fatalf("mutation %q: += wants a list", mutation)
		}
		m[last] = append(list, add...)
	} else {
		m[last] = v
	}
	out, err := sigsyaml.Marshal(doc)
	if err != nil {
		t.Fatal(err)
	}
	return out
}

// TestCorpusIstioctl loads the configuration of istioctl's own kube-inject
// cases from their flags and checks what the templates will see: rendering
// the sidecar template with the loaded values must give the golden file's
// istio-init image (this covers bare templates and how --operatorFileName
// overrides --valuesFile).
func TestCorpusIstioctl(t *testing.T) {
	dir := filepath.Join(corpusDir(t), "istioctl-kubeinject")
	data, err := os.ReadFile(filepath.Join(dir, "cases.json"))
	if err != nil {
		t.Fatal(err)
	}
	var cases []struct {
		ID       string   `json:"id"`
		Args     []string `json:"args"`
		Expected string   `json:"expected"`
	}
	if err := json.Unmarshal(data, &cases); err != nil {
		t.Fatal(err)
	}
	initImage := regexp.MustCompile(`image: (\S*proxy_init\S*)`)
	for _, c := range cases {
		t.Run(c.ID, func(t *testing.T) {
			in := Input{Revision: "default"}
			read := func(name string) []byte {
				b, err := os.ReadFile(filepath.Join(dir, name))
				if err != nil {
					t.Fatal(err)
				}
				return b
			}
			for i := 0; i+1 < len(c.Args); i += 2 {
				switch flag, v := c.Args[i], c.Args[i+1]; flag {
				case "--injectConfigFile":
					in.InjectConfig, in.InjectConfigPath = read(v), v
				case "--valuesFile":
					in.Values, in.ValuesPath = read(v), v
				case "--meshConfigFile":
					in.Mesh, in.MeshPath = read(v), v
				case "--operatorFileName":
					in.Operator, in.OperatorPath = read(v), v
				case "-f":
				default:
					t.Fatalf("unexpected flag %s", flag)
				}
			}
			cfg, err := Load(in)
			if err != nil {
				t.Fatal(err)
			}
			inj := getInjector(t, cfg, "default")

			m := initImage.FindSubmatch(read(c.Expected))
			if m == nil {
				t.Fatalf("no istio-init image in %s", c.Expected)
			}
			tmpl, err := template.New("sidecar").Option("missingkey=zero").Parse(inj.Templates["sidecar"])
			if err != nil {
				t.Fatal(err)
			}
			var out bytes.Buffer
			if err := tmpl.Execute(&out, map[string]any{"Values": inj.Values}); err != nil {
				t.Fatal(err)
			}
			if !strings.Contains(out.String(), "image: "+string(m[1])) {
				t.Errorf("rendered sidecar template lacks %s:\n%s", m[1], out.String())
			}

			// The mesh of every case sets these; the rest are Istio's defaults.
			mc := inj.Mesh
			if !mc.GetEnableTracing() || mc.GetIngressService() != "istio-ingress" ||
				mc.GetDefaultConfig().GetConfigPath() != "/etc/istio/proxy" ||
				mc.GetDefaultConfig().GetServiceCluster() != "istio-proxy" ||
				mc.GetDefaultConfig().GetStatusPort() != 15020 {
				t.Errorf("mesh %v", mc)
			}
		})
	}
}
