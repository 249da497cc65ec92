package money_test

import (
	"math/rand/v2"
	"testing"

	"github.com/razorbill/razorbill/internal/money"
)

// Every line amount in a three-decimal currency is one Razorpay collects
// (a multiple of 10 minor units), and it is the exact product rounded
// half-up once: never more than 5 minor units away from it.
func TestThreeDecimalLineAmountsAreCollectable(t *testing.T) {
	t.Parallel()
	r := rand.New(rand.NewPCG(13, 8))
	for _, code := range []string{"KWD", "BHD", "OMR", "JOD", "TND", "IQD", "LYD"} {
		c := money.MustCurrency(code)
		if c.Step() != 10 {
			t.Fatalf("%s step %d, want 10", code, c.Step())
		}
		for i := 0; i < 2000; i++ {
			qs, us := randDecimalString(r, 6, 4), randDecimalString(r, 4, 6)
			got, err := money.LineAmount(mustDec(t, qs), mustDec(t, us), c)
			if err != nil {
				t.Fatalf("LineAmount(%s × %s %s): %v", qs, us, code, err)
			}
			if got < 0 {
				got = -got
			}
			if _, err := money.ToRazorpay(got, c); err != nil {
				t.Fatalf("LineAmount(%s × %s %s) = %d, which Razorpay cannot collect: %v", qs, us, code, got, err)
			}
		}
	}
	for _, code := range []string{"INR", "USD", "JPY"} {
		if s := money.MustCurrency(code).Step(); s != 1 {
			t.Errorf("%s step %d, want 1", code, s)
		}
	}
}
