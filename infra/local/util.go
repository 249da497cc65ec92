package main

import (
	"fmt"
	"io"
	"net"
	"os"
	"path/filepath"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/sqs"
)

func dynamodbClient(cfg aws.Config) *dynamodb.Client { return dynamodb.NewFromConfig(cfg) }
func sqsClient(cfg aws.Config) *sqs.Client           { return sqs.NewFromConfig(cfg) }

// freeIfTaken keeps a port that is free, or says so and picks a free one.
func freeIfTaken(p int) int {
	if p == 0 {
		return 0
	}
	l, err := net.Listen("tcp", fmt.Sprintf("127.0.0.1:%d", p))
	if err == nil {
		l.Close()
		return p
	}
	fmt.Printf("# port %d is taken; using a free one\n", p)
	return 0
}

func logFile(state string) io.Writer {
	f, err := os.OpenFile(filepath.Join(state, "local.log"), os.O_CREATE|os.O_WRONLY|os.O_TRUNC, 0o600)
	if err != nil {
		return os.Stderr
	}
	return f
}
