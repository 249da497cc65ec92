// Command razorpaysim serves the Razorpay simulator on its own, for
// pointing any client (or a browser) at it without the rest of the local
// stack:
//
//	go run ./infra/local/razorpaysim
//
// Environment: RAZORPAY_SIM_ADDR (default 127.0.0.1:8082),
// RAZORPAY_KEY_ID / RAZORPAY_KEY_SECRET (the default account's keys,
// generated when empty), RAZORPAY_WEBHOOK_URL / RAZORPAY_WEBHOOK_SECRET
// (where its webhooks go), RAZORPAY_SIM_ORDERED_WEBHOOKS=1 (first delivery
// attempts one at a time, in order, instead of concurrent and unordered as
// Razorpay sends them). It prints the base URL, the keys and the
// dashboard URL; Ctrl-C stops it.
package main

import (
	"context"
	"fmt"
	"log/slog"
	"os"
	"os/signal"
	"syscall"

	"github.com/razorbill/razorbill/internal/razorpaysim"
)

func main() {
	addr := os.Getenv("RAZORPAY_SIM_ADDR")
	if addr == "" {
		addr = "127.0.0.1:8082"
	}
	sim := razorpaysim.New(razorpaysim.Options{
		DefaultKeyID: os.Getenv("RAZORPAY_KEY_ID"), DefaultKeySecret: os.Getenv("RAZORPAY_KEY_SECRET"),
		DefaultWebhookURL: os.Getenv("RAZORPAY_WEBHOOK_URL"), DefaultWebhookSecret: os.Getenv("RAZORPAY_WEBHOOK_SECRET"),
		Logger:          slog.New(slog.NewTextHandler(os.Stderr, nil)),
		OrderedWebhooks: os.Getenv("RAZORPAY_SIM_ORDERED_WEBHOOKS") == "1",
	})
	url, err := sim.Start(addr)
	if err != nil {
		fmt.Fprintln(os.Stderr, "razorpaysim:", err)
		os.Exit(1)
	}
	a := sim.DefaultAccount()
	fmt.Printf("RAZORPAY_BASE_URL=%s\nRAZORPAY_KEY_ID=%s\nRAZORPAY_KEY_SECRET=%s\nDashboard: %s/\n", url, a.KeyID, a.KeySecret, url)
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	<-ctx.Done()
	sim.Close()
}
