package console

import (
	"context"
	"testing"

	"github.com/aws/aws-lambda-go/events"
)

// Building the console (the api function's start) parses no template: the
// pages are parsed when the first one is served (issue 17's init time).
func TestPagesAreParsedAtTheFirstPage(t *testing.T) {
	c := New(Options{SessionKey: func(context.Context) ([]byte, error) { return make([]byte, 32), nil }})
	if c.pages != nil {
		t.Fatal("New parsed the templates")
	}
	ev := events.APIGatewayV2HTTPRequest{RawPath: "/console/sign-in"}
	ev.RequestContext.HTTP.Method, ev.RequestContext.HTTP.Path = "GET", "/console/sign-in"
	res, err := c.Handle(context.Background(), ev)
	if err != nil || res.StatusCode != 200 || c.pages == nil {
		t.Fatalf("sign-in page: %d %v (parsed: %v)", res.StatusCode, err, c.pages != nil)
	}
}
