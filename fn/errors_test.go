package main

import (
	"go/ast"
	"go/parser"
	"go/token"
	"os"
	"path/filepath"
	"regexp"
	"sort"
	"strconv"
	"strings"
	"testing"

	sigsyaml "sigs.k8s.io/yaml"
)

// errorCase is one entry of testdata/errors/cases.yaml: a run of the
// program that must fail (or warn) with a message.
type errorCase struct {
	Name string `json:"name"`
	// Files are written to a temporary directory, over the defaults:
	// app.yaml (a Deployment), config.yaml (testdata/badinput's
	// configuration), and for the kube-inject flags inject.yaml (an
	// injector configuration) and values.json. An argument naming one of
	// them is given its path.
	Files map[string]string `json:"files"`
	// Args are the command line; empty means KRM mode.
	Args []string `json:"args"`
	// Stdin is standard input. In KRM mode without stdin, a ResourceList
	// is built from config.yaml (functionConfig) and app.yaml (items).
	Stdin *string           `json:"stdin"`
	Env   map[string]string `json:"env"`
	// Want must appear in the message: the error, or for a warning case
	// standard error and the results.
	Want string `json:"want"`
	// Warning cases succeed and print Want as a warning.
	Warning bool `json:"warning"`
	// Raw: "\\xNN" in Stdin and Files stands for the byte NN, for input
	// that is not UTF-8 (which YAML strings cannot hold).
	Raw bool `json:"raw"`
}

var rawByte = regexp.MustCompile(`\\x[0-9a-fA-F]{2}`)

// unescape turns each "\xNN" of s into the byte NN.
func unescape(s string) string {
	return rawByte.ReplaceAllStringFunc(s, func(m string) string {
		b, _ := strconv.ParseUint(m[2:], 16, 8)
		return string([]byte{byte(b)})
	})
}

// exemption is an error constructor no case covers, with the reason.
type exemption struct {
	Format string `json:"format"`
	Reason string `json:"reason"`
}

// pendingFiles hold the errors of features other issues are building;
// their cases come with them. Listed loudly, not silently skipped.
var pendingFiles = []string{
	"fn/check.go", "fn/explain.go", "fn/uninject.go",
	"pkg/inject/check.go", "pkg/inject/explain.go", "pkg/inject/uninject.go",
	"pkg/uninject/",
}

// TestErrorMessages runs one case per message the program can print and
// checks the message. The messages are then matched against every error
// constructor in the source (fmt.Errorf, errors.New and the project's
// helpers): each must be produced by at least one case, or be listed in
// testdata/errors/exempt.yaml with the reason no input reaches it.
func TestErrorMessages(t *testing.T) {
	var cases []errorCase
	readYAML(t, filepath.Join("testdata", "errors", "cases.yaml"), &cases)
	var exempt []exemption
	readYAML(t, filepath.Join("testdata", "errors", "exempt.yaml"), &exempt)

	defaults := map[string]string{}
	for name, path := range map[string]string{
		"app.yaml":    filepath.Join("testdata", "errors", "app.yaml"),
		"config.yaml": filepath.Join("testdata", "badinput", "config.yaml"),
		"inject.yaml": filepath.Join("testdata", "errors", "inject.yaml"),
		"values.json": filepath.Join("testdata", "errors", "values.json"),
	} {
		b, err := os.ReadFile(path)
		if err != nil {
			t.Fatal(err)
		}
		defaults[name] = string(b)
	}

	var observed []string
	names := map[string]bool{}
	for _, c := range cases {
		if names[c.Name] || c.Name == "" || c.Want == "" {
			t.Fatalf("case %q: names must be unique and set, and want given", c.Name)
		}
		names[c.Name] = true
		c := c
		t.Run(c.Name, func(t *testing.T) {
			msg := runErrorCase(t, c, defaults)
			observed = append(observed, msg)
			if !strings.Contains(msg, c.Want) {
				t.Errorf("message\n  %s\ndoes not contain\n  %s", msg, c.Want)
			}
		})
	}
	if t.Failed() {
		return
	}

	exempted := map[string]string{}
	for _, e := range exempt {
		if e.Reason == "" {
			t.Errorf("exemption %q has no reason", e.Format)
		}
		exempted[e.Format] = e.Reason
	}
	used := map[string]bool{}
	var missing, pending []string
	for _, c := range catalogErrors(t) {
		if isPending(c.file) {
			pending = append(pending, c.file)
			continue
		}
		if _, ok := exempted[c.format]; ok {
			used[c.format] = true
			continue
		}
		re := formatRegexp(c.format)
		found := false
		for _, m := range observed {
			if re.MatchString(m) {
				found = true
				break
			}
		}
		if !found {
			missing = append(missing, c.file+":"+strconv.Itoa(c.line)+"\t"+strconv.Quote(c.format))
		}
	}
	for _, e := range exempt {
		if !used[e.Format] {
			t.Errorf("exemption %q matches no error constructor: remove it", e.Format)
		}
	}
	if len(missing) > 0 {
		t.Errorf("%d error messages have no case in testdata/errors/cases.yaml (add one, or an exemption with its reason):\n%s",
			len(missing), strings.Join(missing, "\n"))
	}
	if len(pending) > 0 {
		t.Logf("NOT YET COVERED (features in progress, listed in pendingFiles): %s", strings.Join(uniqueSorted(pending), ", "))
	}
}

func isPending(file string) bool {
	for _, p := range pendingFiles {
		if file == p || (strings.HasSuffix(p, "/") && strings.HasPrefix(file, p)) {
			return true
		}
	}
	return false
}

// runErrorCase runs a case and returns what it printed: the error, or for
// a warning case, standard error and the results.
func runErrorCase(t *testing.T, c errorCase, defaults map[string]string) string {
	t.Helper()
	dir := t.TempDir()
	files := map[string]string{}
	for k, v := range defaults {
		files[k] = v
	}
	for k, v := range c.Files {
		if c.Raw {
			v = unescape(v)
		}
		files[k] = v
	}
	for name, content := range files {
		p := filepath.Join(dir, name)
		if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(p, []byte(content), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	args := make([]string, len(c.Args))
	for i, a := range c.Args {
		args[i] = a
		if _, ok := files[a]; ok {
			args[i] = filepath.Join(dir, a)
		}
	}
	var stdin []byte
	switch {
	case c.Stdin != nil && c.Raw:
		stdin = []byte(unescape(*c.Stdin))
	case c.Stdin != nil:
		stdin = []byte(*c.Stdin)
	case len(args) == 0:
		stdin = resourceList([]byte(files["config.yaml"]), []byte(files["app.yaml"]))
	}
	out, errOut, err := runCommand(args, stdin, fakeEnv(c.Env))
	if c.Warning {
		if err != nil {
			t.Fatalf("warning case failed: %v", err)
		}
		return string(errOut) + string(out)
	}
	if err == nil {
		t.Fatalf("no error; stdout:\n%s\nstderr:\n%s", out, errOut)
	}
	if len(args) > 0 && len(out) != 0 {
		t.Errorf("the failed command wrote %d bytes to stdout", len(out))
	}
	return strings.ReplaceAll(err.Error(), dir+string(filepath.Separator), "")
}

// formatRegexp matches what a format string prints: %d a number, %q a
// quoted string, other verbs anything.
func formatRegexp(format string) *regexp.Regexp {
	var b strings.Builder
	b.WriteString("(?s)")
	last := 0
	for _, loc := range verbs.FindAllStringIndex(format, -1) {
		b.WriteString(regexp.QuoteMeta(format[last:loc[0]]))
		switch verb := format[loc[0]:loc[1]]; verb[len(verb)-1] {
		case '%':
			b.WriteString("%")
		case 'd':
			b.WriteString(`-?[0-9]+`)
		case 'q':
			b.WriteString(`"(?:[^"\\]|\\.)*"`)
		case 'x', 'X':
			b.WriteString(`[0-9a-fA-F]+`)
		case 'U':
			b.WriteString(`U\+[0-9A-F]+`)
		default:
			b.WriteString(".*?")
		}
		last = loc[1]
	}
	b.WriteString(regexp.QuoteMeta(format[last:]))
	return regexp.MustCompile(b.String())
}

func readYAML(t *testing.T, path string, into any) {
	t.Helper()
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	if err := sigsyaml.UnmarshalStrict(b, into); err != nil {
		t.Fatalf("%s: %v", path, err)
	}
}

func uniqueSorted(s []string) []string {
	sort.Strings(s)
	out := s[:0]
	for i, v := range s {
		if i == 0 || v != s[i-1] {
			out = append(out, v)
		}
	}
	return out
}

// errorConstructor is one message the program can print: a format string
// given to fmt.Errorf, errors.New or one of the project's error helpers.
type errorConstructor struct {
	file   string // relative to the repository root
	line   int
	format string
}

// errorHelpers are the project's functions that build an error from a
// format string, with the index of that argument.
var errorHelpers = map[string]int{
	"fmt.Errorf":  0,
	"errors.New":  0,
	"limitError":  3, // pkg/manifest
	"c.fail":      2, // pkg/manifest's checker
	"failf":       0,
	"newErrorf":   0,
	"withPrefixf": 1,
}

// catalogErrors lists every error constructor with a message of its own in
// the non-test Go files under fn and pkg. Formats made only of verbs and
// punctuation ("%s: %w") add context to another error and have no message
// of their own; they are left out.
func catalogErrors(t *testing.T) []errorConstructor {
	t.Helper()
	root := ".."
	var out []errorConstructor
	fset := token.NewFileSet()
	for _, dir := range []string{"fn", "pkg"} {
		err := filepath.WalkDir(filepath.Join(root, dir), func(path string, d os.DirEntry, err error) error {
			if err != nil || d.IsDir() || !strings.HasSuffix(path, ".go") || strings.HasSuffix(path, "_test.go") {
				return err
			}
			f, err := parser.ParseFile(fset, path, nil, 0)
			if err != nil {
				return err
			}
			rel, _ := filepath.Rel(root, path)
			ast.Inspect(f, func(n ast.Node) bool {
				switch n := n.(type) {
				case *ast.CallExpr:
					idx, ok := errorHelpers[callName(n.Fun)]
					if !ok || idx >= len(n.Args) {
						return true
					}
					if s, ok := constString(n.Args[idx]); ok && ownMessage(s) {
						out = append(out, errorConstructor{file: filepath.ToSlash(rel), line: fset.Position(n.Pos()).Line, format: s})
					}
				case *ast.KeyValueExpr:
					// Msg: fmt.Sprintf(...) in an error literal.
					if k, ok := n.Key.(*ast.Ident); ok && (k.Name == "Msg" || k.Name == "msg") {
						if call, ok := n.Value.(*ast.CallExpr); ok && callName(call.Fun) == "fmt.Sprintf" && len(call.Args) > 0 {
							if s, ok := constString(call.Args[0]); ok && ownMessage(s) {
								out = append(out, errorConstructor{file: filepath.ToSlash(rel), line: fset.Position(n.Pos()).Line, format: s})
							}
						}
					}
				case *ast.FuncDecl:
					// The messages of error types: fmt.Sprintf in Error().
					if n.Name.Name == "Error" && n.Recv != nil && n.Body != nil {
						ast.Inspect(n.Body, func(m ast.Node) bool {
							if call, ok := m.(*ast.CallExpr); ok && callName(call.Fun) == "fmt.Sprintf" && len(call.Args) > 0 {
								if s, ok := constString(call.Args[0]); ok && ownMessage(s) {
									out = append(out, errorConstructor{file: filepath.ToSlash(rel), line: fset.Position(call.Pos()).Line, format: s})
								}
							}
							return true
						})
					}
				}
				return true
			})
			return nil
		})
		if err != nil {
			t.Fatal(err)
		}
	}
	sort.Slice(out, func(i, j int) bool {
		if out[i].file != out[j].file {
			return out[i].file < out[j].file
		}
		return out[i].line < out[j].line
	})
	return out
}

func callName(e ast.Expr) string {
	switch e := e.(type) {
	case *ast.Ident:
		return e.Name
	case *ast.SelectorExpr:
		if x, ok := e.X.(*ast.Ident); ok {
			return x.Name + "." + e.Sel.Name
		}
	}
	return ""
}

// constString evaluates a string literal or a concatenation of them.
func constString(e ast.Expr) (string, bool) {
	switch e := e.(type) {
	case *ast.BasicLit:
		if e.Kind == token.STRING {
			s, err := strconv.Unquote(e.Value)
			return s, err == nil
		}
	case *ast.BinaryExpr:
		if e.Op == token.ADD {
			a, ok1 := constString(e.X)
			b, ok2 := constString(e.Y)
			return a + b, ok1 && ok2
		}
	case *ast.ParenExpr:
		return constString(e.X)
	}
	return "", false
}

var verbs = regexp.MustCompile(`%[-+# 0-9.*\[\]]*[a-zA-Z%]`)

// ownMessage reports a format with words of its own.
func ownMessage(format string) bool {
	return regexp.MustCompile(`[a-zA-Z]{2,}`).MatchString(verbs.ReplaceAllString(format, ""))
}
