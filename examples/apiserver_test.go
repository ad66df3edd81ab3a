package examples_test

import (
	"bytes"
	"context"
	"crypto/rand"
	"crypto/rsa"
	"crypto/tls"
	"crypto/x509"
	"encoding/json"
	"encoding/pem"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"sort"
	"strconv"
	"strings"
	"testing"
	"time"

	sigsyaml "sigs.k8s.io/yaml"
)

// TestAPIServer is the end-to-end tier: a real kube-apiserver (with etcd),
// on loopback only, server-side dry-run applies every example's output and
// every output of Istio's conformance corpus, and fails on any rejection.
// It needs bin/kube-apiserver and bin/etcd (make apiserver) and runs with
// INJECT_SIDECAR_APISERVER=1 (make e2e).
func TestAPIServer(t *testing.T) {
	if os.Getenv("INJECT_SIDECAR_APISERVER") != "1" {
		t.Skip("SKIPPED: the API server tier runs with INJECT_SIDECAR_APISERVER=1 (make e2e)")
	}
	apiserver := tool(t, "kube-apiserver", "make apiserver", false)
	etcd := tool(t, "etcd", "make apiserver", false)

	outputs := exampleOutputs(t)
	outputs = append(outputs, conformanceOutputs(t)...)

	c := startCluster(t, apiserver, etcd)
	c.createCRDs(t, repoPath(t, "examples", "testdata", "apiserver", "crds.yaml"))
	// The server must reject what is invalid, or this tier proves nothing.
	invalid := object{namespace: "default", body: map[string]any{
		"apiVersion": "apps/v1", "kind": "Deployment", "metadata": map[string]any{"name": "no-containers"},
		"spec": map[string]any{
			"selector": map[string]any{"matchLabels": map[string]any{"app": "x"}},
			"template": map[string]any{"metadata": map[string]any{"labels": map[string]any{"app": "x"}}, "spec": map[string]any{}},
		},
	}}
	if err := c.apply(invalid, true); err == nil || !strings.Contains(err.Error(), "spec.template.spec.containers: Required value") {
		t.Fatalf("the API server did not reject a Deployment without containers as expected: %v", err)
	}

	// Namespaces (and the default ServiceAccount pods need, which no
	// controller creates here) first, for real; then every object with
	// dryRun=All, so that outputs do not see each other.
	var all []object
	for _, o := range outputs {
		all = append(all, o.objects(t)...)
	}
	c.prepareNamespaces(t, all)

	applied, rejected, asIstio := 0, 0, 0
	for _, o := range outputs {
		t.Run(o.name, func(t *testing.T) {
			for _, obj := range o.objects(t) {
				if reason := unappliable(obj); reason != "" {
					t.Logf("not applied: %s: %s", obj, reason)
					continue
				}
				applied++
				err := c.apply(obj, true)
				if err == nil {
					continue
				}
				if why := c.notOurs(t, o, obj, err); why != "" {
					asIstio++
					t.Logf("rejected as Istio's is: %s: %v (%s)", obj, err, why)
					continue
				}
				rejected++
				t.Errorf("rejected: %s: %v", obj, err)
			}
		})
	}
	t.Logf("API server tier: %d outputs, %d objects applied (dry run), %d rejected, %d rejected only where Istio's own input or output is",
		len(outputs), applied, rejected, asIstio)
	if applied == 0 {
		t.Fatal("nothing was applied")
	}
}

// output is one rendered set of manifests.
type output struct {
	name string
	// namespace applies to objects without one (Argo CD's destination,
	// kubectl's default namespace).
	namespace string
	manifests string
	// For conformance outputs: the case's input and Istio's expected
	// output, to tell a rejection the injection causes from one Istio's
	// corpus has anyway.
	input, expected string
}

// object is one manifest to apply.
type object struct {
	body      map[string]any
	namespace string // effective namespace for namespaced kinds
}

func (o object) String() string {
	kind, _ := o.body["kind"].(string)
	md, _ := o.body["metadata"].(map[string]any)
	name, _ := md["name"].(string)
	return fmt.Sprintf("%s %s/%s", kind, o.namespace, name)
}

func (o object) apiVersion() string { s, _ := o.body["apiVersion"].(string); return s }
func (o object) kind() string       { s, _ := o.body["kind"].(string); return s }
func (o object) name() string {
	md, _ := o.body["metadata"].(map[string]any)
	s, _ := md["name"].(string)
	return s
}

// objects splits an output into objects, expanding v1 Lists and dropping
// local config (kpt and kustomize never apply it).
func (o output) objects(t *testing.T) []object {
	t.Helper()
	var out []object
	var add func(m map[string]any)
	add = func(m map[string]any) {
		if m["kind"] == "List" {
			items, _ := m["items"].([]any)
			for _, it := range items {
				if im, ok := it.(map[string]any); ok {
					add(im)
				}
			}
			return
		}
		md, _ := m["metadata"].(map[string]any)
		ann, _ := md["annotations"].(map[string]any)
		if ann["config.kubernetes.io/local-config"] == "true" {
			return
		}
		ns, _ := md["namespace"].(string)
		if ns == "" {
			ns = o.namespace
		}
		out = append(out, object{body: m, namespace: ns})
	}
	for _, n := range parseObjects(t, o.manifests) {
		var m map[string]any
		if err := sigsyaml.Unmarshal([]byte(n.MustString()), &m); err != nil {
			t.Fatalf("%s: %v", o.name, err)
		}
		add(m)
	}
	return out
}

// unappliable says why an object cannot be applied to a plain cluster.
func unappliable(o object) string {
	if o.apiVersion() == "v1" && o.kind() == "DeploymentConfig" {
		return "OpenShift's legacy DeploymentConfig in the core group, which no CustomResourceDefinition can define"
	}
	return ""
}

// exampleOutputs renders every example with its tool.
func exampleOutputs(t *testing.T) []output {
	t.Helper()
	var outs []output
	add := func(name, namespace string, r result) {
		if r.err != nil {
			t.Fatalf("%s: %v\n%s", name, r.err, r.stderr)
		}
		outs = append(outs, output{name: name, namespace: namespace, manifests: r.stdout})
	}
	for _, dir := range []string{"examples/quickstart", "examples/kustomize/typed", "examples/kustomize/configmap", "examples/istio-install", "examples/argocd/exec/app"} {
		add(dir, "default", kustomizeBuild(t, dir, nil))
	}
	for _, s := range helmSetups {
		add("examples/helm with "+s.name, "shop", helmTemplate(t, s, "shop", "examples/helm/sidecar-injector.yaml"))
	}
	p := readPlugin(t)
	for _, kv := range []string{"1.33.2", "1.30.2"} {
		r, _ := generate(t, p, argoApp{path: "examples/argocd/app", namespace: "shop", kubeVersion: kv})
		add("examples/argocd plugin, Kubernetes "+kv, "shop", r)
	}
	outs = append(outs, output{name: "examples/argocd install", namespace: "argocd", manifests: renderArgoCDInstall(t)})

	flux := filepath.Join(t.TempDir(), "flux")
	mustRun(t, command{dir: repoRoot(t), args: []string{repoPath(t, "examples", "flux", "render.sh"), "examples/kustomize/typed", flux}})
	data, err := os.ReadFile(filepath.Join(flux, "manifests.yaml"))
	if err != nil {
		t.Fatal(err)
	}
	outs = append(outs, output{name: "examples/flux render", namespace: "default", manifests: string(data)})

	for _, pkg := range kptPackages {
		_, items, _, r := kptPipeline(t, repoPath(t, pkg.dir))
		if r.err != nil {
			t.Fatalf("%s: %v\n%s", pkg.dir, r.err, r.stderr)
		}
		var b strings.Builder
		for _, n := range items {
			b.WriteString(n.MustString() + "---\n")
		}
		outs = append(outs, output{name: pkg.dir, namespace: "default", manifests: b.String()})
	}
	return outs
}

// conformanceCase is an entry of the corpus's cases.json files (the fields
// this tier needs).
type conformanceCase struct {
	ID               string            `json:"id"`
	Input            string            `json:"input"`
	Expected         string            `json:"expected"`
	InjectConfig     string            `json:"injectConfig"`
	Values           string            `json:"values"`
	Mesh             string            `json:"mesh"`
	Env              map[string]string `json:"env"`
	Args             []string          `json:"args"`
	KubeInjectTested *bool             `json:"kubeInjectTested"`
}

// conformanceOutputs runs the inject command on every case of Istio's
// corpus that has an expected output, as the conformance test does.
func conformanceOutputs(t *testing.T) []output {
	t.Helper()
	dir := filepath.Join(repoRoot(t), "..", "shared", "istio-conformance")
	if d := os.Getenv("ISTIO_CONFORMANCE_DIR"); d != "" {
		dir = d
	}
	if _, err := os.Stat(filepath.Join(dir, "cases.json")); err != nil {
		skipOrFail(t, true, "conformance corpus not found at %s (%v): put shared/ beside the checkout or set ISTIO_CONFORMANCE_DIR", dir, err)
	}
	var outs []output
	for _, sub := range []string{".", "istioctl-kubeinject"} {
		data, err := os.ReadFile(filepath.Join(dir, sub, "cases.json"))
		if err != nil {
			t.Fatal(err)
		}
		var cases []conformanceCase
		if err := json.Unmarshal(data, &cases); err != nil {
			t.Fatalf("%s/cases.json: %v", sub, err)
		}
		for _, c := range cases {
			if c.Expected == "" {
				continue // an error case: no output
			}
			args, env := conformanceCommand(t, c, filepath.Join(dir, sub))
			r := run(t, command{dir: repoRoot(t), env: env, args: args})
			if r.err != nil {
				t.Fatalf("conformance %s: %v\n%s", c.ID, r.err, r.stderr)
			}
			outs = append(outs, output{
				name: "conformance/" + c.ID, namespace: "default", manifests: r.stdout,
				input:    readCorpusFile(t, dir, sub, c.Input, c.Args),
				expected: readCorpusFile(t, dir, sub, c.Expected, nil),
			})
		}
	}
	return outs
}

// readCorpusFile reads a file of the corpus; for istioctl cases, whose
// input is a -f argument, the file after -f.
func readCorpusFile(t *testing.T, dir, sub, name string, args []string) string {
	t.Helper()
	for i, a := range args {
		if (a == "-f" || a == "--filename") && i+1 < len(args) && name == "" {
			name = args[i+1]
		}
	}
	if name == "" {
		return ""
	}
	data, err := os.ReadFile(filepath.Join(dir, sub, name))
	if err != nil {
		t.Fatal(err)
	}
	return string(data)
}

// notOurs explains a rejected conformance object that the injection did
// not cause: the case's input object is rejected already, or Istio's own
// expected output is rejected with the same message. "" otherwise.
func (c *cluster) notOurs(t *testing.T, o output, obj object, err error) string {
	t.Helper()
	for _, src := range []struct{ what, manifests string }{
		{"the case's input is rejected too", o.input},
		{"Istio's expected output is rejected the same way", o.expected},
	} {
		if src.manifests == "" {
			continue
		}
		for _, other := range (output{name: o.name, namespace: o.namespace, manifests: src.manifests}).objects(t) {
			if other.kind() != obj.kind() || other.name() != obj.name() {
				continue
			}
			otherErr := c.apply(other, true)
			switch {
			case otherErr == nil:
			case otherErr.Error() == err.Error():
				return src.what
			case src.manifests == o.input:
				return src.what + ": " + otherErr.Error()
			}
		}
	}
	return ""
}

// conformanceCommand is the inject command line of a case: its three
// configuration files and environment, in kube-inject decision mode (the
// corpus is kube-inject's output) except for the cases Istio checks only
// through its webhook.
func conformanceCommand(t *testing.T, c conformanceCase, dir string) ([]string, map[string]string) {
	t.Helper()
	mode, labels := "kube-inject", "{}"
	if c.KubeInjectTested != nil && !*c.KubeInjectTested {
		mode, labels = "webhook", "{istio-injection: enabled}"
	}
	cfg := filepath.Join(t.TempDir(), "sidecar-injector.yaml")
	typed := fmt.Sprintf(`apiVersion: inject-sidecar.dev/v1alpha1
kind: SidecarInjector
metadata:
  name: conformance
spec:
  decisionMode: %s
  namespaces:
    test-ns:
      labels: %s
      annotations:
        openshift.io/sa.scc.uid-range: 1000620000/10000
        openshift.io/sa.scc.supplemental-groups: 1000620000/10000
`, mode, labels)
	if err := os.WriteFile(cfg, []byte(typed), 0o644); err != nil {
		t.Fatal(err)
	}
	args := []string{repoPath(t, "bin", "inject-sidecar"), "inject", "--config", cfg}
	if c.Args != nil {
		for i, a := range c.Args {
			if i > 0 && strings.HasPrefix(c.Args[i-1], "-") && !strings.HasPrefix(a, "-") {
				a = filepath.Join(dir, a)
			}
			args = append(args, a)
		}
		return args, c.Env
	}
	return append(args,
		"-f", filepath.Join(dir, c.Input),
		"--injectConfigFile", filepath.Join(dir, c.InjectConfig),
		"--valuesFile", filepath.Join(dir, c.Values),
		"--meshConfigFile", filepath.Join(dir, c.Mesh),
	), c.Env
}

// cluster is a running kube-apiserver.
type cluster struct {
	base   string
	token  string
	client *http.Client
	// resources maps apiVersion/kind to the resource's plural name and
	// whether it is namespaced.
	resources map[string]apiResource
}

type apiResource struct {
	name       string
	namespaced bool
}

// startCluster starts etcd and kube-apiserver on loopback ports, with a
// static admin token, and waits until the API server is ready. Both are
// stopped when the test ends.
func startCluster(t *testing.T, apiserver, etcd string) *cluster {
	t.Helper()
	dir := t.TempDir()
	clientPort, peerPort, apiPort := freePort(t), freePort(t), freePort(t)
	etcdURL := "http://127.0.0.1:" + clientPort
	peerURL := "http://127.0.0.1:" + peerPort
	start(t, dir, "etcd", etcd,
		"--name", "e2e",
		"--data-dir", filepath.Join(dir, "etcd-data"),
		"--listen-client-urls", etcdURL, "--advertise-client-urls", etcdURL,
		"--listen-peer-urls", peerURL, "--initial-advertise-peer-urls", peerURL,
		"--initial-cluster", "e2e="+peerURL,
		"--unsafe-no-fsync",
	)

	key, err := rsa.GenerateKey(rand.Reader, 2048)
	if err != nil {
		t.Fatal(err)
	}
	keyFile := filepath.Join(dir, "sa.key")
	keyPEM := pem.EncodeToMemory(&pem.Block{Type: "RSA PRIVATE KEY", Bytes: x509.MarshalPKCS1PrivateKey(key)})
	token := "inject-sidecar-e2e"
	tokens := filepath.Join(dir, "tokens.csv")
	for file, data := range map[string][]byte{keyFile: keyPEM, tokens: []byte(token + ",e2e-admin,e2e-admin,\"system:masters\"\n")} {
		if err := os.WriteFile(file, data, 0o600); err != nil {
			t.Fatal(err)
		}
	}
	certDir := filepath.Join(dir, "certs")
	exited := start(t, dir, "kube-apiserver", apiserver,
		"--etcd-servers", etcdURL,
		"--bind-address", "127.0.0.1", "--advertise-address", "127.0.0.1", "--secure-port", apiPort,
		"--cert-dir", certDir,
		"--token-auth-file", tokens,
		"--authorization-mode", "RBAC",
		"--service-account-issuer", "https://kubernetes.default.svc.cluster.local",
		"--service-account-key-file", keyFile, "--service-account-signing-key-file", keyFile,
		"--service-cluster-ip-range", "10.96.0.0/16",
		"--enable-priority-and-fairness=false",
		// The kubernetes Service's endpoints would need a routable address;
		// this server is on loopback only.
		"--endpoint-reconciler-type", "none",
	)

	c := &cluster{base: "https://127.0.0.1:" + apiPort, token: token}
	ctx, cancel := context.WithTimeout(context.Background(), 3*time.Minute)
	defer cancel()
	var last string
	for {
		if c.client == nil {
			c.client = apiClient(certDir)
		}
		if c.client != nil {
			code, body, err := c.do(ctx, http.MethodGet, "/readyz", "", nil)
			if err == nil && code == http.StatusOK {
				break
			}
			last = fmt.Sprintf("%d %v %s", code, err, body)
		}
		select {
		case <-ctx.Done():
			t.Fatalf("kube-apiserver not ready: %v; last answer: %s", ctx.Err(), last)
		case <-exited:
			t.Fatal("kube-apiserver exited")
		case <-time.After(500 * time.Millisecond):
		}
	}
	c.discover(t)
	return c
}

// apiClient trusts the serving certificate the API server generated in
// certDir; nil until it exists.
func apiClient(certDir string) *http.Client {
	pemData, err := os.ReadFile(filepath.Join(certDir, "apiserver.crt"))
	if err != nil {
		return nil
	}
	pool := x509.NewCertPool()
	if !pool.AppendCertsFromPEM(pemData) {
		return nil
	}
	return &http.Client{
		Timeout:   30 * time.Second,
		Transport: &http.Transport{TLSClientConfig: &tls.Config{RootCAs: pool, MinVersion: tls.VersionTLS12}},
	}
}

// start runs a server process for the test's lifetime, its output in a log
// file. The channel is closed when the process exits.
func start(t *testing.T, dir, name, path string, args ...string) <-chan struct{} {
	t.Helper()
	logFile, err := os.Create(filepath.Join(dir, name+".log"))
	if err != nil {
		t.Fatal(err)
	}
	cmd := exec.Command(path, args...)
	cmd.Stdout, cmd.Stderr = logFile, logFile
	if err := cmd.Start(); err != nil {
		t.Fatalf("starting %s: %v", name, err)
	}
	exited := make(chan struct{})
	go func() {
		_ = cmd.Wait()
		close(exited)
	}()
	t.Cleanup(func() {
		_ = cmd.Process.Kill()
		<-exited
		logFile.Close()
		if t.Failed() {
			t.Logf("%s log (last lines):\n%s", name, tail(logFile.Name()))
		}
	})
	return exited
}

func tail(file string) string {
	data, _ := os.ReadFile(file)
	lines := strings.Split(strings.TrimRight(string(data), "\n"), "\n")
	if len(lines) > 30 {
		lines = lines[len(lines)-30:]
	}
	return strings.Join(lines, "\n")
}

// freePort is a loopback TCP port that was free a moment ago.
func freePort(t *testing.T) string {
	t.Helper()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer l.Close()
	return strconv.Itoa(l.Addr().(*net.TCPAddr).Port)
}

// do sends one request; it returns the status code and the body.
func (c *cluster) do(ctx context.Context, method, path, contentType string, body []byte) (int, []byte, error) {
	req, err := http.NewRequestWithContext(ctx, method, c.base+path, bytes.NewReader(body))
	if err != nil {
		return 0, nil, err
	}
	req.Header.Set("Authorization", "Bearer "+c.token)
	req.Header.Set("Accept", "application/json")
	if contentType != "" {
		req.Header.Set("Content-Type", contentType)
	}
	resp, err := c.client.Do(req)
	if err != nil {
		return 0, nil, err
	}
	defer resp.Body.Close()
	data, err := io.ReadAll(resp.Body)
	return resp.StatusCode, data, err
}

// discover reads the API server's resources for every group version.
func (c *cluster) discover(t *testing.T) {
	t.Helper()
	c.resources = map[string]apiResource{}
	gvs := []string{"v1"}
	var groups struct {
		Groups []struct {
			Versions []struct {
				GroupVersion string `json:"groupVersion"`
			} `json:"versions"`
		} `json:"groups"`
	}
	c.getJSON(t, "/apis", &groups)
	for _, g := range groups.Groups {
		for _, v := range g.Versions {
			gvs = append(gvs, v.GroupVersion)
		}
	}
	for _, gv := range gvs {
		prefix := "/apis/" + gv
		if gv == "v1" {
			prefix = "/api/v1"
		}
		var list struct {
			Resources []struct {
				Name       string `json:"name"`
				Kind       string `json:"kind"`
				Namespaced bool   `json:"namespaced"`
			} `json:"resources"`
		}
		c.getJSON(t, prefix, &list)
		for _, r := range list.Resources {
			if !strings.Contains(r.Name, "/") {
				c.resources[gv+"/"+r.Kind] = apiResource{name: r.Name, namespaced: r.Namespaced}
			}
		}
	}
}

func (c *cluster) getJSON(t *testing.T, path string, into any) {
	t.Helper()
	code, body, err := c.do(context.Background(), http.MethodGet, path, "", nil)
	if err != nil || code != http.StatusOK {
		t.Fatalf("GET %s: %d %v %s", path, code, err, body)
	}
	if err := json.Unmarshal(body, into); err != nil {
		t.Fatalf("GET %s: %v", path, err)
	}
}

// path is the URL path of an object.
func (c *cluster) path(o object) (string, error) {
	r, ok := c.resources[o.apiVersion()+"/"+o.kind()]
	if !ok {
		return "", fmt.Errorf("the API server does not serve %s %s", o.apiVersion(), o.kind())
	}
	p := "/apis/" + o.apiVersion()
	if o.apiVersion() == "v1" {
		p = "/api/v1"
	}
	if r.namespaced {
		p += "/namespaces/" + url.PathEscape(o.namespace)
	}
	return p + "/" + r.name + "/" + url.PathEscape(o.name()), nil
}

// apply server-side applies an object, as a dry run or for real.
func (c *cluster) apply(o object, dryRun bool) error {
	p, err := c.path(o)
	if err != nil {
		return err
	}
	q := url.Values{"fieldManager": {"inject-sidecar-e2e"}, "force": {"true"}}
	if dryRun {
		q.Set("dryRun", "All")
	}
	body, err := json.Marshal(o.body)
	if err != nil {
		return err
	}
	code, resp, err := c.do(context.Background(), http.MethodPatch, p+"?"+q.Encode(), "application/apply-patch+yaml", body)
	if err != nil {
		return err
	}
	if code >= 300 {
		var status struct {
			Message string `json:"message"`
		}
		if json.Unmarshal(resp, &status) == nil && status.Message != "" {
			return fmt.Errorf("%d: %s", code, status.Message)
		}
		return fmt.Errorf("%d: %s", code, resp)
	}
	return nil
}

// createCRDs applies the CRDs of a file and waits until the API server
// serves their kinds.
func (c *cluster) createCRDs(t *testing.T, file string) {
	t.Helper()
	data, err := os.ReadFile(file)
	if err != nil {
		t.Fatal(err)
	}
	crds := output{name: file, manifests: string(data)}.objects(t)
	for _, crd := range crds {
		if err := c.apply(crd, false); err != nil {
			t.Fatalf("creating %s: %v", crd, err)
		}
	}
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	for {
		c.discover(t)
		missing := 0
		for _, crd := range crds {
			spec, _ := crd.body["spec"].(map[string]any)
			group, _ := spec["group"].(string)
			names, _ := spec["names"].(map[string]any)
			kind, _ := names["kind"].(string)
			versions, _ := spec["versions"].([]any)
			for _, v := range versions {
				vm, _ := v.(map[string]any)
				if _, ok := c.resources[fmt.Sprintf("%s/%v/%s", group, vm["name"], kind)]; !ok {
					missing++
				}
			}
		}
		if missing == 0 {
			return
		}
		select {
		case <-ctx.Done():
			t.Fatalf("the API server does not serve the CRDs of %s", file)
		case <-time.After(500 * time.Millisecond):
		}
	}
}

// prepareNamespaces creates every namespace the objects use, and in each
// the ServiceAccounts their pods name (default if none), which the
// ServiceAccount admission plugin requires and no controller creates here.
func (c *cluster) prepareNamespaces(t *testing.T, objs []object) {
	t.Helper()
	accounts := map[string]map[string]bool{}
	need := func(ns, sa string) {
		if accounts[ns] == nil {
			accounts[ns] = map[string]bool{"default": true}
		}
		if sa != "" {
			accounts[ns][sa] = true
		}
	}
	for _, o := range objs {
		if o.apiVersion() == "v1" && o.kind() == "Namespace" {
			need(o.name(), "")
			continue
		}
		if r, ok := c.resources[o.apiVersion()+"/"+o.kind()]; ok && r.namespaced {
			need(o.namespace, "")
		}
		if o.kind() == "Pod" {
			spec, _ := o.body["spec"].(map[string]any)
			sa, _ := spec["serviceAccountName"].(string)
			need(o.namespace, sa)
		}
	}
	names := make([]string, 0, len(accounts))
	for ns := range accounts {
		names = append(names, ns)
	}
	sort.Strings(names)
	for _, ns := range names {
		nsObj := object{body: map[string]any{"apiVersion": "v1", "kind": "Namespace", "metadata": map[string]any{"name": ns}}}
		if err := c.apply(nsObj, false); err != nil {
			t.Fatalf("creating namespace %s: %v", ns, err)
		}
		for sa := range accounts[ns] {
			saObj := object{namespace: ns, body: map[string]any{"apiVersion": "v1", "kind": "ServiceAccount", "metadata": map[string]any{"name": sa, "namespace": ns}}}
			if err := c.apply(saObj, false); err != nil {
				t.Fatalf("creating %s: %v", saObj, err)
			}
		}
	}
}
