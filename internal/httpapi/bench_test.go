package httpapi_test

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"sync/atomic"
	"testing"

	"github.com/aws/aws-lambda-go/events"
	"github.com/aws/smithy-go/middleware"

	"github.com/razorbill/razorbill/internal/ddbjson"
	"github.com/razorbill/razorbill/internal/dynamo"
	"github.com/razorbill/razorbill/internal/httpapi"
	"github.com/razorbill/razorbill/internal/logx"
	"github.com/razorbill/razorbill/internal/secrets"
	"github.com/razorbill/razorbill/internal/testenv"
)

// Allocations per request on the API's hot routes, through the real router
// and the real DynamoDB store against DynamoDB Local (testenv): what one
// Lambda invocation of the api function allocates, the AWS SDK's request
// signing and JSON included. ns/op is mostly DynamoDB Local's latency on
// this machine, not the function's CPU; allocs/op and B/op are the figures.

type benchAPI struct {
	rt        *httpapi.Router
	key, env  string
	invoiceID string
	calls     atomic.Int64 // DynamoDB operations (not counting SDK retries)
}

func newBenchAPI(b *testing.B) *benchAPI {
	b.Helper()
	env := testenv.AWS(b)
	a := &benchAPI{}
	cfg := env.Config.Copy()
	cfg.APIOptions = append(cfg.APIOptions, func(st *middleware.Stack) error {
		return st.Initialize.Add(middleware.InitializeMiddlewareFunc("benchCount", func(ctx context.Context, in middleware.InitializeInput, next middleware.InitializeHandler) (middleware.InitializeOutput, middleware.Metadata, error) {
			a.calls.Add(1)
			return next.HandleInitialize(ctx, in)
		}), middleware.After)
	})
	ddb, err := ddbjson.New(cfg)
	if err != nil {
		b.Fatal(err)
	}
	store := dynamo.New(ddb, env.Table())
	kek, err := secrets.NewLocalKEK([]byte("0123456789abcdef0123456789abcdef"))
	if err != nil {
		b.Fatal(err)
	}
	rt := httpapi.NewRouter(store, store, func(context.Context) (string, error) { return adminToken, nil }, logx.New(io.Discard, "info"), nil)
	ledger := &httpapi.Ledger{Store: store, Sealer: secrets.NewBox(kek), Verifier: fakeVerifier{},
		Sync:           env.SyncPublisher(),
		WebhookBaseURL: "https://hooks.example.test"}
	rt.Add(ledger.Routes()...)
	a.rt = rt

	var t struct {
		Environments []struct{ ID, Name string } `json:"environments"`
		APIKey       struct{ Key string }        `json:"api_key"`
	}
	a.must(b, a.req("POST", "/api/v1/tenants", adminToken, "", `{"name":"Bench"}`, ""), 201, &t)
	a.key = t.APIKey.Key
	for _, e := range t.Environments {
		if e.Name == "production" {
			a.env = e.ID
		}
	}
	var cus, inv struct{ ID string }
	a.must(b, a.req("POST", "/api/v1/customers", a.key, a.env, `{"external_id":"acct-1","name":"Ravi Kumar","email":"ravi@example.com","phone":"+919876543210"}`, ""), 201, &cus)
	a.must(b, a.req("POST", "/api/v1/invoices", a.key, a.env, `{"customer_id":"`+cus.ID+`","currency":"inr","line_items":[`+
		`{"display_name":"API calls","price_type":"USAGE","quantity":"1234567","unit_amount":"0.0015"},`+
		`{"display_name":"Platform fee","price_type":"FIXED","quantity":"1","unit_amount":"4999"}]}`, ""), 201, &inv)
	a.invoiceID = inv.ID
	return a
}

// req is an API Gateway HTTP API (payload 2.0) event as Lambda delivers it.
func (a *benchAPI) req(method, path, key, env, body, idem string) events.APIGatewayV2HTTPRequest {
	h := map[string]string{"content-type": "application/json", "authorization": "Bearer " + key}
	if env != "" {
		h["x-environment-id"] = env
	}
	if idem != "" {
		h["idempotency-key"] = idem
	}
	ev := events.APIGatewayV2HTTPRequest{Version: "2.0", RouteKey: "$default", RawPath: path, Headers: h, Body: body}
	ev.RequestContext.HTTP.Method = method
	ev.RequestContext.HTTP.Path = path
	ev.RequestContext.RequestID = "bench"
	return ev
}

func (a *benchAPI) must(b *testing.B, ev events.APIGatewayV2HTTPRequest, status int, out any) {
	b.Helper()
	resp, err := a.rt.Handle(context.Background(), ev)
	if err != nil || resp.StatusCode != status {
		b.Fatalf("%s %s: %d %s %v", ev.RequestContext.HTTP.Method, ev.RawPath, resp.StatusCode, resp.Body, err)
	}
	if out != nil {
		if err := json.Unmarshal([]byte(resp.Body), out); err != nil {
			b.Fatal(err)
		}
	}
}

func BenchmarkAPI(b *testing.B) {
	a := newBenchAPI(b)
	ctx := context.Background()
	run := func(b *testing.B, status int, next func(i int) events.APIGatewayV2HTTPRequest) {
		evs := make([]events.APIGatewayV2HTTPRequest, b.N)
		for i := range evs {
			evs[i] = next(i)
		}
		b.ReportAllocs()
		b.ResetTimer()
		before := a.calls.Load()
		for i := 0; i < b.N; i++ {
			resp, err := a.rt.Handle(ctx, evs[i])
			if err != nil || resp.StatusCode != status {
				b.Fatalf("%d %s %v", resp.StatusCode, resp.Body, err)
			}
		}
		b.ReportMetric(float64(a.calls.Load()-before)/float64(b.N), "ddbcalls/op")
	}
	b.Run("GET_invoice", func(b *testing.B) {
		ev := a.req("GET", "/api/v1/invoices/"+a.invoiceID, a.key, a.env, "", "")
		run(b, 200, func(int) events.APIGatewayV2HTTPRequest { return ev })
	})
	n := 0
	customer := func(idem bool) func(int) events.APIGatewayV2HTTPRequest {
		return func(int) events.APIGatewayV2HTTPRequest {
			n++
			body := fmt.Sprintf(`{"external_id":"acct-b%d","name":"Ravi Kumar","email":"ravi%d@example.com","phone":"+919876543210","metadata":{"plan":"pro"}}`, n, n)
			key := ""
			if idem {
				key = fmt.Sprintf("bench-idem-%d", n)
			}
			return a.req("POST", "/api/v1/customers", a.key, a.env, body, key)
		}
	}
	b.Run("POST_customer", func(b *testing.B) { run(b, 201, customer(false)) })
	b.Run("POST_customer_idempotency_key", func(b *testing.B) { run(b, 201, customer(true)) })
}
