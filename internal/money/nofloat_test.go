package money_test

import (
	"fmt"
	"go/ast"
	"go/parser"
	"go/token"
	"io/fs"
	"os"
	"path/filepath"
	"regexp"
	"sort"
	"strconv"
	"strings"
	"testing"
)

// Invariant 1 of design.md: money is exact, no floats anywhere. This test
// parses every non-test Go file of the main module (internal/, functions/,
// infra/local/ …; nested modules such as infra/cdk are their own world) and
// fails on anything that makes or names a float:
//
//   - the types float32, float64, complex64, complex128;
//   - float and imaginary literals (1.5, 1e3, 2i);
//   - package math, except its integer limits (math.MaxInt64 …), and the
//     import of math/cmplx;
//   - the usual float producers: strconv.ParseFloat/FormatFloat/AppendFloat,
//     big.Float/NewFloat, (json.Number|big.Rat|decimal.Decimal).Float64,
//     decimal.NewFromFloat*/InexactFloat64, math.Float64bits …,
//     rand.Float64/ExpFloat64/NormFloat64, time.Duration.Seconds/Minutes/Hours,
//     and money.FromJSONFloat itself (calling it means a float got here).
//
// The only floats allowed are listed in floatAllow, each with its reason.
// Test files are not checked.

type floatAllowEntry struct {
	path string // slash path from the module root; a folder ends in "/"
	fn   string // function ("Func" or "Type.Method") in path; "" for all of path
	why  string
}

var floatAllow = []floatAllowEntry{
	{"internal/money/money.go", "FromJSONFloat",
		"the one conversion of a JSON-decoded float64 Razorpay amount into exact minor units; it refuses anything inexact"},
	{"internal/razorpay/", "",
		"the Razorpay JSON decode boundary: razorpay-go returns map[string]interface{} with float64 amounts"},
	{"internal/razorpaysim/", "",
		"the Razorpay simulator speaks Razorpay's JSON: the same decode boundary"},
	{"internal/lambdahost/filter.go", "toRat",
		"Lambda event-filter numeric matching; a float64 can only come from a caller-built filter map, never an amount, and is read into a big.Rat"},
}

var (
	floatTypes = map[string]bool{"float32": true, "float64": true, "complex64": true, "complex128": true}
	floatAPIs  = map[string]string{
		"ParseFloat": "parses a float", "FormatFloat": "formats a float", "AppendFloat": "formats a float",
		"Float": "is big.Float", "NewFloat": "makes a big.Float",
		"Float32": "returns a float", "Float64": "returns a float", "InexactFloat64": "returns a float", "InexactFloat32": "returns a float",
		"NewFromFloat": "builds a decimal from a float", "NewFromFloat32": "builds a decimal from a float",
		"NewFromFloatWithExponent": "builds a decimal from a float",
		"Float64frombits":          "makes a float", "Float32frombits": "makes a float", "Float64bits": "takes a float", "Float32bits": "takes a float",
		"ExpFloat64": "returns a float", "NormFloat64": "returns a float",
		"Seconds": "returns a float64 (use d / time.Second)", "Minutes": "returns a float64 (use d / time.Minute)",
		"Hours":         "returns a float64 (use d / time.Hour)",
		"FromJSONFloat": "takes a float64: only the Razorpay decode boundary may call it",
	}
	mathIntConst = regexp.MustCompile(`^(Max|Min)(Int|Uint)(8|16|32|64)?$`)
)

type floatFinding struct {
	pos  token.Position // Filename is the slash path from the module root
	fn   string
	what string
}

func (f floatFinding) String() string {
	in := ""
	if f.fn != "" {
		in = " in " + f.fn
	}
	return fmt.Sprintf("%s:%d:%d%s: %s", f.pos.Filename, f.pos.Line, f.pos.Column, in, f.what)
}

// scanFloats returns every float in one file's source; rel names the file.
func scanFloats(rel string, src []byte) ([]floatFinding, error) {
	fset := token.NewFileSet()
	file, err := parser.ParseFile(fset, rel, src, parser.SkipObjectResolution)
	if err != nil {
		return nil, err
	}
	var out []floatFinding
	add := func(n ast.Node, fn, what string) {
		out = append(out, floatFinding{pos: fset.Position(n.Pos()), fn: fn, what: what})
	}
	mathNames := map[string]bool{}
	for _, imp := range file.Imports {
		p, _ := strconv.Unquote(imp.Path.Value)
		local := p[strings.LastIndex(p, "/")+1:]
		if imp.Name != nil {
			local = imp.Name.Name
		}
		switch p {
		case "math":
			mathNames[local] = true
		case "math/cmplx":
			add(imp, "", `import of "math/cmplx" (complex floats)`)
		}
	}
	walk := func(root ast.Node, fn string) {
		ast.Inspect(root, func(n ast.Node) bool {
			switch n := n.(type) {
			case *ast.BasicLit:
				if n.Kind == token.FLOAT || n.Kind == token.IMAG {
					add(n, fn, fmt.Sprintf("float literal %s", n.Value))
				}
			case *ast.SelectorExpr:
				if x, ok := n.X.(*ast.Ident); ok && mathNames[x.Name] {
					if !mathIntConst.MatchString(n.Sel.Name) {
						add(n, fn, fmt.Sprintf("%s.%s: package math works on floats (only its integer limits are allowed)", x.Name, n.Sel.Name))
					}
					return false
				}
				if why, ok := floatAPIs[n.Sel.Name]; ok {
					add(n.Sel, fn, fmt.Sprintf(".%s %s", n.Sel.Name, why))
				}
			case *ast.Ident:
				if floatTypes[n.Name] {
					add(n, fn, fmt.Sprintf("the float type %s", n.Name))
				} else if n.Name == "FromJSONFloat" { // a call inside package money
					add(n, fn, "FromJSONFloat "+floatAPIs[n.Name])
				}
			}
			return true
		})
	}
	// A selector's Sel is also an Ident: dedupe keeps one report per place.
	for _, d := range file.Decls {
		fn := ""
		if fd, ok := d.(*ast.FuncDecl); ok {
			fn = funcName(fd)
		}
		walk(d, fn)
	}
	return dedupe(out), nil
}

func dedupe(fs []floatFinding) []floatFinding {
	seen := map[token.Position]bool{}
	var out []floatFinding
	for _, f := range fs {
		if !seen[f.pos] {
			seen[f.pos] = true
			out = append(out, f)
		}
	}
	return out
}

func funcName(fd *ast.FuncDecl) string {
	if fd.Recv == nil || len(fd.Recv.List) == 0 {
		return fd.Name.Name
	}
	t := fd.Recv.List[0].Type
	for {
		switch x := t.(type) {
		case *ast.StarExpr:
			t = x.X
			continue
		case *ast.IndexExpr:
			t = x.X
			continue
		case *ast.IndexListExpr:
			t = x.X
			continue
		case *ast.Ident:
			return x.Name + "." + fd.Name.Name
		}
		return fd.Name.Name
	}
}

// allowed returns the allowlist entry covering f, or -1.
func allowed(f floatFinding) int {
	for i, a := range floatAllow {
		if strings.HasSuffix(a.path, "/") {
			if strings.HasPrefix(f.pos.Filename, a.path) && a.fn == "" {
				return i
			}
			continue
		}
		if f.pos.Filename == a.path && (a.fn == "" || a.fn == f.fn) {
			return i
		}
	}
	return -1
}

// moduleRoot walks up from the test's directory to the go.mod of the
// main module.
func moduleRoot(t *testing.T) string {
	t.Helper()
	dir, err := os.Getwd()
	if err != nil {
		t.Fatal(err)
	}
	for {
		if b, err := os.ReadFile(filepath.Join(dir, "go.mod")); err == nil {
			if !strings.Contains(string(b), "module github.com/razorbill/razorbill\n") {
				t.Fatalf("%s/go.mod is not the razorbill module", dir)
			}
			return dir
		}
		parent := filepath.Dir(dir)
		if parent == dir {
			t.Fatal("no go.mod above the test's directory")
		}
		dir = parent
	}
}

// moduleGoFiles lists the non-test Go files of the main module, as slash
// paths from root, skipping nested modules, testdata, vendor,
// node_modules and hidden folders.
func moduleGoFiles(t *testing.T, root string) []string {
	t.Helper()
	var files []string
	err := filepath.WalkDir(root, func(p string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		rel, _ := filepath.Rel(root, p)
		rel = filepath.ToSlash(rel)
		if d.IsDir() {
			name := d.Name()
			if p != root && (strings.HasPrefix(name, ".") || strings.HasPrefix(name, "_") || name == "testdata" || name == "vendor" || name == "node_modules" || name == "cdk.out") {
				return filepath.SkipDir
			}
			if p != root {
				if _, err := os.Stat(filepath.Join(p, "go.mod")); err == nil {
					return filepath.SkipDir // a nested module
				}
			}
			return nil
		}
		if strings.HasSuffix(rel, ".go") && !strings.HasSuffix(rel, "_test.go") {
			files = append(files, rel)
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	sort.Strings(files)
	return files
}

func TestNoFloats(t *testing.T) {
	root := moduleRoot(t)
	files := moduleGoFiles(t, root)
	var dirs = map[string]bool{}
	for _, f := range files {
		dirs[strings.SplitN(f, "/", 2)[0]+"/"] = true
	}
	for _, want := range []string{"internal/", "functions/"} {
		if !dirs[want] {
			t.Fatalf("found no Go files under %s: the scan is looking in the wrong place (%s)", want, root)
		}
	}
	used := make([]bool, len(floatAllow))
	var bad []string
	for _, rel := range files {
		src, err := os.ReadFile(filepath.Join(root, filepath.FromSlash(rel)))
		if err != nil {
			t.Fatal(err)
		}
		found, err := scanFloats(rel, src)
		if err != nil {
			t.Errorf("parse %s: %v", rel, err)
			continue
		}
		for _, f := range found {
			if i := allowed(f); i >= 0 {
				used[i] = true
				t.Logf("allowed: %s (%s)", f, floatAllow[i].why)
				continue
			}
			bad = append(bad, "  "+f.String())
		}
	}
	if len(bad) > 0 {
		t.Errorf("floats outside the Razorpay decode boundary (design.md Invariant 1: money is exact, no floats anywhere):\n%s\n"+
			"Use int64 minor units (money.Parse/Format), money.ParseDecimal for quantities and unit prices, or integer time.Duration "+
			"arithmetic; at the Razorpay JSON boundary convert with money.FromJSONFloat. A float that truly is not money needs a "+
			"precise entry (file, function, reason) in floatAllow in internal/money/nofloat_test.go.",
			strings.Join(bad, "\n"))
	}
	// A precise entry that covers nothing is stale: the allowlist stays exact.
	for i, a := range floatAllow {
		if strings.HasSuffix(a.path, "/") {
			if _, err := os.Stat(filepath.Join(root, filepath.FromSlash(a.path))); err != nil {
				t.Errorf("floatAllow entry %s: folder does not exist; remove the entry", a.path)
			}
			continue
		}
		if !used[i] {
			t.Errorf("floatAllow entry %s %s allows a float that is no longer there; remove the entry", a.path, a.fn)
		}
	}
}

// TestNoFloatsScanner proves the scanner finds what it must, so that
// TestNoFloats passing means something.
func TestNoFloatsScanner(t *testing.T) {
	src := `package p

import (
	"math"
	m2 "math"
	"math/cmplx"
	"strconv"
	"time"
	"github.com/shopspring/decimal"
	"github.com/razorbill/razorbill/internal/money"
)

const ok = math.MaxInt64 + math.MinInt32

type T struct{ A float64 }

func (t *T) M() { _ = 1.5 }

func lit() any { return []any{1e3, 2i, 0x1p-2, .5} }

func conv(s string, d time.Duration, x decimal.Decimal) {
	_, _ = strconv.ParseFloat(s, 64)
	_ = d.Seconds()
	_ = x.InexactFloat64()
	_ = decimal.NewFromFloat(0)
	_ = math.Round(0)
	_ = m2.Floor(0)
	_ = cmplx.Abs(0)
	_, _ = money.FromJSONFloat(0)
	var f32 float32
	_ = f32
	_ = 100
	_ = "1.5"
}
`
	found, err := scanFloats("internal/p/p.go", []byte(src))
	if err != nil {
		t.Fatal(err)
	}
	var got []string
	for _, f := range found {
		got = append(got, f.String())
	}
	all := strings.Join(got, "\n")
	for _, want := range []string{
		`import of "math/cmplx"`,
		"internal/p/p.go:15:18: the float type float64",
		"in T.M: float literal 1.5",
		"in lit: float literal 1e3", "in lit: float literal 2i", "in lit: float literal 0x1p-2", "in lit: float literal .5",
		"in conv: .ParseFloat", "in conv: .Seconds", "in conv: .InexactFloat64", "in conv: .NewFromFloat ",
		"in conv: math.Round", "in conv: m2.Floor", "in conv: .FromJSONFloat", "in conv: the float type float32",
	} {
		if !strings.Contains(all, want) {
			t.Errorf("scanner missed %q; found:\n%s", want, all)
		}
	}
	for _, never := range []string{"MaxInt64", "MinInt32", `"1.5"`, "100"} {
		if strings.Contains(all, never) {
			t.Errorf("scanner flagged %s; found:\n%s", never, all)
		}
	}
	if len(found) != 15 {
		t.Errorf("found %d floats, want 15:\n%s", len(found), all)
	}

	// The allowlist is by file and function: the same float elsewhere in
	// money.go, or in another file, is not allowed.
	for _, tc := range []struct {
		file, fn string
		ok       bool
	}{
		{"internal/money/money.go", "FromJSONFloat", true},
		{"internal/money/money.go", "Parse", false},
		{"internal/money/money.go", "", false},
		{"internal/money/currency.go", "FromJSONFloat", false},
		{"internal/razorpay/decode.go", "anything", true},
		{"internal/razorpaysim/api.go", "", true},
		{"internal/razorpayx/a.go", "", false},
		{"internal/lambdahost/filter.go", "toRat", true},
		{"internal/lambdahost/filter.go", "numEqual", false},
		{"functions/api/main.go", "main", false},
	} {
		f := floatFinding{pos: token.Position{Filename: tc.file, Line: 1, Column: 1}, fn: tc.fn}
		if got := allowed(f) >= 0; got != tc.ok {
			t.Errorf("allowed(%s %s) = %v, want %v", tc.file, tc.fn, got, tc.ok)
		}
	}
}
