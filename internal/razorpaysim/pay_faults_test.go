package razorpaysim_test

import (
	"net/http"
	"sync"
	"testing"
	"time"

	"github.com/razorbill/razorbill/internal/razorpaysim"
)

func TestOnlyCreatedLinksCanBeCancelled(t *testing.T) {
	t.Parallel()
	e := newEnv(t, razorpaysim.Options{})
	for name, prep := range map[string]func(id string){
		"paid":      func(id string) { _, _ = e.sim.PayPaymentLink(id, razorpaysim.PayOptions{}) },
		"expired":   func(id string) { _ = e.sim.ExpirePaymentLink(id) },
		"cancelled": func(id string) { _ = e.call(t, "POST", "/v1/payment_links/"+id+"/cancel", nil) },
	} {
		l := e.call(t, "POST", "/v1/payment_links", map[string]any{"amount": 1000, "reference_id": "cx-" + name}).json(t)
		id := l["id"].(string)
		prep(id)
		a := e.call(t, "POST", "/v1/payment_links/"+id+"/cancel", nil)
		if a.status != 400 {
			t.Errorf("%s: cancel answered %d %s", name, a.status, a.raw)
		}
	}
	part := e.call(t, "POST", "/v1/payment_links", map[string]any{"amount": 1000, "reference_id": "cx-part", "accept_partial": true, "first_min_partial_amount": 100}).json(t)
	if _, err := e.sim.PayPaymentLink(part["id"].(string), razorpaysim.PayOptions{Amount: 300}); err != nil {
		t.Fatal(err)
	}
	if a := e.call(t, "POST", "/v1/payment_links/"+part["id"].(string)+"/cancel", nil); a.status != 400 {
		t.Fatalf("partially paid: cancel answered %d %s", a.status, a.raw)
	}
	if got := e.call(t, "GET", "/v1/payment_links/"+part["id"].(string), nil).json(t)["status"]; got != "partially_paid" {
		t.Fatalf("a refused cancel changed the link: %v", got)
	}
}

func TestSlowFaultAnswersLateAndCallsAreCounted(t *testing.T) {
	t.Parallel()
	e := newEnv(t, razorpaysim.Options{})
	if err := e.sim.InjectFault(razorpaysim.Fault{Kind: razorpaysim.FaultSlow, Method: "POST", Path: "/v1/payment_links", DelayMS: 300}); err != nil {
		t.Fatal(err)
	}
	start := time.Now()
	var wg sync.WaitGroup
	var slow answer
	wg.Add(1)
	go func() {
		defer wg.Done()
		slow = e.call(t, "POST", "/v1/payment_links", map[string]any{"amount": 1000, "reference_id": "slow-1"})
	}()
	time.Sleep(50 * time.Millisecond)
	// Not created yet while the slow call waits.
	if l := e.call(t, "GET", "/v1/payment_links?reference_id=slow-1", nil).json(t)["payment_links"].([]any); len(l) != 0 {
		t.Fatalf("created before the delay: %v", l)
	}
	wg.Wait()
	if slow.status != http.StatusOK || time.Since(start) < 300*time.Millisecond {
		t.Fatalf("slow call: %d after %v", slow.status, time.Since(start))
	}
	_ = e.call(t, "POST", "/v1/payment_links", map[string]any{"amount": 1000, "reference_id": "slow-2"})
	if n := e.sim.Calls("POST", "/v1/payment_links"); n != 2 {
		t.Fatalf("POST /v1/payment_links calls: %d", n)
	}
	if n := e.sim.Calls("GET", "/v1/payment_links*"); n != 1 {
		t.Fatalf("GET calls: %d", n)
	}
	if n := e.sim.Calls("", ""); n != 3 {
		t.Fatalf("all calls: %d", n)
	}
}
