// Package syncers wires the customer-syncer and invoice-syncer functions:
// DynamoDB, the secrets box (KMS) that opens the connection's key, and the
// Razorpay client that creates (or finds) customers and invoices.
package syncers

import (
	"io"

	"github.com/razorbill/razorbill/internal/config"
	"github.com/razorbill/razorbill/internal/rzsync"
	"github.com/razorbill/razorbill/internal/schema"
	"github.com/razorbill/razorbill/internal/secrets"
	"github.com/razorbill/razorbill/internal/syncworker"
	"github.com/razorbill/razorbill/internal/wire/ledger"
	"github.com/razorbill/razorbill/internal/wire/rzpclient"
)

// Need is the configuration both functions require.
const Need = config.NeedTable | config.NeedSecrets | config.NeedRazorpay

// Customers builds the customer-syncer's worker.
func Customers(getenv func(string) string, logOut io.Writer) (*syncworker.Worker, error) {
	return load(getenv, logOut, schema.CustomerSync)
}

// Invoices builds the invoice-syncer's worker.
func Invoices(getenv func(string) string, logOut io.Writer) (*syncworker.Worker, error) {
	return load(getenv, logOut, schema.InvoiceSync)
}

func load(getenv func(string) string, logOut io.Writer, q schema.Queue) (*syncworker.Worker, error) {
	env, store, box, err := ledger.Load(getenv, logOut, Need)
	if err != nil {
		return nil, err
	}
	rzp := rzpclient.New(env)
	// The key secret is opened once per warm function and secrets.CacheTTL
	// (one KMS Decrypt), not once per sync.
	s := &rzsync.Syncer{Store: store, Gateway: rzp, Secrets: secrets.NewCache(box)}
	return &syncworker.Worker{Syncer: s, Store: store, Log: env.Log, MaxReceiveCount: q.MaxReceiveCount}, nil
}
