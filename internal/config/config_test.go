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
		"bad url":              {"RAZORPAY_BASE_URL": "ftp:/x"},
		"short admin":          {"RAZORBILL_ADMIN_TOKEN": "short"},
		"bad minimum":          {"RAZORBILL_MINIMUMS": "INR=abc"},
		"bad expiry":           {"RAZORBILL_LINK_EXPIRY": "5m"},
		"expiry over 6 months": {"RAZORBILL_LINK_EXPIRY": "4321h"},
	} {
		if _, err := Load(env(m), NeedRazorpay|NeedAdmin); err == nil {
			t.Errorf("%s: want an error", name)
		}
	}
}

func TestLinkExpiryBounds(t *testing.T) {
	t.Parallel()
	for v, ok := range map[string]bool{"15m": false, "16m": true, "168h": true, "4320h": true, "4321h": false, "9000h": false, "soon": false} {
		c, err := Load(env(map[string]string{"RAZORBILL_TABLE": "t", "RAZORBILL_LINK_EXPIRY": v}), NeedTable)
		if (err == nil) != ok {
			t.Errorf("%s: err %v", v, err)
			continue
		}
		if !ok && !strings.Contains(err.Error(), "RAZORBILL_LINK_EXPIRY") {
			t.Errorf("%s: the error does not name the setting: %v", v, err)
		}
		if ok && c.DefaultLinkExpiry.String() == "0s" {
			t.Errorf("%s: not read", v)
		}
	}
}
