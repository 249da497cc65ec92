package billing

import (
	"encoding/json"
	"reflect"
	"testing"
	"time"
)

// TestEventMessageReadsBothBodyForms: a message whose body is a JSON string
// (encoding/json's, and every message queued before the receiver wrote the
// object itself) and one whose body is the object (AppendJSON with
// bodyIsObject) read back to the same EventMessage, the object byte for
// byte as received (its spacing and key order kept); AppendJSON without
// bodyIsObject reads back the same as well, whatever the strings hold.
func TestEventMessageReadsBothBodyForms(t *testing.T) {
	at := time.Date(2026, 12, 6, 13, 5, 7, 123456789, time.FixedZone("IST", 19800))
	bodies := []string{
		`{"entity":"event","account_id":"acc_1","event":"payment.captured","payload":{"payment":{"entity":{"id":"pay_1","notes":{"a":"\"q\" \\ \u00e9"}}}},"created_at":1}`,
		`{ "z" : [ 1 , 2.50 ] ,"a":{}	}`,
		`{}`,
	}
	for _, body := range bodies {
		m := EventMessage{TenantID: "ten_1", EnvironmentID: "env_1", EventID: "evt_\"odd\"\n\x01", Event: "payment.captured", ReceivedAt: at, Body: body}
		old, err := json.Marshal(m)
		if err != nil {
			t.Fatal(err)
		}
		for name, raw := range map[string][]byte{"encoding/json": old, "AppendJSON object": m.AppendJSON([]byte("x"), true)[1:], "AppendJSON string": m.AppendJSON(nil, false)} {
			var got EventMessage
			if err := json.Unmarshal(raw, &got); err != nil {
				t.Fatalf("%s: %s: %v", name, raw, err)
			}
			if !got.ReceivedAt.Equal(at) {
				t.Fatalf("%s: received_at %v, want %v", name, got.ReceivedAt, at)
			}
			got.ReceivedAt = m.ReceivedAt
			if !reflect.DeepEqual(got, m) {
				t.Fatalf("%s: read back\n%+v\nwant\n%+v", name, got, m)
			}
		}
		if obj, str := m.AppendJSON(nil, true), m.AppendJSON(nil, false); len(obj) >= len(str) && len(body) > 10 {
			t.Fatalf("the object form (%d bytes) is not shorter than the string form (%d)", len(obj), len(str))
		}
	}
	var empty EventMessage
	if err := json.Unmarshal([]byte(`{"tenant_id":"t","environment_id":"e","body":null}`), &empty); err != nil || empty.Body != "" || empty.TenantID != "t" {
		t.Fatalf("a null body: %+v %v", empty, err)
	}
	if err := json.Unmarshal([]byte(`{"tenant_id":"t","body":"unterminated}`), &empty); err == nil {
		t.Fatal("a malformed message was read")
	}
}
