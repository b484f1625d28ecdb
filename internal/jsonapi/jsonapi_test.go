package jsonapi

import (
	"errors"
	"net/http"
	"net/http/httptest"
	"testing"

	"github.com/imds-dev/imds/control"
)

// Ensure Split tells the collection, its items and other paths apart.
func TestSplit(t *testing.T) {
	tests := []struct {
		path, item string
		ok         bool
	}{
		{"/imds/faults", "", true},
		{"/imds/faults/f1", "f1", true},
		{"/imds/faults/a/b", "a/b", true},
		{"/imds/faults/", "", false},
		{"/imds/faultsx", "", false},
		{"/imds/other", "", false},
	}
	for _, tt := range tests {
		t.Run(tt.path, func(t *testing.T) {
			item, ok := Split(tt.path, "/imds/faults")
			if item != tt.item || ok != tt.ok {
				t.Errorf("Split(%q) = %q, %v, want %q, %v", tt.path, item, ok, tt.item, tt.ok)
			}
		})
	}
}

// denyAll is an Authenticator that refuses every request with err.
type denyAll struct{ err error }

func (d denyAll) Authenticate(*http.Request) (string, []byte, error) { return "", nil, d.err }

// Ensure Authenticate answers a refused signature with its status and code,
// and any other failure with 403 AuthFailure.
func TestAuthenticate(t *testing.T) {
	tests := []struct {
		name   string
		err    error
		status int
		body   string
	}{
		{"auth error", &control.AuthError{Status: http.StatusForbidden, Code: "SignatureDoesNotMatch", Message: "bad"},
			http.StatusForbidden, "{\n  \"code\": \"SignatureDoesNotMatch\",\n  \"message\": \"bad\"\n}\n"},
		{"too large", &control.AuthError{Status: http.StatusRequestEntityTooLarge, Code: "RequestEntityTooLarge", Message: "big"},
			http.StatusRequestEntityTooLarge, "{\n  \"code\": \"RequestEntityTooLarge\",\n  \"message\": \"big\"\n}\n"},
		{"other", errors.New("no keys"),
			http.StatusForbidden, "{\n  \"code\": \"AuthFailure\",\n  \"message\": \"no keys\"\n}\n"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			w := httptest.NewRecorder()
			body, ok := Authenticate(w, httptest.NewRequest("GET", "/imds/events", nil), denyAll{tt.err})
			if ok || body != nil {
				t.Fatalf("Authenticate = %q, %v, want nil, false", body, ok)
			}
			if w.Code != tt.status || w.Body.String() != tt.body {
				t.Errorf("answer = %d %q, want %d %q", w.Code, w.Body, tt.status, tt.body)
			}
			if ct := w.Header().Get("Content-Type"); ct != "application/json" {
				t.Errorf("Content-Type = %q, want application/json", ct)
			}
		})
	}
}

// Ensure MethodNotAllowed names the allowed methods in Allow and the body.
func TestMethodNotAllowed(t *testing.T) {
	w := httptest.NewRecorder()
	MethodNotAllowed(w, "GET, HEAD")
	want := "{\n  \"code\": \"MethodNotAllowed\",\n  \"message\": \"allowed methods: GET, HEAD\"\n}\n"
	if w.Code != http.StatusMethodNotAllowed || w.Body.String() != want || w.Header().Get("Allow") != "GET, HEAD" {
		t.Errorf("answer = %d %q Allow %q, want 405 %q Allow %q", w.Code, w.Body, w.Header().Get("Allow"), want, "GET, HEAD")
	}
}
