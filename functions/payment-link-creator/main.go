// Command payment-link-creator is the Lambda behind POST /api/v1/payments
// (and reading and refunding payments): it turns a payment request for an
// invoice into one Razorpay payment link.
package main

import (
	"fmt"
	"os"

	"github.com/aws/aws-lambda-go/lambda"

	"github.com/razorbill/razorbill/internal/wire/paymentlinkcreator"
)

func main() {
	h, err := paymentlinkcreator.Load(os.Getenv, os.Stdout)
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(1)
	}
	lambda.Start(h.Handle)
}
