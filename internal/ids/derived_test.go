package ids

import (
	"testing"
	"time"
)

func TestDerivedIsStableValidAndSorted(t *testing.T) {
	t0 := time.Unix(1795400001, 0)
	a, b := Derived(Event, t0, "evt_1"), Derived(Event, t0, "evt_1")
	if a != b || !Valid(Event, a) {
		t.Fatalf("%q %q", a, b)
	}
	if Derived(Event, t0, "evt_2") == a {
		t.Fatal("two keys gave one id")
	}
	if later := Derived(Event, t0.Add(time.Second), "evt_0"); later <= a {
		t.Fatalf("%s does not sort after %s", later, a)
	}
}
