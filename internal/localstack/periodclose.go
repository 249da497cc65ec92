package localstack

import (
	"context"
	"time"

	"github.com/razorbill/razorbill/internal/lambdahost"
	"github.com/razorbill/razorbill/internal/periodclose"
)

// DefaultPeriodCloseInterval is the local stack's period-close period
// (AWS: the EventBridge rule's, infra/cdk).
const DefaultPeriodCloseInterval = 10 * time.Second

// startPeriodClose runs the period-close function as in AWS: a timer plays
// the EventBridge schedule, each run one invocation (lambdacontext set, so
// its calls are attributed to period-close).
func (s *Stack) startPeriodClose(runCtx context.Context, opt Options) error {
	period, err := interval(opt.PeriodCloseInterval, "RAZORBILL_PERIOD_CLOSE_INTERVAL", DefaultPeriodCloseInterval)
	if err != nil || period < 0 {
		return err
	}
	closer := s.Deps.PeriodCloser()
	s.every(runCtx, period, "period-close", func() error {
		_, err := lambdahost.InvokeScheduled(runCtx, s.Log, "period-close", 5*time.Minute, func(ctx context.Context) (periodclose.Result, error) {
			return closer.Handle(ctx, scheduledEvent)
		})
		return err
	})
	return nil
}
