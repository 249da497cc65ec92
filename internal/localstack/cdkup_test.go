package localstack_test

import (
	"bytes"
	"encoding/json"
	"io"
	"net/http"
	"slices"
	"strings"
	"sync"
	"testing"

	"github.com/aws/aws-lambda-go/lambdacontext"
	"github.com/aws/aws-sdk-go-v2/aws"

	"github.com/razorbill/razorbill/internal/billing"
	"github.com/razorbill/razorbill/internal/localstack"
)

// relaySends records the sync requests the stream relay puts on the queues.
type relaySends struct {
	mu  sync.Mutex
	got []billing.SyncRequest
}

// wrap records, at the HTTP client every function sends through, the
// SendMessage requests the stream relay makes (internal/sqsjson: no SDK
// middleware sees them).
func (r *relaySends) wrap(next aws.HTTPClient) aws.HTTPClient {
	return doerFunc(func(req *http.Request) (*http.Response, error) {
		lc, ok := lambdacontext.FromContext(req.Context())
		if ok && req.Header.Get("X-Amz-Target") == "AmazonSQS.SendMessage" && strings.HasSuffix(lc.InvokedFunctionArn, ":function:stream-relay") {
			body, err := io.ReadAll(req.Body)
			if err != nil {
				return nil, err
			}
			req.Body = io.NopCloser(bytes.NewReader(body))
			var in struct{ MessageBody string }
			var sr billing.SyncRequest
			if json.Unmarshal(body, &in) == nil && json.Unmarshal([]byte(in.MessageBody), &sr) == nil {
				r.mu.Lock()
				r.got = append(r.got, sr)
				r.mu.Unlock()
			}
		}
		return next.Do(req)
	})
}

type doerFunc func(*http.Request) (*http.Response, error)

func (f doerFunc) Do(r *http.Request) (*http.Response, error) { return f(r) }

func (r *relaySends) ids() []string {
	r.mu.Lock()
	defer r.mu.Unlock()
	var out []string
	for _, q := range r.got {
		out = append(out, string(q.Kind)+" "+q.ID+" "+q.Reason)
	}
	return out
}

// TestSyncOffRecordsStayInTheTable: with the connection's customer sync
// ON_DEMAND and invoice outbound sync off, a new customer and a finalized
// invoice send nothing to the sync queues (the stream filters hold them
// back: no relay invocation, no message, no no-op syncer run); once the
// connection syncs on creation and on finalization, the same writes are
// relayed and synced. A customer created while sync was off is still synced
// by a manual sync.
func TestSyncOffRecordsStayInTheTable(t *testing.T) {
	t.Parallel()
	sends := &relaySends{}
	s := start(t, func(o *localstack.Options) {
		outer := o.WrapHTTP // start's recorder, which checks every test's calls
		o.WrapHTTP = func(c aws.HTTPClient) aws.HTTPClient { return sends.wrap(outer(c)) }
	})
	// Bootstrap's connection: ON_DEMAND, outbound sync off.
	offCus := s.customer("sync-off", "off@example.com")
	offInv := s.finalized(offCus, "inr")

	s.must(s.call("PUT", "/api/v1/connections/razorpay", map[string]any{"key_id": s.dev.KeyID, "invoice_outbound_sync": true, "customer_sync": "ON_CREATE"}), 200)
	onCus := s.customer("sync-on", "on@example.com")
	s.customerSynced(onCus)
	zero := s.finalized(onCus, "inr", map[string]any{"display_name": "Free tier", "quantity": "1", "unit_amount": "0"})
	onInv := s.finalized(onCus, "inr")
	// The relay reads the stream in order: once it has sent the last
	// record's request, every earlier record was filtered out or sent.
	s.invoiceSynced(onInv.s("id"))
	want := []string{string(billing.SyncCustomer) + " " + onCus + " created", string(billing.SyncInvoice) + " " + onInv.s("id") + " finalized"}
	// The customer's SYNCED change is relayed too (invoice-sync, to retry
	// invoices waiting on it); nothing of the sync-off records or the
	// zero invoice is.
	for _, id := range []string{offCus, offInv.s("id"), zero.s("id")} {
		for _, g := range sends.ids() {
			if g == string(billing.SyncCustomer)+" "+id+" created" || g == string(billing.SyncInvoice)+" "+id+" finalized" {
				t.Errorf("relayed %q although its sync was off or nothing was due", g)
			}
		}
	}
	for _, w := range want {
		if !slices.Contains(sends.ids(), w) {
			t.Errorf("relay sent %v, want it to include %q", sends.ids(), w)
		}
	}
	if r := s.call("GET", "/api/v1/customers/"+offCus, nil); r.s("razorpay", "sync_status") != "NOT_SYNCED" {
		t.Fatalf("sync-off customer: %s", r.Raw)
	}
	// A customer made before sync was on is synced by a manual sync.
	s.must(s.call("POST", "/api/v1/customers/"+offCus+"/sync", nil), 202)
	s.customerSynced(offCus)
}
