// Package testenv gives integration tests the real DynamoDB Local and SQS
// emulator, with a fresh set of Razorbill's tables and queues per test.
//
// In a package with integration tests:
//
//	func TestMain(m *testing.M) { testenv.Main(m) }
//
//	func TestSomething(t *testing.T) {
//		env := testenv.AWS(t)
//		store := dynamo.New(env.DDB, env.Table())
//		…
//	}
//
// When RAZORBILL_TEST_DYNAMODB_ENDPOINT and RAZORBILL_TEST_SQS_ENDPOINT are
// set (make test starts the emulators once and exports them) those are used;
// otherwise the emulators are installed and started once per test binary
// and Main stops them. Missing Java or Node fails the test; it never skips.
package testenv

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"os"
	"regexp"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/dynamodbstreams"
	"github.com/aws/aws-sdk-go-v2/service/sqs"

	"github.com/razorbill/razorbill/internal/ddbjson"
	"github.com/razorbill/razorbill/internal/localaws"
	"github.com/razorbill/razorbill/internal/queue"
	"github.com/razorbill/razorbill/internal/schema"
	"github.com/razorbill/razorbill/internal/sqsjson"
)

// The variables that point the tests at already running emulators.
const (
	DynamoDBEndpointVar = "RAZORBILL_TEST_DYNAMODB_ENDPOINT"
	SQSEndpointVar      = "RAZORBILL_TEST_SQS_ENDPOINT"
)

// Env is one test's view of the local AWS: clients and a freshly provisioned,
// uniquely prefixed set of tables and queues, deleted when the test ends.
type Env struct {
	Prefix    string
	Endpoints localaws.Endpoints
	Config    aws.Config
	DynamoDB  *dynamodb.Client // the SDK's client: provisioning, and tests that look at the table directly
	DDB       *ddbjson.Client  // the functions' client: what stores are built on
	Streams   *dynamodbstreams.Client
	SQS       *sqs.Client
	Resources localaws.Resources
}

// Table is the name of the main table (schema.Main).
func (e *Env) Table() string { return e.Resources.Table(schema.Main).Name }

// StreamARN is the main table's stream ARN.
func (e *Env) StreamARN() string { return e.Resources.Table(schema.Main).StreamARN }

// QueueURL is the URL of q.
func (e *Env) QueueURL(q schema.Queue) string { return e.Resources.Queue(q).URL }

// DLQURL is the URL of q's dead-letter queue.
func (e *Env) DLQURL(q schema.Queue) string { return e.Resources.Queue(q).DLQURL }

// Getenv looks name up in the environment a function would get (table and
// queue names, endpoints, local credentials), falling back to os.Getenv. Pass
// it to config.Load instead of os.Getenv; unlike Setenv it allows t.Parallel.
func (e *Env) Getenv(name string) string {
	if v, ok := e.Resources.Env()[name]; ok {
		return v
	}
	if v, ok := e.Endpoints.Env()[name]; ok {
		return v
	}
	return os.Getenv(name)
}

// Setenv sets that environment for the rest of the test (t.Setenv, so the
// test cannot be parallel).
func (e *Env) Setenv(t testing.TB) {
	t.Helper()
	for k, v := range e.Endpoints.Env() {
		t.Setenv(k, v)
	}
	for k, v := range e.Resources.Env() {
		t.Setenv(k, v)
	}
}

var (
	mainActive atomic.Bool
	once       sync.Once
	endpoints  localaws.Endpoints
	startErr   error
	procs      []*localaws.Process
)

// Main runs the package's tests and then stops the emulators this binary
// started. Use it as the package's TestMain:
//
//	func TestMain(m *testing.M) { testenv.Main(m) }
func Main(m *testing.M) {
	mainActive.Store(true)
	code := m.Run()
	stopEmulators()
	os.Exit(code)
}

func stopEmulators() {
	for _, p := range procs {
		_ = p.Stop()
	}
}

// Endpoints returns the emulators' endpoints, starting them on first use.
// It fails t (never skips) when they cannot be started.
func Endpoints(t testing.TB) localaws.Endpoints {
	t.Helper()
	once.Do(func() {
		endpoints, startErr = resolveEndpoints()
	})
	if startErr != nil {
		t.Fatalf("testenv: the local AWS emulators are not available: %v\n"+
			"Integration tests run against the real DynamoDB Local (Java 17) and the SQS emulator (Node.js); "+
			"install them, or start the emulators and set %s and %s.", startErr, DynamoDBEndpointVar, SQSEndpointVar)
	}
	return endpoints
}

func resolveEndpoints() (localaws.Endpoints, error) {
	ddb, sq := os.Getenv(DynamoDBEndpointVar), os.Getenv(SQSEndpointVar)
	if ddb != "" || sq != "" {
		if ddb == "" || sq == "" {
			return localaws.Endpoints{}, fmt.Errorf("set both %s and %s, or neither", DynamoDBEndpointVar, SQSEndpointVar)
		}
		return localaws.Endpoints{DynamoDB: ddb, SQS: sq}, nil
	}
	if !mainActive.Load() {
		return localaws.Endpoints{}, errors.New("this package starts its own emulators and must stop them: add\n\tfunc TestMain(m *testing.M) { testenv.Main(m) }\nto one of its _test.go files")
	}
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Minute)
	defer cancel()
	if err := localaws.Install(ctx, ""); err != nil {
		return localaws.Endpoints{}, err
	}
	// The processes live until Main stops them, not until ctx ends.
	life := context.Background()
	d, ddbURL, err := localaws.StartDynamoDB(life, "", 0)
	if err != nil {
		return localaws.Endpoints{}, err
	}
	procs = append(procs, d)
	s, sqsURL, err := localaws.StartSQS(life, "", 0)
	if err != nil {
		stopEmulators()
		return localaws.Endpoints{}, err
	}
	procs = append(procs, s)
	return localaws.Endpoints{DynamoDB: ddbURL, SQS: sqsURL}, nil
}

var unsafeName = regexp.MustCompile(`[^A-Za-z0-9]+`)

// Prefix is a fresh resource prefix for t: part of its name and a random
// suffix, short enough for SQS's 80-character queue names.
func Prefix(t testing.TB) string {
	name := unsafeName.ReplaceAllString(strings.TrimPrefix(t.Name(), "Test"), "")
	if len(name) > 16 {
		name = name[:16]
	}
	var b [4]byte
	_, _ = rand.Read(b[:])
	return "t" + name + "-" + hex.EncodeToString(b[:]) + "-"
}

// AWS returns clients for the emulators and a freshly provisioned set of
// Razorbill's tables and queues under a prefix unique to t, deleted when t
// ends. Tests using it may run in parallel.
func AWS(t testing.TB) *Env {
	t.Helper()
	ep := Endpoints(t)
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	cfg := localaws.AWSConfig(ctx, ep)
	e := &Env{
		Prefix:    Prefix(t),
		Endpoints: ep,
		Config:    cfg,
		DynamoDB:  dynamodb.NewFromConfig(cfg),
		Streams:   dynamodbstreams.NewFromConfig(cfg),
		SQS:       sqs.NewFromConfig(cfg),
	}
	ddb, err := ddbjson.New(cfg)
	if err != nil {
		t.Fatalf("testenv: DynamoDB client: %v", err)
	}
	e.DDB = ddb
	res, err := localaws.Provision(ctx, e.DynamoDB, e.SQS, e.Prefix)
	t.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
		defer cancel()
		if err := localaws.Teardown(ctx, e.DynamoDB, e.SQS, res); err != nil {
			t.Logf("testenv: cleanup: %v", err)
		}
	})
	if err != nil {
		t.Fatalf("testenv: provision tables and queues under prefix %q: %v", e.Prefix, err)
	}
	e.Resources = res
	return e
}

// Sender is a sender to queue q, as the functions send (internal/sqsjson).
func (e *Env) Sender(q schema.Queue) *sqsjson.Sender {
	s, err := sqsjson.New(e.Config, e.QueueURL(q))
	if err != nil {
		panic(fmt.Sprintf("testenv: sender for %s: %v", q.LogicalName, err))
	}
	return s
}

// SyncPublisher publishes to the customer-sync and invoice-sync queues.
func (e *Env) SyncPublisher() queue.SyncPublisher {
	return queue.SyncPublisher{Customers: e.Sender(schema.CustomerSync), Invoices: e.Sender(schema.InvoiceSync)}
}
