package main

import (
	"fmt"

	"github.com/aws/aws-cdk-go/awscdk/v2"
	"github.com/aws/aws-cdk-go/awscdk/v2/awscloudwatch"
	"github.com/aws/jsii-runtime-go"

	"github.com/razorbill/razorbill/internal/schema"
)

const sweeperFunction = "gateway-sweeper"

// newSweepSchedule starts the gateway-sweeper every cfg.SweepInterval (an
// EventBridge rule) and alarms when it finds money no webhook announced:
// its embedded metric Razorbill/MissedWebhookEvents above 0 is a
// connection whose webhook status is SILENT.
func (r *razorbill) newSweepSchedule() {
	minutes := r.cfg.SweepInterval.Minutes()
	r.schedule("GatewaySweepSchedule", sweeperFunction, r.cfg.SweepInterval,
		fmt.Sprintf("Razorbill: pull open Razorpay instruments every %s (webhooks are the fast path, not the only one)", r.cfg.SweepInterval))
	r.alarm("WebhookSilentAlarm", awscloudwatch.NewMetric(&awscloudwatch.MetricProps{
		Namespace:  jsii.String(schema.MetricNamespace),
		MetricName: jsii.String(schema.MetricMissedWebhooks),
		Statistic:  jsii.String("Sum"),
		Period:     awscdk.Duration_Minutes(jsii.Number(minutes)),
	}), 0, "The gateway-sweeper applied payments no Razorpay webhook announced: a connection's webhook is SILENT (disabled in Razorpay's dashboard, wrong URL or secret). GET /api/v1/connections/razorpay per environment; re-enable the webhook in Razorpay")
}
