package main

import (
	"fmt"
	"time"

	"github.com/aws/aws-cdk-go/awscdk/v2"
	"github.com/aws/aws-cdk-go/awscdk/v2/awsevents"
	"github.com/aws/aws-cdk-go/awscdk/v2/awseventstargets"
	"github.com/aws/jsii-runtime-go"
)

const periodCloseFunction = "period-close"

// schedule starts function every interval (an EventBridge rule, id); a
// failed invocation is retried by EventBridge twice.
func (r *razorbill) schedule(id, function string, every time.Duration, description string) {
	awsevents.NewRule(r.stack, jsii.String(id), &awsevents.RuleProps{
		Description: jsii.String(description),
		Schedule:    awsevents.Schedule_Rate(awscdk.Duration_Minutes(jsii.Number(every.Minutes()))),
		Targets:     &[]awsevents.IRuleTarget{awseventstargets.NewLambdaFunction(r.functions[function], &awseventstargets.LambdaFunctionProps{RetryAttempts: jsii.Number(2)})},
	})
}

// newPeriodCloseSchedule starts the period-close every
// cfg.PeriodCloseInterval; whatever stays due is taken by the next run.
func (r *razorbill) newPeriodCloseSchedule() {
	r.schedule("PeriodCloseSchedule", periodCloseFunction, r.cfg.PeriodCloseInterval,
		fmt.Sprintf("Razorbill: invoice every subscription period that has ended, every %s", r.cfg.PeriodCloseInterval))
}
