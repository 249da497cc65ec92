// Package secrets encrypts connection secrets at rest with an AES-256-GCM
// envelope: each value gets a fresh 32-byte data key, the value is sealed
// with it (the record's tenant/environment/field as additional data, so a
// ciphertext cannot be moved to another tenant), and the data key is wrapped
// by a key-encryption key — KMS in AWS, a local key file in the local stack.
// No key is compiled in.
package secrets

import (
	"context"
	"crypto/aes"
	"crypto/cipher"
	"crypto/rand"
	"encoding/base64"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"
)

// KeyWrapper wraps and unwraps data keys with a key-encryption key.
type KeyWrapper interface {
	Wrap(ctx context.Context, dataKey []byte, aad string) ([]byte, error)
	Unwrap(ctx context.Context, wrapped []byte, aad string) ([]byte, error)
}

// Box seals and opens values.
type Box struct{ kek KeyWrapper }

// NewBox returns a Box using kek.
func NewBox(kek KeyWrapper) *Box { return &Box{kek: kek} }

const version = "v1"

// Seal encrypts plaintext; aad binds it to its record (e.g. "tnt/env/key_secret").
func (b *Box) Seal(ctx context.Context, plaintext, aad string) (string, error) {
	dk := make([]byte, 32)
	if _, err := rand.Read(dk); err != nil {
		return "", err
	}
	ct, nonce, err := gcmSeal(dk, []byte(plaintext), []byte(aad))
	if err != nil {
		return "", err
	}
	wrapped, err := b.kek.Wrap(ctx, dk, aad)
	if err != nil {
		return "", fmt.Errorf("wrap data key: %w", err)
	}
	enc := base64.RawStdEncoding.EncodeToString
	return strings.Join([]string{version, enc(wrapped), enc(nonce), enc(ct)}, "."), nil
}

// ErrCorrupt means a sealed value could not be opened.
var ErrCorrupt = errors.New("secrets: sealed value is corrupt or bound to another record")

// Open decrypts a value sealed with the same aad.
func (b *Box) Open(ctx context.Context, sealed, aad string) (string, error) {
	parts := strings.Split(sealed, ".")
	if len(parts) != 4 || parts[0] != version {
		return "", ErrCorrupt
	}
	var raw [3][]byte
	for i := range raw {
		v, err := base64.RawStdEncoding.DecodeString(parts[i+1])
		if err != nil {
			return "", ErrCorrupt
		}
		raw[i] = v
	}
	dk, err := b.kek.Unwrap(ctx, raw[0], aad)
	if err != nil {
		return "", fmt.Errorf("unwrap data key: %w", err)
	}
	pt, err := gcmOpen(dk, raw[1], raw[2], []byte(aad))
	if err != nil {
		return "", ErrCorrupt
	}
	return string(pt), nil
}

func gcmSeal(key, plaintext, aad []byte) (ct, nonce []byte, err error) {
	block, err := aes.NewCipher(key)
	if err != nil {
		return nil, nil, err
	}
	g, err := cipher.NewGCM(block)
	if err != nil {
		return nil, nil, err
	}
	nonce = make([]byte, g.NonceSize())
	if _, err := rand.Read(nonce); err != nil {
		return nil, nil, err
	}
	return g.Seal(nil, nonce, plaintext, aad), nonce, nil
}

func gcmOpen(key, nonce, ct, aad []byte) ([]byte, error) {
	block, err := aes.NewCipher(key)
	if err != nil {
		return nil, err
	}
	g, err := cipher.NewGCM(block)
	if err != nil {
		return nil, err
	}
	if len(nonce) != g.NonceSize() {
		return nil, ErrCorrupt
	}
	return g.Open(nil, nonce, ct, aad)
}

// LocalKEK is a key-encryption key held in a file (the local stack's stand-in for KMS).
type LocalKEK struct{ key []byte }

// LoadOrCreateLocalKEK reads a 32-byte key (base64) from path, creating the
// file with a fresh random key (mode 0600) when it does not exist.
func LoadOrCreateLocalKEK(path string) (*LocalKEK, error) {
	data, err := os.ReadFile(path)
	if errors.Is(err, os.ErrNotExist) {
		k := make([]byte, 32)
		if _, err := rand.Read(k); err != nil {
			return nil, err
		}
		if err := os.MkdirAll(filepath.Dir(path), 0o700); err != nil {
			return nil, err
		}
		if err := os.WriteFile(path, []byte(base64.StdEncoding.EncodeToString(k)+"\n"), 0o600); err != nil {
			return nil, err
		}
		return &LocalKEK{key: k}, nil
	}
	if err != nil {
		return nil, err
	}
	k, err := base64.StdEncoding.DecodeString(strings.TrimSpace(string(data)))
	if err != nil || len(k) != 32 {
		return nil, fmt.Errorf("local key file %s: want 32 bytes in base64", path)
	}
	return &LocalKEK{key: k}, nil
}

// NewLocalKEK uses key (32 bytes) directly, for tests.
func NewLocalKEK(key []byte) (*LocalKEK, error) {
	if len(key) != 32 {
		return nil, errors.New("local key must be 32 bytes")
	}
	return &LocalKEK{key: append([]byte(nil), key...)}, nil
}

// Wrap implements KeyWrapper.
func (l *LocalKEK) Wrap(_ context.Context, dk []byte, aad string) ([]byte, error) {
	ct, nonce, err := gcmSeal(l.key, dk, []byte(aad))
	if err != nil {
		return nil, err
	}
	return append(nonce, ct...), nil
}

// Unwrap implements KeyWrapper.
func (l *LocalKEK) Unwrap(_ context.Context, wrapped []byte, aad string) ([]byte, error) {
	if len(wrapped) < 12 {
		return nil, ErrCorrupt
	}
	dk, err := gcmOpen(l.key, wrapped[:12], wrapped[12:], []byte(aad))
	if err != nil {
		return nil, ErrCorrupt
	}
	return dk, nil
}
