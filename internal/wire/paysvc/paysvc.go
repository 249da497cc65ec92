// Package paysvc builds the payments service and its reconciler over given
// adapters, for the functions that create or refresh payment instruments
// (payment-link-creator, api, gateway-sweeper).
package paysvc

import (
	"github.com/razorbill/razorbill/internal/dynamo"
	"github.com/razorbill/razorbill/internal/lambdaenv"
	"github.com/razorbill/razorbill/internal/payments"
	"github.com/razorbill/razorbill/internal/razorpay"
	"github.com/razorbill/razorbill/internal/reconcile"
	"github.com/razorbill/razorbill/internal/rzsync"
	"github.com/razorbill/razorbill/internal/secrets"
)

// Reconciler applies payments; it confirms money matched only by notes at
// Razorpay with the connection's key (opened through keys).
func Reconciler(env lambdaenv.Env, store *dynamo.Store, keys *secrets.Cache, rzp *razorpay.Client) *reconcile.Reconciler {
	return &reconcile.Reconciler{Store: store, Log: env.Log, Gateway: rzp, Secrets: keys}
}

// Service creates payment links and refunds and refreshes instruments; its
// syncer, the service and its reconciler share keys, one cache of opened
// key secrets.
func Service(env lambdaenv.Env, store *dynamo.Store, keys *secrets.Cache, rzp *razorpay.Client) *payments.Service {
	s := &rzsync.Syncer{Store: store, Gateway: rzp, Secrets: keys}
	return &payments.Service{Store: store, Gateway: rzp, Customers: s, Invoices: s, Secrets: keys,
		Minimums: env.Config.Minimums, LinkExpiry: env.Config.DefaultLinkExpiry, Instruments: rzp, Applier: Reconciler(env, store, keys, rzp)}
}
