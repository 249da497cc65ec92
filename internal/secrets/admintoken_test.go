package secrets_test

import (
	"context"
	"errors"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"

	"github.com/razorbill/razorbill/internal/secrets"
)

type params struct {
	value string
	err   error
	reads []string
}

func (p *params) GetParameter(_ context.Context, name string, decrypt bool) (string, error) {
	if !decrypt {
		return "", errors.New("read without decryption")
	}
	p.reads = append(p.reads, name)
	return p.value, p.err
}

// The admin token: a configured value wins (no read); a parameter is read
// decrypted, kept AdminTokenTTL, then read again; a failed read is an
// error naming it, and is not kept; neither configured is "".
func TestAdminToken(t *testing.T) {
	ctx := context.Background()
	p := &params{value: "from-ssm"}
	if v, err := (&secrets.AdminToken{Value: "local", Param: "/p", SSM: p}).Get(ctx); v != "local" || err != nil || len(p.reads) != 0 {
		t.Fatalf("configured value: %q %v, %d reads", v, err, len(p.reads))
	}
	if v, err := (&secrets.AdminToken{}).Get(ctx); v != "" || err != nil {
		t.Fatalf("nothing configured: %q %v", v, err)
	}
	now := time.Date(2026, 12, 6, 12, 0, 0, 0, time.UTC)
	tok := &secrets.AdminToken{Param: "/razorbill/admin-token", SSM: p, Now: func() time.Time { return now }}
	for range 3 {
		if v, err := tok.Get(ctx); v != "from-ssm" || err != nil {
			t.Fatalf("%q %v", v, err)
		}
	}
	if len(p.reads) != 1 || p.reads[0] != "/razorbill/admin-token" {
		t.Fatalf("reads %v, want one of the parameter", p.reads)
	}
	p.value = "rotated"
	now = now.Add(secrets.AdminTokenTTL)
	if v, _ := tok.Get(ctx); v != "rotated" || len(p.reads) != 2 {
		t.Fatalf("after the TTL: %q, %d reads", v, len(p.reads))
	}
	p.err = errors.New("AccessDeniedException")
	now = now.Add(secrets.AdminTokenTTL)
	if _, err := tok.Get(ctx); err == nil || !errors.Is(err, p.err) {
		t.Fatalf("a failed read: %v", err)
	}
	p.err = nil
	if v, err := tok.Get(ctx); v != "rotated" || err != nil || len(p.reads) != 4 {
		t.Fatalf("after a failed read: %q %v, %d reads", v, err, len(p.reads))
	}
}

type fakeKMS struct{ ctxs []map[string]string }

func (f *fakeKMS) Encrypt(_ context.Context, keyID string, pt []byte, ec map[string]string) ([]byte, error) {
	f.ctxs = append(f.ctxs, ec)
	return append([]byte(keyID+"|"), pt...), nil
}

func (f *fakeKMS) Decrypt(_ context.Context, keyID string, blob []byte, ec map[string]string) ([]byte, error) {
	f.ctxs = append(f.ctxs, ec)
	if len(blob) < len(keyID)+1 || string(blob[:len(keyID)+1]) != keyID+"|" {
		return nil, errors.New("InvalidCiphertextException")
	}
	return blob[len(keyID)+1:], nil
}

// A box over KMS seals and opens with the record bound as the KMS
// encryption context; the KMS client is made only without a local key.
func TestBoxOverKMS(t *testing.T) {
	ctx := context.Background()
	f := &fakeKMS{}
	made := 0
	box, err := secrets.BoxFor("", func() (secrets.KMSAPI, error) { made++; return f, nil }, "alias/razorbill")
	if err != nil || made != 1 {
		t.Fatalf("%v, %d clients", err, made)
	}
	sealed, err := box.Seal(ctx, "rzp_secret", "ten/env/key_secret")
	if err != nil {
		t.Fatal(err)
	}
	if v, err := box.Open(ctx, sealed, "ten/env/key_secret"); v != "rzp_secret" || err != nil {
		t.Fatalf("open: %q %v", v, err)
	}
	for _, ec := range f.ctxs {
		if len(ec) != 1 || ec["record"] != "ten/env/key_secret" {
			t.Fatalf("encryption context %v", ec)
		}
	}
	if _, err := secrets.BoxFor("", func() (secrets.KMSAPI, error) { return nil, errors.New("no region") }, "k"); err == nil {
		t.Fatal("a KMS client that cannot be made gave a box")
	}
	if _, err := secrets.BoxFor(t.TempDir()+"/k", func() (secrets.KMSAPI, error) { made++; return f, nil }, "k"); err != nil || made != 1 {
		t.Fatalf("local key: %v, %d clients", err, made)
	}
}

// NewAdminToken makes an SSM client only for a parameter without a value,
// and refuses a config it cannot sign for.
func TestNewAdminToken(t *testing.T) {
	cfg := aws.Config{Region: "ap-south-1"}
	if tok, err := secrets.NewAdminToken(cfg, "local", "/p"); err != nil || tok.SSM != nil || tok.Value != "local" {
		t.Fatalf("a value: %+v %v", tok, err)
	}
	if tok, err := secrets.NewAdminToken(cfg, "", ""); err != nil || tok.SSM != nil {
		t.Fatalf("neither: %+v %v", tok, err)
	}
	if tok, err := secrets.NewAdminToken(cfg, "", "/razorbill/admin-token"); err != nil || tok.SSM == nil || tok.Param != "/razorbill/admin-token" {
		t.Fatalf("a parameter: %+v %v", tok, err)
	}
	if _, err := secrets.NewAdminToken(aws.Config{}, "", "/p"); err == nil {
		t.Fatal("a config without a region gave an SSM reader")
	}
}
