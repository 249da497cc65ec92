package lambdahost

import (
	"testing"

	"github.com/aws/aws-lambda-go/events"

	"github.com/razorbill/razorbill/internal/schema"
)

func TestMatchFilter(t *testing.T) {
	t.Parallel()
	rec := `{"s":"hello","n":42,"f":1.5,"b":true,"z":null,"e":"","list":["a","b"],"nums":[1,5],
		"obj":{"inner":"x","deep":{"k":"v"}},"objs":[{"k":"a"},{"k":"b"}]}`
	tests := []struct {
		name, pattern string
		want          bool
	}{
		{"exact string", `{"s":["hello"]}`, true},
		{"exact string miss", `{"s":["bye"]}`, false},
		{"one of values", `{"s":["bye","hello"]}`, true},
		{"string does not match number", `{"n":["42"]}`, false},
		{"number", `{"n":[42]}`, true},
		{"number written differently", `{"n":[42.0]}`, true},
		{"number miss", `{"n":[43]}`, false},
		{"decimal number", `{"f":[1.5]}`, true},
		{"bool", `{"b":[true]}`, true},
		{"bool miss", `{"b":[false]}`, false},
		{"null", `{"z":[null]}`, true},
		{"null does not match a missing key", `{"missing":[null]}`, false},
		{"null does not match a value", `{"s":[null]}`, false},
		{"empty", `{"e":[""]}`, true},
		{"empty miss", `{"s":[""]}`, false},
		{"prefix", `{"s":[{"prefix":"he"}]}`, true},
		{"prefix miss", `{"s":[{"prefix":"lo"}]}`, false},
		{"prefix on a number", `{"n":[{"prefix":"4"}]}`, false},
		{"prefix ignore case", `{"s":[{"prefix":{"equals-ignore-case":"HE"}}]}`, true},
		{"suffix", `{"s":[{"suffix":"llo"}]}`, true},
		{"suffix miss", `{"s":[{"suffix":"he"}]}`, false},
		{"equals-ignore-case", `{"s":[{"equals-ignore-case":"HELLO"}]}`, true},
		{"anything-but list", `{"s":[{"anything-but":["bye","ciao"]}]}`, true},
		{"anything-but list miss", `{"s":[{"anything-but":["bye","hello"]}]}`, false},
		{"anything-but single", `{"s":[{"anything-but":"hello"}]}`, false},
		{"anything-but number", `{"n":[{"anything-but":[41,43]}]}`, true},
		{"anything-but number miss", `{"n":[{"anything-but":[42]}]}`, false},
		{"anything-but prefix", `{"s":[{"anything-but":{"prefix":"xy"}}]}`, true},
		{"anything-but prefix miss", `{"s":[{"anything-but":{"prefix":"he"}}]}`, false},
		{"anything-but on a missing key", `{"missing":[{"anything-but":["x"]}]}`, false},
		{"exists true", `{"s":[{"exists":true}]}`, true},
		{"exists true missing", `{"missing":[{"exists":true}]}`, false},
		{"exists false missing", `{"missing":[{"exists":false}]}`, true},
		{"exists false present", `{"s":[{"exists":false}]}`, false},
		{"exists true on null", `{"z":[{"exists":true}]}`, true},
		{"nested exists false under a missing parent", `{"nope":{"k":[{"exists":false}]}}`, true},
		{"numeric >", `{"n":[{"numeric":[">",40]}]}`, true},
		{"numeric range", `{"n":[{"numeric":[">",0,"<=",42]}]}`, true},
		{"numeric range miss", `{"n":[{"numeric":[">=",43,"<",100]}]}`, false},
		{"numeric =", `{"f":[{"numeric":["=",1.50]}]}`, true},
		{"numeric on a string", `{"s":[{"numeric":[">",0]}]}`, false},
		{"nested", `{"obj":{"inner":["x"],"deep":{"k":["v"]}}}`, true},
		{"nested miss", `{"obj":{"deep":{"k":["w"]}}}`, false},
		{"nested on a missing parent", `{"nope":{"k":["v"]}}`, false},
		{"list value, one element matches", `{"list":["b"]}`, true},
		{"list value, none matches", `{"list":["c"]}`, false},
		{"numeric on list value", `{"nums":[{"numeric":[">",4]}]}`, true},
		{"array of objects", `{"objs":{"k":["b"]}}`, true},
		{"array of objects miss", `{"objs":{"k":["c"]}}`, false},
		{"and across keys", `{"s":["hello"],"n":[42]}`, true},
		{"and across keys, one fails", `{"s":["hello"],"n":[1]}`, false},
		{"$or", `{"$or":[{"s":["bye"]},{"n":[42]}]}`, true},
		{"$or miss", `{"$or":[{"s":["bye"]},{"n":[1]}]}`, false},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			got, err := MatchFilter(tc.pattern, []byte(rec))
			if err != nil {
				t.Fatalf("MatchFilter(%s): %v", tc.pattern, err)
			}
			if got != tc.want {
				t.Errorf("MatchFilter(%s) = %v, want %v", tc.pattern, got, tc.want)
			}
		})
	}
}

func TestMatchFilterAcceptsGoMaps(t *testing.T) {
	t.Parallel()
	rec := map[string]any{"n": 5, "f": 2.5, "s": "x"}
	for pattern, want := range map[string]bool{
		`{"n":[5]}`:                             true,
		`{"f":[{"numeric":[">",2,"<",3]}]}`:     true,
		`{"s":["x"],"n":[{"numeric":["<",5]}]}`: false,
	} {
		got, err := MatchFilter(pattern, rec)
		if err != nil || got != want {
			t.Errorf("MatchFilter(%s) = %v, %v; want %v", pattern, got, err, want)
		}
	}
}

func TestCompileFilterRejectsBadPatterns(t *testing.T) {
	t.Parallel()
	for _, p := range []string{
		``,
		`[]`,
		`{"a":"x"}`,
		`{"a":[]}`,
		`{"a":{}}`,
		`{"a":[{"prefix":1}]}`,
		`{"a":[{"exists":"yes"}]}`,
		`{"a":[{"numeric":[">"]}]}`,
		`{"a":[{"numeric":["!=",1]}]}`,
		`{"a":[{"numeric":[">","1"]}]}`,
		`{"a":[{"numeric":[">",1,">",2]}]}`,
		`{"a":[{"cidr":"10.0.0.0/24"}]}`,
		`{"a":[{"prefix":"x","suffix":"y"}]}`,
		`{"a":[{"anything-but":[]}]}`,
		`{"$or":[{"a":["x"]}]}`,
		`{"a":["x"]} trailing`,
	} {
		if _, err := CompileFilter(p); err == nil {
			t.Errorf("CompileFilter(%s): want an error", p)
		}
	}
}

// streamRecord is a stream record as Lambda's filter sees it.
func streamRecord(eventName string, oldImage, newImage map[string]string) events.DynamoDBEventRecord {
	img := func(m map[string]string) map[string]events.DynamoDBAttributeValue {
		if m == nil {
			return nil
		}
		out := map[string]events.DynamoDBAttributeValue{}
		for k, v := range m {
			out[k] = events.NewStringAttribute(v)
		}
		out["amount_due"] = events.NewNumberAttribute("10000")
		return out
	}
	return events.DynamoDBEventRecord{
		EventID: "1", EventName: eventName, EventSource: "aws:dynamodb", EventVersion: "1.1", AWSRegion: "us-east-1",
		Change: events.DynamoDBStreamRecord{
			Keys:           map[string]events.DynamoDBAttributeValue{"PK": events.NewStringAttribute("T#1"), "SK": events.NewStringAttribute("X#1")},
			OldImage:       img(oldImage),
			NewImage:       img(newImage),
			SequenceNumber: "100", SizeBytes: 10, StreamViewType: "NEW_AND_OLD_IMAGES",
		},
	}
}

func TestSchemaStreamFilters(t *testing.T) {
	t.Parallel()
	cust := func(sync string) map[string]string {
		return map[string]string{"entity": "customer", "sync_status": sync}
	}
	inv := func(status string) map[string]string {
		return map[string]string{"entity": "invoice", "invoice_status": status, "sync_status": "NOT_SYNCED"}
	}
	records := map[string]events.DynamoDBEventRecord{
		"customer insert":             streamRecord("INSERT", nil, cust("NOT_SYNCED")),
		"customer modify":             streamRecord("MODIFY", cust("NOT_SYNCED"), cust("PENDING")),
		"customer synced":             streamRecord("MODIFY", cust("PENDING"), cust("SYNCED")),
		"customer synced again":       streamRecord("MODIFY", cust("SYNCED"), cust("SYNCED")),
		"customer remove":             streamRecord("REMOVE", cust("SYNCED"), nil),
		"invoice insert draft":        streamRecord("INSERT", nil, inv("DRAFT")),
		"invoice insert finalized":    streamRecord("INSERT", nil, inv("FINALIZED")),
		"invoice draft to finalized":  streamRecord("MODIFY", inv("DRAFT"), inv("FINALIZED")),
		"invoice finalized to voided": streamRecord("MODIFY", inv("FINALIZED"), inv("VOIDED")),
		"invoice draft edit":          streamRecord("MODIFY", inv("DRAFT"), inv("DRAFT")),
		"invoice finalized again":     streamRecord("MODIFY", inv("FINALIZED"), inv("FINALIZED")),
		"payment insert":              streamRecord("INSERT", nil, map[string]string{"entity": "payment"}),
	}
	// The API marks the records whose sync is due (billing.Customer.SyncOnCreate,
	// billing.Invoice.SyncOnFinalize); unmarked or false, they stay in the table.
	flagged := func(rec events.DynamoDBEventRecord, attr string, v bool) events.DynamoDBEventRecord {
		img := map[string]events.DynamoDBAttributeValue{}
		for k, a := range rec.Change.NewImage {
			img[k] = a
		}
		img[attr] = events.NewBooleanAttribute(v)
		rec.Change.NewImage = img
		return rec
	}
	records["customer insert to sync"] = flagged(records["customer insert"], schema.AttrSyncOnCreate, true)
	records["customer insert not to sync"] = flagged(records["customer insert"], schema.AttrSyncOnCreate, false)
	records["invoice draft to finalized to sync"] = flagged(records["invoice draft to finalized"], schema.AttrSyncOnFinalize, true)
	records["invoice draft to finalized not to sync"] = flagged(records["invoice draft to finalized"], schema.AttrSyncOnFinalize, false)
	records["invoice finalized again to sync"] = flagged(records["invoice finalized again"], schema.AttrSyncOnFinalize, true)
	records["invoice insert finalized to sync"] = flagged(records["invoice insert finalized"], schema.AttrSyncOnFinalize, true)
	records["invoice insert draft to sync"] = flagged(records["invoice insert draft"], schema.AttrSyncOnFinalize, true)
	records["customer synced, created to sync"] = flagged(records["customer synced"], schema.AttrSyncOnCreate, true)
	want := map[string]string{ // record → the one filter it matches ("" none)
		"customer insert":                        "",
		"customer insert to sync":                "customer-created",
		"customer insert not to sync":            "",
		"invoice draft to finalized to sync":     "invoice-finalized",
		"invoice draft to finalized not to sync": "",
		"invoice finalized again to sync":        "",
		"customer synced, created to sync":       "customer-synced",
		"customer modify":                        "",
		"customer synced":                        "customer-synced",
		"customer synced again":                  "",
		"customer remove":                        "",
		"invoice insert draft":                   "",
		"invoice insert finalized":               "",
		"invoice insert finalized to sync":       "invoice-issued",
		"invoice insert draft to sync":           "",
		"invoice draft to finalized":             "",
		"invoice finalized to voided":            "",
		"invoice draft edit":                     "",
		"invoice finalized again":                "",
		"payment insert":                         "",
	}
	for _, f := range schema.StreamFilters {
		for name, rec := range records {
			got, err := MatchFilter(f.Pattern, rec)
			if err != nil {
				t.Fatalf("%s: %v", f.Name, err)
			}
			if exp := want[name] == f.Name; got != exp {
				t.Errorf("filter %s on %q = %v, want %v", f.Name, name, got, exp)
			}
		}
	}
	// MatchAny over all of them is what the stream poller applies.
	var patterns []string
	for _, f := range schema.StreamFilters {
		patterns = append(patterns, f.Pattern)
	}
	fs, err := CompileFilters(patterns)
	if err != nil {
		t.Fatal(err)
	}
	for name, rec := range records {
		got, err := MatchAny(fs, rec)
		if err != nil {
			t.Fatal(err)
		}
		if got != (want[name] != "") {
			t.Errorf("MatchAny on %q = %v", name, got)
		}
	}
}
