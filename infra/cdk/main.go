package main

import (
	"bufio"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"time"

	"github.com/aws/aws-cdk-go/awscdk/v2"
	"github.com/aws/jsii-runtime-go"
)

// Context keys (`-c key=value` with the cdk CLI, or CDK_CONTEXT_JSON) and the
// environment variables that override them.
const (
	ctxStackName           = "razorbill:stackName"           // default Razorbill
	ctxAssetRoot           = "razorbill:assetRoot"           // env RAZORBILL_ASSET_ROOT; default <repo>/build
	ctxAdminTokenParam     = "razorbill:adminTokenParam"     // default /razorbill/admin-token
	ctxRazorpayBaseURL     = "razorbill:razorpayBaseUrl"     // default https://api.razorpay.com
	ctxRazorpayConcurrency = "razorbill:razorpayConcurrency" // default 5
	ctxReserveConcurrency  = "razorbill:reserveConcurrency"  // default true
	ctxAlarmEmail          = "razorbill:alarmEmail"          // default none
	ctxUsageLateness       = "razorbill:usageLateness"       // a Go duration; default the functions' 35 days
	ctxUsageRetention      = "razorbill:usageRetention"      // a Go duration; default the functions' 400 days
	envAssetRoot           = "RAZORBILL_ASSET_ROOT"
	defaultStackName       = "Razorbill"
)

func main() {
	// jsii starts node while the CDK packages initialize, before main: the
	// Node 20 end-of-life banner can only be silenced from the calling
	// environment, with JSII_SILENCE_WARNING_END_OF_LIFE_NODE_VERSION=20
	// (a list of major versions; "1" silences nothing).
	defer jsii.Close()
	outdir := os.Getenv("CDK_OUTDIR")
	if outdir == "" {
		outdir = "cdk.out"
	}
	app := NewApp(outdir)
	cfg, err := ConfigFromContext(app)
	if err == nil {
		err = checkAssets(cfg.AssetRoot)
	}
	if err != nil {
		fmt.Fprintln(os.Stderr, "razorbill cdk:", err)
		jsii.Close()
		os.Exit(1)
	}
	NewRazorbillStack(app, contextString(app, ctxStackName, defaultStackName), cfg, nil)
	app.Synth(nil)
	fmt.Fprintf(os.Stderr, "wrote %s/%s.template.json\n", outdir, contextString(app, ctxStackName, defaultStackName))
}

// NewApp is the CDK app with the context Razorbill relies on: asset and path
// metadata (sam local invoke finds each function's code through them) and
// minimized IAM policies. CLI context (CDK_CONTEXT_JSON) still overrides.
func NewApp(outdir string) awscdk.App {
	return awscdk.NewApp(&awscdk.AppProps{
		Outdir: jsii.String(outdir),
		Context: &map[string]interface{}{
			"aws:cdk:enable-asset-metadata":     true,
			"aws:cdk:enable-path-metadata":      true,
			"@aws-cdk/aws-iam:minimizePolicies": true,
		},
	})
}

// ConfigFromContext reads Config from the app's context and the environment.
func ConfigFromContext(app awscdk.App) (Config, error) {
	cfg := DefaultConfig()
	cfg.AssetRoot = os.Getenv(envAssetRoot)
	if cfg.AssetRoot == "" {
		cfg.AssetRoot = contextString(app, ctxAssetRoot, "")
	}
	if cfg.AssetRoot == "" {
		root, err := repoRoot()
		if err != nil {
			return cfg, err
		}
		cfg.AssetRoot = filepath.Join(root, "build")
	}
	abs, err := filepath.Abs(cfg.AssetRoot)
	if err != nil {
		return cfg, err
	}
	cfg.AssetRoot = abs
	cfg.AdminTokenParam = contextString(app, ctxAdminTokenParam, cfg.AdminTokenParam)
	cfg.RazorpayBaseURL = contextString(app, ctxRazorpayBaseURL, cfg.RazorpayBaseURL)
	cfg.AlarmEmail = contextString(app, ctxAlarmEmail, "")
	if v := contextString(app, ctxRazorpayConcurrency, ""); v != "" {
		n, err := strconv.Atoi(v)
		if err != nil {
			return cfg, fmt.Errorf("%s=%q: want an integer ≥ 2", ctxRazorpayConcurrency, v)
		}
		cfg.RazorpayConcurrency = n
	}
	if v := contextString(app, ctxReserveConcurrency, ""); v != "" {
		b, err := strconv.ParseBool(v)
		if err != nil {
			return cfg, fmt.Errorf("%s=%q: want true or false", ctxReserveConcurrency, v)
		}
		cfg.ReserveConcurrency = b
	}
	for key, d := range map[string]*time.Duration{ctxUsageLateness: &cfg.UsageLateness, ctxUsageRetention: &cfg.UsageRetention} {
		if v := contextString(app, key, ""); v != "" {
			x, err := time.ParseDuration(v)
			if err != nil {
				return cfg, fmt.Errorf("%s=%q: want a Go duration such as 840h", key, v)
			}
			*d = x
		}
	}
	return cfg, cfg.validate()
}

// contextString reads a context value given as a string, number or bool.
func contextString(app awscdk.App, key, def string) string {
	v := app.Node().TryGetContext(jsii.String(key))
	switch v := v.(type) {
	case nil:
		return def
	case string:
		if v == "" {
			return def
		}
		return v
	case *string:
		if v == nil || *v == "" {
			return def
		}
		return *v
	case float64:
		return strconv.FormatFloat(v, 'f', -1, 64)
	case bool:
		return strconv.FormatBool(v)
	default:
		return fmt.Sprint(v)
	}
}

// repoRoot walks up from the working directory to the root module's go.mod.
func repoRoot() (string, error) {
	dir, err := os.Getwd()
	if err != nil {
		return "", err
	}
	for {
		if f, err := os.Open(filepath.Join(dir, "go.mod")); err == nil {
			s := bufio.NewScanner(f)
			for s.Scan() {
				if strings.TrimSpace(s.Text()) == "module github.com/razorbill/razorbill" {
					f.Close()
					return dir, nil
				}
			}
			f.Close()
		}
		parent := filepath.Dir(dir)
		if parent == dir {
			return "", errors.New("cannot find the repository root (go.mod of github.com/razorbill/razorbill); set " + envAssetRoot)
		}
		dir = parent
	}
}

// checkAssets fails early, with the fix, when `make build` has not run.
func checkAssets(root string) error {
	var missing []string
	for _, s := range functionSpecs {
		if _, err := os.Stat(filepath.Join(root, s.Name, "bootstrap")); err != nil {
			missing = append(missing, filepath.Join(root, s.Name, "bootstrap"))
		}
	}
	if len(missing) > 0 {
		return fmt.Errorf("missing function binaries (run `make build`, or set %s to a directory with <function>/bootstrap):\n  %s", envAssetRoot, strings.Join(missing, "\n  "))
	}
	return nil
}
