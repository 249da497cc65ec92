package awsjson

import (
	"context"
	"errors"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
)

// KMSClient calls KMS's Encrypt and Decrypt
// (https://docs.aws.amazon.com/kms/latest/APIReference/API_Encrypt.html,
// API_Decrypt.html). Blobs travel base64-encoded in the JSON, as
// encoding/json writes a []byte.
type KMSClient struct{ c *Client }

// NewKMS returns a KMS client for cfg's region (or the endpoint cfg names).
func NewKMS(cfg aws.Config) (*KMSClient, error) {
	c, err := newCaller(cfg, KMS)
	if err != nil {
		return nil, err
	}
	return &KMSClient{c: c}, nil
}

// newCaller is a client of svc at its regional (or configured) endpoint
// whose tries are bounded by callerAttemptTimeout.
func newCaller(cfg aws.Config, svc Service) (*Client, error) {
	c, err := New(cfg, svc, nil)
	if err != nil {
		return nil, err
	}
	c.AttemptTimeout = callerAttemptTimeout
	return c, nil
}

// callerAttemptTimeout bounds one try of a KMS or SSM call. The SDK's
// clients have no per-try limit (only the caller's deadline); New's 1.5 s
// is for the webhook receiver's 5 s. 5 s is far above these calls'
// latency and still turns a stuck connection into another try.
const callerAttemptTimeout = 5 * time.Second

// Client is the underlying JSON-protocol client (its tries and clock).
func (k *KMSClient) Client() *Client { return k.c }

type kmsEncryptInput struct {
	KeyID             string            `json:"KeyId"`
	Plaintext         []byte            `json:"Plaintext"`
	EncryptionContext map[string]string `json:"EncryptionContext,omitempty"`
}

type kmsDecryptInput struct {
	CiphertextBlob    []byte            `json:"CiphertextBlob"`
	EncryptionContext map[string]string `json:"EncryptionContext,omitempty"`
	KeyID             string            `json:"KeyId,omitempty"`
}

// Encrypt encrypts plaintext (at most 4 KB) under keyID, bound to the
// encryption context, and returns the ciphertext blob.
func (k *KMSClient) Encrypt(ctx context.Context, keyID string, plaintext []byte, encryptionContext map[string]string) ([]byte, error) {
	var out struct {
		CiphertextBlob []byte
	}
	if err := k.c.CallJSON(ctx, "Encrypt", kmsEncryptInput{KeyID: keyID, Plaintext: plaintext, EncryptionContext: encryptionContext}, &out); err != nil {
		return nil, err
	}
	if len(out.CiphertextBlob) == 0 {
		return nil, &Error{Service: KMS.Name, Op: "Encrypt", Status: 200, Message: "the answer has no CiphertextBlob"}
	}
	return out.CiphertextBlob, nil
}

// Decrypt decrypts blob, which must have been encrypted under keyID (when
// set) with the same encryption context, and returns the plaintext.
func (k *KMSClient) Decrypt(ctx context.Context, keyID string, blob []byte, encryptionContext map[string]string) ([]byte, error) {
	var out struct {
		Plaintext []byte
	}
	if err := k.c.CallJSON(ctx, "Decrypt", kmsDecryptInput{CiphertextBlob: blob, EncryptionContext: encryptionContext, KeyID: keyID}, &out); err != nil {
		return nil, err
	}
	if out.Plaintext == nil {
		return nil, &Error{Service: KMS.Name, Op: "Decrypt", Status: 200, Message: "the answer has no Plaintext"}
	}
	return out.Plaintext, nil
}

// SSMClient calls SSM's GetParameter
// (https://docs.aws.amazon.com/systems-manager/latest/APIReference/API_GetParameter.html).
type SSMClient struct{ c *Client }

// NewSSM returns an SSM client for cfg's region (or the endpoint cfg names).
func NewSSM(cfg aws.Config) (*SSMClient, error) {
	c, err := newCaller(cfg, SSM)
	if err != nil {
		return nil, err
	}
	return &SSMClient{c: c}, nil
}

// Client is the underlying JSON-protocol client (its tries and clock).
func (s *SSMClient) Client() *Client { return s.c }

// ErrNoValue is a parameter answer without a value.
var ErrNoValue = errors.New("ssm GetParameter: the answer has no Parameter.Value")

// GetParameter reads the parameter name, decrypted (a SecureString's
// value in clear) when decrypt is set.
func (s *SSMClient) GetParameter(ctx context.Context, name string, decrypt bool) (string, error) {
	in := struct {
		Name           string
		WithDecryption bool
	}{name, decrypt}
	var out struct {
		Parameter *struct {
			Value *string
		}
	}
	if err := s.c.CallJSON(ctx, "GetParameter", in, &out); err != nil {
		return "", err
	}
	if out.Parameter == nil || out.Parameter.Value == nil {
		return "", ErrNoValue
	}
	return *out.Parameter.Value, nil
}
