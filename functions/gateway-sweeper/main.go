// Command gateway-sweeper is the Lambda that pulls open payment
// instruments from Razorpay when webhooks do not come. The EventBridge
// schedule invokes it to fan out one message per environment onto
// gateway-sweep; the same function consumes that queue and sweeps the
// environment (internal/sweep).
package main

import (
	"context"
	"fmt"
	"os"

	"github.com/aws/aws-lambda-go/lambda"

	"github.com/razorbill/razorbill/internal/app"
	"github.com/razorbill/razorbill/internal/config"
	"github.com/razorbill/razorbill/internal/schema"
)

func main() {
	d, err := app.Load(context.Background(), os.Getenv, os.Stdout, config.NeedTable|config.NeedSecrets|config.NeedRazorpay)
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(1)
	}
	lambda.Start(d.Sweeper(os.Getenv(schema.GatewaySweep.EnvVar), os.Stdout).Handle)
}
