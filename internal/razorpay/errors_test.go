package razorpay

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"strings"
	"testing"

	"github.com/razorbill/razorbill/internal/apperr"
)

func TestClassify(t *testing.T) {
	t.Parallel()
	body := func(code, desc, field string) []byte {
		return fmt.Appendf(nil, `{"error":{"code":%q,"description":%q,"field":%q,"source":"business","step":"payment_initiation","reason":"input_validation_failed","metadata":{}}}`, code, desc, field)
	}
	cases := []struct {
		name   string
		status int
		body   []byte
		kind   apperr.Kind
		code   string
		field  string
		msg    string
	}{
		{"401", 401, []byte(`{"error":{"code":"BAD_REQUEST_ERROR","description":"The api key provided is invalid","source":"NA","step":"NA","reason":"NA","metadata":{}}}`),
			apperr.Unauthorized, CodeInvalidCredentials, "", "The api key provided is invalid"},
		{"400 with field", 400, body("BAD_REQUEST_ERROR", "The receipt may not be greater than 40 characters.", "receipt"),
			apperr.Permanent, CodeBadRequest, "receipt", "The receipt may not be greater than 40 characters."},
		{"400 unknown id", 400, body("BAD_REQUEST_ERROR", "The id provided does not exist", "id"), apperr.NotFound, CodeNotFound, "", "does not exist"},
		{"404", 404, body("BAD_REQUEST_ERROR", "The requested URL was not found on the server.", ""), apperr.NotFound, CodeNotFound, "", "not found"},
		{"404 html", 404, []byte("<html>not found</html>"), apperr.NotFound, CodeNotFound, "", ""},
		{"429", 429, body("BAD_REQUEST_ERROR", "Too many requests", ""), apperr.Throttled, CodeThrottled, "", "rate limiting"},
		{"500", 500, body("SERVER_ERROR", "We are facing some trouble", ""), apperr.Transient, CodeUnavailable, "", "unavailable"},
		{"502 gateway", 502, body("GATEWAY_ERROR", "Gateway failed", ""), apperr.Transient, CodeUnavailable, "", "Gateway failed"},
		{"502 html", 502, []byte("<html><title>502 Bad Gateway</title></html>"), apperr.Transient, CodeUnavailable, "", "without its JSON"},
		{"400 empty body", 400, nil, apperr.Transient, CodeUnavailable, "", "without its JSON"},
		{"409", 409, body("BAD_REQUEST_ERROR", "conflict", "x"), apperr.Permanent, CodeBadRequest, "x", "conflict"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			e := classify("create invoice", c.status, c.body)
			if e.Kind != c.kind || e.Code != c.code || e.Field != c.field || !strings.Contains(e.Message, c.msg) {
				t.Fatalf("got kind %v code %s field %q message %q", e.Kind, e.Code, e.Field, e.Message)
			}
			// api.md: a refusal reaches our client as 502, never as the 401
			// that would say its own API key is bad.
			if c.status == 401 && apperr.HTTPStatus(e) != 502 {
				t.Fatalf("Razorpay's 401 answers our client %d, want 502", apperr.HTTPStatus(e))
			}
			var api *APIError
			if !errors.As(e, &api) || api.Status != c.status || api.Op != "create invoice" {
				t.Fatalf("cause %#v", e.Err)
			}
			if c.body != nil && bytes.HasPrefix(c.body, []byte("{")) {
				var w struct {
					Error struct{ Code, Description, Field string }
				}
				_ = json.Unmarshal(c.body, &w)
				if api.Code != w.Error.Code || api.Description != w.Error.Description || api.Field != w.Error.Field {
					t.Fatalf("APIError %+v lost the body's fields %+v", api, w.Error)
				}
			}
		})
	}
	// source/step/reason "NA" mean nothing.
	e := classify("x", 401, cases[0].body)
	var api *APIError
	errors.As(e, &api)
	if api.Source != "" || api.Step != "" || api.Reason != "" {
		t.Fatalf("NA kept: %+v", api)
	}
	e = classify("x", 400, body("BAD_REQUEST_ERROR", "d", "f"))
	errors.As(e, &api)
	if api.Source != "business" || api.Step != "payment_initiation" || api.Reason != "input_validation_failed" {
		t.Fatalf("source/step/reason lost: %+v", api)
	}
}

func TestRetryablePolicy(t *testing.T) {
	t.Parallel()
	if !unknownOutcome(classify("x", 503, []byte(`{"error":{"code":"SERVER_ERROR"}}`))) || !unknownOutcome(transportError("x", errors.New("EOF"))) {
		t.Fatal("a 5xx or no answer must count as unknown outcome")
	}
	if unknownOutcome(classify("x", 429, []byte(`{"error":{"code":"BAD_REQUEST_ERROR"}}`))) || unknownOutcome(classify("x", 400, []byte(`{"error":{"description":"d"}}`))) {
		t.Fatal("a 429 or 400 is not an unknown outcome")
	}
	if !IsDuplicateReference(classify("x", 400, []byte(`{"error":{"code":"BAD_REQUEST_ERROR","description":"payment link with given reference id already exists"}}`))) ||
		!IsDuplicateReference(classify("x", 400, []byte(`{"error":{"description":"payment link with given reference id already attempted"}}`))) ||
		IsDuplicateReference(classify("x", 400, []byte(`{"error":{"description":"The amount must be atleast INR 1.00"}}`))) {
		t.Fatal("IsDuplicateReference")
	}
}

func TestCredentialsNeverShowTheSecret(t *testing.T) {
	t.Parallel()
	cr := Credentials{KeyID: "rzp_test_ABCDEF", KeySecret: "s3cr3t-value-xyz"}
	var buf bytes.Buffer
	log := slog.New(slog.NewJSONHandler(&buf, nil))
	log.Info("call", "razorpay", cr)
	js, _ := json.Marshal(struct{ C Credentials }{cr})
	for _, s := range []string{cr.String(), fmt.Sprintf("%v %+v %#v %s", cr, cr, cr, cr), buf.String(), string(js)} {
		if strings.Contains(s, cr.KeySecret) {
			t.Fatalf("secret printed: %s", s)
		}
		if !strings.Contains(s, cr.KeyID) {
			t.Fatalf("key id missing: %s", s)
		}
	}
	if cr.Mode() != "test" || (Credentials{KeyID: "rzp_live_x"}).Mode() != "live" || (Credentials{KeyID: "x"}).Mode() != "unknown" {
		t.Fatal("Mode")
	}
}

func TestTolerantDecoding(t *testing.T) {
	t.Parallel()
	var inv Invoice
	err := json.Unmarshal([]byte(`{"id":"inv_1","amount":"30000","amount_paid":0,"amount_due":3e4,"currency":"inr","notes":[],
		"line_items":[{"name":"a","amount":null,"unit_amount":100,"quantity":"3"}],"customer_details":[],"expire_by":null,"partial_payment":"1"}`), &inv)
	if err != nil {
		t.Fatal(err)
	}
	if inv.Amount != 30000 || inv.AmountDue != 30000 || inv.Currency != "INR" || inv.Notes == nil || !inv.PartialPayment ||
		len(inv.LineItems) != 1 || inv.LineItems[0].Amount != 100 || inv.LineItems[0].Quantity != 3 || !inv.ExpireBy.IsZero() {
		t.Fatalf("%+v", inv)
	}
	for _, bad := range []string{`{"amount":1.5}`, `{"amount":"1.5"}`, `{"amount":true}`, `{"amount":1e300}`} {
		var p Payment
		if err := json.Unmarshal([]byte(bad), &p); err == nil {
			t.Errorf("accepted inexact amount %s as %d", bad, p.Amount)
		}
	}
	var list collection[Customer]
	if err := json.Unmarshal([]byte(`{"entity":"collection","count":1,"items":[{"id":"cust_1","notes":{"a":"b"},"created_at":1}]}`), &list); err != nil ||
		len(list.Items) != 1 || list.Items[0].Notes["a"] != "b" {
		t.Fatalf("collection: %+v %v", list, err)
	}
	var links linkList
	if err := json.Unmarshal([]byte(`{"payment_links":[{"id":"plink_1","payments":[{"payment_id":"pay_1","amount":100}]}]}`), &links); err != nil ||
		len(links.Items) != 1 || links.Items[0].Payments[0].PaymentID != "pay_1" {
		t.Fatalf("links: %+v %v", links, err)
	}
}
