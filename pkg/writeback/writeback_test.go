package writeback

import (
	"bytes"
	"flag"
	"fmt"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"

	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/api/resource"
	"k8s.io/apimachinery/pkg/util/intstr"
	"sigs.k8s.io/kustomize/kyaml/yaml"

	"github.com/inject-sidecar/inject-sidecar/pkg/podtemplate"
)

var update = flag.Bool("update", false, "rewrite the expected files in testdata from the code's output")

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

// parse reads one YAML document.
func parse(t *testing.T, data []byte) *yaml.Node {
	t.Helper()
	var doc yaml.Node
	if err := yaml.Unmarshal(data, &doc); err != nil {
		t.Fatal(err)
	}
	return &doc
}

// encode writes a document with the sequence indentation of its source,
// as the manifest package does (merge keys untagged, which yaml.v3 would
// write as "!!merge <<").
func encode(t *testing.T, doc *yaml.Node, source []byte) []byte {
	t.Helper()
	var merges []*yaml.Node
	var walk func(n *yaml.Node)
	walk = func(n *yaml.Node) {
		for i, c := range n.Content {
			if n.Kind == yaml.MappingNode && i%2 == 0 && c.Value == "<<" && c.Tag == "!!merge" {
				c.Tag = ""
				merges = append(merges, c)
			}
			walk(c)
		}
	}
	walk(doc)
	defer func() {
		for _, m := range merges {
			m.Tag = "!!merge"
		}
	}()
	var b bytes.Buffer
	style := yaml.SequenceIndentStyle(yaml.DeriveSeqIndentStyle(string(source)))
	enc := yaml.NewEncoderWithOptions(&b, &yaml.EncoderOptions{SeqIndent: style})
	if err := enc.Encode(doc); err != nil {
		t.Fatal(err)
	}
	if err := enc.Close(); err != nil {
		t.Fatal(err)
	}
	return b.Bytes()
}

// lineDiff renders the lines removed from a and added in b, with their
// line numbers in a and b, so a reviewer sees exactly what changed.
func lineDiff(a, b []byte) []byte {
	al := strings.SplitAfter(string(a), "\n")
	bl := strings.SplitAfter(string(b), "\n")
	// Longest common subsequence table.
	lcs := make([][]int, len(al)+1)
	for i := range lcs {
		lcs[i] = make([]int, len(bl)+1)
	}
	for i := len(al) - 1; i >= 0; i-- {
		for j := len(bl) - 1; j >= 0; j-- {
			if al[i] == bl[j] {
				lcs[i][j] = lcs[i+1][j+1] + 1
			} else {
				lcs[i][j] = max(lcs[i+1][j], lcs[i][j+1])
			}
		}
	}
	var out bytes.Buffer
	i, j := 0, 0
	for i < len(al) || j < len(bl) {
		switch {
		case i < len(al) && j < len(bl) && al[i] == bl[j]:
			i, j = i+1, j+1
		case j < len(bl) && (i == len(al) || lcs[i][j+1] >= lcs[i+1][j]):
			fmt.Fprintf(&out, "+%4d %s", j+1, strings.TrimSuffix(bl[j], "\n")+"\n")
			j++
		default:
			fmt.Fprintf(&out, "-%4d %s", i+1, strings.TrimSuffix(al[i], "\n")+"\n")
			i++
		}
	}
	return out.Bytes()
}

func TestPod(t *testing.T) {
	tests := []struct {
		name string
		// target picks among the input's pod templates; all takes every
		// one, reading all pods before writing any back.
		target int
		all    bool
		mutate func(p *corev1.Pod)
		// changed is Pod's expected report.
		changed bool
		// kept are texts of the input (as encoded) that must survive.
		kept []string
		// absent are texts that must not appear in the output.
		absent []string
		// wantErr is text Pod's error must hold.
		wantErr string
		// unreadable inputs start from an empty pod: Pod() fails on them.
		unreadable bool
	}{
		{
			name: "uninjected-metadata",
			mutate: func(p *corev1.Pod) {
				p.Labels, p.Annotations = nil, nil
			},
			changed: true,
			absent:  []string{"metadata: {}", "    metadata:"},
		},
		{
			name: "injected-canonical",
			mutate: func(p *corev1.Pod) {
				p.Spec.Containers[1].Env = []corev1.EnvVar{{Name: "PROXY_CONFIG", Value: "{}"}}
			},
			changed: true,
			kept:    []string{"limits: {cpu: 1000m} # the user's own, kept as written", "# the user's proxy settings"},
			absent:  []string{"3000m"},
		},
		{
			name:    "injected",
			mutate:  inject,
			changed: true,
			kept: []string{
				"kind: Deployment # kind first", "namespace: \"demo\"", "labels: {app: web, tier: 'frontend'}",
				"# Pod template.", "app: web # the app label", "version: \"1.0\"", "team: \"payments\" # owner",
				"futureField: keep me # unknown to k8s.io/api", "# The application.",
				"image: \"registry.example.com/web:1.2.3\"", "someFutureField: x",
				"- {name: FLAGS, value: \"--a --b\"}", "containerPort: 8080 # http",
				"args: [\"sleep\", \"3600\"] # flow list", "periodSeconds: 5",
			},
			absent: []string{"tcpSocket", "creationTimestamp", "\"info\""},
		},
		{
			name:   "no-change",
			mutate: func(p *corev1.Pod) {},
		},
		{
			name: "cronjob-no-metadata",
			mutate: func(p *corev1.Pod) {
				p.Annotations = map[string]string{"sidecar.istio.io/status": `{"containers":["istio-proxy"]}`}
				p.Labels = map[string]string{"security.istio.io/tlsMode": "istio"}
			},
			changed: true,
			absent:  []string{"creationTimestamp", "null"},
		},
		{
			name: "null-metadata",
			mutate: func(p *corev1.Pod) {
				p.Labels = map[string]string{"security.istio.io/tlsMode": "istio"}
				p.Spec.Containers[0].SecurityContext = &corev1.SecurityContext{RunAsNonRoot: ptr(true)}
			},
			changed: true,
			kept:    []string{"# filled in by injection"},
		},
		{
			name: "anchors",
			mutate: func(p *corev1.Pod) {
				p.Labels["security.istio.io/tlsMode"] = "istio"
				p.Spec.Containers[0].Env[0].Value = "green"
				p.Spec.Containers[2].ReadinessProbe.HTTPGet.Port = intstr.FromInt32(15020)
			},
			changed: true,
		},
		{
			name: "list-alias",
			all:  true,
			mutate: func(p *corev1.Pod) {
				p.Labels = map[string]string{"security.istio.io/tlsMode": "istio"}
				p.Spec.Containers = append(p.Spec.Containers, corev1.Container{Name: "istio-proxy", Image: "proxyv2"})
			},
			changed: true,
			kept:    []string{"# the same Deployment again"},
		},
		{
			name: "list-item",
			mutate: func(p *corev1.Pod) {
				p.Annotations = map[string]string{"sidecar.istio.io/status": "{}"}
				p.Spec.Containers = append(p.Spec.Containers, corev1.Container{Name: "istio-proxy", Image: "proxyv2"})
			},
			changed: true,
			kept:    []string{"metadata: {name: untouched}", "data: {a: \"1\"}"},
		},
		{
			name: "flow",
			mutate: func(p *corev1.Pod) {
				p.Labels["security.istio.io/tlsMode"] = "istio"
				p.Spec.Containers = append([]corev1.Container{{Name: "istio-proxy", Image: "proxyv2",
					Ports: []corev1.ContainerPort{{ContainerPort: 15090, Name: "http-envoy-prom"}}}}, p.Spec.Containers...)
			},
			changed: true,
			kept:    []string{"futureField: 1"},
		},
		{
			name: "quoting",
			mutate: func(p *corev1.Pod) {
				p.Annotations["single"] = "uno"
				p.Annotations["double"] = "dos"
				p.Annotations["plain"] = "tres"
				p.Annotations["literal"] = "line one\nline 2\n"
				p.Annotations["new-number-like"] = "15020"
				p.Annotations["new-bool-like"] = "true"
				p.Annotations["new-yaml11-bool"] = "on"
				p.Annotations["on"] = "key that YAML 1.1 reads as a boolean"
				p.Spec.Containers[0].Env[0].Value = "SINGLE"
				p.Spec.Containers[0].Env[1].Value = "DOUBLE"
				p.Spec.Containers[0].Env[2].Value = "456"
				p.Spec.Containers[0].Ports[0].ContainerPort = 8080
				p.Spec.TerminationGracePeriodSeconds = ptr(int64(45))
			},
			changed: true,
			kept:    []string{"- name: A", "- name: C"},
		},
		{
			name: "delete",
			mutate: func(p *corev1.Pod) {
				delete(p.Annotations, "drop")
				p.Spec.Containers[0].Env = append(p.Spec.Containers[0].Env[:1], p.Spec.Containers[0].Env[2])
				p.Spec.Containers = p.Spec.Containers[:1]
				p.Spec.Volumes = p.Spec.Volumes[:1]
				p.Spec.NodeSelector = nil
			},
			changed: true,
			absent:  []string{"drop", "DROP", "old-sidecar", "nodeSelector", "about the annotation"},
		},
		{
			name:       "metadata-scalar",
			unreadable: true,
			mutate: func(p *corev1.Pod) {
				p.Labels = map[string]string{"a": "b"}
			},
			wantErr: "Deployment scalar: field spec.template.metadata: expected an object, got the scalar \"5\"",
		},
		{
			name:       "template-list",
			unreadable: true,
			mutate: func(p *corev1.Pod) {
				p.Labels = map[string]string{"a": "b"}
			},
			wantErr: "Deployment list: field spec.template: expected an object, got a list",
		},
		{
			name: "merge-delete",
			mutate: func(p *corev1.Pod) {
				p.Spec.Containers[0].WorkingDir = ""
			},
			changed: true,
			wantErr: "Pod merge-delete: field spec.containers[0].workingDir: cannot remove the field: its value comes from a YAML merge key (<<)",
		},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			src, err := os.ReadFile(filepath.Join("testdata", "pod", tc.name+".in.yaml"))
			if err != nil {
				t.Fatal(err)
			}
			doc := parse(t, src)
			baseline := encode(t, doc, src)
			targets, err := podtemplate.Find([]*yaml.RNode{yaml.NewRNode(doc.Content[0])})
			if err != nil {
				t.Fatal(err)
			}
			if tc.target >= len(targets) {
				t.Fatalf("no target %d among %d", tc.target, len(targets))
			}
			picked := []int{tc.target}
			if tc.all {
				picked = picked[:0]
				for i := range targets {
					picked = append(picked, i)
				}
			}
			befores, afters := map[int]*corev1.Pod{}, map[int]*corev1.Pod{}
			for _, i := range picked {
				before, err := targets[i].Pod()
				if tc.unreadable {
					if err == nil {
						t.Fatal("Pod() read an unreadable input")
					}
					before, err = &corev1.Pod{}, nil
				}
				if err != nil {
					t.Fatal(err)
				}
				befores[i], afters[i] = before, before.DeepCopy()
				tc.mutate(afters[i])
			}
			var changed bool
			for _, i := range picked {
				c, pErr := Pod(&targets[i], befores[i], afters[i])
				changed = changed || c
				if err = pErr; err != nil {
					break
				}
			}
			if tc.wantErr != "" {
				if err == nil || !strings.Contains(err.Error(), tc.wantErr) {
					t.Fatalf("Pod error = %v, want one holding %q", err, tc.wantErr)
				}
				if tc.unreadable && !bytes.Equal(encode(t, doc, src), baseline) {
					t.Error("the resource changed though nothing could be written")
				}
				return
			}
			if err != nil {
				t.Fatalf("Pod: %v", err)
			}
			if changed != tc.changed {
				t.Errorf("changed = %v, want %v", changed, tc.changed)
			}
			out := encode(t, doc, src)
			if !tc.changed {
				if !bytes.Equal(out, baseline) {
					t.Errorf("no change, but the document reads differently:\n%s", lineDiff(baseline, out))
				}
				return
			}
			golden(t, filepath.Join("testdata", "pod", tc.name+".out.yaml"), out)
			golden(t, filepath.Join("testdata", "pod", tc.name+".diff"), lineDiff(baseline, out))
			for _, s := range tc.kept {
				if !bytes.Contains(baseline, []byte(s)) {
					t.Errorf("test bug: %q is not in the input as encoded", s)
				}
				if !bytes.Contains(out, []byte(s)) {
					t.Errorf("%q did not survive", s)
				}
			}
			for _, s := range tc.absent {
				if bytes.Contains(out, []byte(s)) {
					t.Errorf("%q is in the output", s)
				}
			}
			for _, i := range picked {
				readBack(t, out, i, afters[i])
			}
		})
	}
}

// readBack asserts that the written resource reads as the injected pod.
func readBack(t *testing.T, out []byte, target int, want *corev1.Pod) {
	t.Helper()
	doc := parse(t, out)
	targets, err := podtemplate.Find([]*yaml.RNode{yaml.NewRNode(doc.Content[0])})
	if err != nil || target >= len(targets) {
		t.Fatalf("reading the output back: %d targets, %v", len(targets), err)
	}
	got, err := targets[target].Pod()
	if err != nil {
		t.Fatalf("reading the output back: %v", err)
	}
	g, _ := generic(got)
	w, _ := generic(want)
	if !reflect.DeepEqual(g, w) {
		t.Errorf("the output reads as\n%v\nwant\n%v", g, w)
	}
}

func ptr[T any](v T) *T { return &v }

// inject changes the pod the way sidecar injection does.
func inject(p *corev1.Pod) {
	p.Labels["security.istio.io/tlsMode"] = "istio"
	p.Labels["service.istio.io/canonical-name"] = "web"
	p.Labels["service.istio.io/canonical-revision"] = "1.0"
	p.Annotations["sidecar.istio.io/status"] = `{"initContainers":["istio-init"],"containers":["istio-proxy"],"volumes":["istio-envoy","istio-data","istio-podinfo","istio-token","istiod-ca-cert"],"imagePullSecrets":null,"revision":"default"}`
	p.Annotations["kubectl.kubernetes.io/default-container"] = "app"
	p.Annotations["prometheus.io/port"] = "15020"
	p.Annotations["sidecar.istio.io/rewriteAppHTTPProbers"] = "true"

	app, helper := p.Spec.Containers[0], p.Spec.Containers[1]
	app.Env[0].Value = "debug"
	app.ReadinessProbe.HTTPGet.Path = "/app-health/app/readyz"
	app.ReadinessProbe.HTTPGet.Port = intstr.FromInt32(15020)
	app.LivenessProbe.TCPSocket = nil
	app.LivenessProbe.HTTPGet = &corev1.HTTPGetAction{Path: "/app-health/app/livez", Port: intstr.FromInt32(15020)}
	proxy := corev1.Container{
		Name:  "istio-proxy",
		Image: "docker.io/istio/proxyv2:1.28.0",
		Args:  []string{"proxy", "sidecar", "--domain", "$(POD_NAMESPACE).svc.cluster.local"},
		Env: []corev1.EnvVar{
			{Name: "PILOT_CERT_PROVIDER", Value: "istiod"},
			{Name: "POD_NAME", ValueFrom: &corev1.EnvVarSource{FieldRef: &corev1.ObjectFieldSelector{APIVersion: "v1", FieldPath: "metadata.name"}}},
			{Name: "ISTIO_META_ENABLE_HBONE", Value: "true"},
		},
		Ports: []corev1.ContainerPort{{ContainerPort: 15090, Name: "http-envoy-prom", Protocol: corev1.ProtocolTCP}},
		ReadinessProbe: &corev1.Probe{
			ProbeHandler:     corev1.ProbeHandler{HTTPGet: &corev1.HTTPGetAction{Path: "/healthz/ready", Port: intstr.FromInt32(15021)}},
			FailureThreshold: 4, PeriodSeconds: 15, TimeoutSeconds: 3,
		},
		Resources: corev1.ResourceRequirements{
			Limits:   corev1.ResourceList{corev1.ResourceCPU: resource.MustParse("2"), corev1.ResourceMemory: resource.MustParse("1Gi")},
			Requests: corev1.ResourceList{corev1.ResourceCPU: resource.MustParse("100m"), corev1.ResourceMemory: resource.MustParse("128Mi")},
		},
		SecurityContext: &corev1.SecurityContext{
			AllowPrivilegeEscalation: ptr(false), ReadOnlyRootFilesystem: ptr(true),
			RunAsUser: ptr(int64(1337)), RunAsNonRoot: ptr(true),
			Capabilities: &corev1.Capabilities{Drop: []corev1.Capability{"ALL"}},
		},
		VolumeMounts: []corev1.VolumeMount{
			{Name: "istiod-ca-cert", MountPath: "/var/run/secrets/istio"},
			{Name: "istio-data", MountPath: "/var/lib/istio/data"},
		},
	}
	p.Spec.Containers = []corev1.Container{proxy, helper, app}
	p.Spec.InitContainers = append(p.Spec.InitContainers, corev1.Container{
		Name: "istio-init", Image: "docker.io/istio/proxyv2:1.28.0",
		Args: []string{"istio-iptables", "-p", "15001", "-z", "15006", "-u", "1337"},
	})
	p.Spec.Volumes = append(p.Spec.Volumes,
		corev1.Volume{Name: "istio-envoy", VolumeSource: corev1.VolumeSource{EmptyDir: &corev1.EmptyDirVolumeSource{Medium: corev1.StorageMediumMemory}}},
		corev1.Volume{Name: "istio-data", VolumeSource: corev1.VolumeSource{EmptyDir: &corev1.EmptyDirVolumeSource{}}},
		corev1.Volume{Name: "istio-podinfo", VolumeSource: corev1.VolumeSource{DownwardAPI: &corev1.DownwardAPIVolumeSource{
			Items: []corev1.DownwardAPIVolumeFile{{Path: "labels", FieldRef: &corev1.ObjectFieldSelector{FieldPath: "metadata.labels"}}},
		}}},
		corev1.Volume{Name: "istio-token", VolumeSource: corev1.VolumeSource{Projected: &corev1.ProjectedVolumeSource{
			Sources: []corev1.VolumeProjection{{ServiceAccountToken: &corev1.ServiceAccountTokenProjection{
				Audience: "istio-ca", ExpirationSeconds: ptr(int64(43200)), Path: "istio-token",
			}}},
		}}},
		corev1.Volume{Name: "istiod-ca-cert", VolumeSource: corev1.VolumeSource{ConfigMap: &corev1.ConfigMapVolumeSource{
			LocalObjectReference: corev1.LocalObjectReference{Name: "istio-ca-root-cert"},
		}}},
	)
}
