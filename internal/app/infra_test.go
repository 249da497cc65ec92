package app_test

import (
	"context"
	"net/http/httptest"
	"testing"
	"time"

	"github.com/razorbill/razorbill/internal/app"
	"github.com/razorbill/razorbill/internal/apperr"
	"github.com/razorbill/razorbill/internal/config"
	"github.com/razorbill/razorbill/internal/razorpay"
	"github.com/razorbill/razorbill/internal/razorpaysim"
)

// TestTheFunctionsBoundEachRazorpayAttemptByRazorpayTimeout: the client
// every function gets uses config.RazorpayTimeout per attempt (it used to
// be ignored, leaving the client's 10 s default).
func TestTheFunctionsBoundEachRazorpayAttemptByRazorpayTimeout(t *testing.T) {
	t.Parallel()
	sim := razorpaysim.New(razorpaysim.Options{ExpirySweep: -1})
	srv := httptest.NewServer(sim)
	t.Cleanup(func() { srv.Close(); sim.Close() })
	_ = sim.InjectFault(razorpaysim.Fault{Kind: razorpaysim.FaultSlow, DelayMS: 6000, Count: 10})
	d := &app.Deps{Config: &config.Config{RazorpayBaseURL: srv.URL, RazorpayTimeout: 300 * time.Millisecond}}
	a := sim.DefaultAccount()
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	start := time.Now()
	_, err := d.Razorpay().FetchInvoice(ctx, razorpay.Credentials{KeyID: a.KeyID, KeySecret: a.KeySecret}, "inv_Anything00001")
	if took := time.Since(start); took > 4*time.Second {
		t.Fatalf("took %v: attempts were not bounded by RazorpayTimeout", took)
	}
	if apperr.KindOf(err) != apperr.Transient {
		t.Fatalf("got %v, want a transient error", err)
	}
}
