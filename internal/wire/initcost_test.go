package wire_test

import (
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
)

// TestNoFunctionLinksSchemaSerde: the pinned dynamodb (v1.68.0) and sqs
// (v1.48.1) clients predate the SDK's schema-based serialization, whose
// service/<name>/schemas packages build their schemas in package init
// (dynamodb's 2.2-2.9 ms, sqs's 0.6-0.7 ms of every start: issue 17). An
// upgrade that brings them back fails here.
func TestNoFunctionLinksSchemaSerde(t *testing.T) {
	t.Parallel()
	dirs, err := filepath.Glob("../../functions/*")
	if err != nil || len(dirs) == 0 {
		t.Fatalf("no functions: %v", err)
	}
	args := []string{"list", "-tags", "lambda.norpc", "-deps"}
	for _, d := range dirs {
		args = append(args, "./"+filepath.ToSlash(d))
	}
	out, err := exec.Command("go", args...).Output()
	if err != nil {
		t.Fatalf("go list: %v", err)
	}
	for _, p := range strings.Fields(string(out)) {
		if strings.HasPrefix(p, "github.com/aws/aws-sdk-go-v2/service/") && strings.HasSuffix(p, "/schemas") {
			t.Errorf("a function links %s (schema-based serialization, built in package init)", p)
		}
	}
}

// TestPackageInitAllocatesLittle starts the customer-syncer (it links the
// most of these packages among the small functions) with
// GODEBUG=inittrace=1 and no configuration: every package init runs, then
// its root fails on the missing variables. shopspring/decimal (v1.4.0
// parsed an 8,000-digit ln 10: 45.7 KB) and rzsync (its accent-folding map:
// 14 KB) allocate little at init; the bounds leave room for small changes,
// not for those tables.
func TestPackageInitAllocatesLittle(t *testing.T) {
	t.Parallel()
	bin := filepath.Join(t.TempDir(), "customer-syncer")
	build := exec.Command("go", "build", "-tags", "lambda.norpc", "-o", bin, "../../functions/customer-syncer")
	build.Env = append(os.Environ(), "CGO_ENABLED=0")
	if b, err := build.CombinedOutput(); err != nil {
		t.Fatalf("go build: %v\n%s", err, b)
	}
	run := exec.Command(bin)
	run.Env = []string{"GODEBUG=inittrace=1"}
	out, _ := run.CombinedOutput() // exits 1: no configuration
	limits := map[string]int{
		"github.com/shopspring/decimal":                  24 << 10,
		"github.com/razorbill/razorbill/internal/rzsync": 2 << 10,
	}
	seen := map[string]bool{}
	for _, line := range strings.Split(string(out), "\n") {
		var pkg string
		var at, clock float64
		var bytes int
		if n, _ := fmt.Sscanf(line, "init %s @%f ms, %f ms clock, %d bytes", &pkg, &at, &clock, &bytes); n != 4 {
			continue
		}
		if limit, ok := limits[pkg]; ok {
			seen[pkg] = true
			if bytes > limit {
				t.Errorf("%s allocates %d bytes at init, want at most %d", pkg, bytes, limit)
			}
		}
	}
	for pkg := range limits {
		if !seen[pkg] {
			t.Errorf("no init trace of %s in:\n%s", pkg, out)
		}
	}
}

// TestNoFunctionLinksTextTemplate: text/template (html/template's engine)
// looks methods up by name at run time, so the linker keeps every exported
// method of every type in a binary that links it — the api was 16.2 MB
// (arm64) with the console's templates and 10.5 MB without, about 2 ms of
// its start (issue 17). The console's pages are Go code (console/views.go).
func TestNoFunctionLinksTextTemplate(t *testing.T) {
	t.Parallel()
	dirs, err := filepath.Glob("../../functions/*")
	if err != nil || len(dirs) == 0 {
		t.Fatalf("no functions: %v", err)
	}
	for _, d := range dirs {
		out, err := exec.Command("go", "list", "-tags", "lambda.norpc", "-deps", "./"+filepath.ToSlash(d)).Output()
		if err != nil {
			t.Fatalf("go list %s: %v", d, err)
		}
		for _, p := range strings.Fields(string(out)) {
			if p == "text/template" || p == "html/template" {
				t.Errorf("%s links %s", filepath.Base(d), p)
			}
		}
	}
}
