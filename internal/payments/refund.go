package payments

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"net/http"
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

// RefundStore is what refunds read and write, beside Store.
type RefundStore interface {
	Payment(ctx context.Context, sc billing.Scope, id string) (billing.Payment, error)
	Invoice(ctx context.Context, sc billing.Scope, id string) (billing.Invoice, error)
	Refund(ctx context.Context, sc billing.Scope, id string) (billing.Refund, error)
	RefundByKey(ctx context.Context, sc billing.Scope, clientKey string, now time.Time) (dynamo.RefundKey, bool, error)
	CreateRefund(ctx context.Context, sc billing.Scope, rf billing.Refund, p billing.Payment, expectedPayment int64, clientKey, requestHash string, now time.Time) error
	SaveRefund(ctx context.Context, sc billing.Scope, rf billing.Refund, expectedRefund int64, p *billing.Payment, expectedPayment int64) error
	SettleRefund(ctx context.Context, sc billing.Scope, m dynamo.Marker, p billing.Payment, expectedPayment int64, inv billing.Invoice, expectedInvoice int64, rf *billing.Refund, expectedRefund int64) error
	ListRefunds(ctx context.Context, sc billing.Scope, paymentID string, opt billing.ListOptions) (billing.Page[billing.Refund], error)
}

// RefundGateway is the part of the Razorpay client refunds call.
type RefundGateway interface {
	Refund(ctx context.Context, cr razorpay.Credentials, paymentID string, in razorpay.RefundInput) (razorpay.Refund, error)
	ListRefunds(ctx context.Context, cr razorpay.Credentials, paymentID string) ([]razorpay.Refund, error)
}

// DefaultRefundGrace is how long a refund part whose outcome is unknown
// stays PENDING while it cannot be found in Razorpay's refund list.
const DefaultRefundGrace = 10 * time.Minute

// RefundResult is a refund request's record and its payment.
type RefundResult struct {
	Payment billing.Payment
	Refund  billing.Refund
}

func (s *Service) refundDeps() (RefundStore, RefundGateway, error) {
	st, ok := s.Store.(RefundStore)
	gw, ok2 := s.Gateway.(RefundGateway)
	if !ok || !ok2 {
		return nil, nil, apperr.E(apperr.Internal, "", "the payment service is not wired for refunds")
	}
	return st, gw, nil
}

func (s *Service) refundGrace() time.Duration {
	if s.RefundGrace > 0 {
		return s.RefundGrace
	}
	return DefaultRefundGrace
}

func refundRequestHash(paymentID, amount, reason string) string {
	h := sha256.Sum256([]byte(paymentID + "\n" + strings.TrimSpace(amount) + "\n" + reason))
	return hex.EncodeToString(h[:])
}

// Refund refunds amount (what can still be refunded when amount is empty)
// of a succeeded payment. No refund is ever sent twice:
//
//   - A refund record (PENDING) is written together with the payment's
//     reservation and, when the client sent an Idempotency-Key, an item
//     mapping that key to the record — one transaction, before Razorpay is
//     called. A request with the same key (even after a 5xx or a timeout
//     answer) finds that record and sends nothing new.
//   - The refund is split across the payment's Razorpay payments, newest
//     first (billing.SplitRefund); each part is one Razorpay refund whose
//     X-Refund-Idempotency is the part's key "<rfd id>-<n>".
//   - An unknown outcome (no answer, 5xx, 409 "in progress") leaves the
//     part PENDING; it is resolved only by finding it in Razorpay's refund
//     list (settleRefund), never by sending it again. A refusal (429 on
//     the only attempt, or a definite 4xx) fails the part and releases its
//     reservation.
func (s *Service) Refund(ctx context.Context, sc billing.Scope, paymentID, amount, reason, clientKey string) (RefundResult, error) {
	if len(reason) > 255 {
		return RefundResult{}, invalid("validation_failed", "reason", "reason is longer than 255 characters")
	}
	if len(clientKey) > 255 {
		return RefundResult{}, invalid("validation_failed", "Idempotency-Key", "Idempotency-Key must be 1–255 characters")
	}
	st, gw, err := s.refundDeps()
	if err != nil {
		return RefundResult{}, err
	}
	reqHash := refundRequestHash(paymentID, amount, reason)
	if clientKey != "" {
		if res, found, err := s.refundForKey(ctx, sc, st, gw, clientKey, reqHash); found || err != nil {
			return res, err
		}
	}
	conn, err := rzsync.ActiveConnection(ctx, s.Store, sc)
	if err != nil {
		return RefundResult{}, err
	}
	cr, err := rzsync.Credentials(ctx, s.Secrets, conn)
	if err != nil {
		return RefundResult{}, err
	}
	settled := false
	for attempt := 0; ; attempt++ {
		pay, err := st.Payment(ctx, sc, paymentID)
		if err != nil {
			return RefundResult{}, err
		}
		if pay.PaymentStatus != billing.PaymentSucceeded && pay.PaymentStatus != billing.PaymentPartiallyRefunded {
			return RefundResult{}, conflict("payment_not_refundable", "payment %s is %s; only a succeeded payment can be refunded", pay.ID, pay.PaymentStatus)
		}
		if !settled && pay.RefundPending > 0 {
			// Earlier refunds with unknown outcomes may hold money that
			// Razorpay never refunded: settle them first.
			settled = true
			s.settlePaymentRefunds(ctx, sc, st, gw, cr, pay.ID)
			continue
		}
		rf, pay, err := s.newRefund(pay, amount, reason, clientKey)
		if err != nil {
			return RefundResult{}, err
		}
		expected := pay.Version - 1
		err = st.CreateRefund(ctx, sc, rf, pay, expected, clientKey, reqHash, s.now())
		if errors.Is(err, dynamo.ErrRefundKeyTaken) {
			res, found, err := s.refundForKey(ctx, sc, st, gw, clientKey, reqHash)
			if err == nil && !found {
				err = apperr.E(apperr.Conflict, apperr.CodeConcurrentUpdate, "another request with this Idempotency-Key is running; retry")
			}
			return res, err
		}
		if dynamo.IsStale(err) && attempt < 5 {
			continue
		}
		if err != nil {
			return RefundResult{}, err
		}
		return s.sendRefund(ctx, sc, st, gw, cr, rf)
	}
}

// newRefund validates the amount against what pay can still refund, splits
// it and returns the PENDING record and the payment with its reservation
// (Version already incremented).
func (s *Service) newRefund(pay billing.Payment, amount, reason, clientKey string) (billing.Refund, billing.Payment, error) {
	cur := money.MustCurrency(pay.Currency)
	minimum := s.Minimums.Of(cur)
	sources := billing.RefundSources(pay)
	refundable := billing.Refundable(sources, minimum)
	amt := refundable
	if a := strings.TrimSpace(amount); a != "" {
		v, err := money.Parse(a, cur)
		if err != nil {
			return billing.Refund{}, pay, invalid("validation_failed", "amount", "%s", err.Error())
		}
		if v <= 0 {
			return billing.Refund{}, pay, invalid("validation_failed", "amount", "a refund amount must be positive")
		}
		if err := money.CheckMinimum(v, cur, s.Minimums); err != nil {
			return billing.Refund{}, pay, invalid("amount_below_minimum", "amount", "%s", err.Error())
		}
		amt = v
	}
	if amt > refundable || refundable <= 0 {
		return billing.Refund{}, pay, apperr.InvalidField("refund_exceeds_payment", "amount", "at most %s %s of payment %s can still be refunded", money.Format(refundable, cur), cur.Code, pay.ID)
	}
	if _, err := money.ToRazorpay(amt, cur); err != nil {
		return billing.Refund{}, pay, invalid("validation_failed", "amount", "%s", err.Error())
	}
	shares, ok := billing.SplitRefund(sources, amt, minimum)
	if !ok {
		return billing.Refund{}, pay, apperr.InvalidField("refund_not_splittable", "amount", "%s %s cannot be split across this payment's Razorpay payments in refunds of at least %s %s each", money.Format(amt, cur), cur.Code, money.Format(minimum, cur), cur.Code)
	}
	now := s.now()
	rf := billing.Refund{ID: ids.New(ids.Refund), PaymentID: pay.ID, InvoiceID: pay.DestinationID, Currency: cur.Code, Amount: amt,
		Reason: reason, Status: billing.RefundPending, IdempotencyKey: clientKey, CreatedAt: now, UpdatedAt: now, Version: 1}
	for i, sh := range shares {
		if sh == 0 {
			continue
		}
		rf.Parts = append(rf.Parts, billing.RefundPart{RazorpayPaymentID: sources[i].RazorpayPaymentID, Amount: sh,
			Key: billing.PartKey(rf.ID, len(rf.Parts)+1), Status: billing.RefundPending})
		pay.ReserveRefund(sources[i].RazorpayPaymentID, sh)
	}
	pay.Version++
	pay.UpdatedAt = now
	return rf, pay, nil
}

// refundForKey answers a request whose Idempotency-Key already names a
// refund: the same refund, its pending parts settled by lookup. found is
// false when the key names none.
func (s *Service) refundForKey(ctx context.Context, sc billing.Scope, st RefundStore, gw RefundGateway, clientKey, reqHash string) (RefundResult, bool, error) {
	k, ok, err := st.RefundByKey(ctx, sc, clientKey, s.now())
	if err != nil || !ok {
		return RefundResult{}, false, err
	}
	if k.RequestHash != reqHash {
		return RefundResult{}, true, &apperr.Error{Kind: apperr.Conflict, Code: "idempotency_key_reused", Field: "Idempotency-Key", Status: http.StatusUnprocessableEntity,
			Message: "this Idempotency-Key was used with a different refund request; use a new key"}
	}
	rf, err := st.Refund(ctx, sc, k.RefundID)
	if err != nil {
		return RefundResult{}, true, err
	}
	if rf.Status == billing.RefundPending {
		if cr, err := s.credentials(ctx, sc); err == nil {
			if rf, err = s.settleRefund(ctx, sc, st, gw, cr, rf); err != nil {
				return RefundResult{}, true, err
			}
		}
	}
	res, err := s.refundResult(ctx, sc, st, rf)
	return res, true, err
}

func (s *Service) credentials(ctx context.Context, sc billing.Scope) (razorpay.Credentials, error) {
	conn, err := rzsync.ActiveConnection(ctx, s.Store, sc)
	if err != nil {
		return razorpay.Credentials{}, err
	}
	return rzsync.Credentials(ctx, s.Secrets, conn)
}

// refundResult is the answer for a refund: a refund whose every part
// Razorpay refused is the refusal error; anything else is the record.
func (s *Service) refundResult(ctx context.Context, sc billing.Scope, st RefundStore, rf billing.Refund) (RefundResult, error) {
	if rf.Status == billing.RefundFailed {
		msgs := []string{}
		for _, p := range rf.Parts {
			if p.Error != "" {
				msgs = append(msgs, p.Error)
			}
		}
		return RefundResult{Refund: rf}, (&apperr.Error{Kind: apperr.Permanent, Code: "razorpay_refund_failed",
			Message: "Razorpay refused the refund: " + strings.Join(msgs, "; ")}).WithDetails(map[string]any{"refund_id": rf.ID})
	}
	pay, err := st.Payment(ctx, sc, rf.PaymentID)
	if err != nil {
		return RefundResult{}, err
	}
	return RefundResult{Payment: pay, Refund: rf}, nil
}

// partUpdate is what one Razorpay call or lookup learned about a part.
type partUpdate struct {
	razorpayRefundID string
	failed           bool
	reason           string
	// unknownOnly: fail the part only if its Razorpay id is still unknown.
	unknownOnly bool
}

// sendRefund sends every part of a new refund to Razorpay and records what
// was learned.
func (s *Service) sendRefund(ctx context.Context, sc billing.Scope, st RefundStore, gw RefundGateway, cr razorpay.Credentials, rf billing.Refund) (RefundResult, error) {
	cur := money.MustCurrency(rf.Currency)
	updates := map[int]partUpdate{}
	for i, p := range rf.Parts {
		rz, err := money.ToRazorpay(p.Amount, cur)
		if err != nil {
			updates[i] = partUpdate{failed: true, reason: err.Error()}
			continue
		}
		ref, err := gw.Refund(ctx, cr, p.RazorpayPaymentID, razorpay.RefundInput{
			Amount: rz, IdempotencyKey: p.Key, Receipt: p.Key,
			Notes: map[string]string{"razorbill_refund_id": rf.ID, "razorbill_refund_part": p.Key, "razorbill_payment_id": rf.PaymentID,
				"razorbill_invoice_id": rf.InvoiceID, "tenant_id": sc.TenantID, "environment_id": sc.EnvironmentID, "reason": truncate(rf.Reason, 255)},
		})
		switch {
		case err == nil:
			updates[i] = partUpdate{razorpayRefundID: ref.ID}
		case razorpay.RefundOutcomeUnknown(err) || ctx.Err() != nil:
			// Razorpay may have made it: the part stays PENDING until its
			// refund list says (settleRefund). It is never sent again.
		default:
			updates[i] = partUpdate{failed: true, reason: describe(err)}
		}
	}
	rf, err := s.updateParts(ctx, sc, st, rf.ID, updates)
	if err != nil {
		return RefundResult{}, err
	}
	return s.refundResult(ctx, sc, st, rf)
}

// updateParts records updates on the stored refund (and releases the
// reservation of each part that failed), re-reading on a lost race. A part
// already settled (a webhook was faster) is left as it is.
func (s *Service) updateParts(ctx context.Context, sc billing.Scope, st RefundStore, refundID string, updates map[int]partUpdate) (billing.Refund, error) {
	for attempt := 0; ; attempt++ {
		rf, err := st.Refund(ctx, sc, refundID)
		if err != nil || len(updates) == 0 {
			return rf, err
		}
		pay, err := st.Payment(ctx, sc, rf.PaymentID)
		if err != nil {
			return rf, err
		}
		now := s.now()
		changed, released := false, false
		for i, u := range updates {
			if i >= len(rf.Parts) || rf.Parts[i].Status != billing.RefundPending {
				continue
			}
			p := &rf.Parts[i]
			if u.razorpayRefundID != "" && p.RazorpayRefundID == "" {
				p.RazorpayRefundID, changed = u.razorpayRefundID, true
			}
			if u.failed && !(u.unknownOnly && p.RazorpayRefundID != "") {
				p.Status, p.Error, p.SettledAt = billing.RefundFailed, u.reason, &now
				pay.ReleaseRefund(p.RazorpayPaymentID, p.Amount)
				changed, released = true, true
			}
		}
		if !changed {
			return rf, nil
		}
		rf.DeriveStatus()
		erf, ep := rf.Version, pay.Version
		rf.Version++
		rf.UpdatedAt = now
		var pp *billing.Payment
		if released {
			pay.Version++
			pay.UpdatedAt = now
			pp = &pay
		}
		err = st.SaveRefund(ctx, sc, rf, erf, pp, ep)
		if dynamo.IsStale(err) && attempt < 10 {
			continue
		}
		return rf, err
	}
}

// settleRefund resolves rf's PENDING parts by looking them up in each
// Razorpay payment's refund list (matched by the razorbill_refund_part
// note, or the Razorpay refund id once known):
//
//   - found processed or failed: the outcome is applied exactly as the
//     refund.processed / refund.failed webhook applies it (same marker);
//   - found pending: its Razorpay id is recorded;
//   - not found, with no Razorpay id, longer than the grace period after
//     the refund was created: the part FAILS and its reservation is
//     released. That is safe because the part is never sent again (no
//     request of ours carrying its key can still be running: one Refund
//     call is bounded by the client's attempt timeout and retries, far
//     below the grace period), and Razorpay records a refund before it
//     answers and lists it at once; a 409 "in progress" lasts only while
//     that first request runs. Should Razorpay ever report it anyway, its
//     refund.processed is still applied (SettleRefund counts the money and
//     does not release twice), and Razorpay itself never refunds more than
//     a payment captured.
func (s *Service) settleRefund(ctx context.Context, sc billing.Scope, st RefundStore, gw RefundGateway, cr razorpay.Credentials, rf billing.Refund) (billing.Refund, error) {
	lists := map[string][]razorpay.Refund{}
	updates := map[int]partUpdate{}
	grace := s.now().Sub(rf.CreatedAt) > s.refundGrace()
	for i, p := range rf.Parts {
		if p.Status != billing.RefundPending {
			continue
		}
		list, ok := lists[p.RazorpayPaymentID]
		if !ok {
			var err error
			if list, err = gw.ListRefunds(ctx, cr, p.RazorpayPaymentID); err != nil {
				return rf, err
			}
			lists[p.RazorpayPaymentID] = list
		}
		var found *razorpay.Refund
		for j := range list {
			if list[j].Notes["razorbill_refund_part"] == p.Key || (p.RazorpayRefundID != "" && list[j].ID == p.RazorpayRefundID) {
				found = &list[j]
				break
			}
		}
		switch {
		case found != nil && (found.Status == "processed" || found.Status == "failed"):
			if err := s.applyOutcome(ctx, sc, st, rf.ID, billing.RefundOutcome{RazorpayRefundID: found.ID, RazorpayPaymentID: p.RazorpayPaymentID,
				Amount: money.FromRazorpay(found.Amount), Processed: found.Status == "processed"}); err != nil {
				return rf, err
			}
		case found != nil:
			updates[i] = partUpdate{razorpayRefundID: found.ID}
		case p.RazorpayRefundID == "" && grace:
			updates[i] = partUpdate{failed: true, unknownOnly: true, reason: fmt.Sprintf("Razorpay shows no refund for this part %s after it was requested; nothing was refunded", s.refundGrace())}
		}
	}
	return s.updateParts(ctx, sc, st, rf.ID, updates)
}

// applyOutcome writes Razorpay's final word on one of our refund parts with
// the marker the reconciler uses ("refund:<rfnd id>"), so a lookup and the
// webhook apply it once between them.
func (s *Service) applyOutcome(ctx context.Context, sc billing.Scope, st RefundStore, refundID string, o billing.RefundOutcome) error {
	for attempt := 0; ; attempt++ {
		rf, err := st.Refund(ctx, sc, refundID)
		if err != nil {
			return err
		}
		part := rf.PartFor("", o.RazorpayRefundID)
		if part < 0 {
			for i, p := range rf.Parts {
				if p.RazorpayPaymentID == o.RazorpayPaymentID && p.Status == billing.RefundPending && p.RazorpayRefundID == "" {
					part = i
					break
				}
			}
		}
		pay, err := st.Payment(ctx, sc, rf.PaymentID)
		if err != nil {
			return err
		}
		inv, err := st.Invoice(ctx, sc, pay.DestinationID)
		if err != nil {
			return err
		}
		ep, ei, erf := pay.Version, inv.Version, rf.Version
		pay.Version++
		inv.Version++
		rf.Version++
		now := s.now()
		billing.SettleRefund(o, &pay, &inv, &rf, part, now)
		m := dynamo.Marker{RazorpayPaymentID: "refund:" + o.RazorpayRefundID, PaymentID: pay.ID, InvoiceID: inv.ID, Amount: o.Amount,
			Event: "refund.lookup", AppliedAt: now.Format(time.RFC3339Nano)}
		err = st.SettleRefund(ctx, sc, m, pay, ep, inv, ei, &rf, erf)
		if errors.Is(err, dynamo.ErrAlreadyApplied) {
			return nil
		}
		if dynamo.IsStale(err) && attempt < 10 {
			continue
		}
		return err
	}
}

// settlePaymentRefunds settles the PENDING refunds of a payment (best
// effort: a failure leaves them PENDING for the next look).
func (s *Service) settlePaymentRefunds(ctx context.Context, sc billing.Scope, st RefundStore, gw RefundGateway, cr razorpay.Credentials, paymentID string) {
	page, err := st.ListRefunds(ctx, sc, paymentID, billing.ListOptions{Limit: 100})
	if err != nil {
		return
	}
	for _, rf := range page.Data {
		if rf.Status == billing.RefundPending {
			_, _ = s.settleRefund(ctx, sc, st, gw, cr, rf)
		}
	}
}

// Refunds lists a payment's refunds, newest first, after settling its
// pending ones by looking them up at Razorpay (when it can be reached).
func (s *Service) Refunds(ctx context.Context, sc billing.Scope, paymentID string, opt billing.ListOptions) (billing.Page[billing.Refund], error) {
	st, gw, err := s.refundDeps()
	if err != nil {
		return billing.Page[billing.Refund]{}, err
	}
	pay, err := st.Payment(ctx, sc, paymentID)
	if err != nil {
		return billing.Page[billing.Refund]{}, err
	}
	if pay.RefundPending > 0 {
		if cr, err := s.credentials(ctx, sc); err == nil {
			s.settlePaymentRefunds(ctx, sc, st, gw, cr, pay.ID)
		}
	}
	return st.ListRefunds(ctx, sc, pay.ID, opt)
}

func truncate(s string, n int) string {
	if len(s) <= n {
		return s
	}
	return s[:n]
}
