package console

import (
	"bytes"
	"context"
	"io"
	"log/slog"
	"net/http"
	"net/http/cookiejar"
	"net/http/httptest"
	"net/url"
	"regexp"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/imds-dev/imds"
	"github.com/imds-dev/imds/audit"
	"github.com/imds-dev/imds/config"
	"github.com/imds-dev/imds/control"
	"github.com/imds-dev/imds/store/mem"
)

// The documentation's example key, never a real one.
const (
	testKeyID  = "AKIAIOSFODNN7EXAMPLE"
	testSecret = "wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY"
	testID     = "i-0123456789abcdef0"
)

// harness is the console over a real control plane and an in-memory store
// holding the built-in instance, on a loopback port, with a browser-like
// client that keeps cookies and does not follow redirects.
type harness struct {
	t      *testing.T
	url    string
	store  *mem.Store
	client *http.Client
	logs   *syncBuffer
	now    time.Time

	mu      sync.Mutex
	applied []*imds.Instance // guarded by mu
}

type harnessOptions struct {
	more     []*imds.Instance
	usage    func() audit.Report
	pageSize int
}

func newHarness(t *testing.T, o harnessOptions) *harness {
	t.Helper()
	h := &harness{t: t, store: mem.New(), logs: new(syncBuffer), now: time.Date(2026, 12, 4, 16, 0, 0, 0, time.UTC)}
	for _, in := range append([]*imds.Instance{config.DefaultInstance(h.now)}, o.more...) {
		if err := h.store.Put(context.Background(), in); err != nil {
			t.Fatal(err)
		}
	}
	logger := slog.New(slog.NewTextHandler(h.logs, &slog.HandlerOptions{Level: slog.LevelDebug}))
	ctl := control.New(control.Config{
		Store:  h.store,
		Apply:  h.record,
		Keys:   map[string]string{testKeyID: testSecret},
		Logger: logger,
	})
	handler := New(Config{
		Store: h.store, Control: ctl, Usage: o.usage, Logger: logger,
		PageSize: o.pageSize, Now: h.clock,
	})
	ts := httptest.NewServer(handler)
	t.Cleanup(ts.Close)
	h.url = ts.URL
	h.client = newClient(t)
	return h
}

func newClient(t *testing.T) *http.Client {
	jar, err := cookiejar.New(nil)
	if err != nil {
		t.Fatal(err)
	}
	return &http.Client{
		Jar:           jar,
		CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse },
		Timeout:       10 * time.Second,
	}
}

func (h *harness) clock() time.Time {
	h.mu.Lock()
	defer h.mu.Unlock()
	return h.now
}

func (h *harness) advance(d time.Duration) {
	h.mu.Lock()
	h.now = h.now.Add(d)
	h.mu.Unlock()
}

func (h *harness) record(in *imds.Instance) {
	h.mu.Lock()
	h.applied = append(h.applied, in)
	h.mu.Unlock()
}

// appliedCount returns how many changes reached the data plane.
func (h *harness) appliedCount() int {
	h.mu.Lock()
	defer h.mu.Unlock()
	return len(h.applied)
}

// answer is a response with its body read.
type answer struct {
	*http.Response
	Body string
}

func (h *harness) do(req *http.Request) answer {
	h.t.Helper()
	resp, err := h.client.Do(req)
	if err != nil {
		h.t.Fatalf("%s %s: %v", req.Method, req.URL.Path, err)
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	if err != nil {
		h.t.Fatal(err)
	}
	return answer{resp, string(b)}
}

func (h *harness) get(path string) answer {
	h.t.Helper()
	req, err := http.NewRequest(http.MethodGet, h.url+path, nil)
	if err != nil {
		h.t.Fatal(err)
	}
	return h.do(req)
}

// post sends a form as a page of the console would: with the console's
// own Origin, plus any headers given (an empty value removes one).
func (h *harness) post(path string, form url.Values, headers ...string) answer {
	h.t.Helper()
	req, err := http.NewRequest(http.MethodPost, h.url+path, strings.NewReader(form.Encode()))
	if err != nil {
		h.t.Fatal(err)
	}
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	req.Header.Set("Origin", h.url)
	for i := 0; i+1 < len(headers); i += 2 {
		if headers[i+1] == "" {
			req.Header.Del(headers[i])
			continue
		}
		req.Header.Set(headers[i], headers[i+1])
	}
	return h.do(req)
}

var tokenRe = regexp.MustCompile(`name="csrf_token" value="([^"]+)"`)

// formToken returns the form token a page carries.
func formToken(t *testing.T, a answer) string {
	t.Helper()
	m := tokenRe.FindStringSubmatch(a.Body)
	if m == nil {
		t.Fatalf("no form token in %s page (status %d)", a.Request.URL.Path, a.StatusCode)
	}
	return m[1]
}

// login signs in with the test key and returns the session's form token.
func (h *harness) login() string {
	h.t.Helper()
	tok := formToken(h.t, h.get("/console/login"))
	a := h.post("/console/login", url.Values{
		"csrf_token": {tok}, "access_key_id": {testKeyID}, "secret_access_key": {testSecret},
	})
	if a.StatusCode != http.StatusSeeOther {
		h.t.Fatalf("login: status %d, want 303\n%s", a.StatusCode, a.Body)
	}
	return formToken(h.t, h.get("/console/"))
}

// instance returns the stored instance.
func (h *harness) instance(id string) *imds.Instance {
	h.t.Helper()
	in, err := h.store.Get(context.Background(), id)
	if err != nil {
		h.t.Fatal(err)
	}
	return in
}

// syncBuffer is a log sink safe for the server's goroutines.
type syncBuffer struct {
	mu  sync.Mutex
	buf bytes.Buffer
}

func (b *syncBuffer) Write(p []byte) (int, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.Write(p)
}

func (b *syncBuffer) String() string {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.String()
}
