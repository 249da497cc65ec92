package main

import (
	"testing"

	"github.com/razorbill/razorbill/internal/lambdahost"
)

// TestStreamFilterCriteriaHoldBackSyncOff evaluates the FilterCriteria of
// the synthesized relay mapping (with the local poller's implementation of
// Lambda event filtering) on records as DynamoDB streams them: a customer
// created, or an invoice finalized, in an environment whose connection does
// not sync it (no sync_on_create / sync_on_finalize flag, or false) reaches
// neither the relay nor a queue; with the flag it does.
func TestStreamFilterCriteriaHoldBackSyncOff(t *testing.T) {
	patterns := mappingPatterns(t, "stream-relay") // the usage-aggregator's: cdkusage_test.go
	filters, err := lambdahost.CompileFilters(patterns)
	if err != nil || len(filters) == 0 {
		t.Fatalf("stream filter criteria %q: %v", patterns, err)
	}
	customer := func(flag string) string {
		return `{"eventName":"INSERT","eventSource":"aws:dynamodb","dynamodb":{"NewImage":{"entity":{"S":"customer"},"id":{"S":"cus_1"},"sync_status":{"S":"NOT_SYNCED"}` + flag + `}}}`
	}
	invoice := func(flag string) string {
		return `{"eventName":"MODIFY","eventSource":"aws:dynamodb","dynamodb":{"OldImage":{"entity":{"S":"invoice"},"invoice_status":{"S":"DRAFT"}},"NewImage":{"entity":{"S":"invoice"},"invoice_status":{"S":"FINALIZED"},"amount_due":{"N":"10000"}` + flag + `}}}`
	}
	for name, c := range map[string]struct {
		record string
		want   bool
	}{
		"customer, connection ON_DEMAND or absent":  {customer(""), false},
		"customer, flag false":                      {customer(`,"sync_on_create":{"BOOL":false}`), false},
		"customer, connection ON_CREATE":            {customer(`,"sync_on_create":{"BOOL":true}`), true},
		"invoice finalized, outbound sync off":      {invoice(""), false},
		"invoice finalized, flag false":             {invoice(`,"sync_on_finalize":{"BOOL":false}`), false},
		"invoice finalized, outbound sync on":       {invoice(`,"sync_on_finalize":{"BOOL":true}`), true},
		"invoice finalized, the customer's flag":    {invoice(`,"sync_on_create":{"BOOL":true}`), false},
		"customer, the invoice's flag":              {customer(`,"sync_on_finalize":{"BOOL":true}`), false},
		"invoice finalized, flag as a string value": {invoice(`,"sync_on_finalize":{"S":"true"}`), false},
	} {
		got, err := lambdahost.MatchAny(filters, []byte(c.record))
		if err != nil {
			t.Fatalf("%s: %v", name, err)
		}
		if got != c.want {
			t.Errorf("%s: passes the stream filter criteria = %v, want %v", name, got, c.want)
		}
	}
}
