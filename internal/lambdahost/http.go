package lambdahost

import (
	"context"
	"crypto/rand"
	"encoding/base64"
	"encoding/hex"
	"fmt"
	"io"
	"log/slog"
	"mime"
	"net"
	"net/http"
	"strconv"
	"strings"
	"time"

	"github.com/aws/aws-lambda-go/events"
)

// APIGatewayHandler is a function behind an API Gateway HTTP API route
// (payload format 2.0).
type APIGatewayHandler func(context.Context, events.APIGatewayV2HTTPRequest) (events.APIGatewayV2HTTPResponse, error)

// FunctionURLHandler is a function behind a function URL (buffered mode).
type FunctionURLHandler func(context.Context, events.LambdaFunctionURLRequest) (events.LambdaFunctionURLResponse, error)

// Request body limits: API Gateway HTTP API payloads are at most 10 MB; a
// function URL request at most 6 MB (Lambda's synchronous invoke limit).
const (
	APIGatewayBodyLimit  = 10 << 20
	FunctionURLBodyLimit = 6 << 20
	// DefaultHTTPTimeout is API Gateway's maximum integration timeout.
	DefaultHTTPTimeout = 30 * time.Second
)

// HTTPOption configures how a handler is invoked.
type HTTPOption func(*httpConfig)

type httpConfig struct {
	timeout   time.Duration
	function  string
	logger    *slog.Logger
	bodyLimit int64
}

// WithTimeout sets the function timeout (the handler's context deadline).
// A handler still running after it gets a 503 (API Gateway) or 502
// (function URL), as on AWS.
func WithTimeout(d time.Duration) HTTPOption { return func(c *httpConfig) { c.timeout = d } }

// WithFunctionName names the function in lambdacontext's InvokedFunctionArn and in logs.
func WithFunctionName(name string) HTTPOption { return func(c *httpConfig) { c.function = name } }

// WithLogger sets where invocation failures are logged (default slog.Default()).
func WithLogger(l *slog.Logger) HTTPOption { return func(c *httpConfig) { c.logger = l } }

// WithBodyLimit overrides the request body limit in bytes.
func WithBodyLimit(n int64) HTTPOption { return func(c *httpConfig) { c.bodyLimit = n } }

func newHTTPConfig(limit int64, opts []HTTPOption) httpConfig {
	c := httpConfig{timeout: DefaultHTTPTimeout, bodyLimit: limit}
	for _, o := range opts {
		o(&c)
	}
	c.logger = loggerOr(c.logger)
	return c
}

// httpEvent is what API Gateway and function URLs put in their events.
type httpEvent struct {
	rawPath, rawQuery string
	cookies           []string
	headers, query    map[string]string
	body              string
	base64            bool
	method, path      string
	protocol          string
	sourceIP, ua      string
	host              string
	now               time.Time
}

// readHTTPEvent turns r into the common part of both events. It answers 413
// itself (and returns false) when the body is over limit.
func readHTTPEvent(w http.ResponseWriter, r *http.Request, limit int64, tooLarge func(http.ResponseWriter)) (*httpEvent, bool) {
	if r.ContentLength > limit {
		tooLarge(w)
		return nil, false
	}
	body, err := io.ReadAll(io.LimitReader(r.Body, limit+1))
	if err != nil {
		http.Error(w, "cannot read the request body", http.StatusBadRequest)
		return nil, false
	}
	if int64(len(body)) > limit {
		tooLarge(w)
		return nil, false
	}
	e := &httpEvent{
		rawPath:  r.URL.EscapedPath(),
		rawQuery: r.URL.RawQuery,
		headers:  map[string]string{},
		method:   r.Method,
		path:     r.URL.EscapedPath(),
		protocol: r.Proto,
		ua:       r.UserAgent(),
		host:     r.Host,
		now:      time.Now(),
	}
	e.sourceIP, _, _ = net.SplitHostPort(r.RemoteAddr)
	if e.sourceIP == "" {
		e.sourceIP = r.RemoteAddr
	}
	for k, vs := range r.Header {
		lk := strings.ToLower(k)
		if lk == "cookie" { // API Gateway 2.0 and function URLs move cookies to their own list
			for _, v := range vs {
				for _, c := range strings.Split(v, ";") {
					if c = strings.TrimSpace(c); c != "" {
						e.cookies = append(e.cookies, c)
					}
				}
			}
			continue
		}
		e.headers[lk] = strings.Join(vs, ",")
	}
	e.headers["host"] = r.Host
	if len(body) > 0 {
		e.headers["content-length"] = strconv.Itoa(len(body))
	}
	if xff := e.headers["x-forwarded-for"]; xff != "" {
		e.headers["x-forwarded-for"] = xff + ", " + e.sourceIP
	} else {
		e.headers["x-forwarded-for"] = e.sourceIP
	}
	e.headers["x-forwarded-proto"] = "http"
	if r.TLS != nil {
		e.headers["x-forwarded-proto"] = "https"
	}
	if la, ok := r.Context().Value(http.LocalAddrContextKey).(net.Addr); ok {
		if _, port, err := net.SplitHostPort(la.String()); err == nil {
			e.headers["x-forwarded-port"] = port
		}
	}
	if _, ok := e.headers["x-amzn-trace-id"]; !ok {
		e.headers["x-amzn-trace-id"] = traceID(e.now)
	}
	if q := r.URL.Query(); len(q) > 0 {
		e.query = make(map[string]string, len(q))
		for k, vs := range q {
			e.query[k] = strings.Join(vs, ",")
		}
	}
	if len(body) > 0 {
		if isTextContentType(r.Header.Get("Content-Type")) {
			e.body = string(body)
		} else {
			e.body = base64.StdEncoding.EncodeToString(body)
			e.base64 = true
		}
	}
	return e, true
}

// isTextContentType says whether API Gateway and function URLs pass a body
// of this type as text; anything else (form posts, binaries, no type) comes
// base64-encoded with isBase64Encoded true.
func isTextContentType(ct string) bool {
	mt, _, err := mime.ParseMediaType(ct)
	if err != nil {
		mt, _, _ = strings.Cut(strings.ToLower(strings.TrimSpace(ct)), ";")
	}
	switch {
	case mt == "":
		return false
	case strings.HasPrefix(mt, "text/"):
		return true
	case strings.HasSuffix(mt, "+json"), strings.HasSuffix(mt, "+xml"):
		return true
	}
	switch mt {
	case "application/json", "application/javascript", "application/xml", "application/yaml", "application/x-yaml", "application/graphql":
		return true
	}
	return false
}

func traceID(now time.Time) string {
	var b [12]byte
	_, _ = rand.Read(b[:])
	return fmt.Sprintf("Root=1-%08x-%s", now.Unix(), hex.EncodeToString(b[:]))
}

// apigwRequestID looks like API Gateway's requestId ("JKJaXmPLvHcESHA=").
func apigwRequestID() string {
	var b [10]byte
	_, _ = rand.Read(b[:])
	return base64.StdEncoding.EncodeToString(b[:])
}

func writeJSONMessage(w http.ResponseWriter, status int, key, msg string) {
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(status)
	fmt.Fprintf(w, "{%q:%q}", key, msg)
}

// writeResponse writes a handler's response; it reports false (and writes
// nothing) when the response cannot be written as AWS would.
func writeResponse(w http.ResponseWriter, status int, headers map[string]string, multi map[string][]string, cookies []string, body string, b64 bool) error {
	if status < 100 || status > 599 {
		return fmt.Errorf("invalid statusCode %d", status)
	}
	raw := []byte(body)
	if b64 {
		var err error
		if raw, err = base64.StdEncoding.DecodeString(body); err != nil {
			return fmt.Errorf("isBase64Encoded is true but the body is not base64: %w", err)
		}
	}
	h := w.Header()
	for k, vs := range multi {
		for _, v := range vs {
			h.Add(k, v)
		}
	}
	for k, v := range headers {
		h.Set(k, v)
	}
	for _, c := range cookies {
		h.Add("Set-Cookie", c)
	}
	if h.Get("Content-Type") == "" && len(raw) > 0 {
		h.Set("Content-Type", "application/json")
	}
	h.Set("Content-Length", strconv.Itoa(len(raw)))
	w.WriteHeader(status)
	_, _ = w.Write(raw)
	return nil
}

// FunctionURL serves h as a function URL does: every request, whatever its
// path, becomes an events.LambdaFunctionURLRequest. Function errors,
// timeouts and malformed responses answer 502; bodies over 6 MB 413.
func FunctionURL(h FunctionURLHandler, opts ...HTTPOption) http.Handler {
	cfg := newHTTPConfig(FunctionURLBodyLimit, opts)
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		e, ok := readHTTPEvent(w, r, cfg.bodyLimit, func(w http.ResponseWriter) {
			writeJSONMessage(w, http.StatusRequestEntityTooLarge, "Message", "Request must be smaller than 6291456 bytes for the InvokeFunction operation")
		})
		if !ok {
			return
		}
		host := e.host
		if h, _, err := net.SplitHostPort(host); err == nil {
			host = h
		}
		prefix, _, _ := strings.Cut(host, ".")
		requestID := newUUID()
		ev := events.LambdaFunctionURLRequest{
			Version:               "2.0",
			RawPath:               e.rawPath,
			RawQueryString:        e.rawQuery,
			Cookies:               e.cookies,
			Headers:               e.headers,
			QueryStringParameters: e.query,
			Body:                  e.body,
			IsBase64Encoded:       e.base64,
			RequestContext: events.LambdaFunctionURLRequestContext{
				AccountID:    "anonymous",
				RequestID:    requestID,
				APIID:        prefix,
				DomainName:   e.host,
				DomainPrefix: prefix,
				Time:         e.now.UTC().Format("02/Jan/2006:15:04:05 -0700"),
				TimeEpoch:    e.now.UnixMilli(),
				HTTP: events.LambdaFunctionURLRequestContextHTTPDescription{
					Method: e.method, Path: e.path, Protocol: e.protocol, SourceIP: e.sourceIP, UserAgent: e.ua,
				},
			},
		}
		resp, invID, err := invoke(r.Context(), cfg.logger, cfg.function, cfg.timeout, func(ctx context.Context) (events.LambdaFunctionURLResponse, error) {
			return h(ctx, ev)
		})
		w.Header().Set("X-Amzn-Requestid", invID)
		if err != nil {
			cfg.logger.Error("function URL invocation failed", "function", cfg.function, "request_id", invID, "path", e.path, "error", err)
			writeJSONMessage(w, http.StatusBadGateway, "Message", "Internal Server Error")
			return
		}
		if err := writeResponse(w, resp.StatusCode, resp.Headers, nil, resp.Cookies, resp.Body, resp.IsBase64Encoded); err != nil {
			cfg.logger.Error("function URL response is malformed", "function", cfg.function, "request_id", invID, "error", err)
			writeJSONMessage(w, http.StatusBadGateway, "Message", "Internal Server Error")
		}
	})
}
