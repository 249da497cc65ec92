// Package rzpclient builds the Razorpay client of the functions that call
// Razorpay (apart from the ledger package, so the webhook receiver links no
// razorpay-go).
package rzpclient

import (
	"github.com/razorbill/razorbill/internal/lambdaenv"
	"github.com/razorbill/razorbill/internal/razorpay"
)

// New is the Razorpay client: each attempt is bounded by RazorpayTimeout and
// ends the client's DeadlineMargin before the invocation's deadline.
func New(env lambdaenv.Env) *razorpay.Client {
	return razorpay.NewClient(razorpay.Config{BaseURL: env.Config.RazorpayBaseURL, Logger: env.Log, AttemptTimeout: env.Config.RazorpayTimeout})
}
