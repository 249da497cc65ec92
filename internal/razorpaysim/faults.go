package razorpaysim

import (
	"bytes"
	"context"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"time"
)

// FaultKind is a failure the simulator can inject into API calls.
type FaultKind string

const (
	// Fault429 answers 429 with Razorpay's error body; nothing is done.
	Fault429 FaultKind = "429"
	// Fault500 answers 500 SERVER_ERROR; nothing is done.
	Fault500 FaultKind = "500"
	// FaultHTML502 answers 502 with an HTML page, as a proxy in front of
	// Razorpay does; nothing is done.
	FaultHTML502 FaultKind = "html_502"
	// FaultTimeout hangs until the client gives up (or MaxHang passes,
	// then answers 504); nothing is done.
	FaultTimeout FaultKind = "timeout"
	// FaultCrashAfterCreate carries the request out (the object is
	// created) and then drops the connection without an answer.
	FaultCrashAfterCreate FaultKind = "crash_after_create"
	// FaultDrop drops the connection without doing anything.
	FaultDrop FaultKind = "drop"
	// Fault409 answers 409, as Razorpay answers a refund whose
	// X-Refund-Idempotency key belongs to a request still in progress;
	// nothing is done.
	Fault409 FaultKind = "409"
	// Fault409AfterCreate carries the request out, then answers 409 (the
	// in-progress request completes; this answer says only "retry later").
	Fault409AfterCreate FaultKind = "409_after_create"
	// Fault500AfterCreate carries the request out, then answers 500.
	Fault500AfterCreate FaultKind = "500_after_create"
	// FaultTimeoutAfterCreate carries the request out, then hangs until
	// the client gives up (or answers 504 after MaxHang).
	FaultTimeoutAfterCreate FaultKind = "timeout_after_create"
	// FaultSlow waits Delay (default 2 s) and then carries the request out
	// and answers it, even if the client has given up meanwhile: a slow
	// Razorpay, not a failing one.
	FaultSlow FaultKind = "slow"
)

// Fault makes the next Count API calls that match fail as Kind. Method ""
// matches any method; Path "" matches any /v1 path, a path ending in "*" is
// a prefix, anything else must equal the request path; KeyID "" matches any
// account.
type Fault struct {
	Kind   FaultKind `json:"kind"`
	Method string    `json:"method,omitempty"`
	Path   string    `json:"path,omitempty"`
	KeyID  string    `json:"key_id,omitempty"`
	Count  int       `json:"count"`
	// DelayMS is how long a "slow" fault waits (0: 2 s).
	DelayMS int `json:"delay_ms,omitempty"`
}

type faultRule struct {
	Fault
	left int
}

// InjectFault arms f (Count 0 means 1).
func (s *Simulator) InjectFault(f Fault) error {
	switch f.Kind {
	case Fault429, Fault500, FaultHTML502, FaultTimeout, FaultCrashAfterCreate, FaultDrop, FaultSlow,
		Fault409, Fault409AfterCreate, Fault500AfterCreate, FaultTimeoutAfterCreate:
	default:
		return fmt.Errorf("razorpaysim: unknown fault kind %q", f.Kind)
	}
	if f.Count <= 0 {
		f.Count = 1
	}
	f.Method = strings.ToUpper(f.Method)
	s.mu.Lock()
	defer s.mu.Unlock()
	s.faults = append(s.faults, &faultRule{Fault: f, left: f.Count})
	return nil
}

// Faults lists armed faults with what is left of their Count.
func (s *Simulator) Faults() []Fault {
	s.mu.Lock()
	defer s.mu.Unlock()
	var out []Fault
	for _, r := range s.faults {
		if r.left > 0 {
			f := r.Fault
			f.Count = r.left
			out = append(out, f)
		}
	}
	return out
}

// ClearFaults disarms every fault.
func (s *Simulator) ClearFaults() {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.faults = nil
}

// Calls counts the authenticated /v1 calls received so far (faulted or not)
// with this method and path; a path ending in "*" is a prefix, "" matches
// any path.
func (s *Simulator) Calls(method, path string) int {
	s.mu.Lock()
	defer s.mu.Unlock()
	n := 0
	for _, c := range s.calls {
		m, p, _ := strings.Cut(c, " ")
		if method != "" && !strings.EqualFold(method, m) {
			continue
		}
		if pre, ok := strings.CutSuffix(path, "*"); ok {
			if !strings.HasPrefix(p, pre) {
				continue
			}
		} else if path != "" && p != path {
			continue
		}
		n++
	}
	return n
}

// takeFault records the call and consumes the first armed fault matching r.
func (s *Simulator) takeFault(r *http.Request, keyID string) (Fault, bool) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.calls = append(s.calls, r.Method+" "+r.URL.Path)
	for _, f := range s.faults {
		if f.left <= 0 {
			continue
		}
		if f.Method != "" && f.Method != r.Method {
			continue
		}
		if f.KeyID != "" && f.KeyID != keyID {
			continue
		}
		if f.Path != "" {
			if p, ok := strings.CutSuffix(f.Path, "*"); ok {
				if !strings.HasPrefix(r.URL.Path, p) {
					continue
				}
			} else if f.Path != r.URL.Path {
				continue
			}
		}
		f.left--
		return f.Fault, true
	}
	return Fault{}, false
}

// serveFault answers r as kind; next carries the request out.
func (s *Simulator) serveFault(w http.ResponseWriter, r *http.Request, f Fault, next http.Handler) {
	kind := f.Kind
	s.log.Info("razorpaysim: injecting fault", "kind", string(kind), "method", r.Method, "path", r.URL.Path)
	switch kind {
	case Fault409AfterCreate, Fault500AfterCreate, FaultTimeoutAfterCreate:
		rec := httptest.NewRecorder()
		next.ServeHTTP(rec, r)
		s.log.Info("razorpaysim: carried the request out before the fault", "status", rec.Code, "body", strings.TrimSpace(truncate(rec.Body.String(), 200)))
		after := f
		after.Kind = map[FaultKind]FaultKind{Fault409AfterCreate: Fault409, Fault500AfterCreate: Fault500, FaultTimeoutAfterCreate: FaultTimeout}[kind]
		s.serveFault(w, r, after, next)
	case Fault409:
		writeError(w, http.StatusConflict, rzError{Code: "BAD_REQUEST_ERROR",
			Description: "Your previous request with the same idempotency key is being processed. Please retry after some time.", Source: "NA", Step: "NA", Reason: "NA"})
	case FaultSlow:
		// Read the request now: it is carried out after the wait even if
		// the client hangs up meanwhile.
		body, _ := io.ReadAll(r.Body)
		d := time.Duration(f.DelayMS) * time.Millisecond
		if d <= 0 {
			d = 2 * time.Second
		}
		t := time.NewTimer(d)
		defer t.Stop()
		select {
		case <-s.closed:
			panic(http.ErrAbortHandler)
		case <-t.C:
		}
		r2 := r.Clone(context.WithoutCancel(r.Context()))
		r2.Body = io.NopCloser(bytes.NewReader(body))
		next.ServeHTTP(w, r2)
	case Fault429:
		writeError(w, http.StatusTooManyRequests, rzError{Code: "BAD_REQUEST_ERROR", Description: "Too many requests", Source: "NA", Step: "NA", Reason: "NA"})
	case Fault500:
		writeError(w, http.StatusInternalServerError, rzError{Code: "SERVER_ERROR",
			Description: "We are facing some trouble completing your request at the moment. Please try again shortly.", Source: "NA", Step: "NA", Reason: "NA"})
	case FaultHTML502:
		w.Header().Set("Content-Type", "text/html")
		w.WriteHeader(http.StatusBadGateway)
		_, _ = w.Write([]byte("<html>\r\n<head><title>502 Bad Gateway</title></head>\r\n<body>\r\n<center><h1>502 Bad Gateway</h1></center>\r\n</body>\r\n</html>\r\n"))
	case FaultTimeout:
		t := time.NewTimer(s.opt.MaxHang)
		defer t.Stop()
		select {
		case <-r.Context().Done():
			panic(http.ErrAbortHandler)
		case <-s.closed:
			panic(http.ErrAbortHandler)
		case <-t.C:
			w.Header().Set("Content-Type", "text/html")
			w.WriteHeader(http.StatusGatewayTimeout)
			_, _ = w.Write([]byte("<html><body><h1>504 Gateway Time-out</h1></body></html>"))
		}
	case FaultCrashAfterCreate:
		rec := httptest.NewRecorder()
		next.ServeHTTP(rec, r)
		s.log.Info("razorpaysim: dropped the answer after carrying the request out", "status", rec.Code, "body", strings.TrimSpace(truncate(rec.Body.String(), 200)))
		panic(http.ErrAbortHandler)
	case FaultDrop:
		panic(http.ErrAbortHandler)
	}
}

func truncate(s string, n int) string {
	if len(s) <= n {
		return s
	}
	return s[:n] + "…"
}
