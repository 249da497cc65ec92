package razorpay_test

import (
	"context"
	"errors"
	"testing"
	"time"

	"github.com/razorbill/razorbill/internal/apperr"
	"github.com/razorbill/razorbill/internal/razorpay"
	"github.com/razorbill/razorbill/internal/razorpaysim"
)

// TestASlowRazorpayCannotOutlastTheDeadline: with a function-like deadline
// (4 s) and a Razorpay that takes 10 s, the call gives up DeadlineMargin
// (2 s) before the deadline with a transient error, and starts no attempt it
// could not finish; before, a 10 s attempt ran into the deadline itself.
func TestASlowRazorpayCannotOutlastTheDeadline(t *testing.T) {
	t.Parallel()
	e := newSimEnv(t, razorpay.Config{MaxRetries: 3})
	_ = e.sim.InjectFault(razorpaysim.Fault{Kind: razorpaysim.FaultSlow, DelayMS: 10000, Count: 10})
	c, cancel := context.WithTimeout(context.Background(), 4*time.Second)
	defer cancel()
	dl, _ := c.Deadline()
	start := time.Now()
	_, err := e.c.FetchInvoice(c, e.cr, "inv_Anything00001")
	took := time.Since(start)
	if left := time.Until(dl); left < 1500*time.Millisecond {
		t.Fatalf("returned %v before the deadline (after %v), want ≈ the 2 s margin", left, took)
	}
	mustKind(t, err, apperr.Transient, razorpay.CodeUnavailable)
	if n := e.sim.Calls("GET", "/v1/invoices/*"); n != 1 {
		t.Fatalf("%d attempts, want 1: the second would not fit before the margin", n)
	}
}

// TestNoAttemptStartsWithoutTimeLeft: a call made with less than
// DeadlineMargin + MinAttempt left is refused before anything is sent, as a
// transient error wrapping context.DeadlineExceeded.
func TestNoAttemptStartsWithoutTimeLeft(t *testing.T) {
	t.Parallel()
	e := newSimEnv(t, razorpay.Config{})
	c, cancel := context.WithTimeout(context.Background(), 2500*time.Millisecond)
	defer cancel()
	_, err := e.c.FetchInvoice(c, e.cr, "inv_Anything00001")
	mustKind(t, err, apperr.Transient, razorpay.CodeUnavailable)
	if !errors.Is(err, context.DeadlineExceeded) {
		t.Fatalf("%v does not wrap context.DeadlineExceeded", err)
	}
	if n := e.sim.Calls("GET", "/v1/invoices/*"); n != 0 {
		t.Fatalf("%d calls reached Razorpay, want 0", n)
	}
}

// TestAttemptTimeoutBoundsEachAttempt: AttemptTimeout (the functions pass
// config.RazorpayTimeout) cuts a slow attempt and the retry gets its own.
func TestAttemptTimeoutBoundsEachAttempt(t *testing.T) {
	t.Parallel()
	e := newSimEnv(t, razorpay.Config{MaxRetries: 1, AttemptTimeout: 300 * time.Millisecond})
	_ = e.sim.InjectFault(razorpaysim.Fault{Kind: razorpaysim.FaultSlow, DelayMS: 5000, Count: 10})
	start := time.Now()
	_, err := e.c.FetchInvoice(ctx(t), e.cr, "inv_Anything00001")
	if took := time.Since(start); took > 2*time.Second {
		t.Fatalf("two 300 ms attempts took %v", took)
	}
	mustKind(t, err, apperr.Transient, razorpay.CodeUnavailable)
	if n := e.sim.Calls("GET", "/v1/invoices/*"); n != 2 {
		t.Fatalf("%d attempts, want 2", n)
	}
}
