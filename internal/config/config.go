// Package config reads a function's settings from environment variables and
// validates them at start, so a misconfigured Lambda fails its init with a
// message naming the variable instead of failing requests later.
package config

import (
	"errors"
	"fmt"
	"net/url"
	"strings"
	"time"

	"github.com/razorbill/razorbill/internal/money"
	"github.com/razorbill/razorbill/internal/schema"
)

// Config is every setting any function reads. Each function states which of
// them it needs (Need*) and Load validates exactly those.
type Config struct {
	Table              string
	EventsQueueURL     string
	CustomerSyncURL    string
	InvoiceSyncURL     string
	RazorpayBaseURL    string
	WebhookBaseURL     string
	KMSKeyID           string // AWS: the key-encryption key for connection secrets
	LocalKeyFile       string // local stack: a 32-byte key file instead of KMS
	AdminToken         string // local stack: the bootstrap admin token
	AdminTokenParam    string // AWS: SSM SecureString parameter holding the admin token
	Minimums           *money.Minimums
	LogLevel           string
	DefaultLinkExpiry  time.Duration
	RazorpayTimeout    time.Duration
	StreamRelayTargets map[string]string // queue logical name → URL
	// UsageLateness is how old a usage event's timestamp may be
	// (RAZORBILL_USAGE_LATENESS, default 840h = 35 days).
	UsageLateness time.Duration
	// UsageRetention is how long raw usage events stay listable
	// (RAZORBILL_USAGE_RETENTION, default 9600h = 400 days).
	UsageRetention time.Duration
	// PeriodCloseGrace is how long after a billing period ends the period
	// close waits for late usage before invoicing it
	// (RAZORBILL_PERIOD_CLOSE_GRACE, default 1h, 0s to 24h).
	PeriodCloseGrace time.Duration
}

// Need names the settings a function requires.
type Need int

const (
	NeedTable Need = 1 << iota
	NeedEventsQueue
	NeedSyncQueues
	NeedRazorpay
	NeedSecrets  // a key-encryption key (KMS or local file)
	NeedAdmin    // the admin token (or its parameter)
	NeedWebhooks // the public webhook base URL
)

// Load reads the environment through getenv and checks what need requires.
func Load(getenv func(string) string, need Need) (*Config, error) {
	c := &Config{
		Table:           getenv(schema.Main.EnvVar),
		EventsQueueURL:  getenv(schema.RazorpayEvents.EnvVar),
		CustomerSyncURL: getenv(schema.CustomerSync.EnvVar),
		InvoiceSyncURL:  getenv(schema.InvoiceSync.EnvVar),
		RazorpayBaseURL: strings.TrimRight(getenv("RAZORPAY_BASE_URL"), "/"),
		WebhookBaseURL:  strings.TrimRight(getenv("RAZORBILL_WEBHOOK_BASE_URL"), "/"),
		KMSKeyID:        getenv("RAZORBILL_KMS_KEY_ID"),
		LocalKeyFile:    getenv("RAZORBILL_LOCAL_KEY_FILE"),
		AdminToken:      getenv("RAZORBILL_ADMIN_TOKEN"),
		AdminTokenParam: getenv("RAZORBILL_ADMIN_TOKEN_PARAM"),
		LogLevel:        getenv("RAZORBILL_LOG_LEVEL"),
	}
	var errs []error
	missing := func(name string) { errs = append(errs, fmt.Errorf("%s is not set", name)) }
	if c.RazorpayBaseURL == "" {
		c.RazorpayBaseURL = "https://api.razorpay.com"
	}
	if need&NeedTable != 0 && c.Table == "" {
		missing(schema.Main.EnvVar)
	}
	if need&NeedEventsQueue != 0 && c.EventsQueueURL == "" {
		missing(schema.RazorpayEvents.EnvVar)
	}
	if need&NeedSyncQueues != 0 {
		if c.CustomerSyncURL == "" {
			missing(schema.CustomerSync.EnvVar)
		}
		if c.InvoiceSyncURL == "" {
			missing(schema.InvoiceSync.EnvVar)
		}
	}
	if need&NeedRazorpay != 0 {
		if u, err := url.Parse(c.RazorpayBaseURL); err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
			errs = append(errs, fmt.Errorf("RAZORPAY_BASE_URL %q is not an http(s) URL", c.RazorpayBaseURL))
		}
	}
	if need&NeedSecrets != 0 && c.KMSKeyID == "" && c.LocalKeyFile == "" {
		errs = append(errs, errors.New("set RAZORBILL_KMS_KEY_ID (AWS) or RAZORBILL_LOCAL_KEY_FILE (local stack): connection secrets need a key-encryption key"))
	}
	if need&NeedAdmin != 0 && c.AdminToken == "" && c.AdminTokenParam == "" {
		errs = append(errs, errors.New("set RAZORBILL_ADMIN_TOKEN_PARAM (AWS) or RAZORBILL_ADMIN_TOKEN (local stack)"))
	}
	if need&NeedAdmin != 0 && c.AdminToken != "" && len(c.AdminToken) < 24 {
		errs = append(errs, errors.New("RAZORBILL_ADMIN_TOKEN must be at least 24 characters"))
	}
	if need&NeedWebhooks != 0 && c.WebhookBaseURL == "" {
		missing("RAZORBILL_WEBHOOK_BASE_URL")
	}
	m, err := money.ParseMinimums(getenv("RAZORBILL_MINIMUMS"))
	if err != nil {
		errs = append(errs, fmt.Errorf("RAZORBILL_MINIMUMS: %w", err))
	}
	c.Minimums = m
	c.DefaultLinkExpiry = 7 * 24 * time.Hour
	if v := getenv("RAZORBILL_LINK_EXPIRY"); v != "" {
		d, err := time.ParseDuration(v)
		if err != nil || d < 16*time.Minute || d > 4320*time.Hour {
			errs = append(errs, fmt.Errorf("RAZORBILL_LINK_EXPIRY %q: want a duration from 16m to 4320h (Razorpay needs expire_by at least 15 minutes ahead and at most 6 months after creation)", v))
		}
		c.DefaultLinkExpiry = d
	}
	c.RazorpayTimeout = 8 * time.Second
	c.UsageLateness, c.UsageRetention = 35*24*time.Hour, 400*24*time.Hour
	if v := getenv("RAZORBILL_USAGE_LATENESS"); v != "" {
		d, err := time.ParseDuration(v)
		if err != nil || d < time.Hour || d > 400*24*time.Hour {
			errs = append(errs, fmt.Errorf("RAZORBILL_USAGE_LATENESS %q: want a duration from 1h to 9600h", v))
		}
		c.UsageLateness = d
	}
	if v := getenv("RAZORBILL_USAGE_RETENTION"); v != "" {
		d, err := time.ParseDuration(v)
		if err != nil || d < 24*time.Hour {
			errs = append(errs, fmt.Errorf("RAZORBILL_USAGE_RETENTION %q: want a duration of at least 24h", v))
		}
		c.UsageRetention = d
	}
	c.PeriodCloseGrace = time.Hour
	if v := getenv("RAZORBILL_PERIOD_CLOSE_GRACE"); v != "" {
		d, err := time.ParseDuration(v)
		if err != nil || d < 0 || d > 24*time.Hour {
			errs = append(errs, fmt.Errorf("RAZORBILL_PERIOD_CLOSE_GRACE %q: want a duration from 0s to 24h", v))
		}
		c.PeriodCloseGrace = d
	}
	if c.UsageRetention <= c.UsageLateness {
		errs = append(errs, fmt.Errorf("RAZORBILL_USAGE_RETENTION (%s) must be longer than RAZORBILL_USAGE_LATENESS (%s): an event is kept at least as long as it may arrive late", c.UsageRetention, c.UsageLateness))
	}
	if len(errs) > 0 {
		return nil, fmt.Errorf("configuration: %w", errors.Join(errs...))
	}
	return c, nil
}
