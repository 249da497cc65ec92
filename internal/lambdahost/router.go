package lambdahost

import (
	"context"
	"fmt"
	"net/http"
	"net/url"
	"strings"

	"github.com/aws/aws-lambda-go/events"
)

// DefaultRoute is API Gateway's catch-all route key.
const DefaultRoute = "$default"

var routeMethods = map[string]bool{"ANY": true, "GET": true, "POST": true, "PUT": true, "PATCH": true, "DELETE": true, "HEAD": true, "OPTIONS": true}

type segKind int

const (
	segGreedy  segKind = iota // {name+}
	segParam                  // {name}
	segLiteral                // text
)

type segment struct {
	kind segKind
	text string // literal text or parameter name
}

type route struct {
	key     string
	method  string
	segs    []segment
	handler APIGatewayHandler
	cfg     httpConfig
}

// Mux is an API Gateway HTTP API: routes ("POST /api/v1/payments",
// "GET /api/v1/payments/{id}", "ANY /api/v1/{proxy+}", "$default") each
// backed by a function. Like API Gateway it picks the most specific route:
// literal segments beat {param} segments, which beat a greedy {proxy+};
// a route with a method beats ANY; $default comes last. Without a match
// (and no $default) it answers 404 {"message":"Not Found"}.
type Mux struct {
	routes   []*route
	fallback *route
	defaults []HTTPOption
}

// NewMux returns an empty Mux; opts apply to every route (Handle may add more).
func NewMux(opts ...HTTPOption) *Mux { return &Mux{defaults: opts} }

// APIGateway serves h behind the given route keys, or behind $default when
// none are given.
func APIGateway(h APIGatewayHandler, routes ...string) http.Handler {
	m := NewMux()
	if len(routes) == 0 {
		routes = []string{DefaultRoute}
	}
	for _, rk := range routes {
		m.Handle(rk, h)
	}
	return m
}

// Handle routes routeKey to h. It panics on a malformed or duplicate route
// key, as CDK would fail to synthesize it.
func (m *Mux) Handle(routeKey string, h APIGatewayHandler, opts ...HTTPOption) {
	rt, err := parseRoute(routeKey)
	if err != nil {
		panic("lambdahost: " + err.Error())
	}
	rt.handler = h
	rt.cfg = newHTTPConfig(APIGatewayBodyLimit, append(append([]HTTPOption(nil), m.defaults...), opts...))
	if rt.key == DefaultRoute {
		if m.fallback != nil {
			panic("lambdahost: duplicate route $default")
		}
		m.fallback = rt
		return
	}
	for _, o := range m.routes {
		if o.method == rt.method && sameShape(o.segs, rt.segs) {
			panic(fmt.Sprintf("lambdahost: route %q conflicts with %q", routeKey, o.key))
		}
	}
	m.routes = append(m.routes, rt)
}

func sameShape(a, b []segment) bool {
	if len(a) != len(b) {
		return false
	}
	for i := range a {
		if a[i].kind != b[i].kind || (a[i].kind == segLiteral && a[i].text != b[i].text) {
			return false
		}
	}
	return true
}

func parseRoute(key string) (*route, error) {
	if key == DefaultRoute {
		return &route{key: key}, nil
	}
	method, path, ok := strings.Cut(key, " ")
	if !ok || !routeMethods[method] || !strings.HasPrefix(path, "/") {
		return nil, fmt.Errorf("route key %q: want \"$default\" or \"METHOD /path\" (METHOD one of ANY GET POST PUT PATCH DELETE HEAD OPTIONS)", key)
	}
	rt := &route{key: key, method: method}
	if path == "/" {
		return rt, nil
	}
	parts := strings.Split(path[1:], "/")
	for i, p := range parts {
		switch {
		case p == "":
			return nil, fmt.Errorf("route key %q: empty path segment", key)
		case strings.HasPrefix(p, "{") && strings.HasSuffix(p, "+}"):
			if i != len(parts)-1 {
				return nil, fmt.Errorf("route key %q: a greedy {%s} must be the last segment", key, p[1:len(p)-1])
			}
			rt.segs = append(rt.segs, segment{kind: segGreedy, text: p[1 : len(p)-2]})
		case strings.HasPrefix(p, "{") && strings.HasSuffix(p, "}"):
			rt.segs = append(rt.segs, segment{kind: segParam, text: p[1 : len(p)-1]})
		case strings.ContainsAny(p, "{}"):
			return nil, fmt.Errorf("route key %q: a path variable must be a whole segment", key)
		default:
			rt.segs = append(rt.segs, segment{kind: segLiteral, text: p})
		}
	}
	return rt, nil
}

// match returns the path parameters when rt matches the escaped path.
func (rt *route) match(method string, escapedPath string) (map[string]string, bool) {
	if rt.method != "ANY" && rt.method != method {
		return nil, false
	}
	var parts []string
	if escapedPath != "/" && escapedPath != "" {
		parts = strings.Split(strings.TrimPrefix(escapedPath, "/"), "/")
	}
	var params map[string]string
	set := func(k, v string) {
		if params == nil {
			params = map[string]string{}
		}
		params[k] = v
	}
	for i, s := range rt.segs {
		if s.kind == segGreedy {
			rest := strings.Join(parts[min(i, len(parts)):], "/")
			if rest == "" {
				return nil, false
			}
			v, err := url.PathUnescape(rest)
			if err != nil {
				return nil, false
			}
			set(s.text, v)
			return params, true
		}
		if i >= len(parts) || parts[i] == "" {
			return nil, false
		}
		v, err := url.PathUnescape(parts[i])
		if err != nil {
			return nil, false
		}
		switch s.kind {
		case segLiteral:
			if v != s.text {
				return nil, false
			}
		case segParam:
			set(s.text, v)
		}
	}
	if len(parts) != len(rt.segs) {
		return nil, false
	}
	return params, true
}

// moreSpecific reports whether a beats b when both match.
func moreSpecific(a, b *route) bool {
	for i := 0; i < len(a.segs) && i < len(b.segs); i++ {
		if a.segs[i].kind != b.segs[i].kind {
			return a.segs[i].kind > b.segs[i].kind
		}
	}
	if len(a.segs) != len(b.segs) { // only possible with a greedy tail: the longer prefix is more specific
		return len(a.segs) > len(b.segs)
	}
	return a.method != "ANY" && b.method == "ANY"
}

func (m *Mux) find(method, escapedPath string) (*route, map[string]string) {
	var best *route
	var bestParams map[string]string
	for _, rt := range m.routes {
		if p, ok := rt.match(method, escapedPath); ok && (best == nil || moreSpecific(rt, best)) {
			best, bestParams = rt, p
		}
	}
	if best == nil && m.fallback != nil {
		return m.fallback, nil
	}
	return best, bestParams
}

// ServeHTTP invokes the function of the matching route with an
// events.APIGatewayV2HTTPRequest and writes its response. Function errors
// and malformed responses answer 500 {"message":"Internal Server Error"},
// timeouts 503, bodies over 10 MB 413, as API Gateway does.
func (m *Mux) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	apigwID := apigwRequestID()
	w.Header().Set("Apigw-Requestid", apigwID)
	rt, params := m.find(r.Method, r.URL.EscapedPath())
	if rt == nil {
		writeJSONMessage(w, http.StatusNotFound, "message", "Not Found")
		return
	}
	e, ok := readHTTPEvent(w, r, rt.cfg.bodyLimit, func(w http.ResponseWriter) {
		writeJSONMessage(w, http.StatusRequestEntityTooLarge, "message", "Request Entity Too Large")
	})
	if !ok {
		return
	}
	ev := events.APIGatewayV2HTTPRequest{
		Version:               "2.0",
		RouteKey:              rt.key,
		RawPath:               e.rawPath,
		RawQueryString:        e.rawQuery,
		Cookies:               e.cookies,
		Headers:               e.headers,
		QueryStringParameters: e.query,
		PathParameters:        params,
		Body:                  e.body,
		IsBase64Encoded:       e.base64,
		RequestContext: events.APIGatewayV2HTTPRequestContext{
			RouteKey:     rt.key,
			AccountID:    LocalAccountID,
			Stage:        "$default",
			RequestID:    apigwID,
			APIID:        "local",
			DomainName:   e.host,
			DomainPrefix: strings.SplitN(e.host, ".", 2)[0],
			Time:         e.now.UTC().Format("02/Jan/2006:15:04:05 -0700"),
			TimeEpoch:    e.now.UnixMilli(),
			HTTP: events.APIGatewayV2HTTPRequestContextHTTPDescription{
				Method: e.method, Path: e.path, Protocol: e.protocol, SourceIP: e.sourceIP, UserAgent: e.ua,
			},
		},
	}
	h := rt.handler
	resp, invID, err := invoke(r.Context(), rt.cfg.logger, rt.cfg.function, rt.cfg.timeout, func(ctx context.Context) (events.APIGatewayV2HTTPResponse, error) {
		return h(ctx, ev)
	})
	log := rt.cfg.logger.With("function", rt.cfg.function, "route", rt.key, "request_id", invID, "apigw_request_id", apigwID)
	if err != nil {
		log.Error("API Gateway invocation failed", "error", err)
		if isTimeout(err) {
			writeJSONMessage(w, http.StatusServiceUnavailable, "message", "Service Unavailable")
			return
		}
		writeJSONMessage(w, http.StatusInternalServerError, "message", "Internal Server Error")
		return
	}
	if err := writeResponse(w, resp.StatusCode, resp.Headers, resp.MultiValueHeaders, resp.Cookies, resp.Body, resp.IsBase64Encoded); err != nil {
		log.Error("API Gateway response is malformed", "error", err)
		writeJSONMessage(w, http.StatusInternalServerError, "message", "Internal Server Error")
	}
}
