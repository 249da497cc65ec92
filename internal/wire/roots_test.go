package wire_test

import (
	"context"
	"io"
	"reflect"
	"slices"
	"strings"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"

	"github.com/razorbill/razorbill/internal/app"
	"github.com/razorbill/razorbill/internal/config"
	"github.com/razorbill/razorbill/internal/schema"
	"github.com/razorbill/razorbill/internal/wire/api"
	"github.com/razorbill/razorbill/internal/wire/paymentlinkcreator"
	"github.com/razorbill/razorbill/internal/wire/paymentreconciler"
	"github.com/razorbill/razorbill/internal/wire/streamrelay"
	"github.com/razorbill/razorbill/internal/wire/syncers"
	"github.com/razorbill/razorbill/internal/wire/webhookreceiver"
)

// lambdaEnv is what Lambda and infra/cdk give a function (placeholders:
// building a root dials nothing).
var lambdaEnv = map[string]string{
	"AWS_REGION": "ap-south-1", "AWS_ACCESS_KEY_ID": "ASIAEXAMPLE", "AWS_SECRET_ACCESS_KEY": "secret", "AWS_SESSION_TOKEN": "token",
	schema.Main.EnvVar:            "Razorbill-Table",
	schema.RazorpayEvents.EnvVar:  "https://sqs.ap-south-1.amazonaws.com/123456789012/Razorbill-razorpay-events.fifo",
	schema.CustomerSync.EnvVar:    "https://sqs.ap-south-1.amazonaws.com/123456789012/Razorbill-customer-sync",
	schema.InvoiceSync.EnvVar:     "https://sqs.ap-south-1.amazonaws.com/123456789012/Razorbill-invoice-sync",
	"RAZORBILL_KMS_KEY_ID":        "arn:aws:kms:ap-south-1:123456789012:key/00000000-0000-0000-0000-000000000000",
	"RAZORBILL_ADMIN_TOKEN_PARAM": "/razorbill/admin-token",
	"RAZORBILL_WEBHOOK_BASE_URL":  "https://abcdefghij.lambda-url.ap-south-1.on.aws",
}

func getenv(k string) string { return lambdaEnv[k] }

// full is internal/app's builder over the same environment: what the local
// stack runs. The roots must build the same handlers.
func full(t *testing.T) *app.Deps {
	t.Helper()
	awsCfg := aws.Config{Region: "ap-south-1"}
	d, err := app.LoadWithAWS(context.Background(), getenv, io.Discard, config.NeedTable|config.NeedEventsQueue|config.NeedSyncQueues|config.NeedSecrets|config.NeedAdmin|config.NeedWebhooks|config.NeedRazorpay, &awsCfg)
	if err != nil {
		t.Fatal(err)
	}
	return d
}

// sameShape fails unless a and b (pointers to structs of one type) set the
// same fields, with the same dynamic types: a field the full builder sets
// and a root forgets (or the reverse) shows here.
func sameShape(t *testing.T, name string, a, b any) {
	t.Helper()
	va, vb := reflect.ValueOf(a).Elem(), reflect.ValueOf(b).Elem()
	if va.Type() != vb.Type() {
		t.Fatalf("%s: %v vs %v", name, va.Type(), vb.Type())
	}
	for i := range va.NumField() {
		fa, fb := va.Field(i), vb.Field(i)
		if fa.IsZero() != fb.IsZero() {
			t.Errorf("%s.%s: set by one builder only (app zero: %v, root zero: %v)", name, va.Type().Field(i).Name, fa.IsZero(), fb.IsZero())
			continue
		}
		if fa.Kind() == reflect.Interface && !fa.IsNil() && fa.Elem().Type() != fb.Elem().Type() {
			t.Errorf("%s.%s: %v vs %v", name, va.Type().Field(i).Name, fa.Elem().Type(), fb.Elem().Type())
		}
	}
}

func TestRootsBuildWhatTheFullBuilderBuilds(t *testing.T) {
	t.Parallel()
	d := full(t)
	rx, err := webhookreceiver.Load(getenv, io.Discard)
	if err != nil {
		t.Fatal(err)
	}
	sameShape(t, "webhook.Receiver", d.WebhookReceiver(), rx)
	rl, err := streamrelay.Load(getenv, io.Discard)
	if err != nil {
		t.Fatal(err)
	}
	sameShape(t, "relay.Relay", d.Relay(), rl)
	rc, err := paymentreconciler.Load(getenv, io.Discard)
	if err != nil {
		t.Fatal(err)
	}
	sameShape(t, "reconcile.Reconciler", d.Reconciler(), rc)
	cw, err := syncers.Customers(getenv, io.Discard)
	if err != nil {
		t.Fatal(err)
	}
	sameShape(t, "customer syncworker.Worker", d.CustomerWorker(), cw)
	iw, err := syncers.Invoices(getenv, io.Discard)
	if err != nil {
		t.Fatal(err)
	}
	sameShape(t, "invoice syncworker.Worker", d.InvoiceWorker(), iw)
	if cw.MaxReceiveCount != schema.CustomerSync.MaxReceiveCount || iw.MaxReceiveCount != schema.InvoiceSync.MaxReceiveCount {
		t.Errorf("max receive counts %d/%d", cw.MaxReceiveCount, iw.MaxReceiveCount)
	}
	a, err := paymentlinkcreator.Build(getenv, io.Discard, paymentlinkcreator.Need)
	if err != nil {
		t.Fatal(err)
	}
	sameShape(t, "payments.Service", d.PaymentService(), a.PaymentService())

	apiRt, err := api.Load(getenv, io.Discard)
	if err != nil {
		t.Fatal(err)
	}
	if got, want := apiRt.Routes(), d.APIHandler().Routes(); !slices.Equal(got, want) {
		t.Errorf("api routes\n got %v\nwant %v", got, want)
	}
	plc, err := paymentlinkcreator.Load(getenv, io.Discard)
	if err != nil {
		t.Fatal(err)
	}
	if got, want := plc.Routes(), d.PaymentsHandler().Routes(); !slices.Equal(got, want) {
		t.Errorf("payment-link-creator routes\n got %v\nwant %v", got, want)
	}
}

// TestRootsFailInitNamingTheMissingVariable: a misconfigured function fails
// its init with the variable's name.
func TestRootsFailInitNamingTheMissingVariable(t *testing.T) {
	t.Parallel()
	without := func(k string) func(string) string {
		return func(n string) string {
			if n == k {
				return ""
			}
			return lambdaEnv[n]
		}
	}
	checks := []struct {
		name, missing string
		load          func(func(string) string) error
	}{
		{"webhook-receiver", schema.RazorpayEvents.EnvVar, func(g func(string) string) error { _, err := webhookreceiver.Load(g, io.Discard); return err }},
		{"stream-relay", schema.InvoiceSync.EnvVar, func(g func(string) string) error { _, err := streamrelay.Load(g, io.Discard); return err }},
		{"payment-reconciler", schema.Main.EnvVar, func(g func(string) string) error { _, err := paymentreconciler.Load(g, io.Discard); return err }},
		{"customer-syncer", "AWS_REGION", func(g func(string) string) error { _, err := syncers.Customers(g, io.Discard); return err }},
		{"payment-link-creator", "AWS_SECRET_ACCESS_KEY", func(g func(string) string) error { _, err := paymentlinkcreator.Load(g, io.Discard); return err }},
		{"api", "RAZORBILL_WEBHOOK_BASE_URL", func(g func(string) string) error { _, err := api.Load(g, io.Discard); return err }},
	}
	for _, c := range checks {
		if err := c.load(without(c.missing)); err == nil || !strings.Contains(err.Error(), c.missing) {
			t.Errorf("%s without %s: got %v", c.name, c.missing, err)
		}
	}
}
