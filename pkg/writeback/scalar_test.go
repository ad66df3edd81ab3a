package writeback

import (
	"math/rand"
	"os"
	"path/filepath"
	"testing"

	"sigs.k8s.io/kustomize/kyaml/yaml"
)

// TestPlainScalar holds the encoder-free fast path to the encoder: for
// every value it accepts, the node must be the one Node.Encode builds.
// The values are edge cases, then every key and scalar of the package's
// testdata (an Istio-injected pod among them).
func TestPlainScalar(t *testing.T) {
	values := []any{
		true, false,
		"", "a", "app", "istio-proxy", "docker.io/istio/proxyv2:1.28.1", "--log_output_level=default:info",
		"a:", "a: b", "a b", " a", "a ", "-a", ".a", "0a", "15020", "1e3", "0x1F", "1:20", "+1", "~",
		"true", "True", "TRUE", "false", "null", "Null", "NULL", "y", "Y", "yes", "n", "NO", "on", "Off",
		"yes1", "onion", "nullable", "a#b", "a #b", "a\nb", "é", "aé", "a\tb", "$(POD_NAME)", "a,b", "a[0]",
		"sidecar.istio.io/status", "ISTIO_META_CLUSTER_ID", "128Mi", "100m", "1Gi", "1e3", "1E", "0b1", "1", "0123", "007",
		"/healthz/ready", "/", "//a", "--", "--a", "--1", "-1", "-z", "-x1", "-", "- a", "-.", "-e", "-.inf", "1_000", "2001-12-14", "0x", "5e", "1Mi ", "IfNotPresent", "/etc/istio/proxy", "x=y", "x-", "x/",
		// What injection writes that needs quoting or several lines.
		"*", "15090,15021,15020", "5432,6379", "app,log-shipper", "$(POD_NAMESPACE).svc.cluster.local",
		`{"scrape":"true","path":"/metrics","port":"9090"}`, "{}\n", "[\n    {\"name\":\"http\",\"containerPort\":8080}\n]",
		"[\n]", "a \nb", "a\n ", "\n", "\na", "a\n\n", "<<", "<", "---", "--- a", "...", "a: b", "a #b", "a#b", "? a", "?a", ":a", ": a",
		"1,2", "1/2", ".svc", ".5", "-.5", "+1", "1 2", "2001-12-14 21:59:43.10", "0x1p-2", "inf", "-inf", "1e", "1:20:30", "190:20:30.15",
	}
	files, err := filepath.Glob(filepath.Join("testdata", "*", "*.yaml"))
	if err != nil {
		t.Fatal(err)
	}
	for _, f := range files {
		data, err := os.ReadFile(f)
		if err != nil {
			t.Fatal(err)
		}
		var doc yaml.Node
		if err := yaml.Unmarshal(data, &doc); err != nil {
			continue // a fault the other tests exercise
		}
		collectScalars(&doc, &values)
	}
	accepted := 0
	for _, v := range values {
		fast := plainScalar(v)
		if fast == nil {
			continue
		}
		accepted++
		var slow yaml.Node
		if err := slow.Encode(v); err != nil {
			t.Fatalf("%#v: %v", v, err)
		}
		if fast.Kind != slow.Kind || fast.Tag != slow.Tag || fast.Value != slow.Value || fast.Style != slow.Style {
			t.Errorf("%#v: fast path gives kind %v tag %s value %q style %v; the encoder kind %v tag %s value %q style %v",
				v, fast.Kind, fast.Tag, fast.Value, fast.Style, slow.Kind, slow.Tag, slow.Value, slow.Style)
		}
	}
	// The fast path must take the common values, or it is no fast path.
	if accepted < len(values)/2 {
		t.Errorf("fast path took %d of %d values", accepted, len(values))
	}
}

func collectScalars(n *yaml.Node, into *[]any) {
	if n.Kind == yaml.ScalarNode && n.Tag == "!!str" {
		*into = append(*into, n.Value)
	}
	for _, c := range n.Content {
		collectScalars(c, into)
	}
}

// TestIsPlainString pins what the fast path refuses.
func TestIsPlainString(t *testing.T) {
	tests := []struct {
		in   string
		want bool
	}{
		{"istio-proxy", true},
		{"docker.io/istio/proxyv2:1.28.1", true},
		{"--concurrency", true},
		{"-v", true},
		{"-1", false},    // a number
		{"- a", false},   // a list
		{"128Mi", true},  // a quantity
		{"1e3", false},   // a float
		{"15020", false}, // a number
		{"on", false},    // a YAML 1.1 bool
		{"Null", false},  // null
		{"a:", false},    // a key
		{"a b", false},   // spaces are the encoder's business
		{"", false},
	}
	for _, tc := range tests {
		if got := isPlainString(tc.in); got != tc.want {
			t.Errorf("isPlainString(%q) = %v, want %v", tc.in, got, tc.want)
		}
	}
}

// TestEncoderStyle holds the quoting rules to the encoder on random
// short strings over the characters YAML gives a meaning: every string
// the fast path takes must come out as Node.Encode has it.
func TestEncoderStyle(t *testing.T) {
	const alphabet = "a1 -:#,*{}[]'\"?!&|>%@`.+~/$()\ntexyonTFNZ_=<0bo"
	r := rand.New(rand.NewSource(1))
	taken := 0
	const samples = 20000
	for range samples {
		b := make([]byte, r.Intn(7))
		for i := range b {
			b[i] = alphabet[r.Intn(len(alphabet))]
		}
		s := string(b)
		style, ok := encoderStyle(s)
		if !ok {
			continue
		}
		taken++
		var slow yaml.Node
		if err := slow.Encode(s); err != nil {
			t.Fatalf("%q: %v", s, err)
		}
		if slow.Tag != "!!str" || slow.Value != s || slow.Style != style {
			t.Errorf("%q: fast path style %v; the encoder tag %s value %q style %v", s, style, slow.Tag, slow.Value, slow.Style)
		}
	}
	if taken < samples/2 {
		t.Errorf("fast path took %d of %d strings", taken, samples)
	}
}
