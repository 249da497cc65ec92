package logx

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"strings"
	"testing"
)

func TestSecretsNeverReachTheLog(t *testing.T) {
	t.Parallel()
	var buf bytes.Buffer
	log := New(&buf, "debug")
	const secret = "sk_live_abcdefghijklmnop1a2b"
	ctx := With(context.Background(), "request_id", "req_1", "tenant_id", "tnt_1")
	log.InfoContext(ctx, "saving connection",
		"key", Secret(secret),
		"webhook_secret", secret, // redacted by key name
		"note", fmt.Sprint(Secret(secret)))
	out := buf.String()
	if strings.Contains(out, "abcdefghijklmnop") {
		t.Fatalf("secret leaked: %s", out)
	}
	var line map[string]any
	if err := json.Unmarshal(buf.Bytes(), &line); err != nil {
		t.Fatal(err)
	}
	if line["request_id"] != "req_1" || line["tenant_id"] != "tnt_1" {
		t.Errorf("context attributes missing: %v", line)
	}
	if line["key"] != "••••1a2b" || line["webhook_secret"] != "[redacted]" {
		t.Errorf("masking: %v", line)
	}
}

func TestMask(t *testing.T) {
	t.Parallel()
	for in, want := range map[string]string{"": "", "short": "••••", "0123456789abcdef": "••••", "0123456789abcdefghij": "••••ghij", "KL4AxdDFm1d3wvy5xmmXrTDo": "••••rTDo"} {
		if got := Mask(in); got != want {
			t.Errorf("Mask(%q) = %q, want %q", in, got, want)
		}
	}
}
