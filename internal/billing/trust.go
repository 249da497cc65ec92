package billing

import (
	"strings"
	"time"

	"github.com/razorbill/razorbill/internal/apperr"
)

// RetiredSecret is a webhook secret rotated out. Razorpay signs retries of
// a delivery with the secret of its first attempt, so a retired secret
// keeps verifying until Until (24 h after it was rotated out).
type RetiredSecret struct {
	Sealed string    `dynamodbav:"sealed"`
	Until  time.Time `dynamodbav:"until"`
}

const (
	// WebhookSecretGrace is how long a rotated-out webhook secret verifies.
	WebhookSecretGrace = 24 * time.Hour
	// MinWebhookSecretLen is the shortest webhook secret accepted.
	MinWebhookSecretLen = 20
	// MaxRetiredSecrets bounds the secrets still within their grace: a
	// further rotation is refused until some expire or are revoked, so the
	// connection record stays small.
	MaxRetiredSecrets = 20
)

// VerifyingSecrets are the sealed webhook secrets that verify at now: the
// current one first, then each retired one still within its grace (the
// single previous secret of records written before the list existed
// included).
func (c Connection) VerifyingSecrets(now time.Time) []string {
	var out []string
	if c.WebhookSecretSealed != "" {
		out = append(out, c.WebhookSecretSealed)
	}
	for _, r := range c.liveRetired(now) {
		out = append(out, r.Sealed)
	}
	return out
}

// liveRetired is the retired secrets still within their grace, the legacy
// single previous secret folded in.
func (c Connection) liveRetired(now time.Time) []RetiredSecret {
	var out []RetiredSecret
	if c.PrevWebhookSecretSealed != "" && c.PrevWebhookSecretUntil != nil && now.Before(*c.PrevWebhookSecretUntil) {
		out = append(out, RetiredSecret{Sealed: c.PrevWebhookSecretSealed, Until: *c.PrevWebhookSecretUntil})
	}
	for _, r := range c.PrevWebhookSecrets {
		if r.Sealed != "" && now.Before(r.Until) {
			out = append(out, r)
		}
	}
	return out
}

// RotateWebhookSecret makes sealed the current webhook secret. The
// secret it replaces joins the retired ones for WebhookSecretGrace;
// retired secrets past their grace are dropped. A Conflict when
// MaxRetiredSecrets are already within their grace.
func (c *Connection) RotateWebhookSecret(sealed, hint string, now time.Time) error {
	retired := c.liveRetired(now)
	if c.WebhookSecretSealed != "" {
		if len(retired) >= MaxRetiredSecrets {
			return apperr.E(apperr.Conflict, "webhook_secret_rotation_limit",
				"%d webhook secrets rotated out in the last 24 hours still verify; revoke them (POST /api/v1/connections/razorpay/webhook-secret/revoke) before rotating again", len(retired))
		}
		retired = append(retired, RetiredSecret{Sealed: c.WebhookSecretSealed, Until: now.Add(WebhookSecretGrace)})
	}
	c.PrevWebhookSecrets, c.PrevWebhookSecretSealed, c.PrevWebhookSecretUntil = retired, "", nil
	c.WebhookSecretSealed, c.WebhookSecretHint = sealed, hint
	return nil
}

// RevokeRetiredSecrets ends every rotated-out webhook secret at once (after
// a leak); only the current one verifies afterwards. It returns how many
// were still verifying.
func (c *Connection) RevokeRetiredSecrets(now time.Time) int {
	n := len(c.liveRetired(now))
	c.PrevWebhookSecrets, c.PrevWebhookSecretSealed, c.PrevWebhookSecretUntil = nil, "", nil
	return n
}

// EnvironmentMode is the Razorpay mode an environment takes keys of:
// "live" for production, "test" for sandbox, "" (either) for any other.
func EnvironmentMode(envName string) string {
	switch strings.ToLower(envName) {
	case "production":
		return "live"
	case "sandbox":
		return "test"
	}
	return ""
}

// CheckCurrency refuses a non-INR currency on an account known not to take
// international payments (Razorpay refuses non-INR invoices and payment
// links there). An unknown International (nil) is not refused.
func (c Connection) CheckCurrency(code string) error {
	if strings.EqualFold(code, "INR") || c.International == nil || *c.International {
		return nil
	}
	return apperr.E(apperr.Conflict, "international_not_enabled",
		"the Razorpay account of this environment does not take international payments, so a %s invoice cannot be paid through it; activate international payments in Razorpay's dashboard and PUT /api/v1/connections/razorpay again with the key secret to re-check",
		strings.ToUpper(code))
}
