package httpapi_test

import (
	"context"
	"sync/atomic"
	"testing"

	"github.com/aws/aws-lambda-go/events"

	"github.com/razorbill/razorbill/internal/apperr"
	"github.com/razorbill/razorbill/internal/httpapi"
)

// TestAClaimIsReleasedAfterTheRequestContextEnds: a handler cut short by the
// function's deadline (its context cancelled, a transient failure) must
// still release its Idempotency-Key claim, so the client's retry runs at
// once instead of meeting idempotency_in_progress for a minute.
func TestAClaimIsReleasedAfterTheRequestContextEnds(t *testing.T) {
	t.Parallel()
	a := newAPI(t)
	c := a.tenant("Acme").c()
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	var calls atomic.Int32
	a.rt.Add(httpapi.Route{Method: "POST", Pattern: "/api/v1/cut-short", Auth: httpapi.AuthScoped, Handle: func(context.Context, *httpapi.Request) (httpapi.Response, error) {
		if calls.Add(1) == 1 {
			cancel() // the deadline passes while the handler runs
			return httpapi.Response{}, apperr.E(apperr.Transient, "razorpay_unavailable", "Razorpay did not answer in time; try again")
		}
		return httpapi.Response{Status: 201, Body: map[string]any{"ok": true}}, nil
	}})
	ev := events.APIGatewayV2HTTPRequest{RouteKey: "$default", RawPath: "/api/v1/cut-short", Body: `{}`, Headers: map[string]string{
		"content-type": "application/json", "authorization": "Bearer " + c.key, "x-environment-id": c.env, "idempotency-key": "k-cut-1"}}
	ev.RequestContext.HTTP.Method = "POST"
	ev.RequestContext.HTTP.Path = ev.RawPath
	out, err := a.rt.Handle(ctx, ev)
	if err != nil || out.StatusCode != 503 {
		t.Fatalf("first attempt: %v %d %s, want 503", err, out.StatusCode, out.Body)
	}
	if ctx.Err() == nil {
		t.Fatal("the request context was not cancelled")
	}
	a.expect(a.do(c, "POST", "/api/v1/cut-short", `{}`, "Idempotency-Key", "k-cut-1"), 201, "")
	if calls.Load() != 2 {
		t.Fatalf("%d handler calls, want 2", calls.Load())
	}
}
