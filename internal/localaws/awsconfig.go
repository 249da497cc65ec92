package localaws

import (
	"context"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/credentials"
)

// Local credentials and region: the emulators accept anything, the SDK needs
// something.
const (
	Region          = "us-east-1"
	AccessKeyID     = "local"
	SecretAccessKey = "local"
)

// Endpoints are the emulators' base URLs.
type Endpoints struct {
	DynamoDB string // also serves DynamoDB Streams
	SQS      string
}

// Env is the environment that points an AWS SDK (config.LoadDefaultConfig)
// at the emulators with the local credentials: what a function process of
// the local stack gets.
func (e Endpoints) Env() map[string]string {
	return map[string]string{
		"AWS_ENDPOINT_URL_DYNAMODB":         e.DynamoDB,
		"AWS_ENDPOINT_URL_DYNAMODB_STREAMS": e.DynamoDB,
		"AWS_ENDPOINT_URL_SQS":              e.SQS,
		"AWS_REGION":                        Region,
		"AWS_ACCESS_KEY_ID":                 AccessKeyID,
		"AWS_SECRET_ACCESS_KEY":             SecretAccessKey,
	}
}

// endpointSource answers the SDK's per-service endpoint lookup (the same
// lookup AWS_ENDPOINT_URL_<SERVICE> feeds) from Endpoints.
type endpointSource Endpoints

// GetServiceBaseEndpoint implements the SDK's ServiceBaseEndpointProvider.
func (s endpointSource) GetServiceBaseEndpoint(_ context.Context, sdkID string) (string, bool, error) {
	switch sdkID {
	case "DynamoDB", "DynamoDB Streams":
		return s.DynamoDB, s.DynamoDB != "", nil
	case "SQS":
		return s.SQS, s.SQS != "", nil
	}
	return "", false, nil
}

// AWSConfig is an aws.Config for the emulators: static local credentials,
// us-east-1, and DynamoDB, DynamoDB Streams and SQS endpoints from e. It
// reads no environment variable or shared config file, so a developer's real
// AWS settings cannot leak in. dynamodb.NewFromConfig, dynamodbstreams.
// NewFromConfig and sqs.NewFromConfig on it talk to the emulators.
func AWSConfig(_ context.Context, e Endpoints) aws.Config {
	return aws.Config{
		Region:        Region,
		Credentials:   aws.NewCredentialsCache(credentials.NewStaticCredentialsProvider(AccessKeyID, SecretAccessKey, "")),
		ConfigSources: []any{endpointSource(e)},
		// Local emulators fail fast; a few quick retries ride over a busy JVM.
		RetryMaxAttempts: 5,
	}
}
