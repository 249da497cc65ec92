// Package paymentreconciler wires the payment-reconciler function:
// DynamoDB, the secrets box (KMS) that opens the connection's key, and the
// Razorpay client that confirms a payment matched by its notes alone.
package paymentreconciler

import (
	"io"

	"github.com/razorbill/razorbill/internal/config"
	"github.com/razorbill/razorbill/internal/dynamo"
	"github.com/razorbill/razorbill/internal/lambdaenv"
	"github.com/razorbill/razorbill/internal/razorpay"
	"github.com/razorbill/razorbill/internal/reconcile"
	"github.com/razorbill/razorbill/internal/secrets"
	"github.com/razorbill/razorbill/internal/wire/ledger"
	"github.com/razorbill/razorbill/internal/wire/rzpclient"
)

// Need is the configuration the function requires.
const Need = config.NeedTable | config.NeedSecrets | config.NeedRazorpay

// Load builds the reconciler from the environment read through getenv.
func Load(getenv func(string) string, logOut io.Writer) (*reconcile.Reconciler, error) {
	env, store, box, err := ledger.Load(getenv, logOut, Need)
	if err != nil {
		return nil, err
	}
	return New(env, store, box, rzpclient.New(env)), nil
}

// New is the reconciler over the given adapters. It opens the connection's
// key secret through a secrets.Cache over box: one KMS Decrypt per secret
// per warm function and secrets.CacheTTL, not one per confirmation.
func New(env lambdaenv.Env, store *dynamo.Store, box *secrets.Box, rzp *razorpay.Client) *reconcile.Reconciler {
	return &reconcile.Reconciler{Store: store, Log: env.Log, Gateway: rzp, Secrets: secrets.NewCache(box)}
}
