package webhook_test

import (
	"context"
	"errors"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/razorbill/razorbill/internal/billing"
	"github.com/razorbill/razorbill/internal/secrets"
	"github.com/razorbill/razorbill/internal/webhook"
)

// change rewrites the fixture's stored connection.
func (f *fixture) change(edit func(c *billing.Connection)) {
	f.t.Helper()
	c, ok, err := f.store.Connection(context.Background(), f.sc)
	if err != nil || !ok {
		f.t.Fatalf("connection: %v %v", ok, err)
	}
	edit(&c)
	if err := f.store.PutConnection(context.Background(), c); err != nil {
		f.t.Fatal(err)
	}
}

func (f *fixture) seal(plain string) string {
	f.t.Helper()
	s, err := f.box.Seal(context.Background(), plain, f.sc.TenantID+"/"+f.sc.EnvironmentID+"/webhook_secret")
	if err != nil {
		f.t.Fatal(err)
	}
	return s
}

// 15#3: a disabled connection (DELETE) is no trust: its correctly signed
// webhooks get 404 and nothing is queued.
func TestDisabledConnectionWebhooksAreRefused(t *testing.T) {
	t.Parallel()
	f := newFixture(t)
	f.change(func(c *billing.Connection) { c.Status = billing.ConnectionDisabled })
	resp := f.post(f.path(), body, signed(body, secret))
	if resp.StatusCode != 404 || !strings.Contains(resp.Body, "connection_not_configured") {
		t.Fatalf("disabled connection: %d %s", resp.StatusCode, resp.Body)
	}
	if msgs := f.queued(); len(msgs) != 0 {
		t.Fatalf("queued for a disabled connection: %+v", msgs)
	}
}

// 15#3: every secret rotated out verifies for its own 24 h — rotating
// A→B→C within a day keeps A (and B) working — and none after it.
func TestEveryRotatedSecretVerifiesForItsOwnGrace(t *testing.T) {
	t.Parallel()
	f := newFixture(t)
	const a, b, c = "whsec_secret_A_0000000001", "whsec_secret_B_0000000002", "whsec_secret_C_0000000003"
	now := time.Now()
	f.change(func(conn *billing.Connection) {
		conn.WebhookSecretSealed = f.seal(a)
		for i, s := range []string{b, c} {
			if err := conn.RotateWebhookSecret(f.seal(s), "", now.Add(time.Duration(i)*time.Minute)); err != nil {
				t.Fatal(err)
			}
		}
	})
	for i, s := range []string{a, b, c} {
		h := signed(body, s)
		h["X-Razorpay-Event-Id"] = "evt_rot_" + s[13:14]
		if resp := f.post(f.path(), body, h); resp.StatusCode != 200 {
			t.Fatalf("secret %d: %d %s", i, resp.StatusCode, resp.Body)
		}
	}
	// A's grace ends 24 h after its rotation, B's a minute later
	f.recv.Now = func() time.Time { return now.Add(24*time.Hour + 30*time.Second) }
	if resp := f.post(f.path(), body, signed(body, a)); resp.StatusCode != 401 {
		t.Fatalf("A after its 24 h: %d %s", resp.StatusCode, resp.Body)
	}
	if resp := f.post(f.path(), body, signed(body, b)); resp.StatusCode != 200 {
		t.Fatalf("B within its 24 h: %d %s", resp.StatusCode, resp.Body)
	}
}

type failingOpener struct{}

func (failingOpener) Open(context.Context, string, string) (string, error) {
	return "", errors.New("kms: ServiceUnavailable")
}

type failingStore struct{}

func (failingStore) Connection(context.Context, billing.Scope) (billing.Connection, bool, error) {
	return billing.Connection{}, false, errors.New("dynamodb: RequestLimitExceeded")
}

// 15#6: when the secret cannot be opened (KMS down) or the connection not
// read (DynamoDB down), Razorpay gets a 503 and retries — never a 401 that
// counts as a forged signature — and nothing is queued.
func TestSecretOrStoreFailureIs503(t *testing.T) {
	t.Parallel()
	f := newFixture(t)
	f.recv.Secrets = failingOpener{}
	if resp := f.post(f.path(), body, signed(body, secret)); resp.StatusCode != 503 {
		t.Fatalf("KMS failure: %d %s", resp.StatusCode, resp.Body)
	}
	f.recv.Secrets, f.recv.Store = f.box, failingStore{}
	if resp := f.post(f.path(), body, signed(body, secret)); resp.StatusCode != 503 {
		t.Fatalf("DynamoDB failure: %d %s", resp.StatusCode, resp.Body)
	}
	if msgs := f.queued(); len(msgs) != 0 {
		t.Fatalf("queued: %+v", msgs)
	}
}

type countingOpener struct {
	inner secrets.Opener
	n     atomic.Int64
}

func (c *countingOpener) Open(ctx context.Context, sealed, aad string) (string, error) {
	c.n.Add(1)
	return c.inner.Open(ctx, sealed, aad)
}

// 15#6: opened secrets are cached per sealed value in the warm function,
// so forgeries cost no KMS call; a rotation (new sealed text) opens once.
func TestForgeriesCostNoSecretOpening(t *testing.T) {
	t.Parallel()
	f := newFixture(t)
	counter := &countingOpener{inner: f.box}
	f.recv.Secrets = secrets.NewCache(counter)
	if resp := f.post(f.path(), body, signed(body, secret)); resp.StatusCode != 200 {
		t.Fatalf("genuine: %d %s", resp.StatusCode, resp.Body)
	}
	for i := 0; i < 50; i++ {
		if resp := f.post(f.path(), body, signed(body, "forged-secret-guess-000")); resp.StatusCode != 401 {
			t.Fatalf("forgery: %d", resp.StatusCode)
		}
	}
	if n := counter.n.Load(); n != 1 {
		t.Fatalf("%d openings for one genuine webhook and 50 forgeries, want 1", n)
	}
	const next = "whsec_rotated_secret_0002"
	f.change(func(c *billing.Connection) {
		if err := c.RotateWebhookSecret(f.seal(next), "", time.Now()); err != nil {
			t.Fatal(err)
		}
	})
	h := signed(body, next)
	h["X-Razorpay-Event-Id"] = "evt_next"
	if resp := f.post(f.path(), body, h); resp.StatusCode != 200 {
		t.Fatalf("after rotation: %d %s", resp.StatusCode, resp.Body)
	}
	if n := counter.n.Load(); n != 2 {
		t.Fatalf("%d openings after a rotation, want 2 (the new secret once)", n)
	}
}

// 15#9: a connection with a Razorpay account refuses events of another
// account (401 account_mismatch), whatever the signature; nothing queued.
func TestWebhookOfAnotherAccountIsRefused(t *testing.T) {
	t.Parallel()
	f := newFixture(t)
	f.change(func(c *billing.Connection) { c.AccountID = "acc_live_mine" })
	resp := f.post(f.path(), body, signed(body, secret)) // body's account_id is acc_x
	if resp.StatusCode != 401 || !strings.Contains(resp.Body, "account_mismatch") {
		t.Fatalf("other account: %d %s", resp.StatusCode, resp.Body)
	}
	if msgs := f.queued(); len(msgs) != 0 {
		t.Fatalf("queued: %+v", msgs)
	}
	f.change(func(c *billing.Connection) { c.AccountID = "acc_x" })
	if resp := f.post(f.path(), body, signed(body, secret)); resp.StatusCode != 200 {
		t.Fatalf("own account: %d %s", resp.StatusCode, resp.Body)
	}
}

// 15#5: the FIFO group never carries note text that is not a valid invoice
// id (a payer can set notes): such an event is queued in the group of its
// Razorpay ids, and every group id is within SQS's character set.
func TestMessageGroupNeverCarriesNoteText(t *testing.T) {
	t.Parallel()
	f := newFixture(t)
	b := `{"entity":"event","account_id":"acc_x","event":"payment.captured","contains":["payment"],"payload":{"payment":{"entity":{"id":"pay_N1","amount":100,"currency":"INR","status":"captured","order_id":"order_N1","notes":{"razorbill_invoice_id":"inv x ünïcode\u0000"}}}},"created_at":1795400000}`
	if resp := f.post(f.path(), b, signed(b, secret)); resp.StatusCode != 200 {
		t.Fatalf("status %d %s", resp.StatusCode, resp.Body)
	}
	got := f.groups(1)
	if want := f.sc.TenantID + "/" + f.sc.EnvironmentID + "/order_N1"; got["0"] != want {
		t.Fatalf("group %q, want %q", got["0"], want)
	}
	if g := webhook.GroupID(f.sc, "plink_ä b\t"+strings.Repeat("x", 200)); len(g) != 128 || strings.ContainsAny(g, " \tä") {
		t.Fatalf("GroupID not sanitised: %q", g)
	}
}
