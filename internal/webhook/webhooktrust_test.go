package webhook_test

import (
	"context"
	"testing"
	"time"

	"github.com/razorbill/razorbill/internal/billing"
	"github.com/razorbill/razorbill/internal/dynamo"
)

// TestWebhookTrustReadsOnlyWhatVerificationNeeds: the receiver's read of
// the connection (DynamoDB Local) brings the scope, status, account and
// every webhook secret, current and retired, and leaves the key secret,
// hints, settings and timestamps at DynamoDB; no connection is not found.
func TestWebhookTrustReadsOnlyWhatVerificationNeeds(t *testing.T) {
	t.Parallel()
	f := newFixture(t)
	until := time.Now().Add(time.Hour).UTC().Truncate(time.Second)
	f.change(func(c *billing.Connection) {
		c.AccountID, c.KeySecretSealed, c.KeySecretHint, c.WebhookSecretHint, c.CustomerSync = "acc_T1", "sealed-key", "…abcd", "…wxyz", "ON_DEMAND"
		c.PrevWebhookSecretSealed, c.PrevWebhookSecretUntil = "prev-1", &until
		c.PrevWebhookSecrets = []billing.RetiredSecret{{Sealed: "prev-2", Until: until}}
		c.CreatedAt, c.UpdatedAt = time.Now(), time.Now()
	})
	full, _, err := f.store.Connection(context.Background(), f.sc)
	if err != nil {
		t.Fatal(err)
	}
	got, ok, err := dynamo.WebhookTrust{Store: f.store}.Connection(context.Background(), f.sc)
	if err != nil || !ok {
		t.Fatalf("%v %v", ok, err)
	}
	if got.TenantID != f.sc.TenantID || got.EnvironmentID != f.sc.EnvironmentID || got.Status != billing.ConnectionActive || got.AccountID != "acc_T1" ||
		got.WebhookSecretSealed != full.WebhookSecretSealed || got.PrevWebhookSecretSealed != "prev-1" || got.PrevWebhookSecretUntil == nil ||
		!got.PrevWebhookSecretUntil.Equal(until) || len(got.PrevWebhookSecrets) != 1 || got.PrevWebhookSecrets[0].Sealed != "prev-2" {
		t.Errorf("projected connection %+v lacks what verification needs", got)
	}
	if now := time.Now(); len(got.VerifyingSecrets(now)) != 3 || len(full.VerifyingSecrets(now)) != 3 {
		t.Errorf("verifying secrets %d (full read %d), want 3", len(got.VerifyingSecrets(now)), len(full.VerifyingSecrets(now)))
	}
	if got.KeySecretSealed != "" || got.KeySecretHint != "" || got.WebhookSecretHint != "" || got.CustomerSync != "" || !got.CreatedAt.IsZero() || got.KeyID != "" {
		t.Errorf("projected connection %+v carries attributes the receiver never reads", got)
	}
	other := f.sc
	other.EnvironmentID = "env_01jh0000000000000000000999"
	if _, ok, err := (dynamo.WebhookTrust{Store: f.store}).Connection(context.Background(), other); ok || err != nil {
		t.Fatalf("no connection: ok %v, err %v", ok, err)
	}
}
