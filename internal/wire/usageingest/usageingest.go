// Package usageingest wires the usage-ingest function: the table (API keys,
// customers, idempotency records, meters, events) and nothing else — no
// secrets, no queues, no Razorpay.
package usageingest

import (
	"context"
	"io"

	"github.com/razorbill/razorbill/internal/config"
	"github.com/razorbill/razorbill/internal/ddbjson"
	"github.com/razorbill/razorbill/internal/dynamo"
	"github.com/razorbill/razorbill/internal/dynamo/usagedb"
	"github.com/razorbill/razorbill/internal/httpapi"
	"github.com/razorbill/razorbill/internal/lambdaenv"
	"github.com/razorbill/razorbill/internal/metering"
)

// Need is the configuration the function requires.
const Need = config.NeedTable

// Load builds the function's router from the environment read through getenv.
func Load(getenv func(string) string, logOut io.Writer) (*httpapi.Router, error) {
	env, err := lambdaenv.Load(getenv, logOut, Need)
	if err != nil {
		return nil, err
	}
	db, err := ddbjson.New(env.AWS)
	if err != nil {
		return nil, err
	}
	store := dynamo.New(db, env.Config.Table)
	svc := &metering.Service{Store: usagedb.New(db, env.Config.Table, env.Config.UsageRetention), Customers: store,
		Lateness: env.Config.UsageLateness, Log: env.Log}
	rt := httpapi.NewRouter(store, store, noAdmin, env.Log, nil)
	rt.Add((&httpapi.Events{Service: svc}).Routes()...)
	return rt, nil
}

// Service is the metering service over an existing store and a DynamoDB
// client (the api function serves meters and usage with it).
func Service(env lambdaenv.Env, db usagedb.API, store *dynamo.Store) *metering.Service {
	return &metering.Service{Store: usagedb.New(db, env.Config.Table, env.Config.UsageRetention),
		Customers: store, Lateness: env.Config.UsageLateness, Log: env.Log}
}

// noAdmin: the function serves no admin route.
func noAdmin(context.Context) (string, error) { return "", nil }
