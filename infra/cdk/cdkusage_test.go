package main

// Metering (issue 18) on the synthesized template: the usage functions'
// settings, the aggregator's stream filter, the two-reader limit of the
// table's stream, and the IAM grants kept equal to what the local stack
// checks each function's calls against.

import (
	"go/ast"
	"go/parser"
	"go/token"
	"path/filepath"
	"slices"
	"sort"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-cdk-go/awscdk/v2"
	"github.com/aws/aws-cdk-go/awscdk/v2/assertions"
	"github.com/aws/jsii-runtime-go"

	"github.com/razorbill/razorbill/internal/lambdahost"
	"github.com/razorbill/razorbill/internal/schema"
)

// TestUsageSettingsReachTheUsageFunctions: Config's usage lateness and
// retention become RAZORBILL_USAGE_LATENESS / RAZORBILL_USAGE_RETENTION
// (Go durations, what internal/config parses) on exactly the functions that
// read them; unset, no function gets them (TestFunctions checks the
// default environment exactly).
func TestUsageSettingsReachTheUsageFunctions(t *testing.T) {
	cfg := testConfig(testAssets)
	cfg.UsageLateness = 10 * 24 * time.Hour
	cfg.UsageRetention = 90 * 24 * time.Hour
	app := NewApp(filepath.Join(testOutdir, "usage"))
	tpl := assertions.Template_FromStack(NewRazorbillStack(app, "Usage", cfg, nil), nil)
	fns := tpl.FindResources(jsii.String("AWS::Lambda::Function"), nil)
	readers := map[string]bool{}
	for _, s := range functionSpecs {
		if s.Usage {
			readers[FunctionLogicalID(s.Name)] = true
		}
	}
	for _, n := range []string{"api", "usage-ingest", "usage-aggregator"} {
		if !readers[FunctionLogicalID(n)] {
			t.Errorf("%s reads the usage settings but is not marked Usage", n)
		}
	}
	seen := 0
	for id, r := range *fns {
		props, _ := (*r)["Properties"].(map[string]any)
		env, _ := props["Environment"].(map[string]any)
		vars, _ := env["Variables"].(map[string]any)
		late, retain := vars[envUsageLateness], vars[envUsageRetention]
		if readers[id] {
			seen++
			if late != "240h0m0s" || retain != "2160h0m0s" {
				t.Errorf("%s: %s=%v %s=%v, want 240h0m0s and 2160h0m0s", id, envUsageLateness, late, envUsageRetention, retain)
			}
			if d, err := time.ParseDuration(late.(string)); err != nil || d != cfg.UsageLateness {
				t.Errorf("%s: lateness %v does not parse back: %v", id, late, err)
			}
		} else if late != nil || retain != nil {
			t.Errorf("%s: has usage settings it does not read (%v, %v)", id, late, retain)
		}
	}
	if seen != len(readers) {
		t.Errorf("%d of %d usage functions found", seen, len(readers))
	}
}

// TestUsageConfigRejected: the bounds internal/config enforces at start
// fail the synthesis instead of a deployed function's cold start.
func TestUsageConfigRejected(t *testing.T) {
	for name, c := range map[string]struct{ late, keep time.Duration }{
		"lateness under an hour":           {30 * time.Minute, 0},
		"lateness over 400 days":           {401 * 24 * time.Hour, 500 * 24 * time.Hour},
		"retention under a day":            {0, time.Hour},
		"retention not above the lateness": {30 * 24 * time.Hour, 30 * 24 * time.Hour},
		"retention under default lateness": {0, 20 * 24 * time.Hour},
		"lateness above default retention": {401 * 24 * time.Hour, 0},
	} {
		cfg := testConfig("/tmp/x")
		cfg.UsageLateness, cfg.UsageRetention = c.late, c.keep
		if err := cfg.validate(); err == nil {
			t.Errorf("%s: accepted", name)
		}
	}
	cfg := testConfig("/tmp/x")
	cfg.UsageLateness, cfg.UsageRetention = 2*time.Hour, 48*time.Hour
	if err := cfg.validate(); err != nil {
		t.Errorf("2h / 48h: %v", err)
	}
	app := awscdk.NewApp(&awscdk.AppProps{Context: &map[string]any{ctxUsageLateness: "35 days", ctxAssetRoot: "/tmp/x"}})
	if _, err := ConfigFromContext(app); err == nil || !strings.Contains(err.Error(), ctxUsageLateness) {
		t.Errorf("context usageLateness=\"35 days\": %v", err)
	}
	app = awscdk.NewApp(&awscdk.AppProps{Context: &map[string]any{ctxUsageLateness: "72h", ctxUsageRetention: "2400h", ctxAssetRoot: "/tmp/x"}})
	if c, err := ConfigFromContext(app); err != nil || c.UsageLateness != 72*time.Hour || c.UsageRetention != 2400*time.Hour {
		t.Errorf("context 72h / 2400h: %v %v %v", c.UsageLateness, c.UsageRetention, err)
	}
}

// TestAtMostTwoStreamReaders: a third function on the table's stream is
// refused (DynamoDB streams serve two readers per shard).
func TestAtMostTwoStreamReaders(t *testing.T) {
	saved := functionSpecs
	defer func() { functionSpecs = saved }()
	cfg := testConfig("/tmp/x")
	if err := cfg.validate(); err != nil {
		t.Fatal(err)
	}
	functionSpecs = slices.Clone(saved)
	for i := range functionSpecs {
		if functionSpecs[i].Name == "customer-syncer" {
			functionSpecs[i].Stream = usageAggregatorTrigger
		}
	}
	if err := cfg.validate(); err == nil || !strings.Contains(err.Error(), "readers per shard") {
		t.Errorf("three stream readers: %v", err)
	}
	functionSpecs = slices.Clone(saved)
	for i := range functionSpecs {
		if functionSpecs[i].Name == "usage-aggregator" {
			bad := *functionSpecs[i].Stream
			bad.MaxRecordAge = 48 * time.Hour // beyond the stream's retention
			functionSpecs[i].Stream = &bad
		}
	}
	if err := cfg.validate(); err == nil {
		t.Error("a record age limit beyond the stream's 24 h was accepted")
	}
}

// mappingPatterns returns the filter patterns of function name's mapping on
// the table's stream.
func mappingPatterns(t *testing.T, name string) []string {
	t.Helper()
	var out []string
	n := 0
	for _, r := range tmpl.ofType("AWS::Lambda::EventSourceMapping") {
		if !refsTo(r.Properties["FunctionName"], FunctionLogicalID(name)) {
			continue
		}
		fc, ok := r.Properties["FilterCriteria"].(map[string]any)
		if !ok {
			continue
		}
		n++
		for _, f := range asList(fc["Filters"]) {
			out = append(out, f.(map[string]any)["Pattern"].(string))
		}
	}
	if n != 1 {
		t.Fatalf("%s: %d filtered mappings, want 1", name, n)
	}
	return out
}

// TestUsageStreamFilterCriteria evaluates the synthesized mappings' filter
// criteria (with the local poller's implementation of Lambda event
// filtering) on records as DynamoDB streams them: a new usage event reaches
// the usage-aggregator and not the relay; the aggregator's own writes
// (timeline items, buckets, unique values), a rewritten or expired event,
// and a customer do not reach the aggregator.
func TestUsageStreamFilterCriteria(t *testing.T) {
	compile := func(name string) []*lambdahost.Filter {
		fs, err := lambdahost.CompileFilters(mappingPatterns(t, name))
		if err != nil || len(fs) == 0 {
			t.Fatalf("%s filter criteria: %v", name, err)
		}
		return fs
	}
	agg, relay := compile("usage-aggregator"), compile("stream-relay")
	rec := func(eventName, entity string) string {
		return `{"eventName":"` + eventName + `","eventSource":"aws:dynamodb","dynamodb":{"NewImage":{"entity":{"S":"` + entity +
			`"},"event_id":{"S":"evt-1"},"tenant_id":{"S":"tnt_1"},"environment_id":{"S":"env_1"}},"OldImage":{"entity":{"S":"` + entity + `"}}}}`
	}
	for name, c := range map[string]struct {
		record         string
		toAgg, toRelay bool
	}{
		"usage event written":         {rec("INSERT", "usage_event"), true, false},
		"usage event modified":        {rec("MODIFY", "usage_event"), false, false},
		"usage event removed":         {`{"eventName":"REMOVE","dynamodb":{"OldImage":{"entity":{"S":"usage_event"}}}}`, false, false},
		"timeline item (the claim)":   {rec("INSERT", "usage_line"), false, false},
		"chunk marker (the counting)": {rec("INSERT", "usage_chunk"), false, false},
		"bucket":                      {rec("INSERT", "usage_bucket"), false, false},
		"unique value":                {rec("INSERT", "usage_unique"), false, false},
		"meter":                       {rec("INSERT", "meter"), false, false},
	} {
		for _, x := range []struct {
			fn   string
			fs   []*lambdahost.Filter
			want bool
		}{{"usage-aggregator", agg, c.toAgg}, {"stream-relay", relay, c.toRelay}} {
			got, err := lambdahost.MatchAny(x.fs, []byte(c.record))
			if err != nil {
				t.Fatalf("%s: %v", name, err)
			}
			if got != x.want {
				t.Errorf("%s: reaches %s = %v, want %v", name, x.fn, got, x.want)
			}
		}
	}
	if !slices.Equal(mappingPatterns(t, "usage-aggregator"), []string{schema.UsageEventsFilter}) {
		t.Errorf("usage-aggregator patterns %q", mappingPatterns(t, "usage-aggregator"))
	}
}

// localGranted reads grantedActions from internal/localstack/infra_test.go:
// the actions the local stack lets each function call (every local stack
// test fails on a call not listed there).
func localGranted(t *testing.T) map[string][]string {
	t.Helper()
	path := filepath.Join("..", "..", "internal", "localstack", "infra_test.go")
	f, err := parser.ParseFile(token.NewFileSet(), path, nil, 0)
	if err != nil {
		t.Fatal(err)
	}
	out := map[string][]string{}
	ast.Inspect(f, func(n ast.Node) bool {
		vs, ok := n.(*ast.ValueSpec)
		if !ok || len(vs.Names) != 1 || vs.Names[0].Name != "grantedActions" || len(vs.Values) != 1 {
			return true
		}
		for _, el := range vs.Values[0].(*ast.CompositeLit).Elts {
			kv := el.(*ast.KeyValueExpr)
			fn, _ := strconv.Unquote(kv.Key.(*ast.BasicLit).Value)
			out[fn] = []string{}
			for _, a := range kv.Value.(*ast.CompositeLit).Elts {
				s, _ := strconv.Unquote(a.(*ast.BasicLit).Value)
				out[fn] = append(out[fn], s)
			}
		}
		return false
	})
	if len(out) == 0 {
		t.Fatalf("no grantedActions in %s", path)
	}
	return out
}

// TestGrantsEqualTheLocalStacksCheck: for every function, the table
// actions its role allows (stream reads aside: the mapping makes those)
// and whether it may send to its own queues equal the local stack's
// grantedActions, so the template is neither wider than the calls the
// code makes nor narrower than what the local stack let it call.
func TestGrantsEqualTheLocalStacksCheck(t *testing.T) {
	local := localGranted(t)
	streamReads := []string{"dynamodb:DescribeStream", "dynamodb:GetRecords", "dynamodb:GetShardIterator", "dynamodb:ListStreams"}
	names := map[string]bool{}
	for _, s := range functionSpecs {
		names[s.Name] = true
		want, ok := local[s.Name]
		if !ok {
			t.Errorf("%s: not in the local stack's grantedActions", s.Name)
			continue
		}
		var got []string
		for a := range allowed(t, s.Name) {
			if strings.HasPrefix(a, "dynamodb:") && !slices.Contains(streamReads, a) {
				got = append(got, a)
			}
		}
		if len(s.Sends) > 0 {
			got = append(got, "sqs:SendMessage") // the on-failure queue is Lambda's, not the code's
		}
		sort.Strings(got)
		want = slices.Clone(want)
		sort.Strings(want)
		if !slices.Equal(got, want) {
			t.Errorf("%s: template allows\n %v\nthe local stack checks calls against\n %v", s.Name, got, want)
		}
	}
	for fn := range local {
		if !names[fn] {
			t.Errorf("grantedActions lists %s, which is no function", fn)
		}
	}
}
