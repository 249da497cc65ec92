package secrets

import (
	"context"

	"github.com/aws/aws-sdk-go-v2/aws"

	"github.com/razorbill/razorbill/internal/awsjson"
)

// KMSAPI is the part of KMS the wrapper uses (awsjson.KMSClient).
type KMSAPI interface {
	Encrypt(ctx context.Context, keyID string, plaintext []byte, encryptionContext map[string]string) ([]byte, error)
	Decrypt(ctx context.Context, keyID string, blob []byte, encryptionContext map[string]string) ([]byte, error)
}

// KMSKEK wraps data keys with a KMS key; the record binding travels as the
// KMS encryption context, so CloudTrail shows which record a decrypt was for.
type KMSKEK struct {
	Client KMSAPI
	KeyID  string
}

// Wrap implements KeyWrapper.
func (k KMSKEK) Wrap(ctx context.Context, dk []byte, aad string) ([]byte, error) {
	return k.Client.Encrypt(ctx, k.KeyID, dk, map[string]string{"record": aad})
}

// Unwrap implements KeyWrapper.
func (k KMSKEK) Unwrap(ctx context.Context, wrapped []byte, aad string) ([]byte, error) {
	return k.Client.Decrypt(ctx, k.KeyID, wrapped, map[string]string{"record": aad})
}

// AWSKMS makes the KMS client of cfg (internal/awsjson), for BoxFor.
func AWSKMS(cfg aws.Config) func() (KMSAPI, error) {
	return func() (KMSAPI, error) { return awsjson.NewKMS(cfg) }
}

// BoxFor is the Box a function uses: sealed with the local key file's key
// when localKeyFile is set (the local stack), else with the KMS key keyID
// through the client kms returns (called only then).
func BoxFor(localKeyFile string, kms func() (KMSAPI, error), keyID string) (*Box, error) {
	if localKeyFile != "" {
		kek, err := LoadOrCreateLocalKEK(localKeyFile)
		if err != nil {
			return nil, err
		}
		return NewBox(kek), nil
	}
	c, err := kms()
	if err != nil {
		return nil, err
	}
	return NewBox(KMSKEK{Client: c, KeyID: keyID}), nil
}
