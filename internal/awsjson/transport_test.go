package awsjson

import (
	"net/http"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	awshttp "github.com/aws/aws-sdk-go-v2/aws/transport/http"
)

// TestWithoutAnHTTPClientItIsTheSDKsTransport: with no HTTP client in the
// config (the deployed functions), requests go through a transport set up
// as the SDK's default one — 10 idle connections kept per host, not
// net/http's 2 — called directly.
func TestWithoutAnHTTPClientItIsTheSDKsTransport(t *testing.T) {
	c, err := New(aws.Config{Region: "ap-south-1"}, DynamoDB, nil)
	if err != nil {
		t.Fatal(err)
	}
	got, ok := c.rt.(*http.Transport)
	if !ok {
		t.Fatalf("transport %T, want the SDK's *http.Transport called directly", c.rt)
	}
	want := awshttp.NewBuildableClient().GetTransport()
	if got.MaxIdleConnsPerHost != want.MaxIdleConnsPerHost || got.MaxIdleConnsPerHost < 10 || got.MaxIdleConns != want.MaxIdleConns ||
		got.IdleConnTimeout != want.IdleConnTimeout || got.TLSHandshakeTimeout != want.TLSHandshakeTimeout ||
		got.TLSClientConfig == nil || got.TLSClientConfig.MinVersion != want.TLSClientConfig.MinVersion {
		t.Fatalf("transport %+v, want the SDK's defaults %+v", got, want)
	}
}
