// Package payments turns a payment request for an invoice into a Razorpay
// payment link (seed 001), exactly once: one open payment per invoice is a
// conditional write made before Razorpay is called, the link's reference_id
// is our payment id, and a crash between Razorpay's create and our store is
// healed on retry by looking the link up by reference_id — never a second
// link. It also requests refunds, idempotently.
package payments

import (
	"context"
	"errors"
	"fmt"
	"net/url"
	"strings"
	"time"

	"github.com/razorbill/razorbill/internal/apperr"
	"github.com/razorbill/razorbill/internal/billing"
	"github.com/razorbill/razorbill/internal/dynamo"
	"github.com/razorbill/razorbill/internal/ids"
	"github.com/razorbill/razorbill/internal/money"
	"github.com/razorbill/razorbill/internal/razorpay"
	"github.com/razorbill/razorbill/internal/rzsync"
)

// Store is what the service reads and writes.
type Store interface {
	Connection(ctx context.Context, sc billing.Scope) (billing.Connection, bool, error)
	Customer(ctx context.Context, sc billing.Scope, id string) (billing.Customer, error)
	Invoice(ctx context.Context, sc billing.Scope, id string) (billing.Invoice, error)
	UpdateInvoice(ctx context.Context, sc billing.Scope, inv billing.Invoice, expected int64) error
	Payment(ctx context.Context, sc billing.Scope, id string) (billing.Payment, error)
	CreatePayment(ctx context.Context, sc billing.Scope, p billing.Payment) error
	UpdatePayment(ctx context.Context, sc billing.Scope, p billing.Payment, expected int64) error
	SavePaymentAndInvoice(ctx context.Context, sc billing.Scope, p billing.Payment, expectedPayment int64, inv billing.Invoice, expectedInvoice int64, refs map[string]string) error
	ListPayments(ctx context.Context, sc billing.Scope, destinationID string, opt billing.ListOptions) (billing.Page[billing.Payment], error)
	// Applied reads the reconciler's marker for a Razorpay payment (or
	// "failed:<id>"): whether it was applied already.
	Applied(ctx context.Context, sc billing.Scope, key string) (dynamo.Marker, bool, error)
}

// Gateway is the part of the Razorpay client the service calls.
type Gateway interface {
	CreatePaymentLink(ctx context.Context, cr razorpay.Credentials, in razorpay.PaymentLinkInput) (razorpay.PaymentLink, error)
	FindPaymentLinkByReference(ctx context.Context, cr razorpay.Credentials, referenceID string) (razorpay.PaymentLink, bool, error)
	Refund(ctx context.Context, cr razorpay.Credentials, paymentID string, in razorpay.RefundInput) (razorpay.Refund, error)
}

// InvoiceSyncer syncs an invoice to Razorpay on demand, under the same
// lease as the queue-driven syncer (rzsync.Syncer.SyncInvoiceWaiting). The
// invoice it returns has RazorpayShortURL set when a Razorpay invoice is
// the invoice's instrument.
type InvoiceSyncer interface {
	SyncInvoiceWaiting(ctx context.Context, sc billing.Scope, id string) (billing.Invoice, error)
}

// CustomerSyncer syncs a customer on demand.
type CustomerSyncer interface {
	SyncCustomer(ctx context.Context, sc billing.Scope, id string) (billing.Customer, error)
}

// Service creates payments and refunds.
type Service struct {
	Store     Store
	Gateway   Gateway
	Customers CustomerSyncer
	// Invoices makes the Razorpay invoice the instrument when the
	// connection syncs invoices (invoice_outbound_sync); nil: never.
	Invoices   InvoiceSyncer
	Secrets    rzsync.Opener
	Minimums   *money.Minimums
	LinkExpiry time.Duration
	Now        func() time.Time
	// RefundGrace is how long a refund part of unknown outcome may stay
	// missing from Razorpay's refund list before it fails (default
	// DefaultRefundGrace; see settleRefund).
	RefundGrace time.Duration
	// Instruments cancels and fetches links and Razorpay invoices
	// (instruments.go); Applier applies money found paid at Razorpay.
	Instruments InstrumentGateway
	Applier     Applier
	// ClaimWindow is how long a new payment's claim on its invoice holds
	// while it has no link yet (DefaultClaimWindow when zero).
	ClaimWindow time.Duration
}

// DefaultClaimWindow outlasts the payment-link-creator function's 25 s
// timeout (infra/cdk/functions.go): a claim younger than this may belong to
// a request still waiting on Razorpay, so it is not taken over.
const DefaultClaimWindow = 30 * time.Second

func (s *Service) claimWindow() time.Duration {
	if s.ClaimWindow > 0 {
		return s.ClaimWindow
	}
	return DefaultClaimWindow
}

// holdsInvoice: a PENDING or PROCESSING (authorized, not captured) payment
// holds its invoice; no second instrument is made while it does.
func holdsInvoice(p billing.Payment) bool {
	switch p.PaymentStatus {
	case billing.PaymentPending, billing.PaymentProcessing:
		return true
	case billing.PaymentPartiallyPaid:
		// Part paid at its instrument (a Razorpay invoice paid in parts):
		// the rest is paid there too, not through a second instrument.
		return true
	}
	return false
}

// claimAlive: a PENDING payment without a link whose claim has not run
// out (a record without ClaimedUntil counts from its last update).
func (s *Service) claimAlive(p billing.Payment, now time.Time) bool {
	until := p.UpdatedAt.Add(s.claimWindow())
	if p.ClaimedUntil != nil {
		until = *p.ClaimedUntil
	}
	return now.Before(until)
}

// linkExists is the 409 for a request that finds the invoice held: the
// holding payment's id and its URL (null while the link is being made).
func linkExists(invID string, open billing.Payment) error {
	var url any
	msg := fmt.Sprintf("invoice %s already has an open payment %s; pay it or let it expire", invID, open.ID)
	if open.PaymentURL != "" {
		url = open.PaymentURL
	} else {
		msg = fmt.Sprintf("invoice %s already has a payment %s whose link is being created; retry shortly", invID, open.ID)
	}
	return conflict("payment_link_exists", "%s", msg).WithDetails(map[string]any{"payment_id": open.ID, "payment_url": url})
}

func (s *Service) now() time.Time {
	if s.Now != nil {
		return s.Now().UTC()
	}
	return time.Now().UTC()
}

// CreateInput is POST /api/v1/payments.
type CreateInput struct {
	Amount            string
	AmountSet         bool
	Currency          string
	DestinationID     string
	DestinationType   string
	PaymentMethodType string
	PaymentGateway    string
	ProcessPayment    *bool
	SuccessURL        string
	Metadata          map[string]string
}

func invalid(code, field, format string, args ...any) error {
	return apperr.InvalidField(code, field, format, args...)
}

func conflict(code, format string, args ...any) *apperr.Error {
	return apperr.E(apperr.Conflict, code, format, args...)
}

func (in CreateInput) validate() error {
	if !in.AmountSet || in.Amount == "" {
		return invalid("validation_failed", "amount", "amount is required")
	}
	if in.Currency == "" {
		return invalid("validation_failed", "currency", "currency is required")
	}
	if in.DestinationID == "" {
		return invalid("validation_failed", "destination_id", "destination_id is required: the invoice to pay")
	}
	if !strings.EqualFold(in.DestinationType, "INVOICE") {
		return invalid("validation_failed", "destination_type", "destination_type must be INVOICE")
	}
	if !strings.EqualFold(in.PaymentMethodType, "PAYMENT_LINK") {
		return invalid("validation_failed", "payment_method_type", "payment_method_type must be PAYMENT_LINK")
	}
	if in.PaymentGateway != "" && !strings.EqualFold(in.PaymentGateway, "razorpay") {
		return invalid("validation_failed", "payment_gateway", "payment_gateway must be razorpay")
	}
	if in.SuccessURL != "" {
		u, err := url.Parse(in.SuccessURL)
		if err != nil || (u.Scheme != "https" && u.Scheme != "http") || u.Host == "" || len(in.SuccessURL) > 2048 {
			return invalid("validation_failed", "success_url", "success_url must be an absolute http(s) URL")
		}
	}
	return billing.ValidateMetadata(in.Metadata, "metadata")
}

// createTries bounds how often Create starts again after its claim lost to
// a write that left the invoice free (errInvoiceMoved).
const createTries = 3

// errInvoiceMoved: the claim's conditional write lost to another write of
// the invoice (the invoice-syncer storing a sync, say), and the invoice is
// still free and payable: the request can simply start again.
var errInvoiceMoved = apperr.E(apperr.Conflict, apperr.CodeConcurrentUpdate, "the invoice changed while this request ran; retry")

// Create validates a payment request and returns the payment: a new
// PENDING payment with a Razorpay payment link (or the synced Razorpay
// invoice's URL), or an INITIATED record when process_payment is false.
// A claim that lost only to another write of the invoice (it is still
// free) is tried again from the start, up to createTries times, before
// the client sees 409 concurrent_update.
func (s *Service) Create(ctx context.Context, sc billing.Scope, in CreateInput) (billing.Payment, error) {
	if err := in.validate(); err != nil {
		return billing.Payment{}, err
	}
	for try := 1; ; try++ {
		p, err := s.create(ctx, sc, in)
		if !errors.Is(err, errInvoiceMoved) || try == createTries || ctx.Err() != nil {
			return p, err
		}
	}
}

func (s *Service) create(ctx context.Context, sc billing.Scope, in CreateInput) (billing.Payment, error) {
	inv, err := s.Store.Invoice(ctx, sc, in.DestinationID)
	if err != nil {
		if apperr.Is(err, apperr.NotFound) {
			return billing.Payment{}, &apperr.Error{Kind: apperr.NotFound, Code: "not_found", Field: "destination_id", Message: fmt.Sprintf("invoice %s was not found", in.DestinationID)}
		}
		return billing.Payment{}, err
	}
	cur, amount, err := s.checkInvoice(inv, in)
	if err != nil {
		return billing.Payment{}, err
	}
	now := s.now()
	pay := billing.Payment{
		ID: ids.New(ids.Payment), DestinationID: inv.ID, DestinationType: "INVOICE", CustomerID: inv.CustomerID,
		Amount: amount, Currency: cur.Code, PaymentMethodType: "PAYMENT_LINK", PaymentGateway: "razorpay",
		ProcessPayment: in.ProcessPayment == nil || *in.ProcessPayment, SuccessURL: in.SuccessURL,
		Metadata: copyMap(in.Metadata), CreatedAt: now, UpdatedAt: now, Version: 1,
	}
	if !pay.ProcessPayment {
		pay.PaymentStatus = billing.PaymentInitiated
		return pay, s.Store.CreatePayment(ctx, sc, pay)
	}
	conn, err := rzsync.ActiveConnection(ctx, s.Store, sc)
	if err != nil {
		return pay, err
	}
	if err := conn.CheckCurrency(cur.Code); err != nil {
		return pay, err // 409 international_not_enabled, before anything is written
	}
	if inv.OpenPaymentID != "" {
		open, err := s.Store.Payment(ctx, sc, inv.OpenPaymentID)
		if err != nil && !apperr.Is(err, apperr.NotFound) {
			return pay, err
		}
		if err == nil && holdsInvoice(open) {
			if open.PaymentStatus == billing.PaymentPending && open.PaymentURL == "" && open.Amount == amount && open.Currency == cur.Code && !s.claimAlive(open, now) {
				// The request that claimed it stopped (its claim ran out)
				// between our write and Razorpay's answer: exactly one
				// request takes the claim over and finishes it.
				taken, err := s.takeClaim(ctx, sc, open, now)
				if err != nil {
					if apperr.HasCode(err, apperr.CodeConcurrentUpdate) {
						return pay, linkExists(inv.ID, open)
					}
					return pay, err
				}
				return s.createLink(ctx, sc, conn, taken, inv, nil)
			}
			return pay, linkExists(inv.ID, open)
		}
	}
	cus, err := s.Store.Customer(ctx, sc, inv.CustomerID)
	if err != nil {
		return pay, err
	}
	if !cus.SyncedFor(conn.KeyID) {
		cus, err = s.Customers.SyncCustomer(ctx, sc, cus.ID)
		if err != nil {
			if apperr.Retryable(err) {
				return pay, err
			}
			e := conflict("customer_not_synced", "Customer not found in Razorpay: the customer %s could not be synced (%s)", inv.CustomerID, describe(err))
			return pay, e.WithCause(err)
		}
	}
	// Earlier links of this invoice that Razorpay still shows created
	// (after a failed attempt, say) are cancelled before a new one exists.
	if err := s.closeEarlierLinks(ctx, sc, conn, inv, ""); err != nil {
		return pay, err
	}
	// With invoice outbound sync on, the Razorpay invoice is the invoice's
	// one instrument: sync it now if the syncer has not yet (same lease,
	// same find-or-create) and hand out its short_url. A sync Razorpay
	// refuses for good leaves no Razorpay invoice, so a link is made.
	if conn.InvoiceOutboundSync && inv.RazorpayShortURL == "" && s.Invoices != nil {
		synced, err := s.Invoices.SyncInvoiceWaiting(ctx, sc, inv.ID)
		if err != nil && apperr.Retryable(err) {
			return pay, err
		}
		// The sync wrote the invoice (lease, result or failure): claim on
		// what is stored now, not on what was read before it.
		if err != nil || synced.RazorpayShortURL == "" {
			if synced, err = s.Store.Invoice(ctx, sc, inv.ID); err != nil {
				return pay, err
			}
		}
		if _, _, err := s.checkInvoice(synced, in); err != nil {
			return pay, err
		}
		if synced.OpenPaymentID != "" { // claimed while we waited for the sync
			if open, err := s.Store.Payment(ctx, sc, synced.OpenPaymentID); err == nil && holdsInvoice(open) {
				return pay, linkExists(inv.ID, open)
			}
		}
		inv = synced
	}
	// Claim the invoice: one open payment per invoice, decided by a
	// conditional write on the invoice's version before Razorpay is called.
	refs := map[string]string{}
	if inv.RazorpayShortURL != "" {
		pay.PaymentStatus = billing.PaymentPending
		pay.PaymentURL, pay.GatewayTrackingID = inv.RazorpayShortURL, inv.RazorpayInvoiceID
		pay.Metadata["razorpay_invoice_id"] = inv.RazorpayInvoiceID
	} else {
		pay.PaymentStatus = billing.PaymentPending
		until := now.Add(s.claimWindow())
		pay.ClaimedUntil = &until
	}
	expected := inv.Version
	inv.Version++
	inv.OpenPaymentID, inv.UpdatedAt = pay.ID, now
	if err := s.Store.SavePaymentAndInvoice(ctx, sc, pay, 0, inv, expected, refs); err != nil {
		if apperr.HasCode(err, apperr.CodeConcurrentUpdate) {
			return s.afterLostClaim(ctx, sc, in)
		}
		return pay, err
	}
	if pay.PaymentURL != "" {
		return pay, nil
	}
	inv.Version = expected + 1
	return s.createLink(ctx, sc, conn, pay, inv, &cus)
}

// afterLostClaim answers a request that lost the race for the invoice.
func (s *Service) afterLostClaim(ctx context.Context, sc billing.Scope, in CreateInput) (billing.Payment, error) {
	inv, err := s.Store.Invoice(ctx, sc, in.DestinationID)
	if err != nil {
		return billing.Payment{}, err
	}
	if inv.OpenPaymentID != "" {
		open, err := s.Store.Payment(ctx, sc, inv.OpenPaymentID)
		if err == nil {
			return billing.Payment{}, linkExists(inv.ID, open)
		}
	}
	if _, _, err := s.checkInvoice(inv, in); err != nil {
		return billing.Payment{}, err
	}
	return billing.Payment{}, errInvoiceMoved
}

func (s *Service) checkInvoice(inv billing.Invoice, in CreateInput) (money.Currency, int64, error) {
	switch {
	case inv.InvoiceStatus == billing.InvoiceVoided:
		return money.Currency{}, 0, conflict("invoice_voided", "invoice %s is voided", inv.ID)
	case inv.InvoiceStatus == billing.InvoiceDraft:
		return money.Currency{}, 0, conflict("invoice_not_finalized", "invoice %s is a DRAFT; finalize it before asking for payment", inv.ID)
	case inv.Paid() || inv.AmountRemaining() == 0:
		return money.Currency{}, 0, conflict("invoice_already_paid", "invoice %s is already paid", inv.ID)
	}
	cur, err := money.LookupCurrency(in.Currency)
	if err != nil {
		return cur, 0, invalid("validation_failed", "currency", "%v", err)
	}
	invCur := money.MustCurrency(inv.Currency)
	if cur.Code != invCur.Code {
		return cur, 0, invalid("currency_mismatch", "currency", "currency %s does not match the invoice's currency %s", cur.Lower(), invCur.Lower())
	}
	amount, err := money.Parse(in.Amount, cur)
	if err != nil {
		var me *money.Error
		msg := err.Error()
		if errors.As(err, &me) {
			msg = me.Message
		}
		return cur, 0, invalid("invalid_invoice_amount", "amount", "%s", msg)
	}
	remaining := inv.AmountRemaining()
	if amount != remaining {
		return cur, 0, apperr.InvalidField("invalid_invoice_amount", "amount", "amount %s %s must equal the invoice's amount remaining, %s %s", money.Format(amount, cur), cur.Code, money.Format(remaining, cur), cur.Code).
			WithDetails(map[string]any{"amount_remaining": money.Format(remaining, cur)})
	}
	if err := money.CheckMinimum(amount, cur, s.Minimums); err != nil {
		return cur, 0, invalid("amount_below_minimum", "amount", "%s", err.Error())
	}
	if _, err := money.ToRazorpay(amount, cur); err != nil {
		return cur, 0, invalid("invalid_invoice_amount", "amount", "%s", err.Error())
	}
	return cur, amount, nil
}

// createLink calls Razorpay for a claimed PENDING payment and stores the
// link. cus is the payment's customer as the request read (and synced) it;
// nil: read it.
func (s *Service) createLink(ctx context.Context, sc billing.Scope, conn billing.Connection, pay billing.Payment, inv billing.Invoice, cus *billing.Customer) (billing.Payment, error) {
	cr, err := rzsync.Credentials(ctx, s.Secrets, conn)
	if err != nil {
		return pay, err
	}
	if cus == nil {
		c, err := s.Store.Customer(ctx, sc, pay.CustomerID)
		if err != nil {
			return pay, err
		}
		cus = &c
	}
	cur := money.MustCurrency(pay.Currency)
	rzAmount, err := money.ToRazorpay(pay.Amount, cur)
	if err != nil {
		return pay, invalid("invalid_invoice_amount", "amount", "%s", err.Error())
	}
	expire := s.now().Add(s.linkExpiry())
	if inv.DueDate != nil && inv.DueDate.After(s.now().Add(16*time.Minute)) {
		expire = *inv.DueDate
	}
	if latest := s.now().Add(MaxLinkExpiry); expire.After(latest) {
		expire = latest // Razorpay refuses expire_by beyond 6 months after creation
	}
	rzc := rzsync.CustomerFields(*cus) // only what Razorpay accepts
	notifyEmail, notifySMS, reminders := linkSettings(conn)
	in := razorpay.PaymentLinkInput{
		Amount: rzAmount, Currency: cur.Code, ReferenceID: pay.ID,
		Description: LinkDescription(inv),
		NotifyEmail: notifyEmail, NotifySMS: notifySMS, ReminderEnable: reminders,
		Customer: razorpay.LinkCustomer{Name: rzc.Name, Email: rzc.Email, Contact: rzc.Contact},
		Notes: map[string]string{
			"razorbill_payment_id": pay.ID, "razorbill_invoice_id": inv.ID, "invoice_number": inv.InvoiceNumber,
			"tenant_id": sc.TenantID, "environment_id": sc.EnvironmentID,
		},
		CallbackURL: pay.SuccessURL,
		ExpireBy:    expire,
	}
	// Razorpay is called only within the claim's window, so a request
	// that takes an expired claim over never races this one at Razorpay.
	rctx, cancel := context.WithTimeout(ctx, s.claimWindow()*9/10)
	defer cancel()
	link, err := s.Gateway.CreatePaymentLink(rctx, cr, in)
	if err != nil {
		// Either Razorpay refused a second link with our reference_id (an
		// earlier attempt created it and crashed before storing it) or the
		// outcome is unknown: look the link up before giving up.
		found, ok, ferr := s.Gateway.FindPaymentLinkByReference(rctx, cr, pay.ID)
		switch {
		case ferr == nil && ok:
			link, err = found, nil
		case razorpay.IsDuplicateReference(err):
			// The link exists at Razorpay (maybe already sent to the
			// customer) but could not be read now: never fail the payment
			// and free the invoice for a second link; retry instead.
			s.releaseClaim(ctx, sc, pay)
			if ferr == nil {
				ferr = fmt.Errorf("payment link with reference_id %s exists but was not found", pay.ID)
			}
			return pay, apperr.Wrap(ferr, apperr.Transient, "razorpay_unavailable", "the payment link exists at Razorpay but could not be read; retry")
		}
	}
	if err != nil {
		if apperr.Retryable(err) || rctx.Err() != nil {
			// Razorpay unreachable: give the claim up so the client's
			// retry finishes this payment at once.
			s.releaseClaim(ctx, sc, pay)
			return pay, err
		}
		if refusal := rzsync.InternationalRefusal(ctx, s.Store, sc, pay.Currency, err); refusal != err { //nolint:errorlint // identity on purpose: InternationalRefusal hands err back itself when it is no refusal
			_ = s.linkFailed(ctx, sc, pay, err) // the payment is FAILED and the invoice free again
			return pay, refusal
		}
		return pay, s.linkFailed(ctx, sc, pay, err)
	}
	// No ref item maps the link to the payment: the link's reference_id is
	// the payment's id, and webhooks carry it (reconcile.findTarget).
	expected := pay.Version
	pay.Version++
	pay.GatewayTrackingID, pay.PaymentURL, pay.UpdatedAt, pay.ClaimedUntil = link.ID, link.ShortURL, s.now(), nil
	if err := s.Store.UpdatePayment(ctx, sc, pay, expected); err != nil {
		if apperr.HasCode(err, apperr.CodeConcurrentUpdate) { // a webhook moved it already: show the current state
			return s.Store.Payment(ctx, sc, pay.ID)
		}
		return pay, err
	}
	return pay, nil
}

// takeClaim takes over an expired claim with a conditional write on the
// payment's version (of several requests exactly one wins) and restarts
// its window.
func (s *Service) takeClaim(ctx context.Context, sc billing.Scope, p billing.Payment, now time.Time) (billing.Payment, error) {
	expected := p.Version
	p.Version++
	until := now.Add(s.claimWindow())
	p.ClaimedUntil, p.UpdatedAt = &until, now
	if err := s.Store.UpdatePayment(ctx, sc, p, expected); err != nil {
		return p, err
	}
	return p, nil
}

// releaseClaim ends the claim of a payment whose request gives up without a
// link (best effort, also after the request's context ended: if it fails,
// the claim simply runs out).
func (s *Service) releaseClaim(ctx context.Context, sc billing.Scope, p billing.Payment) {
	ctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), 3*time.Second)
	defer cancel()
	now := s.now()
	expected := p.Version
	p.Version++
	p.ClaimedUntil, p.UpdatedAt = &now, now
	_ = s.Store.UpdatePayment(ctx, sc, p, expected)
}

// MaxLinkExpiry is the latest a payment link may expire, counted from its
// creation: Razorpay refuses expire_by more than 6 months after creation;
// 180 days less an hour stays inside that whatever the month lengths and
// the clock skew.
const MaxLinkExpiry = 180*24*time.Hour - time.Hour

func (s *Service) linkExpiry() time.Duration {
	if s.LinkExpiry > 0 {
		return s.LinkExpiry
	}
	return 7 * 24 * time.Hour
}

// linkFailed marks the payment FAILED with Razorpay's reason and frees the invoice.
func (s *Service) linkFailed(ctx context.Context, sc billing.Scope, pay billing.Payment, cause error) error {
	desc := describe(cause)
	for attempt := 0; attempt < 5; attempt++ {
		inv, err := s.Store.Invoice(ctx, sc, pay.DestinationID)
		if err != nil {
			break
		}
		cur, err := s.Store.Payment(ctx, sc, pay.ID)
		if err != nil {
			break
		}
		ep, ei := cur.Version, inv.Version
		t := s.now()
		cur.Version++
		cur.PaymentStatus, cur.FailedAt, cur.UpdatedAt = billing.PaymentFailed, &t, t
		cur.ErrorCode, cur.ErrorMessage = codeOf(cause), desc
		if inv.OpenPaymentID == pay.ID {
			inv.OpenPaymentID = ""
			inv.Version++
			inv.UpdatedAt = t
			err = s.Store.SavePaymentAndInvoice(ctx, sc, cur, ep, inv, ei, nil)
		} else {
			err = s.Store.UpdatePayment(ctx, sc, cur, ep)
		}
		if err == nil || !apperr.HasCode(err, apperr.CodeConcurrentUpdate) {
			break
		}
	}
	refused := desc
	var api *razorpay.APIError
	if errors.As(cause, &api) && api.Description != "" {
		refused = api.Summary() // api.md: Razorpay's error code and description
	}
	return (&apperr.Error{Kind: apperr.Permanent, Code: "razorpay_link_creation_failed", Message: "Razorpay refused to create the payment link: " + refused, Err: cause}).
		WithDetails(map[string]any{"payment_id": pay.ID})
}

func codeOf(err error) string {
	var api *razorpay.APIError
	if errors.As(err, &api) && api.Code != "" {
		return api.Code
	}
	if e := apperr.As(err); e != nil {
		return e.Code
	}
	return "error"
}

func describe(err error) string {
	var api *razorpay.APIError
	if errors.As(err, &api) && api.Description != "" {
		return api.Description
	}
	return apperr.PublicMessage(err)
}

func copyMap(m map[string]string) map[string]string {
	out := make(map[string]string, len(m))
	for k, v := range m {
		out[k] = v
	}
	return out
}

// Get reads a payment.
func (s *Service) Get(ctx context.Context, sc billing.Scope, id string) (billing.Payment, error) {
	return s.Store.Payment(ctx, sc, id)
}

// List pages through payments, optionally of one invoice.
func (s *Service) List(ctx context.Context, sc billing.Scope, destinationID string, opt billing.ListOptions) (billing.Page[billing.Payment], error) {
	return s.Store.ListPayments(ctx, sc, destinationID, opt)
}
