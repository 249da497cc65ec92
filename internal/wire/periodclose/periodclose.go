// Package periodclose wires the period-close function: the table only
// (plans, subscriptions, usage buckets, customers, invoices) — no secrets,
// no queues, no Razorpay (the invoice sync takes over from the stream).
package periodclose

import (
	"io"

	"github.com/razorbill/razorbill/internal/config"
	"github.com/razorbill/razorbill/internal/ddbjson"
	"github.com/razorbill/razorbill/internal/dynamo"
	"github.com/razorbill/razorbill/internal/dynamo/plandb"
	"github.com/razorbill/razorbill/internal/lambdaenv"
	"github.com/razorbill/razorbill/internal/periodclose"
	"github.com/razorbill/razorbill/internal/wire/usageingest"
)

// Need is the configuration the function requires.
const Need = config.NeedTable

// Load builds the closer from the environment read through getenv.
func Load(getenv func(string) string, logOut io.Writer) (*periodclose.Closer, error) {
	env, err := lambdaenv.Load(getenv, logOut, Need)
	if err != nil {
		return nil, err
	}
	db, err := ddbjson.New(env.AWS)
	if err != nil {
		return nil, err
	}
	store := dynamo.New(db, env.Config.Table)
	return &periodclose.Closer{Plans: plandb.New(db, env.Config.Table), Ledger: store, Usage: usageingest.Service(env, db, store),
		Minimums: env.Config.Minimums, Grace: env.Config.PeriodCloseGrace, Log: env.Log, Settings: periodclose.FromTaxSettings(store)}, nil
}
