package config

import (
	"strings"
	"testing"
)

func env(m map[string]string) func(string) string { return func(k string) string { return m[k] } }

func TestLoadNamesEveryMissingVariable(t *testing.T) {
	t.Parallel()
	_, err := Load(env(nil), NeedTable|NeedEventsQueue|NeedSyncQueues|NeedSecrets|NeedAdmin|NeedWebhooks)
	if err == nil {
		t.Fatal("want an error")
	}
	for _, want := range []string{"RAZORBILL_TABLE", "RAZORBILL_EVENTS_QUEUE_URL", "RAZORBILL_CUSTOMER_SYNC_QUEUE_URL", "RAZORBILL_INVOICE_SYNC_QUEUE_URL", "RAZORBILL_KMS_KEY_ID", "RAZORBILL_ADMIN_TOKEN", "RAZORBILL_WEBHOOK_BASE_URL"} {
		if !strings.Contains(err.Error(), want) {
			t.Errorf("error %q does not name %s", err, want)
		}
	}
}

func TestLoadDefaultsAndValidation(t *testing.T) {
	t.Parallel()
	c, err := Load(env(map[string]string{"RAZORBILL_TABLE": "t"}), NeedTable|NeedRazorpay)
	if err != nil {
		t.Fatal(err)
	}
	if c.RazorpayBaseURL != "https://api.razorpay.com" {
		t.Errorf("default base URL = %q", c.RazorpayBaseURL)
	}
	for name, m := range map[string]map[string]string{
		"bad url":     {"RAZORPAY_BASE_URL": "ftp:/x"},
		"short admin": {"RAZORBILL_ADMIN_TOKEN": "short"},
		"bad minimum": {"RAZORBILL_MINIMUMS": "INR=abc"},
		"bad expiry":  {"RAZORBILL_LINK_EXPIRY": "5m"},
	} {
		if _, err := Load(env(m), NeedRazorpay|NeedAdmin); err == nil {
			t.Errorf("%s: want an error", name)
		}
	}
}
