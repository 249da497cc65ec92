package localstack

import (
	"context"
	"encoding/json"
	"fmt"
	"os"
	"time"

	"github.com/razorbill/razorbill/internal/lambdahost"
	"github.com/razorbill/razorbill/internal/schema"
)

// DefaultSweepInterval is the local stack's gateway-sweeper period (AWS:
// the EventBridge rule's 5 minutes).
const DefaultSweepInterval = 30 * time.Second

func sweepInterval(opt Options) (time.Duration, error) {
	if opt.SweepInterval != 0 {
		return opt.SweepInterval, nil
	}
	if v := os.Getenv("RAZORBILL_SWEEP_INTERVAL"); v != "" {
		d, err := time.ParseDuration(v)
		if err != nil || d == 0 {
			return 0, fmt.Errorf("RAZORBILL_SWEEP_INTERVAL %q: want a duration such as 30s (negative: off)", v)
		}
		return d, nil
	}
	return DefaultSweepInterval, nil
}

// startSweeper runs the gateway-sweeper as in AWS: a timer plays the
// EventBridge schedule (the handler fans out one message per environment
// onto gateway-sweep) and a poller feeds that queue to the same handler.
func (s *Stack) startSweeper(runCtx context.Context, opt Options, poll func(string, string, lambdahost.SQSHandler, schema.Queue)) error {
	every, err := sweepInterval(opt)
	if err != nil || every < 0 {
		return err
	}
	url := opt.Resources.Queue(schema.GatewaySweep).URL
	sw := s.Deps.Sweeper(url, opt.LogOutput)
	poll("gateway-sweeper", url, sw.HandleSQS, schema.GatewaySweep)
	scheduled, _ := json.Marshal(map[string]any{"source": "aws.events", "detail-type": "Scheduled Event", "detail": map[string]any{}})
	s.run(func() error {
		t := time.NewTicker(every)
		defer t.Stop()
		for {
			select {
			case <-runCtx.Done():
				return nil
			case <-t.C:
			}
			ctx, cancel := context.WithTimeout(runCtx, time.Duration(schema.GatewaySweep.ConsumerTimeoutSeconds)*time.Second)
			if _, err := sw.Handle(ctx, scheduled); err != nil && runCtx.Err() == nil {
				s.Log.ErrorContext(ctx, "gateway-sweeper schedule failed", "error", err.Error())
			}
			cancel()
		}
	})
	return nil
}
