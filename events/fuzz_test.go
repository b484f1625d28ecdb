package events

import (
	"bytes"
	"context"
	"io"
	"net/http"
	"net/http/httptest"
	"testing"
	"time"

	"github.com/imds-dev/imds/config"
	"github.com/imds-dev/imds/store/mem"
)

// acceptAll is an Authenticator that takes every request as signed.
type acceptAll struct{}

func (acceptAll) Authenticate(r *http.Request) (string, []byte, error) {
	body, err := io.ReadAll(r.Body)
	return "test", body, err
}

// FuzzHandler_Schedule checks that no body posted to the event endpoint
// gets a 5xx or a panic, that every answer is JSON, and that a refused
// request leaves the instance as it was.
func FuzzHandler_Schedule(f *testing.F) {
	for _, seed := range []string{
		`{"instanceId":"i-0123456789abcdef0","kind":"spot","action":"terminate","in":"2m"}`,
		`{"instanceId":"i-0123456789abcdef0","kind":"rebalance","at":"2026-05-01T12:00:00Z"}`,
		`{"instanceId":"i-0123456789abcdef0","kind":"autoscaling","state":"Warmed:Stopped"}`,
		`{"instanceId":"i-0123456789abcdef0","kind":"maintenance","code":"system-reboot","notBefore":"+24h","notAfter":"+26h","notBeforeDeadline":"2026-06-01T00:00:00Z","description":"x","state":"completed"}`,
		`{"instanceId":"i-0123456789abcdef0","kind":"maintenance","code":"instance-stop","notBefore":"-9223372036s"}`,
		`{"instanceId":"i-0123456789abcdef0","kind":"spot","in":"2562047h"}`,
		`{"instanceId":"nope","kind":"spot"}`, `[]`, `null`, `{`, ``, `{"kind":1}`,
	} {
		f.Add([]byte(seed))
	}
	f.Fuzz(func(t *testing.T, body []byte) {
		now := time.Date(2026, 5, 1, 12, 0, 0, 0, time.UTC)
		st := mem.New()
		in := config.DefaultInstance(now)
		in.LifeCycle = "spot"
		st.Put(context.Background(), in)
		h := NewHandler(Options{Store: st, Auth: acceptAll{}, Now: func() time.Time { return now }})

		w := httptest.NewRecorder()
		h.ServeHTTP(w, httptest.NewRequest("POST", Path, bytes.NewReader(body)))
		if w.Code >= 500 || w.Header().Get("Content-Type") != "application/json" {
			t.Errorf("POST %q = %d %s", body, w.Code, w.Body)
		}
		after, _ := st.Get(context.Background(), in.ID)
		if w.Code != http.StatusCreated && after.Revision != 1 {
			t.Errorf("POST %q = %d but the instance changed", body, w.Code)
		}
		if w.Code == http.StatusCreated {
			if err := config.Validate(after); err != nil {
				t.Errorf("POST %q stored an invalid instance: %v", body, err)
			}
		}
	})
}
