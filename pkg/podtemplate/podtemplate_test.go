package podtemplate

import (
	"bytes"
	"encoding/json"
	"errors"
	"flag"
	"io"
	"os"
	"path/filepath"
	"strings"
	"testing"

	corev1 "k8s.io/api/core/v1"
	"sigs.k8s.io/kustomize/kyaml/yaml"
)

var update = flag.Bool("update", false, "rewrite the expected files in testdata from the code's output")

// readItems parses a multi-document file into one RNode per document, as
// an orchestrator would hand them over, whatever their shape.
func readItems(t *testing.T, name string) []*yaml.RNode {
	t.Helper()
	data, err := os.ReadFile(name)
	if err != nil {
		t.Fatal(err)
	}
	dec := yaml.NewDecoder(bytes.NewReader(data))
	var items []*yaml.RNode
	for {
		var doc yaml.Node
		err := dec.Decode(&doc)
		if errors.Is(err, io.EOF) {
			return items
		}
		if err != nil {
			t.Fatalf("%s: %v", name, err)
		}
		items = append(items, yaml.NewRNode(doc.Content[0]))
	}
}

// golden compares got with the expected file, or rewrites it with -update.
func golden(t *testing.T, name string, got []byte) {
	t.Helper()
	if *update {
		if err := os.WriteFile(name, got, 0o644); err != nil {
			t.Fatal(err)
		}
		return
	}
	want, err := os.ReadFile(name)
	if err != nil {
		t.Fatalf("%v (run with -update to create it)", err)
	}
	if !bytes.Equal(got, want) {
		t.Errorf("output differs from %s (run with -update and review the diff)\n--- got:\n%s", name, got)
	}
}

// targetView is what the expected files record of a Target.
type targetView struct {
	String     string          `json:"string"`
	Index      int             `json:"index"`
	Path       string          `json:"path,omitempty"`
	APIVersion string          `json:"apiVersion"`
	Kind       string          `json:"kind"`
	Name       string          `json:"name,omitempty"`
	Namespace  string          `json:"namespace,omitempty"`
	MetaPath   string          `json:"metaPath"`
	SpecPath   string          `json:"specPath"`
	File       string          `json:"file,omitempty"`
	FileIndex  string          `json:"fileIndex,omitempty"`
	Meta       any             `json:"podMetadata,omitempty"`
	Spec       *corev1.PodSpec `json:"podSpec,omitempty"`
	PodError   string          `json:"podError,omitempty"`
}

func TestFind(t *testing.T) {
	tests := []struct {
		name string
		// targets are the String()s of the targets found, in order.
		targets []string
		// podErrors maps a target's String() to text its Pod error holds.
		podErrors map[string][]string
		// findErr is text Find's error must hold.
		findErr []string
	}{
		{
			name: "kinds",
			targets: []string{
				"Pod demo/pod", "Deployment deploy", "Deployment old-deploy", "DaemonSet ds",
				"ReplicaSet rs", "StatefulSet sts", "Job job", "ReplicationController rc",
				"DeploymentConfig dc", "CronJob cron", "CronJob old-cron", "Rollout rollout",
			},
		},
		{
			name: "lists",
			targets: []string{
				"Deployment demo/first (items[0] of List outer)",
				"Pod nested (items[2].items[0] of List outer)",
				"Job last (items[0] of List after-lists)",
			},
		},
		{
			name:    "skipped",
			targets: []string{"Deployment not-local", "Deployment (unnamed #12)"},
		},
		{
			name:    "decode",
			targets: []string{"Deployment demo/texts", "Deployment anchors"},
		},
		{
			name: "file-annotations",
			targets: []string{
				"Pod internal", "Pod legacy", "Pod both", "Pod in-list (items[0] of List (unnamed #4))",
			},
		},
		{
			name: "pod-errors",
			targets: []string{
				"Deployment demo/containers-map", "Deployment number-label", "Deployment number-annotation",
				"Deployment port-string", "Deployment port-overflow", "Deployment bad-quantity",
				"Deployment probe-port-list", "Deployment spec-list", "Deployment template-spec-string",
				"Deployment template-metadata-list", "Pod (unnamed #11)", "Pod annotations-list",
				"Pod duplicate-key", "Pod infinity", "Pod bool-for-string", "Pod map-key-list",
				"Pod in-list (items[0] of List (unnamed #17))",
			},
			podErrors: map[string][]string{
				"Deployment demo/containers-map":    {"Deployment demo/containers-map: field spec.template.spec.containers: expected a list, got an object"},
				"Deployment number-label":           {"Deployment number-label: field spec.template.metadata.labels.a: expected a string, got the number 1"},
				"Deployment number-annotation":      {`field spec.template.metadata.annotations["sidecar.istio.io/proxyCPU"]: expected a string, got the number 100`},
				"Deployment port-string":            {`field spec.template.spec.containers[1].ports[1].containerPort: expected an integer, got the string "http"`},
				"Deployment port-overflow":          {"field spec.template.spec.containers[0].ports[0].containerPort: expected an integer that fits in 32 bits"},
				"Deployment bad-quantity":           {`field spec.template.spec.containers[0].resources.limits.cpu: the string "lots" is not a quantity`},
				"Deployment probe-port-list":        {"field spec.template.spec.containers[0].readinessProbe.httpGet.port: expected an integer or a string, got a list"},
				"Deployment spec-list":              {"Deployment spec-list: field spec: expected an object, got a list"},
				"Deployment template-spec-string":   {`field spec.template.spec: expected an object, got the string "containers: []"`},
				"Deployment template-metadata-list": {"field spec.template.metadata: expected an object, got a list"},
				"Pod (unnamed #11)":                 {"Pod (unnamed #11): field metadata: expected an object, got a list"},
				"Pod annotations-list":              {"field metadata.annotations: expected an object, got a list"},
				"Pod duplicate-key":                 {"field spec.containers[0].image: the key appears more than once"},
				"Pod infinity":                      {"field spec.terminationGracePeriodSeconds: the number .inf is not a number JSON can hold"},
				"Pod bool-for-string":               {"field spec.containers[0].image: expected a string, got the boolean true"},
				"Pod map-key-list":                  {"field spec.nodeSelector: expected keys to be strings, got a list"},
				"Pod in-list (items[0] of List (unnamed #17))": {
					"Pod in-list (items[0] of List (unnamed #17)): field items[0].spec.containers[0].env: expected a list, got an object",
				},
			},
		},
		{
			name:    "list-items-scalar",
			findErr: []string{`List demo/broken: field items: expected a list of objects, got the string "not a list"`},
		},
		{
			name:    "nested-list-items-map",
			findErr: []string{"List (unnamed #1): field items[1].items: expected a list of objects, got an object"},
		},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			in := filepath.Join("testdata", "find", tc.name+".in.yaml")
			items := readItems(t, in)
			targets, err := Find(items)
			if len(tc.findErr) > 0 {
				if err == nil {
					t.Fatalf("Find: no error, want one holding %q", tc.findErr)
				}
				for _, s := range tc.findErr {
					if !strings.Contains(err.Error(), s) {
						t.Errorf("Find error %q does not hold %q", err, s)
					}
				}
				if targets != nil {
					t.Errorf("Find returned %d targets with its error", len(targets))
				}
				return
			}
			if err != nil {
				t.Fatalf("Find: %v", err)
			}
			var names []string
			var views []targetView
			for i := range targets {
				tg := &targets[i]
				names = append(names, tg.String())
				checkIdentity(t, items, tg)
				views = append(views, view(t, tg, tc.podErrors[tg.String()]))
			}
			if strings.Join(names, "\n") != strings.Join(tc.targets, "\n") {
				t.Errorf("targets:\n  %s\nwant:\n  %s", strings.Join(names, "\n  "), strings.Join(tc.targets, "\n  "))
			}
			for name := range tc.podErrors {
				if !contains(names, name) {
					t.Errorf("no target %q to check the Pod error of", name)
				}
			}
			out := toYAML(t, views)
			golden(t, filepath.Join("testdata", "find", tc.name+".out.yaml"), out)
			// Find and Pod only read: the input is unchanged.
			for i, item := range items {
				again := readItems(t, in)[i]
				if item.MustString() != again.MustString() {
					t.Errorf("item %d was modified:\n%s", i, item.MustString())
				}
			}
		})
	}
}

// checkIdentity asserts that a Target points into the items it came from.
func checkIdentity(t *testing.T, items []*yaml.RNode, tg *Target) {
	t.Helper()
	if tg.Index < 0 || tg.Index >= len(items) || items[tg.Index] != tg.Resource {
		t.Errorf("%s: Resource is not items[%d]", tg, tg.Index)
	}
	if tg.Path == "" && tg.Object != tg.Resource {
		t.Errorf("%s: top-level Object is not Resource", tg)
	}
	if tg.Path != "" && tg.Object == tg.Resource {
		t.Errorf("%s: List item Object is the List", tg)
	}
}

func view(t *testing.T, tg *Target, wantErr []string) targetView {
	t.Helper()
	file, index := tg.File()
	v := targetView{
		String:     tg.String(),
		Index:      tg.Index,
		Path:       tg.Path,
		APIVersion: tg.TypeMeta.APIVersion,
		Kind:       tg.TypeMeta.Kind,
		Name:       tg.Name,
		Namespace:  tg.Namespace,
		MetaPath:   strings.Join(tg.MetaPath, "."),
		SpecPath:   strings.Join(tg.SpecPath, "."),
		File:       file,
		FileIndex:  index,
	}
	if id := tg.ResourceID(); id.Kind != tg.TypeMeta.Kind || id.APIVersion != tg.TypeMeta.APIVersion || id.Name != tg.Name || id.Namespace != tg.Namespace {
		t.Errorf("%s: ResourceID %+v does not match", tg, id)
	}
	pod, err := tg.Pod()
	switch {
	case err != nil && len(wantErr) == 0:
		t.Errorf("%s: Pod: %v", tg, err)
	case err == nil && len(wantErr) > 0:
		t.Errorf("%s: Pod: no error, want one holding %q", tg, wantErr)
	}
	if err != nil {
		v.PodError = err.Error()
		for _, s := range wantErr {
			if !strings.Contains(err.Error(), s) {
				t.Errorf("%s: Pod error\n  %s\ndoes not hold\n  %s", tg, err, s)
			}
		}
		if pod != nil {
			t.Errorf("%s: Pod returned a pod with its error", tg)
		}
		return v
	}
	meta := map[string]any{}
	if pod.Name != "" {
		meta["name"] = pod.Name
	}
	if pod.Namespace != "" {
		meta["namespace"] = pod.Namespace
	}
	if len(pod.Labels) > 0 {
		meta["labels"] = pod.Labels
	}
	if len(pod.Annotations) > 0 {
		meta["annotations"] = pod.Annotations
	}
	if len(meta) > 0 {
		v.Meta = meta
	}
	v.Spec = &pod.Spec
	return v
}

func contains(list []string, s string) bool {
	for _, e := range list {
		if e == s {
			return true
		}
	}
	return false
}

// toYAML renders v through its JSON form as block YAML with sorted keys
// and no line wrapping, for expected files that read well in review.
func toYAML(t *testing.T, v any) []byte {
	t.Helper()
	raw, err := json.Marshal(v)
	if err != nil {
		t.Fatal(err)
	}
	var generic any
	if err := json.Unmarshal(raw, &generic); err != nil {
		t.Fatal(err)
	}
	out, err := yaml.Marshal(generic)
	if err != nil {
		t.Fatal(err)
	}
	return out
}

func TestField(t *testing.T) {
	tests := []struct {
		listPath string
		path     []string
		want     string
	}{
		{"", []string{"spec", "template", "spec"}, "spec.template.spec"},
		{"", []string{"spec.template.spec", "containers[0].image"}, "spec.template.spec.containers[0].image"},
		{"", []string{"spec", "[2]"}, "spec[2]"},
		{"items[1]", []string{"metadata", "labels.a"}, "items[1].metadata.labels.a"},
		{"items[1]", nil, "items[1]"},
		{"", []string{"", "spec", ""}, "spec"},
	}
	for _, tc := range tests {
		tg := &Target{Path: tc.listPath}
		if got := tg.Field(tc.path...); got != tc.want {
			t.Errorf("Field(%q) with Path %q = %q, want %q", tc.path, tc.listPath, got, tc.want)
		}
	}
}

// TestNoPanic feeds degenerate values to the exported API.
func TestNoPanic(t *testing.T) {
	if got, err := Find([]*yaml.RNode{nil, yaml.NewRNode(nil), yaml.NewRNode(&yaml.Node{Kind: yaml.MappingNode})}); err != nil || len(got) != 0 {
		t.Errorf("Find of empty items = %v, %v", got, err)
	}
	var nilTarget *Target
	if _, err := nilTarget.Pod(); err == nil {
		t.Error("Pod of a nil Target: no error")
	}
	if _, err := (&Target{}).Pod(); err == nil {
		t.Error("Pod of a Target without Object: no error")
	}
	if p, i := (&Target{}).File(); p != "" || i != "" {
		t.Errorf("File of a Target without Resource = %q, %q", p, i)
	}
}

// FuzzFind feeds arbitrary YAML to Find and Pod: they may refuse it, never
// panic. The seeds are the test inputs.
func FuzzFind(f *testing.F) {
	files, _ := filepath.Glob(filepath.Join("testdata", "find", "*.in.yaml"))
	for _, name := range files {
		data, err := os.ReadFile(name)
		if err != nil {
			f.Fatal(err)
		}
		f.Add(data)
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		dec := yaml.NewDecoder(bytes.NewReader(data))
		var items []*yaml.RNode
		for len(items) < 20 {
			var doc yaml.Node
			if err := dec.Decode(&doc); err != nil {
				break
			}
			if len(doc.Content) > 0 {
				items = append(items, yaml.NewRNode(doc.Content[0]))
			}
		}
		targets, err := Find(items)
		if err != nil {
			return
		}
		for i := range targets {
			_, _ = targets[i].Pod()
			_ = targets[i].String()
			_, _ = targets[i].File()
		}
	})
}
