package lambdahost

import (
	"bytes"
	"context"
	"encoding/base64"
	"encoding/json"
	"errors"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-lambda-go/events"
	"github.com/aws/aws-lambda-go/lambdacontext"
)

// recorder is an API Gateway handler that keeps the last event.
type recorder struct {
	name string
	got  chan events.APIGatewayV2HTTPRequest
}

func newRecorder(name string) *recorder {
	return &recorder{name: name, got: make(chan events.APIGatewayV2HTTPRequest, 10)}
}

func (r *recorder) handle(ctx context.Context, e events.APIGatewayV2HTTPRequest) (events.APIGatewayV2HTTPResponse, error) {
	r.got <- e
	lc, _ := lambdacontext.FromContext(ctx)
	_, hasDeadline := ctx.Deadline()
	body, _ := json.Marshal(map[string]any{"fn": r.name, "request_id": lc.AwsRequestID, "deadline": hasDeadline})
	return events.APIGatewayV2HTTPResponse{StatusCode: 200, Headers: map[string]string{"Content-Type": "application/json"}, Body: string(body)}, nil
}

func (r *recorder) last(t *testing.T) events.APIGatewayV2HTTPRequest {
	t.Helper()
	select {
	case e := <-r.got:
		return e
	default:
		t.Fatalf("%s was not invoked", r.name)
		return events.APIGatewayV2HTTPRequest{}
	}
}

func do(t *testing.T, h http.Handler, method, target string, body io.Reader, hdr map[string]string) *httptest.ResponseRecorder {
	t.Helper()
	req := httptest.NewRequest(method, target, body)
	for k, v := range hdr {
		req.Header.Set(k, v)
	}
	w := httptest.NewRecorder()
	h.ServeHTTP(w, req)
	return w
}

func TestMuxRoutesLikeAPIGateway(t *testing.T) {
	t.Parallel()
	payments, api, item, def := newRecorder("payments"), newRecorder("api"), newRecorder("item"), newRecorder("default")
	m := NewMux()
	m.Handle("POST /api/v1/payments", payments.handle)
	m.Handle("ANY /api/v1/payments/{id}/{proxy+}", payments.handle)
	m.Handle("GET /api/v1/payments/{id}", payments.handle)
	m.Handle("ANY /api/v1/{proxy+}", api.handle)
	m.Handle("GET /api/v1/items/{id}", item.handle)
	m.Handle("GET /api/v1/items/special", item.handle)

	tests := []struct {
		method, path string
		want         *recorder
		routeKey     string
		params       map[string]string
	}{
		{"POST", "/api/v1/payments", payments, "POST /api/v1/payments", nil},
		{"GET", "/api/v1/payments", api, "ANY /api/v1/{proxy+}", map[string]string{"proxy": "payments"}},
		{"GET", "/api/v1/payments/pay_1", payments, "GET /api/v1/payments/{id}", map[string]string{"id": "pay_1"}},
		{"DELETE", "/api/v1/payments/pay_1", api, "ANY /api/v1/{proxy+}", map[string]string{"proxy": "payments/pay_1"}},
		{"POST", "/api/v1/payments/pay_1/refunds/x", payments, "ANY /api/v1/payments/{id}/{proxy+}", map[string]string{"id": "pay_1", "proxy": "refunds/x"}},
		{"GET", "/api/v1/items/special", item, "GET /api/v1/items/special", nil},
		{"GET", "/api/v1/items/a%20b", item, "GET /api/v1/items/{id}", map[string]string{"id": "a b"}},
		{"GET", "/api/v1/customers/cus_1/invoices", api, "ANY /api/v1/{proxy+}", map[string]string{"proxy": "customers/cus_1/invoices"}},
	}
	for _, tc := range tests {
		w := do(t, m, tc.method, tc.path, nil, nil)
		if w.Code != 200 {
			t.Fatalf("%s %s: status %d %s", tc.method, tc.path, w.Code, w.Body)
		}
		e := tc.want.last(t)
		if e.RouteKey != tc.routeKey || e.RequestContext.RouteKey != tc.routeKey {
			t.Errorf("%s %s: routeKey %q, want %q", tc.method, tc.path, e.RouteKey, tc.routeKey)
		}
		if len(e.PathParameters) != len(tc.params) {
			t.Errorf("%s %s: pathParameters %v, want %v", tc.method, tc.path, e.PathParameters, tc.params)
		}
		for k, v := range tc.params {
			if e.PathParameters[k] != v {
				t.Errorf("%s %s: pathParameters[%s] = %q, want %q", tc.method, tc.path, k, e.PathParameters[k], v)
			}
		}
	}
	// No route and no $default: API Gateway's 404.
	w := do(t, m, "GET", "/health", nil, nil)
	if w.Code != 404 || strings.TrimSpace(w.Body.String()) != `{"message":"Not Found"}` {
		t.Errorf("unrouted: %d %s", w.Code, w.Body)
	}
	// $default catches the rest.
	m.Handle(DefaultRoute, def.handle)
	if w := do(t, m, "GET", "/health", nil, nil); w.Code != 200 || def.last(t).RouteKey != "$default" {
		t.Errorf("$default: %d", w.Code)
	}
}

func TestBadRouteKeysPanic(t *testing.T) {
	t.Parallel()
	for _, k := range []string{"GET", "FETCH /x", "GET x", "GET /a/{proxy+}/b", "GET /a//b", "GET /a/b{c}"} {
		func() {
			defer func() {
				if recover() == nil {
					t.Errorf("Handle(%q) did not panic", k)
				}
			}()
			NewMux().Handle(k, newRecorder("x").handle)
		}()
	}
}

func TestAPIGatewayEventShape(t *testing.T) {
	t.Parallel()
	rec := newRecorder("api")
	h := APIGateway(rec.handle, "POST /api/v1/invoices/{id}/finalize")
	body := `{"amount":"100.00"}`
	req := httptest.NewRequest("POST", "/api/v1/invoices/inv_1/finalize?expand=lines&tag=a&tag=b", strings.NewReader(body))
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("Authorization", "Bearer k")
	req.Header.Add("X-Multi", "one")
	req.Header.Add("X-Multi", "two")
	req.Header.Set("Cookie", "a=1; b=2")
	req.Header.Set("User-Agent", "curl/8")
	req.RemoteAddr = "192.0.2.7:5555"
	w := httptest.NewRecorder()
	h.ServeHTTP(w, req)
	if w.Code != 200 {
		t.Fatalf("status %d %s", w.Code, w.Body)
	}
	e := rec.last(t)
	if e.Version != "2.0" || e.RawPath != "/api/v1/invoices/inv_1/finalize" || e.RawQueryString != "expand=lines&tag=a&tag=b" {
		t.Errorf("version/rawPath/rawQuery = %q %q %q", e.Version, e.RawPath, e.RawQueryString)
	}
	if e.QueryStringParameters["expand"] != "lines" || e.QueryStringParameters["tag"] != "a,b" {
		t.Errorf("queryStringParameters = %v", e.QueryStringParameters)
	}
	if e.PathParameters["id"] != "inv_1" {
		t.Errorf("pathParameters = %v", e.PathParameters)
	}
	if e.Headers["authorization"] != "Bearer k" || e.Headers["x-multi"] != "one,two" || e.Headers["content-type"] != "application/json" {
		t.Errorf("headers = %v", e.Headers)
	}
	if _, ok := e.Headers["cookie"]; ok {
		t.Errorf("cookie header kept: %v", e.Headers)
	}
	if len(e.Cookies) != 2 || e.Cookies[0] != "a=1" || e.Cookies[1] != "b=2" {
		t.Errorf("cookies = %v", e.Cookies)
	}
	if e.Body != body || e.IsBase64Encoded {
		t.Errorf("body = %q base64=%v", e.Body, e.IsBase64Encoded)
	}
	hc := e.RequestContext.HTTP
	if hc.Method != "POST" || hc.Path != e.RawPath || hc.SourceIP != "192.0.2.7" || hc.UserAgent != "curl/8" || hc.Protocol != "HTTP/1.1" {
		t.Errorf("requestContext.http = %+v", hc)
	}
	if e.RequestContext.RequestID == "" || e.RequestContext.Stage != "$default" || e.RequestContext.TimeEpoch == 0 || e.RequestContext.Time == "" {
		t.Errorf("requestContext = %+v", e.RequestContext)
	}
	if e.Headers["x-forwarded-for"] != "192.0.2.7" || e.Headers["x-amzn-trace-id"] == "" {
		t.Errorf("forwarding headers = %v", e.Headers)
	}
	if w.Header().Get("Apigw-Requestid") != e.RequestContext.RequestID {
		t.Errorf("apigw-requestid %q != %q", w.Header().Get("Apigw-Requestid"), e.RequestContext.RequestID)
	}
	var out map[string]any
	_ = json.Unmarshal(w.Body.Bytes(), &out)
	if out["request_id"] == "" || out["deadline"] != true {
		t.Errorf("handler context: %v (want a lambdacontext request id and a deadline)", out)
	}

	// A second request gets a fresh request id.
	h.ServeHTTP(httptest.NewRecorder(), httptest.NewRequest("POST", "/api/v1/invoices/inv_2/finalize", nil))
	if e2 := rec.last(t); e2.RequestContext.RequestID == e.RequestContext.RequestID || e2.Body != "" || e2.IsBase64Encoded || e2.QueryStringParameters != nil {
		t.Errorf("second event: %+v", e2)
	}
}

func TestBinaryAndFormBodiesAreBase64(t *testing.T) {
	t.Parallel()
	rec := newRecorder("api")
	h := APIGateway(rec.handle)
	for ct, text := range map[string]bool{
		"application/json; charset=utf-8":   true,
		"text/plain":                        true,
		"application/vnd.api+json":          true,
		"application/octet-stream":          false,
		"image/png":                         false,
		"application/x-www-form-urlencoded": false,
		"":                                  false,
	} {
		raw := []byte("a=1&b=\x00\xff")
		do(t, h, "POST", "/x", bytes.NewReader(raw), map[string]string{"Content-Type": ct})
		e := rec.last(t)
		if e.IsBase64Encoded == text {
			t.Errorf("%q: isBase64Encoded = %v", ct, e.IsBase64Encoded)
		}
		got := []byte(e.Body)
		if e.IsBase64Encoded {
			got, _ = base64.StdEncoding.DecodeString(e.Body)
		}
		if !bytes.Equal(got, raw) {
			t.Errorf("%q: body round trip %q", ct, got)
		}
	}
}

func TestResponsesAreWrittenLikeAPIGateway(t *testing.T) {
	t.Parallel()
	png := []byte{0x89, 'P', 'N', 'G', 0}
	h := APIGateway(func(ctx context.Context, e events.APIGatewayV2HTTPRequest) (events.APIGatewayV2HTTPResponse, error) {
		switch e.RawPath {
		case "/png":
			return events.APIGatewayV2HTTPResponse{
				StatusCode: 201, Headers: map[string]string{"Content-Type": "image/png"},
				MultiValueHeaders: map[string][]string{"X-Many": {"1", "2"}},
				Cookies:           []string{"s=1; HttpOnly", "t=2"},
				Body:              base64.StdEncoding.EncodeToString(png), IsBase64Encoded: true,
			}, nil
		case "/error":
			return events.APIGatewayV2HTTPResponse{}, errors.New("boom: secret detail")
		case "/panic":
			panic("kaboom")
		case "/nostatus":
			return events.APIGatewayV2HTTPResponse{Body: "{}"}, nil
		}
		return events.APIGatewayV2HTTPResponse{StatusCode: 204}, nil
	})
	w := do(t, h, "GET", "/png", nil, nil)
	if w.Code != 201 || !bytes.Equal(w.Body.Bytes(), png) || w.Header().Get("Content-Type") != "image/png" {
		t.Errorf("png: %d %q %v", w.Code, w.Body.Bytes(), w.Header())
	}
	if got := w.Header().Values("X-Many"); len(got) != 2 {
		t.Errorf("multi-value header = %v", got)
	}
	if got := w.Header().Values("Set-Cookie"); len(got) != 2 || got[0] != "s=1; HttpOnly" {
		t.Errorf("set-cookie = %v", got)
	}
	for _, p := range []string{"/error", "/panic", "/nostatus"} {
		w := do(t, h, "GET", p, nil, nil)
		if w.Code != 500 || strings.TrimSpace(w.Body.String()) != `{"message":"Internal Server Error"}` {
			t.Errorf("%s: %d %s", p, w.Code, w.Body)
		}
	}
	slow := NewMux(WithTimeout(50 * time.Millisecond))
	slow.Handle(DefaultRoute, func(ctx context.Context, e events.APIGatewayV2HTTPRequest) (events.APIGatewayV2HTTPResponse, error) {
		<-ctx.Done()
		time.Sleep(2 * timeoutGrace)
		return events.APIGatewayV2HTTPResponse{StatusCode: 200}, nil
	})
	if w := do(t, slow, "GET", "/slow", nil, nil); w.Code != 503 {
		t.Errorf("timeout: %d %s", w.Code, w.Body)
	}
}

func TestBodyLimits(t *testing.T) {
	t.Parallel()
	rec := newRecorder("api")
	h := APIGateway(rec.handle)
	big := strings.Repeat("x", APIGatewayBodyLimit+1)
	if w := do(t, h, "POST", "/x", strings.NewReader(big), map[string]string{"Content-Type": "text/plain"}); w.Code != 413 {
		t.Errorf("API Gateway over 10 MB: %d", w.Code)
	}
	if w := do(t, h, "POST", "/x", strings.NewReader(big[:APIGatewayBodyLimit]), map[string]string{"Content-Type": "text/plain"}); w.Code != 200 {
		t.Errorf("API Gateway at 10 MB: %d", w.Code)
	}
	fu := FunctionURL(func(ctx context.Context, e events.LambdaFunctionURLRequest) (events.LambdaFunctionURLResponse, error) {
		return events.LambdaFunctionURLResponse{StatusCode: 200}, nil
	})
	if w := do(t, fu, "POST", "/x", strings.NewReader(big[:FunctionURLBodyLimit+1]), map[string]string{"Content-Type": "text/plain"}); w.Code != 413 {
		t.Errorf("function URL over 6 MB: %d", w.Code)
	}
	if w := do(t, fu, "POST", "/x", strings.NewReader(big[:FunctionURLBodyLimit]), map[string]string{"Content-Type": "text/plain"}); w.Code != 200 {
		t.Errorf("function URL at 6 MB: %d", w.Code)
	}
}

func TestFunctionURLEventShape(t *testing.T) {
	t.Parallel()
	var got events.LambdaFunctionURLRequest
	h := FunctionURL(func(ctx context.Context, e events.LambdaFunctionURLRequest) (events.LambdaFunctionURLResponse, error) {
		got = e
		if e.RawPath == "/fail" {
			return events.LambdaFunctionURLResponse{}, errors.New("boom")
		}
		return events.LambdaFunctionURLResponse{StatusCode: 200, Body: `{"ok":true}`, Cookies: []string{"c=1"}}, nil
	}, WithFunctionName("webhook-receiver"))
	body := `{"event":"payment.captured"}`
	req := httptest.NewRequest("POST", "http://abc123.lambda-url.us-east-1.on.aws/api/v1/webhooks/razorpay/tnt_1/env_1?x=1", strings.NewReader(body))
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("X-Razorpay-Signature", "sig")
	req.Header.Set("X-Razorpay-Event-Id", "evt_1")
	w := httptest.NewRecorder()
	h.ServeHTTP(w, req)
	if w.Code != 200 || w.Body.String() != `{"ok":true}` || w.Header().Get("Set-Cookie") != "c=1" || w.Header().Get("X-Amzn-Requestid") == "" {
		t.Fatalf("response %d %s %v", w.Code, w.Body, w.Header())
	}
	if got.Version != "2.0" || got.RawPath != "/api/v1/webhooks/razorpay/tnt_1/env_1" || got.RawQueryString != "x=1" || got.QueryStringParameters["x"] != "1" {
		t.Errorf("event = %+v", got)
	}
	if got.Body != body || got.IsBase64Encoded || got.Headers["x-razorpay-signature"] != "sig" || got.Headers["x-razorpay-event-id"] != "evt_1" {
		t.Errorf("body/headers = %q %v", got.Body, got.Headers)
	}
	rc := got.RequestContext
	if rc.RequestID == "" || rc.DomainPrefix != "abc123" || rc.HTTP.Method != "POST" || rc.HTTP.Path != got.RawPath || rc.HTTP.SourceIP == "" {
		t.Errorf("requestContext = %+v", rc)
	}
	if w := do(t, h, "POST", "/fail", nil, nil); w.Code != 502 {
		t.Errorf("function error: %d", w.Code)
	}
}
