package workloadgen

import (
	"bytes"
	"flag"
	"os"
	"path/filepath"
	"testing"

	"github.com/inject-sidecar/inject-sidecar/pkg/manifest"
	"github.com/inject-sidecar/inject-sidecar/pkg/podtemplate"
)

var update = flag.Bool("update", false, "rewrite the golden files in testdata")

// TestGolden pins small streams byte for byte: benchmark inputs are
// regenerated, not stored, so a change here changes every measurement
// and must be deliberate.
func TestGolden(t *testing.T) {
	tests := []struct {
		name string
		opts Options
	}{
		{"one", Options{Workloads: 1}},
		{"twenty", Options{Workloads: 20}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			var buf bytes.Buffer
			if _, err := Generate(&buf, tc.opts); err != nil {
				t.Fatal(err)
			}
			golden := filepath.Join("testdata", tc.name+".yaml")
			if *update {
				if err := os.WriteFile(golden, buf.Bytes(), 0o644); err != nil {
					t.Fatal(err)
				}
			}
			want, err := os.ReadFile(golden)
			if err != nil {
				t.Fatal(err)
			}
			if !bytes.Equal(buf.Bytes(), want) {
				t.Errorf("output differs from %s (run with -update after review)", golden)
			}
		})
	}
}

// TestMix checks what a benchmark input must be: n pod templates that
// parse, kinds in the intended proportions, about 5% opted out, Services,
// ConfigMaps and a few Namespaces between them, the same bytes every
// time.
func TestMix(t *testing.T) {
	for _, n := range []int{0, 1, 19, 20, 2000} {
		var a, b bytes.Buffer
		st, err := Generate(&a, Options{Workloads: n})
		if err != nil {
			t.Fatal(err)
		}
		if _, err := Generate(&b, Options{Workloads: n}); err != nil {
			t.Fatal(err)
		}
		if !bytes.Equal(a.Bytes(), b.Bytes()) {
			t.Fatalf("n=%d: two runs differ", n)
		}
		if st.Bytes != int64(a.Len()) || st.Workloads != n {
			t.Errorf("n=%d: stats %+v for %d bytes", n, st, a.Len())
		}
		docs, err := manifest.Split("generated", a.Bytes())
		if err != nil {
			t.Fatalf("n=%d: %v", n, err)
		}
		if len(docs) != st.Documents && !(n == 0 && len(docs) == 1) {
			t.Errorf("n=%d: %d documents, stats say %d", n, len(docs), st.Documents)
		}
		targets, err := podtemplate.Find(manifest.Nodes(docs))
		if err != nil {
			t.Fatal(err)
		}
		if len(targets) != n {
			t.Errorf("n=%d: %d pod templates", n, len(targets))
		}
		kinds := map[string]int{}
		for _, d := range docs {
			if d.Node != nil {
				kinds[d.Node.GetKind()]++
			}
		}
		for i := range targets {
			if _, err := targets[i].Pod(); err != nil {
				t.Errorf("n=%d: %s: %v", n, &targets[i], err)
			}
		}
		if n < 2000 {
			continue
		}
		share := func(k string) float64 { return float64(kinds[k]) / float64(n) }
		for _, c := range []struct {
			kind     string
			min, max float64
		}{
			{"Deployment", 0.70, 0.85}, {"StatefulSet", 0.05, 0.11}, {"Job", 0.03, 0.07},
			{"CronJob", 0.03, 0.07}, {"DaemonSet", 0.02, 0.06},
		} {
			if s := share(c.kind); s < c.min || s > c.max {
				t.Errorf("%s: %.1f%% of workloads, want %.0f%% to %.0f%%", c.kind, 100*s, 100*c.min, 100*c.max)
			}
		}
		if s := float64(st.OptedOut) / float64(n); s < 0.03 || s > 0.08 {
			t.Errorf("%.1f%% opted out, want about 5%%", 100*s)
		}
		if kinds["Service"] < n/3 || kinds["ConfigMap"] < n/10 || kinds["Namespace"] < 3 || kinds["Namespace"] > 10 {
			t.Errorf("documents by kind: %v", kinds)
		}
	}
}

// TestSeed: another seed, another stream.
func TestSeed(t *testing.T) {
	var a, b bytes.Buffer
	if _, err := Generate(&a, Options{Workloads: 20}); err != nil {
		t.Fatal(err)
	}
	if _, err := Generate(&b, Options{Workloads: 20, Seed: 7}); err != nil {
		t.Fatal(err)
	}
	if bytes.Equal(a.Bytes(), b.Bytes()) {
		t.Error("seeds 0 and 7 give the same stream")
	}
}

func TestNegative(t *testing.T) {
	if _, err := Generate(&bytes.Buffer{}, Options{Workloads: -1}); err == nil {
		t.Error("no error for a negative count")
	}
}
