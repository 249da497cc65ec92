package ids

import (
	"sort"
	"strings"
	"testing"
)

func TestNewIsSortableAndValid(t *testing.T) {
	t.Parallel()
	var got []string
	for i := 0; i < 2000; i++ {
		id := New(Customer)
		if !Valid(Customer, id) {
			t.Fatalf("invalid id %q", id)
		}
		got = append(got, id)
	}
	if !sort.StringsAreSorted(got) {
		t.Fatal("ids made in order do not sort in order")
	}
	seen := map[string]bool{}
	for _, id := range got {
		if seen[id] {
			t.Fatalf("duplicate id %q", id)
		}
		seen[id] = true
	}
}

func TestValidRejects(t *testing.T) {
	t.Parallel()
	for _, s := range []string{"", "cus_", "inv_01hzzzzzzzzzzzzzzzzzzzzzzz", "cus_01HZZZZZZZZZZZZZZZZZZZZZZZ", "cus_01hzzzzzzzzzzzzzzzzzzzzzzzz", "cus_01hzzzzzzzzzzzzzzzzzzzzzzu"} {
		if Valid(Customer, s) {
			t.Errorf("Valid(%q) = true", s)
		}
	}
}

// TestValidLooksAtEveryByte: an id is valid with any byte of the alphabet
// at any place of its ULID, and with no other byte there.
func TestValidLooksAtEveryByte(t *testing.T) {
	t.Parallel()
	id := []byte(New(Invoice))
	for i := len(Invoice); i < len(id); i++ {
		was := id[i]
		for b := range 256 {
			id[i] = byte(b)
			if got, want := Valid(Invoice, string(id)), strings.IndexByte(alphabet, byte(b)) >= 0; got != want {
				t.Fatalf("Valid(%q) = %v, want %v", id, got, want)
			}
		}
		id[i] = was
	}
}

func TestSecretLength(t *testing.T) {
	t.Parallel()
	a, b := Secret(32), Secret(32)
	if len(a) != 52 || a == b {
		t.Fatalf("Secret(32) = %q, %q", a, b)
	}
}
