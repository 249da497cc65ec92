// Command payment-link-creator is the Lambda behind POST /api/v1/payments
// (and reading and refunding payments): it turns a payment request for an
// invoice into one Razorpay payment link.
package main

import (
	"context"
	"fmt"
	"os"

	"github.com/aws/aws-lambda-go/lambda"

	"github.com/razorbill/razorbill/internal/app"
	"github.com/razorbill/razorbill/internal/config"
)

func main() {
	d, err := app.Load(context.Background(), os.Getenv, os.Stdout, config.NeedTable|config.NeedSecrets|config.NeedRazorpay)
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(1)
	}
	lambda.Start(d.PaymentsHandler().Handle)
}
