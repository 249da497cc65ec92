package jsonw

import (
	"encoding/json"
	"strings"
	"testing"
)

// memberRef is what StringMember must return: the object read by
// encoding/json into a map (as the webhook receiver read its notes before
// it scanned them).
func memberRef(notes []byte, key string) string {
	var m map[string]any
	if json.Unmarshal(notes, &m) != nil {
		return ""
	}
	v, _ := m[key].(string)
	return v
}

func TestStringMemberReadsWhatEncodingJSONReads(t *testing.T) {
	const k = "razorbill_invoice_id"
	for _, c := range []struct{ notes, want string }{
		{`{"razorbill_invoice_id":"inv_1"}`, "inv_1"},
		{` { "a" : 1 , "b":{"razorbill_invoice_id":"no"}, "c":["x,}",{"d":"]"}], "razorbill_invoice_id" : "inv_2" } `, "inv_2"},
		{`{"a":true,"b":null,"c":-1.5e3,"razorbill_invoice_id":"inv_3","d":false}`, "inv_3"},
		{`{"razorbill_invoice_id":"inv_1","razorbill_invoice_id":"inv_2"}`, "inv_2"}, // the last wins, as in a map
		{`{"razorbill_invoice_id":"inv_1","razorbill_invoice_id":7}`, ""},
		{`{"razorbill_invoice_id":7}`, ""},
		{`{"razorbill_invoice_id":{"x":"inv_1"}}`, ""},
		{`{"razorbill\u005finvoice_id":"inv_4"}`, "inv_4"}, // an escaped key is the same key
		{`{"razorbill_invoice_id":"inv_\u0035"}`, "inv_5"},
		{`{"a":"\"razorbill_invoice_id\":\"no\"","b":"x"}`, ""},
		{`{"razorbill_invoice_id_2":"no","razorbill_invoice":"no"}`, ""},
		{`[]`, ""},
		{`"razorbill_invoice_id"`, ""},
		{`null`, ""},
		{`{}`, ""},
		{``, ""},
	} {
		if got := StringMember([]byte(c.notes), k); got != c.want {
			t.Errorf("StringMember(%s) = %q, want %q", c.notes, got, c.want)
		}
		if c.notes != "" {
			if ref := memberRef([]byte(c.notes), k); ref != c.want {
				t.Errorf("the table is wrong for %s: encoding/json reads %q", c.notes, ref)
			}
		}
	}
}

// FuzzStringMember: for any valid JSON value, StringMember reads the
// member as encoding/json does.
func FuzzStringMember(f *testing.F) {
	f.Add([]byte(`{"razorbill_invoice_id":"inv_1","x":[1,{"y":"}"}]}`), "razorbill_invoice_id")
	f.Add([]byte(`{"k":"v\"","k":"w"}`), "k")
	f.Add([]byte(`{"k":"\u00e9"}`), "k")
	f.Add([]byte("{\"k\":\"\xff\"}"), "k")
	f.Fuzz(func(t *testing.T, notes []byte, key string) {
		if !json.Valid(notes) {
			return // callers hand over only valid values
		}
		if got, want := StringMember(notes, key), memberRef(notes, key); got != want {
			t.Fatalf("StringMember(%q, %q) = %q, encoding/json reads %q", notes, key, got, want)
		}
	})
}

// TestObjectVisitsEachMemberOnce: Object hands over each key with its
// value's index, in order, and ends after the object; a key with an
// escape, a value f does not read, or no object make it -1.
func TestObjectVisitsEachMemberOnce(t *testing.T) {
	body := []byte(` { "a" : 1 , "b":{"c":["}",{"d":"\""}]}, "e" :"x\"y" , "f":null} tail`)
	var got []string
	end := Object(body, 0, func(k []byte, at int) int {
		e := SkipValue(body, at)
		got = append(got, string(k)+"="+string(body[at:e]))
		return e
	})
	want := []string{"a=1", `b={"c":["}",{"d":"\""}]}`, `e="x\"y"`, "f=null"}
	if end != len(body)-len(" tail") || strings.Join(got, "|") != strings.Join(want, "|") {
		t.Fatalf("Object: end %d, members %q; want %d, %q", end, got, len(body)-len(" tail"), want)
	}
	if s, next, ok := PlainString(body, strings.Index(string(body), `"x`)); ok || s != nil || next != 0 {
		t.Fatalf("PlainString of an escaped string: %q %d %v", s, next, ok)
	}
	for _, bad := range []string{`[1]`, `{"k\u0065y":1}`, `{"ké":1}`, ``, `{"a"`, `{"a":`, `{"a" 1}`} {
		if Object([]byte(bad), 0, func(_ []byte, at int) int { return SkipValue([]byte(bad), at) }) != -1 {
			t.Errorf("Object(%s) did not refuse it", bad)
		}
	}
	// f's index must be one Object can go on from: the middle of a value,
	// or past the end, stops it.
	mid := []byte(`{"a":"xy","b":1}`)
	if Object(mid, 0, func(k []byte, at int) int { return at + 2 }) != -1 {
		t.Error("an index in the middle of a value did not stop Object")
	}
	if Object(mid, 0, func(k []byte, at int) int { return len(mid) + 5 }) != -1 {
		t.Error("an index past the end did not stop Object")
	}
	if Object([]byte(`{"a":1,"b":2}`), 0, func(k []byte, at int) int {
		if string(k) == "b" {
			return -1
		}
		return at + 1
	}) != -1 {
		t.Error("a member f stopped at did not stop Object")
	}
}
