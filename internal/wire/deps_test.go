package wire_test

import (
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
)

// TestEachFunctionLinksOnlyItsAdapters: every Lambda binary is built from
// its own composition root, so `go list -deps` of a function shows only the
// adapters its job uses. Each row names packages the function must not link.
func TestEachFunctionLinksOnlyItsAdapters(t *testing.T) {
	t.Parallel()
	const (
		sdk      = "github.com/aws/aws-sdk-go-v2/"
		mod      = "github.com/razorbill/razorbill/"
		rzpSDK   = "github.com/razorpay/razorpay-go"
		dynamodb = sdk + "service/dynamodb"
		kms      = sdk + "service/kms"
		sqs      = sdk + "service/sqs"
		ssm      = sdk + "service/ssm"
	)
	// The default credential chain (config.LoadDefaultConfig) links the
	// shared-config reader, SSO, SSO-OIDC, STS and IMDS; no function uses them.
	chain := []string{sdk + "config", sdk + "service/sso", sdk + "service/ssooidc", sdk + "service/sts", sdk + "feature/ec2/imds"}
	// SQS, KMS, SSM and DynamoDB are called through internal/awsjson (DynamoDB
	// through internal/ddbjson): their SDK clients' package init (endpoint
	// tables) is not in any function's start (issue 17).
	clients := []string{kms, sqs, ssm, dynamodb}
	// the full builder, the local stack and test helpers
	local := []string{mod + "internal/app", mod + "internal/razorpaysim", mod + "internal/localstack", mod + "internal/lambdahost", mod + "internal/localaws", mod + "internal/testenv"}
	razorpay := []string{rzpSDK, mod + "internal/razorpay"}
	cases := map[string][]string{
		"webhook-receiver":     cat(razorpay, []string{mod + "internal/httpapi", mod + "internal/rzsync", mod + "internal/queue"}),
		"stream-relay":         cat(razorpay, []string{mod + "internal/ddbjson", mod + "internal/secrets", mod + "internal/dynamo"}),
		"payment-reconciler":   {mod + "internal/httpapi", mod + "internal/payments"},
		"customer-syncer":      {mod + "internal/httpapi", mod + "internal/payments", mod + "internal/reconcile"},
		"invoice-syncer":       {mod + "internal/httpapi", mod + "internal/payments", mod + "internal/reconcile"},
		"payment-link-creator": nil,
		"gateway-sweeper":      {mod + "internal/httpapi", mod + "internal/console"},
		"api":                  nil,
		"usage-ingest":         nil,
		"usage-aggregator":     nil,
		"period-close":         nil,
	}
	// every function has a row, so none links the chain or the local stack
	fnDirs, err := filepath.Glob("../../functions/*")
	if err != nil || len(fnDirs) == 0 {
		t.Fatalf("no functions: %v", err)
	}
	for _, d := range fnDirs {
		if _, ok := cases[filepath.Base(d)]; !ok {
			t.Errorf("functions/%s has no row here", filepath.Base(d))
		}
	}
	for fn, banned := range cases {
		out, err := exec.Command("go", "list", "-deps", "../../functions/"+fn).Output()
		if err != nil {
			t.Fatalf("go list %s: %v", fn, err)
		}
		linked := map[string]bool{}
		for _, p := range strings.Fields(string(out)) {
			linked[p] = true
		}
		if !linked[mod+"functions/"+fn] {
			t.Fatalf("go list printed no %s", fn)
		}
		for _, b := range cat(chain, clients, local, banned) {
			if linked[b] {
				t.Errorf("%s links %s", fn, strings.TrimPrefix(b, mod))
			}
		}
	}
}

func cat(lists ...[]string) []string {
	var out []string
	for _, l := range lists {
		out = append(out, l...)
	}
	return out
}
