// Package lambdaenv builds the aws.Config a Lambda function needs from the
// environment Lambda gives its process: AWS_REGION and the execution role's
// credentials in AWS_ACCESS_KEY_ID, AWS_SECRET_ACCESS_KEY and
// AWS_SESSION_TOKEN. It deliberately does not use config.LoadDefaultConfig,
// whose credential chain links the shared-config file reader, SSO, SSO-OIDC,
// STS, sign-in and IMDS clients that a Lambda never uses; the SDK's default
// chain also turns these variables into a static provider read once at load.
package lambdaenv

import (
	"errors"
	"fmt"
	"io"
	"log/slog"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/credentials"

	"github.com/razorbill/razorbill/internal/config"
	"github.com/razorbill/razorbill/internal/logx"
)

// AWSConfig returns the region and static credentials read through getenv
// (AWS_DEFAULT_REGION when AWS_REGION is empty). It fails, naming the
// variable, when the region or the key pair is missing.
func AWSConfig(getenv func(string) string) (aws.Config, error) {
	region := getenv("AWS_REGION")
	if region == "" {
		region = getenv("AWS_DEFAULT_REGION")
	}
	var errs []error
	if region == "" {
		errs = append(errs, errors.New("AWS_REGION is not set"))
	}
	id, secret := getenv("AWS_ACCESS_KEY_ID"), getenv("AWS_SECRET_ACCESS_KEY")
	if id == "" {
		errs = append(errs, errors.New("AWS_ACCESS_KEY_ID is not set"))
	}
	if secret == "" {
		errs = append(errs, errors.New("AWS_SECRET_ACCESS_KEY is not set"))
	}
	if err := errors.Join(errs...); err != nil {
		return aws.Config{}, fmt.Errorf("aws config: %w", err)
	}
	return aws.Config{
		Region:      region,
		Credentials: credentials.NewStaticCredentialsProvider(id, secret, getenv("AWS_SESSION_TOKEN")),
	}, nil
}

// Env is what every function's composition root starts from.
type Env struct {
	Config *config.Config
	Log    *slog.Logger
	AWS    aws.Config
}

// Load reads the configuration need asks for, the logger writing to logOut
// and the AWS configuration, all through getenv.
func Load(getenv func(string) string, logOut io.Writer, need config.Need) (Env, error) {
	cfg, err := config.Load(getenv, need)
	if err != nil {
		return Env{}, err
	}
	awsCfg, err := AWSConfig(getenv)
	if err != nil {
		return Env{}, err
	}
	return Env{Config: cfg, Log: logx.New(logOut, cfg.LogLevel), AWS: awsCfg}, nil
}
