package webhook

import (
	"crypto/sha256"
	"encoding/hex"
	"strings"
	"testing"

	"github.com/razorbill/razorbill/internal/billing"
)

// TestDedupIDIsTheHashOfTheScopedID: the deduplication id is the SHA-256
// of tenant/environment/id, whatever the id's length — the same id a
// message sent by an earlier version of the receiver got, so that SQS
// still drops a redelivery across a deploy.
func TestDedupIDIsTheHashOfTheScopedID(t *testing.T) {
	t.Parallel()
	sc := billing.Scope{TenantID: "tnt_01kbxq0000000000000000000", EnvironmentID: "env_01kbxq0000000000000000000"}
	for _, id := range []string{"", "evt_RZ00000000000001", "sha256-" + strings.Repeat("ab", 32), strings.Repeat("x", 500)} {
		h := sha256.Sum256([]byte(sc.TenantID + "/" + sc.EnvironmentID + "/" + id))
		if got, want := dedupID(sc, id), hex.EncodeToString(h[:]); got != want {
			t.Errorf("dedupID(%.20q…) = %s, want %s", id, got, want)
		}
	}
}
