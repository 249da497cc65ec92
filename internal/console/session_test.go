package console

import (
	"context"
	"errors"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-lambda-go/events"
)

func TestSealedSessionsCannotBeReadOrAltered(t *testing.T) {
	t.Parallel()
	key := make([]byte, 32)
	s := session{Key: "rbk_secret_key_value", Env: "env_1", CSRF: "tok", Expires: 99}
	v, err := seal(key, s)
	if err != nil {
		t.Fatal(err)
	}
	if strings.Contains(v, "rbk_secret") || strings.Contains(v, "env_1") {
		t.Fatal("the sealed session shows its contents")
	}
	if got, ok := open(key, v); !ok || got != s {
		t.Fatalf("open: %+v %v", got, ok)
	}
	other := make([]byte, 32)
	other[0] = 1
	if _, ok := open(other, v); ok {
		t.Error("opened with another key")
	}
	for i := range v {
		b := []byte(v)
		b[i] ^= 1
		if _, ok := open(key, string(b)); ok {
			t.Fatalf("a change at byte %d still opens", i)
		}
	}
}

func TestKeyFromSecret(t *testing.T) {
	t.Parallel()
	get := func(s string) func(context.Context) (string, error) {
		return func(context.Context) (string, error) { return s, nil }
	}
	a, err := KeyFromSecret(get("admin-token-a"))(context.Background())
	if err != nil || len(a) != 32 {
		t.Fatalf("%d %v", len(a), err)
	}
	b, _ := KeyFromSecret(get("admin-token-b"))(context.Background())
	if string(a) == string(b) {
		t.Error("two secrets give one key")
	}
	if _, err := KeyFromSecret(get(""))(context.Background()); !errors.Is(err, ErrNoSessionKey) {
		t.Errorf("empty secret: %v", err)
	}
}

// noAPI answers every API call with 200 and an empty list (a stand-in for
// the router in this unit test of the session rules).
func noAPI(context.Context, events.APIGatewayV2HTTPRequest) (events.APIGatewayV2HTTPResponse, error) {
	return events.APIGatewayV2HTTPResponse{StatusCode: 200, Body: `{"data":[],"has_more":false}`}, nil
}

func TestExpiredSessionAndMissingKey(t *testing.T) {
	t.Parallel()
	now := time.Date(2026, 12, 1, 10, 0, 0, 0, time.UTC)
	key := make([]byte, 32)
	c := New(Options{API: noAPI, Payments: noAPI, Now: func() time.Time { return now },
		SessionKey: func(context.Context) ([]byte, error) { return key, nil }})
	v, _ := seal(key, session{Key: "k", Env: "env_1", CSRF: "tok", Expires: now.Add(-time.Second).Unix()})
	req := httptest.NewRequest("GET", "/console/invoices", nil)
	req.AddCookie(&http.Cookie{Name: sessionCookie, Value: v})
	w := httptest.NewRecorder()
	c.ServeHTTP(w, req)
	if w.Code != http.StatusSeeOther || w.Header().Get("Location") != "/console/sign-in" {
		t.Errorf("expired session: %d %s", w.Code, w.Header().Get("Location"))
	}
	v, _ = seal(key, session{Key: "k", Env: "env_1", CSRF: "tok", Expires: now.Add(time.Minute).Unix()})
	req = httptest.NewRequest("GET", "/console/invoices", nil)
	req.AddCookie(&http.Cookie{Name: sessionCookie, Value: v})
	w = httptest.NewRecorder()
	c.ServeHTTP(w, req)
	if w.Code != http.StatusOK {
		t.Errorf("live session: %d", w.Code)
	}

	// Without a session key nobody is signed in, and the page says why.
	nk := New(Options{API: noAPI, Payments: noAPI, SessionKey: func(context.Context) ([]byte, error) { return nil, ErrNoSessionKey }})
	req = httptest.NewRequest("POST", "/console/sign-in", strings.NewReader(url.Values{"csrf": {"t"}, "api_key": {"k"}, "environment_id": {"env_1"}}.Encode()))
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	req.AddCookie(&http.Cookie{Name: preCookie, Value: "t"})
	w = httptest.NewRecorder()
	nk.ServeHTTP(w, req)
	if w.Code != http.StatusServiceUnavailable || strings.Contains(w.Header().Get("Set-Cookie"), sessionCookie+"=") || !strings.Contains(w.Body.String(), "session key is not configured") {
		t.Errorf("no session key: %d %v %.300s", w.Code, w.Header()["Set-Cookie"], w.Body.String())
	}
}
