// Package workloadgen writes realistic, deterministic Kubernetes manifests
// for benchmarks and scale tests: N workloads of mixed kinds, with the
// Services, ConfigMaps and Namespaces a real repository has between them.
//
// The same Options always give the same bytes (math/rand/v2's PCG is
// specified, not an implementation detail), so benchmark inputs can be
// regenerated instead of stored, and results compared over time.
package workloadgen

import (
	"bufio"
	"fmt"
	"io"
	"math/rand/v2"
	"strings"
)

// Options configure one generated stream.
type Options struct {
	// Workloads is the number of pod-carrying objects to write.
	Workloads int
	// Seed selects the stream; 0 is as good as any other value.
	Seed uint64
}

// Stats describe what Generate wrote.
type Stats struct {
	// Workloads counts pod-carrying objects; Kinds breaks them down by kind.
	Workloads int
	Kinds     map[string]int
	// OptedOut counts workloads that Istio's webhook does not inject: the
	// pod says sidecar.istio.io/inject: "false", or it runs in the
	// namespace labelled istio-injection: disabled.
	OptedOut int
	// Documents counts every document, Namespaces, Services and ConfigMaps
	// included.
	Documents int
	// Bytes is the size of the stream.
	Bytes int64
}

// Kind shares of the workloads, in percent; the rest are Deployments.
// Roughly what a platform team's monorepo holds: services first, then
// stateful stores, batch and node agents.
const (
	statefulSetShare = 8
	jobShare         = 5
	cronJobShare     = 5
	daemonSetShare   = 4
)

// optOutShare is the percentage of workloads whose pod template opts out
// with sidecar.istio.io/inject: "false"; with the opted-out namespace's
// workloads the total is about 5%.
const optOutShare = 3

// disabledNamespace is labelled istio-injection: disabled and written last,
// after workloads that run in it: whoever decides must know every
// Namespace of the input before the first workload.
const disabledNamespace = "legacy-batch"

// teams are the namespaces workloads are spread over.
var teams = []string{"payments", "checkout", "catalog", "search", "identity", "shipping", "analytics", "platform"}

// Generate writes opts.Workloads workloads to w as multi-document YAML.
func Generate(w io.Writer, opts Options) (Stats, error) {
	if opts.Workloads < 0 {
		return Stats{}, fmt.Errorf("workloadgen: negative workload count %d", opts.Workloads)
	}
	cw := &countingWriter{w: bufio.NewWriterSize(w, 64<<10)}
	g := &generator{
		w:     cw,
		rng:   rand.New(rand.NewPCG(opts.Seed, 0x1571_0de_5eed)),
		stats: Stats{Kinds: map[string]int{}},
	}
	g.run(opts.Workloads)
	if err := cw.w.Flush(); err != nil && cw.err == nil {
		cw.err = err
	}
	if cw.err != nil {
		return Stats{}, fmt.Errorf("workloadgen: writing: %w", cw.err)
	}
	g.stats.Bytes = cw.n
	return g.stats, nil
}

type countingWriter struct {
	w   *bufio.Writer
	n   int64
	err error
}

func (c *countingWriter) WriteString(s string) {
	if c.err != nil {
		return
	}
	n, err := c.w.WriteString(s)
	c.n += int64(n)
	c.err = err
}

type generator struct {
	w     *countingWriter
	rng   *rand.Rand
	stats Stats
	sb    strings.Builder
}

// namespaces is how many team namespaces a stream of n workloads uses: a
// few, growing slowly with n.
func namespaces(n int) int {
	k := 1 + n/400
	return min(k, len(teams))
}

func (g *generator) run(n int) {
	nsCount := namespaces(n)
	for i := range nsCount {
		g.namespace(teams[i], "enabled", i%2 == 0)
	}
	for i := range n {
		ns := teams[g.rng.IntN(nsCount)]
		// One workload in fifty is a nightly batch in the opted-out
		// namespace declared at the end.
		if n >= 20 && g.rng.IntN(50) == 0 {
			ns = disabledNamespace
		}
		g.workload(i, ns)
	}
	if n >= 20 {
		g.namespace(disabledNamespace, "disabled", false)
	}
}

// doc ends the document being built and writes it with its separator.
func (g *generator) doc() {
	if g.stats.Documents > 0 {
		g.w.WriteString("---\n")
	}
	g.w.WriteString(g.sb.String())
	g.sb.Reset()
	g.stats.Documents++
}

func (g *generator) line(indent int, format string, args ...any) {
	for range indent {
		g.sb.WriteString("  ")
	}
	fmt.Fprintf(&g.sb, format, args...)
	g.sb.WriteByte('\n')
}

func (g *generator) namespace(name, injection string, commented bool) {
	g.line(0, "apiVersion: v1")
	g.line(0, "kind: Namespace")
	g.line(0, "metadata:")
	g.line(1, "name: %s", name)
	g.line(1, "labels:")
	if commented {
		g.line(2, "# Istio's webhook injects every pod of this namespace unless it opts out.")
	}
	g.line(2, "istio-injection: %s", injection)
	g.line(2, "team: %s", name)
	g.doc()
}

// workload is one pod-carrying object and, for services, the Service and
// ConfigMap that usually come with it.
func (g *generator) workload(i int, ns string) {
	w := g.describe(i, ns)
	g.stats.Workloads++
	g.stats.Kinds[w.kind]++
	if w.optOut || ns == disabledNamespace {
		g.stats.OptedOut++
	}
	if w.configMap {
		g.configMap(w)
	}
	g.object(w)
	if w.service {
		g.service(w)
	}
}

// spec is what varies between workloads.
type spec struct {
	kind, name, ns, app, version string
	optOut, configMap, service   bool
	containers                   []container
	annotations                  [][2]string
	replicas                     int
}

type container struct {
	name, image       string
	ports             []port
	probes            []probe
	env               [][2]string
	cpu, memory       string
	mountConfig       bool
	command           []string
	readOnlyRootFS    bool
	runAsNonRoot      bool
	terminationPolicy bool
}

type port struct {
	name     string
	number   int
	protocol string
}

// probe is one of liveness, readiness or startup, on a named or numeric
// port, by HTTP, TCP or gRPC.
type probe struct {
	field, handler, path string
	port                 string
	initialDelay, period int
}

var (
	images  = []string{"nginx:1.27", "ghcr.io/acme/api:2.14.3", "ghcr.io/acme/worker:1.9.0", "registry.example.com/shop/frontend:5.2.1", "docker.io/library/redis:7.4", "quay.io/prometheus/node-exporter:v1.8.2", "ghcr.io/acme/grpc-gateway:0.31.0", "eclipse-temurin:21-jre"}
	words   = []string{"orders", "ledger", "cart", "pricing", "inventory", "profile", "session", "notify", "report", "export", "render", "index", "quote", "refund", "audit", "token"}
	suffix  = []string{"api", "svc", "worker", "gateway", "sync", "backend", "consumer", "web"}
	cpus    = []string{"50m", "100m", "250m", "500m", "1"}
	memory  = []string{"64Mi", "128Mi", "256Mi", "512Mi", "1Gi"}
	envKeys = []string{"LOG_LEVEL", "OTEL_EXPORTER_OTLP_ENDPOINT", "DATABASE_HOST", "CACHE_TTL", "FEATURE_FLAGS", "REGION"}
)

func (g *generator) pick(list []string) string { return list[g.rng.IntN(len(list))] }

func (g *generator) chance(percent int) bool { return g.rng.IntN(100) < percent }

func (g *generator) describe(i int, ns string) spec {
	r := g.rng.IntN(100)
	kind := "Deployment"
	switch {
	case r < statefulSetShare:
		kind = "StatefulSet"
	case r < statefulSetShare+jobShare:
		kind = "Job"
	case r < statefulSetShare+jobShare+cronJobShare:
		kind = "CronJob"
	case r < statefulSetShare+jobShare+cronJobShare+daemonSetShare:
		kind = "DaemonSet"
	}
	app := fmt.Sprintf("%s-%s-%d", g.pick(words), g.pick(suffix), i)
	w := spec{
		kind: kind, name: app, ns: ns, app: app,
		version:  fmt.Sprintf("v%d", 1+g.rng.IntN(3)),
		optOut:   g.chance(optOutShare),
		replicas: 1 + g.rng.IntN(5),
	}
	serving := kind == "Deployment" || kind == "StatefulSet"
	w.service = serving && g.chance(70)
	w.configMap = g.chance(25)

	main := g.container(serving)
	main.mountConfig = w.configMap
	w.containers = []container{main}
	if serving && g.chance(15) {
		// A log shipper or cache beside the application.
		w.containers = append(w.containers, container{
			name: "log-shipper", image: "fluent/fluent-bit:3.1", cpu: "20m", memory: "32Mi",
			ports:  []port{{name: "http-metrics", number: 2020}},
			probes: []probe{{field: "livenessProbe", handler: "httpGet", path: "/api/v1/health", port: "2020", period: 30}},
		})
	}
	if kind == "Job" || kind == "CronJob" {
		w.containers[0].command = []string{"/bin/" + g.pick(words), "--once"}
	}

	if g.chance(60) {
		w.annotations = append(w.annotations,
			[2]string{"prometheus.io/scrape", `"true"`},
			[2]string{"prometheus.io/port", `"9090"`},
			[2]string{"prometheus.io/path", "/metrics"})
	}
	if g.chance(20) {
		w.annotations = append(w.annotations,
			[2]string{"sidecar.istio.io/proxyCPU", g.pick(cpus[:3])},
			[2]string{"sidecar.istio.io/proxyMemory", g.pick(memory[:3])})
	}
	if g.chance(10) {
		w.annotations = append(w.annotations, [2]string{"traffic.sidecar.istio.io/excludeOutboundPorts", `"5432,6379"`})
	}
	if g.chance(8) {
		w.annotations = append(w.annotations, [2]string{"proxy.istio.io/config", `'{"holdApplicationUntilProxyStarts": true}'`})
	}
	if kind == "Job" || kind == "CronJob" {
		w.annotations = append(w.annotations, [2]string{"sidecar.istio.io/nativeSidecar", `"true"`})
	}
	if g.chance(5) {
		w.annotations = append(w.annotations, [2]string{"sidecar.istio.io/rewriteAppHTTPProbers", `"false"`})
	}
	if w.optOut {
		w.annotations = append(w.annotations, [2]string{"sidecar.istio.io/inject", `"false"`})
	}
	return w
}

func (g *generator) container(serving bool) container {
	c := container{
		name: "app", image: g.pick(images),
		cpu: g.pick(cpus), memory: g.pick(memory),
		readOnlyRootFS: g.chance(70), runAsNonRoot: g.chance(80),
		terminationPolicy: g.chance(10),
	}
	for range 1 + g.rng.IntN(4) {
		c.env = append(c.env, [2]string{g.pick(envKeys), g.pick(words)})
	}
	if !serving {
		if g.chance(50) {
			c.ports = []port{{name: "metrics", number: 9090}}
		}
		return c
	}
	c.ports = []port{{name: "http", number: 8080}}
	grpc := g.chance(25)
	if grpc {
		c.ports = append(c.ports, port{name: "grpc", number: 9000})
	}
	if g.chance(60) {
		c.ports = append(c.ports, port{name: "metrics", number: 9090})
	}
	if g.chance(10) {
		c.ports = append(c.ports, port{name: "tcp-admin", number: 7000, protocol: "TCP"})
	}
	// Readiness on a named or numeric port, liveness by whichever protocol
	// the service speaks, and a slow starter now and then.
	named := g.chance(60)
	readyPort := "8080"
	if named {
		readyPort = "http"
	}
	c.probes = append(c.probes, probe{field: "readinessProbe", handler: "httpGet", path: "/ready", port: readyPort, period: 5})
	switch {
	case grpc:
		c.probes = append(c.probes, probe{field: "livenessProbe", handler: "grpc", port: "9000", initialDelay: 10, period: 10})
	case g.chance(30):
		tcp := "8080"
		if g.chance(50) {
			tcp = "http"
		}
		c.probes = append(c.probes, probe{field: "livenessProbe", handler: "tcpSocket", port: tcp, initialDelay: 15, period: 20})
	default:
		c.probes = append(c.probes, probe{field: "livenessProbe", handler: "httpGet", path: "/healthz", port: readyPort, initialDelay: 10, period: 10})
	}
	if g.chance(15) {
		c.probes = append(c.probes, probe{field: "startupProbe", handler: "httpGet", path: "/started", port: "8080", period: 2})
	}
	return c
}

func (g *generator) configMap(w spec) {
	g.line(0, "apiVersion: v1")
	g.line(0, "kind: ConfigMap")
	g.line(0, "metadata:")
	g.line(1, "name: %s-config", w.name)
	g.line(1, "namespace: %s", w.ns)
	g.line(1, "labels:")
	g.line(2, "app: %s", w.app)
	g.line(0, "data:")
	g.line(1, "app.properties: |")
	g.line(2, "log.level=info")
	g.line(2, "pool.size=%d", 4+g.rng.IntN(28))
	g.line(2, "upstream=%s.%s.svc.cluster.local:8080", g.pick(words), w.ns)
	g.line(1, "FEATURE_%s: \"%t\"", strings.ToUpper(g.pick(words)), g.chance(50))
	g.doc()
}

func (g *generator) service(w spec) {
	g.line(0, "apiVersion: v1")
	g.line(0, "kind: Service")
	g.line(0, "metadata:")
	g.line(1, "name: %s", w.name)
	g.line(1, "namespace: %s", w.ns)
	g.line(1, "labels:")
	g.line(2, "app: %s", w.app)
	g.line(0, "spec:")
	g.line(1, "selector:")
	g.line(2, "app: %s", w.app)
	g.line(1, "ports:")
	for _, p := range w.containers[0].ports {
		if p.name == "metrics" {
			continue
		}
		g.line(2, "- name: %s", p.name)
		svcPort := p.number
		if p.name == "http" {
			svcPort = 80
		}
		g.line(3, "port: %d", svcPort)
		g.line(3, "targetPort: %s", p.name)
	}
	g.doc()
}

// object writes the workload itself; the pod template's indentation
// depends on the kind.
func (g *generator) object(w spec) {
	api := "apps/v1"
	switch w.kind {
	case "Job", "CronJob":
		api = "batch/v1"
	}
	g.line(0, "apiVersion: %s", api)
	g.line(0, "kind: %s", w.kind)
	g.line(0, "metadata:")
	g.line(1, "name: %s", w.name)
	g.line(1, "namespace: %s", w.ns)
	g.line(1, "labels:")
	g.line(2, "app.kubernetes.io/name: %s", w.app)
	g.line(2, "app.kubernetes.io/part-of: %s", w.ns)
	g.line(0, "spec:")
	depth := 1
	switch w.kind {
	case "Deployment":
		g.line(1, "replicas: %d", w.replicas)
		g.line(1, "revisionHistoryLimit: 5")
		g.selector(w)
	case "StatefulSet":
		g.line(1, "serviceName: %s", w.name)
		g.line(1, "replicas: %d", w.replicas)
		g.selector(w)
	case "DaemonSet":
		g.selector(w)
		g.line(1, "updateStrategy:")
		g.line(2, "type: RollingUpdate")
	case "Job":
		g.line(1, "backoffLimit: 3")
		g.line(1, "ttlSecondsAfterFinished: 3600")
	case "CronJob":
		g.line(1, "schedule: \"%d %d * * *\"", g.rng.IntN(60), g.rng.IntN(24))
		g.line(1, "concurrencyPolicy: Forbid")
		g.line(1, "jobTemplate:")
		g.line(2, "spec:")
		g.line(3, "backoffLimit: 2")
		depth = 3
	}
	g.line(depth, "template:")
	g.podTemplate(w, depth+1)
	if w.kind == "StatefulSet" {
		g.line(1, "volumeClaimTemplates:")
		g.line(2, "- metadata:")
		g.line(4, "name: data")
		g.line(3, "spec:")
		g.line(4, "accessModes: [ReadWriteOnce]")
		g.line(4, "resources:")
		g.line(5, "requests:")
		g.line(6, "storage: %dGi", 1+g.rng.IntN(50))
	}
	g.doc()
}

func (g *generator) selector(w spec) {
	g.line(1, "selector:")
	g.line(2, "matchLabels:")
	g.line(3, "app: %s", w.app)
}

func (g *generator) podTemplate(w spec, d int) {
	g.line(d, "metadata:")
	g.line(d+1, "labels:")
	g.line(d+2, "app: %s", w.app)
	g.line(d+2, "version: %s", w.version)
	if len(w.annotations) > 0 {
		g.line(d+1, "annotations:")
		for _, a := range w.annotations {
			g.line(d+2, "%s: %s", a[0], a[1])
		}
	}
	g.line(d, "spec:")
	s := d + 1
	switch w.kind {
	case "Job", "CronJob":
		g.line(s, "restartPolicy: %s", []string{"Never", "OnFailure"}[g.rng.IntN(2)])
	default:
		g.line(s, "serviceAccountName: %s", w.name)
		g.line(s, "terminationGracePeriodSeconds: %d", []int{30, 45, 60}[g.rng.IntN(3)])
	}
	if w.kind == "DaemonSet" {
		g.line(s, "tolerations:")
		g.line(s+1, "- operator: Exists")
	}
	g.line(s, "securityContext:")
	g.line(s+1, "fsGroup: 2000")
	g.line(s, "containers:")
	for _, c := range w.containers {
		g.containerYAML(c, s+1)
	}
	if w.configMap {
		g.line(s, "volumes:")
		g.line(s+1, "- name: config")
		g.line(s+2, "configMap:")
		g.line(s+3, "name: %s-config", w.name)
	}
}

func (g *generator) containerYAML(c container, d int) {
	g.line(d, "- name: %s", c.name)
	i := d + 1
	if strings.HasPrefix(c.image, "ghcr.io") {
		g.line(i, "image: %s # pinned by the platform team", c.image)
	} else {
		g.line(i, "image: %s", c.image)
	}
	if len(c.command) > 0 {
		g.line(i, "command: [%s]", strings.Join(c.command, ", "))
	}
	if len(c.ports) > 0 {
		g.line(i, "ports:")
		for _, p := range c.ports {
			g.line(i+1, "- name: %s", p.name)
			g.line(i+2, "containerPort: %d", p.number)
			if p.protocol != "" {
				g.line(i+2, "protocol: %s", p.protocol)
			}
		}
	}
	if len(c.env) > 0 {
		g.line(i, "env:")
		for j, e := range c.env {
			g.line(i+1, "- name: %s_%d", e[0], j)
			g.line(i+2, "value: %q", e[1])
		}
	}
	g.line(i, "resources:")
	g.line(i+1, "requests:")
	g.line(i+2, "cpu: %s", c.cpu)
	g.line(i+2, "memory: %s", c.memory)
	g.line(i+1, "limits:")
	g.line(i+2, "memory: %s", c.memory)
	for _, p := range c.probes {
		g.line(i, "%s:", p.field)
		switch p.handler {
		case "httpGet":
			g.line(i+1, "httpGet:")
			g.line(i+2, "path: %s", p.path)
			g.line(i+2, "port: %s", p.port)
		case "tcpSocket":
			g.line(i+1, "tcpSocket:")
			g.line(i+2, "port: %s", p.port)
		case "grpc":
			g.line(i+1, "grpc:")
			g.line(i+2, "port: %s", p.port)
		}
		if p.initialDelay > 0 {
			g.line(i+1, "initialDelaySeconds: %d", p.initialDelay)
		}
		g.line(i+1, "periodSeconds: %d", p.period)
	}
	if c.mountConfig {
		g.line(i, "volumeMounts:")
		g.line(i+1, "- name: config")
		g.line(i+2, "mountPath: /etc/app")
		g.line(i+2, "readOnly: true")
	}
	if c.readOnlyRootFS || c.runAsNonRoot {
		g.line(i, "securityContext:")
		if c.runAsNonRoot {
			g.line(i+1, "runAsNonRoot: true")
		}
		if c.readOnlyRootFS {
			g.line(i+1, "readOnlyRootFilesystem: true")
		}
		g.line(i+1, "allowPrivilegeEscalation: false")
	}
	if c.terminationPolicy {
		g.line(i, "terminationMessagePolicy: FallbackToLogsOnError")
	}
}
