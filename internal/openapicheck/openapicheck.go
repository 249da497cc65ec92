// Package openapicheck loads docs/openapi.yaml as an OpenAPI 3 document
// (kin-openapi) and checks real HTTP requests and responses against it. Only
// tests import it: no Lambda binary links kin-openapi.
package openapicheck

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"path/filepath"
	"runtime"
	"sort"
	"strings"
	"sync"

	"github.com/getkin/kin-openapi/openapi3"
	"github.com/getkin/kin-openapi/openapi3filter"
	"github.com/getkin/kin-openapi/routers"
	"github.com/getkin/kin-openapi/routers/legacy"
)

// SpecPath is docs/openapi.yaml of this checkout.
func SpecPath() string {
	_, file, _, _ := runtime.Caller(0)
	return filepath.Join(filepath.Dir(file), "..", "..", "docs", "openapi.yaml")
}

// Load reads an OpenAPI document and validates it as OpenAPI 3.
func Load(ctx context.Context, path string) (*openapi3.T, error) {
	doc, err := openapi3.NewLoader().LoadFromFile(path)
	if err != nil {
		return nil, fmt.Errorf("load %s: %w", path, err)
	}
	if err := doc.Validate(ctx); err != nil {
		return nil, fmt.Errorf("%s is not valid OpenAPI 3: %w", path, err)
	}
	return doc, nil
}

// Parse is Load for a document held in memory.
func Parse(ctx context.Context, data []byte) (*openapi3.T, error) {
	doc, err := openapi3.NewLoader().LoadFromData(data)
	if err != nil {
		return nil, err
	}
	if err := doc.Validate(ctx); err != nil {
		return nil, err
	}
	return doc, nil
}

// Operations lists "METHOD /path" for every operation of doc, sorted.
func Operations(doc *openapi3.T) []string {
	var out []string
	for path, item := range doc.Paths.Map() {
		for method := range item.Operations() {
			out = append(out, strings.ToUpper(method)+" "+path)
		}
	}
	sort.Strings(out)
	return out
}

// Transport is an http.RoundTripper that checks every call under BaseURL
// against the document it was built from and hands each mismatch to Report:
//
//   - a call to a path and method the document does not declare must be
//     answered with a 4xx error envelope (the Error schema);
//   - a request the document declares invalid (parameters, body, missing
//     bearer token) must be answered with a 4xx: a 2xx means the API accepted
//     what the contract forbids, or the document is too strict;
//   - every response (errors too) must match the operation's response for its
//     status; a status the operation does not document is a mismatch.
//
// Calls outside BaseURL, and paths under /_sim/ or /webhooks/ (the
// simulator's control API and Razorpay's webhook calls), pass unchecked.
// Request and response bodies stay readable by the caller.
type Transport struct {
	base    http.RoundTripper
	baseURL string
	report  func(string)
	router  routers.Router
	errSch  *openapi3.Schema

	mu   sync.Mutex
	seen map[string]bool
}

// Seen lists the documented operations ("METHOD /path") this transport
// has checked a call of, sorted.
func (t *Transport) Seen() []string {
	t.mu.Lock()
	defer t.mu.Unlock()
	out := make([]string, 0, len(t.seen))
	for op := range t.seen {
		out = append(out, op)
	}
	sort.Strings(out)
	return out
}

// NewTransport builds a Transport for doc. The document's servers are
// ignored: routes are matched on the path under baseURL. A nil base is
// http.DefaultTransport.
func NewTransport(doc *openapi3.T, baseURL string, base http.RoundTripper, report func(string)) (*Transport, error) {
	d := *doc
	d.Servers = nil
	r, err := legacy.NewRouter(&d)
	if err != nil {
		return nil, err
	}
	if base == nil {
		base = http.DefaultTransport
	}
	tr := &Transport{base: base, baseURL: strings.TrimSuffix(baseURL, "/"), report: report, router: r, seen: map[string]bool{}}
	if doc.Components != nil {
		if ref := doc.Components.Schemas["Error"]; ref != nil {
			tr.errSch = ref.Value
		}
	}
	if tr.errSch == nil {
		return nil, errors.New("the document has no components.schemas.Error")
	}
	return tr, nil
}

func (t *Transport) checked(req *http.Request) bool {
	u := req.URL.String()
	if !strings.HasPrefix(u, t.baseURL+"/") {
		return false
	}
	p := req.URL.Path
	return !strings.Contains(p, "/_sim/") && !strings.Contains(p, "/webhooks/")
}

var options = &openapi3filter.Options{
	IncludeResponseStatus: true,
	// The report quotes the response body; the schema dump adds only noise.
	SchemaValidationOptions: []openapi3.SchemaValidationOption{openapi3.DisableSchemaErrorDetails()},
	AuthenticationFunc: func(_ context.Context, in *openapi3filter.AuthenticationInput) error {
		s := in.SecurityScheme
		if s.Type != "http" || !strings.EqualFold(s.Scheme, "bearer") {
			return fmt.Errorf("security scheme %q (%s %s) is not checked by openapicheck", in.SecuritySchemeName, s.Type, s.Scheme)
		}
		h := in.RequestValidationInput.Request.Header.Get("Authorization")
		if !strings.HasPrefix(h, "Bearer ") || len(h) == len("Bearer ") {
			return errors.New("no bearer token in Authorization")
		}
		return nil
	},
}

// RoundTrip sends req and checks it and its response.
func (t *Transport) RoundTrip(req *http.Request) (*http.Response, error) {
	if !t.checked(req) {
		return t.base.RoundTrip(req)
	}
	var body []byte
	if req.Body != nil && req.Body != http.NoBody {
		b, err := io.ReadAll(req.Body)
		_ = req.Body.Close()
		if err != nil {
			return nil, err
		}
		body = b
	}
	withBody := func() *http.Request {
		r := req.Clone(req.Context())
		if body != nil {
			r.Body = io.NopCloser(bytes.NewReader(body))
			r.GetBody = func() (io.ReadCloser, error) { return io.NopCloser(bytes.NewReader(body)), nil }
		}
		return r
	}
	ctx := req.Context()
	vreq := withBody()
	op := req.Method + " " + req.URL.Path
	route, params, routeErr := t.router.FindRoute(vreq)
	var in *openapi3filter.RequestValidationInput
	var reqErr error
	if routeErr == nil {
		op = req.Method + " " + route.Path
		t.mu.Lock()
		t.seen[op] = true
		t.mu.Unlock()
		in = &openapi3filter.RequestValidationInput{Request: vreq, PathParams: params, Route: route, Options: options}
		reqErr = openapi3filter.ValidateRequest(ctx, in)
	}

	res, err := t.base.RoundTrip(withBody())
	if err != nil {
		return nil, err
	}
	data, err := io.ReadAll(res.Body)
	_ = res.Body.Close()
	res.Body = io.NopCloser(bytes.NewReader(data))
	if err != nil {
		return nil, err
	}
	fail := func(format string, a ...any) {
		t.report(fmt.Sprintf("openapi: %s: ", op) + fmt.Sprintf(format, a...) + "\n  response " + res.Status + ": " + clip(data))
	}
	client := res.StatusCode >= 400 && res.StatusCode < 500
	switch {
	case routeErr != nil:
		if !client {
			fail("not in docs/openapi.yaml (%v) yet answered %d", routeErr, res.StatusCode)
			return res, nil
		}
		var v any
		if err := json.Unmarshal(data, &v); err != nil {
			fail("undocumented route answered a body that is not JSON: %v", err)
		} else if err := t.errSch.VisitJSON(v, openapi3.VisitAsResponse(), openapi3.DisableSchemaErrorDetails()); err != nil {
			fail("undocumented route answered a body that is not the Error schema: %v", err)
		}
		return res, nil
	case reqErr != nil && !client:
		fail("the request does not match docs/openapi.yaml yet was answered %d: %v", res.StatusCode, reqErr)
	}
	rin := &openapi3filter.ResponseValidationInput{
		RequestValidationInput: in, Status: res.StatusCode, Header: res.Header,
		Body: io.NopCloser(bytes.NewReader(data)), Options: options,
	}
	if err := openapi3filter.ValidateResponse(ctx, rin); err != nil {
		fail("response does not match docs/openapi.yaml: %v", err)
	}
	return res, nil
}

func clip(b []byte) string {
	const max = 600
	if len(b) > max {
		return string(b[:max]) + "…"
	}
	return string(b)
}
