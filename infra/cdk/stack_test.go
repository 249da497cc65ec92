package main

// Assertion tests on the synthesized template. They need Node (jsii runs the
// CDK in it) but no AWS credentials and no network: the stack is
// environment-agnostic and does no lookups. The stack is synthesized once
// (TestMain) and each test reads the template as plain JSON.

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"reflect"
	"regexp"
	"slices"
	"sort"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-cdk-go/awscdk/v2"
	"github.com/aws/aws-cdk-go/awscdk/v2/assertions"
	"github.com/aws/jsii-runtime-go"

	"github.com/razorbill/razorbill/internal/openapicheck"
	"github.com/razorbill/razorbill/internal/schema"
)

const testStack = "RazorbillTest"

// tmpl is the synthesized template of the default configuration, and
// tmplJSON the same as CloudFormation gets it.
var (
	tmpl     template
	tmplJSON []byte
)

type template struct {
	Parameters map[string]any      `json:"Parameters"`
	Rules      map[string]any      `json:"Rules"`
	Resources  map[string]resource `json:"Resources"`
	Outputs    map[string]struct {
		Value any `json:"Value"`
	} `json:"Outputs"`
}

type resource struct {
	Type                string         `json:"Type"`
	Properties          map[string]any `json:"Properties"`
	DeletionPolicy      string         `json:"DeletionPolicy"`
	UpdateReplacePolicy string         `json:"UpdateReplacePolicy"`
	Metadata            map[string]any `json:"Metadata"`
}

// placeholderAssets writes <function>/bootstrap for every function.
func placeholderAssets(dir string) error {
	for _, s := range functionSpecs {
		if err := os.MkdirAll(filepath.Join(dir, s.Name), 0o755); err != nil {
			return err
		}
		if err := os.WriteFile(filepath.Join(dir, s.Name, "bootstrap"), []byte("#!/bin/sh\n# placeholder for "+s.Name+"\n"), 0o755); err != nil {
			return err
		}
	}
	return nil
}

// synth builds the stack with cfg and returns its template, parsed and raw.
func synth(cfg Config, outdir string) (template, []byte, error) {
	app := NewApp(outdir)
	stack := NewRazorbillStack(app, testStack, cfg, nil)
	raw := assertions.Template_FromStack(stack, nil).ToJSON()
	b, err := json.Marshal(raw)
	if err != nil {
		return template{}, nil, err
	}
	var t template
	err = json.Unmarshal(b, &t)
	return t, b, err
}

func testConfig(assets string) Config {
	cfg := DefaultConfig()
	cfg.AssetRoot = assets
	return cfg
}

func TestMain(m *testing.M) {
	code := func() int {
		defer jsii.Close()
		dir, err := os.MkdirTemp("", "razorbill-cdk-test")
		if err != nil {
			fmt.Fprintln(os.Stderr, err)
			return 1
		}
		defer os.RemoveAll(dir)
		assets := filepath.Join(dir, "build")
		if err := placeholderAssets(assets); err != nil {
			fmt.Fprintln(os.Stderr, err)
			return 1
		}
		testAssets = assets
		testOutdir = filepath.Join(dir, "cdk.out")
		if tmpl, tmplJSON, err = synth(testConfig(assets), testOutdir); err != nil {
			fmt.Fprintln(os.Stderr, "synth:", err)
			return 1
		}
		return m.Run()
	}()
	os.Exit(code)
}

var testAssets, testOutdir string

// ---- helpers ----

// byPath finds the resource whose construct path is Razorbill/<path>.
func (t template) byPath(tb testing.TB, path string) (string, resource) {
	tb.Helper()
	want := testStack + "/" + path
	for id, r := range t.Resources {
		if r.Metadata["aws:cdk:path"] == want {
			return id, r
		}
	}
	tb.Fatalf("no resource at construct path %s", want)
	return "", resource{}
}

func (t template) ofType(typ string) map[string]resource {
	out := map[string]resource{}
	for id, r := range t.Resources {
		if r.Type == typ {
			out[id] = r
		}
	}
	return out
}

func getAtt(id, attr string) any { return map[string]any{"Fn::GetAtt": []any{id, attr}} }
func ref(id string) any          { return map[string]any{"Ref": id} }

func asStrings(v any) []string {
	switch v := v.(type) {
	case string:
		return []string{v}
	case []any:
		var out []string
		for _, x := range v {
			if s, ok := x.(string); ok {
				out = append(out, s)
			}
		}
		return out
	}
	return nil
}

func asList(v any) []any {
	if l, ok := v.([]any); ok {
		return l
	}
	if v == nil {
		return nil
	}
	return []any{v}
}

func num(v any) float64 {
	f, _ := v.(float64)
	return f
}

// refsTo reports whether v (an intrinsic, possibly nested) mentions logical id.
func refsTo(v any, id string) bool {
	switch v := v.(type) {
	case map[string]any:
		if r, ok := v["Ref"].(string); ok && r == id {
			return true
		}
		if ga, ok := v["Fn::GetAtt"].([]any); ok && len(ga) > 0 && ga[0] == id {
			return true
		}
		for _, x := range v {
			if refsTo(x, id) {
				return true
			}
		}
	case []any:
		for _, x := range v {
			if refsTo(x, id) {
				return true
			}
		}
	}
	return false
}

// streamConsumers are the functions triggered by the table's stream.
func streamConsumers() []fnSpec {
	var out []fnSpec
	for _, s := range functionSpecs {
		if s.Stream != nil {
			out = append(out, s)
		}
	}
	return out
}

// failuresQueueID is the logical id of a stream consumer's on-failure queue.
func failuresQueueID(tb testing.TB, name string) string {
	tb.Helper()
	id, _ := tmpl.byPath(tb, camel(name)+"FailuresQueue/Resource")
	return id
}

func specOf(name string) fnSpec {
	for _, s := range functionSpecs {
		if s.Name == name {
			return s
		}
	}
	panic("no spec " + name)
}

func fnResource(tb testing.TB, name string) resource {
	tb.Helper()
	r, ok := tmpl.Resources[FunctionLogicalID(name)]
	if !ok || r.Type != "AWS::Lambda::Function" {
		tb.Fatalf("function %s: no AWS::Lambda::Function %s", name, FunctionLogicalID(name))
	}
	return r
}

// roleStatements returns the Allow statements of every policy attached to
// the function's role.
func roleStatements(tb testing.TB, name string) []map[string]any {
	tb.Helper()
	role := fnResource(tb, name).Properties["Role"]
	ga, _ := role.(map[string]any)["Fn::GetAtt"].([]any)
	if len(ga) == 0 {
		tb.Fatalf("function %s: role is not a GetAtt: %v", name, role)
	}
	roleID := ga[0].(string)
	var out []map[string]any
	for _, p := range tmpl.ofType("AWS::IAM::Policy") {
		if !refsTo(p.Properties["Roles"], roleID) {
			continue
		}
		for _, s := range asList(p.Properties["PolicyDocument"].(map[string]any)["Statement"]) {
			st := s.(map[string]any)
			if st["Effect"] == "Allow" {
				out = append(out, st)
			}
		}
	}
	return out
}

// allowed collects "action → resources" of a function's role.
func allowed(tb testing.TB, name string) map[string][]any {
	tb.Helper()
	out := map[string][]any{}
	for _, st := range roleStatements(tb, name) {
		for _, a := range asStrings(st["Action"]) {
			out[a] = append(out[a], asList(st["Resource"])...)
		}
	}
	return out
}

func mentions(resources []any, id string) bool {
	for _, r := range resources {
		if refsTo(r, id) {
			return true
		}
	}
	return false
}

// ---- queues ----

func TestQueuesAndDLQs(t *testing.T) {
	queues := tmpl.ofType("AWS::SQS::Queue")
	// every schema queue, its DLQ, and each stream consumer's failure queue
	if got, want := len(queues), 2*len(schema.Queues)+len(streamConsumers()); got != want {
		t.Fatalf("%d queues, want %d", got, want)
	}
	for id, q := range queues {
		if q.Properties["SqsManagedSseEnabled"] != true {
			t.Errorf("queue %s: SqsManagedSseEnabled = %v, want true", id, q.Properties["SqsManagedSseEnabled"])
		}
	}
	for _, q := range schema.Queues {
		t.Run(q.Name(), func(t *testing.T) {
			mainID, main := tmpl.byPath(t, camel(q.LogicalName)+"Queue/Resource")
			dlqID, dlq := tmpl.byPath(t, camel(q.LogicalName)+"DLQ/Resource")
			isFIFO := func(r resource) bool { return r.Properties["FifoQueue"] == true }
			if isFIFO(main) != q.FIFO || isFIFO(dlq) != q.FIFO {
				t.Errorf("FIFO: queue %v, DLQ %v, want both %v", isFIFO(main), isFIFO(dlq), q.FIFO)
			}
			if q.FIFO && main.Properties["ContentBasedDeduplication"] == true {
				t.Error("content-based deduplication is on; Razorbill sets explicit deduplication ids")
			}
			rp, _ := main.Properties["RedrivePolicy"].(map[string]any)
			if rp == nil {
				t.Fatal("no RedrivePolicy")
			}
			if !reflect.DeepEqual(rp["deadLetterTargetArn"], getAtt(dlqID, "Arn")) {
				t.Errorf("DLQ target = %v, want %s", rp["deadLetterTargetArn"], dlqID)
			}
			if got := num(rp["maxReceiveCount"]); got != float64(q.MaxReceiveCount) || got < 5 {
				t.Errorf("maxReceiveCount = %v, want schema's %d (≥ 5)", got, q.MaxReceiveCount)
			}
			if got := num(main.Properties["VisibilityTimeout"]); got != float64(q.VisibilityTimeoutSeconds) {
				t.Errorf("VisibilityTimeout = %v, want schema's %d", got, q.VisibilityTimeoutSeconds)
			}
			if _, ok := dlq.Properties["RedrivePolicy"]; ok {
				t.Error("the DLQ itself has a redrive policy")
			}
			// visibility ≥ 6 × the actual consumer's timeout
			consumers := 0
			for _, esm := range tmpl.ofType("AWS::Lambda::EventSourceMapping") {
				if !reflect.DeepEqual(esm.Properties["EventSourceArn"], getAtt(mainID, "Arn")) {
					continue
				}
				consumers++
				fnID := esm.Properties["FunctionName"].(map[string]any)["Ref"].(string)
				timeout := num(tmpl.Resources[fnID].Properties["Timeout"])
				if timeout != float64(q.ConsumerTimeoutSeconds) {
					t.Errorf("consumer %s timeout %vs ≠ schema ConsumerTimeoutSeconds %d", fnID, timeout, q.ConsumerTimeoutSeconds)
				}
				if vt := num(main.Properties["VisibilityTimeout"]); vt < 6*timeout {
					t.Errorf("visibility %vs < 6 × consumer %s timeout %vs", vt, fnID, timeout)
				}
			}
			if consumers != 1 {
				t.Errorf("%d consumers, want 1", consumers)
			}
		})
	}
}

func TestAlarms(t *testing.T) {
	alarms := tmpl.ofType("AWS::CloudWatch::Alarm")
	find := func(metric, queueID string) (resource, bool) {
		for _, a := range alarms {
			if a.Properties["MetricName"] != metric || a.Properties["Namespace"] != "AWS/SQS" {
				continue
			}
			for _, d := range asList(a.Properties["Dimensions"]) {
				d := d.(map[string]any)
				if d["Name"] == "QueueName" && reflect.DeepEqual(d["Value"], getAtt(queueID, "QueueName")) {
					return a, true
				}
			}
		}
		return resource{}, false
	}
	topicID, _ := tmpl.byPath(t, "AlarmTopic/Resource")
	check := func(t *testing.T, a resource, threshold float64) {
		t.Helper()
		if a.Properties["ComparisonOperator"] != "GreaterThanThreshold" || num(a.Properties["Threshold"]) != threshold {
			t.Errorf("alarm %v %v, want GreaterThanThreshold %v", a.Properties["ComparisonOperator"], a.Properties["Threshold"], threshold)
		}
		if !refsTo(a.Properties["AlarmActions"], topicID) {
			t.Errorf("alarm does not notify the alarm topic: %v", a.Properties["AlarmActions"])
		}
	}
	for _, q := range schema.Queues {
		dlqID, _ := tmpl.byPath(t, camel(q.LogicalName)+"DLQ/Resource")
		mainID, _ := tmpl.byPath(t, camel(q.LogicalName)+"Queue/Resource")
		if a, ok := find("ApproximateNumberOfMessagesVisible", dlqID); !ok {
			t.Errorf("%s: no depth alarm on its DLQ", q.Name())
		} else {
			check(t, a, 0)
		}
		if a, ok := find("ApproximateAgeOfOldestMessage", mainID); !ok {
			t.Errorf("%s: no age-of-oldest-message alarm", q.Name())
		} else {
			// must not page while a single poison message is still being
			// retried towards the DLQ
			check(t, a, float64(q.MaxReceiveCount*q.VisibilityTimeoutSeconds+300))
		}
	}
	if len(streamConsumers()) != 2 {
		t.Errorf("stream consumers %d, want 2 (stream-relay, usage-aggregator)", len(streamConsumers()))
	}
	for _, s := range streamConsumers() {
		if a, ok := find("ApproximateNumberOfMessagesVisible", failuresQueueID(t, s.Name)); !ok {
			t.Errorf("no depth alarm on %s's failure queue", s.Name)
		} else {
			check(t, a, 0)
		}
		iterator := 0
		for _, a := range alarms {
			if a.Properties["MetricName"] == "IteratorAge" && refsTo(a.Properties["Dimensions"], FunctionLogicalID(s.Name)) {
				iterator++
				check(t, a, float64(s.Stream.IteratorAgeAlarm.Milliseconds()))
			}
		}
		if iterator != 1 {
			t.Errorf("%d IteratorAge alarms on %s, want 1", iterator, s.Name)
		}
	}
	if got := specOf("usage-aggregator").Stream.IteratorAgeAlarm; got > 15*time.Minute {
		t.Errorf("usage-aggregator pages when usage is %s stale; want minutes", got)
	}
}

// ---- event sources ----

func TestSQSEventSourceMappings(t *testing.T) {
	for _, s := range functionSpecs {
		if s.Consumes == nil {
			continue
		}
		t.Run(s.Name, func(t *testing.T) {
			queueID, _ := tmpl.byPath(t, camel(s.Consumes.LogicalName)+"Queue/Resource")
			var found []resource
			for _, esm := range tmpl.ofType("AWS::Lambda::EventSourceMapping") {
				if reflect.DeepEqual(esm.Properties["FunctionName"], ref(FunctionLogicalID(s.Name))) {
					found = append(found, esm)
				}
			}
			if len(found) != 1 {
				t.Fatalf("%d mappings, want 1", len(found))
			}
			p := found[0].Properties
			if !reflect.DeepEqual(p["EventSourceArn"], getAtt(queueID, "Arn")) {
				t.Errorf("source %v, want queue %s", p["EventSourceArn"], queueID)
			}
			if !slices.Equal(asStrings(p["FunctionResponseTypes"]), []string{"ReportBatchItemFailures"}) {
				t.Errorf("FunctionResponseTypes = %v", p["FunctionResponseTypes"])
			}
			if bs := num(p["BatchSize"]); bs < 1 || bs > 10 {
				t.Errorf("BatchSize %v", bs)
			}
			if got := num(fnResource(t, s.Name).Properties["Timeout"]); got != float64(s.Consumes.ConsumerTimeoutSeconds) {
				t.Errorf("timeout %v ≠ schema ConsumerTimeoutSeconds %d", got, s.Consumes.ConsumerTimeoutSeconds)
			}
			if s.RazorpayLimited {
				sc, _ := p["ScalingConfig"].(map[string]any)
				reserved := num(fnResource(t, s.Name).Properties["ReservedConcurrentExecutions"])
				if sc == nil || num(sc["MaximumConcurrency"]) < 2 {
					t.Errorf("Razorpay-calling consumer without a maximum concurrency: %v", p["ScalingConfig"])
				} else if reserved < num(sc["MaximumConcurrency"]) {
					t.Errorf("reserved concurrency %v < mapping maximum %v: the poller would be throttled", reserved, sc["MaximumConcurrency"])
				}
			}
		})
	}
}

// TestStreamMapping: one mapping on the table's stream per stream consumer
// (at most two: DynamoDB streams serve two readers per shard), each with
// its function's filters, batching, retries and on-failure queue; the relay
// gets every schema stream filter and gives up after finite retries, the
// usage-aggregator gets new usage events only and retries until a record
// is about to leave the stream.
func TestStreamMapping(t *testing.T) {
	tableID, _ := tmpl.byPath(t, camel(schema.Main.LogicalName)+"Table/Resource")
	byFn := map[string]resource{}
	for _, esm := range tmpl.ofType("AWS::Lambda::EventSourceMapping") {
		if !reflect.DeepEqual(esm.Properties["EventSourceArn"], getAtt(tableID, "StreamArn")) {
			continue
		}
		fn, _ := esm.Properties["FunctionName"].(map[string]any)["Ref"].(string)
		if _, dup := byFn[fn]; dup {
			t.Errorf("%s: two mappings on the table stream", fn)
		}
		byFn[fn] = esm
	}
	want := map[string]bool{FunctionLogicalID("stream-relay"): true, FunctionLogicalID("usage-aggregator"): true}
	if len(byFn) != len(want) || len(byFn) > maxStreamConsumers {
		t.Fatalf("%d mappings on the table stream, want the relay and the usage-aggregator (and at most %d readers)", len(byFn), maxStreamConsumers)
	}
	wantPatterns := map[string][]string{"stream-relay": nil, "usage-aggregator": {schema.UsageEventsFilter}}
	for _, f := range schema.StreamFilters {
		wantPatterns["stream-relay"] = append(wantPatterns["stream-relay"], f.Pattern)
		var v any
		if err := json.Unmarshal([]byte(f.Pattern), &v); err != nil {
			t.Errorf("schema filter %s is not JSON: %v", f.Name, err)
		}
	}
	for _, s := range streamConsumers() {
		t.Run(s.Name, func(t *testing.T) {
			esm, ok := byFn[FunctionLogicalID(s.Name)]
			if !ok {
				t.Fatalf("no mapping on the table stream")
			}
			p := esm.Properties
			var patterns []string
			for _, f := range asList(p["FilterCriteria"].(map[string]any)["Filters"]) {
				patterns = append(patterns, f.(map[string]any)["Pattern"].(string))
			}
			if !slices.Equal(patterns, wantPatterns[s.Name]) {
				t.Errorf("filter patterns\n got %q\nwant %q", patterns, wantPatterns[s.Name])
			}
			if p["BisectBatchOnFunctionError"] != true {
				t.Error("BisectBatchOnFunctionError is not on")
			}
			if !slices.Equal(asStrings(p["FunctionResponseTypes"]), []string{"ReportBatchItemFailures"}) {
				t.Errorf("FunctionResponseTypes = %v", p["FunctionResponseTypes"])
			}
			if p["StartingPosition"] != "TRIM_HORIZON" {
				t.Errorf("StartingPosition = %v", p["StartingPosition"])
			}
			if got := num(p["BatchSize"]); got != float64(s.Stream.BatchSize) {
				t.Errorf("BatchSize %v, want %d", got, s.Stream.BatchSize)
			}
			if got := num(p["ParallelizationFactor"]); got != float64(s.Stream.Parallelization) || got < 1 || got > 4 {
				t.Errorf("ParallelizationFactor %v, want %d (1 to 4)", got, s.Stream.Parallelization)
			}
			age, ok := p["MaximumRecordAgeInSeconds"].(float64)
			if !ok || age < 60 || age > 86400 || age != s.Stream.MaxRecordAge.Seconds() {
				t.Errorf("MaximumRecordAgeInSeconds = %v, want %v (finite, within the stream's 24 h)", p["MaximumRecordAgeInSeconds"], s.Stream.MaxRecordAge.Seconds())
			}
			retries, ok := p["MaximumRetryAttempts"].(float64)
			switch s.Name {
			case "stream-relay":
				if !ok || retries < 0 || retries > 100 {
					t.Errorf("MaximumRetryAttempts = %v, want finite", p["MaximumRetryAttempts"])
				}
				if num(p["ParallelizationFactor"]) != 1 {
					t.Error("the relay must keep per-item order (ParallelizationFactor 1)")
				}
			case "usage-aggregator":
				// Giving up loses usage: retry until the record's age limit,
				// which is within an hour of the stream's retention.
				if !ok || retries != -1 {
					t.Errorf("MaximumRetryAttempts = %v, want -1 (until the record's age limit)", p["MaximumRetryAttempts"])
				}
				if age < 23*3600 {
					t.Errorf("MaximumRecordAgeInSeconds = %v: gives up on usage before the stream's 24 h retention is nearly over", age)
				}
				if num(p["BatchSize"]) < 100 {
					t.Errorf("BatchSize %v: want large batches (events are folded per batch)", p["BatchSize"])
				}
				if w := num(p["MaximumBatchingWindowInSeconds"]); w < 1 || w > 5 {
					t.Errorf("MaximumBatchingWindowInSeconds %v, want a few seconds", p["MaximumBatchingWindowInSeconds"])
				}
			}
			failID := failuresQueueID(t, s.Name)
			dest, _ := p["DestinationConfig"].(map[string]any)
			if dest == nil || !reflect.DeepEqual(dest["OnFailure"].(map[string]any)["Destination"], getAtt(failID, "Arn")) {
				t.Errorf("on-failure destination = %v, want its failure queue %s", p["DestinationConfig"], failID)
			}
			acts := allowed(t, s.Name)
			if !mentions(acts["sqs:SendMessage"], failID) {
				t.Error("cannot send to its on-failure queue")
			}
			if !mentions(acts["dynamodb:GetRecords"], tableID) {
				t.Error("cannot read the stream")
			}
		})
	}
	// The relay may send to every filter's queue.
	acts := allowed(t, "stream-relay")
	for _, f := range schema.StreamFilters {
		qid, _ := tmpl.byPath(t, camel(f.Queue.LogicalName)+"Queue/Resource")
		if !mentions(acts["sqs:SendMessage"], qid) {
			t.Errorf("stream-relay cannot send to %s (filter %s)", f.Queue.Name(), f.Name)
		}
	}
}

// ---- table ----

func TestTable(t *testing.T) {
	tables := tmpl.ofType("AWS::DynamoDB::Table")
	if len(tables) != len(schema.Tables) {
		t.Fatalf("%d tables, want %d", len(tables), len(schema.Tables))
	}
	for _, st := range schema.Tables {
		_, tr := tmpl.byPath(t, camel(st.LogicalName)+"Table/Resource")
		p := tr.Properties
		if p["BillingMode"] != "PAY_PER_REQUEST" {
			t.Errorf("BillingMode %v", p["BillingMode"])
		}
		if pitr, _ := p["PointInTimeRecoverySpecification"].(map[string]any); pitr == nil || pitr["PointInTimeRecoveryEnabled"] != true {
			t.Errorf("point-in-time recovery off: %v", p["PointInTimeRecoverySpecification"])
		}
		if p["DeletionProtectionEnabled"] != true || tr.DeletionPolicy != "Retain" || tr.UpdateReplacePolicy != "Retain" {
			t.Errorf("deletion protection %v, DeletionPolicy %q, UpdateReplacePolicy %q", p["DeletionProtectionEnabled"], tr.DeletionPolicy, tr.UpdateReplacePolicy)
		}
		if st.StreamNewAndOldImages {
			if ss, _ := p["StreamSpecification"].(map[string]any); ss == nil || ss["StreamViewType"] != "NEW_AND_OLD_IMAGES" {
				t.Errorf("stream %v", p["StreamSpecification"])
			}
		}
		if ttl, _ := p["TimeToLiveSpecification"].(map[string]any); ttl == nil || ttl["AttributeName"] != st.TTLAttribute || ttl["Enabled"] != true {
			t.Errorf("TTL %v, want %s", p["TimeToLiveSpecification"], st.TTLAttribute)
		}
		keys := func(ks any) [2]string {
			var out [2]string
			for _, k := range asList(ks) {
				k := k.(map[string]any)
				if k["KeyType"] == "HASH" {
					out[0] = k["AttributeName"].(string)
				} else {
					out[1] = k["AttributeName"].(string)
				}
			}
			return out
		}
		if got := keys(p["KeySchema"]); got != [2]string{st.PartitionKey, st.SortKey} {
			t.Errorf("key schema %v", got)
		}
		gsis := map[string][2]string{}
		for _, g := range asList(p["GlobalSecondaryIndexes"]) {
			g := g.(map[string]any)
			if g["Projection"].(map[string]any)["ProjectionType"] != "KEYS_ONLY" {
				t.Errorf("index %v projection %v", g["IndexName"], g["Projection"])
			}
			gsis[g["IndexName"].(string)] = keys(g["KeySchema"])
		}
		want := map[string][2]string{}
		for _, i := range st.Indexes {
			want[i.Name] = [2]string{i.PartitionKey, i.SortKey}
		}
		if !reflect.DeepEqual(gsis, want) {
			t.Errorf("indexes %v, want %v", gsis, want)
		}
	}
}

// ---- functions ----

func TestFunctions(t *testing.T) {
	fns := tmpl.ofType("AWS::Lambda::Function")
	if len(fns) != len(schema.Functions) {
		t.Fatalf("%d functions, want %d (schema.Functions)", len(fns), len(schema.Functions))
	}
	tableID, _ := tmpl.byPath(t, camel(schema.Main.LogicalName)+"Table/Resource")
	keyID, _ := tmpl.byPath(t, "ConnectionSecretsKey/Resource")
	urlID, _ := tmpl.byPath(t, "WebhookReceiver/FunctionUrl/Resource")
	for _, name := range schema.Functions {
		s := specOf(name)
		t.Run(name, func(t *testing.T) {
			r := fnResource(t, name)
			p := r.Properties
			if p["Runtime"] != "provided.al2023" || !slices.Equal(asStrings(p["Architectures"]), []string{"arm64"}) || p["Handler"] != "bootstrap" {
				t.Errorf("runtime %v, architectures %v, handler %v", p["Runtime"], p["Architectures"], p["Handler"])
			}
			if r.Metadata["aws:asset:path"] == nil || r.Metadata["aws:asset:property"] != "Code" {
				t.Errorf("no asset metadata (sam local invoke needs it): %v", r.Metadata)
			}
			if num(p["MemorySize"]) != float64(s.MemoryMB) || num(p["Timeout"]) != s.Timeout.Seconds() {
				t.Errorf("memory %v timeout %v", p["MemorySize"], p["Timeout"])
			}
			lc, _ := p["LoggingConfig"].(map[string]any)
			if lc == nil || lc["LogFormat"] != "JSON" {
				t.Errorf("LoggingConfig %v, want JSON", lc)
			} else {
				lgID := lc["LogGroup"].(map[string]any)["Ref"].(string)
				if d := num(tmpl.Resources[lgID].Properties["RetentionInDays"]); d != 30 {
					t.Errorf("log retention %v days, want 30", d)
				}
			}
			env := map[string]any{}
			if e, ok := p["Environment"].(map[string]any); ok {
				env = e["Variables"].(map[string]any)
			}
			want := map[string]any{}
			if s.Table != noTable {
				want[schema.Main.EnvVar] = ref(tableID)
			}
			for _, q := range s.Sends {
				qid, _ := tmpl.byPath(t, camel(q.LogicalName)+"Queue/Resource")
				want[q.EnvVar] = ref(qid)
			}
			if s.Key != noKey {
				want[envKMSKey] = getAtt(keyID, "Arn")
			}
			if s.Razorpay {
				want[envRazorpayBaseURL] = "https://api.razorpay.com"
			}
			if s.Admin {
				want[envAdminTokenParam] = DefaultConfig().AdminTokenParam
			}
			if s.Webhooks {
				want[envWebhookBaseURL] = getAtt(urlID, "FunctionUrl")
			}
			if !reflect.DeepEqual(env, want) {
				t.Errorf("environment\n got %v\nwant %v", env, want)
			}
			_, reserved := p["ReservedConcurrentExecutions"]
			if reserved != (s.RazorpayLimited || s.ReservedConcurrency > 0) {
				t.Errorf("reserved concurrency %v, want set=%v", p["ReservedConcurrentExecutions"], s.RazorpayLimited || s.ReservedConcurrency > 0)
			}
		})
	}
	// The Razorpay-calling consumers are the limited ones.
	for _, n := range []string{"customer-syncer", "invoice-syncer"} {
		if !specOf(n).RazorpayLimited {
			t.Errorf("%s calls Razorpay from a queue but has no concurrency cap", n)
		}
	}
}

// TestNoSecretsInTemplate: the admin token is only ever a parameter name.
func TestNoSecretsInTemplate(t *testing.T) {
	for id, r := range tmpl.ofType("AWS::Lambda::Function") {
		e, _ := r.Properties["Environment"].(map[string]any)
		if e == nil {
			continue
		}
		for k := range e["Variables"].(map[string]any) {
			if k == "RAZORBILL_ADMIN_TOKEN" || k == "RAZORBILL_LOCAL_KEY_FILE" || strings.Contains(k, "SECRET") {
				t.Errorf("%s: environment has %s", id, k)
			}
		}
	}
	if n := len(tmpl.ofType("AWS::SSM::Parameter")); n != 0 {
		t.Errorf("%d SSM parameters in the template; the admin token parameter is created outside it (SecureString)", n)
	}
	// Only the api may read the admin token.
	for _, s := range functionSpecs {
		_, can := allowed(t, s.Name)["ssm:GetParameter"]
		if can != (s.Name == "api") {
			t.Errorf("%s: ssm:GetParameter allowed = %v", s.Name, can)
		}
	}
	res := allowed(t, "api")["ssm:GetParameter"]
	b, _ := json.Marshal(res)
	if !strings.Contains(string(b), ":parameter/razorbill/admin-token") || strings.Contains(string(b), "*") {
		t.Errorf("api reads %s, want exactly the admin token parameter", b)
	}
}

// ---- HTTP API ----

// openapiRoutes is "METHOD /path" for every operation of docs/openapi.yaml,
// loaded and validated as an OpenAPI 3 document.
func openapiRoutes(t *testing.T) []string {
	t.Helper()
	doc, err := openapicheck.Load(context.Background(), openapicheck.SpecPath())
	if err != nil {
		t.Fatal(err)
	}
	out := openapicheck.Operations(doc)
	if len(out) == 0 {
		t.Fatal("no operations found in docs/openapi.yaml")
	}
	return out
}

func TestRoutesMatchOpenAPI(t *testing.T) {
	var want []string
	for _, r := range openapiRoutes(t) {
		if strings.Contains(r, "/webhooks/") {
			continue // served by the webhook-receiver's function URL
		}
		want = append(want, r)
	}
	var got []string
	for _, r := range httpRoutes {
		got = append(got, r.Method+" "+r.Path)
	}
	sort.Strings(got)
	if !slices.Equal(got, want) {
		t.Errorf("HTTP API routes ≠ docs/openapi.yaml\n got %q\nwant %q", got, want)
	}
}

func TestRoutesMapped(t *testing.T) {
	apiID, _ := tmpl.byPath(t, "HttpApi/Resource")
	integrationFn := map[string]string{} // integration logical id → function name
	for id, in := range tmpl.ofType("AWS::ApiGatewayV2::Integration") {
		for _, s := range functionSpecs {
			if refsTo(in.Properties["IntegrationUri"], FunctionLogicalID(s.Name)) {
				integrationFn[id] = s.Name
			}
		}
		if in.Properties["PayloadFormatVersion"] != "2.0" {
			t.Errorf("integration %s payload format %v, want 2.0", id, in.Properties["PayloadFormatVersion"])
		}
	}
	routes := map[string]string{} // route key → function
	for _, r := range tmpl.ofType("AWS::ApiGatewayV2::Route") {
		if !refsTo(r.Properties["ApiId"], apiID) {
			continue
		}
		fn := ""
		for iid, name := range integrationFn {
			if refsTo(r.Properties["Target"], iid) {
				fn = name
			}
		}
		routes[r.Properties["RouteKey"].(string)] = fn
	}
	want := map[string]string{"$default": defaultRouteFunction}
	for _, r := range httpRoutes {
		want[r.Method+" "+r.Path] = r.Function
		fn := "api"
		switch {
		case strings.HasPrefix(r.Path, "/api/v1/payments"):
			fn = "payment-link-creator"
		case r.Path == "/api/v1/events" || strings.HasPrefix(r.Path, "/api/v1/events/"):
			fn = "usage-ingest"
		}
		if r.Function != fn {
			t.Errorf("%s %s → %s, want %s: payments go to payment-link-creator, usage events to usage-ingest, the rest to api", r.Method, r.Path, r.Function, fn)
		}
	}
	if !reflect.DeepEqual(routes, want) {
		t.Errorf("routes\n got %v\nwant %v", routes, want)
	}
}

func TestStage(t *testing.T) {
	_, st := tmpl.byPath(t, "DefaultStage/Resource")
	p := st.Properties
	if p["StageName"] != "$default" || p["AutoDeploy"] != true {
		t.Errorf("stage %v autodeploy %v", p["StageName"], p["AutoDeploy"])
	}
	rs, _ := p["DefaultRouteSettings"].(map[string]any)
	if rs == nil || num(rs["ThrottlingRateLimit"]) <= 0 || num(rs["ThrottlingBurstLimit"]) <= 0 {
		t.Errorf("no throttling: %v", p["DefaultRouteSettings"])
	}
	al, _ := p["AccessLogSettings"].(map[string]any)
	if al == nil {
		t.Fatal("no access logs")
	}
	lgID, lg := tmpl.byPath(t, "HttpApiAccessLogs/Resource")
	if !reflect.DeepEqual(al["DestinationArn"], getAtt(lgID, "Arn")) || num(lg.Properties["RetentionInDays"]) != 30 {
		t.Errorf("access logs to %v (retention %v)", al["DestinationArn"], lg.Properties["RetentionInDays"])
	}
	var line map[string]string
	if err := json.Unmarshal([]byte(al["Format"].(string)), &line); err != nil || line["requestId"] == "" || line["status"] == "" {
		t.Errorf("access log format is not JSON with requestId and status: %v", err)
	}
}

func TestWebhookFunctionURL(t *testing.T) {
	urls := tmpl.ofType("AWS::Lambda::Url")
	if len(urls) != 1 {
		t.Fatalf("%d function URLs, want 1", len(urls))
	}
	for _, u := range urls {
		if u.Properties["AuthType"] != "NONE" {
			t.Errorf("AuthType %v, want NONE (the Razorpay signature is the auth)", u.Properties["AuthType"])
		}
		if !refsTo(u.Properties["TargetFunctionArn"], FunctionLogicalID(webhookFunction)) {
			t.Errorf("URL targets %v", u.Properties["TargetFunctionArn"])
		}
	}
	var invokeURL, invokeViaURL int
	for id, p := range tmpl.ofType("AWS::Lambda::Permission") {
		if p.Properties["Principal"] != "*" {
			continue
		}
		if !refsTo(p.Properties["FunctionName"], FunctionLogicalID(webhookFunction)) {
			t.Errorf("%s: public permission on %v", id, p.Properties["FunctionName"])
			continue
		}
		switch {
		case p.Properties["Action"] == "lambda:InvokeFunctionUrl" && p.Properties["FunctionUrlAuthType"] == "NONE":
			invokeURL++
		case p.Properties["Action"] == "lambda:InvokeFunction" && p.Properties["InvokedViaFunctionUrl"] == true:
			invokeViaURL++
		default:
			t.Errorf("%s: unexpected public permission %v", id, p.Properties)
		}
	}
	if invokeURL != 1 || invokeViaURL != 1 {
		t.Errorf("public URL permissions: InvokeFunctionUrl %d, InvokeFunction via URL %d; one of each is required", invokeURL, invokeViaURL)
	}
}

func TestOutputs(t *testing.T) {
	apiID, _ := tmpl.byPath(t, "HttpApi/Resource")
	urlID, _ := tmpl.byPath(t, "WebhookReceiver/FunctionUrl/Resource")
	api, ok := tmpl.Outputs["ApiUrl"]
	b, _ := json.Marshal(api.Value)
	if !ok || !refsTo(api.Value, apiID) || !strings.Contains(string(b), "execute-api") {
		t.Errorf("ApiUrl output %s", b)
	}
	wh, ok := tmpl.Outputs["WebhookBaseUrl"]
	if !ok || !reflect.DeepEqual(wh.Value, getAtt(urlID, "FunctionUrl")) {
		t.Errorf("WebhookBaseUrl output %v", wh.Value)
	}
	if _, ok := tmpl.Outputs["AdminTokenParameterName"]; !ok {
		t.Error("no AdminTokenParameterName output")
	}
}

// TestBootstrapVersionChecked: the template is the default synthesizer's,
// deployed by `cdk deploy` the normal way: its only parameter is the
// bootstrap version (read from the bootstrap stack's SSM parameter) and its
// rule refuses a bootstrap stack older than version 6.
func TestBootstrapVersionChecked(t *testing.T) {
	want := map[string]any{"BootstrapVersion": map[string]any{
		"Type":        "AWS::SSM::Parameter::Value<String>",
		"Default":     "/cdk-bootstrap/hnb659fds/version",
		"Description": "Version of the CDK Bootstrap resources in this environment, automatically retrieved from SSM Parameter Store. [cdk:skip]",
	}}
	if !reflect.DeepEqual(tmpl.Parameters, want) {
		t.Errorf("parameters %v, want only %v", tmpl.Parameters, want)
	}
	rule, _ := tmpl.Rules["CheckBootstrapVersion"].(map[string]any)
	b, _ := json.Marshal(rule["Assertions"])
	if len(tmpl.Rules) != 1 || !strings.Contains(string(b), `"Fn::Contains":[["1","2","3","4","5"],{"Ref":"BootstrapVersion"}]`) {
		t.Errorf("rules %v: want CheckBootstrapVersion refusing bootstrap versions 1-5", tmpl.Rules)
	}
}

// ---- KMS and IAM ----

// TestKMSKey: the connection key's grants are exactly kms:Decrypt (and
// kms:Encrypt for the api), each conditioned on the record encryption
// context of the fields the function opens; every other KMS action a
// function holds is on the data key.
func TestKMSKey(t *testing.T) {
	keyID, key := tmpl.byPath(t, "ConnectionSecretsKey/Resource")
	dataKeyID, _ := tmpl.byPath(t, "DataKey/Resource")
	if key.Properties["EnableKeyRotation"] != true || key.DeletionPolicy != "Retain" {
		t.Errorf("rotation %v, DeletionPolicy %q", key.Properties["EnableKeyRotation"], key.DeletionPolicy)
	}
	for _, s := range functionSpecs {
		var conn []string
		opens := map[string][]string{} // action → record patterns
		for _, st := range roleStatements(t, s.Name) {
			for _, a := range asStrings(st["Action"]) {
				if !strings.HasPrefix(a, "kms:") {
					continue
				}
				res := asList(st["Resource"])
				switch {
				case len(res) == 1 && mentions(res, keyID):
					conn = append(conn, a)
					cond, _ := st["Condition"].(map[string]any)
					like, _ := cond["StringLike"].(map[string]any)
					keys, _ := cond["ForAllValues:StringEquals"].(map[string]any)
					if like == nil || !slices.Equal(asStrings(keys["kms:EncryptionContextKeys"]), []string{"record"}) {
						t.Errorf("%s: %s on the connection key without the record context condition: %v", s.Name, a, st["Condition"])
						continue
					}
					opens[a] = asStrings(like["kms:EncryptionContext:record"])
				case len(res) == 1 && mentions(res, dataKeyID):
				default:
					t.Errorf("%s: %s on %v, want the connection key or the data key alone", s.Name, a, res)
				}
			}
		}
		sort.Strings(conn)
		var want []string
		switch s.Key {
		case decryptKey:
			want = []string{"kms:Decrypt"}
		case encryptKey:
			want = []string{"kms:Decrypt", "kms:Encrypt"}
		}
		if !slices.Equal(conn, want) {
			t.Errorf("%s: connection key actions %v, want %v", s.Name, conn, want)
		}
		if s.Key != noKey && !slices.Equal(opens["kms:Decrypt"], recordPatterns(s.opens()...)) {
			t.Errorf("%s: may decrypt records %v, want %v", s.Name, opens["kms:Decrypt"], recordPatterns(s.opens()...))
		}
	}
	// Only the webhook receiver opens webhook secrets, and it opens nothing else.
	if got := specOf("webhook-receiver").opens(); !slices.Equal(got, []string{fieldWebhookSecret}) {
		t.Errorf("webhook-receiver opens %v", got)
	}
	for _, s := range functionSpecs {
		if s.Name != "webhook-receiver" && slices.Contains(s.opens(), fieldWebhookSecret) {
			t.Errorf("%s may open webhook secrets", s.Name)
		}
	}
}

// minimumTableActions is what each function's code does with the table
// (internal/dynamo calls reached from its main), written out here rather
// than derived from functionSpecs, so a grant wider than the code needs
// fails. A transaction needs the action of each part (Put → PutItem, …).
var minimumTableActions = map[string][]string{
	// everything: tenants, keys (revoke = a transaction with a Delete and
	// an Update), idempotency (release = DeleteItem), lists (Query, then
	// BatchGetItem of the items listed: the indexes hold only keys).
	"api": {"dynamodb:BatchGetItem", "dynamodb:DeleteItem", "dynamodb:GetItem", "dynamodb:PutItem", "dynamodb:Query", "dynamodb:UpdateItem"},
	// the same router (API key touch = UpdateItem, idempotency release =
	// DeleteItem), payment and refund lists (Query, BatchGetItem).
	"payment-link-creator": {"dynamodb:BatchGetItem", "dynamodb:DeleteItem", "dynamodb:GetItem", "dynamodb:PutItem", "dynamodb:Query", "dynamodb:UpdateItem"},
	// reads the connection and refs/payments for the FIFO group; writes nothing.
	"webhook-receiver": {"dynamodb:GetItem"},
	// reads by key (a capture's connection, marker, payment and invoice in
	// BatchGetItems), writes items and Put transactions, stamps the
	// connection's last webhook (UpdateItem); no lists.
	"payment-reconciler": {"dynamodb:BatchGetItem", "dynamodb:GetItem", "dynamodb:PutItem", "dynamodb:UpdateItem"},
	// reads by key and writes whole items; no lists.
	"customer-syncer": {"dynamodb:GetItem", "dynamodb:PutItem"},
	// also lists a synced customer's waiting invoices (Query on an index,
	// BatchGetItem of the invoices).
	"invoice-syncer":  {"dynamodb:BatchGetItem", "dynamodb:GetItem", "dynamodb:PutItem", "dynamodb:Query", "dynamodb:UpdateItem"},
	"gateway-sweeper": {"dynamodb:BatchGetItem", "dynamodb:GetItem", "dynamodb:PutItem", "dynamodb:Query", "dynamodb:UpdateItem"},
	// the stream only, through its event source mapping.
	"stream-relay": {"dynamodb:DescribeStream", "dynamodb:GetRecords", "dynamodb:GetShardIterator", "dynamodb:ListStreams"},
	// the same router as the api (API key touch = UpdateItem, idempotency
	// release = DeleteItem); meters and customers (GetItem, Query); each
	// event written once (PutItem).
	"usage-ingest": {"dynamodb:DeleteItem", "dynamodb:GetItem", "dynamodb:PutItem", "dynamodb:Query", "dynamodb:UpdateItem"},
	// subscriptions, plans, customers, settings, meters (GetItem); the due
	// index and usage buckets (Query); the invoice number (UpdateItem); the
	// step's transaction of Puts (PutItem).
	"period-close": {"dynamodb:GetItem", "dynamodb:PutItem", "dynamodb:Query", "dynamodb:UpdateItem"},
	// meters (Query), buckets and timeline items (BatchGetItem),
	// transactions of Puts (PutItem); and the stream.
	"usage-aggregator": {"dynamodb:BatchGetItem", "dynamodb:DescribeStream", "dynamodb:GetRecords", "dynamodb:GetShardIterator", "dynamodb:ListStreams", "dynamodb:PutItem", "dynamodb:Query"},
}

// TestFunctionPermissions: each function's role allows exactly the DynamoDB
// actions its code uses (minimumTableActions), SendMessage on exactly the
// queues it sends to, and only the services it uses, on its own resources.
func TestFunctionPermissions(t *testing.T) {
	tableID, _ := tmpl.byPath(t, camel(schema.Main.LogicalName)+"Table/Resource")
	for _, s := range functionSpecs {
		acts := allowed(t, s.Name)
		want, ok := minimumTableActions[s.Name]
		if !ok {
			t.Errorf("%s: no entry in minimumTableActions; write down the DynamoDB calls its code makes", s.Name)
		}
		var got []string
		for a, res := range acts {
			if !strings.HasPrefix(a, "dynamodb:") {
				continue
			}
			got = append(got, a)
			if a == "dynamodb:ListStreams" {
				continue // no resource-level permission exists
			}
			for _, r := range res {
				if !refsTo(r, tableID) {
					t.Errorf("%s: %s on %v, want the table (its indexes or stream)", s.Name, a, r)
				}
			}
		}
		sort.Strings(got)
		if !slices.Equal(got, want) {
			t.Errorf("%s: DynamoDB actions\n got %v\nwant %v (the minimum)", s.Name, got, want)
		}
		if slices.Contains(got, "dynamodb:Query") {
			b, _ := json.Marshal(acts["dynamodb:Query"])
			if !strings.Contains(string(b), "/index/*") {
				t.Errorf("%s: Query not allowed on the indexes: %s", s.Name, b)
			}
		}
		for _, a := range []string{"dynamodb:BatchGetItem", "dynamodb:GetItem", "dynamodb:PutItem"} {
			if slices.Contains(got, a) {
				b, _ := json.Marshal(acts[a])
				if strings.Contains(string(b), "/index/") || strings.Contains(string(b), "StreamArn") {
					t.Errorf("%s: %s on %s, want the table alone", s.Name, a, b)
				}
			}
		}

		sends := map[string]bool{}
		for _, q := range s.Sends {
			id, _ := tmpl.byPath(t, camel(q.LogicalName)+"Queue/Resource")
			sends[id] = true
		}
		if s.Stream != nil {
			sends[failuresQueueID(t, s.Name)] = true
		}
		for _, r := range acts["sqs:SendMessage"] {
			ok := false
			for id := range sends {
				ok = ok || refsTo(r, id)
			}
			if !ok {
				t.Errorf("%s: may send to %v", s.Name, r)
			}
		}
		if len(acts["sqs:SendMessage"]) != len(sends) {
			t.Errorf("%s: SendMessage on %d queues, want %d", s.Name, len(acts["sqs:SendMessage"]), len(sends))
		}
		_, receives := acts["sqs:ReceiveMessage"]
		if receives != (s.Consumes != nil) {
			t.Errorf("%s: sqs:ReceiveMessage allowed = %v", s.Name, receives)
		}
		if s.Consumes == nil {
			// A sender needs SendMessage alone on its queues (the URLs are
			// in its environment). A stream mapping's on-failure
			// destination is granted by CDK (SendMessage, GetQueueUrl,
			// GetQueueAttributes) on the function's failure queue alone.
			failID := ""
			if s.Stream != nil {
				failID = failuresQueueID(t, s.Name)
			}
			for a, res := range acts {
				if strings.HasPrefix(a, "sqs:") && a != "sqs:SendMessage" && (failID == "" || len(res) != 1 || !mentions(res, failID)) {
					t.Errorf("%s: %s allowed on %v; it only sends", s.Name, a, res)
				}
			}
		}
		for a := range acts {
			svc := strings.SplitN(a, ":", 2)[0]
			if !slices.Contains([]string{"dynamodb", "sqs", "kms", "ssm"}, svc) {
				t.Errorf("%s: unexpected action %s", s.Name, a)
			}
		}
	}
}

// TestNoWildcardPermissions walks every policy document in the template and
// fails on "*" or service-wide actions ("dynamodb:*", "sqs:*", "kms:*", …) in
// an Allow statement, and on Resource "*" for DynamoDB or SQS actions. Two
// documented exceptions: dynamodb:ListStreams (IAM has no resource-level
// permission for it; Lambda's stream mapping requires it) and the KMS default
// key policy statement that delegates the key to the account's IAM policies.
// Deny statements (TLS-only queue policies) are restrictions, not grants.
func TestNoWildcardPermissions(t *testing.T) {
	serviceWide := regexp.MustCompile(`^[a-z0-9-]+:\*$`)
	checked := 0
	checkDoc := func(where string, doc any, keyPolicy bool) {
		d, _ := doc.(map[string]any)
		if d == nil {
			t.Errorf("%s: policy document %v", where, doc)
			return
		}
		for _, s := range asList(d["Statement"]) {
			st := s.(map[string]any)
			checked++
			if st["Effect"] != "Allow" {
				continue
			}
			if _, ok := st["NotAction"]; ok {
				t.Errorf("%s: NotAction in an Allow statement", where)
			}
			if _, ok := st["NotResource"]; ok {
				t.Errorf("%s: NotResource in an Allow statement", where)
			}
			actions := asStrings(st["Action"])
			resourceStar := slices.Contains(asStrings(st["Resource"]), "*")
			if keyPolicy {
				b, _ := json.Marshal(st["Principal"])
				if slices.Equal(actions, []string{"kms:*"}) && strings.Contains(string(b), ":root") && !strings.Contains(string(b), `"*"`) {
					continue // the default key policy: the account's IAM decides
				}
				// In a key policy Resource "*" is the key itself; what
				// matters is who, and under which condition.
				if strings.Contains(string(b), `"*"`) {
					t.Errorf("%s: key policy allows any principal: %s", where, b)
				}
				if strings.Contains(string(b), "Service") && st["Condition"] == nil {
					t.Errorf("%s: key policy allows a service without a condition: %s", where, b)
				}
				resourceStar = false
			}
			for _, a := range actions {
				if a == "*" || serviceWide.MatchString(a) {
					t.Errorf("%s: wildcard action %q", where, a)
				}
				svc := strings.SplitN(a, ":", 2)[0]
				if resourceStar && (svc == "dynamodb" || svc == "sqs") && a != "dynamodb:ListStreams" {
					t.Errorf("%s: %s on Resource *", where, a)
				}
			}
			if resourceStar && !slices.Equal(actions, []string{"dynamodb:ListStreams"}) {
				for _, a := range actions {
					if strings.HasPrefix(a, "kms:") || strings.HasPrefix(a, "ssm:") {
						t.Errorf("%s: %s on Resource *", where, a)
					}
				}
			}
		}
	}
	for id, r := range tmpl.Resources {
		p := r.Properties
		switch r.Type {
		case "AWS::IAM::Policy", "AWS::IAM::ManagedPolicy":
			checkDoc(id, p["PolicyDocument"], false)
		case "AWS::IAM::Role":
			for _, pol := range asList(p["Policies"]) {
				checkDoc(id, pol.(map[string]any)["PolicyDocument"], false)
			}
			checkDoc(id+" (trust)", p["AssumeRolePolicyDocument"], false)
			for _, arn := range asList(p["ManagedPolicyArns"]) {
				b, _ := json.Marshal(arn)
				if !strings.Contains(string(b), "service-role/AWSLambdaBasicExecutionRole") {
					t.Errorf("%s: managed policy %s (only AWSLambdaBasicExecutionRole is expected)", id, b)
				}
				if strings.Contains(string(b), "FullAccess") || strings.Contains(string(b), "AdministratorAccess") {
					t.Errorf("%s: managed policy %s", id, b)
				}
			}
		case "AWS::SQS::QueuePolicy", "AWS::SNS::TopicPolicy":
			checkDoc(id, p["PolicyDocument"], false)
		case "AWS::KMS::Key":
			checkDoc(id, p["KeyPolicy"], true)
		}
	}
	if checked == 0 {
		t.Fatal("no policy statements found")
	}
}

// ---- configuration ----

func TestUnreservedVariant(t *testing.T) {
	cfg := testConfig(testAssets)
	cfg.ReserveConcurrency = false
	cfg.RazorpayConcurrency = 3
	cfg.AdminTokenParam = "/acme/razorbill/admin"
	app := NewApp(filepath.Join(testOutdir, "variant"))
	stack := NewRazorbillStack(app, "Variant", cfg, nil)
	tpl := assertions.Template_FromStack(stack, nil)
	tpl.HasResourceProperties(jsii.String("AWS::Lambda::Function"), map[string]any{
		"Handler":                      "bootstrap",
		"ReservedConcurrentExecutions": assertions.Match_Absent(),
		"Environment": map[string]any{"Variables": assertions.Match_ObjectLike(&map[string]any{
			envAdminTokenParam: "/acme/razorbill/admin",
		})},
	})
	tpl.ResourcePropertiesCountIs(jsii.String("AWS::Lambda::Function"), map[string]any{
		"ReservedConcurrentExecutions": assertions.Match_AnyValue(),
	}, jsii.Number(0))
	tpl.ResourcePropertiesCountIs(jsii.String("AWS::Lambda::EventSourceMapping"), map[string]any{
		"ScalingConfig": map[string]any{"MaximumConcurrency": 3},
	}, jsii.Number(2))
	var _ awscdk.Stack = stack
}

func TestConfigValidate(t *testing.T) {
	good := testConfig("/tmp/x")
	if err := good.validate(); err != nil {
		t.Fatalf("default config: %v", err)
	}
	for name, mut := range map[string]func(*Config){
		"no asset root":    func(c *Config) { c.AssetRoot = "" },
		"relative param":   func(c *Config) { c.AdminTokenParam = "razorbill/admin" },
		"wildcard param":   func(c *Config) { c.AdminTokenParam = "/razorbill/*" },
		"concurrency of 1": func(c *Config) { c.RazorpayConcurrency = 1 },
	} {
		c := good
		mut(&c)
		if err := c.validate(); err == nil {
			t.Errorf("%s: accepted", name)
		}
	}
}

func TestCheckAssets(t *testing.T) {
	if err := checkAssets(testAssets); err != nil {
		t.Errorf("placeholder assets: %v", err)
	}
	err := checkAssets(t.TempDir())
	if err == nil || !strings.Contains(err.Error(), "make build") {
		t.Errorf("empty asset root: %v", err)
	}
}

func TestLogicalIDs(t *testing.T) {
	for in, want := range map[string]string{"api": "ApiFunction", "payment-link-creator": "PaymentLinkCreatorFunction", "stream-relay": "StreamRelayFunction"} {
		if got := FunctionLogicalID(in); got != want {
			t.Errorf("FunctionLogicalID(%q) = %q, want %q", in, got, want)
		}
	}
}

// TestSamEnvExample: infra/cdk/sam-env.example.json (for `sam local invoke
// --env-vars`) lists exactly the variables each function gets from a
// CloudFormation reference, each naming a stack output that exists.
func TestSamEnvExample(t *testing.T) {
	b, err := os.ReadFile("sam-env.example.json")
	if err != nil {
		t.Fatal(err)
	}
	var example map[string]map[string]string
	if err := json.Unmarshal(b, &example); err != nil {
		t.Fatal(err)
	}
	outputRe := regexp.MustCompile(`^<(\w+) output>$`)
	got := map[string][]string{}
	for fn, vars := range example {
		for k, v := range vars {
			got[fn] = append(got[fn], k)
			m := outputRe.FindStringSubmatch(v)
			if m == nil {
				t.Errorf("%s.%s = %q, want \"<Output output>\"", fn, k, v)
			} else if _, ok := tmpl.Outputs[m[1]]; !ok {
				t.Errorf("%s.%s: no stack output %s", fn, k, m[1])
			}
		}
		sort.Strings(got[fn])
	}
	want := map[string][]string{}
	for id, r := range tmpl.ofType("AWS::Lambda::Function") {
		e, _ := r.Properties["Environment"].(map[string]any)
		if e == nil {
			continue
		}
		for k, v := range e["Variables"].(map[string]any) {
			if _, literal := v.(string); !literal {
				want[id] = append(want[id], k)
			}
		}
		sort.Strings(want[id])
	}
	if !reflect.DeepEqual(got, want) {
		t.Errorf("sam-env.example.json\n got %v\nwant %v", got, want)
	}
}

// TestCfnLint validates the template against CloudFormation's resource
// specifications when cfn-lint is installed (it is optional: skipped
// otherwise). Errors fail; warnings (CDK's redundant DependsOn) do not.
func TestCfnLint(t *testing.T) {
	bin, err := exec.LookPath("cfn-lint")
	if err != nil {
		t.Skip("cfn-lint not installed")
	}
	path := filepath.Join(t.TempDir(), "template.json")
	if err := os.WriteFile(path, tmplJSON, 0o644); err != nil {
		t.Fatal(err)
	}
	out, err := exec.Command(bin, "--format", "parseable", path).CombinedOutput()
	var exit *exec.ExitError
	if errors.As(err, &exit) && exit.ExitCode()&2 == 0 {
		err = nil // warnings or informational findings only
	}
	if err != nil {
		t.Errorf("cfn-lint: %v\n%s", err, out)
	}
}
