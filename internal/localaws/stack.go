package localaws

import (
	"context"
	"errors"
	"sync"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/dynamodbstreams"
	"github.com/aws/aws-sdk-go-v2/service/sqs"
)

// UpOptions configure Up. Zero values: DefaultDir, free ports, no prefix.
type UpOptions struct {
	Dir          string
	DynamoDBPort int
	SQSPort      int
	Prefix       string
}

// Stack is the local AWS of `make run`: both emulators running, clients for
// them, and the schema's tables and queues provisioned.
type Stack struct {
	Endpoints Endpoints
	Config    aws.Config
	DynamoDB  *dynamodb.Client
	Streams   *dynamodbstreams.Client
	SQS       *sqs.Client
	Resources Resources

	procs []*Process
}

// Up installs what is missing, starts DynamoDB Local and the SQS emulator,
// and provisions every table and queue. The emulators stop when ctx is
// cancelled or Stop is called. Errors say what to do (install Java 17, free
// a port, …).
func Up(ctx context.Context, o UpOptions) (*Stack, error) {
	if err := Install(ctx, o.Dir); err != nil {
		return nil, err
	}
	s := &Stack{}
	ddb, ddbURL, err := StartDynamoDB(ctx, o.Dir, o.DynamoDBPort)
	if err != nil {
		return nil, err
	}
	s.procs = append(s.procs, ddb)
	sq, sqsURL, err := StartSQS(ctx, o.Dir, o.SQSPort)
	if err != nil {
		s.Stop()
		return nil, err
	}
	s.procs = append(s.procs, sq)
	s.Endpoints = Endpoints{DynamoDB: ddbURL, SQS: sqsURL}
	s.Config = AWSConfig(ctx, s.Endpoints)
	s.DynamoDB = dynamodb.NewFromConfig(s.Config)
	s.Streams = dynamodbstreams.NewFromConfig(s.Config)
	s.SQS = sqs.NewFromConfig(s.Config)
	if s.Resources, err = Provision(ctx, s.DynamoDB, s.SQS, o.Prefix); err != nil {
		s.Stop()
		return nil, err
	}
	return s, nil
}

// Env is every variable a function of the local stack reads to reach its
// table and queues: Resources.Env plus Endpoints.Env.
func (s *Stack) Env() map[string]string {
	env := s.Resources.Env()
	for k, v := range s.Endpoints.Env() {
		env[k] = v
	}
	return env
}

// Processes are the emulators (DynamoDB Local, then the SQS emulator).
func (s *Stack) Processes() []*Process { return append([]*Process(nil), s.procs...) }

// Done is closed when either emulator exits.
func (s *Stack) Done() <-chan struct{} {
	ch := make(chan struct{})
	var once sync.Once
	for _, p := range s.procs {
		go func(p *Process) {
			<-p.Done()
			once.Do(func() { close(ch) })
		}(p)
	}
	return ch
}

// Err says why an emulator exited on its own (nil if none did).
func (s *Stack) Err() error {
	var errs []error
	for _, p := range s.procs {
		errs = append(errs, p.Err())
	}
	return errors.Join(errs...)
}

// Stop stops both emulators and waits until they are gone.
func (s *Stack) Stop() {
	for _, p := range s.procs {
		_ = p.Stop()
	}
}
