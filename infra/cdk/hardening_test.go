package main

// Issue 15 #7 and #16 on the synthesized template: the public receiver's
// concurrency cap, alarms on every function and on the API's 5xx rate, the
// connection key usable only with a connection secret's encryption context,
// and the table, its stream and the log groups on the project's data key.

import (
	"encoding/json"
	"reflect"
	"slices"
	"strings"
	"testing"
)

func TestWebhookReceiverConcurrencyIsReserved(t *testing.T) {
	p := fnResource(t, webhookFunction).Properties
	if got := num(p["ReservedConcurrentExecutions"]); got != webhookConcurrency || got < 1 {
		t.Errorf("webhook-receiver reserved concurrency %v, want %d", p["ReservedConcurrentExecutions"], webhookConcurrency)
	}
}

// alarmsOn returns the alarms on AWS/Lambda metric of function name.
func alarmsOn(metric, name string) []resource {
	var out []resource
	for _, a := range tmpl.ofType("AWS::CloudWatch::Alarm") {
		if a.Properties["Namespace"] == "AWS/Lambda" && a.Properties["MetricName"] == metric && refsTo(a.Properties["Dimensions"], FunctionLogicalID(name)) {
			out = append(out, a)
		}
	}
	return out
}

func TestEveryFunctionAlarmsOnErrorsAndThrottles(t *testing.T) {
	topicID, _ := tmpl.byPath(t, "AlarmTopic/Resource")
	for _, s := range functionSpecs {
		for _, metric := range []string{"Errors", "Throttles"} {
			as := alarmsOn(metric, s.Name)
			if len(as) != 1 {
				t.Errorf("%s: %d %s alarms, want 1", s.Name, len(as), metric)
				continue
			}
			p := as[0].Properties
			if p["Statistic"] != "Sum" || p["ComparisonOperator"] != "GreaterThanThreshold" || num(p["Threshold"]) != 0 {
				t.Errorf("%s %s alarm: %v %v %v, want Sum > 0", s.Name, metric, p["Statistic"], p["ComparisonOperator"], p["Threshold"])
			}
			if !refsTo(p["AlarmActions"], topicID) {
				t.Errorf("%s %s alarm does not notify the alarm topic", s.Name, metric)
			}
		}
	}
}

func TestHTTPAPI5xxRateAlarm(t *testing.T) {
	apiID, _ := tmpl.byPath(t, "HttpApi/Resource")
	topicID, _ := tmpl.byPath(t, "AlarmTopic/Resource")
	_, a := tmpl.byPath(t, "HttpApi5xxRateAlarm/Resource")
	p := a.Properties
	if p["ComparisonOperator"] != "GreaterThanThreshold" || num(p["Threshold"]) != api5xxRatePercent || !refsTo(p["AlarmActions"], topicID) {
		t.Errorf("alarm %v %v actions %v", p["ComparisonOperator"], p["Threshold"], p["AlarmActions"])
	}
	metrics := map[string]string{} // query id → metric name
	expr := ""
	for _, m := range asList(p["Metrics"]) {
		m := m.(map[string]any)
		if e, ok := m["Expression"].(string); ok {
			expr = e
			continue
		}
		stat := m["MetricStat"].(map[string]any)
		metric := stat["Metric"].(map[string]any)
		if metric["Namespace"] != "AWS/ApiGateway" || !refsTo(metric["Dimensions"], apiID) {
			t.Errorf("metric %v is not the HTTP API's", metric)
		}
		metrics[m["Id"].(string)] = metric["MetricName"].(string)
	}
	if !reflect.DeepEqual(metrics, map[string]string{"errors": "5xx", "requests": "Count"}) {
		t.Errorf("metrics %v, want the API's 5xx and Count", metrics)
	}
	if !strings.Contains(expr, "100 * errors / requests") {
		t.Errorf("expression %q is not a 5xx rate", expr)
	}
}

// keyPolicy returns the statements of a key's policy.
func keyPolicy(t *testing.T, path string) []map[string]any {
	t.Helper()
	_, k := tmpl.byPath(t, path)
	var out []map[string]any
	for _, s := range asList(k.Properties["KeyPolicy"].(map[string]any)["Statement"]) {
		out = append(out, s.(map[string]any))
	}
	return out
}

// TestConnectionKeyRequiresTheRecordContext: whatever IAM allows, the key
// policy denies every cryptographic use of the connection key without a
// "record" encryption context, with a record that is not a connection
// secret's, or with any other context key.
func TestConnectionKeyRequiresTheRecordContext(t *testing.T) {
	crypto := []string{"kms:Decrypt", "kms:Encrypt", "kms:GenerateDataKey*", "kms:ReEncrypt*"}
	type deny struct{ op, key string }
	found := map[deny]any{}
	for _, st := range keyPolicy(t, "ConnectionSecretsKey/Resource") {
		if st["Effect"] != "Deny" {
			continue
		}
		acts := asStrings(st["Action"])
		slices.Sort(acts)
		b, _ := json.Marshal(st["Principal"])
		if !slices.Equal(acts, crypto) || string(b) != `{"AWS":"*"}` {
			t.Errorf("deny statement %v for %s, want %v for every principal", acts, b, crypto)
		}
		for op, m := range st["Condition"].(map[string]any) {
			for k, v := range m.(map[string]any) {
				found[deny{op, k}] = v
			}
		}
	}
	if v := found[deny{"Null", contextRecord}]; v != "true" {
		t.Errorf("no deny when the record context is missing (%v)", v)
	}
	want := []string{"tnt_*/env_*/key_secret", "tnt_*/env_*/webhook_secret"}
	if v := asStrings(found[deny{"StringNotLike", contextRecord}]); !slices.Equal(v, want) {
		t.Errorf("deny outside connection secrets' records: %v, want %v", v, want)
	}
	if v := asStrings(found[deny{"ForAnyValue:StringNotEquals", "kms:EncryptionContextKeys"}]); !slices.Equal(v, []string{"record"}) {
		t.Errorf("no deny for other context keys (%v)", v)
	}
	// The patterns are the contexts internal/secrets is called with.
	for _, f := range []string{fieldKeySecret, fieldWebhookSecret} {
		if !slices.Contains(want, "tnt_*/env_*/"+f) {
			t.Errorf("field %s is not covered", f)
		}
	}
}

// TestDataAtRestUsesTheProjectKey: the table (and so its stream and
// backups) and every log group are encrypted with the data key; CloudWatch
// Logs may use it only for this account's log groups.
func TestDataAtRestUsesTheProjectKey(t *testing.T) {
	dataKeyID, dk := tmpl.byPath(t, "DataKey/Resource")
	if dk.Properties["EnableKeyRotation"] != true || dk.DeletionPolicy != "Retain" {
		t.Errorf("data key rotation %v, DeletionPolicy %q", dk.Properties["EnableKeyRotation"], dk.DeletionPolicy)
	}
	for id, tb := range tmpl.ofType("AWS::DynamoDB::Table") {
		sse, _ := tb.Properties["SSESpecification"].(map[string]any)
		if sse == nil || sse["SSEEnabled"] != true || sse["SSEType"] != "KMS" || !refsTo(sse["KMSMasterKeyId"], dataKeyID) {
			t.Errorf("table %s: SSESpecification %v, want KMS with the data key", id, tb.Properties["SSESpecification"])
		}
	}
	groups := tmpl.ofType("AWS::Logs::LogGroup")
	if len(groups) < len(functionSpecs)+1 {
		t.Errorf("%d log groups, want one per function and the access logs", len(groups))
	}
	for id, lg := range groups {
		if !refsTo(lg.Properties["KmsKeyId"], dataKeyID) {
			t.Errorf("log group %s: KmsKeyId %v, want the data key", id, lg.Properties["KmsKeyId"])
		}
	}
	logsAllowed := false
	for _, st := range keyPolicy(t, "DataKey/Resource") {
		b, _ := json.Marshal(st["Principal"])
		if !strings.Contains(string(b), "logs.") {
			continue
		}
		c, _ := json.Marshal(st["Condition"])
		if st["Effect"] == "Allow" && strings.Contains(string(c), `"ArnLike":{"kms:EncryptionContext:aws:logs:arn"`) &&
			strings.Contains(string(c), `:log-group:*`) && strings.Contains(string(c), `"AWS::AccountId"`) {
			logsAllowed = true
		} else {
			t.Errorf("logs statement %s %s", b, c)
		}
	}
	if !logsAllowed {
		t.Error("CloudWatch Logs may not use the data key for this account's log groups")
	}
}

// TestTableReadersMayDecrypt: every function that reads the table or its
// stream holds kms:Decrypt on the data key; table access through the key
// is conditioned on DynamoDB being the caller, and only a stream consumer
// also holds the unconditioned kms:Decrypt CDK grants for reading the
// encrypted stream.
func TestTableReadersMayDecrypt(t *testing.T) {
	dataKeyID, _ := tmpl.byPath(t, "DataKey/Resource")
	for _, s := range functionSpecs {
		if s.Table == noTable && s.Stream == nil {
			continue
		}
		viaDynamo, direct := false, false
		for _, st := range roleStatements(t, s.Name) {
			if !slices.Contains(asStrings(st["Action"]), "kms:Decrypt") || !mentions(asList(st["Resource"]), dataKeyID) {
				continue
			}
			c, _ := json.Marshal(st["Condition"])
			if strings.Contains(string(c), `"kms:ViaService"`) && strings.Contains(string(c), "dynamodb.") {
				viaDynamo = true
			} else {
				direct = true
			}
		}
		if s.Table != noTable && !viaDynamo {
			t.Errorf("%s reads the table but may not decrypt it through DynamoDB", s.Name)
		}
		if direct && s.Stream == nil {
			t.Errorf("%s: data key use not limited to DynamoDB", s.Name)
		}
		if s.Stream != nil && !direct {
			t.Errorf("%s reads the stream but may not decrypt it", s.Name)
		}
	}
	// The stream relay reads the stream only.
	if got := specOf("stream-relay"); got.Table != noTable || got.Stream == nil {
		t.Errorf("stream-relay spec %+v", got)
	}
}
