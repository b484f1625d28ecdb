package fault

import (
	"bytes"
	"io"
	"net/http"
	"net/http/httptest"
	"testing"
)

// acceptAll is an Authenticator that takes every request as signed.
type acceptAll struct{}

func (acceptAll) Authenticate(r *http.Request) (string, []byte, error) {
	body, err := io.ReadAll(r.Body)
	return "test", body, err
}

// FuzzHandler_Add checks that no body posted to the fault endpoint gets a
// 5xx or a panic, and that every answer is JSON.
func FuzzHandler_Add(f *testing.F) {
	for _, seed := range []string{
		`{"kind":"throttle","path":"/latest/meta-data/iam/","count":3}`,
		`{"kind":"latency","latency":"2s","after":"1s","for":"1m"}`,
		`{"kind":"error","status":503,"methods":["get"]}`,
		`{"kind":"drop","id":"x"}`, `[]`, `null`, `{`, ``,
	} {
		f.Add([]byte(seed))
	}
	f.Fuzz(func(t *testing.T, body []byte) {
		h := NewHandler(New(Options{}), acceptAll{})
		w := httptest.NewRecorder()
		h.ServeHTTP(w, httptest.NewRequest("POST", Path, bytes.NewReader(body)))
		if w.Code >= 500 || w.Header().Get("Content-Type") != "application/json" {
			t.Errorf("POST %q = %d %s", body, w.Code, w.Body)
		}
	})
}
