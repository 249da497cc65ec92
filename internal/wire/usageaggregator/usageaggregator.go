// Package usageaggregator wires the usage-aggregator function: the table
// only (its trigger is the table's stream).
package usageaggregator

import (
	"io"

	"github.com/razorbill/razorbill/internal/config"
	"github.com/razorbill/razorbill/internal/ddbjson"
	"github.com/razorbill/razorbill/internal/dynamo/usagedb"
	"github.com/razorbill/razorbill/internal/lambdaenv"
	"github.com/razorbill/razorbill/internal/metering"
)

// Need is the configuration the function requires.
const Need = config.NeedTable

// Load builds the aggregator from the environment read through getenv.
func Load(getenv func(string) string, logOut io.Writer) (*metering.Aggregator, error) {
	env, err := lambdaenv.Load(getenv, logOut, Need)
	if err != nil {
		return nil, err
	}
	db, err := ddbjson.New(env.AWS)
	if err != nil {
		return nil, err
	}
	return &metering.Aggregator{Store: usagedb.New(db, env.Config.Table, env.Config.UsageRetention), Log: env.Log}, nil
}
