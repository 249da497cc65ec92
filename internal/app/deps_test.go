package app_test

import (
	"os/exec"
	"strings"
	"testing"
)

// No Lambda binary links the simulator, the local stack or test helpers, and
// the domain imports no adapter.
func TestLayering(t *testing.T) {
	t.Parallel()
	deps := func(pkgs ...string) []string {
		out, err := exec.Command("go", append([]string{"list", "-deps"}, pkgs...)...).Output()
		if err != nil {
			t.Fatalf("go list: %v", err)
		}
		return strings.Fields(string(out))
	}
	const mod = "github.com/razorbill/razorbill/"
	for _, d := range deps("../../functions/...") {
		for _, banned := range []string{"internal/razorpaysim", "internal/localstack", "internal/lambdahost", "internal/localaws", "internal/testenv"} {
			if d == mod+banned {
				t.Errorf("a Lambda binary links %s", banned)
			}
		}
	}
	for _, d := range deps("../billing", "../money") {
		if strings.HasPrefix(d, "github.com/aws/") || d == mod+"internal/dynamo" || d == mod+"internal/httpapi" || d == mod+"internal/razorpay" {
			t.Errorf("the domain imports %s", d)
		}
	}
	for _, d := range deps("../money") {
		if strings.HasPrefix(d, mod) && d != mod+"internal/money" {
			t.Errorf("money imports %s", d)
		}
	}
}
