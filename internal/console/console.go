// Package console is the operator console: server-rendered pages under
// /console/ on the api function for people who do not read the API. Every
// action is a request to the same API routes (dispatched in process, with
// the signed-in key), so validation, Idempotency-Key and error codes are the
// API's; the console only renders the JSON answers and puts each error next
// to its field. Pages are written by Go code (views.go; html.go says how
// values are escaped), assets are embedded; no JavaScript is needed (a
// small script adds copy buttons).
package console

import (
	"bytes"
	"context"
	"embed"
	"encoding/base64"
	"log/slog"
	"net/http"
	"strings"
	"sync"
	"time"

	"github.com/aws/aws-lambda-go/events"
)

// Prefix is where the console is served.
const Prefix = "/console"

//go:embed static
var staticFS embed.FS

// Handler answers one API Gateway HTTP API (v2) event (an httpapi.Router's
// Handle).
type Handler func(ctx context.Context, ev events.APIGatewayV2HTTPRequest) (events.APIGatewayV2HTTPResponse, error)

// Options configure a console.
type Options struct {
	// API serves the api function's routes; Payments serves /api/v1/payments…
	// (the payment-link-creator's routes, built in the same process).
	API, Payments Handler
	// SessionKey returns the 32-byte key that seals session cookies.
	SessionKey func(ctx context.Context) ([]byte, error)
	Log        *slog.Logger
	Now        func() time.Time
	// SessionTTL is how long a sign-in lasts (default 12 h).
	SessionTTL time.Duration
}

// Console serves the pages.
type Console struct {
	opt Options
	// mux's routes are registered at the first request, not when the api
	// function starts: http.ServeMux parses and cross-checks every pattern
	// (about 0.2 ms; issue 17's init time).
	muxOnce sync.Once
	mux     *http.ServeMux
}

// New builds a console.
func New(opt Options) *Console {
	if opt.Now == nil {
		opt.Now = time.Now
	}
	if opt.SessionTTL == 0 {
		opt.SessionTTL = 12 * time.Hour
	}
	if opt.Log == nil {
		opt.Log = slog.New(slog.NewTextHandler(&bytes.Buffer{}, nil))
	}
	return &Console{opt: opt}
}

// Handle answers an API Gateway event: the event becomes an *http.Request
// for the console's pages and the recorded answer becomes the response
// (Set-Cookie in Cookies, as API Gateway expects).
func (c *Console) Handle(ctx context.Context, ev events.APIGatewayV2HTTPRequest) (events.APIGatewayV2HTTPResponse, error) {
	body := []byte(ev.Body)
	if ev.IsBase64Encoded {
		b, err := base64.StdEncoding.DecodeString(ev.Body)
		if err != nil {
			return events.APIGatewayV2HTTPResponse{StatusCode: http.StatusBadRequest, Body: "the body is not valid base64"}, nil
		}
		body = b
	}
	path := ev.RawPath
	if path == "" {
		path = ev.RequestContext.HTTP.Path
	}
	target := path
	if ev.RawQueryString != "" {
		target += "?" + ev.RawQueryString
	}
	method := ev.RequestContext.HTTP.Method
	if method == "" {
		method = http.MethodGet
	}
	req, err := http.NewRequestWithContext(ctx, method, target, bytes.NewReader(body))
	if err != nil {
		return events.APIGatewayV2HTTPResponse{StatusCode: http.StatusBadRequest, Body: "bad request"}, nil
	}
	for k, v := range ev.Headers {
		req.Header.Set(k, v)
	}
	if len(ev.Cookies) > 0 {
		req.Header.Set("Cookie", strings.Join(ev.Cookies, "; "))
	}
	req.Host = ev.Headers["host"]
	req.RemoteAddr = ev.RequestContext.HTTP.SourceIP
	rec := &recorder{header: http.Header{}}
	start := c.opt.Now()
	c.ServeHTTP(rec, req)
	// The path only: a query may hold a searched email.
	c.opt.Log.InfoContext(ctx, "console request", "method", method, "path", path, "status", rec.status(),
		"duration_ms", c.opt.Now().Sub(start).Milliseconds())
	out := events.APIGatewayV2HTTPResponse{StatusCode: rec.status(), Headers: map[string]string{}, Body: rec.body.String()}
	for k, vs := range rec.header {
		if strings.EqualFold(k, "Set-Cookie") {
			out.Cookies = append(out.Cookies, vs...)
			continue
		}
		out.Headers[k] = strings.Join(vs, ", ")
	}
	return out, nil
}

// recorder is the http.ResponseWriter Handle records into.
type recorder struct {
	header http.Header
	code   int
	body   bytes.Buffer
}

func (r *recorder) Header() http.Header { return r.header }
func (r *recorder) Write(b []byte) (int, error) {
	if r.code == 0 {
		r.code = http.StatusOK
	}
	return r.body.Write(b)
}
func (r *recorder) WriteHeader(code int) {
	if r.code == 0 {
		r.code = code
	}
}
func (r *recorder) status() int {
	if r.code == 0 {
		return http.StatusOK
	}
	return r.code
}

// ServeHTTP serves the console as a plain net/http handler (tests).
func (c *Console) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	h := w.Header()
	h.Set("Content-Security-Policy", "default-src 'none'; style-src 'self'; script-src 'self'; img-src 'self'; form-action 'self'; frame-ancestors 'none'; base-uri 'none'")
	h.Set("X-Content-Type-Options", "nosniff")
	h.Set("Referrer-Policy", "same-origin")
	h.Set("Cache-Control", "no-store")
	c.muxOnce.Do(c.routes)
	c.mux.ServeHTTP(w, r)
}
