// Package paymentlinkcreator wires the payment-link-creator function:
// DynamoDB, the secrets box (KMS), the Razorpay client and the payments
// routes. It reads no admin token: its routes take API keys only.
package paymentlinkcreator

import (
	"context"
	"io"

	"github.com/razorbill/razorbill/internal/config"
	"github.com/razorbill/razorbill/internal/dynamo"
	"github.com/razorbill/razorbill/internal/httpapi"
	"github.com/razorbill/razorbill/internal/lambdaenv"
	"github.com/razorbill/razorbill/internal/payments"
	"github.com/razorbill/razorbill/internal/razorpay"
	"github.com/razorbill/razorbill/internal/reconcile"
	"github.com/razorbill/razorbill/internal/secrets"
	"github.com/razorbill/razorbill/internal/wire/ledger"
	"github.com/razorbill/razorbill/internal/wire/paysvc"
	"github.com/razorbill/razorbill/internal/wire/rzpclient"
)

// Need is the configuration the function requires.
const Need = config.NeedTable | config.NeedSecrets | config.NeedRazorpay

// Adapters are what the payments service is built on.
type Adapters struct {
	Env   lambdaenv.Env
	Store *dynamo.Store
	Box   *secrets.Box
	// Keys opens connections' key secrets through Box, each kept for
	// secrets.CacheTTL: one KMS Decrypt per secret per warm function and
	// TTL, shared by the reconciler and the payments service.
	Keys *secrets.Cache
	RZP  *razorpay.Client
}

// Build constructs the adapters need asks for (a superset of Need).
func Build(getenv func(string) string, logOut io.Writer, need config.Need) (Adapters, error) {
	env, store, box, err := ledger.Load(getenv, logOut, need|Need)
	if err != nil {
		return Adapters{}, err
	}
	return Adapters{Env: env, Store: store, Box: box, Keys: secrets.NewCache(box),
		RZP: rzpclient.New(env)}, nil
}

// Reconciler applies payments; it confirms money matched only by notes at
// Razorpay with the connection's key.
func (a Adapters) Reconciler() *reconcile.Reconciler {
	return paysvc.Reconciler(a.Env, a.Store, a.Keys, a.RZP)
}

// PaymentService creates payment links and refunds.
func (a Adapters) PaymentService() *payments.Service {
	return paysvc.Service(a.Env, a.Store, a.Keys, a.RZP)
}

// Load builds the function's router from the environment read through getenv.
func Load(getenv func(string) string, logOut io.Writer) (*httpapi.Router, error) {
	a, err := Build(getenv, logOut, Need)
	if err != nil {
		return nil, err
	}
	return a.Router(), nil
}

// Router serves the payments routes (the function's, and the console's in
// the api function).
func (a Adapters) Router() *httpapi.Router {
	noAdmin := func(context.Context) (string, error) { return "", nil }
	rt := httpapi.NewRouter(a.Store, a.Store, noAdmin, a.Env.Log, nil)
	svc := a.PaymentService()
	rt.Add((&httpapi.Payments{Service: svc}).Routes()...)
	rt.Add((&httpapi.Refresh{Service: svc}).PaymentRoutes()...)
	return rt
}
