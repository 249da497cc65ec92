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

// interval is a schedule's period: set (an Options field) when not zero,
// else the environment variable env, else def; negative means off.
func interval(set time.Duration, env string, def time.Duration) (time.Duration, error) {
	if set != 0 {
		return set, nil
	}
	if v := os.Getenv(env); v != "" {
		d, err := time.ParseDuration(v)
		if err != nil || d == 0 {
			return 0, fmt.Errorf("%s %q: want a duration such as %s (negative: off)", env, v, def)
		}
		return d, nil
	}
	return def, nil
}

// scheduledEvent is what an EventBridge schedule sends.
var scheduledEvent, _ = json.Marshal(map[string]any{"source": "aws.events", "detail-type": "Scheduled Event", "detail": map[string]any{}})

// every plays an EventBridge schedule: run each period until runCtx ends,
// logging a failed run under name.
func (s *Stack) every(runCtx context.Context, period time.Duration, name string, run func() error) {
	s.run(func() error {
		t := time.NewTicker(period)
		defer t.Stop()
		for {
			select {
			case <-runCtx.Done():
				return nil
			case <-t.C:
			}
			if err := run(); err != nil && runCtx.Err() == nil {
				s.Log.ErrorContext(runCtx, name+" schedule failed", "error", err.Error())
			}
		}
	})
}

// startSweeper runs the gateway-sweeper as in AWS: a timer plays the
// EventBridge schedule (the handler fans out one message per environment
// onto gateway-sweep) and a poller feeds that queue to the same handler.
func (s *Stack) startSweeper(runCtx context.Context, opt Options, poll func(string, string, lambdahost.SQSHandler, schema.Queue)) error {
	period, err := interval(opt.SweepInterval, "RAZORBILL_SWEEP_INTERVAL", DefaultSweepInterval)
	if err != nil || period < 0 {
		return err
	}
	url := opt.Resources.Queue(schema.GatewaySweep).URL
	sw := s.Deps.Sweeper(url, opt.LogOutput)
	poll("gateway-sweeper", url, sw.HandleSQS, schema.GatewaySweep)
	s.every(runCtx, period, "gateway-sweeper", func() error {
		ctx, cancel := context.WithTimeout(runCtx, time.Duration(schema.GatewaySweep.ConsumerTimeoutSeconds)*time.Second)
		defer cancel()
		_, err := sw.Handle(ctx, scheduledEvent)
		return err
	})
	return nil
}
