package main

import (
	"reflect"
	"testing"
)

// The period-close runs on an EventBridge schedule (default every 15
// minutes) with the table only: no queues.
func TestPeriodCloseSchedule(t *testing.T) {
	fnID := FunctionLogicalID(periodCloseFunction)
	found := false
	for id, r := range tmpl.ofType("AWS::Events::Rule") {
		for _, tg := range asList(r.Properties["Targets"]) {
			if reflect.DeepEqual(tg.(map[string]any)["Arn"], getAtt(fnID, "Arn")) {
				found = true
				if r.Properties["ScheduleExpression"] != "rate(15 minutes)" || r.Properties["State"] != "ENABLED" {
					t.Errorf("rule %s: %v %v", id, r.Properties["ScheduleExpression"], r.Properties["State"])
				}
			}
		}
	}
	if !found {
		t.Fatalf("no EventBridge rule targets %s", periodCloseFunction)
	}
	can := allowed(t, periodCloseFunction)
	for _, a := range []string{"dynamodb:Query", "dynamodb:GetItem", "dynamodb:PutItem", "dynamodb:UpdateItem"} {
		if _, ok := can[a]; !ok {
			t.Errorf("period-close may not %s", a)
		}
	}
	for _, a := range []string{"sqs:SendMessage", "dynamodb:DeleteItem"} {
		if _, ok := can[a]; ok {
			t.Errorf("period-close may %s; it needs only to read and write the table", a)
		}
	}
}
