// Package ledger builds what every function that reads the table and opens
// connection secrets shares: the DynamoDB store and the secrets box (KMS
// through internal/awsjson, or the local key file). The stream relay, which
// needs neither, does not import it.
package ledger

import (
	"io"

	"github.com/razorbill/razorbill/internal/config"
	"github.com/razorbill/razorbill/internal/ddbjson"
	"github.com/razorbill/razorbill/internal/dynamo"
	"github.com/razorbill/razorbill/internal/lambdaenv"
	"github.com/razorbill/razorbill/internal/secrets"
)

// Store is the table named by the configuration.
func Store(env lambdaenv.Env) (*dynamo.Store, error) {
	db, err := ddbjson.New(env.AWS)
	if err != nil {
		return nil, err
	}
	return dynamo.New(db, env.Config.Table), nil
}

// Box opens and seals connection secrets with the configured key.
func Box(env lambdaenv.Env) (*secrets.Box, error) {
	return secrets.BoxFor(env.Config.LocalKeyFile, secrets.AWSKMS(env.AWS), env.Config.KMSKeyID)
}

// Load reads the function's environment (lambdaenv.Load with need) and
// builds its store and secrets box.
func Load(getenv func(string) string, logOut io.Writer, need config.Need) (lambdaenv.Env, *dynamo.Store, *secrets.Box, error) {
	env, err := lambdaenv.Load(getenv, logOut, need)
	if err != nil {
		return env, nil, nil, err
	}
	box, err := Box(env)
	if err != nil {
		return env, nil, nil, err
	}
	store, err := Store(env)
	if err != nil {
		return env, nil, nil, err
	}
	return env, store, box, nil
}
