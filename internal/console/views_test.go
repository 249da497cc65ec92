package console

import (
	"context"
	"go/ast"
	"go/parser"
	"go/token"
	"net/url"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"

	"github.com/aws/aws-lambda-go/events"
)

// hostile is what every value from the API, the form or the session is in
// TestPagesEscapeEverythingTheyShow: markup, both quotes, an ampersand and
// a javascript: scheme.
const hostile = `javascript:<x y='1' z="2">&`

// escapedHostile is hostile as text.
const escapedHostile = `javascript:&lt;x y=&#39;1&#39; z=&#34;2&#34;&gt;&amp;`

// viewNames are the pages render serves.
var viewNames = []string{"signin", "error", "invoices", "invoice", "customers", "customer", "connection", "payment", "events", "subscriptions", "subscription"}

// keysRead is every field name views.go reads: its lower-case string
// literals.
func keysRead(t *testing.T) []string {
	t.Helper()
	src, err := os.ReadFile("views.go")
	if err != nil {
		t.Fatal(err)
	}
	var keys []string
	for _, m := range regexp.MustCompile(`"([a-z][a-z_]*)"`).FindAllStringSubmatch(string(src), -1) {
		keys = append(keys, m[1])
	}
	return keys
}

// hostileObj is a decoded JSON object with every key set to hostile, and
// its nested objects and lists (depth levels down) made the same way.
func hostileObj(keys []string, depth int) obj {
	o := obj{}
	for _, k := range keys {
		o[k] = hostile
	}
	if depth > 0 {
		for _, k := range []string{"razorpay", "webhook", "payload", "upcoming"} {
			o[k] = hostileObj(keys, depth-1)
		}
		for _, k := range []string{"line_items", "tax_lines", "lines", "webhook_events"} {
			o[k] = []any{hostileObj(keys, depth-1), hostile}
		}
	}
	return o
}

// Every page writes every value it shows escaped, and no URL attribute
// takes a javascript: URL: a page is rendered with each value hostile,
// once per field its error could name.
func TestPagesEscapeEverythingTheyShow(t *testing.T) {
	keys := keysRead(t)
	data := map[string]any{}
	for _, k := range keys {
		data[k] = hostileObj(keys, 2)
	}
	for _, k := range []string{"invoices", "customers", "payments", "refunds", "events"} {
		data[k] = []obj{hostileObj(keys, 2), hostileObj(keys, 2)}
	}
	data["statuses"] = []string{hostile, "DRAFT"}
	data["usage"] = []meterUsage{{Meter: hostileObj(keys, 1), Total: hostile}, {Meter: hostileObj(keys, 1), Err: &apiError{Message: hostile}}}
	data["open_link"], data["shown_secret"], data["upcoming_error"] = hostile, hostile, hostile
	form := url.Values{}
	for _, k := range keys {
		form.Set(k, hostile)
	}
	fieldRe := regexp.MustCompile(`ferr\(p\.Err, "([a-z_]+)"\)|signInError\(d, p, "([a-z_]+)"\)`)
	src, _ := os.ReadFile("views.go")
	fields := []string{"", "no_such_field"}
	for _, m := range fieldRe.FindAllStringSubmatch(string(src), -1) {
		fields = append(fields, m[1]+m[2])
	}
	badHref := regexp.MustCompile(`(?i)(href|action|src)="\s*javascript`)
	for _, name := range viewNames {
		v := viewOf(name)
		if v == nil {
			t.Fatalf("no view %q", name)
		}
		for _, field := range fields {
			for _, signed := range []bool{true, false} {
				p := page{Title: hostile, Nav: name, CSRF: hostile, Env: hostile, Flash: hostile, Form: form, Idem: hostile, Data: data, Signed: signed,
					Err:    &apiError{Status: 400, Code: hostile, Field: field, Message: hostile},
					Fields: []string{field}}
				d := &doc{}
				layout(d, p, v)
				out := string(d.b)
				if i := strings.Index(out, "<x"); i >= 0 {
					t.Fatalf("%s (error field %q): unescaped markup at %d: %s", name, field, i, out[max(0, i-100):min(len(out), i+50)])
				}
				if loc := badHref.FindStringIndex(out); loc != nil {
					t.Fatalf("%s: a javascript: URL in an attribute: %s", name, out[max(0, loc[0]-100):min(len(out), loc[1]+50)])
				}
				if n := strings.Count(out, escapedHostile); n < 3 { // title, h1 and the page's own values
					t.Fatalf("%s: the hostile value is shown escaped %d times; the page shows nothing", name, n)
				}
			}
		}
	}
	// a URL with an allowed scheme or none is kept
	for u, want := range map[string]bool{"https://rzp.io/l/x": true, "HTTP://x": true, "mailto:a@b": true, "/console/x?a=1": true, "#top": true, "rel/a:b": true,
		"javascript:alert(1)": false, " javascript:x": false, "JaVaScRiPt:x": false, "data:text/html,x": false, "vbscript:x": false} {
		if got := safeURL(u); got != want {
			t.Errorf("safeURL(%q) = %v, want %v", u, got, want)
		}
	}
}

// The package writes markup only from constants: the name markup appears
// only where the type is declared and in function parameter and result
// lists — never in a conversion (markup(v), (markup)(v)), an alias, a
// generic type argument or a variable's type (html.go's rule).
func TestNoMarkupConversions(t *testing.T) {
	files, _ := filepath.Glob("*.go")
	fset := token.NewFileSet()
	for _, f := range files {
		if strings.HasSuffix(f, "_test.go") {
			continue
		}
		file, err := parser.ParseFile(fset, f, nil, 0)
		if err != nil {
			t.Fatal(err)
		}
		allowed := map[token.Pos]bool{}
		ast.Inspect(file, func(n ast.Node) bool {
			switch x := n.(type) {
			case *ast.TypeSpec:
				if x.Name.Name == "markup" {
					if id, ok := x.Type.(*ast.Ident); !ok || id.Name != "string" || x.Assign.IsValid() {
						t.Errorf("%s: markup must be declared as `type markup string`", fset.Position(x.Pos()))
					}
					allowed[x.Name.Pos()] = true
				}
			case *ast.FuncType:
				for _, l := range []*ast.FieldList{x.Params, x.Results} {
					if l == nil {
						continue
					}
					for _, fld := range l.List {
						typ := fld.Type
						if e, ok := typ.(*ast.Ellipsis); ok {
							typ = e.Elt
						}
						if id, ok := typ.(*ast.Ident); ok && id.Name == "markup" {
							allowed[id.Pos()] = true
						}
					}
				}
			}
			return true
		})
		ast.Inspect(file, func(n ast.Node) bool {
			if id, ok := n.(*ast.Ident); ok && id.Name == "markup" && !allowed[id.Pos()] {
				t.Errorf("%s: markup used other than as a parameter's type", fset.Position(id.Pos()))
			}
			return true
		})
	}
}

// Pages are served as before: the sign-in page through Handle.
func TestSignInPageIsServed(t *testing.T) {
	c := New(Options{SessionKey: func(context.Context) ([]byte, error) { return make([]byte, 32), nil }})
	ev := events.APIGatewayV2HTTPRequest{RawPath: "/console/sign-in"}
	ev.RequestContext.HTTP.Method, ev.RequestContext.HTTP.Path = "GET", "/console/sign-in"
	res, err := c.Handle(context.Background(), ev)
	if err != nil || res.StatusCode != 200 {
		t.Fatalf("sign-in page: %d %v", res.StatusCode, err)
	}
	for _, want := range []string{"<!doctype html>", `<title>Sign in · Razorbill console</title>`, `<form method="post" action="/console/sign-in"`, `name="api_key" type="password"`, `<input type="hidden" name="csrf" value="`} {
		if !strings.Contains(res.Body, want) {
			t.Errorf("the sign-in page lacks %q:\n%s", want, res.Body)
		}
	}
	if ct := res.Headers["Content-Type"]; ct != "text/html; charset=utf-8" {
		t.Errorf("Content-Type %q", ct)
	}

}
