package console

import (
	"context"
	"crypto/aes"
	"crypto/cipher"
	"crypto/hmac"
	"crypto/rand"
	"crypto/sha256"
	"crypto/subtle"
	"encoding/base64"
	"encoding/json"
	"errors"
	"net/http"
	"time"
)

const (
	sessionCookie = "rb_console"     // the sealed session
	preCookie     = "rb_console_pre" // the sign-in form's CSRF token, before a session exists
	csrfField     = "csrf"
	sessionAAD    = "razorbill console session v1"
)

// ErrNoSessionKey means the console has no key to seal sessions with.
var ErrNoSessionKey = errors.New("the console has no session key (the api function's admin token is not configured)")

// KeyFromSecret derives the session-sealing key from a server secret (the
// api function's admin token): HMAC-SHA256(secret, "razorbill console
// session v1"). Rotating the secret signs every console user out. An empty
// secret is ErrNoSessionKey: the console then refuses to sign anyone in.
func KeyFromSecret(secret func(ctx context.Context) (string, error)) func(ctx context.Context) ([]byte, error) {
	return func(ctx context.Context) ([]byte, error) {
		s, err := secret(ctx)
		if err != nil {
			return nil, err
		}
		if s == "" {
			return nil, ErrNoSessionKey
		}
		m := hmac.New(sha256.New, []byte(s))
		m.Write([]byte(sessionAAD))
		return m.Sum(nil), nil
	}
}

// session is what the sealed cookie holds. The API key is needed to call
// the API for the user; it is only ever inside the AES-GCM sealed cookie
// (HttpOnly), never rendered.
type session struct {
	Key     string `json:"k"`
	Env     string `json:"e"`
	CSRF    string `json:"c"`
	Expires int64  `json:"x"`
}

func randomToken() string {
	var b [24]byte
	if _, err := rand.Read(b[:]); err != nil {
		panic(err)
	}
	return base64.RawURLEncoding.EncodeToString(b[:])
}

func seal(key []byte, s session) (string, error) {
	pt, err := json.Marshal(s)
	if err != nil {
		return "", err
	}
	block, err := aes.NewCipher(key)
	if err != nil {
		return "", err
	}
	gcm, err := cipher.NewGCM(block)
	if err != nil {
		return "", err
	}
	nonce := make([]byte, gcm.NonceSize())
	if _, err := rand.Read(nonce); err != nil {
		return "", err
	}
	return base64.RawURLEncoding.EncodeToString(gcm.Seal(nonce, nonce, pt, []byte(sessionAAD))), nil
}

func open(key []byte, v string) (session, bool) {
	raw, err := base64.RawURLEncoding.DecodeString(v)
	if err != nil {
		return session{}, false
	}
	block, err := aes.NewCipher(key)
	if err != nil {
		return session{}, false
	}
	gcm, err := cipher.NewGCM(block)
	if err != nil || len(raw) < gcm.NonceSize() {
		return session{}, false
	}
	pt, err := gcm.Open(nil, raw[:gcm.NonceSize()], raw[gcm.NonceSize():], []byte(sessionAAD))
	if err != nil {
		return session{}, false
	}
	var s session
	if json.Unmarshal(pt, &s) != nil || s.Key == "" || s.Env == "" || s.CSRF == "" {
		return session{}, false
	}
	return s, true
}

// cookie is a console cookie: HttpOnly, Secure, SameSite=Strict, scoped
// to the console's path.
func cookie(name, value string, maxAge int) *http.Cookie {
	return &http.Cookie{Name: name, Value: value, Path: Prefix, MaxAge: maxAge, HttpOnly: true, Secure: true, SameSite: http.SameSiteStrictMode}
}

// session returns the request's valid, unexpired session.
func (c *Console) session(r *http.Request) (session, bool) {
	ck, err := r.Cookie(sessionCookie)
	if err != nil {
		return session{}, false
	}
	key, err := c.opt.SessionKey(r.Context())
	if err != nil {
		return session{}, false
	}
	s, ok := open(key, ck.Value)
	if !ok || time.Unix(s.Expires, 0).Before(c.opt.Now()) {
		return session{}, false
	}
	return s, true
}

func sameToken(a, b string) bool {
	return a != "" && subtle.ConstantTimeCompare([]byte(a), []byte(b)) == 1
}
