package writeback

import (
	"bytes"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"sigs.k8s.io/kustomize/kyaml/yaml"
)

// encoderFor writes a document node as the manifest package does: the
// sequence indentation of the original text.
func encoderFor(raw []byte) func(*yaml.Node) ([]byte, error) {
	style := yaml.DeriveSeqIndentStyle(string(raw))
	return func(n *yaml.Node) ([]byte, error) {
		var b bytes.Buffer
		enc := yaml.NewEncoderWithOptions(&b, &yaml.EncoderOptions{SeqIndent: yaml.SequenceIndentStyle(style)})
		if err := enc.Encode(n); err != nil {
			return nil, err
		}
		if err := enc.Close(); err != nil {
			return nil, err
		}
		return b.Bytes(), nil
	}
}

// TestText splices testdata/text/<case>.edited.yaml into <case>.in.yaml;
// <case>.out.yaml is the golden. Besides, the output must read as the
// edited document, and every kept line listed must survive as written.
func TestText(t *testing.T) {
	tests := []struct {
		name string
		kept []string
	}{
		{name: "blank-lines", kept: []string{"  name: web   # aligned comment\n  namespace: demo\n\nspec:",
			"    matchLabels: \n", "        args: [serve,\n               --port=8080]\n\n      - name: side   # second"}},
		{name: "four-spaces", kept: []string{"    name: web\n    labels:\n        app: web\n", "        -   name: web\n            image: nginx\n"}},
		{name: "removal", kept: []string{"    team: payments    # owner", "# head comment\n"}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			raw, err := os.ReadFile(filepath.Join("testdata", "text", tc.name+".in.yaml"))
			if err != nil {
				t.Fatal(err)
			}
			edited := parse(t, mustRead(t, filepath.Join("testdata", "text", tc.name+".edited.yaml")))
			enc := encoderFor(raw)
			out, ok := Text(raw, edited, enc)
			if !ok {
				t.Fatalf("Text declined")
			}
			golden(t, filepath.Join("testdata", "text", tc.name+".out.yaml"), out)
			want, _ := enc(edited)
			got, _ := enc(parse(t, out))
			if !bytes.Equal(got, want) {
				t.Errorf("output does not read as the edited document:\n%s", lineDiff(want, got))
			}
			for _, k := range tc.kept {
				if !bytes.Contains(raw, []byte(k)) {
					t.Errorf("test bug: %q is not in the input", k)
				}
				if !bytes.Contains(out, []byte(k)) {
					t.Errorf("%q was not kept as written", k)
				}
			}
		})
	}
}

func mustRead(t *testing.T, path string) []byte {
	t.Helper()
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	return b
}

// TestTextDeclines: what Text cannot splice with certainty it leaves to
// the caller's encoder.
func TestTextDeclines(t *testing.T) {
	edited := parse(t, []byte("a: 2\n"))
	enc := encoderFor(nil)
	for name, raw := range map[string]string{
		"carriage returns": "a: 1\r\n",
		"not YAML":         "a: [\n",
	} {
		if _, ok := Text([]byte(raw), edited, enc); ok {
			t.Errorf("%s: Text did not decline", name)
		}
	}
	if out, ok := Text([]byte("a: 1\n"), nil, enc); ok || out != nil {
		t.Errorf("no edited node: Text did not decline")
	}
	// Unchanged: the text as it was.
	raw := []byte("a: 2    # two\n\n")
	if out, ok := Text(raw, parse(t, raw), enc); !ok || !bytes.Equal(out, raw) {
		t.Errorf("unchanged document came back as %q, %v", out, ok)
	}
}

// TestLCS checks the line matching on small cases against a simple
// dynamic programme's length.
func TestLCS(t *testing.T) {
	for _, tc := range []struct{ a, b string }{
		{"", ""}, {"a b c", ""}, {"", "a b"}, {"a b c", "a b c"}, {"a b c d", "a c d e"},
		{"x a b y c", "a b c"}, {"a a a b", "a b a a"}, {"p q r s t", "t s r q p"},
	} {
		a, b := strings.Fields(tc.a), strings.Fields(tc.b)
		pairs, ok := lcs(a, b)
		if !ok {
			t.Fatalf("%q %q: declined", tc.a, tc.b)
		}
		for i, p := range pairs {
			if a[p.a] != b[p.b] || (i > 0 && (p.a <= pairs[i-1].a || p.b <= pairs[i-1].b)) {
				t.Fatalf("%q %q: bad pairs %v", tc.a, tc.b, pairs)
			}
		}
		if want := lcsLength(a, b); len(pairs) != want {
			t.Errorf("%q %q: %d pairs, want %d", tc.a, tc.b, len(pairs), want)
		}
	}
}

func lcsLength(a, b []string) int {
	dp := make([][]int, len(a)+1)
	for i := range dp {
		dp[i] = make([]int, len(b)+1)
	}
	for i := len(a) - 1; i >= 0; i-- {
		for j := len(b) - 1; j >= 0; j-- {
			if a[i] == b[j] {
				dp[i][j] = dp[i+1][j+1] + 1
			} else {
				dp[i][j] = max(dp[i+1][j], dp[i][j+1])
			}
		}
	}
	return dp[0][0]
}
