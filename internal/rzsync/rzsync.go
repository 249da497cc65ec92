// Package rzsync pushes customers and invoices to Razorpay: the one
// implementation that the customer-syncer and invoice-syncer consumers and
// the payment-link creator (customer sync on demand) all call.
//
// Both syncs find before they create, so a crash between "Razorpay created
// it" and "we stored the id" never leaves a duplicate at Razorpay: a customer
// is looked up by email and contact (and created with fail_existing "0"), an
// invoice by its receipt and our id in its notes. A lease on the record makes
// concurrent syncs of one record (stream + manual + on demand) run one at a
// time.
package rzsync

import (
	"context"
	"errors"
	"time"

	"github.com/razorbill/razorbill/internal/apperr"
	"github.com/razorbill/razorbill/internal/billing"
	"github.com/razorbill/razorbill/internal/razorpay"
)

// Store is what the syncer reads and writes.
type Store interface {
	Connection(ctx context.Context, sc billing.Scope) (billing.Connection, bool, error)
	Customer(ctx context.Context, sc billing.Scope, id string) (billing.Customer, error)
	UpdateCustomer(ctx context.Context, sc billing.Scope, c billing.Customer, expected int64) error
	Invoice(ctx context.Context, sc billing.Scope, id string) (billing.Invoice, error)
	UpdateInvoice(ctx context.Context, sc billing.Scope, inv billing.Invoice, expected int64) error
	ListInvoices(ctx context.Context, sc billing.Scope, f billing.InvoiceFilter, opt billing.ListOptions) (billing.Page[billing.Invoice], error)
	PutRef(ctx context.Context, sc billing.Scope, rzpID, ourID string) error
	Payment(ctx context.Context, sc billing.Scope, id string) (billing.Payment, error)
}

// Gateway is the part of the Razorpay client the syncer calls.
type Gateway interface {
	CreateCustomer(ctx context.Context, cr razorpay.Credentials, in razorpay.CustomerInput) (razorpay.Customer, error)
	FindCustomer(ctx context.Context, cr razorpay.Credentials, email, contact string) (razorpay.Customer, bool, error)
	CreateInvoice(ctx context.Context, cr razorpay.Credentials, in razorpay.InvoiceInput) (razorpay.Invoice, error)
	FindInvoicesByReceipt(ctx context.Context, cr razorpay.Credentials, receipt string) ([]razorpay.Invoice, error)
	FetchInvoice(ctx context.Context, cr razorpay.Credentials, id string) (razorpay.Invoice, error)
	CancelInvoice(ctx context.Context, cr razorpay.Credentials, id string) (razorpay.Invoice, error)
}

// Opener decrypts connection secrets.
type Opener interface {
	Open(ctx context.Context, sealed, aad string) (string, error)
}

// Syncer syncs records to Razorpay.
type Syncer struct {
	Store   Store
	Gateway Gateway
	Secrets Opener
	Now     func() time.Time
	// Lease is how long one sync may hold a record (default 60 s).
	Lease time.Duration
	// Wait is how long an on-demand caller waits for another sync of the
	// same record to finish before answering "try again" (default 5 s).
	Wait time.Duration
}

func (s *Syncer) now() time.Time {
	if s.Now != nil {
		return s.Now().UTC()
	}
	return time.Now().UTC()
}

func (s *Syncer) lease() time.Duration {
	if s.Lease > 0 {
		return s.Lease
	}
	return time.Minute
}

// Credentials opens a connection's Razorpay key.
func Credentials(ctx context.Context, o Opener, c billing.Connection) (razorpay.Credentials, error) {
	secret, err := o.Open(ctx, c.KeySecretSealed, c.TenantID+"/"+c.EnvironmentID+"/key_secret")
	if err != nil {
		return razorpay.Credentials{}, apperr.Wrap(err, apperr.Internal, "", "open key secret")
	}
	return razorpay.Credentials{KeyID: c.KeyID, KeySecret: secret}, nil
}

// ActiveConnection returns the scope's active connection or a Conflict.
func ActiveConnection(ctx context.Context, st interface {
	Connection(ctx context.Context, sc billing.Scope) (billing.Connection, bool, error)
}, sc billing.Scope) (billing.Connection, error) {
	c, ok, err := st.Connection(ctx, sc)
	if err != nil {
		return c, err
	}
	if !ok || c.Status != billing.ConnectionActive {
		return c, apperr.E(apperr.Conflict, "connection_not_configured", "this environment has no active Razorpay connection; PUT /api/v1/connections/razorpay first")
	}
	return c, nil
}

var errBusy = apperr.E(apperr.Transient, "sync_in_progress", "another sync of this record is running; retry shortly")

// SyncCustomer makes sure the customer exists at Razorpay and returns it
// with its Razorpay id stored. While another sync holds the customer's
// lease it waits (up to Wait) for that sync to finish.
func (s *Syncer) SyncCustomer(ctx context.Context, sc billing.Scope, id string) (billing.Customer, error) {
	return waitWhileBusy(ctx, s, "customer", func() (billing.Customer, error) { return s.syncCustomerOnce(ctx, sc, id) })
}

// waitWhileBusy runs once until it ends with anything but errBusy (another
// sync holds the record's lease), or until Wait has passed.
func waitWhileBusy[T any](ctx context.Context, s *Syncer, what string, once func() (T, error)) (T, error) {
	deadline := s.now().Add(s.waitFor())
	for {
		v, err := once()
		if !errors.Is(err, errBusy) || s.now().After(deadline) {
			return v, err
		}
		select {
		case <-ctx.Done():
			return v, apperr.Wrap(ctx.Err(), apperr.Transient, "sync_in_progress", "another sync of this "+what+" is running; retry shortly")
		case <-time.After(200 * time.Millisecond):
		}
	}
}

func (s *Syncer) waitFor() time.Duration {
	if s.Wait > 0 {
		return s.Wait
	}
	return 5 * time.Second
}

// finalWriteTries is how often a sync's last write (the Razorpay id) is
// re-read and retried after losing a version race before the sync gives up,
// releases the lease and reports a transient error.
const finalWriteTries = 5

func errFinalWrite(cause error) error {
	return apperr.Wrap(cause, apperr.Transient, "sync_write_failed", "the Razorpay id could not be stored yet; the sync is retried")
}

func (s *Syncer) syncCustomerOnce(ctx context.Context, sc billing.Scope, id string) (billing.Customer, error) {
	c, err := s.Store.Customer(ctx, sc, id)
	if err != nil {
		return c, err
	}
	conn, err := ActiveConnection(ctx, s.Store, sc)
	if err != nil {
		if c.RazorpayCustomerID != "" && apperr.Is(err, apperr.Conflict) {
			return c, nil // synced; no connection to check the key against
		}
		return c, err
	}
	if c.SyncedFor(conn.KeyID) {
		return c, nil
	}
	now := s.now()
	if c.SyncLeaseUntil != nil && c.SyncLeaseUntil.After(now) {
		return c, errBusy
	}
	// Take the lease (a conditional write: of concurrent syncs one wins).
	until := now.Add(s.lease())
	expected := c.Version
	c.Version++
	c.SyncLeaseUntil, c.SyncStatus, c.UpdatedAt = &until, billing.SyncPending, now
	c.SyncAttempts++
	if err := s.Store.UpdateCustomer(ctx, sc, c, expected); err != nil {
		if apperr.HasCode(err, apperr.CodeConcurrentUpdate) {
			return c, errBusy
		}
		return c, err
	}
	cr, err := Credentials(ctx, s.Secrets, conn)
	if err != nil {
		return c, s.customerFailed(ctx, sc, c, err)
	}
	rc, err := s.findOrCreateCustomer(ctx, cr, sc, c)
	if err != nil {
		return c, s.customerFailed(ctx, sc, c, err)
	}
	// Store the id on the current record: a write that lost a version race
	// (a PATCH, another field) is re-read and tried again.
	var werr error
	for attempt := 0; attempt < finalWriteTries; attempt++ {
		if attempt > 0 {
			cur, err := s.Store.Customer(ctx, sc, id)
			if err != nil {
				werr = err
				break
			}
			if cur.SyncedFor(conn.KeyID) && cur.SyncLeaseUntil == nil {
				return cur, nil
			}
			c = cur
		}
		expected = c.Version
		c.Version++
		t := s.now()
		c.RazorpayKeyID = conn.KeyID
		c.RazorpayCustomerID, c.SyncStatus, c.SyncError, c.SyncedAt, c.SyncLeaseUntil, c.UpdatedAt = rc.ID, billing.SyncSynced, "", &t, nil, t
		if werr = s.Store.UpdateCustomer(ctx, sc, c, expected); werr == nil {
			return c, nil
		}
		if !apperr.HasCode(werr, apperr.CodeConcurrentUpdate) {
			break
		}
	}
	// Release the lease; a retry finds the Razorpay customer by email.
	return c, s.customerFailed(ctx, sc, c, errFinalWrite(werr))
}

func (s *Syncer) findOrCreateCustomer(ctx context.Context, cr razorpay.Credentials, sc billing.Scope, c billing.Customer) (razorpay.Customer, error) {
	f := CustomerFields(c) // only what Razorpay accepts (customerfields.go)
	if f.Email != "" || f.Contact != "" {
		found, ok, err := s.Gateway.FindCustomer(ctx, cr, f.Email, f.Contact)
		if err != nil {
			return found, err
		}
		if ok {
			return found, nil
		}
	}
	notes := map[string]string{"razorbill_customer_id": c.ID, "external_id": truncateRunes(c.ExternalID, noteValueMax), "tenant_id": sc.TenantID, "environment_id": sc.EnvironmentID}
	for k, v := range f.Notes {
		notes[k] = v
	}
	return s.Gateway.CreateCustomer(ctx, cr, razorpay.CustomerInput{
		Name: f.Name, Email: f.Email, Contact: f.Contact, GSTIN: f.GSTIN, FailExisting: false, Notes: notes,
	})
}

// customerFailed records why a sync failed and releases the lease. A
// transient failure stays PENDING (the queue retries it); a permanent one is
// FAILED with Razorpay's description.
func (s *Syncer) customerFailed(ctx context.Context, sc billing.Scope, c billing.Customer, cause error) error {
	c, err := s.Store.Customer(ctx, sc, c.ID)
	if err != nil {
		return errors.Join(cause, err)
	}
	if c.RazorpayCustomerID != "" && c.SyncLeaseUntil == nil {
		return cause // synced meanwhile by another run
	}
	expected := c.Version
	c.Version++
	c.SyncLeaseUntil, c.UpdatedAt = nil, s.now()
	c.SyncError = apperr.PublicMessage(cause)
	if !apperr.Retryable(cause) {
		c.SyncStatus = billing.SyncFailed
	}
	if err := s.Store.UpdateCustomer(ctx, sc, c, expected); err != nil {
		return errors.Join(cause, err)
	}
	return cause
}

func truncate(s string, n int) string {
	if len(s) <= n {
		return s
	}
	return s[:n]
}
