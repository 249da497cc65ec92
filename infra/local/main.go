// Command local is `make run`: the whole Razorbill topology on this machine
// with no AWS and no internet — DynamoDB Local, the SQS emulator, the
// Razorpay simulator and every function — and a development tenant. When
// ready it prints (and writes to .razorbill/local.env) the values a client
// needs, then "Ready.". Ctrl-C stops everything it started.
package main

import (
	"context"
	"errors"
	"fmt"
	"os"
	"os/signal"
	"path/filepath"
	"strconv"
	"syscall"
	"time"

	"github.com/razorbill/razorbill/internal/localaws"
	"github.com/razorbill/razorbill/internal/localstack"
	"github.com/razorbill/razorbill/internal/razorpaysim"
)

func main() {
	if err := run(); err != nil {
		fmt.Fprintln(os.Stderr, "razorbill:", err)
		os.Exit(1)
	}
}

func port(name string, def int) (int, error) {
	v := os.Getenv(name)
	if v == "" {
		return def, nil
	}
	p, err := strconv.Atoi(v)
	if err != nil || p < 0 || p > 65535 {
		return 0, fmt.Errorf("%s=%q is not a port number", name, v)
	}
	return p, nil
}

func run() error {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	// `make run` execs this binary: if make alone is killed, this process
	// gets SIGTERM and shuts the stack and its emulators down.
	if !localaws.StopWithParent() {
		return errors.New("the process that started the local stack has already exited")
	}
	root, err := localaws.RepoRoot()
	if err != nil {
		return err
	}
	state := filepath.Join(root, ".razorbill")
	unlock, err := lockRun(filepath.Join(state, "run.lock"))
	if err != nil {
		return err
	}
	defer unlock()

	apiPort, err := port("RAZORBILL_PORT", 8080)
	if err != nil {
		return err
	}
	hookPort, err := port("RAZORBILL_WEBHOOK_PORT", 8081)
	if err != nil {
		return err
	}
	simPort, err := port("RAZORPAY_SIM_PORT", 8082)
	if err != nil {
		return err
	}
	ddbPort, err := port("RAZORBILL_DYNAMODB_PORT", 0)
	if err != nil {
		return err
	}
	sqsPort, err := port("RAZORBILL_SQS_PORT", 0)
	if err != nil {
		return err
	}
	apiPort, hookPort, simPort = freeIfTaken(apiPort), freeIfTaken(hookPort), freeIfTaken(simPort)

	fmt.Println("Starting DynamoDB Local and the SQS emulator…")
	if err := localaws.Install(ctx, ""); err != nil {
		return err
	}
	ddb, ddbURL, err := localaws.StartDynamoDB(ctx, "", ddbPort)
	if err != nil {
		return err
	}
	defer ddb.Stop()
	sq, sqsURL, err := localaws.StartSQS(ctx, "", sqsPort)
	if err != nil {
		return err
	}
	defer sq.Stop()
	endpoints := localaws.Endpoints{DynamoDB: ddbURL, SQS: sqsURL}
	cfg := localaws.AWSConfig(ctx, endpoints)
	res, err := localaws.Provision(ctx, dynamodbClient(cfg), sqsClient(cfg), "")
	if err != nil {
		return fmt.Errorf("create tables and queues: %w", err)
	}
	st, err := localstack.Start(ctx, localstack.Options{
		Endpoints: endpoints, Resources: res, APIPort: apiPort, WebhookPort: hookPort, SimPort: simPort,
		KeyFile: filepath.Join(state, "local.key"), LogOutput: logFile(state), LogLevel: os.Getenv("RAZORBILL_LOG_LEVEL"),
		// Razorpay disables a webhook that keeps failing for 24 h: one
		// event's whole default retry schedule (first try + 9 retries).
		SimOptions: razorpaysim.Options{WebhookDisableAfter: 10, WebhookDisableWindow: 25 * time.Hour},
	})
	if err != nil {
		return err
	}
	defer st.Close()
	dev, err := st.Bootstrap(ctx)
	if err != nil {
		return fmt.Errorf("create the development tenant: %w", err)
	}
	lines := []string{
		"RAZORBILL_API_URL=" + st.APIURL,
		"RAZORBILL_ADMIN_TOKEN=" + st.AdminToken,
		"RAZORBILL_API_KEY=" + dev.APIKey,
		"RAZORBILL_ENVIRONMENT_ID=" + dev.EnvironmentID,
		"RAZORBILL_WEBHOOK_BASE_URL=" + st.WebhookBaseURL,
		"RAZORPAY_BASE_URL=" + st.RazorpayURL,
		"RAZORPAY_KEY_ID=" + dev.KeyID,
		"RAZORPAY_KEY_SECRET=" + dev.KeySecret,
		// Not in the contract's list: the development connection's webhook
		// secret, for scripts that sign webhooks as Razorpay would.
		"RAZORPAY_WEBHOOK_SECRET=" + dev.WebhookSecret,
	}
	envFile := filepath.Join(state, "local.env")
	var body string
	for _, l := range lines {
		body += l + "\n"
		fmt.Println(l)
	}
	if err := os.WriteFile(envFile, []byte(body), 0o600); err != nil {
		return err
	}
	fmt.Printf("# development tenant %s; these lines are also in %s\n", dev.TenantID, envFile)
	fmt.Printf("# Razorpay simulator dashboard and checkout pages: %s/  ·  logs: %s\n", st.RazorpayURL, filepath.Join(state, "local.log"))
	fmt.Println("Ready.")
	<-ctx.Done()
	fmt.Println("Stopping…")
	_ = os.Remove(envFile)
	return nil
}

// lockRun makes a second `make run` fail with a clear message.
func lockRun(path string) (func(), error) {
	if err := os.MkdirAll(filepath.Dir(path), 0o700); err != nil {
		return nil, err
	}
	f, err := os.OpenFile(path, os.O_CREATE|os.O_RDWR, 0o600)
	if err != nil {
		return nil, err
	}
	if err := syscall.Flock(int(f.Fd()), syscall.LOCK_EX|syscall.LOCK_NB); err != nil {
		pid, _ := os.ReadFile(path)
		f.Close()
		return nil, errors.New("the local stack is already running (pid " + string(pid) + "); stop it with Ctrl-C first")
	}
	_ = f.Truncate(0)
	_, _ = f.WriteAt([]byte(strconv.Itoa(os.Getpid())), 0)
	return func() { _ = syscall.Flock(int(f.Fd()), syscall.LOCK_UN); f.Close() }, nil
}
