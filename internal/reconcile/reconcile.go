// Package reconcile is the payment-reconciler: it applies queued Razorpay
// events to payments and invoices, each Razorpay payment's money exactly
// once. The guard sits where the effect is written: one DynamoDB transaction
// writes a marker keyed by the Razorpay payment (or refund) id — condition:
// it does not exist — together with the payment and the invoice, each
// conditional on its version. Duplicate deliveries, payment.captured +
// payment_link.paid + invoice.paid for one payment in any order and
// concurrent consumers all end with the money counted once: a transaction
// cancelled by the marker is success (already applied), not an error.
//
// The refs a money effect needs (Razorpay payment → ours) are written in
// that same transaction, so nothing of it exists unless the money does.
// Events are matched by server-side references (payment link, its
// reference_id, Razorpay payment, order, Razorpay invoice) first; Razorbill
// ids in notes, which a payer can set, are used only when none is known, and
// the money is then confirmed at Razorpay (GET /v1/payments/{id}) and
// applied at Razorpay's amount. A payment's status is derived from its
// amounts (billing.Payment.SettleStatus), so an older event never moves it
// backwards.
//
// An event that matches nothing — or money for a VOIDED invoice — is parked
// as UNMATCHED (visible through the API, retryable), never dropped, once
// per Razorpay event. Transient failures are returned so SQS redelivers the
// message (and, after the retry limit, moves it to the DLQ).
package reconcile

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"strings"
	"sync"
	"time"

	"github.com/aws/aws-lambda-go/events"

	"github.com/razorbill/razorbill/internal/apperr"
	"github.com/razorbill/razorbill/internal/billing"
	"github.com/razorbill/razorbill/internal/dynamo"
	"github.com/razorbill/razorbill/internal/ids"
	"github.com/razorbill/razorbill/internal/logx"
	"github.com/razorbill/razorbill/internal/money"
	"github.com/razorbill/razorbill/internal/razorpay"
	"github.com/razorbill/razorbill/internal/rzsync"
)

// Store is what the reconciler reads and writes.
type Store interface {
	Payment(ctx context.Context, sc billing.Scope, id string) (billing.Payment, error)
	CreatePayment(ctx context.Context, sc billing.Scope, p billing.Payment) error
	UpdatePayment(ctx context.Context, sc billing.Scope, p billing.Payment, expected int64) error
	Invoice(ctx context.Context, sc billing.Scope, id string) (billing.Invoice, error)
	UpdateInvoice(ctx context.Context, sc billing.Scope, inv billing.Invoice, expected int64) error
	SavePaymentAndInvoice(ctx context.Context, sc billing.Scope, p billing.Payment, expectedPayment int64, inv billing.Invoice, expectedInvoice int64, refs map[string]string) error
	ApplyMoney(ctx context.Context, sc billing.Scope, m dynamo.Marker, p billing.Payment, expectedPayment int64, inv billing.Invoice, expectedInvoice int64, refs ...map[string]string) error
	ApplyToInvoice(ctx context.Context, sc billing.Scope, m dynamo.Marker, inv billing.Invoice, expectedInvoice int64) error
	Applied(ctx context.Context, sc billing.Scope, key string) (dynamo.Marker, bool, error)
	Ref(ctx context.Context, sc billing.Scope, rzpID string) (string, bool, error)
	PutRef(ctx context.Context, sc billing.Scope, rzpID, ourID string) error
	ParkEvent(ctx context.Context, sc billing.Scope, e billing.GatewayEvent) (billing.GatewayEvent, error)
	GatewayEvent(ctx context.Context, sc billing.Scope, id string) (billing.GatewayEvent, error)
	UpdateGatewayEvent(ctx context.Context, sc billing.Scope, e billing.GatewayEvent, expected int64) error
	TouchConnectionWebhook(ctx context.Context, sc billing.Scope, at time.Time) error
	Connection(ctx context.Context, sc billing.Scope) (billing.Connection, bool, error)
	LearnConnectionAccount(ctx context.Context, sc billing.Scope, accountID string) (bool, error)
}

// Gateway is the part of the Razorpay client the reconciler calls: it
// confirms a payment matched only by its notes.
type Gateway interface {
	FetchPayment(ctx context.Context, cr razorpay.Credentials, id string) (razorpay.Payment, error)
}

// Reconciler applies events.
type Reconciler struct {
	Store Store
	// Gateway and Secrets (the connection's key) confirm money matched only
	// by notes; without them such money is parked.
	Gateway Gateway
	Secrets rzsync.Opener
	Log     *slog.Logger
	Now     func() time.Time

	touchMu sync.Mutex
	touched map[billing.Scope]time.Time // last last_webhook_at written, per connection
}

// TouchEvery is how often, at most, one warm reconciler writes a
// connection's last_webhook_at while its webhook is HEALTHY: the stored time
// is then at most this much older than the newest webhook applied.
const TouchEvery = time.Minute

const touchedMax = 4096

// touch records that a webhook received at at was applied. While the
// connection's webhook is HEALTHY it writes at most once per TouchEvery per
// connection; when it is SILENT or NEVER_RECEIVED it always writes, so the
// status recovers with the first webhook that follows. A failed write is
// forgotten, so the next event tries again.
func (r *Reconciler) touch(ctx context.Context, sc billing.Scope, conn billing.Connection, at time.Time) {
	healthy := conn.Webhook(r.now()).Status == billing.WebhookHealthy
	r.touchMu.Lock()
	if last, ok := r.touched[sc]; healthy && ok && at.Sub(last) < TouchEvery {
		r.touchMu.Unlock()
		return
	}
	if r.touched == nil || len(r.touched) >= touchedMax {
		r.touched = map[billing.Scope]time.Time{}
	}
	r.touched[sc] = at
	r.touchMu.Unlock()
	if err := r.Store.TouchConnectionWebhook(ctx, sc, at); err != nil {
		r.touchMu.Lock()
		if r.touched[sc].Equal(at) {
			delete(r.touched, sc)
		}
		r.touchMu.Unlock()
	}
}

func (r *Reconciler) now() time.Time {
	if r.Now != nil {
		return r.Now().UTC()
	}
	return time.Now().UTC()
}

// errUnmatched parks an event with a reason.
type errUnmatched struct{ reason string }

func (e *errUnmatched) Error() string { return e.reason }

func unmatched(format string, args ...any) error {
	return &errUnmatched{reason: fmt.Sprintf(format, args...)}
}

// HandleSQS is the Lambda handler. Messages of one message group are
// processed in order, one after another; after a message fails, the later
// messages of the same group are reported failed too (FIFO order within a
// group must hold) and SQS redelivers them; other groups go on. Different
// groups of a batch (different invoices) are processed side by side, up
// to groupsAtOnce at a time, so a batch waits on DynamoDB about as long as
// its longest group rather than the sum of all of them; the exactly-once
// guard is the conditional write, as between concurrent invocations.
func (r *Reconciler) HandleSQS(ctx context.Context, ev events.SQSEvent) (events.SQSEventResponse, error) {
	var groups [][]events.SQSMessage
	index := map[string]int{}
	for _, rec := range ev.Records {
		g := rec.Attributes["MessageGroupId"]
		i, ok := index[g]
		if !ok {
			i = len(groups)
			index[g] = i
			groups = append(groups, nil)
		}
		groups[i] = append(groups[i], rec)
	}
	failed := make([]map[string]bool, len(groups))
	sem := make(chan struct{}, groupsAtOnce)
	var wg sync.WaitGroup
	for i, recs := range groups {
		sem <- struct{}{}
		wg.Go(func() {
			defer func() { <-sem }()
			failed[i] = r.handleGroup(ctx, recs)
		})
	}
	wg.Wait()
	var resp events.SQSEventResponse
	for _, rec := range ev.Records {
		if failed[index[rec.Attributes["MessageGroupId"]]][rec.MessageId] {
			resp.BatchItemFailures = append(resp.BatchItemFailures, events.SQSBatchItemFailure{ItemIdentifier: rec.MessageId})
		}
	}
	return resp, nil
}

// groupsAtOnce bounds the message groups of one batch processed at once
// (a batch holds at most 10 messages).
const groupsAtOnce = 10

// handleGroup processes one group's messages in order and returns the ids
// of those that failed: the first failure and every message after it.
func (r *Reconciler) handleGroup(ctx context.Context, recs []events.SQSMessage) map[string]bool {
	failed := map[string]bool{}
	for i, rec := range recs {
		if deadlineNear(ctx) {
			for _, rest := range recs[i:] {
				failed[rest.MessageId] = true
			}
			break
		}
		if err := r.handleMessage(ctx, rec); err != nil {
			r.Log.ErrorContext(ctx, "event not applied; it will be retried", "message_id", rec.MessageId, "error", err.Error())
			for _, rest := range recs[i:] {
				failed[rest.MessageId] = true
			}
			break
		}
	}
	return failed
}

func deadlineNear(ctx context.Context) bool {
	d, ok := ctx.Deadline()
	return ok && time.Until(d) < 2*time.Second
}

func (r *Reconciler) handleMessage(ctx context.Context, rec events.SQSMessage) error {
	var m billing.EventMessage
	if err := json.Unmarshal([]byte(rec.Body), &m); err != nil || m.TenantID == "" || m.EnvironmentID == "" {
		// Not something our receiver wrote: nothing to park it under. Log and
		// let it go to the DLQ after the retries, where it stays visible.
		return apperr.E(apperr.Internal, "bad_message", "message %s is not a Razorbill event message", rec.MessageId)
	}
	sc := billing.Scope{TenantID: m.TenantID, EnvironmentID: m.EnvironmentID}
	ctx = logx.With(ctx, "tenant_id", sc.TenantID, "environment_id", sc.EnvironmentID, "event", m.Event, "event_id", m.EventID)
	conn, err := r.trustAndApply(ctx, sc, m)
	if err == nil {
		r.touch(ctx, sc, conn, m.ReceivedAt)
		return nil
	}
	var um *errUnmatched
	if errors.As(err, &um) || !apperr.Retryable(err) {
		reason := err.Error()
		if um == nil {
			reason = apperr.PublicMessage(err)
		}
		return r.park(ctx, sc, m, reason)
	}
	return err
}

// parkedID is the parked record's id, derived from the Razorpay event id
// (or, without one, the body) and the event's created_at: a redelivery of
// the event finds the record it parked before instead of adding one.
func parkedID(m billing.EventMessage) string {
	key := m.EventID
	if key == "" {
		h := sha256.Sum256([]byte(m.Body))
		key = "sha256-" + hex.EncodeToString(h[:])
	}
	var at time.Time
	if ev, err := razorpay.ParseEvent([]byte(m.Body)); err == nil {
		at = ev.CreatedAt
	}
	return ids.Derived(ids.Event, at, key)
}

func (r *Reconciler) park(ctx context.Context, sc billing.Scope, m billing.EventMessage, reason string) error {
	now := r.now()
	e := billing.GatewayEvent{ID: parkedID(m), EventID: m.EventID, Event: m.Event, Status: billing.GatewayEventUnmatched,
		Reason: reason, Body: m.Body, Attempts: 1, ReceivedAt: m.ReceivedAt, CreatedAt: now, UpdatedAt: now, Version: 1}
	e, err := r.Store.ParkEvent(ctx, sc, e)
	if err != nil {
		return err
	}
	r.Log.WarnContext(ctx, "event parked as UNMATCHED", "gateway_event_id", e.ID, "reason", reason)
	return nil
}

// Retry re-applies a parked event; it stays UNMATCHED (with the new reason)
// when it still matches nothing.
func (r *Reconciler) Retry(ctx context.Context, sc billing.Scope, id string) (billing.GatewayEvent, error) {
	e, err := r.Store.GatewayEvent(ctx, sc, id)
	if err != nil {
		return e, err
	}
	if e.Status == billing.GatewayEventApplied {
		return e, nil
	}
	msg := billing.EventMessage{TenantID: sc.TenantID, EnvironmentID: sc.EnvironmentID, EventID: e.EventID, Event: e.Event, ReceivedAt: e.ReceivedAt, Body: e.Body}
	_, aerr := r.trustAndApply(ctx, sc, msg)
	var um *errUnmatched
	if aerr != nil && !errors.As(aerr, &um) && apperr.Retryable(aerr) {
		return e, aerr
	}
	expected := e.Version
	e.Version++
	e.Attempts++
	e.UpdatedAt = r.now()
	if aerr == nil {
		t := r.now()
		e.Status, e.AppliedAt, e.Reason = billing.GatewayEventApplied, &t, ""
	} else if um != nil {
		e.Reason = um.reason
	} else {
		e.Reason = apperr.PublicMessage(aerr)
	}
	if err := r.Store.UpdateGatewayEvent(ctx, sc, e, expected); err != nil {
		return e, err
	}
	return e, nil
}

// trusted decides whether a queued webhook may be applied: its connection
// is active (an event queued before a DELETE, or retried after one, is
// parked with the reason) and the event is of the connection's Razorpay
// account. A connection without an account learns it from its first
// verified event; a learnt or configured account is never overwritten here.
// acct is the event's account_id ("" when its body could not be read).
func (r *Reconciler) trusted(ctx context.Context, sc billing.Scope, acct string) (billing.Connection, error) {
	conn, ok, err := r.Store.Connection(ctx, sc)
	if err != nil {
		return conn, err
	}
	if !ok || conn.Status != billing.ConnectionActive {
		return conn, unmatched("the Razorpay connection of this environment is disabled; the event was not applied (PUT the connection again, then retry it)")
	}
	switch {
	case conn.AccountID != "" && acct != conn.AccountID:
		return conn, unmatched("the event is for Razorpay account %q, not the connection's account %s; it was not applied", acct, conn.AccountID)
	case conn.AccountID == "" && acct != "":
		learnt, err := r.Store.LearnConnectionAccount(ctx, sc, acct)
		if err != nil {
			return conn, err
		}
		if !learnt { // another event set it first: it must be this account
			if now, ok, err := r.Store.Connection(ctx, sc); err != nil {
				return conn, err
			} else if ok && now.AccountID != "" && now.AccountID != acct {
				return conn, unmatched("the event is for Razorpay account %q, not the connection's account %s; it was not applied", acct, now.AccountID)
			}
		}
	}
	return conn, nil
}

// trustAndApply parses m's event once, checks it against the environment's
// connection (trusted) and applies it, a capture's first reads made in one
// request (prefetch); it returns the connection trusted read.
func (r *Reconciler) trustAndApply(ctx context.Context, sc billing.Scope, m billing.EventMessage) (billing.Connection, error) {
	ev, perr := razorpay.ParseEvent([]byte(m.Body))
	if perr == nil {
		ctx = r.prefetch(ctx, sc, ev)
	}
	conn, err := r.trusted(ctx, sc, ev.AccountID)
	if err == nil {
		err = r.applyParsed(ctx, sc, ev, perr, &conn)
	}
	return conn, err
}

// Apply applies one event.
func (r *Reconciler) Apply(ctx context.Context, sc billing.Scope, m billing.EventMessage) error {
	return r.apply(ctx, sc, m, nil)
}

// apply applies one event; conn, when not nil, is the environment's active
// connection as trusted just read it, so confirming a payment at Razorpay
// does not read it again.
func (r *Reconciler) apply(ctx context.Context, sc billing.Scope, m billing.EventMessage, conn *billing.Connection) error {
	ev, err := razorpay.ParseEvent([]byte(m.Body))
	return r.applyParsed(ctx, sc, ev, err, conn)
}

// applyParsed is apply of the event its body parsed to (parseErr: it did not).
func (r *Reconciler) applyParsed(ctx context.Context, sc billing.Scope, ev razorpay.Event, parseErr error, conn *billing.Connection) error {
	if parseErr != nil {
		return unmatched("the event body could not be read: %v", parseErr)
	}
	if isCapture(ev.Name) {
		return r.applyCapture(ctx, sc, ev, conn)
	}
	switch ev.Name {
	case "payment.failed":
		return r.applyFailure(ctx, sc, ev)
	case "payment.authorized":
		return r.applyAuthorized(ctx, sc, ev)
	case "payment_link.expired", "payment_link.cancelled":
		return r.applyLinkClosed(ctx, sc, ev)
	case "invoice.expired":
		return r.applyInvoiceExpired(ctx, sc, ev)
	case "refund.processed", "refund.failed":
		return r.applyRefund(ctx, sc, ev)
	}
	return nil // acknowledged and ignored
}

// isCapture reports the events that carry captured money (applyCapture).
func isCapture(name string) bool {
	switch name {
	case "payment.captured", "payment_link.paid", "payment_link.partially_paid", "invoice.paid", "invoice.partially_paid":
		return true
	}
	return false
}

// prefetcher is a store that reads several items in one request
// (dynamo.Store.Prefetch).
type prefetcher interface {
	Prefetch(ctx context.Context, sc billing.Scope, p dynamo.Prefetch) context.Context
}

// prefetch reads a capture event's first two reads — the connection
// (trusted) and the Razorpay payment's marker (applyCapture) — in one
// request, when the store can. Other events read the connection alone.
func (r *Reconciler) prefetch(ctx context.Context, sc billing.Scope, ev razorpay.Event) context.Context {
	p, ok := r.Store.(prefetcher)
	if !ok || !isCapture(ev.Name) || ev.Payment == nil || ev.Payment.ID == "" {
		return ctx
	}
	return p.Prefetch(ctx, sc, dynamo.Prefetch{Connection: true, Markers: []string{ev.Payment.ID}})
}

// prefetchTarget reads, in one request, the payment and invoice that
// findTarget will read one after the other for money not yet applied: the
// payment a link's reference_id names (or, for a payment that is not a
// Razorpay invoice's, its notes' razorbill_payment_id) and the invoice its
// notes name. A guess findTarget does not follow (notes naming another
// invoice than the payment's) is left unread in the batch; findTarget's
// reads decide, as without it.
func (r *Reconciler) prefetchTarget(ctx context.Context, sc billing.Scope, ev razorpay.Event) context.Context {
	p, ok := r.Store.(prefetcher)
	if !ok {
		return ctx
	}
	payID, invID := "", ""
	if ev.PaymentLink != nil && ids.Valid(ids.Payment, ev.PaymentLink.ReferenceID) {
		payID = ev.PaymentLink.ReferenceID
	}
	notePay, invID := noteIDs(ev)
	if razorpayInvoice := ev.Invoice != nil || (ev.Payment != nil && ev.Payment.InvoiceID != ""); payID == "" && !razorpayInvoice {
		payID = notePay
	}
	if payID == "" || invID == "" {
		return ctx
	}
	return p.Prefetch(ctx, sc, dynamo.Prefetch{Entities: []string{payID, invID}})
}

// target is the payment and invoice an event is about.
type target struct {
	pay billing.Payment
	has bool // pay is set
	inv billing.Invoice
	// byNotes: only the entities' notes named the target. A payer can set a
	// payment's notes (Standard Checkout), so money matched this way is
	// confirmed at Razorpay before it is applied.
	byNotes bool
}

// findTarget matches an event to our payment and invoice. Server-side
// references come first: the payment link's reference_id (our payment id:
// Razorbill sets it and Razorpay keeps it unique per account, so no ref
// item is stored for a link; a closed link that is not the payment's own
// is unmatched, see applyLinkClosed, and money on one is confirmed at
// Razorpay, see inDoubt), the Razorpay payment, the refunded payment and the Razorpay
// invoice, each mapped to ours by a stored ref. Only when none
// of them is known are the Razorbill ids in the notes used, and the target
// is marked byNotes. A Razorpay order is not looked up: Razorbill stores no
// ref for one (a payment link's order exists only once someone opens the
// link, and Razorpay's create response does not name it; a Razorpay
// invoice's payments carry the invoice id), so the read would always miss.
func (r *Reconciler) findTarget(ctx context.Context, sc billing.Scope, ev razorpay.Event) (target, error) {
	return r.findTargetKnowing(ctx, sc, ev, "")
}

// findTargetKnowing is findTarget for a caller that has just read the
// marker of the Razorpay payment unmarked: that id's ref (its marker) is
// not read again.
func (r *Reconciler) findTargetKnowing(ctx context.Context, sc billing.Scope, ev razorpay.Event, unmarked string) (target, error) {
	var t target
	payID, invID := "", ""
	lookups := []string{}
	if ev.PaymentLink != nil && ids.Valid(ids.Payment, ev.PaymentLink.ReferenceID) {
		payID = ev.PaymentLink.ReferenceID // set by us when the link was created
	}
	if ev.Payment != nil {
		lookups = append(lookups, ev.Payment.ID)
	}
	if ev.Refund != nil {
		lookups = append(lookups, ev.Refund.PaymentID)
	}
	for _, id := range lookups {
		if payID != "" || id == "" || id == unmarked {
			continue
		}
		ours, ok, err := r.Store.Ref(ctx, sc, id)
		if err != nil {
			return t, err
		}
		if ok && strings.HasPrefix(ours, ids.Payment) {
			payID = ours
		}
	}
	// A Razorpay invoice synced from ours (paid at its short_url).
	rzInv := ""
	if ev.Invoice != nil {
		rzInv = ev.Invoice.ID
	} else if ev.Payment != nil {
		rzInv = ev.Payment.InvoiceID
	}
	if payID == "" && rzInv != "" {
		ours, ok, err := r.Store.Ref(ctx, sc, rzInv)
		if err != nil {
			return t, err
		}
		if ok && strings.HasPrefix(ours, ids.Invoice) {
			invID = ours
		}
	}
	if payID == "" && invID == "" {
		payID, invID = noteIDs(ev)
		t.byNotes = payID != "" || invID != ""
	}
	if payID != "" {
		p, err := r.Store.Payment(ctx, sc, payID)
		if err != nil {
			if apperr.Is(err, apperr.NotFound) {
				return t, unmatched("payment %s named by the event does not exist in this environment", payID)
			}
			return t, err
		}
		inv, err := r.Store.Invoice(ctx, sc, p.DestinationID)
		if err != nil {
			if apperr.Is(err, apperr.NotFound) {
				return t, unmatched("invoice %s of payment %s does not exist", p.DestinationID, p.ID)
			}
			return t, err
		}
		t.pay, t.has, t.inv = p, true, inv
		return t, nil
	}
	if invID == "" {
		return t, unmatched("no payment or invoice in this environment matches %s", describeEvent(ev))
	}
	inv, err := r.Store.Invoice(ctx, sc, invID)
	if err != nil {
		if apperr.Is(err, apperr.NotFound) {
			return t, unmatched("invoice %s named by the event does not exist in this environment", invID)
		}
		return t, err
	}
	t.inv = inv
	if inv.OpenPaymentID != "" {
		p, err := r.Store.Payment(ctx, sc, inv.OpenPaymentID)
		if err != nil && !apperr.Is(err, apperr.NotFound) {
			return t, err // a failed read is retried, never taken for "no open payment"
		}
		if err == nil && (rzInv == "" || p.GatewayTrackingID == rzInv) {
			t.pay, t.has = p, true
		}
	}
	return t, nil
}

// noteIDs are the first valid Razorbill payment and invoice ids among the
// notes of the event's entities (a payer can set notes: findTarget uses
// them last).
func noteIDs(ev razorpay.Event) (payID, invID string) {
	for _, n := range eventNotes(ev) {
		if id := n["razorbill_payment_id"]; payID == "" && ids.Valid(ids.Payment, id) {
			payID = id
		}
		if id := n["razorbill_invoice_id"]; invID == "" && ids.Valid(ids.Invoice, id) {
			invID = id
		}
	}
	return payID, invID
}

// eventNotes are the notes of every entity the event carries.
func eventNotes(ev razorpay.Event) []map[string]string {
	var out []map[string]string
	if ev.Payment != nil {
		out = append(out, ev.Payment.Notes)
	}
	if ev.PaymentLink != nil {
		out = append(out, ev.PaymentLink.Notes)
	}
	if ev.Order != nil {
		out = append(out, ev.Order.Notes)
	}
	if ev.Invoice != nil {
		out = append(out, ev.Invoice.Notes)
	}
	if ev.Refund != nil {
		out = append(out, ev.Refund.Notes)
	}
	return out
}

func describeEvent(ev razorpay.Event) string {
	parts := []string{ev.Name}
	if ev.Payment != nil {
		parts = append(parts, "payment "+ev.Payment.ID)
	}
	if ev.PaymentLink != nil {
		parts = append(parts, "payment link "+ev.PaymentLink.ID)
	}
	if ev.Invoice != nil {
		parts = append(parts, "invoice "+ev.Invoice.ID)
	}
	if ev.Refund != nil {
		parts = append(parts, "refund "+ev.Refund.ID)
	}
	return strings.Join(parts, ", ")
}

// retry runs f until it does not lose a version race.
func retry(f func() error) error {
	var err error
	for attempt := 0; attempt < 20; attempt++ {
		err = f()
		if err == nil || !dynamo.IsStale(err) {
			return err
		}
		time.Sleep(time.Duration(attempt*attempt) * 5 * time.Millisecond)
	}
	return apperr.Wrap(err, apperr.Transient, "contention", "too many concurrent updates; retry")
}

func (r *Reconciler) applyCapture(ctx context.Context, sc billing.Scope, ev razorpay.Event, conn *billing.Connection) error {
	if ev.Payment == nil || ev.Payment.ID == "" {
		return unmatched("%s carries no payment entity: there is no money to apply", ev.Name)
	}
	rp := *ev.Payment
	if rp.Status != "" && rp.Status != "captured" && rp.Status != "refunded" {
		// invoice.paid and payment_link.paid snapshot a captured payment;
		// anything else is not money received yet.
		return unmatched("payment %s is %s, not captured", rp.ID, rp.Status)
	}
	if _, done, err := r.Store.Applied(ctx, sc, rp.ID); err != nil || done {
		return err
	}
	// The first attempt reads the payment and invoice in one request; an
	// attempt after a lost race reads them afresh.
	first := r.prefetchTarget(ctx, sc, ev)
	confirmed := false
	// The marker was just read and is absent, so the first look-up skips
	// it (the money transaction's condition on it still decides); after a
	// lost race it is read again.
	unmarked := rp.ID
	return retry(func() error {
		t, err := r.findTargetKnowing(first, sc, ev, unmarked)
		unmarked, first = "", ctx
		if err != nil {
			return err
		}
		if (t.byNotes || inDoubt(t, ev, rp)) && !confirmed {
			// Matched by notes alone, or the event disagrees with our
			// records: apply what Razorpay says, not the payload.
			got, err := r.confirm(ctx, sc, rp.ID, conn)
			if err != nil {
				return err
			}
			rp, confirmed = got, true
		}
		if t.inv.InvoiceStatus == billing.InvoiceVoided {
			return unmatched("invoice %s is VOIDED: payment %s captured at Razorpay is not applied to it; refund it at Razorpay", t.inv.ID, rp.ID)
		}
		cur, err := money.LookupCurrency(rp.Currency)
		if err != nil {
			return unmatched("payment %s has currency %q: %v", rp.ID, rp.Currency, err)
		}
		if cur.Code != t.inv.Currency {
			return unmatched("payment %s is in %s but invoice %s is in %s", rp.ID, cur.Code, t.inv.ID, t.inv.Currency)
		}
		amount := money.FromRazorpay(rp.Amount)
		if amount <= 0 {
			return unmatched("payment %s has amount %d", rp.ID, rp.Amount)
		}
		now := r.now()
		pay, expectedPay := t.pay, t.pay.Version
		if !t.has {
			// Paid at Razorpay without a Razorbill payment (a synced invoice's
			// short_url): record one for what the invoice still asks.
			due := t.inv.AmountRemaining()
			if due <= 0 {
				due = amount
			}
			pay = billing.Payment{ID: ids.New(ids.Payment), DestinationID: t.inv.ID, DestinationType: "INVOICE", CustomerID: t.inv.CustomerID,
				Amount: due, Currency: cur.Code, PaymentStatus: billing.PaymentPending, PaymentMethodType: "PAYMENT_LINK", PaymentGateway: "razorpay", ProcessPayment: true,
				GatewayTrackingID: t.inv.RazorpayInvoiceID, PaymentURL: t.inv.RazorpayShortURL, Metadata: map[string]string{}, CreatedAt: now}
			expectedPay = 0
		}
		if pay.Currency != cur.Code {
			return unmatched("payment %s is in %s but Razorbill payment %s is in %s", rp.ID, cur.Code, pay.ID, pay.Currency)
		}
		// A second Razorpay payment on a link already paid is still money
		// received: it is counted on the invoice (OVERPAID if so).
		pay.Version = expectedPay + 1
		pay.AmountReceived += amount
		pay.Captures = append(pay.Captures, billing.Capture{RazorpayPaymentID: rp.ID, Amount: amount, CapturedAt: now})
		pay.PaymentStatus = pay.SettleStatus()
		pay.GatewayPaymentID = rp.ID
		if rp.Method != "" {
			pay.PaymentMethod = rp.Method
		}
		pay.ErrorCode, pay.ErrorMessage = "", ""
		if pay.SucceededAt == nil && pay.PaymentStatus == billing.PaymentSucceeded {
			pay.SucceededAt = &now
		}
		pay.UpdatedAt = now

		inv := t.inv
		expectedInv := inv.Version
		inv.Version++
		inv.AmountPaid += amount
		inv.ApplyPaymentStatus(now)
		switch {
		case inv.OpenPaymentID == pay.ID && (inv.Paid() || pay.GatewayTrackingID != inv.RazorpayInvoiceID):
			inv.OpenPaymentID = ""
		case !t.has && inv.OpenPaymentID == "" && !inv.Paid():
			// Partly paid at the short_url: the next part joins this payment.
			inv.OpenPaymentID = pay.ID
		}
		inv.UpdatedAt = now
		m := dynamo.Marker{RazorpayPaymentID: rp.ID, PaymentID: pay.ID, InvoiceID: inv.ID, Amount: amount, Event: ev.Name, AppliedAt: now.Format(time.RFC3339Nano)}
		// The ref Razorpay payment → ours is written with the money, never
		// without it: a ref to a payment that was never stored cannot exist.
		err = r.Store.ApplyMoney(ctx, sc, m, pay, expectedPay, inv, expectedInv, map[string]string{rp.ID: pay.ID})
		if errors.Is(err, dynamo.ErrAlreadyApplied) {
			return nil
		}
		if err == nil {
			r.Log.InfoContext(ctx, "payment applied", "razorpay_payment_id", rp.ID, "payment_id", pay.ID, "invoice_id", inv.ID, "amount", amount, "invoice_payment_status", inv.PaymentStatus)
		}
		return err
	})
}

// inDoubt reports an event whose references disagree with the payment link
// we hold: it names another link than the payment's, or its amount is not
// the link's (our links take no partial payments).
func inDoubt(t target, ev razorpay.Event, rp razorpay.Payment) bool {
	if !t.has || !strings.HasPrefix(t.pay.GatewayTrackingID, "plink_") {
		return false
	}
	if ev.PaymentLink != nil && ev.PaymentLink.ID != "" && ev.PaymentLink.ID != t.pay.GatewayTrackingID {
		return true
	}
	return rp.Amount != 0 && money.FromRazorpay(rp.Amount) != t.pay.Amount
}

// confirm reads a Razorpay payment matched only by its notes from Razorpay
// (GET /v1/payments/{id}) with the environment's connection: it must be
// captured (or since refunded). An answer that is not a transient failure
// parks the event.
func (r *Reconciler) confirm(ctx context.Context, sc billing.Scope, rzpPaymentID string, known *billing.Connection) (razorpay.Payment, error) {
	if r.Gateway == nil || r.Secrets == nil {
		return razorpay.Payment{}, unmatched("payment %s must be confirmed at Razorpay (matched by payer-settable notes alone, or its event disagrees with our records) and this reconciler cannot call Razorpay", rzpPaymentID)
	}
	var conn billing.Connection
	var err error
	if known != nil && known.Status == billing.ConnectionActive {
		conn = *known
	} else {
		conn, err = rzsync.ActiveConnection(ctx, r.Store, sc)
	}
	if err == nil {
		var cr razorpay.Credentials
		if cr, err = rzsync.Credentials(ctx, r.Secrets, conn); err == nil {
			var got razorpay.Payment
			if got, err = r.Gateway.FetchPayment(ctx, cr, rzpPaymentID); err == nil {
				if got.ID != rzpPaymentID || (got.Status != "captured" && got.Status != "refunded") {
					return got, unmatched("payment %s was confirmed at Razorpay, which shows it %s, not captured", rzpPaymentID, got.Status)
				}
				return got, nil
			}
		}
	}
	if apperr.Retryable(err) {
		return razorpay.Payment{}, err
	}
	return razorpay.Payment{}, unmatched("payment %s could not be confirmed at Razorpay: %s", rzpPaymentID, apperr.PublicMessage(err))
}

// holdsMoney: the payment has received money (or was refunded), so no
// failure or closed link can make it FAILED.
func holdsMoney(p billing.Payment) bool {
	return p.AmountReceived > 0 || p.PaymentStatus == billing.PaymentSucceeded || p.PaymentStatus == billing.PaymentRefunded || p.PaymentStatus == billing.PaymentPartiallyRefunded
}

// settledWithoutMoney: a payment we cancelled ourselves stays CANCELLED;
// Razorpay's payment_link.cancelled or a late failed try only confirms it.
func settledWithoutMoney(p billing.Payment) bool {
	return p.PaymentStatus == billing.PaymentCancelled
}

func (r *Reconciler) applyFailure(ctx context.Context, sc billing.Scope, ev razorpay.Event) error {
	if ev.Payment == nil || ev.Payment.ID == "" {
		return unmatched("payment.failed carries no payment entity")
	}
	rp := *ev.Payment
	key := "failed:" + rp.ID
	if _, done, err := r.Store.Applied(ctx, sc, key); err != nil || done {
		return err
	}
	return retry(func() error {
		t, err := r.findTarget(ctx, sc, ev)
		if err != nil {
			return err
		}
		now := r.now()
		m := dynamo.Marker{RazorpayPaymentID: key, PaymentID: t.pay.ID, InvoiceID: t.inv.ID, Event: ev.Name, AppliedAt: now.Format(time.RFC3339Nano)}
		// A failed try at the synced invoice's short_url (whether or not a
		// Razorbill payment handed that URL out): the Razorpay invoice stays
		// payable, so the payment keeps holding the invoice and the invoice
		// records the try (once per Razorpay payment).
		atShortURL := t.has && t.pay.GatewayTrackingID != "" &&
			(t.pay.GatewayTrackingID == rp.InvoiceID || t.pay.GatewayTrackingID == t.inv.RazorpayInvoiceID)
		if !t.has || atShortURL {
			if t.inv.ID == "" {
				return unmatched("payment.failed for %s matches no Razorbill payment", rp.ID)
			}
			inv := t.inv
			ei := inv.Version
			inv.Version++
			inv.FailedAttempts++
			inv.LastPaymentError = failureText(rp)
			inv.UpdatedAt = now
			err := r.Store.ApplyToInvoice(ctx, sc, m, inv, ei)
			if errors.Is(err, dynamo.ErrAlreadyApplied) {
				return nil
			}
			return err
		}
		pay, inv := t.pay, t.inv
		ep, ei := pay.Version, inv.Version
		pay.Version++
		pay.Attempts++
		pay.UpdatedAt = now
		// A failed try never undoes money received, nor our own cancel.
		if !holdsMoney(pay) && !settledWithoutMoney(pay) {
			pay.PaymentStatus = billing.PaymentFailed
			pay.FailedAt = &now
			pay.ErrorCode, pay.ErrorMessage = rp.ErrorCode, rp.ErrorDescription
			if rp.Method != "" {
				pay.PaymentMethod = rp.Method
			}
		}
		inv.Version++
		inv.UpdatedAt = now
		if inv.OpenPaymentID == pay.ID && pay.PaymentStatus == billing.PaymentFailed {
			inv.OpenPaymentID = "" // free the invoice for a new link
		}
		err = r.Store.ApplyMoney(ctx, sc, m, pay, ep, inv, ei)
		if errors.Is(err, dynamo.ErrAlreadyApplied) {
			return nil
		}
		return err
	})
}

func failureText(rp razorpay.Payment) string {
	switch {
	case rp.ErrorCode != "" && rp.ErrorDescription != "":
		return rp.ErrorCode + ": " + rp.ErrorDescription
	case rp.ErrorDescription != "":
		return rp.ErrorDescription
	case rp.ErrorCode != "":
		return rp.ErrorCode
	}
	return "payment " + rp.ID + " failed"
}

// applyAuthorized marks a payment PROCESSING (authorized, not yet captured)
// unless its Razorpay payment already failed or was captured — a late
// payment.authorized never moves a status backwards. PROCESSING holds the
// invoice like PENDING: an invoice freed by an earlier failed try is held
// again by this payment if nothing else holds it.
func (r *Reconciler) applyAuthorized(ctx context.Context, sc billing.Scope, ev razorpay.Event) error {
	if ev.Payment == nil {
		return unmatched("payment.authorized carries no payment entity")
	}
	rpID := ev.Payment.ID
	return retry(func() error {
		t, err := r.findTarget(ctx, sc, ev)
		if err != nil {
			return err
		}
		if !t.has {
			if t.inv.ID != "" {
				return nil // a try at the synced invoice's short_url: its capture or failure will follow
			}
			return unmatched("payment.authorized for %s matches no Razorbill payment", rpID)
		}
		// Read after the payment: a failure or capture written since would
		// have changed the payment's version, and the write below would lose.
		for _, key := range []string{"failed:" + rpID, rpID} {
			if _, done, err := r.Store.Applied(ctx, sc, key); err != nil || done {
				return err
			}
		}
		pay, inv := t.pay, t.inv
		if holdsMoney(pay) || (pay.PaymentStatus != billing.PaymentPending && pay.PaymentStatus != billing.PaymentFailed) {
			return nil // already further along
		}
		expected := pay.Version
		pay.Version++
		pay.PaymentStatus = billing.PaymentProcessing
		pay.FailedAt, pay.ErrorCode, pay.ErrorMessage = nil, "", ""
		if ev.Payment.Method != "" {
			pay.PaymentMethod = ev.Payment.Method
		}
		pay.UpdatedAt = r.now()
		if inv.OpenPaymentID == "" && inv.InvoiceStatus == billing.InvoiceFinalized && !inv.Paid() {
			ei := inv.Version
			inv.Version++
			inv.OpenPaymentID, inv.UpdatedAt = pay.ID, pay.UpdatedAt
			return r.Store.SavePaymentAndInvoice(ctx, sc, pay, expected, inv, ei, nil)
		}
		return r.Store.UpdatePayment(ctx, sc, pay, expected)
	})
}

func (r *Reconciler) applyLinkClosed(ctx context.Context, sc billing.Scope, ev razorpay.Event) error {
	if ev.PaymentLink == nil {
		return unmatched("%s carries no payment link", ev.Name)
	}
	return retry(func() error {
		t, err := r.findTarget(ctx, sc, ev)
		if err != nil {
			return err
		}
		if !t.has {
			return unmatched("%s for %s matches no Razorbill payment", ev.Name, ev.PaymentLink.ID)
		}
		if own := t.pay.GatewayTrackingID; own != "" && own != ev.PaymentLink.ID {
			// Razorpay keeps reference_id unique per account: only a link
			// made outside Razorbill with our payment id as its reference
			// gets here (the payment's instrument is another link, or a
			// Razorpay invoice). An empty one is a link made at Razorpay
			// and not stored yet: its own.
			return unmatched("%s for %s names payment %s, whose link is %s", ev.Name, ev.PaymentLink.ID, t.pay.ID, own)
		}
		return r.closePayment(ctx, sc, t, strings.ReplaceAll(ev.Name, ".", "_"), "the payment link "+strings.TrimPrefix(ev.Name, "payment_link."))
	})
}

// closePayment fails an unpaid payment whose link or invoice closed at
// Razorpay and frees its invoice for a new link.
func (r *Reconciler) closePayment(ctx context.Context, sc billing.Scope, t target, code, msg string) error {
	pay, inv := t.pay, t.inv
	if holdsMoney(pay) || settledWithoutMoney(pay) {
		return nil
	}
	ep, ei := pay.Version, inv.Version
	now := r.now()
	pay.Version++
	pay.PaymentStatus, pay.FailedAt, pay.ErrorCode, pay.ErrorMessage, pay.UpdatedAt = billing.PaymentFailed, &now, code, msg, now
	if inv.OpenPaymentID != pay.ID {
		return r.Store.UpdatePayment(ctx, sc, pay, ep)
	}
	inv.Version++
	inv.OpenPaymentID, inv.UpdatedAt = "", now
	return r.Store.SavePaymentAndInvoice(ctx, sc, pay, ep, inv, ei, nil)
}

func (r *Reconciler) applyInvoiceExpired(ctx context.Context, sc billing.Scope, ev razorpay.Event) error {
	if ev.Invoice == nil {
		return unmatched("invoice.expired carries no invoice")
	}
	return retry(func() error {
		t, err := r.findTarget(ctx, sc, ev)
		if err != nil {
			return err
		}
		if t.has && t.pay.GatewayTrackingID == ev.Invoice.ID {
			if err := r.closePayment(ctx, sc, t, "invoice_expired", "the Razorpay invoice expired"); err != nil {
				return err
			}
			if t.inv, err = r.Store.Invoice(ctx, sc, t.inv.ID); err != nil {
				return err
			}
		}
		inv := t.inv
		// A part-paid payment whose instrument was the expired Razorpay
		// invoice keeps its money but no longer holds the invoice: the rest
		// is collected through a new instrument.
		freeOpen := false
		if inv.OpenPaymentID != "" {
			if p, err := r.Store.Payment(ctx, sc, inv.OpenPaymentID); err == nil && p.GatewayTrackingID == ev.Invoice.ID {
				freeOpen = true
			}
		}
		if inv.RazorpayShortURL == "" && !freeOpen {
			return nil
		}
		expected := inv.Version
		inv.Version++
		// The Razorpay invoice can no longer be paid: new payments get a link.
		inv.RazorpayShortURL, inv.UpdatedAt = "", r.now()
		if freeOpen {
			inv.OpenPaymentID = ""
		}
		return r.Store.UpdateInvoice(ctx, sc, inv, expected)
	})
}
