package events_test

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	v4 "github.com/aws/aws-sdk-go-v2/aws/signer/v4"

	"github.com/imds-dev/imds"
	"github.com/imds-dev/imds/config"
	"github.com/imds-dev/imds/control"
	"github.com/imds-dev/imds/events"
	"github.com/imds-dev/imds/store/mem"
)

const (
	testKeyID  = "AKIAIMDSTEST00000001"
	testSecret = "c2VjcmV0c2VjcmV0c2VjcmV0c2VjcmV0c2VjcmV0"

	spotID     = "i-0123456789abcdef0" // life-cycle spot
	onDemandID = "i-0fedcba9876543210" // life-cycle on-demand
)

// harness is the event handler over an in-memory store with two
// instances, a fixed clock, and a record of what it applied; requests go
// through the control plane's real SigV4 check.
type harness struct {
	h   *events.Handler
	st  *mem.Store
	now time.Time

	mu      sync.Mutex // guards applied
	applied []*imds.Instance
}

func newHarness(t *testing.T) *harness {
	t.Helper()
	x := &harness{st: mem.New(), now: time.Date(2026, 5, 1, 12, 0, 0, 0, time.UTC)}
	for id, lc := range map[string]string{spotID: "spot", onDemandID: "on-demand"} {
		in := config.DefaultInstance(x.now.Add(-time.Hour))
		in.ID, in.LifeCycle = id, lc
		if err := x.st.Put(context.Background(), in); err != nil {
			t.Fatal(err)
		}
	}
	ctl := control.New(control.Config{Store: x.st, Keys: map[string]string{testKeyID: testSecret}})
	x.h = events.NewHandler(events.Options{
		Store: x.st, Auth: ctl, Apply: x.apply,
		Now: func() time.Time { return x.now },
	})
	return x
}

func (x *harness) apply(in *imds.Instance) {
	x.mu.Lock()
	x.applied = append(x.applied, in)
	x.mu.Unlock()
}

// lastApplied returns the instance last handed to the data plane.
func (x *harness) lastApplied(t *testing.T) *imds.Instance {
	t.Helper()
	x.mu.Lock()
	defer x.mu.Unlock()
	if len(x.applied) == 0 {
		t.Fatal("nothing applied")
	}
	return x.applied[len(x.applied)-1]
}

// do sends a signed request with a raw body and returns the answer.
func (x *harness) do(t *testing.T, method, target, body string) *httptest.ResponseRecorder {
	t.Helper()
	req := httptest.NewRequest(method, "http://127.0.0.1:1339"+target, strings.NewReader(body))
	if body != "" {
		req.Header.Set("Content-Type", "application/json")
	}
	sum := sha256.Sum256([]byte(body))
	creds := aws.Credentials{AccessKeyID: testKeyID, SecretAccessKey: testSecret}
	if err := v4.NewSigner().SignHTTP(context.Background(), creds, req, hex.EncodeToString(sum[:]), "ec2", "us-east-1", time.Now()); err != nil {
		t.Fatal(err)
	}
	w := httptest.NewRecorder()
	x.h.ServeHTTP(w, req)
	if w.Header().Get("Content-Type") != "application/json" {
		t.Errorf("%s %s: Content-Type %q, want application/json", method, target, w.Header().Get("Content-Type"))
	}
	return w
}

// post schedules an event and returns it; anything but 201 ends the test.
func (x *harness) post(t *testing.T, body string) events.Event {
	t.Helper()
	w := x.do(t, "POST", events.Path, body)
	if w.Code != http.StatusCreated {
		t.Fatalf("POST %s = %d %s", body, w.Code, w.Body)
	}
	var e events.Event
	decode(t, w, &e)
	return e
}

// errorBody is the JSON of an error answer.
type errorBody struct {
	Code, Message, Field string
}

func decode(t *testing.T, w *httptest.ResponseRecorder, v any) {
	t.Helper()
	if err := json.Unmarshal(w.Body.Bytes(), v); err != nil {
		t.Fatalf("answer %s: %v", w.Body, err)
	}
}
