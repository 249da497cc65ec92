package httpapi

import (
	"context"
	"crypto/subtle"
	"fmt"
	"net/http"
	"strconv"
	"strings"
	"time"

	"github.com/razorbill/razorbill/internal/apperr"
	"github.com/razorbill/razorbill/internal/billing"
	"github.com/razorbill/razorbill/internal/ids"
	"github.com/razorbill/razorbill/internal/logx"
	"github.com/razorbill/razorbill/internal/money"
	"github.com/razorbill/razorbill/internal/rzsync"
)

// LedgerStore is what the ledger routes read and write.
type LedgerStore interface {
	CreateTenant(ctx context.Context, t billing.Tenant, k billing.APIKey) error
	Tenant(ctx context.Context, id string) (billing.Tenant, error)
	CreateAPIKey(ctx context.Context, k billing.APIKey) error
	RevokeAPIKey(ctx context.Context, tenantID, keyID string, now time.Time) error
	ListAPIKeys(ctx context.Context, tenantID string, opt billing.ListOptions) (billing.Page[billing.APIKey], error)
	OpenItems(ctx context.Context, sc billing.Scope, startAfter string, limit int) ([]string, string, error)
	Environment(ctx context.Context, tenantID, envID string) (billing.Environment, error)
	PutConnection(ctx context.Context, c billing.Connection) error
	Connection(ctx context.Context, sc billing.Scope) (billing.Connection, bool, error)
	CreateCustomer(ctx context.Context, sc billing.Scope, c billing.Customer) error
	Customer(ctx context.Context, sc billing.Scope, id string) (billing.Customer, error)
	CustomerByExternalID(ctx context.Context, sc billing.Scope, ext string) (billing.Customer, bool, error)
	UpdateCustomer(ctx context.Context, sc billing.Scope, c billing.Customer, expected int64) error
	ListCustomers(ctx context.Context, sc billing.Scope, opt billing.ListOptions) (billing.Page[billing.Customer], error)
	NextSequence(ctx context.Context, sc billing.Scope, name string) (int64, error)
	CreateInvoice(ctx context.Context, sc billing.Scope, inv billing.Invoice) error
	Invoice(ctx context.Context, sc billing.Scope, id string) (billing.Invoice, error)
	UpdateInvoice(ctx context.Context, sc billing.Scope, inv billing.Invoice, expected int64) error
	ListInvoices(ctx context.Context, sc billing.Scope, f billing.InvoiceFilter, opt billing.ListOptions) (billing.Page[billing.Invoice], error)
}

// Sealer encrypts secrets at rest.
type Sealer interface {
	Seal(ctx context.Context, plaintext, aad string) (string, error)
}

// CredentialVerifier checks Razorpay keys with a cheap authenticated call.
type CredentialVerifier interface {
	VerifyCredentials(ctx context.Context, keyID, keySecret string) error
}

// SyncQueue enqueues customer and invoice syncs.
type SyncQueue interface {
	EnqueueSync(ctx context.Context, req billing.SyncRequest) error
}

// Ledger serves tenants, API keys, the connection, customers and invoices.
type Ledger struct {
	Store          LedgerStore
	Sealer         Sealer
	Verifier       CredentialVerifier
	Sync           SyncQueue
	WebhookBaseURL string
	Now            func() time.Time
	// Voider voids an invoice after closing its payment instruments at
	// Razorpay (payments.Service.VoidInvoice); without it void only
	// changes the record.
	Voider interface {
		VoidInvoice(ctx context.Context, sc billing.Scope, id string) (billing.Invoice, error)
	}
	// Minimums are Razorpay's smallest amounts per currency (nil: the
	// documented defaults); finalize refuses a total below them.
	Minimums *money.Minimums
}

// WebhookEvents are the events to enable in Razorpay's dashboard.
// payment.authorized is not among them: no money moves on it, and each one
// costs a queue hop and writes; it is still applied when it arrives (the
// payment becomes PROCESSING).
var WebhookEvents = []string{
	"payment.captured", "payment.failed",
	"payment_link.paid", "payment_link.partially_paid", "payment_link.expired", "payment_link.cancelled",
	"invoice.paid", "invoice.partially_paid", "invoice.expired",
	"refund.processed", "refund.failed",
}

// Routes lists the ledger's routes.
func (l *Ledger) Routes() []Route {
	return []Route{
		{Method: "GET", Pattern: "/health", Auth: AuthNone, Handle: func(context.Context, *Request) (Response, error) {
			return Response{Body: map[string]string{"status": "ok"}}, nil
		}},
		{Method: "POST", Pattern: "/api/v1/tenants", Auth: AuthAdmin, Handle: l.createTenant, Secret: true},
		{Method: "POST", Pattern: "/api/v1/api-keys", Auth: AuthTenant, Handle: l.createAPIKey, Secret: true},
		{Method: "GET", Pattern: "/api/v1/api-keys", Auth: AuthTenant, Handle: l.listAPIKeys},
		{Method: "DELETE", Pattern: "/api/v1/api-keys/{id}", Auth: AuthTenant, Handle: l.revokeAPIKey},
		{Method: "POST", Pattern: "/api/v1/tenants/{id}/api-keys", Auth: AuthAdmin, Handle: l.createAPIKey, Secret: true},
		{Method: "GET", Pattern: "/api/v1/tenants/{id}/api-keys", Auth: AuthAdmin, Handle: l.listAPIKeys},
		{Method: "DELETE", Pattern: "/api/v1/tenants/{id}/api-keys/{key_id}", Auth: AuthAdmin, Handle: l.revokeAPIKey},
		{Method: "PUT", Pattern: "/api/v1/connections/razorpay", Auth: AuthScoped, Handle: l.putConnection, Secret: true},
		{Method: "POST", Pattern: "/api/v1/connections/razorpay/webhook-secret/revoke", Auth: AuthScoped, Handle: l.revokeWebhookSecrets},
		{Method: "GET", Pattern: "/api/v1/connections/razorpay", Auth: AuthScoped, Handle: l.getConnection},
		{Method: "DELETE", Pattern: "/api/v1/connections/razorpay", Auth: AuthScoped, Handle: l.deleteConnection},
		{Method: "POST", Pattern: "/api/v1/customers", Auth: AuthScoped, Handle: l.createCustomer},
		{Method: "GET", Pattern: "/api/v1/customers", Auth: AuthScoped, Handle: l.listCustomers},
		{Method: "GET", Pattern: "/api/v1/customers/{id}", Auth: AuthScoped, Handle: l.getCustomer},
		{Method: "PATCH", Pattern: "/api/v1/customers/{id}", Auth: AuthScoped, Handle: l.patchCustomer},
		{Method: "POST", Pattern: "/api/v1/customers/{id}/sync", Auth: AuthScoped, Handle: l.syncCustomer},
		{Method: "POST", Pattern: "/api/v1/invoices", Auth: AuthScoped, Handle: l.createInvoice},
		{Method: "GET", Pattern: "/api/v1/invoices", Auth: AuthScoped, Handle: l.listInvoices},
		{Method: "GET", Pattern: "/api/v1/invoices/{id}", Auth: AuthScoped, Handle: l.getInvoice},
		{Method: "POST", Pattern: "/api/v1/invoices/{id}/finalize", Auth: AuthScoped, Handle: l.finalizeInvoice},
		{Method: "POST", Pattern: "/api/v1/invoices/{id}/void", Auth: AuthScoped, Handle: l.voidInvoice},
		{Method: "POST", Pattern: "/api/v1/invoices/{id}/sync", Auth: AuthScoped, Handle: l.syncInvoice},
	}
}

func (l *Ledger) now() time.Time {
	if l.Now != nil {
		return l.Now().UTC()
	}
	return time.Now().UTC()
}

// NewAPIKey makes a key: the secret shown once and the record holding its hash.
func NewAPIKey(tenantID string, now time.Time) (string, billing.APIKey) {
	secret := "rbk_" + ids.Secret(32)
	return secret, billing.APIKey{ID: ids.New(ids.APIKey), TenantID: tenantID, Hash: hashKey(secret), Hint: secret[len(secret)-4:], Prefix: secret[:8], Permissions: billing.KeyWrite, CreatedAt: now}
}

func (l *Ledger) createTenant(ctx context.Context, r *Request) (Response, error) {
	var in struct {
		Name string `json:"name"`
	}
	if err := Decode(r.Body, &in); err != nil {
		return Response{}, err
	}
	if err := billing.ValidateText(in.Name, "name", true, billing.MaxNameLen); err != nil {
		return Response{}, err
	}
	now := l.now()
	t := billing.Tenant{ID: ids.New(ids.Tenant), Name: strings.TrimSpace(in.Name), CreatedAt: now}
	for _, name := range []string{"production", "sandbox"} {
		t.Environments = append(t.Environments, billing.Environment{ID: ids.New(ids.Environment), TenantID: t.ID, Name: name})
	}
	secret, key := NewAPIKey(t.ID, now)
	if err := l.Store.CreateTenant(ctx, t, key); err != nil {
		return Response{}, err
	}
	envs := make([]map[string]string, 0, len(t.Environments))
	for _, e := range t.Environments {
		envs = append(envs, map[string]string{"id": e.ID, "name": e.Name})
	}
	return Response{Status: http.StatusCreated, Body: map[string]any{
		"id": t.ID, "name": t.Name, "environments": envs,
		"api_key":    map[string]string{"id": key.ID, "key": secret},
		"created_at": ts(now),
	}}, nil
}

// --- connection ---

func (l *Ledger) putConnection(ctx context.Context, r *Request) (Response, error) {
	var in struct {
		Name                string  `json:"name"`
		KeyID               string  `json:"key_id"`
		KeySecret           *string `json:"key_secret"`
		WebhookSecret       *string `json:"webhook_secret"`
		AccountID           *string `json:"account_id"`
		InvoiceOutboundSync *bool   `json:"invoice_outbound_sync"`
		CustomerSync        string  `json:"customer_sync"`
		PaymentLinks        *struct {
			NotifyEmail *bool `json:"notify_email"`
			NotifySMS   *bool `json:"notify_sms"`
			Reminders   *bool `json:"reminders"`
		} `json:"payment_links"`
	}
	if err := Decode(r.Body, &in); err != nil {
		return Response{}, err
	}
	prev, exists, err := l.Store.Connection(ctx, r.Scope)
	if err != nil {
		return Response{}, err
	}
	if err := billing.ValidateText(in.Name, "name", false, billing.MaxNameLen); err != nil {
		return Response{}, err
	}
	if !strings.HasPrefix(in.KeyID, "rzp_test_") && !strings.HasPrefix(in.KeyID, "rzp_live_") {
		return Response{}, apperr.InvalidField("validation_failed", "key_id", "key_id must be a Razorpay key id starting rzp_test_ or rzp_live_")
	}
	if err := l.checkKeyMode(ctx, r.Scope, in.KeyID); err != nil {
		return Response{}, err
	}
	if in.AccountID != nil && *in.AccountID != "" && !validAccountID(*in.AccountID) {
		return Response{}, apperr.InvalidField("validation_failed", "account_id", "account_id must be a Razorpay account id (acc_ followed by letters and digits), as on Dashboard → Account & Settings")
	}
	keyChanged := !exists || in.KeyID != prev.KeyID
	if exists && in.KeyID != prev.KeyID {
		// Links, Razorpay invoices and refunds still open under the old key
		// would be paid (or settled) at the old account, whose webhooks the
		// new connection refuses: close them first.
		open, _, err := l.Store.OpenItems(ctx, r.Scope, "", 10)
		if err != nil {
			return Response{}, err
		}
		if len(open) > 0 {
			return Response{}, apperr.E(apperr.Conflict, "connection_has_open_instruments",
				"%d or more payment links, Razorpay invoices or refunds are still open under key %s; cancel or void them (or let them settle) before changing key_id", len(open), prev.KeyID).
				WithDetails(map[string]any{"open": open})
		}
	}
	if in.KeySecret == nil && keyChanged {
		return Response{}, apperr.InvalidField("validation_failed", "key_secret", "key_secret is required")
	}
	if in.KeySecret != nil && strings.TrimSpace(*in.KeySecret) == "" {
		return Response{}, apperr.InvalidField("validation_failed", "key_secret", "key_secret must not be empty")
	}
	if in.WebhookSecret != nil && len(*in.WebhookSecret) < billing.MinWebhookSecretLen {
		return Response{}, apperr.InvalidField("validation_failed", "webhook_secret", "webhook_secret must be at least %d characters; omit it on the first PUT and Razorbill generates one", billing.MinWebhookSecretLen)
	}
	generated := ""
	if in.WebhookSecret == nil && (!exists || prev.WebhookSecretSealed == "") {
		// Shown once, in this response, to paste into Razorpay's dashboard.
		generated = "whsec_" + ids.Secret(24)
		in.WebhookSecret = &generated
	}
	mode := strings.ToUpper(in.CustomerSync)
	switch mode {
	case "":
		mode = billing.CustomerSyncOnDemand
		if exists {
			mode = prev.CustomerSync
		}
	case billing.CustomerSyncOnDemand, billing.CustomerSyncOnCreate:
	default:
		return Response{}, apperr.InvalidField("validation_failed", "customer_sync", "customer_sync must be ON_DEMAND or ON_CREATE")
	}
	now := l.now()
	c := prev
	if !exists {
		c = billing.Connection{TenantID: r.Scope.TenantID, EnvironmentID: r.Scope.EnvironmentID, CreatedAt: now}
	}
	c.Name, c.KeyID, c.CustomerSync, c.Status, c.UpdatedAt = in.Name, in.KeyID, mode, billing.ConnectionActive, now
	switch {
	case in.AccountID != nil:
		c.AccountID, c.AccountIDLearnt = *in.AccountID, false
	case exists && keyChanged && prev.AccountIDLearnt:
		// The new key may be another account's: learn it again from the
		// next verified webhook rather than refuse that account's events.
		c.AccountID, c.AccountIDLearnt = "", false
	}
	if c.Name == "" {
		c.Name = "Razorpay"
	}
	if in.InvoiceOutboundSync != nil {
		c.InvoiceOutboundSync = *in.InvoiceOutboundSync
	}
	if pl := in.PaymentLinks; pl != nil { // each omitted setting keeps its value
		if pl.NotifyEmail != nil {
			c.LinkNotifyEmail = pl.NotifyEmail
		}
		if pl.NotifySMS != nil {
			c.LinkNotifySMS = pl.NotifySMS
		}
		if pl.Reminders != nil {
			c.LinkReminders = pl.Reminders
		}
	}
	aad := connectionAAD(r.Scope)
	if in.KeySecret != nil {
		if err := l.Verifier.VerifyCredentials(ctx, in.KeyID, *in.KeySecret); err != nil {
			if apperr.Is(err, apperr.Unauthorized) || apperr.Is(err, apperr.Permanent) || apperr.Is(err, apperr.Invalid) {
				return Response{}, apperr.InvalidField("invalid_razorpay_credentials", "key_secret", "Razorpay rejected this key id and secret; copy them again from Dashboard → Account & Settings → API Keys")
			}
			return Response{}, err
		}
		if p, ok := l.Verifier.(InternationalChecker); ok {
			on, err := p.InternationalEnabled(ctx, in.KeyID, *in.KeySecret)
			if err != nil {
				return Response{}, err
			}
			c.International = &on
		}
		sealed, err := l.Sealer.Seal(ctx, *in.KeySecret, aad+"/key_secret")
		if err != nil {
			return Response{}, apperr.Wrap(err, apperr.Internal, "", "seal key secret")
		}
		c.KeySecretSealed, c.KeySecretHint = sealed, hint(*in.KeySecret)
	} else if keyChanged {
		return Response{}, apperr.InvalidField("validation_failed", "key_secret", "key_secret is required when key_id changes")
	}
	if in.WebhookSecret != nil && exists && l.sameWebhookSecret(ctx, prev, aad, *in.WebhookSecret) {
		in.WebhookSecret = nil // re-sent unchanged: not a rotation
	}
	if in.WebhookSecret != nil {
		sealed, err := l.Sealer.Seal(ctx, *in.WebhookSecret, aad+"/webhook_secret")
		if err != nil {
			return Response{}, apperr.Wrap(err, apperr.Internal, "", "seal webhook secret")
		}
		// Razorpay signs retries of older deliveries with the secret they
		// were first sent with: the one replaced keeps verifying for 24 h.
		if err := c.RotateWebhookSecret(sealed, hint(*in.WebhookSecret), now); err != nil {
			return Response{}, err
		}
	}
	if err := l.Store.PutConnection(ctx, c); err != nil {
		return Response{}, err
	}
	status := http.StatusOK
	if !exists {
		status = http.StatusCreated
	}
	view := l.connectionView(c)
	if generated != "" {
		// Shown this once (api.md: "generates one and returns it once") in
		// its own field: webhook_secret stays the masked hint, as api.md has
		// every response show secrets. Scrubbed from Idempotency-Key records
		// (withoutSecrets).
		view["webhook_secret_generated"] = generated
	}
	return Response{Status: status, Body: view}, nil
}

// sameWebhookSecret reports whether secret is the connection's current
// webhook secret (when the Sealer can open it; otherwise false, and a
// re-sent secret counts as a rotation).
func (l *Ledger) sameWebhookSecret(ctx context.Context, c billing.Connection, aad, secret string) bool {
	o, ok := l.Sealer.(interface {
		Open(ctx context.Context, sealed, aad string) (string, error)
	})
	if !ok || c.WebhookSecretSealed == "" {
		return false
	}
	cur, err := o.Open(ctx, c.WebhookSecretSealed, aad+"/webhook_secret")
	return err == nil && subtle.ConstantTimeCompare([]byte(cur), []byte(secret)) == 1
}

// InternationalChecker tells whether a Razorpay account takes non-INR
// payments (razorpay.Client.InternationalEnabled). When the Verifier
// implements it, PUT records the answer; otherwise it stays unknown.
type InternationalChecker interface {
	InternationalEnabled(ctx context.Context, keyID, keySecret string) (bool, error)
}

// checkKeyMode refuses keys of the other mode: production takes live keys,
// sandbox test keys.
func (l *Ledger) checkKeyMode(ctx context.Context, sc billing.Scope, keyID string) error {
	env, err := l.Store.Environment(ctx, sc.TenantID, sc.EnvironmentID)
	if err != nil {
		return err
	}
	want := billing.EnvironmentMode(env.Name)
	if want == "" || billing.KeyMode(keyID) == want {
		return nil
	}
	prefix := map[string]string{"live": "rzp_live_", "test": "rzp_test_"}[want]
	return apperr.InvalidField("key_mode_mismatch", "key_id", "the %s environment takes %s keys (%s…); this is a %s key", env.Name, want, prefix, billing.KeyMode(keyID))
}

func validAccountID(s string) bool {
	rest, ok := strings.CutPrefix(s, "acc_")
	if !ok || rest == "" || len(rest) > 40 {
		return false
	}
	for _, c := range rest {
		if !(c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9') {
			return false
		}
	}
	return true
}

// revokeWebhookSecrets ends every rotated-out webhook secret at once (after
// a leak): only the current secret verifies from now on.
func (l *Ledger) revokeWebhookSecrets(ctx context.Context, r *Request) (Response, error) {
	if err := emptyOrObject(r.Body); err != nil {
		return Response{}, err
	}
	c, ok, err := l.Store.Connection(ctx, r.Scope)
	if err != nil {
		return Response{}, err
	}
	if !ok {
		return Response{}, apperr.E(apperr.NotFound, "connection_not_configured", "no Razorpay connection is configured for this environment")
	}
	now := l.now()
	n := c.RevokeRetiredSecrets(now)
	c.UpdatedAt = now
	if err := l.Store.PutConnection(ctx, c); err != nil {
		return Response{}, err
	}
	view := l.connectionView(c)
	view["revoked_webhook_secrets"] = n
	return Response{Body: view}, nil
}

func connectionAAD(sc billing.Scope) string { return sc.TenantID + "/" + sc.EnvironmentID }

func hint(secret string) string { return logx.Mask(secret) }

func (l *Ledger) getConnection(ctx context.Context, r *Request) (Response, error) {
	c, ok, err := l.Store.Connection(ctx, r.Scope)
	if err != nil {
		return Response{}, err
	}
	if !ok {
		return Response{}, apperr.E(apperr.NotFound, "connection_not_configured", "no Razorpay connection is configured for this environment; PUT /api/v1/connections/razorpay")
	}
	return Response{Body: l.connectionView(c)}, nil
}

func (l *Ledger) deleteConnection(ctx context.Context, r *Request) (Response, error) {
	c, ok, err := l.Store.Connection(ctx, r.Scope)
	if err != nil {
		return Response{}, err
	}
	if !ok {
		return Response{}, apperr.E(apperr.NotFound, "connection_not_configured", "no Razorpay connection is configured for this environment")
	}
	c.Status, c.UpdatedAt = billing.ConnectionDisabled, l.now()
	if err := l.Store.PutConnection(ctx, c); err != nil {
		return Response{}, err
	}
	return Response{Body: l.connectionView(c)}, nil
}

func (l *Ledger) connectionView(c billing.Connection) map[string]any {
	return map[string]any{
		"name": c.Name, "key_id": c.KeyID, "key_secret": c.KeySecretHint, "webhook_secret": c.WebhookSecretHint,
		"mode":                  c.Mode(),
		"webhook_url":           fmt.Sprintf("%s/api/v1/webhooks/razorpay/%s/%s", l.WebhookBaseURL, c.TenantID, c.EnvironmentID),
		"webhook_events":        WebhookEvents,
		"invoice_outbound_sync": c.InvoiceOutboundSync,
		"customer_sync":         c.CustomerSync,
		"payment_links":         linkSettingsView(c),
		"status":                c.Status,
		"account_id":            nullable(c.AccountID),
		"international":         c.International,
		"last_webhook_at":       tsp(c.LastWebhookAt),
		"webhook":               webhookView(c, l.now()),
		"created_at":            ts(c.CreatedAt),
		"updated_at":            ts(c.UpdatedAt),
	}
}

// --- customers ---

type customerInput struct {
	ExternalID *string            `json:"external_id"`
	Name       *string            `json:"name"`
	Email      *string            `json:"email"`
	Phone      *string            `json:"phone"`
	Metadata   map[string]*string `json:"metadata"`
	// GST; "" clears on PATCH.
	GSTIN        *string `json:"gstin"`
	BillingState *string `json:"billing_state"`
}

func (l *Ledger) createCustomer(ctx context.Context, r *Request) (Response, error) {
	var in customerInput
	if err := Decode(r.Body, &in); err != nil {
		return Response{}, err
	}
	c := billing.Customer{Metadata: map[string]string{}}
	if in.ExternalID != nil {
		// Optional; when given it is unique in the environment.
		c.ExternalID = strings.TrimSpace(*in.ExternalID)
		if err := billing.ValidateText(c.ExternalID, "external_id", true, billing.MaxExternalIDLen); err != nil {
			return Response{}, err
		}
	}
	if err := applyCustomerFields(&c, in); err != nil {
		return Response{}, err
	}
	now := l.now()
	c.ID, c.SyncStatus, c.CreatedAt, c.UpdatedAt, c.Version = ids.New(ids.Customer), billing.SyncNotSynced, now, now, 1
	c.SyncOnCreate = l.syncsNow(ctx, r.Scope, billing.Connection.SyncsOnCreate)
	if err := l.Store.CreateCustomer(ctx, r.Scope, c); err != nil {
		return Response{}, err
	}
	return Response{Status: http.StatusCreated, Body: customerView(c)}, nil
}

func applyCustomerFields(c *billing.Customer, in customerInput) error {
	if in.Name != nil {
		if err := billing.ValidateText(*in.Name, "name", false, billing.MaxNameLen); err != nil {
			return err
		}
		c.Name = strings.TrimSpace(*in.Name)
	}
	if in.Email != nil {
		e := strings.TrimSpace(*in.Email)
		if err := billing.ValidateEmail(e, "email"); err != nil {
			return err
		}
		c.Email = e
	}
	if in.Phone != nil {
		p := strings.TrimSpace(*in.Phone)
		if err := billing.ValidatePhone(p, "phone"); err != nil {
			return err
		}
		c.Phone = p
	}
	if in.GSTIN != nil || in.BillingState != nil {
		g, st := c.GSTIN, c.BillingState
		if in.GSTIN != nil {
			g = *in.GSTIN
		}
		if in.BillingState != nil {
			st = *in.BillingState
		}
		var err error
		if c.GSTIN, c.BillingState, err = billing.NormalizeCustomerTax(g, st); err != nil {
			return err
		}
	}
	md := map[string]string{}
	for k, v := range c.Metadata {
		md[k] = v
	}
	for k, v := range in.Metadata {
		if k == "razorpay_customer_id" {
			return apperr.InvalidField("validation_failed", "metadata.razorpay_customer_id", "metadata.razorpay_customer_id is set by Razorbill when the customer is synced")
		}
		if v == nil || *v == "" {
			delete(md, k)
		} else {
			md[k] = *v
		}
	}
	if err := billing.ValidateMetadata(md, "metadata"); err != nil {
		return err
	}
	c.Metadata = md
	return nil
}

func (l *Ledger) getCustomer(ctx context.Context, r *Request) (Response, error) {
	c, err := l.Store.Customer(ctx, r.Scope, r.Params["id"])
	if err != nil {
		return Response{}, err
	}
	return Response{Body: customerView(c)}, nil
}

func (l *Ledger) listCustomers(ctx context.Context, r *Request) (Response, error) {
	if ext, ok := r.Query["external_id"]; ok {
		c, found, err := l.Store.CustomerByExternalID(ctx, r.Scope, ext)
		if err != nil {
			return Response{}, err
		}
		data := []any{}
		if found {
			data = append(data, customerView(c))
		}
		return Response{Body: map[string]any{"data": data, "has_more": false}}, nil
	}
	opt, err := listOptions(r)
	if err != nil {
		return Response{}, err
	}
	p, err := l.Store.ListCustomers(ctx, r.Scope, opt)
	if err != nil {
		return Response{}, err
	}
	data := make([]any, 0, len(p.Data))
	for _, c := range p.Data {
		data = append(data, customerView(c))
	}
	return Response{Body: map[string]any{"data": data, "has_more": p.HasMore}}, nil
}

func (l *Ledger) patchCustomer(ctx context.Context, r *Request) (Response, error) {
	var in customerInput
	if err := Decode(r.Body, &in); err != nil {
		return Response{}, err
	}
	if in.ExternalID != nil {
		return Response{}, apperr.InvalidField("validation_failed", "external_id", "external_id cannot be changed")
	}
	for attempt := 0; ; attempt++ {
		c, err := l.Store.Customer(ctx, r.Scope, r.Params["id"])
		if err != nil {
			return Response{}, err
		}
		if err := applyCustomerFields(&c, in); err != nil {
			return Response{}, err
		}
		expected := c.Version
		c.Version++
		c.UpdatedAt = l.now()
		err = l.Store.UpdateCustomer(ctx, r.Scope, c, expected)
		if err == nil {
			return Response{Body: customerView(c)}, nil
		}
		if !apperr.HasCode(err, apperr.CodeConcurrentUpdate) || attempt == 3 {
			return Response{}, err
		}
	}
}

func (l *Ledger) syncCustomer(ctx context.Context, r *Request) (Response, error) {
	c, err := l.Store.Customer(ctx, r.Scope, r.Params["id"])
	if err != nil {
		return Response{}, err
	}
	if _, err := rzsync.ActiveConnection(ctx, l.Store, r.Scope); err != nil {
		return Response{}, err
	}
	if err := l.Sync.EnqueueSync(ctx, billing.SyncRequest{Kind: billing.SyncCustomer, TenantID: r.Scope.TenantID, EnvironmentID: r.Scope.EnvironmentID, ID: c.ID, Reason: "manual-" + r.RequestID}); err != nil {
		return Response{}, err
	}
	return Response{Status: http.StatusAccepted, Body: customerView(c)}, nil
}

// --- invoices ---

type invoiceInput struct {
	CustomerID    string            `json:"customer_id"`
	Currency      string            `json:"currency"`
	InvoiceNumber string            `json:"invoice_number"`
	DueDate       Time              `json:"due_date"`
	PeriodStart   Time              `json:"period_start"`
	PeriodEnd     Time              `json:"period_end"`
	LineItems     []lineItemInput   `json:"line_items"`
	Metadata      map[string]string `json:"metadata"`
}

type lineItemInput struct {
	DisplayName string  `json:"display_name"`
	Description string  `json:"description"`
	PriceType   string  `json:"price_type"`
	Quantity    Decimal `json:"quantity"`
	UnitAmount  Decimal `json:"unit_amount"`
}

func (l *Ledger) createInvoice(ctx context.Context, r *Request) (Response, error) {
	var in invoiceInput
	if err := Decode(r.Body, &in); err != nil {
		return Response{}, err
	}
	for f, t := range map[string]Time{"due_date": in.DueDate, "period_start": in.PeriodStart, "period_end": in.PeriodEnd} {
		if err := t.Check(f); err != nil {
			return Response{}, err
		}
	}
	bin := billing.InvoiceInput{
		CustomerID: in.CustomerID, Currency: in.Currency, InvoiceNumber: strings.TrimSpace(in.InvoiceNumber),
		DueDate: in.DueDate.Ptr(), PeriodStart: in.PeriodStart.Ptr(), PeriodEnd: in.PeriodEnd.Ptr(), Metadata: in.Metadata,
	}
	for i, li := range in.LineItems {
		f := fmt.Sprintf("line_items[%d]", i)
		if err := li.Quantity.Check(f+".quantity", true); err != nil {
			return Response{}, err
		}
		if err := li.UnitAmount.Check(f+".unit_amount", true); err != nil {
			return Response{}, err
		}
		bin.LineItems = append(bin.LineItems, billing.LineItemInput{DisplayName: li.DisplayName, Description: li.Description, PriceType: li.PriceType, Quantity: li.Quantity.Text, UnitAmount: li.UnitAmount.Text})
	}
	inv, err := billing.BuildInvoice(bin)
	if err != nil {
		return Response{}, err
	}
	if _, err := l.Store.Customer(ctx, r.Scope, inv.CustomerID); err != nil {
		if apperr.Is(err, apperr.NotFound) {
			return Response{}, &apperr.Error{Kind: apperr.NotFound, Code: "not_found", Field: "customer_id", Message: fmt.Sprintf("customer %s was not found", inv.CustomerID)}
		}
		return Response{}, err
	}
	now := l.now()
	inv.ID, inv.CreatedAt, inv.UpdatedAt, inv.Version = ids.New(ids.Invoice), now, now, 1
	chosen := inv.InvoiceNumber != ""
	for attempt := 0; ; attempt++ {
		if !chosen {
			seq, err := l.Store.NextSequence(ctx, r.Scope, "invoice")
			if err != nil {
				return Response{}, err
			}
			inv.InvoiceNumber = fmt.Sprintf("INV-%06d", seq)
		}
		err = l.Store.CreateInvoice(ctx, r.Scope, inv)
		if err == nil {
			break
		}
		// A generated number can collide with one a user chose: take the next.
		if chosen || apperr.As(err) == nil || apperr.As(err).Code != "invoice_number_exists" || attempt == 20 {
			return Response{}, err
		}
	}
	return Response{Status: http.StatusCreated, Body: InvoiceView(inv)}, nil
}

func (l *Ledger) getInvoice(ctx context.Context, r *Request) (Response, error) {
	inv, err := l.Store.Invoice(ctx, r.Scope, r.Params["id"])
	if err != nil {
		return Response{}, err
	}
	return Response{Body: InvoiceView(inv)}, nil
}

var invoiceStatuses = map[string]bool{
	billing.InvoiceDraft: true, billing.InvoiceFinalized: true, billing.InvoiceVoided: true,
	billing.PaymentPending: true, billing.PaymentPartiallyPaid: true, billing.PaymentSucceeded: true, billing.PaymentOverpaid: true, billing.PaymentRefunded: true,
}

func (l *Ledger) listInvoices(ctx context.Context, r *Request) (Response, error) {
	opt, err := listOptions(r)
	if err != nil {
		return Response{}, err
	}
	f := billing.InvoiceFilter{CustomerID: r.Query["customer_id"], Status: strings.ToUpper(r.Query["status"])}
	if f.Status != "" && !invoiceStatuses[f.Status] {
		return Response{}, apperr.InvalidField("validation_failed", "status", "status %q is not an invoice or payment status", r.Query["status"])
	}
	p, err := l.Store.ListInvoices(ctx, r.Scope, f, opt)
	if err != nil {
		return Response{}, err
	}
	data := make([]any, 0, len(p.Data))
	for _, inv := range p.Data {
		data = append(data, InvoiceView(inv))
	}
	body := map[string]any{"data": data, "has_more": p.HasMore}
	if p.HasMore && p.Next != "" {
		body["next_starting_after"] = p.Next
	}
	return Response{Body: body}, nil
}

// transitionInvoice applies change to the current invoice with a conditional
// write on its version: of two concurrent calls exactly one wins, and the
// other re-reads and is judged against the new state.
func (l *Ledger) transitionInvoice(ctx context.Context, r *Request, change func(*billing.Invoice) error) (billing.Invoice, error) {
	for attempt := 0; ; attempt++ {
		inv, err := l.Store.Invoice(ctx, r.Scope, r.Params["id"])
		if err != nil {
			return inv, err
		}
		if err := change(&inv); err != nil {
			return inv, err
		}
		expected := inv.Version
		inv.Version++
		inv.UpdatedAt = l.now()
		err = l.Store.UpdateInvoice(ctx, r.Scope, inv, expected)
		if err == nil {
			return inv, nil
		}
		if !apperr.HasCode(err, apperr.CodeConcurrentUpdate) || attempt == 5 {
			return inv, err
		}
	}
}

func (l *Ledger) finalizeInvoice(ctx context.Context, r *Request) (Response, error) {
	if err := emptyOrObject(r.Body); err != nil {
		return Response{}, err
	}
	syncs := l.syncsNow(ctx, r.Scope, billing.Connection.SyncsOnFinalize)
	inv, err := l.transitionInvoice(ctx, r, func(inv *billing.Invoice) error {
		return inv.FinalizeToCollect(l.now(), syncs, l.Minimums)
	})
	if err != nil {
		return Response{}, err
	}
	return Response{Body: InvoiceView(inv)}, nil
}

func (l *Ledger) voidInvoice(ctx context.Context, r *Request) (Response, error) {
	if err := emptyOrObject(r.Body); err != nil {
		return Response{}, err
	}
	var inv billing.Invoice
	var err error
	if l.Voider != nil {
		inv, err = l.Voider.VoidInvoice(ctx, r.Scope, r.Params["id"])
	} else {
		inv, err = l.transitionInvoice(ctx, r, func(inv *billing.Invoice) error { return inv.Void(l.now()) })
	}
	if err != nil {
		return Response{}, err
	}
	return Response{Body: InvoiceView(inv)}, nil
}

func (l *Ledger) syncInvoice(ctx context.Context, r *Request) (Response, error) {
	inv, err := l.Store.Invoice(ctx, r.Scope, r.Params["id"])
	if err != nil {
		return Response{}, err
	}
	switch {
	case inv.InvoiceStatus == billing.InvoiceVoided:
		return Response{}, apperr.E(apperr.Conflict, "invoice_voided", "invoice %s is voided", inv.ID)
	case inv.InvoiceStatus != billing.InvoiceFinalized:
		return Response{}, apperr.E(apperr.Conflict, "invoice_not_finalized", "invoice %s is %s; finalize it before syncing", inv.ID, inv.InvoiceStatus)
	case inv.AmountDue == 0:
		return Response{}, apperr.E(apperr.Conflict, "invoice_already_paid", "invoice %s has nothing to pay and is not synced", inv.ID)
	}
	if conn, err := rzsync.ActiveConnection(ctx, l.Store, r.Scope); err != nil {
		return Response{}, err
	} else if err := conn.CheckCurrency(inv.Currency); err != nil {
		return Response{}, err
	}
	if err := l.Sync.EnqueueSync(ctx, billing.SyncRequest{Kind: billing.SyncInvoice, TenantID: r.Scope.TenantID, EnvironmentID: r.Scope.EnvironmentID, ID: inv.ID, Reason: "manual-" + r.RequestID}); err != nil {
		return Response{}, err
	}
	return Response{Status: http.StatusAccepted, Body: InvoiceView(inv)}, nil
}

// syncsNow reports whether the scope's connection asks for a sync at once
// (decides whether the record written next leaves the table stream). When
// the connection cannot be read it answers true: the syncer then reads the
// connection itself and does nothing if no sync is due.
func (l *Ledger) syncsNow(ctx context.Context, sc billing.Scope, asks func(billing.Connection) bool) bool {
	conn, ok, err := l.Store.Connection(ctx, sc)
	if err != nil {
		return true
	}
	return ok && asks(conn)
}

func emptyOrObject(body []byte) error {
	if len(strings.TrimSpace(string(body))) == 0 {
		return nil
	}
	var in struct{}
	return Decode(body, &in)
}

func listOptions(r *Request) (billing.ListOptions, error) {
	opt := billing.ListOptions{Limit: 20, StartingAfter: r.Query["starting_after"]}
	if v, ok := r.Query["limit"]; ok {
		n, err := strconv.Atoi(v)
		if err != nil || n < 1 || n > 100 {
			return opt, apperr.InvalidField("validation_failed", "limit", "limit must be a whole number from 1 to 100")
		}
		opt.Limit = n
	}
	return opt, nil
}
