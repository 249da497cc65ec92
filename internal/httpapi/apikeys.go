package httpapi

import (
	"context"
	"encoding/json"
	"net/http"
	"strings"
	"time"

	"github.com/razorbill/razorbill/internal/apperr"
	"github.com/razorbill/razorbill/internal/billing"
)

// keyTenant is the tenant whose keys a key-management request manages: the
// caller's own, or the one in the path for the admin token. A tenant API key
// manages keys only when it can write in every environment, so a key limited
// to one environment, or read-only, can never mint a broader one.
func (l *Ledger) keyTenant(ctx context.Context, r *Request) (string, error) {
	if r.KeyID == "" { // the admin token: /tenants/{id}/api-keys
		id := r.Params["id"]
		if _, err := l.Store.Tenant(ctx, id); err != nil {
			return "", err
		}
		return id, nil
	}
	if !r.Key.CanWrite() || !r.Key.AllEnvironments() {
		return "", apperr.E(apperr.Forbidden, "key_not_allowed", "only a write key valid in every environment can manage API keys")
	}
	return r.TenantID, nil
}

func (l *Ledger) createAPIKey(ctx context.Context, r *Request) (Response, error) {
	tenantID, err := l.keyTenant(ctx, r)
	if err != nil {
		return Response{}, err
	}
	var in struct {
		Name         string     `json:"name"`
		Environments []string   `json:"environments"`
		Permissions  string     `json:"permissions"`
		ExpiresAt    *time.Time `json:"expires_at"`
	}
	if len(strings.TrimSpace(string(r.Body))) > 0 {
		if err := Decode(r.Body, &in); err != nil {
			return Response{}, err
		}
	}
	if err := billing.ValidateText(in.Name, "name", false, billing.MaxNameLen); err != nil {
		return Response{}, err
	}
	now := l.now()
	secret, key := NewAPIKey(tenantID, now)
	key.Name = strings.TrimSpace(in.Name)
	switch p := strings.ToLower(strings.TrimSpace(in.Permissions)); p {
	case "", billing.KeyWrite:
		key.Permissions = billing.KeyWrite
	case billing.KeyRead:
		key.Permissions = billing.KeyRead
	default:
		return Response{}, apperr.InvalidField("validation_failed", "permissions", "permissions must be \"read\" or \"write\"")
	}
	if in.Environments != nil && len(in.Environments) == 0 {
		return Response{}, apperr.InvalidField("validation_failed", "environments", "environments must name at least one environment, or be left out for all of them")
	}
	seen := map[string]bool{}
	for _, envID := range in.Environments {
		if seen[envID] {
			continue
		}
		seen[envID] = true
		if _, err := l.Store.Environment(ctx, tenantID, envID); err != nil {
			if apperr.Is(err, apperr.NotFound) {
				return Response{}, apperr.InvalidField("validation_failed", "environments", "environment %q is not one of this tenant's", envID)
			}
			return Response{}, err
		}
		key.Environments = append(key.Environments, envID)
	}
	if in.ExpiresAt != nil {
		if !in.ExpiresAt.After(now) {
			return Response{}, apperr.InvalidField("validation_failed", "expires_at", "expires_at must be in the future")
		}
		t := in.ExpiresAt.UTC()
		key.ExpiresAt = &t
	}
	if err := l.Store.CreateAPIKey(ctx, key); err != nil {
		return Response{}, err
	}
	body := apiKeyView(key)
	body["key"] = secret
	return Response{Status: http.StatusCreated, Body: body}, nil
}

func (l *Ledger) listAPIKeys(ctx context.Context, r *Request) (Response, error) {
	tenantID, err := l.keyTenant(ctx, r)
	if err != nil {
		return Response{}, err
	}
	opt, err := listOptions(r)
	if err != nil {
		return Response{}, err
	}
	page, err := l.Store.ListAPIKeys(ctx, tenantID, opt)
	if err != nil {
		return Response{}, err
	}
	data := make([]any, 0, len(page.Data))
	for _, k := range page.Data {
		data = append(data, apiKeyView(k))
	}
	return Response{Body: map[string]any{"data": data, "has_more": page.HasMore}}, nil
}

func (l *Ledger) revokeAPIKey(ctx context.Context, r *Request) (Response, error) {
	tenantID, err := l.keyTenant(ctx, r)
	if err != nil {
		return Response{}, err
	}
	id := r.Params["id"]
	if r.KeyID == "" {
		id = r.Params["key_id"]
	}
	now := l.now()
	if err := l.Store.RevokeAPIKey(ctx, tenantID, id, now); err != nil {
		return Response{}, err
	}
	return Response{Body: map[string]any{"id": id, "revoked": true, "revoked_at": ts(now)}}, nil
}

// apiKeyView shows a key without its secret (the prefix tells keys apart).
func apiKeyView(k billing.APIKey) map[string]any {
	envs := k.Environments
	if envs == nil {
		envs = []string{}
	}
	perm := k.Permissions
	if perm == "" {
		perm = billing.KeyWrite
	}
	return map[string]any{
		"id": k.ID, "name": nullable(k.Name), "prefix": nullable(k.Prefix), "environments": envs,
		"all_environments": k.AllEnvironments(), "permissions": perm,
		"created_at": ts(k.CreatedAt), "last_used_at": tsp(k.LastUsedAt), "expires_at": tsp(k.ExpiresAt),
		"revoked_at": tsp(k.RevokedAt),
	}
}

// withoutSecrets removes every API key secret from a response body before it
// is stored under an Idempotency-Key: the replay shows the key's id and a
// note, never the secret again.
func withoutSecrets(body []byte) []byte {
	var v any
	if err := json.Unmarshal(body, &v); err != nil {
		return []byte(`{"note":"this response held a secret shown only once; it is not stored"}`)
	}
	var scrub func(any) any
	scrub = func(x any) any {
		switch t := x.(type) {
		case map[string]any:
			for k, val := range t {
				if s, ok := val.(string); ok && (k == "key" && strings.HasPrefix(s, "rbk_") || k == "webhook_secret_generated") {
					t[k] = nil
					t["note"] = "the secret was shown only once, in the first response; this is a replay"
					continue
				}
				t[k] = scrub(val)
			}
		case []any:
			for i := range t {
				t[i] = scrub(t[i])
			}
		}
		return x
	}
	out, err := json.Marshal(scrub(v))
	if err != nil {
		return []byte(`{"note":"this response held a secret shown only once; it is not stored"}`)
	}
	return out
}
