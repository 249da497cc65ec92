// Package billing is Razorbill's domain: tenants and their environments,
// Razorpay connections, customers, invoices and payments, their state
// machines and the rules that keep money exact. It imports no adapter and no
// transport; DynamoDB, SQS and Razorpay implement the interfaces declared by
// the code that uses them.
//
// The dynamodbav tags are the one concession to storage: they name the
// attributes the dynamo package writes, so a stream filter can key on them.
package billing

import (
	"time"
)

// Scope is the tenant and environment every record belongs to.
type Scope struct {
	TenantID      string
	EnvironmentID string
}

// Tenant is a business using Razorbill.
type Tenant struct {
	ID           string        `dynamodbav:"id"`
	Name         string        `dynamodbav:"name"`
	Environments []Environment `dynamodbav:"-"`
	CreatedAt    time.Time     `dynamodbav:"created_at"`
}

// Environment is one of a tenant's environments (production, sandbox).
type Environment struct {
	ID       string `dynamodbav:"id"`
	TenantID string `dynamodbav:"tenant_id"`
	Name     string `dynamodbav:"name"`
}

// APIKey is a tenant's API key; only its hash is stored.
type APIKey struct {
	ID       string `dynamodbav:"id"`
	TenantID string `dynamodbav:"tenant_id"`
	Name     string `dynamodbav:"name,omitempty"`
	Hash     string `dynamodbav:"hash"`
	Hint     string `dynamodbav:"hint"`             // last four characters, to tell keys apart
	Prefix   string `dynamodbav:"prefix,omitempty"` // first eight characters
	// Environments the key may use; empty means every environment.
	Environments []string `dynamodbav:"environments,omitempty"`
	// Permissions is KeyRead or KeyWrite ("" on keys made before: write).
	Permissions string     `dynamodbav:"permissions,omitempty"`
	ExpiresAt   *time.Time `dynamodbav:"expires_at,omitempty"`
	LastUsedAt  *time.Time `dynamodbav:"last_used_at,omitempty"`
	CreatedAt   time.Time  `dynamodbav:"created_at"`
	RevokedAt   *time.Time `dynamodbav:"revoked_at,omitempty"`
}

// API key permissions.
const (
	KeyRead  = "read"
	KeyWrite = "write"
)

// CanWrite reports whether the key may change records.
func (k APIKey) CanWrite() bool { return k.Permissions != KeyRead }

// AllEnvironments reports whether the key is valid in every environment.
func (k APIKey) AllEnvironments() bool { return len(k.Environments) == 0 }

// AllowsEnvironment reports whether the key may use environment envID.
func (k APIKey) AllowsEnvironment(envID string) bool {
	if k.AllEnvironments() {
		return true
	}
	for _, e := range k.Environments {
		if e == envID {
			return true
		}
	}
	return false
}

// Expired reports whether the key has expired at now.
func (k APIKey) Expired(now time.Time) bool { return k.ExpiresAt != nil && !now.Before(*k.ExpiresAt) }

// Customer sync modes of a connection.
const (
	CustomerSyncOnDemand = "ON_DEMAND"
	CustomerSyncOnCreate = "ON_CREATE"
)

// Connection statuses.
const (
	ConnectionActive   = "ACTIVE"
	ConnectionDisabled = "DISABLED"
)

// Connection is a tenant environment's Razorpay account. Secrets are held
// sealed (see package secrets); the plain values exist only in memory.
type Connection struct {
	TenantID                string     `dynamodbav:"tenant_id"`
	EnvironmentID           string     `dynamodbav:"environment_id"`
	Name                    string     `dynamodbav:"name"`
	KeyID                   string     `dynamodbav:"key_id"`
	KeySecretSealed         string     `dynamodbav:"key_secret_sealed"`
	KeySecretHint           string     `dynamodbav:"key_secret_hint"`
	WebhookSecretSealed     string     `dynamodbav:"webhook_secret_sealed"`
	WebhookSecretHint       string     `dynamodbav:"webhook_secret_hint"`
	PrevWebhookSecretSealed string     `dynamodbav:"prev_webhook_secret_sealed,omitempty"`
	PrevWebhookSecretUntil  *time.Time `dynamodbav:"prev_webhook_secret_until,omitempty"`
	InvoiceOutboundSync     bool       `dynamodbav:"invoice_outbound_sync"`
	CustomerSync            string     `dynamodbav:"customer_sync"`
	Status                  string     `dynamodbav:"status"`
	LastWebhookAt           *time.Time `dynamodbav:"last_webhook_at,omitempty"`
	// MissedWebhooks: when the gateway-sweeper applied an event no webhook
	// had announced (last 24 h; see Webhook).
	MissedWebhooks []time.Time `dynamodbav:"missed_webhooks,omitempty"`
	// Payment link and invoice notification settings (seed 001); nil means
	// the default (see LinkSettings).
	LinkNotifyEmail    *bool     `dynamodbav:"link_notify_email,omitempty"`
	LinkNotifySMS      *bool     `dynamodbav:"link_notify_sms,omitempty"`
	LinkReminders      *bool     `dynamodbav:"link_reminders,omitempty"`
	InvoiceNotifyEmail bool      `dynamodbav:"invoice_notify_email,omitempty"`
	InvoiceNotifySMS   bool      `dynamodbav:"invoice_notify_sms,omitempty"`
	CreatedAt          time.Time `dynamodbav:"created_at"`
	UpdatedAt          time.Time `dynamodbav:"updated_at"`

	// PrevWebhookSecrets are the secrets rotated out, each verifying until
	// its own Until (see trust.go).
	PrevWebhookSecrets []RetiredSecret `dynamodbav:"prev_webhook_secrets,omitempty"`
	// AccountID is the Razorpay account (acc_…) the connection belongs to:
	// set on PUT, or learnt from the first verified webhook
	// (AccountIDLearnt). Webhooks of another account are refused.
	AccountID       string `dynamodbav:"account_id,omitempty"`
	AccountIDLearnt bool   `dynamodbav:"account_id_learnt,omitempty"`
	// International: whether the account takes non-INR payments (nil:
	// not checked, a connection stored before the check existed).
	International *bool `dynamodbav:"international,omitempty"`
}

// Mode is "test" or "live" from the key id's prefix.
func (c Connection) Mode() string { return KeyMode(c.KeyID) }

// KeyMode tells a Razorpay key id's mode.
func KeyMode(keyID string) string {
	if len(keyID) >= 9 && keyID[:9] == "rzp_live_" {
		return "live"
	}
	return "test"
}

// Sync statuses of a customer or invoice at Razorpay.
const (
	SyncNotSynced = "NOT_SYNCED"
	SyncPending   = "PENDING"
	SyncSynced    = "SYNCED"
	SyncFailed    = "FAILED"
)

// Customer is a tenant's customer.
type Customer struct {
	ID         string            `dynamodbav:"id"`
	ExternalID string            `dynamodbav:"external_id"`
	Name       string            `dynamodbav:"name"`
	Email      string            `dynamodbav:"email,omitempty"`
	Phone      string            `dynamodbav:"phone,omitempty"`
	Metadata   map[string]string `dynamodbav:"metadata"`
	// GST: the customer's GSTIN and place of supply (a GSTStates code);
	// both optional, see PlaceOfSupply (tax.go).
	GSTIN        string `dynamodbav:"gstin,omitempty"`
	BillingState string `dynamodbav:"billing_state,omitempty"`
	// Razorpay sync state.
	RazorpayCustomerID string `dynamodbav:"razorpay_customer_id,omitempty"`
	// RazorpayKeyID is the connection key the customer was synced under:
	// after a key change (another Razorpay account) it is synced again.
	RazorpayKeyID string     `dynamodbav:"razorpay_key_id,omitempty"`
	SyncStatus    string     `dynamodbav:"sync_status"`
	SyncError     string     `dynamodbav:"sync_error,omitempty"`
	SyncAttempts  int        `dynamodbav:"sync_attempts"`
	SyncedAt      *time.Time `dynamodbav:"synced_at,omitempty"`
	// SyncLeaseUntil is held by the one sync running for this customer, so
	// concurrent syncs (stream, manual, on demand) create one Razorpay customer.
	SyncLeaseUntil *time.Time `dynamodbav:"sync_lease_until,omitempty"`
	CreatedAt      time.Time  `dynamodbav:"created_at"`
	UpdatedAt      time.Time  `dynamodbav:"updated_at"`
	Version        int64      `dynamodbav:"version"`

	// SyncOnCreate: when the customer was created, the environment's
	// connection was active and syncs new customers at once (ON_CREATE).
	// Only such a customer's INSERT leaves the table stream
	// (schema.StreamFilters); the others are synced on demand or manually.
	SyncOnCreate bool `dynamodbav:"sync_on_create,omitempty"`
}

// SyncedFor reports whether the customer has a Razorpay customer usable
// with the connection key keyID. Customers synced before keys were recorded
// count as synced under any key.
func (c Customer) SyncedFor(keyID string) bool {
	return c.RazorpayCustomerID != "" && (c.RazorpayKeyID == "" || c.RazorpayKeyID == keyID)
}

// Invoice statuses.
const (
	InvoiceDraft     = "DRAFT"
	InvoiceFinalized = "FINALIZED"
	InvoiceVoided    = "VOIDED"
)

// Payment statuses (of an invoice and of a payment).
const (
	PaymentInitiated         = "INITIATED"
	PaymentPending           = "PENDING"
	PaymentProcessing        = "PROCESSING"
	PaymentSucceeded         = "SUCCEEDED"
	PaymentFailed            = "FAILED"
	PaymentRefunded          = "REFUNDED"
	PaymentPartiallyRefunded = "PARTIALLY_REFUNDED"
	PaymentPartiallyPaid     = "PARTIALLY_PAID"
	PaymentOverpaid          = "OVERPAID"
	PaymentCancelled         = "CANCELLED"
	PaymentExpired           = "EXPIRED"
)

// Line item price types.
const (
	PriceUsage = "USAGE"
	PriceFixed = "FIXED"
)

// LineItem is one invoice line. Quantity and UnitAmount are canonical
// decimal strings; Amount is exact minor units.
type LineItem struct {
	DisplayName string `dynamodbav:"display_name"`
	Description string `dynamodbav:"description,omitempty"`
	PriceType   string `dynamodbav:"price_type"`
	Quantity    string `dynamodbav:"quantity"`
	UnitAmount  string `dynamodbav:"unit_amount"`
	Amount      int64  `dynamodbav:"amount"`
	// Set on the lines of a subscription's invoice (period close): the
	// coupon's share of this line (minor units, never above Amount), its
	// GST rate (percent) and SAC code, and the meter of a usage line.
	Discount int64  `dynamodbav:"discount,omitempty"`
	TaxRate  string `dynamodbav:"tax_rate,omitempty"`
	SACCode  string `dynamodbav:"sac_code,omitempty"`
	MeterID  string `dynamodbav:"meter_id,omitempty"`
}

// TaxLine is one tax of an invoice ("CGST 9%") in minor units.
type TaxLine struct {
	Name   string `dynamodbav:"name"`
	Amount int64  `dynamodbav:"amount"`
}

// Invoice is a bill to a customer.
type Invoice struct {
	ID            string     `dynamodbav:"id"`
	CustomerID    string     `dynamodbav:"customer_id"`
	Currency      string     `dynamodbav:"currency"` // upper-case ISO code
	InvoiceNumber string     `dynamodbav:"invoice_number"`
	DueDate       *time.Time `dynamodbav:"due_date,omitempty"`
	PeriodStart   *time.Time `dynamodbav:"period_start,omitempty"`
	PeriodEnd     *time.Time `dynamodbav:"period_end,omitempty"`
	LineItems     []LineItem `dynamodbav:"line_items"`
	Subtotal      int64      `dynamodbav:"subtotal"`
	// Discount (the lines' discounts) and TaxLines (GST, after discount)
	// are set on a subscription's invoice: AmountDue = Subtotal − Discount
	// + the tax lines. A hand-made invoice has neither (AmountDue = Subtotal).
	Discount  int64     `dynamodbav:"discount,omitempty"`
	TaxLines  []TaxLine `dynamodbav:"tax_lines,omitempty"`
	AmountDue int64     `dynamodbav:"amount_due"`
	// SubscriptionID and SubscriptionStep name the subscription and its
	// billing step (0: the opening invoice; n: the close of period n) that
	// made this invoice.
	SubscriptionID   string            `dynamodbav:"subscription_id,omitempty"`
	SubscriptionStep int               `dynamodbav:"subscription_step,omitempty"`
	AmountPaid       int64             `dynamodbav:"amount_paid"`
	AmountRefunded   int64             `dynamodbav:"amount_refunded"`
	InvoiceStatus    string            `dynamodbav:"invoice_status"`
	PaymentStatus    string            `dynamodbav:"payment_status"`
	Metadata         map[string]string `dynamodbav:"metadata"`
	// OpenPaymentID is the PENDING payment link of this invoice, if any: the
	// conditional write on it is what makes "one open link per invoice" hold.
	OpenPaymentID string `dynamodbav:"open_payment_id,omitempty"`
	// FailedAttempts and LastPaymentError record failed tries at the synced
	// Razorpay invoice's short_url (there is no Razorbill payment to hold them).
	FailedAttempts   int    `dynamodbav:"failed_attempts,omitempty"`
	LastPaymentError string `dynamodbav:"last_payment_error,omitempty"`
	// Razorpay sync state.
	RazorpayInvoiceID string     `dynamodbav:"razorpay_invoice_id,omitempty"`
	RazorpayShortURL  string     `dynamodbav:"razorpay_short_url,omitempty"`
	SyncStatus        string     `dynamodbav:"sync_status"`
	SyncError         string     `dynamodbav:"sync_error,omitempty"`
	SyncErrorCode     string     `dynamodbav:"sync_error_code,omitempty"`
	SyncAttempts      int        `dynamodbav:"sync_attempts"`
	SyncedAt          *time.Time `dynamodbav:"synced_at,omitempty"`
	SyncLeaseUntil    *time.Time `dynamodbav:"sync_lease_until,omitempty"`
	FinalizedAt       *time.Time `dynamodbav:"finalized_at,omitempty"`
	VoidedAt          *time.Time `dynamodbav:"voided_at,omitempty"`
	PaidAt            *time.Time `dynamodbav:"paid_at,omitempty"`
	CreatedAt         time.Time  `dynamodbav:"created_at"`
	UpdatedAt         time.Time  `dynamodbav:"updated_at"`
	Version           int64      `dynamodbav:"version"`

	// SyncOnFinalize: when the invoice was finalized it had something to
	// collect and the environment's connection was active with invoice
	// outbound sync on. Only such an invoice's DRAFT→FINALIZED change leaves
	// the table stream (schema.StreamFilters); the others are synced by a
	// payment request (when outbound sync is on by then) or manually.
	SyncOnFinalize bool `dynamodbav:"sync_on_finalize,omitempty"`
}

// AmountRemaining is what is still to pay (never negative).
func (inv Invoice) AmountRemaining() int64 {
	if r := inv.AmountDue - inv.AmountPaid; r > 0 {
		return r
	}
	return 0
}

// Payment is one attempt to collect money for an invoice.
type Payment struct {
	ID                string `dynamodbav:"id"`
	DestinationID     string `dynamodbav:"destination_id"`
	DestinationType   string `dynamodbav:"destination_type"`
	CustomerID        string `dynamodbav:"customer_id"`
	Amount            int64  `dynamodbav:"amount"`
	Currency          string `dynamodbav:"currency"`
	PaymentStatus     string `dynamodbav:"payment_status"`
	PaymentMethodType string `dynamodbav:"payment_method_type"`
	PaymentGateway    string `dynamodbav:"payment_gateway"`
	ProcessPayment    bool   `dynamodbav:"process_payment"`
	SuccessURL        string `dynamodbav:"success_url,omitempty"`
	PaymentURL        string `dynamodbav:"payment_url,omitempty"`
	GatewayTrackingID string `dynamodbav:"gateway_tracking_id,omitempty"`
	GatewayPaymentID  string `dynamodbav:"gateway_payment_id,omitempty"`
	PaymentMethod     string `dynamodbav:"payment_method,omitempty"`
	AmountReceived    int64  `dynamodbav:"amount_received"`
	ErrorCode         string `dynamodbav:"error_code,omitempty"`
	ErrorMessage      string `dynamodbav:"error_message,omitempty"`
	RefundedAmount    int64  `dynamodbav:"refunded_amount,omitempty"`
	// RefundPending is requested at Razorpay and not yet settled by a
	// refund.processed or refund.failed webhook.
	RefundPending int64 `dynamodbav:"refund_pending,omitempty"`
	// Captures are the Razorpay payments this payment received, one entry
	// each, oldest first (a Razorpay invoice can be paid in parts).
	Captures []Capture `dynamodbav:"captures,omitempty"`
	// ClaimedUntil is when a PENDING payment's claim on its invoice may be
	// taken over by another request if it still has no payment_url: until
	// then the request that made it is presumed to be waiting on Razorpay.
	ClaimedUntil *time.Time `dynamodbav:"claimed_until,omitempty"`
	// CancelRequestedAt is when Razorbill was about to ask Razorpay to
	// cancel the payment's link (written before the call): a sweep that
	// finds the link cancelled does not count that as a missed webhook.
	CancelRequestedAt *time.Time        `dynamodbav:"cancel_requested_at,omitempty"`
	Attempts          int               `dynamodbav:"attempts,omitempty"`
	Metadata          map[string]string `dynamodbav:"metadata"`
	SucceededAt       *time.Time        `dynamodbav:"succeeded_at,omitempty"`
	FailedAt          *time.Time        `dynamodbav:"failed_at,omitempty"`
	CreatedAt         time.Time         `dynamodbav:"created_at"`
	UpdatedAt         time.Time         `dynamodbav:"updated_at"`
	Version           int64             `dynamodbav:"version"`
}

// Capture is one Razorpay payment's money received by a Razorbill payment.
type Capture struct {
	RazorpayPaymentID string    `dynamodbav:"razorpay_payment_id"`
	Amount            int64     `dynamodbav:"amount"`
	CapturedAt        time.Time `dynamodbav:"captured_at"`
	// Refunded is how much of this capture Razorpay has refunded.
	Refunded int64 `dynamodbav:"refunded,omitempty"`
	// RefundPending is reserved for refunds of this capture not yet settled.
	RefundPending int64 `dynamodbav:"refund_pending,omitempty"`
}

// Page is one page of a list.
type Page[T any] struct {
	Data    []T
	HasMore bool
	// Next is where the next page starts (starting_after) when HasMore: the
	// last item's id, or the last item read when a filtered page ended early.
	Next string
}

// ListOptions page through a list newest first.
type ListOptions struct {
	Limit         int
	StartingAfter string
}

// Idempotency record statuses.
const (
	IdempotencyInProgress = "INPROGRESS"
	IdempotencyCompleted  = "COMPLETED"
)

// IdempotencyRecord is a stored Idempotency-Key outcome (Powertools'
// record: key, status, expiry, in-progress expiry, payload hash, response).
type IdempotencyRecord struct {
	Key              string `dynamodbav:"idem_key"`
	Status           string `dynamodbav:"status"`
	RequestHash      string `dynamodbav:"request_hash"`
	ResponseStatus   int    `dynamodbav:"response_status"`
	ResponseBody     string `dynamodbav:"response_body"`
	InProgressExpiry int64  `dynamodbav:"in_progress_expiry"`
	TTL              int64  `dynamodbav:"ttl"`
}

// InvoiceFilter narrows a list of invoices.
type InvoiceFilter struct {
	CustomerID string
	Status     string // an invoice_status or a payment_status
}

// Sync request kinds.
const (
	SyncCustomer = "customer"
	SyncInvoice  = "invoice"
	// SyncCustomerSynced asks the invoice syncer to retry the customer's
	// invoices that failed with customer_not_synced.
	SyncCustomerSynced = "customer_synced"
)

// SyncRequest asks a syncer to push one record to Razorpay.
type SyncRequest struct {
	Kind          string `json:"kind"`
	TenantID      string `json:"tenant_id"`
	EnvironmentID string `json:"environment_id"`
	ID            string `json:"id"`
	Reason        string `json:"reason"` // manual, created, finalized, customer_synced
}

// Gateway event statuses.
const (
	GatewayEventUnmatched = "UNMATCHED"
	GatewayEventApplied   = "APPLIED"
)

// GatewayEvent is a Razorpay event that could not be applied: parked,
// listed by the API and retried on request — never dropped.
type GatewayEvent struct {
	ID         string     `dynamodbav:"id"`
	EventID    string     `dynamodbav:"event_id"`
	Event      string     `dynamodbav:"event"`
	Status     string     `dynamodbav:"status"`
	Reason     string     `dynamodbav:"reason"`
	Body       string     `dynamodbav:"body"`
	Attempts   int        `dynamodbav:"attempts"`
	ReceivedAt time.Time  `dynamodbav:"received_at"`
	CreatedAt  time.Time  `dynamodbav:"created_at"`
	UpdatedAt  time.Time  `dynamodbav:"updated_at"`
	AppliedAt  *time.Time `dynamodbav:"applied_at,omitempty"`
	Version    int64      `dynamodbav:"version"`
}
