package httpapi_test

import (
	"context"
	"encoding/json"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/feature/dynamodb/attributevalue"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
)

// TestAPIKeysCanBeListedScopedAndRevoked: keys are listed without secrets,
// limited to environments, read-only, expiring, last-used; only a write key
// for every environment manages keys; the admin token can list, issue and
// revoke a tenant's keys (the way back in after revoking the last one).
func TestAPIKeysCanBeListedScopedAndRevoked(t *testing.T) {
	t.Parallel()
	a := newAPI(t)
	acme := a.tenant("Acme")
	root := creds{key: acme.key}

	ro := a.do(root, "POST", "/api/v1/api-keys", map[string]any{"name": "dashboards", "permissions": "read"})
	a.expect(ro, 201, "")
	sandboxOnly := a.do(root, "POST", "/api/v1/api-keys", map[string]any{"name": "ci", "environments": []string{acme.sandbox}})
	a.expect(sandboxOnly, 201, "")
	if ro.str("permissions") != "read" || !strings.HasPrefix(ro.str("key"), "rbk_") || ro.str("prefix") != ro.str("key")[:8] {
		t.Fatalf("read key: %s", ro.Raw)
	}
	// Bad input changes nothing.
	a.expect(a.do(root, "POST", "/api/v1/api-keys", map[string]any{"permissions": "admin"}), 400, "validation_failed")
	a.expect(a.do(root, "POST", "/api/v1/api-keys", map[string]any{"environments": []string{"env_nope"}}), 400, "validation_failed")
	a.expect(a.do(root, "POST", "/api/v1/api-keys", map[string]any{"expires_at": "2001-01-01T00:00:00Z"}), 400, "validation_failed")

	// A read key reads and writes nothing.
	rk := creds{key: ro.str("key"), env: acme.prod}
	a.expect(a.do(rk, "GET", "/api/v1/customers", nil), 200, "")
	a.expect(a.do(rk, "POST", "/api/v1/customers", map[string]any{"name": "x"}), 403, "key_read_only")
	// An environment-limited key works only there, and cannot manage keys.
	sk := sandboxOnly.str("key")
	a.expect(a.do(creds{key: sk, env: acme.sandbox}, "GET", "/api/v1/customers", nil), 200, "")
	a.expect(a.do(creds{key: sk, env: acme.prod}, "GET", "/api/v1/customers", nil), 403, "environment_forbidden")
	a.expect(a.do(creds{key: sk}, "POST", "/api/v1/api-keys", map[string]any{}), 403, "key_not_allowed")
	a.expect(a.do(creds{key: sk}, "GET", "/api/v1/api-keys", nil), 403, "key_not_allowed")

	list := a.do(root, "GET", "/api/v1/api-keys", nil)
	a.expect(list, 200, "")
	if n := len(list.Body["data"].([]any)); n != 3 {
		t.Fatalf("listed %d keys, want 3: %s", n, list.Raw)
	}
	for _, secret := range []string{acme.key, ro.str("key"), sk} {
		if strings.Contains(list.Raw, secret) {
			t.Fatal("a key list shows a secret")
		}
	}
	if !strings.Contains(list.Raw, `"last_used_at":"`) {
		t.Fatalf("no key shows its last use: %s", list.Raw)
	}

	// Expired keys stop working.
	exp := a.do(root, "POST", "/api/v1/api-keys", map[string]any{"expires_at": time.Now().Add(1500 * time.Millisecond).UTC().Format(time.RFC3339Nano)})
	a.expect(exp, 201, "")
	time.Sleep(2 * time.Second)
	a.expect(a.do(creds{key: exp.str("key"), env: acme.prod}, "GET", "/api/v1/customers", nil), 401, "key_expired")

	// The tenant revokes its every key; the admin token lets it back in.
	for _, k := range list.Body["data"].([]any) {
		id := k.(map[string]any)["id"].(string)
		if id != acme.id {
			a.expect(a.do(creds{key: adminToken}, "DELETE", "/api/v1/tenants/"+acme.id+"/api-keys/"+id, nil), 200, "")
		}
	}
	a.expect(a.do(root, "GET", "/api/v1/api-keys", nil), 401, "unauthorized")
	other := a.tenant("Other")
	a.expect(a.do(creds{key: adminToken}, "DELETE", "/api/v1/tenants/"+other.id+"/api-keys/"+ro.str("id"), nil), 404, "")
	issued := a.do(creds{key: adminToken}, "POST", "/api/v1/tenants/"+acme.id+"/api-keys", map[string]any{"name": "recovery"})
	a.expect(issued, 201, "")
	a.expect(a.do(creds{key: issued.str("key"), env: acme.prod}, "GET", "/api/v1/customers", nil), 200, "")
	a.expect(a.do(creds{key: adminToken}, "GET", "/api/v1/tenants/"+acme.id+"/api-keys", nil), 200, "")
}

// TestNoKeyIsStoredUnderAnIdempotencyKey: a replay of a key-issuing request
// returns the key's id and a note, never the secret; no stored item holds it.
func TestNoKeyIsStoredUnderAnIdempotencyKey(t *testing.T) {
	t.Parallel()
	a := newAPI(t)
	first := a.do(creds{key: adminToken}, "POST", "/api/v1/tenants", map[string]any{"name": "Acme"}, "Idempotency-Key", "boot-1")
	a.expect(first, 201, "")
	secretA := first.str("api_key", "key")
	replay := a.do(creds{key: adminToken}, "POST", "/api/v1/tenants", map[string]any{"name": "Acme"}, "Idempotency-Key", "boot-1")
	a.expect(replay, 201, "")
	if replay.str("api_key", "id") != first.str("api_key", "id") || strings.Contains(replay.Raw, secretA) || !strings.Contains(replay.Raw, "note") {
		t.Fatalf("replay: %s", replay.Raw)
	}
	k := a.do(creds{key: secretA}, "POST", "/api/v1/api-keys", map[string]any{"name": "x"}, "Idempotency-Key", "mint-1")
	a.expect(k, 201, "")
	secretB := k.str("key")
	again := a.do(creds{key: secretA}, "POST", "/api/v1/api-keys", map[string]any{"name": "x"}, "Idempotency-Key", "mint-1")
	if again.str("id") != k.str("id") || strings.Contains(again.Raw, secretB) {
		t.Fatalf("replay: %s", again.Raw)
	}
	out, err := a.env.DynamoDB.Scan(context.Background(), &dynamodb.ScanInput{TableName: &[]string{a.env.Table()}[0]})
	if err != nil {
		t.Fatal(err)
	}
	for _, it := range out.Items {
		var m map[string]any
		if err := attributevalue.UnmarshalMap(it, &m); err != nil {
			t.Fatal(err)
		}
		raw, _ := json.Marshal(m)
		if strings.Contains(string(raw), secretA) || strings.Contains(string(raw), secretB) {
			t.Fatalf("a stored item holds a key secret: %.200s", raw)
		}
	}
}
