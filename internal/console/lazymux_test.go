package console

import (
	"context"
	"net/http"
	"net/http/httptest"
	"testing"
)

// Building the console (the api function's start) registers no route: the
// mux is built at the first request (issue 17's init time), and that
// request is routed as before.
func TestRoutesAreRegisteredAtTheFirstRequest(t *testing.T) {
	c := New(Options{SessionKey: func(context.Context) ([]byte, error) { return make([]byte, 32), nil }})
	if c.mux != nil {
		t.Fatal("New registered the routes")
	}
	rec := httptest.NewRecorder()
	c.ServeHTTP(rec, httptest.NewRequest(http.MethodGet, Prefix, nil))
	if rec.Code != http.StatusSeeOther || rec.Header().Get("Location") != Prefix+"/" {
		t.Fatalf("GET %s: %d Location %q, want 303 to %s/", Prefix, rec.Code, rec.Header().Get("Location"), Prefix)
	}
	if c.mux == nil {
		t.Fatal("the first request left no mux")
	}
}
