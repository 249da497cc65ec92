// Command gateway-sweeper is the Lambda that pulls open payment
// instruments from Razorpay when webhooks do not come. The EventBridge
// schedule invokes it to fan out one message per environment onto
// gateway-sweep; the same function consumes that queue and sweeps the
// environment (internal/sweep).
package main

import (
	"fmt"
	"os"

	"github.com/aws/aws-lambda-go/lambda"

	"github.com/razorbill/razorbill/internal/wire/gatewaysweeper"
)

func main() {
	s, err := gatewaysweeper.Load(os.Getenv, os.Stdout, os.Stdout)
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(1)
	}
	lambda.Start(s.Handle)
}
