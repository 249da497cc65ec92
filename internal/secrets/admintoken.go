package secrets

import (
	"context"
	"fmt"
	"sync"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"

	"github.com/razorbill/razorbill/internal/awsjson"
)

// ParameterReader reads an SSM parameter (awsjson.SSMClient).
type ParameterReader interface {
	GetParameter(ctx context.Context, name string, decrypt bool) (string, error)
}

// AdminToken is the bootstrap admin token: Value when set (the local
// stack), else the SSM SecureString parameter Param read through SSM and
// kept five minutes, else none ("").
type AdminToken struct {
	Value, Param string
	SSM          ParameterReader
	Now          func() time.Time

	mu     sync.Mutex
	at     time.Time
	cached string
}

// NewAdminToken is the admin token of value, else of the SSM parameter
// param read through cfg's SSM (internal/awsjson), else none.
func NewAdminToken(cfg aws.Config, value, param string) (*AdminToken, error) {
	t := &AdminToken{Value: value, Param: param}
	if value == "" && param != "" {
		ssm, err := awsjson.NewSSM(cfg)
		if err != nil {
			return nil, err
		}
		t.SSM = ssm
	}
	return t, nil
}

// AdminTokenTTL is how long a token read from SSM is used before it is
// read again (a rotated token takes effect within it).
const AdminTokenTTL = 5 * time.Minute

// Get returns the token ("" when none is configured).
func (t *AdminToken) Get(ctx context.Context) (string, error) {
	if t.Value != "" || t.Param == "" || t.SSM == nil {
		return t.Value, nil
	}
	now := time.Now
	if t.Now != nil {
		now = t.Now
	}
	t.mu.Lock()
	defer t.mu.Unlock()
	if t.cached != "" && now().Sub(t.at) < AdminTokenTTL {
		return t.cached, nil
	}
	v, err := t.SSM.GetParameter(ctx, t.Param, true)
	if err != nil {
		return "", fmt.Errorf("read admin token parameter: %w", err)
	}
	t.cached, t.at = v, now()
	return v, nil
}
