package wire_test

import (
	"context"
	"io"
	"strings"
	"testing"

	"github.com/aws/aws-lambda-go/events"

	"github.com/razorbill/razorbill/internal/wire/api"
)

// TestAPIServesTheConsole: the deployed api function's root and the full
// builder (the local stack) both serve the console's pages under /console/,
// and neither lists them among the API's routes.
func TestAPIServesTheConsole(t *testing.T) {
	t.Parallel()
	rt, err := api.Load(getenv, io.Discard)
	if err != nil {
		t.Fatal(err)
	}
	for name, h := range map[string]interface {
		Handle(context.Context, events.APIGatewayV2HTTPRequest) (events.APIGatewayV2HTTPResponse, error)
		Routes() []string
	}{"api root": rt, "full builder": full(t).APIHandler()} {
		ev := events.APIGatewayV2HTTPRequest{RawPath: "/console/sign-in", Headers: map[string]string{"host": "api.example"}}
		ev.RequestContext.HTTP.Method = "GET"
		out, err := h.Handle(context.Background(), ev)
		if err != nil || out.StatusCode != 200 || !strings.HasPrefix(out.Headers["Content-Type"], "text/html") || !strings.Contains(out.Body, `action="/console/sign-in"`) {
			t.Errorf("%s: GET /console/sign-in → %d %v %v %.200s", name, out.StatusCode, out.Headers, err, out.Body)
		}
		if len(out.Cookies) != 1 || !strings.Contains(out.Cookies[0], "HttpOnly") || !strings.Contains(out.Cookies[0], "Secure") || !strings.Contains(out.Cookies[0], "SameSite=Strict") {
			t.Errorf("%s: sign-in cookies %v", name, out.Cookies)
		}
		for _, r := range h.Routes() {
			if strings.Contains(r, "/console") {
				t.Errorf("%s lists %s as an API route", name, r)
			}
		}
	}
}
