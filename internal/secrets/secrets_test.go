package secrets

import (
	"context"
	"path/filepath"
	"strings"
	"testing"
)

func TestSealOpenRoundTripAndBinding(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	kek, err := LoadOrCreateLocalKEK(filepath.Join(t.TempDir(), "k", "kek"))
	if err != nil {
		t.Fatal(err)
	}
	box := NewBox(kek)
	const secret = "whsec_super_secret_value"
	sealed, err := box.Seal(ctx, secret, "tnt_a/env_a/webhook_secret")
	if err != nil {
		t.Fatal(err)
	}
	if strings.Contains(sealed, secret) || strings.Contains(sealed, "super") {
		t.Fatalf("sealed value shows the secret: %s", sealed)
	}
	got, err := box.Open(ctx, sealed, "tnt_a/env_a/webhook_secret")
	if err != nil || got != secret {
		t.Fatalf("Open = %q, %v", got, err)
	}
	if _, err := box.Open(ctx, sealed, "tnt_b/env_b/webhook_secret"); err == nil {
		t.Fatal("a value sealed for one tenant opened for another")
	}
	other, _ := NewLocalKEK(make([]byte, 32))
	if _, err := NewBox(other).Open(ctx, sealed, "tnt_a/env_a/webhook_secret"); err == nil {
		t.Fatal("opened with the wrong key-encryption key")
	}
	for _, bad := range []string{"", "v1.a.b", "v2." + sealed[3:], sealed[:len(sealed)-2]} {
		if _, err := box.Open(ctx, bad, "tnt_a/env_a/webhook_secret"); err == nil {
			t.Errorf("Open(%q) succeeded", bad)
		}
	}
}

func TestLocalKEKPersists(t *testing.T) {
	t.Parallel()
	path := filepath.Join(t.TempDir(), "kek")
	a, err := LoadOrCreateLocalKEK(path)
	if err != nil {
		t.Fatal(err)
	}
	b, err := LoadOrCreateLocalKEK(path)
	if err != nil {
		t.Fatal(err)
	}
	sealed, _ := NewBox(a).Seal(context.Background(), "x", "r")
	if got, err := NewBox(b).Open(context.Background(), sealed, "r"); err != nil || got != "x" {
		t.Fatalf("reloaded key cannot open: %q %v", got, err)
	}
}
