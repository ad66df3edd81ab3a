package compiled_test

import (
	"bytes"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"sync/atomic"
	"testing"
	"text/template"

	"google.golang.org/protobuf/types/known/wrapperspb"
	meshconfig "istio.io/api/mesh/v1alpha1"
	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"sigs.k8s.io/yaml"

	"github.com/inject-sidecar/inject-sidecar/pkg/render/compiled"
	"github.com/inject-sidecar/inject-sidecar/pkg/render/funcs"
)

type namedString string

func (n namedString) String() string { return "named:" + string(n) }

type inner struct{ Name string }

func (i *inner) GetName() string {
	if i == nil {
		return "nil-inner"
	}
	return i.Name
}

func (i *inner) GetPrefixed(p string) string { return p + i.Name }

// counter has a method that modifies its receiver: compiled programs must
// not call it.
type counter struct{ n int }

func (c *counter) Next() int { c.n++; return c.n }

type structKey struct{ A, B string }

// testData has a field of each kind the constructs read.
type testData struct {
	Str, Empty    string
	StrPtr        *string
	Int, Zero     int
	Int64         int64
	Uint          uint
	Float, Big    float64
	Bool          bool
	Named         namedString
	Mode          meshconfig.ProxyConfig_InboundInterceptionMode
	Map, EmptyMap map[string]any
	SMap          map[string]string
	IMap          map[int]string
	SKMap         map[structKey]int
	List          []any
	Strs          []string
	Inner         inner
	Ptr, NilPtr   *inner
	Counter       *counter
	Func          func() string
	Chan          chan int
	Meta          metav1.ObjectMeta
	Proto         *meshconfig.ProxyConfig
	Containers    []corev1.Container
	unexported    string
}

func newTestData() *testData {
	str := "pointed"
	return &testData{
		Str: "str", StrPtr: &str, Int: 3, Int64: -4, Uint: 7, Float: 2.5, Big: 1e6, Bool: true,
		Named: "n", Mode: meshconfig.ProxyConfig_TPROXY,
		Map: map[string]any{
			"global": map[string]any{"proxy": map[string]any{"image": "proxyv2", "resources": map[string]any{"cpu": "100m", "limit": nil}}},
			"sorted": map[string]any{"b": 2.0, "a": "x", "c": []any{1.0, "y"}, "d": nil},
			"null":   nil,
		},
		EmptyMap: map[string]any{},
		SMap:     map[string]string{"a": "A", "b": "B"},
		IMap:     map[int]string{2: "two", 1: "one", -1: "minus"},
		SKMap:    map[structKey]int{{"b", "a"}: 1, {"a", "b"}: 2},
		List:     []any{1, 2, 3, 4, 5},
		Strs:     []string{"x", "y", "z"},
		Inner:    inner{Name: "in"},
		Ptr:      &inner{Name: "ptr"},
		Counter:  &counter{},
		Func:     func() string { return "f" },
		Chan:     make(chan int),
		Meta: metav1.ObjectMeta{Name: "pod", Annotations: map[string]string{"a": "A", "c": ""},
			Labels: map[string]string{"app": "web"}},
		Proto: &meshconfig.ProxyConfig{
			DiscoveryAddress:                "istiod:15012",
			InterceptionMode:                meshconfig.ProxyConfig_REDIRECT,
			HoldApplicationUntilProxyStarts: wrapperspb.Bool(true),
			ProxyMetadata:                   map[string]string{"B": "2", "A": "1"},
		},
		Containers: []corev1.Container{{Name: "app", Ports: []corev1.ContainerPort{{ContainerPort: 8080}, {ContainerPort: 9090}}}},
		unexported: "hidden",
	}
}

// newTemplate parses text with the render package's functions, as Render
// does (funcs.Map, no environment).
func newTemplate(t testing.TB, name, text string) (*template.Template, template.FuncMap) {
	t.Helper()
	fm := funcs.Map(nil)
	tt, err := template.New(name).Funcs(fm).Parse(text)
	if err != nil {
		t.Fatalf("parse: %v", err)
	}
	return tt, fm
}

// outcome executes a template both ways on fresh data: declined reports
// whether the program declined, and the test fails when the two disagree.
func outcome(t testing.TB, tt *template.Template, prog *compiled.Program, data func() any) (declined bool) {
	t.Helper()
	var want bytes.Buffer
	wantErr := tt.Execute(&want, data())
	got, err := prog.Execute(nil, data(), compiled.Limits{MaxOutput: 1 << 20})
	switch {
	case errors.Is(err, compiled.ErrDecline):
		return true
	case err != nil:
		t.Fatalf("unexpected error %v", err)
	case wantErr != nil:
		t.Fatalf("text/template fails (%v) but the program gives %q", wantErr, got)
	case !bytes.Equal(got, want.Bytes()):
		t.Fatalf("output differs:\ntext/template %q\ncompiled      %q", want.Bytes(), got)
	}
	return false
}

func TestConstructs(t *testing.T) {
	raw, err := os.ReadFile(filepath.Join("testdata", "constructs.yaml"))
	if err != nil {
		t.Fatal(err)
	}
	var doc struct {
		Cases []struct {
			Name     string `json:"name"`
			Template string `json:"template"`
			Declines bool   `json:"declines"`
		} `json:"cases"`
	}
	if err := yaml.UnmarshalStrict(raw, &doc); err != nil {
		t.Fatal(err)
	}
	if len(doc.Cases) < 50 {
		t.Fatalf("only %d cases", len(doc.Cases))
	}
	for _, c := range doc.Cases {
		t.Run(c.Name, func(t *testing.T) {
			tt, fm := newTemplate(t, "case", c.Template)
			prog, err := compiled.Compile(tt, fm)
			if err != nil {
				t.Fatalf("compile: %v", err)
			}
			var data *testData
			declined := outcome(t, tt, prog, func() any { data = newTestData(); return data })
			if declined != c.Declines {
				t.Errorf("declined = %v, want %v", declined, c.Declines)
			}
			if data.Counter.n != 0 {
				t.Errorf("the program called a method that modifies its receiver")
			}
		})
	}
}

// TestOutputLimit: a program that would write more than allowed declines
// (text/template then reports the limit), one that fits does not.
func TestOutputLimit(t *testing.T) {
	tt, fm := newTemplate(t, "limit", "{{ range .Strs }}{{ . }}-{{ end }}")
	prog, err := compiled.Compile(tt, fm)
	if err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct {
		max  int
		want error
	}{{6, nil}, {5, compiled.ErrDecline}, {0, compiled.ErrDecline}} {
		out, err := prog.Execute(nil, newTestData(), compiled.Limits{MaxOutput: tc.max})
		if !errors.Is(err, tc.want) || (err == nil && string(out) != "x-y-z-") {
			t.Errorf("max %d: got %q, %v; want %v", tc.max, out, err, tc.want)
		}
	}
}

// TestStop: a set stop flag ends a loop that writes nothing, and a
// template call, with ErrStopped.
func TestStop(t *testing.T) {
	for _, text := range []string{
		"{{ range 1000000000 }}{{ end }}",
		"{{ define \"t\" }}x{{ end }}{{ template \"t\" }}",
		"text",
	} {
		tt, fm := newTemplate(t, "stop", text)
		prog, err := compiled.Compile(tt, fm)
		if err != nil {
			t.Fatal(err)
		}
		var stop atomic.Bool
		stop.Store(true)
		if _, err := prog.Execute(nil, newTestData(), compiled.Limits{MaxOutput: 100, Stop: &stop}); !errors.Is(err, compiled.ErrStopped) {
			t.Errorf("%q: err = %v, want ErrStopped", text, err)
		}
	}
}

// TestExecuteAppends: the output is appended to the buffer given.
func TestExecuteAppends(t *testing.T) {
	tt, fm := newTemplate(t, "append", "{{ .Str }}")
	prog, err := compiled.Compile(tt, fm)
	if err != nil {
		t.Fatal(err)
	}
	out, err := prog.Execute([]byte("pre:"), newTestData(), compiled.Limits{MaxOutput: 3})
	if err != nil || string(out) != "pre:str" {
		t.Fatalf("got %q, %v", out, err)
	}
	if strings.Count(string(out), "pre:") != 1 {
		t.Fatal("prefix repeated")
	}
}
