// Command payment-reconciler is the Lambda that consumes razorpay-events.fifo
// and applies each captured payment to its invoice exactly once. It calls
// Razorpay (GET /v1/payments/{id}) only to confirm a payment matched by its
// notes alone, with the connection's key (hence the secrets' key).
package main

import (
	"fmt"
	"os"

	"github.com/aws/aws-lambda-go/lambda"

	"github.com/razorbill/razorbill/internal/wire/paymentreconciler"
)

func main() {
	h, err := paymentreconciler.Load(os.Getenv, os.Stdout)
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(1)
	}
	lambda.Start(h.HandleSQS)
}
