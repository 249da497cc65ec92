package main

import (
	"fmt"

	"github.com/aws/aws-cdk-go/awscdk/v2"
	"github.com/aws/aws-cdk-go/awscdk/v2/awsevents"
	"github.com/aws/aws-cdk-go/awscdk/v2/awseventstargets"
	"github.com/aws/jsii-runtime-go"
)

const periodCloseFunction = "period-close"

// newPeriodCloseSchedule starts the period-close every
// cfg.PeriodCloseInterval (an EventBridge rule). A run that fails is
// retried by EventBridge twice; whatever stays due is taken by the next run.
func (r *razorbill) newPeriodCloseSchedule() {
	fn := r.functions[periodCloseFunction]
	awsevents.NewRule(r.stack, jsii.String("PeriodCloseSchedule"), &awsevents.RuleProps{
		Description: jsii.String(fmt.Sprintf("Razorbill: invoice every subscription period that has ended, every %s", r.cfg.PeriodCloseInterval)),
		Schedule:    awsevents.Schedule_Rate(awscdk.Duration_Minutes(jsii.Number(r.cfg.PeriodCloseInterval.Minutes()))),
		Targets:     &[]awsevents.IRuleTarget{awseventstargets.NewLambdaFunction(fn, &awseventstargets.LambdaFunctionProps{RetryAttempts: jsii.Number(2)})},
	})
}
