// Command stream-relay is the Lambda on the table's stream: it forwards the
// filtered records (new customer, invoice finalized, customer synced) to the
// sync queues.
package main

import (
	"fmt"
	"os"

	"github.com/aws/aws-lambda-go/lambda"

	"github.com/razorbill/razorbill/internal/wire/streamrelay"
)

func main() {
	h, err := streamrelay.Load(os.Getenv, os.Stdout)
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(1)
	}
	lambda.Start(h.Handle)
}
