package wire_test

import (
	"io"
	"strings"
	"testing"

	"github.com/razorbill/razorbill/internal/payments"
	"github.com/razorbill/razorbill/internal/reconcile"
	"github.com/razorbill/razorbill/internal/rzsync"
	"github.com/razorbill/razorbill/internal/schema"
	"github.com/razorbill/razorbill/internal/secrets"
	"github.com/razorbill/razorbill/internal/wire/gatewaysweeper"
)

const sweepURL = "https://sqs.ap-south-1.amazonaws.com/123456789012/Razorbill-gateway-sweep.fifo"

func sweepEnv(k string) string {
	if k == schema.GatewaySweep.EnvVar {
		return sweepURL
	}
	return getenv(k)
}

// TestGatewaySweeperRootBuildsWhatTheFullBuilderBuilds: the gateway-sweeper's
// root sets the same fields as internal/app's Sweeper, with a payments
// service of the same shape that opens key secrets through one cache, and
// fans out onto gateway-sweep only when its URL is set.
func TestGatewaySweeperRootBuildsWhatTheFullBuilderBuilds(t *testing.T) {
	t.Parallel()
	d := full(t)
	s, err := gatewaysweeper.Load(sweepEnv, io.Discard, io.Discard)
	if err != nil {
		t.Fatal(err)
	}
	sameShape(t, "sweep.Sweeper", d.Sweeper(sweepURL, io.Discard), s)
	svc, ok := s.Refresher.(*payments.Service)
	if !ok {
		t.Fatalf("refresher %T, want *payments.Service", s.Refresher)
	}
	sameShape(t, "payments.Service", d.PaymentService(), svc)
	c, ok := svc.Secrets.(*secrets.Cache)
	if !ok {
		t.Fatalf("payments service opens key secrets through %T, want *secrets.Cache", svc.Secrets)
	}
	if svc.Customers.(*rzsync.Syncer).Secrets != c || svc.Invoices.(*rzsync.Syncer).Secrets != c || svc.Applier.(*reconcile.Reconciler).Secrets != c {
		t.Error("the payments service, its syncer and its reconciler use different caches")
	}

	local, err := gatewaysweeper.Load(getenv, io.Discard, io.Discard)
	if err != nil {
		t.Fatal(err)
	}
	if local.Queue != nil {
		t.Errorf("without %s the sweeper has a queue %T", schema.GatewaySweep.EnvVar, local.Queue)
	}
}

// TestGatewaySweeperFailsInitNamingTheMissingVariable: its root needs the
// table, the KMS key and the AWS credentials.
func TestGatewaySweeperFailsInitNamingTheMissingVariable(t *testing.T) {
	t.Parallel()
	for _, missing := range []string{schema.Main.EnvVar, "RAZORBILL_KMS_KEY_ID", "AWS_ACCESS_KEY_ID"} {
		g := func(k string) string {
			if k == missing {
				return ""
			}
			return sweepEnv(k)
		}
		if _, err := gatewaysweeper.Load(g, io.Discard, io.Discard); err == nil || !strings.Contains(err.Error(), missing) {
			t.Errorf("without %s: got %v", missing, err)
		}
	}
}
