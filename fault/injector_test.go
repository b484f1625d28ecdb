package fault

import (
	"context"
	"errors"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/imds-dev/imds"
	"github.com/imds-dev/imds/dataplane"
	"github.com/imds-dev/imds/fault/rule"
)

var testStart = time.Date(2026, 12, 4, 16, 0, 0, 0, time.UTC)

// clock is a settable time source.
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

// hookServer serves "ok" behind the injector's Before hook, taking the
// instance id from the X-Instance header; results receives what Before
// returned for each request.
func hookServer(t *testing.T, inj *Injector) (url string, results chan int) {
	t.Helper()
	results = make(chan int, 100)
	ts := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		in := &imds.Instance{ID: r.Header.Get("X-Instance")}
		status := inj.Before(w, r, in)
		results <- status
		if status == 0 {
			w.Write([]byte("ok"))
		}
	}))
	t.Cleanup(ts.Close)
	return ts.URL, results
}

// send makes one request on a new connection and returns the status, or
// 0 when the connection was dropped.
func send(t *testing.T, url, method, path, instance string) int {
	t.Helper()
	req, err := http.NewRequest(method, url+path, nil)
	if err != nil {
		t.Fatal(err)
	}
	req.Header.Set("X-Instance", instance)
	req.Close = true
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		return 0
	}
	defer resp.Body.Close()
	io.Copy(io.Discard, resp.Body)
	return resp.StatusCode
}

func mustAdd(t *testing.T, inj *Injector, r rule.Rule) rule.Rule {
	t.Helper()
	got, err := inj.Add(r)
	if err != nil {
		t.Fatalf("Add(%+v) = %v", r, err)
	}
	return got
}

type request struct {
	method, path, instance string
	advance                time.Duration // clock step before the request
	want                   int
}

// Ensure Before applies rules by instance, path prefix, method, count and
// window, in the order they were added.
func TestInjector_Before(t *testing.T) {
	iam := "/latest/meta-data/iam/security-credentials/"
	for _, tt := range []struct {
		name     string
		rules    []rule.Rule
		requests []request
	}{
		{"throttle count", []rule.Rule{{Kind: rule.Throttle, Path: "/latest/meta-data/iam/", Count: 2}}, []request{
			{"GET", "/latest/meta-data/", "i-1", 0, 200},
			{"GET", iam, "i-1", 0, 429},
			{"GET", iam, "i-2", 0, 429},
			{"GET", iam, "i-1", 0, 200},
		}},
		{"error per instance", []rule.Rule{{Kind: rule.Error, Status: 503, Instance: "i-2"}}, []request{
			{"GET", iam, "i-1", 0, 200},
			{"GET", iam, "i-2", 0, 503},
			{"GET", "/", "i-2", 0, 503},
		}},
		{"drop by method", []rule.Rule{{Kind: rule.Drop, Path: "/latest/api/token", Methods: []string{"PUT"}, Count: 1}}, []request{
			{"GET", "/latest/api/token", "i-1", 0, 200},
			{"PUT", "/latest/api/token", "i-1", 0, 0},
			{"PUT", "/latest/api/token", "i-1", 0, 200},
		}},
		{"window", []rule.Rule{{Kind: rule.Error, From: testStart.Add(time.Minute), Until: testStart.Add(2 * time.Minute)}}, []request{
			{"GET", "/", "i-1", 0, 200},
			{"GET", "/", "i-1", time.Minute, 500},
			{"GET", "/", "i-1", time.Minute - 1, 500},
			{"GET", "/", "i-1", 1, 200},
		}},
		{"count within window", []rule.Rule{{Kind: rule.Throttle, Count: 1, From: testStart.Add(time.Minute)}}, []request{
			{"GET", "/", "i-1", 0, 200},
			{"GET", "/", "i-1", time.Minute, 429},
			{"GET", "/", "i-1", 0, 200},
		}},
		{"first match answers", []rule.Rule{
			{Kind: rule.Error, Count: 1},
			{Kind: rule.Throttle, Count: 1},
		}, []request{
			{"GET", "/", "i-1", 0, 500},
			{"GET", "/", "i-1", 0, 429},
			{"GET", "/", "i-1", 0, 200},
		}},
		{"latency then error", []rule.Rule{
			{Kind: rule.Latency, Latency: time.Millisecond, Count: 1},
			{Kind: rule.Error, Status: 503, Count: 1},
		}, []request{
			{"GET", "/", "i-1", 0, 503},
			{"GET", "/", "i-1", 0, 200},
		}},
	} {
		t.Run(tt.name, func(t *testing.T) {
			clk := &clock{t: testStart}
			inj := New(Options{Now: clk.Now})
			for _, r := range tt.rules {
				mustAdd(t, inj, r)
			}
			url, _ := hookServer(t, inj)
			for k, rq := range tt.requests {
				clk.Advance(rq.advance)
				if got := send(t, url, rq.method, rq.path, rq.instance); got != rq.want {
					t.Errorf("request %d: %s %s from %s = %d, want %d", k, rq.method, rq.path, rq.instance, got, rq.want)
				}
			}
		})
	}
}

// Ensure injected answers are the data plane's own pages and that Before
// reports a drop as dataplane.Dropped.
func TestInjector_BeforeAnswers(t *testing.T) {
	for _, tt := range []struct {
		rule   rule.Rule
		status int
		title  string
		retry  string
	}{
		{rule.Rule{Kind: rule.Error}, 500, "500 - Internal Server Error", ""},
		{rule.Rule{Kind: rule.Error, Status: 503}, 503, "503 - Service Unavailable", ""},
		{rule.Rule{Kind: rule.Throttle}, 429, "429 - Too Many Requests", "1"},
	} {
		t.Run(tt.title, func(t *testing.T) {
			inj := New(Options{})
			mustAdd(t, inj, tt.rule)
			url, results := hookServer(t, inj)
			resp, err := http.Get(url + "/latest/meta-data/")
			if err != nil {
				t.Fatal(err)
			}
			body, _ := io.ReadAll(resp.Body)
			resp.Body.Close()
			if got := <-results; got != tt.status {
				t.Errorf("Before = %d, want %d", got, tt.status)
			}
			h := resp.Header
			if resp.StatusCode != tt.status || !strings.Contains(string(body), "<h1>"+tt.title+"</h1>") {
				t.Errorf("answer %d %q, want %d %q", resp.StatusCode, body, tt.status, tt.title)
			}
			if h.Get("Server") != "EC2ws" || !resp.Close || h.Get("Retry-After") != tt.retry {
				t.Errorf("headers %v", h)
			}
		})
	}

	inj := New(Options{})
	mustAdd(t, inj, rule.Rule{Kind: rule.Drop})
	url, results := hookServer(t, inj)
	if _, err := http.Get(url + "/"); err == nil {
		t.Error("dropped request got an answer")
	}
	if got := <-results; got != dataplane.Dropped {
		t.Errorf("Before = %d after a drop, want dataplane.Dropped", got)
	}
}

// Ensure a latency rule delays the request and then lets it through, and
// stops waiting (dropping the connection) when the client gives up.
func TestInjector_BeforeLatency(t *testing.T) {
	inj := New(Options{})
	mustAdd(t, inj, rule.Rule{Kind: rule.Latency, Latency: 200 * time.Millisecond, Count: 1})
	mustAdd(t, inj, rule.Rule{ID: "long", Kind: rule.Latency, Latency: rule.MaxLatency, Path: "/slow"})
	url, results := hookServer(t, inj)

	start := time.Now()
	if got := send(t, url, "GET", "/", "i-1"); got != 200 {
		t.Errorf("delayed request = %d, want 200", got)
	}
	if took := time.Since(start); took < 200*time.Millisecond {
		t.Errorf("delayed request took %s, want at least 200ms", took)
	}
	<-results

	ctx, cancel := context.WithTimeout(context.Background(), 100*time.Millisecond)
	defer cancel()
	req, _ := http.NewRequestWithContext(ctx, "GET", url+"/slow", nil)
	if _, err := http.DefaultClient.Do(req); !errors.Is(err, context.DeadlineExceeded) {
		t.Errorf("request past its deadline: err = %v", err)
	}
	select {
	case got := <-results:
		if got != dataplane.Dropped {
			t.Errorf("Before = %d for a client that left, want dataplane.Dropped", got)
		}
	case <-time.After(5 * time.Second):
		t.Error("Before still sleeping after the client left")
	}
}

// Ensure List shows remaining counts and hits, and forgets rules whose
// count is used up or whose window closed, leaving the hot path empty.
func TestInjector_List(t *testing.T) {
	clk := &clock{t: testStart}
	inj := New(Options{Now: clk.Now})
	mustAdd(t, inj, rule.Rule{ID: "minute", Kind: rule.Latency, Latency: time.Millisecond, Until: testStart.Add(time.Minute)})
	mustAdd(t, inj, rule.Rule{ID: "three", Kind: rule.Throttle, Count: 3})
	url, _ := hookServer(t, inj)

	send(t, url, "GET", "/", "i-1")
	list := inj.List()
	if len(list) != 2 || list[1].ID != "three" || *list[1].Remaining != 2 || list[1].Hits != 1 ||
		list[0].Remaining != nil || list[0].Hits != 1 || list[0].Until != "2026-12-04T16:01:00Z" {
		t.Fatalf("List() = %+v", list)
	}

	send(t, url, "GET", "/", "i-1")
	send(t, url, "GET", "/", "i-1")
	if list := inj.List(); len(list) != 1 || list[0].ID != "minute" || list[0].Hits != 3 {
		t.Errorf("after the count ran out: List() = %+v, want only minute", list)
	}
	clk.Advance(time.Minute)
	if got := send(t, url, "GET", "/", "i-1"); got != 200 {
		t.Errorf("after every rule ended: %d, want 200", got)
	}
	if list := inj.List(); len(list) != 0 || inj.active.Load() != nil {
		t.Errorf("after every rule ended: List() = %+v, active %v", list, inj.active.Load())
	}
}

// Ensure Add assigns free ids and refuses bad rules, repeated ids and
// rules past MaxRules; Remove and Clear delete.
func TestInjector_Add(t *testing.T) {
	inj := New(Options{})
	mustAdd(t, inj, rule.Rule{ID: "f2", Kind: rule.Drop})
	if r := mustAdd(t, inj, rule.Rule{Kind: rule.Drop}); r.ID != "f1" || r.Instance != "*" || r.Path != "/" {
		t.Errorf("first generated rule = %+v, want id f1 with defaults", r)
	}
	if r := mustAdd(t, inj, rule.Rule{Kind: rule.Drop}); r.ID != "f3" {
		t.Errorf("second generated id = %s, want f3 (f2 is taken)", r.ID)
	}
	if _, err := inj.Add(rule.Rule{ID: "f2", Kind: rule.Drop}); !errors.Is(err, ErrDuplicate) {
		t.Errorf("Add of a taken id = %v, want ErrDuplicate", err)
	}
	var fe *rule.FieldError
	if _, err := inj.Add(rule.Rule{Kind: "boom"}); !errors.As(err, &fe) || fe.Field != "kind" {
		t.Errorf("Add of a bad kind = %v, want a kind error", err)
	}
	if err := inj.Remove("f2"); err != nil {
		t.Errorf("Remove(f2) = %v", err)
	}
	if err := inj.Remove("f2"); !errors.Is(err, ErrNotFound) {
		t.Errorf("second Remove(f2) = %v, want ErrNotFound", err)
	}
	for len(inj.List()) < MaxRules {
		mustAdd(t, inj, rule.Rule{Kind: rule.Drop})
	}
	if _, err := inj.Add(rule.Rule{Kind: rule.Drop}); !errors.Is(err, ErrTooMany) {
		t.Errorf("Add past MaxRules = %v, want ErrTooMany", err)
	}
	if n := inj.Clear(); n != MaxRules || inj.active.Load() != nil {
		t.Errorf("Clear() = %d, want %d and no active rules", n, MaxRules)
	}
}

// Ensure a count is never overspent when many requests race for it.
func TestInjector_BeforeConcurrent(t *testing.T) {
	inj := New(Options{})
	mustAdd(t, inj, rule.Rule{Kind: rule.Throttle, Count: 50})
	in := &imds.Instance{ID: "i-1"}
	var wg sync.WaitGroup
	var mu sync.Mutex
	throttled := 0
	for range 16 {
		wg.Go(func() {
			for range 20 {
				w := httptest.NewRecorder()
				if inj.Before(w, httptest.NewRequest("GET", "/", nil), in) == 429 {
					mu.Lock()
					throttled++
					mu.Unlock()
				}
			}
		})
	}
	wg.Wait()
	if throttled != 50 {
		t.Errorf("%d requests throttled, want exactly 50", throttled)
	}
	if list := inj.List(); len(list) != 0 {
		t.Errorf("List() = %+v after the count ran out", list)
	}
}

// BenchmarkInjector_BeforeNoRules measures the hot path without rules:
// one atomic load, no allocation.
func BenchmarkInjector_BeforeNoRules(b *testing.B) {
	inj := New(Options{})
	in := &imds.Instance{ID: "i-1"}
	r := httptest.NewRequest("GET", "/latest/meta-data/", nil)
	b.ReportAllocs()
	for b.Loop() {
		inj.Before(nil, r, in)
	}
}
