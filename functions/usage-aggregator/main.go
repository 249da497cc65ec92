// Command usage-aggregator is the Lambda on the table's stream that counts
// each new usage event once into its meters' hourly buckets.
package main

import (
	"fmt"
	"os"

	"github.com/aws/aws-lambda-go/lambda"

	"github.com/razorbill/razorbill/internal/wire/usageaggregator"
)

func main() {
	h, err := usageaggregator.Load(os.Getenv, os.Stdout)
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(1)
	}
	lambda.Start(h.Handle)
}
