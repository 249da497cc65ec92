// Command emulators installs and starts DynamoDB Local and the SQS emulator,
// then either runs a command with RAZORBILL_TEST_DYNAMODB_ENDPOINT and
// RAZORBILL_TEST_SQS_ENDPOINT set (and stops the emulators when it ends,
// exiting with its status), or, with no command, prints those lines and runs
// until interrupted.
//
//	go run ./internal/localaws/cmd/emulators -- go test -race ./...
package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"os"
	"os/exec"
	"os/signal"
	"syscall"

	"github.com/razorbill/razorbill/internal/localaws"
)

func main() {
	os.Exit(run())
}

func run() int {
	dir := flag.String("dir", "", "where the npm packages live (default <repo>/.razorbill/node)")
	ddbPort := flag.Int("dynamodb-port", 0, "DynamoDB Local port (0: a free one)")
	sqsPort := flag.Int("sqs-port", 0, "SQS emulator port (0: a free one)")
	flag.Usage = func() {
		fmt.Fprintf(flag.CommandLine.Output(), "usage: emulators [flags] [-- command args...]\n")
		flag.PrintDefaults()
	}
	flag.Parse()

	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	if err := localaws.Install(ctx, *dir); err != nil {
		fmt.Fprintln(os.Stderr, err)
		return 1
	}
	ddb, ddbURL, err := localaws.StartDynamoDB(ctx, *dir, *ddbPort)
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		return 1
	}
	defer ddb.Stop()
	sq, sqsURL, err := localaws.StartSQS(ctx, *dir, *sqsPort)
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		return 1
	}
	defer sq.Stop()

	env := []string{"RAZORBILL_TEST_DYNAMODB_ENDPOINT=" + ddbURL, "RAZORBILL_TEST_SQS_ENDPOINT=" + sqsURL}
	if flag.NArg() == 0 {
		for _, e := range env {
			fmt.Println(e)
		}
		select {
		case <-ctx.Done():
		case <-ddb.Done():
			fmt.Fprintln(os.Stderr, ddb.Err())
			return 1
		case <-sq.Done():
			fmt.Fprintln(os.Stderr, sq.Err())
			return 1
		}
		return 0
	}
	cmd := exec.Command(flag.Arg(0), flag.Args()[1:]...)
	cmd.Stdin, cmd.Stdout, cmd.Stderr = os.Stdin, os.Stdout, os.Stderr
	cmd.Env = append(os.Environ(), env...)
	if err := cmd.Start(); err != nil {
		fmt.Fprintln(os.Stderr, err)
		return 1
	}
	// The child shares our terminal and gets Ctrl-C itself; a SIGTERM is passed on.
	go func() {
		<-ctx.Done()
		_ = cmd.Process.Signal(syscall.SIGTERM)
	}()
	err = cmd.Wait()
	var exit *exec.ExitError
	switch {
	case err == nil:
		return 0
	case errors.As(err, &exit):
		if exit.ExitCode() >= 0 {
			return exit.ExitCode()
		}
		return 1
	default:
		fmt.Fprintln(os.Stderr, err)
		return 1
	}
}
