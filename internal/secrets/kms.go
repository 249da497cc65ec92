package secrets

import (
	"context"

	"github.com/aws/aws-sdk-go-v2/service/kms"
)

// KMSAPI is the part of the KMS client the wrapper uses.
type KMSAPI interface {
	Encrypt(ctx context.Context, in *kms.EncryptInput, opts ...func(*kms.Options)) (*kms.EncryptOutput, error)
	Decrypt(ctx context.Context, in *kms.DecryptInput, opts ...func(*kms.Options)) (*kms.DecryptOutput, error)
}

// KMSKEK wraps data keys with a KMS key; the record binding travels as the
// KMS encryption context, so CloudTrail shows which record a decrypt was for.
type KMSKEK struct {
	Client KMSAPI
	KeyID  string
}

// Wrap implements KeyWrapper.
func (k KMSKEK) Wrap(ctx context.Context, dk []byte, aad string) ([]byte, error) {
	out, err := k.Client.Encrypt(ctx, &kms.EncryptInput{KeyId: &k.KeyID, Plaintext: dk, EncryptionContext: map[string]string{"record": aad}})
	if err != nil {
		return nil, err
	}
	return out.CiphertextBlob, nil
}

// Unwrap implements KeyWrapper.
func (k KMSKEK) Unwrap(ctx context.Context, wrapped []byte, aad string) ([]byte, error) {
	out, err := k.Client.Decrypt(ctx, &kms.DecryptInput{KeyId: &k.KeyID, CiphertextBlob: wrapped, EncryptionContext: map[string]string{"record": aad}})
	if err != nil {
		return nil, err
	}
	return out.Plaintext, nil
}

// BoxFor is the Box a function uses: sealed with the local key file's key
// when localKeyFile is set (the local stack), else with the KMS key keyID
// through client.
func BoxFor(localKeyFile string, client KMSAPI, keyID string) (*Box, error) {
	if localKeyFile != "" {
		kek, err := LoadOrCreateLocalKEK(localKeyFile)
		if err != nil {
			return nil, err
		}
		return NewBox(kek), nil
	}
	return NewBox(KMSKEK{Client: client, KeyID: keyID}), nil
}
