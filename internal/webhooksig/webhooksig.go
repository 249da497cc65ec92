// Package webhooksig signs and verifies Razorpay webhook bodies
// (X-Razorpay-Signature). It imports only the standard library, so the
// webhook receiver can verify a delivery without linking razorpay-go;
// internal/razorpay's Sign and VerifySignature call it.
package webhooksig

import (
	"crypto/hmac"
	"crypto/sha256"
	"encoding/hex"
)

// Sign is the hex HMAC-SHA256 of body with secret: the X-Razorpay-Signature
// Razorpay computes over the raw webhook body with the webhook secret.
func Sign(body []byte, secret string) string {
	m := hmac.New(sha256.New, []byte(secret))
	m.Write(body)
	return hex.EncodeToString(m.Sum(nil))
}

// Verify reports whether signature is Sign(body, secret). The comparison is
// constant-time; an empty secret, an empty, odd-length, non-hex or
// wrong-length signature is false.
func Verify(body []byte, signature, secret string) bool {
	if secret == "" || len(signature) != 2*sha256.Size {
		return false
	}
	got, err := hex.DecodeString(signature)
	if err != nil {
		return false
	}
	m := hmac.New(sha256.New, []byte(secret))
	m.Write(body)
	return hmac.Equal(got, m.Sum(nil))
}
