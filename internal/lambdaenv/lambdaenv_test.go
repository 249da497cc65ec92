package lambdaenv_test

import (
	"context"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/sqs"

	"github.com/razorbill/razorbill/internal/lambdaenv"
)

func env(m map[string]string) func(string) string { return func(k string) string { return m[k] } }

// TestAWSConfigSignsWithTheLambdaCredentials: a client built from the
// config signs its request with the key pair, session token and region
// Lambda puts in the environment.
func TestAWSConfigSignsWithTheLambdaCredentials(t *testing.T) {
	t.Parallel()
	cfg, err := lambdaenv.AWSConfig(env(map[string]string{"AWS_REGION": "ap-south-1",
		"AWS_ACCESS_KEY_ID": "ASIAEXAMPLE", "AWS_SECRET_ACCESS_KEY": "secret", "AWS_SESSION_TOKEN": "token-1"}))
	if err != nil {
		t.Fatal(err)
	}
	got := make(chan http.Header, 1)
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		got <- r.Header.Clone()
		w.Header().Set("Content-Type", "application/x-amz-json-1.0")
		_, _ = w.Write([]byte(`{"QueueUrls":[]}`))
	}))
	defer srv.Close()
	cfg.BaseEndpoint = aws.String(srv.URL)
	if _, err := sqs.NewFromConfig(cfg).ListQueues(context.Background(), &sqs.ListQueuesInput{}); err != nil {
		t.Fatal(err)
	}
	h := <-got
	if a := h.Get("Authorization"); !strings.Contains(a, "Credential=ASIAEXAMPLE/") || !strings.Contains(a, "/ap-south-1/sqs/aws4_request") {
		t.Errorf("Authorization %q: not signed with the key and region from the environment", a)
	}
	if tok := h.Get("X-Amz-Security-Token"); tok != "token-1" {
		t.Errorf("X-Amz-Security-Token %q, want the session token", tok)
	}
}

func TestAWSConfigNamesWhatIsMissing(t *testing.T) {
	t.Parallel()
	_, err := lambdaenv.AWSConfig(env(map[string]string{"AWS_ACCESS_KEY_ID": "A"}))
	if err == nil || !strings.Contains(err.Error(), "AWS_REGION") || !strings.Contains(err.Error(), "AWS_SECRET_ACCESS_KEY") {
		t.Fatalf("got %v, want an error naming AWS_REGION and AWS_SECRET_ACCESS_KEY", err)
	}
	cfg, err := lambdaenv.AWSConfig(env(map[string]string{"AWS_DEFAULT_REGION": "eu-west-1", "AWS_ACCESS_KEY_ID": "A", "AWS_SECRET_ACCESS_KEY": "B"}))
	if err != nil || cfg.Region != "eu-west-1" {
		t.Fatalf("got %q, %v: AWS_DEFAULT_REGION is the fallback", cfg.Region, err)
	}
}
