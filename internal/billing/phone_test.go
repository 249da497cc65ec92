package billing

import (
	"regexp"
	"testing"
)

// FuzzIsE164MatchesTheRegexp: the written-out check accepts exactly what
// ^\+[1-9][0-9]{6,14}$ accepted.
func FuzzIsE164MatchesTheRegexp(f *testing.F) {
	re := regexp.MustCompile(`^\+[1-9][0-9]{6,14}$`)
	for _, s := range []string{"", "+", "+919876543210", "+0919876543", "+1234567", "+123456", "+123456789012345", "+1234567890123456",
		"919876543210", "+91987654321a", "+91 9876543210", "+919876543210\n", "++919876543", "+٩١٩٨٧٦٥٤٣٢١"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		if got, want := isE164(s), re.MatchString(s); got != want {
			t.Fatalf("isE164(%q) = %v, the regexp says %v", s, got, want)
		}
	})
}
