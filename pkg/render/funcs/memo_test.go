package funcs

import (
	"math"
	"testing"

	"google.golang.org/protobuf/proto"
	"google.golang.org/protobuf/types/known/durationpb"
	"google.golang.org/protobuf/types/known/wrapperspb"
	meshconfig "istio.io/api/mesh/v1alpha1"
)

// TestMemoToYaml: the remembered result is toYaml's, on the first call and
// on the calls that hit, for values whose keys differ only by type.
func TestMemoToYaml(t *testing.T) {
	values := []any{
		nil, true, false, "", "1", "true", "a: b", 1, 1.0, 1.5, int64(1), uint64(math.MaxUint64), -0.0,
		[]any{}, []any{1}, []any{"1"}, []any{[]any{}}, []string{"x"},
		map[string]any{}, map[string]any{"a": nil}, map[string]any{"a": 1}, map[string]any{"a": "1"},
		map[string]any{"a": map[string]any{"b": []any{1.25, "x", true}}}, map[string]string{"a": "1"},
		map[string]any{"ab": 1, "a": map[string]any{"b": 1}}, map[string]any{"a": map[string]any{"b1": 1}},
		struct{ A int }{1}, // not understood: encoded each time
		"\xff",             // invalid UTF-8: the long way
	}
	memo := memoToYaml()
	for round := range 2 {
		for _, v := range values {
			if got, want := memo(v), toYaml(v); got != want {
				t.Errorf("round %d, %#v: memo %q, toYaml %q", round, v, got, want)
			}
		}
	}
}

// TestMemoProtoToJSON: the same for protoToJSON, over messages that differ
// in one field, and nil.
func TestMemoProtoToJSON(t *testing.T) {
	var nilPC *meshconfig.ProxyConfig
	msgs := []proto.Message{
		nil, nilPC, &meshconfig.ProxyConfig{}, proxyDefaults(),
		&meshconfig.ProxyConfig{DiscoveryAddress: "a:1"}, &meshconfig.ProxyConfig{DiscoveryAddress: "a:2"},
		&meshconfig.ProxyConfig{HoldApplicationUntilProxyStarts: wrapperspb.Bool(false)},
		&meshconfig.ProxyConfig{HoldApplicationUntilProxyStarts: wrapperspb.Bool(true)},
		&meshconfig.ProxyConfig{ProxyMetadata: map[string]string{"A": "1", "B": "2"}},
		&meshconfig.ProxyConfig{ProxyMetadata: map[string]string{"A": "1", "B": "3"}},
		&meshconfig.ProxyConfig{DrainDuration: durationpb.New(45e9)},
		&meshconfig.MeshConfig{TrustDomain: "td"},
		durationpb.New(5e9),
	}
	memo := memoProtoToJSON()
	for round := range 2 {
		for _, m := range msgs {
			if got, want := memo(m), protoToJSON(m); got != want {
				t.Errorf("round %d, %v: memo %q, protoToJSON %q", round, m, got, want)
			}
		}
	}
}

// TestMemoIsBounded: a full memo stops remembering but keeps answering.
func TestMemoIsBounded(t *testing.T) {
	toYamlMemo := memoToYaml()
	for i := range memoMaxEntries + 10 {
		if got, want := toYamlMemo(i), toYaml(i); got != want {
			t.Fatalf("%d: %q, want %q", i, got, want)
		}
	}
	var m memo
	for i := range memoMaxEntries + 10 {
		m.put(string(rune('a'+i%26))+string(rune(i)), "x")
	}
	if n := m.n.Load(); n != memoMaxEntries {
		t.Errorf("memo holds %d entries, want at most %d", n, memoMaxEntries)
	}
}
