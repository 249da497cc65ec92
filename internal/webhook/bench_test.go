package webhook_test

import (
	"context"
	"crypto/hmac"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"io"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/aws/aws-lambda-go/events"

	"github.com/razorbill/razorbill/internal/billing"
	"github.com/razorbill/razorbill/internal/logx"
	"github.com/razorbill/razorbill/internal/queue"
	"github.com/razorbill/razorbill/internal/secrets"
	"github.com/razorbill/razorbill/internal/webhook"
)

// The receiver's CPU per event against the floor any receiver pays: an
// HMAC-SHA256 of the body and a json.Unmarshal of it into the struct it
// routes on. All run on the same sample
// (events/functionurl/webhook-payment-captured.json) in one `go test
// -bench` run; docs/benchmarks.md reports the ratios. BenchmarkReceiverSDK
// (sdkbench_test.go) is the receiver as its Lambda wires it, SDK calls
// included. BenchmarkReceiver runs it with an in-memory connection store
// and a no-op publisher, so what is measured is its own work: path and
// header parsing, the AES-GCM envelope opened with a local key (in AWS a
// KMS Decrypt call, then the warm cache), the signature check, the envelope
// parse, the queue message encoding and the info log line (formatted,
// written to io.Discard).

type memConnections map[billing.Scope]billing.Connection

func (m memConnections) Connection(_ context.Context, sc billing.Scope) (billing.Connection, bool, error) {
	c, ok := m[sc]
	return c, ok, nil
}

type nopPublisher struct{}

func (nopPublisher) Send(context.Context, queue.Message) error { return nil }

// sample is the function URL event and the webhook secret it is signed with.
func sample(b testing.TB) (events.LambdaFunctionURLRequest, string) {
	b.Helper()
	raw, err := os.ReadFile(filepath.Join("..", "..", "events", "functionurl", "webhook-payment-captured.json"))
	if err != nil {
		b.Fatal(err)
	}
	var ev events.LambdaFunctionURLRequest
	if err := json.Unmarshal(raw, &ev); err != nil {
		b.Fatal(err)
	}
	sec, err := os.ReadFile(filepath.Join("..", "..", "events", "functionurl", "webhook-secret.txt"))
	if err != nil {
		b.Fatal(err)
	}
	return ev, strings.TrimSpace(string(sec))
}

func BenchmarkReceiver(b *testing.B) {
	ev, secret := sample(b)
	sc, ok := webhook.Scope(ev.RawPath)
	if !ok {
		b.Fatalf("sample path %q", ev.RawPath)
	}
	kek, err := secrets.NewLocalKEK([]byte("0123456789abcdef0123456789abcdef"))
	if err != nil {
		b.Fatal(err)
	}
	box := secrets.NewBox(kek)
	sealed, err := box.Seal(context.Background(), secret, sc.TenantID+"/"+sc.EnvironmentID+"/webhook_secret")
	if err != nil {
		b.Fatal(err)
	}
	store := memConnections{sc: {TenantID: sc.TenantID, EnvironmentID: sc.EnvironmentID, KeyID: "rzp_test_x",
		WebhookSecretSealed: sealed, Status: billing.ConnectionActive}}
	r := &webhook.Receiver{Store: store, Secrets: box, Queue: nopPublisher{}, Log: logx.New(io.Discard, "info")}
	ctx := context.Background()
	if resp, err := r.Handle(ctx, ev); err != nil || resp.StatusCode != 200 {
		b.Fatalf("sample event: %d %s %v", resp.StatusCode, resp.Body, err)
	}
	b.SetBytes(int64(len(ev.Body)))
	b.ReportAllocs()
	defer cpuPerOp(b)()
	for b.Loop() {
		resp, _ := r.Handle(ctx, ev)
		if resp.StatusCode != 200 {
			b.Fatalf("status %d", resp.StatusCode)
		}
	}
}

// BenchmarkFloorHMACDecode is the bare minimum: verify the hex HMAC-SHA256
// signature of the body and decode the body into the struct the receiver
// needs to route it (webhook.Envelope: event, account and each entity's
// ids and notes), with encoding/json as the receiver does.
func BenchmarkFloorHMACDecode(b *testing.B) {
	ev, secret := sample(b)
	body, sig := []byte(ev.Body), ev.Headers["x-razorpay-signature"]
	b.SetBytes(int64(len(body)))
	b.ReportAllocs()
	defer cpuPerOp(b)()
	for b.Loop() {
		want, err := hex.DecodeString(sig)
		if err != nil {
			b.Fatal(err)
		}
		m := hmac.New(sha256.New, []byte(secret))
		m.Write(body)
		if !hmac.Equal(want, m.Sum(nil)) {
			b.Fatal("signature does not match")
		}
		var v webhook.Envelope
		if err := json.Unmarshal(body, &v); err != nil {
			b.Fatal(err)
		}
	}
}
