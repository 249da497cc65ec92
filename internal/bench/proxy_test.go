package bench_test

import (
	"bytes"
	"encoding/json"
	"io"
	"net"
	"net/http"
	"sort"
	"strings"
	"sync"
	"time"

	"github.com/razorbill/razorbill/internal/testenv"
)

// meter sits between the local stack and the emulators (DynamoDB Local, the
// SQS emulator) and counts every AWS request the functions make, by
// operation and queue, with the capacity DynamoDB charges for it: it adds
// "ReturnConsumedCapacity": "TOTAL" to each DynamoDB data-plane request
// (DynamoDB Local computes capacity as DynamoDB does, transactions and
// global secondary indexes included) and reads ConsumedCapacity back. The
// emulators do not check signatures, so changing the body is harmless.
type meter struct {
	mu      sync.Mutex
	phase   *phaseCounts
	quiet   time.Time              // last request that was not an idle poll
	queues  map[string]string      // queue URL → logical name
	deletes map[string][]time.Time // queue logical name → when each message was deleted (this phase)
}

// opCount is one operation's figures within a phase.
type opCount struct {
	Calls    int64   `json:"calls"`
	Errors   int64   `json:"errors,omitempty"`
	Units    float64 `json:"capacity_units,omitempty"` // DynamoDB: read or write request units (transactions: the table's from item sizes, see txUnits)
	Local    float64 `json:"local_units,omitempty"`    // DynamoDB: the units DynamoDB Local reported, where they differ
	Messages int64   `json:"messages,omitempty"`       // SQS: messages sent, received or deleted
	Empty    int64   `json:"empty,omitempty"`          // SQS ReceiveMessage / Streams GetRecords that returned nothing
	Records  int64   `json:"records,omitempty"`        // Streams: records read
}

type phaseCounts struct {
	Ops        map[string]*opCount `json:"ops"` // "DynamoDB.GetItem", "SQS.SendMessage razorpay-events", …
	ErrorTypes map[string]int64    `json:"error_types,omitempty"`
}

func newPhaseCounts() *phaseCounts {
	return &phaseCounts{Ops: map[string]*opCount{}, ErrorTypes: map[string]int64{}}
}

func newMeter(queues map[string]string) *meter {
	return &meter{phase: newPhaseCounts(), queues: queues, deletes: map[string][]time.Time{}, quiet: time.Now()}
}

// take returns the counts since the last take and starts new ones.
func (m *meter) take() (*phaseCounts, map[string][]time.Time) {
	m.mu.Lock()
	defer m.mu.Unlock()
	p, d := m.phase, m.deletes
	m.phase, m.deletes = newPhaseCounts(), map[string][]time.Time{}
	return p, d
}

// deleted is how many messages of queue were deleted in this phase.
func (m *meter) deleted(queue string) int {
	m.mu.Lock()
	defer m.mu.Unlock()
	return len(m.deletes[queue])
}

// idleFor reports how long no request other than an empty poll was seen.
func (m *meter) idleFor() time.Duration {
	m.mu.Lock()
	defer m.mu.Unlock()
	return time.Since(m.quiet)
}

// capacityOps are the DynamoDB operations that accept ReturnConsumedCapacity.
var capacityOps = map[string]bool{"GetItem": true, "PutItem": true, "UpdateItem": true, "DeleteItem": true, "Query": true, "Scan": true,
	"BatchGetItem": true, "BatchWriteItem": true, "TransactGetItems": true, "TransactWriteItems": true}

// serve starts a metering proxy in front of upstream and returns its URL.
func (m *meter) serve(upstream string) (string, func(), error) {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return "", nil, err
	}
	client := &http.Client{Transport: &http.Transport{MaxIdleConnsPerHost: 64, DisableCompression: true}}
	srv := &http.Server{Handler: http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		body, err := io.ReadAll(r.Body)
		if err != nil {
			http.Error(w, err.Error(), http.StatusBadGateway)
			return
		}
		service, op, _ := strings.Cut(r.Header.Get("X-Amz-Target"), ".")
		if strings.HasPrefix(service, "DynamoDB_") && capacityOps[op] {
			var in map[string]json.RawMessage
			if json.Unmarshal(body, &in) == nil {
				if _, set := in["ReturnConsumedCapacity"]; !set {
					in["ReturnConsumedCapacity"] = json.RawMessage(`"INDEXES"`)
					body, _ = json.Marshal(in)
				}
			}
		}
		out, err := http.NewRequestWithContext(r.Context(), r.Method, upstream+r.URL.RequestURI(), bytes.NewReader(body))
		if err != nil {
			http.Error(w, err.Error(), http.StatusBadGateway)
			return
		}
		for k, vs := range r.Header {
			if k != "Content-Length" {
				out.Header[k] = vs
			}
		}
		resp, err := client.Do(out)
		if err != nil {
			http.Error(w, err.Error(), http.StatusBadGateway)
			return
		}
		respBody, err := io.ReadAll(resp.Body)
		resp.Body.Close()
		if err != nil {
			http.Error(w, err.Error(), http.StatusBadGateway)
			return
		}
		for k, vs := range resp.Header {
			if k != "Content-Length" {
				w.Header()[k] = vs
			}
		}
		w.WriteHeader(resp.StatusCode)
		_, _ = w.Write(respBody)
		m.record(service, op, body, resp.StatusCode, respBody)
	})}
	go func() { _ = srv.Serve(l) }()
	return "http://" + l.Addr().String(), func() { _ = srv.Close() }, nil
}

func (m *meter) queueName(body []byte) string {
	var in struct{ QueueUrl string }
	_ = json.Unmarshal(body, &in)
	if n, ok := m.queues[in.QueueUrl]; ok {
		return n
	}
	return "other"
}

func (m *meter) record(service, op string, req []byte, status int, resp []byte) {
	now := time.Now()
	key, idle := "", false
	var c opCount
	c.Calls = 1
	if status >= 300 {
		c.Errors = 1
	}
	switch {
	case strings.HasPrefix(service, "DynamoDBStreams_"):
		key = "Streams." + op
		var out struct{ Records []json.RawMessage }
		_ = json.Unmarshal(resp, &out)
		c.Records = int64(len(out.Records))
		if c.Records == 0 {
			c.Empty = 1
			idle = true
		}
	case strings.HasPrefix(service, "DynamoDB_"):
		key = "DynamoDB." + op
		c.Units = consumed(resp)
		if op == "TransactWriteItems" && status < 300 {
			c.Local = c.Units
			c.Units = txUnits(req, resp)
		}
	case service == "AmazonSQS":
		q := m.queueName(req)
		key = "SQS." + op + " " + q
		switch op {
		case "SendMessage":
			c.Messages = 1
		case "SendMessageBatch":
			var in struct{ Entries []json.RawMessage }
			_ = json.Unmarshal(req, &in)
			c.Messages = int64(len(in.Entries))
		case "ReceiveMessage":
			var out struct{ Messages []json.RawMessage }
			_ = json.Unmarshal(resp, &out)
			c.Messages = int64(len(out.Messages))
			if c.Messages == 0 {
				c.Empty = 1
				idle = true
			}
		case "DeleteMessage", "DeleteMessageBatch":
			n := int64(1)
			if op == "DeleteMessageBatch" {
				var out struct{ Successful []json.RawMessage }
				_ = json.Unmarshal(resp, &out)
				n = int64(len(out.Successful))
			}
			c.Messages = n
			if status < 300 {
				m.mu.Lock()
				for range n {
					m.deletes[q] = append(m.deletes[q], now)
				}
				m.mu.Unlock()
			}
		case "GetQueueAttributes", "GetQueueUrl":
			idle = true
		}
	default:
		key = "other." + service + "." + op
	}
	m.mu.Lock()
	defer m.mu.Unlock()
	if !idle {
		m.quiet = now
	}
	o := m.phase.Ops[key]
	if o == nil {
		o = &opCount{}
		m.phase.Ops[key] = o
	}
	o.Calls += c.Calls
	o.Errors += c.Errors
	o.Units += c.Units
	o.Local += c.Local
	o.Messages += c.Messages
	o.Empty += c.Empty
	o.Records += c.Records
	if status >= 300 {
		var e struct {
			Type string `json:"__type"`
		}
		_ = json.Unmarshal(resp, &e)
		t := e.Type
		if i := strings.LastIndexByte(t, '#'); i >= 0 {
			t = t[i+1:]
		}
		m.phase.ErrorTypes[key+" "+t]++
	}
}

// consumed reads ConsumedCapacity (an object, or a list for transactions
// and batches) from a DynamoDB response.
func consumed(resp []byte) float64 {
	var out struct{ ConsumedCapacity json.RawMessage }
	if json.Unmarshal(resp, &out) != nil || len(out.ConsumedCapacity) == 0 {
		return 0
	}
	type cc struct{ CapacityUnits float64 }
	var one cc
	if json.Unmarshal(out.ConsumedCapacity, &one) == nil {
		return one.CapacityUnits
	}
	var many []cc
	if json.Unmarshal(out.ConsumedCapacity, &many) == nil {
		sum := 0.0
		for _, c := range many {
			sum += c.CapacityUnits
		}
		return sum
	}
	return 0
}

// txUnits prices a TransactWriteItems call as DynamoDB documents it, not
// as DynamoDB Local reports it (Local's table figure for a transaction does
// not follow the items' sizes: dynamo TestCapturedApplyWriteCapacity saw 6
// for items whose sizes give 8): 2 write units per started KB of each item
// written — a Put's item as sent (the larger of the item before and after
// is billed; the one before is not known here, so a Put that shrinks an
// item is under-priced), 2 for each Update, Delete and ConditionCheck
// (assumed ≤ 1 KB) — plus the indexes' units as DynamoDB Local reported
// them (ReturnConsumedCapacity INDEXES).
func txUnits(req, resp []byte) float64 {
	var in struct {
		TransactItems []struct {
			Put *struct {
				Item map[string]json.RawMessage
			}
		}
	}
	if json.Unmarshal(req, &in) != nil {
		return consumed(resp)
	}
	units := 0.0
	for _, ti := range in.TransactItems {
		kb := 1
		if ti.Put != nil {
			kb = (testenv.WireItemSize(ti.Put.Item) + 1023) / 1024
		}
		units += 2 * float64(kb)
	}
	var out struct {
		ConsumedCapacity []struct {
			GlobalSecondaryIndexes map[string]struct{ CapacityUnits float64 }
			LocalSecondaryIndexes  map[string]struct{ CapacityUnits float64 }
		}
	}
	if json.Unmarshal(resp, &out) == nil {
		for _, cc := range out.ConsumedCapacity {
			for _, ix := range cc.GlobalSecondaryIndexes {
				units += ix.CapacityUnits
			}
			for _, ix := range cc.LocalSecondaryIndexes {
				units += ix.CapacityUnits
			}
		}
	}
	return units
}

// sortedKeys lists a phase's operations in a stable order.
func sortedKeys(p *phaseCounts) []string {
	keys := make([]string, 0, len(p.Ops))
	for k := range p.Ops {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	return keys
}
