// Command usage-ingest is the Lambda behind POST /api/v1/events,
// POST /api/v1/events/bulk and GET /api/v1/events: it checks usage events
// against the environment's meters and stores each once.
package main

import (
	"fmt"
	"os"

	"github.com/aws/aws-lambda-go/lambda"

	"github.com/razorbill/razorbill/internal/wire/usageingest"
)

func main() {
	h, err := usageingest.Load(os.Getenv, os.Stdout)
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(1)
	}
	lambda.Start(h.Handle)
}
