package control

import (
	"context"
	"net/http/httptest"
	"sync"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/credentials"
	"github.com/aws/aws-sdk-go-v2/service/ec2"

	"github.com/imds-dev/imds"
	"github.com/imds-dev/imds/config"
	"github.com/imds-dev/imds/store/mem"
)

// The documentation's example key, never a real one.
const (
	testKeyID  = "AKIAIOSFODNN7EXAMPLE"
	testSecret = "wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY"
	testID     = "i-0123456789abcdef0"
)

// harness is a control plane on a loopback port over an in-memory store
// holding the built-in instance, with an EC2 client pointed at it.
type harness struct {
	t      testing.TB
	url    string
	store  *mem.Store
	server *Server
	client *ec2.Client

	mu      sync.Mutex
	applied []*imds.Instance // guarded by mu
}

func newHarness(t testing.TB, more ...*imds.Instance) *harness {
	t.Helper()
	h := &harness{t: t, store: mem.New()}
	start := time.Date(2026, 12, 4, 16, 0, 0, 0, time.UTC)
	for _, in := range append([]*imds.Instance{config.DefaultInstance(start)}, more...) {
		if err := h.store.Put(context.Background(), in); err != nil {
			t.Fatal(err)
		}
	}
	h.server = New(Config{
		Store: h.store,
		Apply: h.record,
		Keys:  map[string]string{testKeyID: testSecret},
	})
	ts := httptest.NewServer(h.server)
	t.Cleanup(ts.Close)
	h.url = ts.URL
	// The default retryer stays on: aws-sdk-go-v2 can close its own
	// connection while reading an answer that arrives very fast (its
	// issues 1825 and 2737) and retries that read error.
	h.client = ec2.New(ec2.Options{
		BaseEndpoint: aws.String(ts.URL),
		Region:       "us-east-1",
		Credentials:  credentials.NewStaticCredentialsProvider(testKeyID, testSecret, ""),
		HTTPClient:   ts.Client(),
	})
	return h
}

func (h *harness) record(in *imds.Instance) {
	h.mu.Lock()
	h.applied = append(h.applied, in)
	h.mu.Unlock()
}

// lastApplied returns the last instance handed to the data plane, or nil.
func (h *harness) lastApplied() *imds.Instance {
	h.mu.Lock()
	defer h.mu.Unlock()
	if len(h.applied) == 0 {
		return nil
	}
	return h.applied[len(h.applied)-1]
}

func (h *harness) instance(id string) *imds.Instance {
	h.t.Helper()
	in, err := h.store.Get(context.Background(), id)
	if err != nil {
		h.t.Fatal(err)
	}
	return in
}

// secondInstance returns another coherent instance with the given id.
func secondInstance(id string) *imds.Instance {
	in := config.DefaultInstance(time.Date(2026, 12, 4, 17, 0, 0, 0, time.UTC))
	in.ID = id
	in.Tags = []imds.Tag{{Key: "Name", Value: "second"}}
	return in
}
