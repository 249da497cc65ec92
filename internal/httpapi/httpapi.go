// Package httpapi is Razorbill's HTTP API (../shared/api.md) as API Gateway
// HTTP API (v2) handlers: routing, authentication, Idempotency-Key, strict
// JSON decoding and the error envelope. It works behind an explicit route or
// the $default route (it routes on the raw path itself), decodes base64
// bodies, and never shows a client the text of an internal error.
package httpapi

import (
	"bytes"
	"context"
	"crypto/sha256"
	"crypto/subtle"
	"encoding/base64"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"strings"
	"sync"
	"time"

	"github.com/aws/aws-lambda-go/events"

	"github.com/razorbill/razorbill/internal/apperr"
	"github.com/razorbill/razorbill/internal/billing"
	"github.com/razorbill/razorbill/internal/ids"
	"github.com/razorbill/razorbill/internal/logx"
)

// MaxBody is the largest request body accepted.
const MaxBody = 1 << 20

// Request is one API call as the handlers see it.
type Request struct {
	Method    string
	Path      string
	Params    map[string]string
	Query     map[string]string
	Headers   map[string]string // lower-case names
	Body      []byte
	RequestID string
	// Set by authentication.
	TenantID string
	KeyID    string
	Key      billing.APIKey // the authenticating key (zero for the admin token)
	Scope    billing.Scope
}

// Response is a handler's answer.
type Response struct {
	Status  int
	Body    any
	Headers map[string]string
}

// HandlerFunc serves one route.
type HandlerFunc func(ctx context.Context, r *Request) (Response, error)

// Auth says what a route needs.
type Auth int

const (
	AuthNone   Auth = iota // health
	AuthAdmin              // the admin token
	AuthTenant             // an API key, tenant level (api-keys)
	AuthScoped             // an API key and X-Environment-ID
)

// Route is one method + path template ("/api/v1/customers/{id}").
type Route struct {
	Method  string
	Pattern string
	Auth    Auth
	Handle  HandlerFunc
	// Secret marks a route whose answer carries a secret shown only once:
	// an Idempotency-Key replay returns it with the secret removed.
	Secret bool
	parts  []string
}

// Authenticator resolves credentials.
type Authenticator interface {
	APIKeyByHash(ctx context.Context, hash string) (billing.APIKey, bool, error)
	Environment(ctx context.Context, tenantID, envID string) (billing.Environment, error)
	TouchAPIKey(ctx context.Context, tenantID, keyID string, at time.Time) error
}

// IdempotencyStore keeps Idempotency-Key records.
type IdempotencyStore interface {
	BeginIdempotent(ctx context.Context, sc billing.Scope, key, hash string, now time.Time, inProgressFor, keepFor time.Duration) (billing.IdempotencyRecord, bool, error)
	CompleteIdempotent(ctx context.Context, sc billing.Scope, key string, status int, body string) error
	ReleaseIdempotent(ctx context.Context, sc billing.Scope, key string) error
}

// Router dispatches requests to routes.
type Router struct {
	routes     []*Route
	auth       Authenticator
	idem       IdempotencyStore
	adminToken func(context.Context) (string, error)
	log        *slog.Logger
	now        func() time.Time

	touchMu sync.Mutex
	touched map[string]time.Time // key id → when this instance last recorded its use

	mounts []mount // path prefixes served by their own handler (Mount)
}

// NewRouter builds a router. adminToken returns the bootstrap admin token.
func NewRouter(auth Authenticator, idem IdempotencyStore, adminToken func(context.Context) (string, error), log *slog.Logger, now func() time.Time) *Router {
	if now == nil {
		now = time.Now
	}
	return &Router{auth: auth, idem: idem, adminToken: adminToken, log: log, now: now}
}

// Add registers routes.
func (rt *Router) Add(routes ...Route) {
	for _, r := range routes {
		r := r
		r.parts = strings.Split(strings.Trim(r.Pattern, "/"), "/")
		rt.routes = append(rt.routes, &r)
	}
}

// Routes lists the registered routes as "METHOD /pattern".
func (rt *Router) Routes() []string {
	out := make([]string, 0, len(rt.routes))
	for _, r := range rt.routes {
		out = append(out, r.Method+" "+r.Pattern)
	}
	return out
}

func match(parts []string, path string) (map[string]string, bool) {
	segs := strings.Split(strings.Trim(path, "/"), "/")
	if len(segs) != len(parts) {
		return nil, false
	}
	var params map[string]string
	for i, p := range parts {
		if strings.HasPrefix(p, "{") && strings.HasSuffix(p, "}") {
			if segs[i] == "" {
				return nil, false
			}
			if params == nil {
				params = map[string]string{}
			}
			params[p[1:len(p)-1]] = segs[i]
			continue
		}
		if p != segs[i] {
			return nil, false
		}
	}
	return params, true
}

// Handle is the Lambda handler for API Gateway HTTP API events.
func (rt *Router) Handle(ctx context.Context, ev events.APIGatewayV2HTTPRequest) (events.APIGatewayV2HTTPResponse, error) {
	if h := rt.mounted(ev); h != nil {
		return h(ctx, ev)
	}
	start := rt.now()
	r := &Request{
		Method:    strings.ToUpper(ev.RequestContext.HTTP.Method),
		Path:      ev.RawPath,
		Query:     ev.QueryStringParameters,
		Headers:   make(map[string]string, len(ev.Headers)),
		RequestID: ev.RequestContext.RequestID,
	}
	if r.Path == "" {
		r.Path = ev.RequestContext.HTTP.Path
	}
	if r.RequestID == "" {
		r.RequestID = ids.New(ids.Request)
	}
	for k, v := range ev.Headers {
		r.Headers[strings.ToLower(k)] = v
	}
	ctx = logx.With(ctx, "request_id", r.RequestID)
	resp, err := rt.serveSafely(ctx, r, ev)
	out := rt.write(ctx, r, resp, err)
	rt.log.InfoContext(ctx, "request", "method", r.Method, "path", r.Path, "status", out.StatusCode,
		"tenant_id", r.TenantID, "environment_id", r.Scope.EnvironmentID, "duration_ms", rt.now().Sub(start).Milliseconds())
	return out, nil
}

// serveSafely turns a handler panic into a logged 500, so no input can kill
// the process (and with it every other request a warm Lambda holds).
func (rt *Router) serveSafely(ctx context.Context, r *Request, ev events.APIGatewayV2HTTPRequest) (resp Response, err error) {
	defer func() {
		if p := recover(); p != nil {
			rt.log.ErrorContext(ctx, "handler panicked", "method", r.Method, "path", r.Path, "panic", fmt.Sprint(p))
			resp, err = Response{}, apperr.E(apperr.Internal, "internal_error", "the request could not be completed")
		}
	}()
	return rt.serve(ctx, r, ev)
}

// idKinds maps a collection segment to the id prefix its {id} must carry.
var idKinds = map[string]string{
	"tenants": ids.Tenant, "api-keys": ids.APIKey, "customers": ids.Customer, "invoices": ids.Invoice,
	"payments": ids.Payment, "refunds": ids.Refund, "gateway-events": ids.Event, "meters": ids.Meter, "plans": ids.Plan, "subscriptions": ids.Subscription,
}

// checkIDs refuses a path id of another kind than its collection's
// (/customers/inv_…) as not found, before any handler reads or writes.
func checkIDs(parts []string, path string) error {
	segs := strings.Split(strings.Trim(path, "/"), "/")
	for i, p := range parts {
		if !strings.HasPrefix(p, "{") || i == 0 || i >= len(segs) {
			continue
		}
		prefix, ok := idKinds[parts[i-1]]
		if !ok {
			continue
		}
		if id := segs[i]; !ids.Valid(prefix, id) {
			return apperr.E(apperr.NotFound, "not_found", "no %s with id %q", strings.TrimSuffix(parts[i-1], "s"), truncateID(id))
		}
	}
	return nil
}

func truncateID(id string) string {
	if len(id) > 64 {
		return id[:64] + "…"
	}
	return id
}

func (rt *Router) serve(ctx context.Context, r *Request, ev events.APIGatewayV2HTTPRequest) (Response, error) {
	var route *Route
	methodMismatch := false
	for _, cand := range rt.routes {
		params, ok := match(cand.parts, r.Path)
		if !ok {
			continue
		}
		if cand.Method != r.Method {
			methodMismatch = true
			continue
		}
		route, r.Params = cand, params
		break
	}
	if route == nil {
		if methodMismatch {
			return Response{}, &apperr.Error{Kind: apperr.Invalid, Code: "method_not_allowed", Message: fmt.Sprintf("%s is not allowed on %s", r.Method, r.Path), Status: http.StatusMethodNotAllowed}
		}
		return Response{}, apperr.E(apperr.NotFound, "route_not_found", "no route %s %s", r.Method, r.Path)
	}
	body := ev.Body
	if len(body) > MaxBody*4/3+4 {
		return Response{}, tooLarge()
	}
	if ev.IsBase64Encoded {
		b, err := base64.StdEncoding.DecodeString(body)
		if err != nil {
			return Response{}, apperr.E(apperr.Invalid, "invalid_body", "the body is not valid base64")
		}
		r.Body = b
	} else {
		r.Body = []byte(body)
	}
	if len(r.Body) > MaxBody {
		return Response{}, tooLarge()
	}
	if err := rt.authenticate(ctx, r, route.Auth); err != nil {
		return Response{}, err
	}
	if err := checkIDs(route.parts, r.Path); err != nil {
		return Response{}, err
	}
	if r.TenantID != "" {
		ctx = logx.With(ctx, "tenant_id", r.TenantID, "environment_id", r.Scope.EnvironmentID)
	}
	if r.Method == http.MethodPost {
		if key, ok := r.Headers["idempotency-key"]; ok {
			return rt.idempotent(ctx, r, route, key)
		}
	}
	return route.Handle(ctx, r)
}

func tooLarge() error {
	return apperr.E(apperr.TooLarge, "body_too_large", "the request body is larger than %d bytes", MaxBody)
}

func hashKey(s string) string {
	h := sha256.Sum256([]byte(s))
	return hex.EncodeToString(h[:])
}

func (rt *Router) authenticate(ctx context.Context, r *Request, need Auth) error {
	if need == AuthNone {
		return nil
	}
	authz := r.Headers["authorization"]
	token, ok := strings.CutPrefix(authz, "Bearer ")
	if !ok || strings.TrimSpace(token) == "" {
		return apperr.E(apperr.Unauthorized, "unauthorized", "send an API key as 'Authorization: Bearer <key>'")
	}
	token = strings.TrimSpace(token)
	if need == AuthAdmin {
		want, err := rt.adminToken(ctx)
		if err != nil {
			return err
		}
		if want == "" || subtle.ConstantTimeCompare([]byte(token), []byte(want)) != 1 {
			return apperr.E(apperr.Unauthorized, "unauthorized", "the admin token is not valid")
		}
		r.Scope = billing.Scope{TenantID: "admin", EnvironmentID: "admin"}
		return nil
	}
	hash := hashKey(token)
	k, found, err := rt.auth.APIKeyByHash(ctx, hash)
	if err != nil {
		return err
	}
	if !found || k.RevokedAt != nil || subtle.ConstantTimeCompare([]byte(k.Hash), []byte(hash)) != 1 {
		return apperr.E(apperr.Unauthorized, "unauthorized", "the API key is not valid or has been revoked")
	}
	if k.Expired(rt.now()) {
		return apperr.E(apperr.Unauthorized, "key_expired", "the API key expired at %s; issue a new one", k.ExpiresAt.UTC().Format(time.RFC3339))
	}
	if !k.CanWrite() && r.Method != http.MethodGet && r.Method != http.MethodHead {
		return apperr.E(apperr.Forbidden, "key_read_only", "this API key is read-only; %s needs a write key", r.Method)
	}
	rt.touch(ctx, k)
	r.TenantID, r.KeyID, r.Key = k.TenantID, k.ID, k
	r.Scope = billing.Scope{TenantID: k.TenantID, EnvironmentID: "tenant"}
	if need == AuthTenant {
		return nil
	}
	envID := strings.TrimSpace(r.Headers["x-environment-id"])
	if envID == "" {
		return apperr.E(apperr.Unauthorized, "environment_required", "send the environment as 'X-Environment-ID: env_…'")
	}
	if !k.AllowsEnvironment(envID) {
		return apperr.E(apperr.Forbidden, "environment_forbidden", "this API key cannot use environment %s", envID)
	}
	if _, err := rt.auth.Environment(ctx, k.TenantID, envID); err != nil {
		if apperr.Is(err, apperr.NotFound) {
			return apperr.E(apperr.Forbidden, "environment_forbidden", "this API key cannot use environment %s", envID)
		}
		return err
	}
	r.Scope = billing.Scope{TenantID: k.TenantID, EnvironmentID: envID}
	return nil
}

// touch records a key's last use at most once an hour per instance, so a
// busy key costs one write an hour, not one per request. A failure is logged
// and never fails the request.
func (rt *Router) touch(ctx context.Context, k billing.APIKey) {
	now := rt.now()
	rt.touchMu.Lock()
	if rt.touched == nil {
		rt.touched = map[string]time.Time{}
	}
	last, seen := rt.touched[k.ID]
	if seen && now.Sub(last) < time.Hour || !seen && k.LastUsedAt != nil && now.Sub(*k.LastUsedAt) < time.Hour {
		rt.touchMu.Unlock()
		return
	}
	rt.touched[k.ID] = now
	rt.touchMu.Unlock()
	if err := rt.auth.TouchAPIKey(ctx, k.TenantID, k.ID, now); err != nil {
		rt.log.WarnContext(ctx, "could not record the API key's last use", "key_id", k.ID, "error", err.Error())
	}
}

const (
	idemInProgressFor = 60 * time.Second
	idemKeepFor       = 24 * time.Hour
	// idemSettleTimeout bounds the release or completion of a claim, which
	// runs on a context detached from the request's.
	idemSettleTimeout = 2 * time.Second
)

func (rt *Router) idempotent(ctx context.Context, r *Request, route *Route, key string) (Response, error) {
	if key == "" || len(key) > 255 {
		return Response{}, apperr.InvalidField("validation_failed", "Idempotency-Key", "Idempotency-Key must be 1–255 characters")
	}
	h := sha256.New()
	fmt.Fprintf(h, "%s\n%s\n", r.Method, r.Path)
	h.Write(r.Body)
	reqHash := hex.EncodeToString(h.Sum(nil))
	scopedKey := key
	rec, started, err := rt.idem.BeginIdempotent(ctx, r.Scope, scopedKey, reqHash, rt.now(), idemInProgressFor, idemKeepFor)
	if err != nil {
		return Response{}, err
	}
	if !started {
		if subtle.ConstantTimeCompare([]byte(rec.RequestHash), []byte(reqHash)) != 1 {
			return Response{}, &apperr.Error{Kind: apperr.Conflict, Code: "idempotency_key_reused", Field: "Idempotency-Key", Status: http.StatusUnprocessableEntity,
				Message: "this Idempotency-Key was used with a different request; use a new key"}
		}
		if rec.Status != billing.IdempotencyCompleted {
			return Response{}, apperr.E(apperr.Conflict, "idempotency_in_progress", "a request with this Idempotency-Key is still being processed; retry shortly")
		}
		return Response{Status: rec.ResponseStatus, Body: json.RawMessage(rec.ResponseBody), Headers: map[string]string{"Idempotent-Replayed": "true"}}, nil
	}
	resp, herr := route.Handle(ctx, r)
	status, body := rt.render(resp, herr)
	// The claim is released or completed even when the request's context
	// has ended (a handler cut short by the function's deadline): otherwise
	// the key would stay "in progress" for idemInProgressFor.
	ctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), idemSettleTimeout)
	defer cancel()
	if status >= 500 || !final(status, herr) {
		if err := rt.idem.ReleaseIdempotent(ctx, r.Scope, scopedKey); err != nil {
			rt.log.ErrorContext(ctx, "idempotency release failed", "error", err)
		}
		return resp, herr
	}
	stored := body
	if route.Secret {
		stored = withoutSecrets(body)
	}
	if err := rt.idem.CompleteIdempotent(ctx, r.Scope, scopedKey, status, string(stored)); err != nil {
		rt.log.ErrorContext(ctx, "idempotency complete failed", "error", err)
	}
	return Response{Status: status, Body: json.RawMessage(body), Headers: resp.Headers}, nil
}

// final reports whether an outcome may be stored under an Idempotency-Key:
// a throttle or a lost race (concurrent_update, *_in_progress) says "retry",
// so storing it for 24 h would make the client's retry fail for as long.
func final(status int, err error) bool {
	if status == http.StatusTooManyRequests || apperr.Retryable(err) {
		return false
	}
	if e := apperr.As(err); e != nil && (e.Code == apperr.CodeConcurrentUpdate || strings.HasSuffix(e.Code, "_in_progress")) {
		return false
	}
	return true
}

func (rt *Router) render(resp Response, err error) (int, []byte) {
	if err != nil {
		status, env := apperr.Envelope(err)
		b, _ := json.Marshal(env)
		return status, b
	}
	status := resp.Status
	if status == 0 {
		status = http.StatusOK
	}
	if raw, ok := resp.Body.(json.RawMessage); ok {
		return status, raw
	}
	var buf bytes.Buffer
	enc := json.NewEncoder(&buf)
	enc.SetEscapeHTML(false)
	if err := enc.Encode(resp.Body); err != nil {
		status, env := apperr.Envelope(apperr.Wrap(err, apperr.Internal, "", "encode response"))
		b, _ := json.Marshal(env)
		return status, b
	}
	return status, bytes.TrimRight(buf.Bytes(), "\n")
}

func (rt *Router) write(ctx context.Context, r *Request, resp Response, err error) events.APIGatewayV2HTTPResponse {
	if err != nil {
		level := slog.LevelInfo
		if apperr.HTTPStatus(err) >= 500 {
			level = slog.LevelError
		}
		rt.log.Log(ctx, level, "request failed", "method", r.Method, "path", r.Path, "error", err.Error())
	}
	status, body := rt.render(resp, err)
	headers := map[string]string{"Content-Type": "application/json; charset=utf-8", "X-Request-Id": r.RequestID}
	for k, v := range resp.Headers {
		headers[k] = v
	}
	return events.APIGatewayV2HTTPResponse{StatusCode: status, Headers: headers, Body: string(body)}
}

// Decode reads a JSON object strictly into v: unknown fields, wrong types,
// trailing data and an empty body are 400s naming the field.
func Decode(body []byte, v any) error {
	if len(bytes.TrimSpace(body)) == 0 {
		return apperr.E(apperr.Invalid, "invalid_json", "the request body is empty; send a JSON object")
	}
	if err := checkKeys(body); err != nil {
		return err
	}
	dec := json.NewDecoder(bytes.NewReader(body))
	dec.DisallowUnknownFields()
	if err := dec.Decode(v); err != nil {
		return jsonError(err)
	}
	if _, err := dec.Token(); !errors.Is(err, io.EOF) {
		return apperr.E(apperr.Invalid, "invalid_json", "the request body has data after the JSON object")
	}
	return nil
}

// checkKeys refuses an object with a key given twice, also in another case
// ({"name": "a", "NAME": "b"}): encoding/json would match both to one field
// case-insensitively and keep the last, so what was stored would depend on
// the order of keys a client happened to send. Syntax errors are left to
// the decoder, which reports them with their offset.
func checkKeys(body []byte) error {
	dec := json.NewDecoder(bytes.NewReader(body))
	dec.UseNumber()
	type frame struct {
		seen   map[string]bool
		object bool
		key    bool // the next string token is a key
	}
	var stack []*frame
	for {
		tok, err := dec.Token()
		if err != nil {
			return nil
		}
		var top *frame
		if len(stack) > 0 {
			top = stack[len(stack)-1]
		}
		switch t := tok.(type) {
		case json.Delim:
			switch t {
			case '{', '[':
				if top != nil && top.object {
					top.key = true
				}
				stack = append(stack, &frame{seen: map[string]bool{}, object: t == '{', key: t == '{'})
			default:
				stack = stack[:len(stack)-1]
			}
			continue
		case string:
			if top != nil && top.object && top.key {
				k := strings.ToLower(t)
				if top.seen[k] {
					return apperr.InvalidField("duplicate_field", t, "the field %q appears more than once (keys are matched without regard to case)", t)
				}
				top.seen[k] = true
				top.key = false
				continue
			}
		}
		if top != nil && top.object {
			top.key = true
		}
	}
}

func jsonError(err error) error {
	var syn *json.SyntaxError
	var typ *json.UnmarshalTypeError
	switch {
	case errors.As(err, &syn):
		return apperr.E(apperr.Invalid, "invalid_json", "the body is not valid JSON (at byte %d)", syn.Offset)
	case errors.As(err, &typ):
		field := typ.Field
		if field == "" {
			return apperr.E(apperr.Invalid, "invalid_json", "the body must be a JSON object")
		}
		return apperr.InvalidField("validation_failed", field, "%s must be a %s, not a JSON %s", field, typeName(typ.Type.Kind().String()), typ.Value)
	case errors.Is(err, io.ErrUnexpectedEOF):
		return apperr.E(apperr.Invalid, "invalid_json", "the body is truncated JSON")
	case strings.HasPrefix(err.Error(), "json: unknown field "):
		f := strings.Trim(strings.TrimPrefix(err.Error(), "json: unknown field "), `"`)
		return apperr.InvalidField("validation_failed", f, "unknown field %q", f)
	}
	return apperr.E(apperr.Invalid, "invalid_json", "the body is not valid JSON")
}

func typeName(k string) string {
	switch k {
	case "map", "struct":
		return "JSON object"
	case "slice":
		return "JSON array"
	case "int", "int64", "int32":
		return "whole number"
	}
	return k
}

// Decimal is an amount or quantity that may arrive as a JSON string or
// number; its text is kept exactly (no float ever). A value of another JSON
// type is kept as Bad, so the validation that knows the field's name can
// reject it.
type Decimal struct {
	Text string
	Set  bool
	Bad  string
}

// UnmarshalJSON accepts "12.50" or 12.50.
func (d *Decimal) UnmarshalJSON(b []byte) error {
	b = bytes.TrimSpace(b)
	if len(b) == 0 || string(b) == "null" {
		return nil
	}
	d.Set = true
	switch {
	case b[0] == '"':
		var s string
		if err := json.Unmarshal(b, &s); err != nil {
			return err
		}
		d.Text = strings.TrimSpace(s)
	case (b[0] >= '0' && b[0] <= '9') || b[0] == '-':
		if bytes.ContainsAny(b, "eE") {
			d.Bad = "write the number as a plain decimal, without an exponent"
		}
		d.Text = string(b)
	default:
		d.Bad = "must be a decimal string like \"100.00\" or a number"
	}
	return nil
}

// Check reports a Bad value or a missing required one against field.
func (d Decimal) Check(field string, required bool) error {
	if d.Bad != "" {
		return apperr.InvalidField("validation_failed", field, "%s %s", field, d.Bad)
	}
	if required && !d.Set {
		return apperr.InvalidField("validation_failed", field, "%s is required", field)
	}
	return nil
}

// Time is an RFC 3339 timestamp field; like Decimal it keeps a bad value
// for Check to reject by field name.
type Time struct {
	T   time.Time
	Set bool
	Bad string
}

// UnmarshalJSON accepts an RFC 3339 string.
func (t *Time) UnmarshalJSON(b []byte) error {
	if string(b) == "null" {
		return nil
	}
	var s string
	if err := json.Unmarshal(b, &s); err != nil {
		t.Bad = "must be an RFC 3339 timestamp string like \"2026-12-01T00:00:00Z\""
		return nil
	}
	v, err := time.Parse(time.RFC3339, s)
	if err != nil {
		t.Bad = fmt.Sprintf("%q is not an RFC 3339 timestamp like \"2026-12-01T00:00:00Z\"", s)
		return nil
	}
	t.T, t.Set = v.UTC(), true
	return nil
}

// Check reports a bad timestamp against field.
func (t Time) Check(field string) error {
	if t.Bad != "" {
		return apperr.InvalidField("validation_failed", field, "%s %s", field, t.Bad)
	}
	return nil
}

// Ptr returns the time or nil.
func (t Time) Ptr() *time.Time {
	if !t.Set {
		return nil
	}
	v := t.T
	return &v
}
