// Package paymentreconciler wires the payment-reconciler function:
// DynamoDB, the secrets box (KMS) that opens the connection's key, and the
// Razorpay client that confirms a payment matched by its notes alone.
package paymentreconciler

import (
	"io"

	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/kms"

	"github.com/razorbill/razorbill/internal/config"
	"github.com/razorbill/razorbill/internal/dynamo"
	"github.com/razorbill/razorbill/internal/lambdaenv"
	"github.com/razorbill/razorbill/internal/razorpay"
	"github.com/razorbill/razorbill/internal/reconcile"
	"github.com/razorbill/razorbill/internal/secrets"
)

// Need is the configuration the function requires.
const Need = config.NeedTable | config.NeedSecrets | config.NeedRazorpay

// Load builds the reconciler from the environment read through getenv.
func Load(getenv func(string) string, logOut io.Writer) (*reconcile.Reconciler, error) {
	env, err := lambdaenv.Load(getenv, logOut, Need)
	if err != nil {
		return nil, err
	}
	box, err := secrets.BoxFor(env.Config.LocalKeyFile, kms.NewFromConfig(env.AWS), env.Config.KMSKeyID)
	if err != nil {
		return nil, err
	}
	return New(env, dynamo.New(dynamodb.NewFromConfig(env.AWS), env.Config.Table), box, Razorpay(env)), nil
}

// Razorpay is the Razorpay client: each attempt is bounded by
// RazorpayTimeout and ends the client's DeadlineMargin before the
// invocation's deadline.
func Razorpay(env lambdaenv.Env) *razorpay.Client {
	return razorpay.NewClient(razorpay.Config{BaseURL: env.Config.RazorpayBaseURL, Logger: env.Log, AttemptTimeout: env.Config.RazorpayTimeout})
}

// New is the reconciler over the given adapters. It opens the connection's
// key secret through a secrets.Cache over box: one KMS Decrypt per secret
// per warm function and secrets.CacheTTL, not one per confirmation.
func New(env lambdaenv.Env, store *dynamo.Store, box *secrets.Box, rzp *razorpay.Client) *reconcile.Reconciler {
	return &reconcile.Reconciler{Store: store, Log: env.Log, Gateway: rzp, Secrets: secrets.NewCache(box)}
}
