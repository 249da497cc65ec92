package httpapi_test

import (
	"context"
	"io"
	"strings"
	"testing"

	"github.com/aws/aws-lambda-go/events"

	"github.com/razorbill/razorbill/internal/billing"
	"github.com/razorbill/razorbill/internal/logx"
	"github.com/razorbill/razorbill/internal/razorpay"
	"github.com/razorbill/razorbill/internal/schema"
	"github.com/razorbill/razorbill/internal/secrets"
	"github.com/razorbill/razorbill/internal/webhook"
)

// receiver is the webhook receiver over the same table (and the same local
// key) as the API.
func (a *api) receiver() *webhook.Receiver {
	kek, _ := secrets.NewLocalKEK([]byte("0123456789abcdef0123456789abcdef"))
	return &webhook.Receiver{Store: a.store, Secrets: secrets.NewBox(kek), Queue: a.env.Sender(schema.RazorpayEvents),
		Log: logx.New(io.Discard, "error")}
}

const hookBody = `{"entity":"event","account_id":"acc_Trust0000001","event":"payment.failed","contains":["payment"],"payload":{"payment":{"entity":{"id":"pay_T1","order_id":"order_T1","notes":[]}}},"created_at":1795400000}`

// webhookStatus posts hookBody signed with secret to t's sandbox endpoint.
func (a *api) webhookStatus(t tenant, secret, eventID string) int {
	a.t.Helper()
	req := events.LambdaFunctionURLRequest{RawPath: webhook.PathPrefix + t.id + "/" + t.sandbox, Body: hookBody,
		Headers: map[string]string{"X-Razorpay-Signature": razorpay.Sign([]byte(hookBody), secret), "X-Razorpay-Event-Id": eventID}}
	req.RequestContext.HTTP.Method = "POST"
	out, err := a.receiver().Handle(context.Background(), req)
	if err != nil {
		a.t.Fatal(err)
	}
	return out.StatusCode
}

func (t tenant) sb() creds { return creds{key: t.key, env: t.sandbox} }

// 15#3: webhook secrets are ≥ 20 characters; omitted on the first PUT,
// Razorbill generates one and shows it once.
func TestWebhookSecretIsLongOrGenerated(t *testing.T) {
	t.Parallel()
	a := newAPI(t)
	acme := a.tenant("Acme")
	put := map[string]any{"key_id": "rzp_test_abc", "key_secret": "s3cr3t-s3cr3t", "webhook_secret": "nineteen-chars-1234"}
	r := a.do(acme.sb(), "PUT", "/api/v1/connections/razorpay", put)
	a.expect(r, 400, "validation_failed")
	if r.str("error", "field") != "webhook_secret" {
		t.Fatalf("field: %s", r.Raw)
	}
	delete(put, "webhook_secret")
	r = a.do(acme.sb(), "PUT", "/api/v1/connections/razorpay", put, "Idempotency-Key", "conn-1")
	a.expect(r, 201, "")
	gen := r.str("webhook_secret_generated")
	if len(gen) < billing.MinWebhookSecretLen {
		t.Fatalf("no generated secret: %s", r.Raw)
	}
	// webhook_secret stays the masked hint (api.md: responses never show
	// secrets); the generated one is shown this once, in its own field.
	if ws := r.str("webhook_secret"); ws == gen || !strings.HasPrefix(ws, "••••") {
		t.Fatalf("webhook_secret %q, want the masked hint: %s", ws, r.Raw)
	}
	// A replay of the request does not show it again.
	if replay := a.do(acme.sb(), "PUT", "/api/v1/connections/razorpay", put, "Idempotency-Key", "conn-1"); strings.Contains(replay.Raw, gen) {
		t.Fatalf("the replay shows the generated secret: %s", replay.Raw)
	}
	if a.webhookStatus(acme, gen, "evt_gen") != 200 {
		t.Fatal("the generated secret does not verify webhooks")
	}
	if g := a.do(acme.sb(), "GET", "/api/v1/connections/razorpay", nil); strings.Contains(g.Raw, gen) || strings.Contains(g.Raw, "webhook_secret_generated") {
		t.Fatalf("GET shows the generated secret again: %s", g.Raw)
	}
	if r := a.do(acme.sb(), "PUT", "/api/v1/connections/razorpay", put); r.Status != 200 || strings.Contains(r.Raw, "webhook_secret_generated") {
		t.Fatalf("a later PUT without webhook_secret generated another: %d %s", r.Status, r.Raw)
	}
}

// 15#3: rotating A→B→C keeps A and B verifying (each for its own 24 h);
// revoke ends them at once; DELETE makes every webhook 404.
func TestRotatedSecretsVerifyUntilRevokedAndDeleteRefuses(t *testing.T) {
	t.Parallel()
	a := newAPI(t)
	acme := a.tenant("Acme")
	secrets := []string{"whsec_rotation_A_000000001", "whsec_rotation_B_000000002", "whsec_rotation_C_000000003"}
	for _, s := range secrets {
		r := a.do(acme.sb(), "PUT", "/api/v1/connections/razorpay", map[string]any{"key_id": "rzp_test_abc", "key_secret": "s3cr3t-s3cr3t", "webhook_secret": s})
		if r.Status != 201 && r.Status != 200 {
			t.Fatalf("PUT %s: %d %s", s, r.Status, r.Raw)
		}
	}
	// re-sending the current secret is not a rotation
	a.expect(a.do(acme.sb(), "PUT", "/api/v1/connections/razorpay", map[string]any{"key_id": "rzp_test_abc", "webhook_secret": secrets[2]}), 200, "")
	if c, _, _ := a.store.Connection(context.Background(), billing.Scope{TenantID: acme.id, EnvironmentID: acme.sandbox}); len(c.PrevWebhookSecrets) != 2 {
		t.Fatalf("retired secrets: %d, want 2", len(c.PrevWebhookSecrets))
	}
	for i, s := range secrets {
		if st := a.webhookStatus(acme, s, "evt_rot_"+string(rune('a'+i))); st != 200 {
			t.Fatalf("secret %d after rotations: %d", i, st)
		}
	}
	r := a.do(acme.sb(), "POST", "/api/v1/connections/razorpay/webhook-secret/revoke", nil)
	a.expect(r, 200, "")
	if n, _ := r.Body["revoked_webhook_secrets"].(float64); n != 2 {
		t.Fatalf("revoke: %s", r.Raw)
	}
	for i, s := range secrets[:2] {
		if st := a.webhookStatus(acme, s, "evt_rev_"+string(rune('a'+i))); st != 401 {
			t.Fatalf("revoked secret %d: %d", i, st)
		}
	}
	if st := a.webhookStatus(acme, secrets[2], "evt_rev_c"); st != 200 {
		t.Fatalf("current secret after revoke: %d", st)
	}
	a.expect(a.do(acme.sb(), "DELETE", "/api/v1/connections/razorpay", nil), 200, "")
	if st := a.webhookStatus(acme, secrets[2], "evt_after_delete"); st != 404 {
		t.Fatalf("webhook of a disabled connection: %d", st)
	}
	a.expect(a.do(acme.c(), "POST", "/api/v1/connections/razorpay/webhook-secret/revoke", nil), 404, "connection_not_configured")
}

// 15#9: production takes live keys, sandbox test keys.
func TestKeysOfTheOtherModeAreRefused(t *testing.T) {
	t.Parallel()
	a := newAPI(t)
	acme := a.tenant("Acme")
	body := func(key string) map[string]any {
		return map[string]any{"key_id": key, "key_secret": "s3cr3t-s3cr3t", "webhook_secret": "whsec-0123456789abcdef"}
	}
	a.expect(a.do(acme.c(), "PUT", "/api/v1/connections/razorpay", body("rzp_test_abc")), 400, "key_mode_mismatch")
	a.expect(a.do(acme.sb(), "PUT", "/api/v1/connections/razorpay", body("rzp_live_abc")), 400, "key_mode_mismatch")
	a.expect(a.do(acme.c(), "GET", "/api/v1/connections/razorpay", nil), 404, "connection_not_configured")
	a.expect(a.do(acme.c(), "PUT", "/api/v1/connections/razorpay", body("rzp_live_abc")), 201, "")
	r := a.do(acme.sb(), "PUT", "/api/v1/connections/razorpay", body("rzp_test_abc"))
	a.expect(r, 201, "")
	if r.str("mode") != "test" {
		t.Fatalf("sandbox mode: %s", r.Raw)
	}
}

// 15#9: the Razorpay account is optional on PUT, learnt otherwise (never
// overwritten by a webhook, see internal/reconcile); a key_id change
// clears a learnt account but keeps a configured one.
func TestConnectionAccountID(t *testing.T) {
	t.Parallel()
	a := newAPI(t)
	acme := a.tenant("Acme")
	sc := billing.Scope{TenantID: acme.id, EnvironmentID: acme.sandbox}
	put := map[string]any{"key_id": "rzp_test_one", "key_secret": "s3cr3t-s3cr3t", "webhook_secret": "whsec-0123456789abcdef", "account_id": "not an account"}
	a.expect(a.do(acme.sb(), "PUT", "/api/v1/connections/razorpay", put), 400, "validation_failed")
	delete(put, "account_id")
	r := a.do(acme.sb(), "PUT", "/api/v1/connections/razorpay", put)
	a.expect(r, 201, "")
	if r.Body["account_id"] != nil {
		t.Fatalf("account before any webhook: %s", r.Raw)
	}
	if ok, err := a.store.LearnConnectionAccount(context.Background(), sc, "acc_Learnt000001"); err != nil || !ok {
		t.Fatalf("learn: %v %v", ok, err)
	}
	if ok, _ := a.store.LearnConnectionAccount(context.Background(), sc, "acc_Other0000001"); ok {
		t.Fatal("a learnt account was overwritten")
	}
	if g := a.do(acme.sb(), "GET", "/api/v1/connections/razorpay", nil); g.str("account_id") != "acc_Learnt000001" {
		t.Fatalf("learnt account not shown: %s", g.Raw)
	}
	// the same key again keeps it; another key clears it
	a.expect(a.do(acme.sb(), "PUT", "/api/v1/connections/razorpay", map[string]any{"key_id": "rzp_test_one"}), 200, "")
	if g := a.do(acme.sb(), "GET", "/api/v1/connections/razorpay", nil); g.str("account_id") != "acc_Learnt000001" {
		t.Fatalf("same key cleared the account: %s", g.Raw)
	}
	r = a.do(acme.sb(), "PUT", "/api/v1/connections/razorpay", map[string]any{"key_id": "rzp_test_two", "key_secret": "s3cr3t-s3cr3t"})
	a.expect(r, 200, "")
	if r.Body["account_id"] != nil {
		t.Fatalf("a key change kept the learnt account: %s", r.Raw)
	}
	// configured: kept across a key change
	r = a.do(acme.sb(), "PUT", "/api/v1/connections/razorpay", map[string]any{"key_id": "rzp_test_two", "account_id": "acc_Configured01"})
	a.expect(r, 200, "")
	r = a.do(acme.sb(), "PUT", "/api/v1/connections/razorpay", map[string]any{"key_id": "rzp_test_three", "key_secret": "s3cr3t-s3cr3t"})
	if r.str("account_id") != "acc_Configured01" {
		t.Fatalf("a configured account was cleared: %s", r.Raw)
	}
	if ok, _ := a.store.LearnConnectionAccount(context.Background(), sc, "acc_Other0000001"); ok {
		t.Fatal("a configured account was overwritten")
	}
}
