package localstack_test

import (
	"context"
	"net/http"
	"testing"

	"github.com/razorbill/razorbill/internal/openapicheck"
)

// openapiClient is the client every test's API calls go through: each
// request to apiURL and its response (errors too) are checked against
// docs/openapi.yaml, and a mismatch fails t naming the operation.
func openapiClient(t *testing.T, apiURL string) *http.Client {
	t.Helper()
	doc, err := openapicheck.Load(context.Background(), openapicheck.SpecPath())
	if err != nil {
		t.Fatal(err)
	}
	tr, err := openapicheck.NewTransport(doc, apiURL, nil, func(msg string) { t.Error(msg) })
	if err != nil {
		t.Fatal(err)
	}
	return &http.Client{Transport: tr}
}
