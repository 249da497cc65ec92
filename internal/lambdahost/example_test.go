package lambdahost_test

import (
	"context"
	"log"
	"net/http"
	"os/signal"
	"syscall"
	"time"

	"github.com/aws/aws-lambda-go/events"

	"github.com/razorbill/razorbill/internal/lambdahost"
	"github.com/razorbill/razorbill/internal/localaws"
	"github.com/razorbill/razorbill/internal/schema"
)

// The shape of a local stack main: emulators, tables and queues, the HTTP
// router and the pollers, all stopped by Ctrl-C. (Compiled, not run.)
func Example_localStack() {
	ctx, stop := signal.NotifyContext(context.Background(), syscall.SIGINT, syscall.SIGTERM)
	defer stop()

	st, err := localaws.Up(ctx, localaws.UpOptions{}) // free ports, tables/queues named as in schema
	if err != nil {
		log.Fatal(err) // says what is missing: Java 17, node, a free port, …
	}
	defer st.Stop()
	// st.Env() is what the functions read (table, queue URLs, DLQ URLs,
	// stream ARN, AWS endpoints, local credentials).

	var apiHandler, paymentsHandler lambdahost.APIGatewayHandler
	var webhookHandler lambdahost.FunctionURLHandler
	var reconciler, customerSyncer, invoiceSyncer lambdahost.SQSHandler
	var relay lambdahost.DynamoDBHandler

	api := lambdahost.NewMux()
	api.Handle("POST /api/v1/payments", paymentsHandler, lambdahost.WithFunctionName("payment-link-creator"))
	api.Handle("ANY /api/v1/{proxy+}", apiHandler, lambdahost.WithFunctionName("api"))
	mux := http.NewServeMux()
	mux.Handle("/api/v1/webhooks/", lambdahost.FunctionURL(webhookHandler, lambdahost.WithFunctionName("webhook-receiver"), lambdahost.WithTimeout(10*time.Second)))
	mux.Handle("/", api)
	srv := &http.Server{Addr: "127.0.0.1:8080", Handler: mux}
	go srv.ListenAndServe()

	queue := func(q schema.Queue, name string, h lambdahost.SQSHandler) {
		go lambdahost.PollSQS(ctx, st.SQS, st.Resources.Queue(q).URL, h, lambdahost.SQSOptions{
			FunctionName: name, FunctionTimeout: time.Duration(q.ConsumerTimeoutSeconds) * time.Second,
		})
	}
	queue(schema.RazorpayEvents, "payment-reconciler", reconciler)
	queue(schema.CustomerSync, "customer-syncer", customerSyncer)
	queue(schema.InvoiceSync, "invoice-syncer", invoiceSyncer)

	var patterns []string
	for _, f := range schema.StreamFilters {
		patterns = append(patterns, f.Pattern)
	}
	go lambdahost.PollStream(ctx, st.Streams, st.Resources.Table(schema.Main).StreamARN, relay, lambdahost.StreamOptions{
		FunctionName: "stream-relay", Filters: patterns, MaxRetries: 5,
		OnFailure: func(ctx context.Context, recs []events.DynamoDBEventRecord) {
			log.Printf("stream records given up: %d", len(recs))
		},
	})

	select {
	case <-ctx.Done():
	case <-st.Done():
		log.Print(st.Err())
	}
	shutdown, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	srv.Shutdown(shutdown)
}
