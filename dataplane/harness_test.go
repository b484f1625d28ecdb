package dataplane

import (
	"crypto/rand"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/imds-dev/imds"
	"github.com/imds-dev/imds/config"
	"github.com/imds-dev/imds/creds"
	"github.com/imds-dev/imds/identity"
	"github.com/imds-dev/imds/token"
	"github.com/imds-dev/imds/tree"
)

// clock is a settable time source shared by the token authority, the data
// plane and the tree.
type clock struct {
	mu sync.Mutex
	t  time.Time
}

func (c *clock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.t
}

func (c *clock) Advance(d time.Duration) {
	c.mu.Lock()
	c.t = c.t.Add(d)
	c.mu.Unlock()
}

var (
	signerOnce sync.Once
	testSigner *identity.Signer
)

// sharedSigner returns one RSA signer for all tests; generating keys is slow.
func sharedSigner(t testing.TB) *identity.Signer {
	signerOnce.Do(func() {
		s, err := identity.GenerateSigner()
		if err != nil {
			t.Fatalf("GenerateSigner: %v", err)
		}
		testSigner = s
	})
	return testSigner
}

// harness is a data plane on a loopback port, serving one instance.
type harness struct {
	t      testing.TB
	url    string
	plane  *Server
	view   *View
	clock  *clock
	ring   *token.KeyRing
	client *http.Client
}

// testInstance is the conformance checklist's default instance (SPEC.md 13):
// endpoint enabled, tokens optional, hop limit 1, IPv6 and tags disabled,
// role app-role, key my-key, user data "#!/bin/sh\necho hi\n".
func testInstance(start time.Time) *imds.Instance {
	return config.DefaultInstance(start)
}

func newHarness(t testing.TB, mutate func(*imds.Instance)) *harness {
	t.Helper()
	start := time.Date(2026, 12, 4, 16, 0, 0, 0, time.UTC)
	clk := &clock{t: start}
	in := testInstance(start)
	if mutate != nil {
		mutate(in)
	}
	return newHarnessFor(t, in, clk, nil)
}

func newHarnessFor(t testing.TB, in *imds.Instance, clk *clock, ring *token.KeyRing) *harness {
	t.Helper()
	seed := make([]byte, 32)
	rand.Read(seed)
	signer := sharedSigner(t)
	opts := tree.Options{Creds: creds.NewGenerator(seed, creds.DefaultSchedule), Sign: signer.Sign}
	view := NewView(in, func(in *imds.Instance, now time.Time) *tree.Tree { return tree.Build(in, opts, now) })
	if ring == nil {
		var err error
		ring, err = token.NewKeyRing(clk.Now())
		if err != nil {
			t.Fatal(err)
		}
	}
	plane := New(Config{
		Directory: Single{View: view},
		Tokens:    token.NewAuthority(ring, clk.Now),
		Now:       clk.Now,
	})
	ts := httptest.NewUnstartedServer(plane)
	ts.Config.ConnContext = ConnContext
	ts.Start()
	t.Cleanup(ts.Close)
	return &harness{t: t, url: ts.URL, plane: plane, view: view, clock: clk, ring: ring, client: ts.Client()}
}

// do sends one request and returns the response with its body read.
func (h *harness) do(method, path string, headers map[string]string) (*http.Response, string) {
	h.t.Helper()
	req, err := http.NewRequest(method, h.url+path, nil)
	if err != nil {
		h.t.Fatal(err)
	}
	for k, v := range headers {
		req.Header[k] = []string{v} // as given, not canonicalised
	}
	resp, err := h.client.Do(req)
	if err != nil {
		h.t.Fatalf("%s %s: %v", method, path, err)
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	if err != nil {
		h.t.Fatal(err)
	}
	return resp, string(b)
}

// token fetches a token with the given TTL.
func (h *harness) token(ttl string) string {
	h.t.Helper()
	resp, body := h.do("PUT", TokenPath, map[string]string{"X-aws-ec2-metadata-token-ttl-seconds": ttl})
	if resp.StatusCode != 200 {
		h.t.Fatalf("PUT token: status %d", resp.StatusCode)
	}
	return body
}

// get fetches path without a token and fails unless it answers 200.
func (h *harness) get(path string) string {
	h.t.Helper()
	resp, body := h.do("GET", path, nil)
	if resp.StatusCode != 200 {
		h.t.Fatalf("GET %s: status %d, want 200", path, resp.StatusCode)
	}
	return body
}

// setInstance changes the served instance as the control plane would.
func (h *harness) setInstance(mutate func(*imds.Instance)) {
	in := *h.view.Instance()
	mutate(&in)
	h.view.Set(&in)
}

func lines(s string) []string { return strings.Split(s, "\n") }
