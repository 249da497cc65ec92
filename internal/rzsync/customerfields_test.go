package rzsync

import (
	"strings"
	"testing"

	"github.com/razorbill/razorbill/internal/billing"
)

// validRazorpayName is Razorpay's rule, written independently of the
// normaliser: 3–50 of a–z, A–Z, 0–9, space, . ' / @ ( ).
func validRazorpayName(n string) bool {
	if len(n) < 3 || len(n) > 50 {
		return false
	}
	for _, r := range n {
		if !(r >= 'a' && r <= 'z' || r >= 'A' && r <= 'Z' || r >= '0' && r <= '9' || strings.ContainsRune(" .'/@()", r)) {
			return false
		}
	}
	return true
}

func TestNormalizeName(t *testing.T) {
	t.Parallel()
	cases := []struct {
		name, email, external, id string
		want                      string
	}{
		{"Gaurav Kumar", "", "", "cus_1", "Gaurav Kumar"},
		{"Al", "", "", "cus_1", "Al."},
		{"A", "", "", "cus_1", "A.."},
		{"Acme, Inc. (India) Pvt. Ltd. — Bengaluru & Mysuru Operations Division", "", "", "cus_1", "Acme Inc. (India) Pvt. Ltd. Bengaluru and Mysuru"},
		{"Jean-Luc & Co", "", "", "cus_1", "Jean Luc and Co"},
		{"José Núñez Müller", "", "", "cus_1", "Jose Nunez Muller"},
		{"Straße Ærø Łódź", "", "", "cus_1", "Strasse AEro Lodz"},
		{"D’Souza & Sons", "", "", "cus_1", "D'Souza and Sons"},
		{"  many   spaces\tand\nlines ", "", "", "cus_1", "many spaces and lines"},
		{"राजेश कुमार", "rajesh.kumar@example.com", "ext-9", "cus_1", "rajesh.kumar"},
		{"राजेश कुमार", "", "ext-9", "cus_1", "ext 9"},
		{"田中太郎", "", "", "cus_01HX", "cus 01HX"},
		{"", "ab@example.com", "", "cus_1", "ab."},
		{"***", "", "", "", "Customer"},
		{strings.Repeat("x", 60), "", "", "cus_1", strings.Repeat("x", 50)},
		{"Supercalifragilistic Expialidocious Corporation International", "", "", "cus_1", "Supercalifragilistic Expialidocious Corporation"},
		{"राजेश Kumar", "", "", "cus_1", "Kumar"},
		{"Customer #42: Ops/Finance @ HQ", "", "", "cus_1", "Customer 42 Ops/Finance @ HQ"},
	}
	for _, c := range cases {
		local := ""
		if i := strings.LastIndex(c.email, "@"); i > 0 {
			local = c.email[:i]
		}
		got := NormalizeName(c.name, local, c.external, c.id)
		if got != c.want {
			t.Errorf("%q: got %q want %q", c.name, got, c.want)
		}
		if !validRazorpayName(got) {
			t.Errorf("%q: %q breaks Razorpay's rule", c.name, got)
		}
	}
}

func TestCustomerFields(t *testing.T) {
	t.Parallel()
	long := strings.Repeat("l", 60) + "@example.com"
	cases := []struct {
		in                   billing.Customer
		name, email, contact string
		notes                map[string]string
	}{
		{billing.Customer{ID: "cus_1", Name: "Asha Rao", Email: "asha@example.com", Phone: "+919876543210"},
			"Asha Rao", "asha@example.com", "+919876543210", map[string]string{}},
		{billing.Customer{ID: "cus_2", Name: "Al", Email: "al@example.com", Phone: "+91 98765-43210"},
			"Al.", "al@example.com", "+919876543210", map[string]string{NoteFullName: "Al"}},
		{billing.Customer{ID: "cus_3", Name: "राजेश कुमार", Email: long, Phone: "+1234567890123456"},
			strings.Repeat("l", 50), "", "", map[string]string{NoteFullName: "राजेश कुमार", NoteEmail: long, NoteContact: "+1234567890123456"}},
		{billing.Customer{ID: "cus_4", Name: strings.Repeat("é", 300), Phone: "12345"},
			strings.Repeat("e", 50), "", "", map[string]string{NoteFullName: strings.Repeat("é", 256), NoteContact: "12345"}},
		{billing.Customer{ID: "cus_5", Name: "Bad Mail", Email: "not-an-email", Phone: "ext. 42"},
			"Bad Mail", "", "", map[string]string{NoteEmail: "not-an-email", NoteContact: "ext. 42"}},
		// api.md's example GSTIN: its check character is wrong (W is right).
		{billing.Customer{ID: "cus_6", Name: "Asha Rao", GSTIN: "29ABCDE1234F1Z5"},
			"Asha Rao", "", "", map[string]string{NoteGSTIN: "29ABCDE1234F1Z5"}},
	}
	if got := CustomerFields(billing.Customer{ID: "cus_7", Name: "Asha Rao", GSTIN: "29ABCDE1234F1ZW"}); got.GSTIN != "29ABCDE1234F1ZW" || len(got.Notes) != 0 {
		t.Errorf("a right GSTIN: %+v", got)
	}
	for _, c := range cases {
		got := CustomerFields(c.in)
		if got.Name != c.name || got.Email != c.email || got.Contact != c.contact {
			t.Errorf("%s: got %q %q %q", c.in.ID, got.Name, got.Email, got.Contact)
		}
		if len(got.Notes) != len(c.notes) {
			t.Errorf("%s: notes %v", c.in.ID, got.Notes)
		}
		for k, v := range c.notes {
			if got.Notes[k] != v {
				t.Errorf("%s: note %s = %q want %q", c.in.ID, k, got.Notes[k], v)
			}
		}
		for k, v := range got.Notes {
			if len([]rune(v)) > 256 {
				t.Errorf("%s: note %s is %d characters", c.in.ID, k, len([]rune(v)))
			}
		}
	}
}
