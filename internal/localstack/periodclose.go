package localstack

import (
	"context"
	"encoding/json"
	"fmt"
	"os"
	"time"

	"github.com/razorbill/razorbill/internal/lambdahost"
	"github.com/razorbill/razorbill/internal/periodclose"
)

// DefaultPeriodCloseInterval is the local stack's period-close period
// (AWS: the EventBridge rule's, infra/cdk).
const DefaultPeriodCloseInterval = 10 * time.Second

func periodCloseInterval(opt Options) (time.Duration, error) {
	if opt.PeriodCloseInterval != 0 {
		return opt.PeriodCloseInterval, nil
	}
	if v := os.Getenv("RAZORBILL_PERIOD_CLOSE_INTERVAL"); v != "" {
		d, err := time.ParseDuration(v)
		if err != nil || d == 0 {
			return 0, fmt.Errorf("RAZORBILL_PERIOD_CLOSE_INTERVAL %q: want a duration such as 10s (negative: off)", v)
		}
		return d, nil
	}
	return DefaultPeriodCloseInterval, nil
}

// startPeriodClose runs the period-close function as in AWS: a timer plays
// the EventBridge schedule.
func (s *Stack) startPeriodClose(runCtx context.Context, opt Options) error {
	every, err := periodCloseInterval(opt)
	if err != nil || every < 0 {
		return err
	}
	closer := s.Deps.PeriodCloser()
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
			_, err := lambdahost.InvokeScheduled(runCtx, s.Log, "period-close", 5*time.Minute, func(ctx context.Context) (periodclose.Result, error) {
				return closer.Handle(ctx, scheduled)
			})
			if err != nil && runCtx.Err() == nil {
				s.Log.ErrorContext(runCtx, "period-close run failed", "error", err.Error())
			}
		}
	})
	return nil
}
