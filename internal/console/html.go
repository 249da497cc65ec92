package console

import (
	"encoding/json"
	"net/url"
	"strings"
	"unicode/utf8"
)

// The console's pages are written by Go code (views.go), not html/template:
// text/template looks methods up by name at run time, which makes the Go
// linker keep every exported method of every type in the api binary (16 MB
// instead of 10 MB for arm64, about 2 ms more init: issue 17).
//
// What keeps them safe is the type of what they write. Markup is only ever
// a markup value: an untyped string constant in the source converts to it,
// a string variable does not (a compile error), so a value from the API or
// the request can only reach a page through text (escaped for HTML text
// and quoted attribute values), href (a URL, scheme-checked, then escaped)
// or path (an id as one URL path segment). TestNoMarkupConversions keeps
// markup(…) conversions out of the package.

// markup is HTML written by this package: a constant.
type markup string

// doc is a page being written.
type doc struct{ b []byte }

// m writes markup.
func (d *doc) m(parts ...markup) {
	for _, p := range parts {
		d.b = append(d.b, p...)
	}
}

// t writes s escaped for HTML text or a double-quoted attribute value.
func (d *doc) t(s string) { d.b = appendEscaped(d.b, s) }

// v writes a decoded JSON value as text (str: "" for null).
func (d *doc) v(x any) { d.t(str(x)) }

// href writes s as a URL attribute value: an http, https or mailto URL, or
// one without a scheme (a path); anything else (javascript:, data:, …)
// becomes "#ZgotmplZ", as html/template writes it.
func (d *doc) href(s string) {
	if !safeURL(s) {
		s = "#ZgotmplZ"
	}
	d.t(s)
}

// path writes x as one URL path segment (escaped for the path, then for
// the attribute).
func (d *doc) path(x any) { d.t(url.PathEscape(str(x))) }

// selected writes ` selected` when a == b (an <option>'s state).
func (d *doc) selected(a, b string) {
	if a == b {
		d.m(` selected`)
	}
}

// hidden writes the CSRF token's and, when idem is set, the
// Idempotency-Key's hidden inputs of a form.
func (d *doc) hidden(csrf, idem string) {
	d.m(`<input type="hidden" name="csrf" value="`)
	d.t(csrf)
	d.m(`">`)
	if idem != "" {
		d.m(`<input type="hidden" name="idem" value="`)
		d.t(idem)
		d.m(`">`)
	}
}

// form writes a form posting to prefix + id (one path segment) + suffix:
// the CSRF and Idempotency-Key inputs, then button (its markup).
func (d *doc) form(prefix markup, id any, suffix markup, csrf, idem string, button markup) {
	d.m(`<form method="post" action="`, prefix)
	d.path(id)
	d.m(suffix, `">`)
	d.hidden(csrf, idem)
	d.m(button, `</form>`)
}

// ferr writes field's error next to its input (id "<field>-error") when e
// is that field's.
func (d *doc) ferr(e *apiError, field markup) {
	if e == nil || e.Field != string(field) {
		return
	}
	d.m(`<p class="field-error" id="`, field, `-error" role="alert">`)
	d.t(e.Message)
	d.m(`</p>`)
}

func safeURL(s string) bool {
	i := strings.IndexAny(s, ":/?#")
	if i < 0 || s[i] != ':' {
		return true // no scheme: a path or a fragment
	}
	switch strings.ToLower(s[:i]) {
	case "http", "https", "mailto":
		return true
	}
	return false
}

// appendEscaped appends s with &, <, >, " and ' escaped (the quotes as
// html/template writes them), NUL as U+FFFD and invalid UTF-8 kept as
// it is (the browser reads it as U+FFFD).
func appendEscaped(b []byte, s string) []byte {
	start := 0
	for i := 0; i < len(s); i++ {
		var rep string
		switch s[i] {
		case '&':
			rep = "&amp;"
		case '<':
			rep = "&lt;"
		case '>':
			rep = "&gt;"
		case '"':
			rep = "&#34;"
		case '\'':
			rep = "&#39;"
		case 0:
			rep = string(utf8.RuneError)
		default:
			continue
		}
		b = append(b, s[start:i]...)
		b = append(b, rep...)
		start = i + 1
	}
	return append(b, s[start:]...)
}

// truth is a value's truth as a template's if and with read it: nil, false,
// "" and an empty list or object are false. Answers are decoded with
// UseNumber: a number is a json.Number, a string, so "0" is true.
func truth(x any) bool {
	switch t := x.(type) {
	case nil:
		return false
	case bool:
		return t
	case string:
		return t != ""
	case json.Number:
		return t != ""
	case []any:
		return len(t) > 0
	case []obj:
		return len(t) > 0
	case []string:
		return len(t) > 0
	case obj:
		return len(t) > 0
	}
	return true
}

// get reads a decoded JSON object's field along a path of keys: nil when
// any step is missing or not an object.
func get(x any, keys ...string) any {
	for _, k := range keys {
		o, ok := x.(obj)
		if !ok {
			return nil
		}
		x = o[k]
	}
	return x
}

// items are a decoded JSON list's elements (nil for anything else).
func items(x any) []any {
	switch t := x.(type) {
	case []any:
		return t
	case []obj:
		out := make([]any, len(t))
		for i, o := range t {
			out[i] = o
		}
		return out
	}
	return nil
}
