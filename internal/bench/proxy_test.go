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
	sizes   itemSizes              // the last known size of each item written or read whole through the proxy
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
	return &meter{phase: newPhaseCounts(), queues: queues, deletes: map[string][]time.Time{}, quiet: time.Now(), sizes: itemSizes{}}
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
		m.mu.Lock()
		if status < 300 {
			switch op {
			case "TransactWriteItems":
				c.Local = c.Units
				c.Units = txUnits(req, resp, m.sizes)
			case "PutItem":
				c.Local = c.Units
				c.Units = putUnits(req, resp, m.sizes)
			case "BatchGetItem":
				c.Local = c.Units
				c.Units = batchGetUnits(req, resp)
			}
		}
		m.sizes.learn(op, req, resp, status)
		m.mu.Unlock()
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

// batchGetUnits prices a BatchGetItem as DynamoDB documents it, each key
// read on its own: 1 read unit per started 4 KB of each item returned, 1
// for each key asked whose item does not exist, half that for eventually
// consistent reads; keys handed back unprocessed cost nothing. (DynamoDB
// Local reports 1.5 units for two items of under 4 KB read together, as if
// their sizes were added before rounding.)
func batchGetUnits(req, resp []byte) float64 {
	var in struct {
		RequestItems map[string]struct {
			Keys           []json.RawMessage
			ConsistentRead bool
		}
	}
	var out struct {
		Responses       map[string][]map[string]json.RawMessage
		UnprocessedKeys map[string]struct{ Keys []json.RawMessage }
	}
	if json.Unmarshal(req, &in) != nil || json.Unmarshal(resp, &out) != nil {
		return 0
	}
	total := 0.0
	for table, ka := range in.RequestItems {
		units := 0.0
		items := out.Responses[table]
		for _, it := range items {
			units += float64((testenv.WireItemSize(it) + 4095) / 4096)
		}
		if absent := len(ka.Keys) - len(out.UnprocessedKeys[table].Keys) - len(items); absent > 0 {
			units += float64(absent)
		}
		if !ka.ConsistentRead {
			units /= 2
		}
		total += units
	}
	return total
}

// itemSizes remembers the size (testenv.WireItemSize) of each item the
// proxy saw whole — written by a PutItem or a transaction's Put, or read by
// a GetItem without a projection — by table and key, so that a write is
// priced from the larger of the item before and after it, as DynamoDB
// bills. An item changed in a way the proxy cannot size (UpdateItem, a
// transaction's Update) is forgotten until it is seen whole again.
type itemSizes map[string]int

// keyAttrs are the table's key attributes (schema.AttrPK, AttrSK).
var keyAttrs = [...]string{"PK", "SK"}

func sizeKey(table string, item map[string]json.RawMessage) string {
	return table + "\x00" + string(item[keyAttrs[0]]) + "\x00" + string(item[keyAttrs[1]])
}

// before is the size of the item at key in table before a write (0:
// unknown or absent).
func (s itemSizes) before(table string, key map[string]json.RawMessage) int {
	return s[sizeKey(table, key)]
}

// learn records what a successful call shows of its items' sizes.
func (s itemSizes) learn(op string, req, resp []byte, status int) {
	if status >= 300 {
		return
	}
	type keyed struct {
		TableName string
		Key       map[string]json.RawMessage
	}
	switch op {
	case "PutItem":
		var in struct {
			TableName string
			Item      map[string]json.RawMessage
		}
		if json.Unmarshal(req, &in) == nil {
			s[sizeKey(in.TableName, in.Item)] = testenv.WireItemSize(in.Item)
		}
	case "GetItem":
		var in struct {
			keyed
			ProjectionExpression string
			AttributesToGet      []string
		}
		var out struct{ Item map[string]json.RawMessage }
		if json.Unmarshal(req, &in) != nil || in.ProjectionExpression != "" || len(in.AttributesToGet) > 0 || json.Unmarshal(resp, &out) != nil {
			return
		}
		if len(out.Item) == 0 {
			delete(s, sizeKey(in.TableName, in.Key))
		} else {
			s[sizeKey(in.TableName, in.Key)] = testenv.WireItemSize(out.Item)
		}
	case "BatchGetItem":
		var in struct {
			RequestItems map[string]struct {
				ProjectionExpression string
				AttributesToGet      []string
			}
		}
		var out struct {
			Responses map[string][]map[string]json.RawMessage
		}
		if json.Unmarshal(req, &in) != nil || json.Unmarshal(resp, &out) != nil {
			return
		}
		for table, items := range out.Responses {
			if ka := in.RequestItems[table]; ka.ProjectionExpression != "" || len(ka.AttributesToGet) > 0 {
				continue
			}
			for _, it := range items {
				s[sizeKey(table, it)] = testenv.WireItemSize(it)
			}
		}
	case "UpdateItem", "DeleteItem":
		var in keyed
		if json.Unmarshal(req, &in) == nil {
			delete(s, sizeKey(in.TableName, in.Key))
		}
	case "TransactWriteItems":
		var in txRequest
		if json.Unmarshal(req, &in) != nil {
			return
		}
		for _, ti := range in.TransactItems {
			switch {
			case ti.Put != nil:
				s[sizeKey(ti.Put.TableName, ti.Put.Item)] = testenv.WireItemSize(ti.Put.Item)
			case ti.Update != nil:
				delete(s, sizeKey(ti.Update.TableName, ti.Update.Key))
			case ti.Delete != nil:
				delete(s, sizeKey(ti.Delete.TableName, ti.Delete.Key))
			}
		}
	}
}

type txRequest struct {
	TransactItems []struct {
		Put *struct {
			TableName string
			Item      map[string]json.RawMessage
		}
		Update, Delete, ConditionCheck *struct {
			TableName string
			Key       map[string]json.RawMessage
		}
	}
}

// startedKB is how many started kilobytes n bytes are (at least 1).
func startedKB(n int) float64 { return float64(max(1, (n+1023)/1024)) }

// txUnits prices a TransactWriteItems call as DynamoDB documents it, not
// as DynamoDB Local reports it (Local's table figure for a transaction does
// not follow the items' sizes: dynamo TestCapturedApplyWriteCapacity saw 6
// for items whose sizes give 8): 2 write units per started KB of each item
// — a Put's the larger of its item as sent and the item it replaces, an
// Update's, Delete's or ConditionCheck's the item as it stood (sizes: what
// the proxy last saw of it; 1 KB when it saw nothing, and an Update that
// grows an item is priced at its old size) — plus the indexes' units as
// DynamoDB Local reported them (ReturnConsumedCapacity INDEXES).
func txUnits(req, resp []byte, sizes itemSizes) float64 {
	var in txRequest
	if json.Unmarshal(req, &in) != nil {
		return consumed(resp)
	}
	units := 0.0
	for _, ti := range in.TransactItems {
		n := 0
		switch {
		case ti.Put != nil:
			n = max(testenv.WireItemSize(ti.Put.Item), sizes.before(ti.Put.TableName, ti.Put.Item))
		case ti.Update != nil:
			n = sizes.before(ti.Update.TableName, ti.Update.Key)
		case ti.Delete != nil:
			n = sizes.before(ti.Delete.TableName, ti.Delete.Key)
		case ti.ConditionCheck != nil:
			n = sizes.before(ti.ConditionCheck.TableName, ti.ConditionCheck.Key)
		}
		units += 2 * startedKB(n)
	}
	return units + indexUnits(resp)
}

// putUnits prices a successful PutItem: 1 write unit per started KB of the
// larger of the item as sent and the item it replaces (itemSizes), plus
// the indexes' units as DynamoDB Local reported them.
func putUnits(req, resp []byte, sizes itemSizes) float64 {
	var in struct {
		TableName string
		Item      map[string]json.RawMessage
	}
	if json.Unmarshal(req, &in) != nil {
		return consumed(resp)
	}
	return startedKB(max(testenv.WireItemSize(in.Item), sizes.before(in.TableName, in.Item))) + indexUnits(resp)
}

// indexUnits sums the index capacity a response reports (one
// ConsumedCapacity object, or a list for transactions).
func indexUnits(resp []byte) float64 {
	type cc struct {
		GlobalSecondaryIndexes map[string]struct{ CapacityUnits float64 }
		LocalSecondaryIndexes  map[string]struct{ CapacityUnits float64 }
	}
	var out struct{ ConsumedCapacity json.RawMessage }
	if json.Unmarshal(resp, &out) != nil || len(out.ConsumedCapacity) == 0 {
		return 0
	}
	var many []cc
	if json.Unmarshal(out.ConsumedCapacity, &many) != nil {
		var one cc
		if json.Unmarshal(out.ConsumedCapacity, &one) != nil {
			return 0
		}
		many = []cc{one}
	}
	units := 0.0
	for _, c := range many {
		for _, ix := range c.GlobalSecondaryIndexes {
			units += ix.CapacityUnits
		}
		for _, ix := range c.LocalSecondaryIndexes {
			units += ix.CapacityUnits
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
