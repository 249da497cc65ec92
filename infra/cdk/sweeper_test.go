package main

import (
	"reflect"
	"strings"
	"testing"
	"time"

	"github.com/razorbill/razorbill/internal/schema"
)

// The gateway-sweeper runs on an EventBridge schedule (default every 5
// minutes), which may invoke it, and fans out through gateway-sweep.fifo,
// one environment per invocation.
func TestSweepSchedule(t *testing.T) {
	fnID := FunctionLogicalID(sweeperFunction)
	rules := tmpl.ofType("AWS::Events::Rule")
	var ruleID string
	for id, r := range rules {
		for _, tg := range asList(r.Properties["Targets"]) {
			if reflect.DeepEqual(tg.(map[string]any)["Arn"], getAtt(fnID, "Arn")) {
				ruleID = id
				if r.Properties["ScheduleExpression"] != "rate(5 minutes)" || r.Properties["State"] != "ENABLED" {
					t.Errorf("rule %s: %v %v", id, r.Properties["ScheduleExpression"], r.Properties["State"])
				}
			}
		}
	}
	if ruleID == "" {
		t.Fatalf("no EventBridge rule targets %s (rules: %d)", sweeperFunction, len(rules))
	}
	allowedInvoke := false
	for _, p := range tmpl.ofType("AWS::Lambda::Permission") {
		if p.Properties["Principal"] == "events.amazonaws.com" && reflect.DeepEqual(p.Properties["FunctionName"], getAtt(fnID, "Arn")) &&
			reflect.DeepEqual(p.Properties["SourceArn"], getAtt(ruleID, "Arn")) {
			allowedInvoke = true
		}
	}
	if !allowedInvoke {
		t.Error("the rule may not invoke the sweeper (no lambda:InvokeFunction permission for events.amazonaws.com from that rule)")
	}
	q := schema.GatewaySweep
	if !q.FIFO {
		t.Error("gateway-sweep must be FIFO: one environment is never swept twice at once")
	}
	queueID, _ := tmpl.byPath(t, camel(q.LogicalName)+"Queue/Resource")
	env := fnResource(t, sweeperFunction).Properties["Environment"].(map[string]any)["Variables"].(map[string]any)
	if !reflect.DeepEqual(env[q.EnvVar], ref(queueID)) {
		t.Errorf("%s = %v, want the gateway-sweep queue's URL", q.EnvVar, env[q.EnvVar])
	}
	for _, esm := range tmpl.ofType("AWS::Lambda::EventSourceMapping") {
		if reflect.DeepEqual(esm.Properties["FunctionName"], ref(fnID)) && num(esm.Properties["BatchSize"]) != 1 {
			t.Errorf("sweeper batch %v, want 1 (one environment per invocation)", esm.Properties["BatchSize"])
		}
	}
	for _, a := range []string{"kms:Decrypt", "dynamodb:Query", "dynamodb:UpdateItem", "sqs:SendMessage", "sqs:ReceiveMessage"} {
		if _, ok := allowed(t, sweeperFunction)[a]; !ok {
			t.Errorf("sweeper may not %s", a)
		}
	}
}

// A SILENT webhook (the sweeper applied money no webhook announced) alarms.
func TestWebhookSilentAlarm(t *testing.T) {
	topicID, _ := tmpl.byPath(t, "AlarmTopic/Resource")
	found := false
	for _, a := range tmpl.ofType("AWS::CloudWatch::Alarm") {
		p := a.Properties
		if p["Namespace"] != schema.MetricNamespace || p["MetricName"] != schema.MetricMissedWebhooks {
			continue
		}
		found = true
		if p["Statistic"] != "Sum" || p["ComparisonOperator"] != "GreaterThanThreshold" || num(p["Threshold"]) != 0 || num(p["Period"]) != 300 {
			t.Errorf("silent alarm: %v", p)
		}
		if !refsTo(p["AlarmActions"], topicID) || !strings.Contains(p["AlarmDescription"].(string), "SILENT") {
			t.Errorf("silent alarm actions/description: %v", p)
		}
	}
	if !found {
		t.Fatal("no alarm on Razorbill/MissedWebhookEvents")
	}
}

func TestSweepIntervalValidated(t *testing.T) {
	for _, d := range []time.Duration{0, 30 * time.Second, 90 * time.Second} {
		c := testConfig("/tmp/x")
		c.SweepInterval = d
		if err := c.validate(); err == nil {
			t.Errorf("sweep interval %s accepted", d)
		}
	}
}
