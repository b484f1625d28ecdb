package audit

import (
	"fmt"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/imds-dev/imds"
	"github.com/imds-dev/imds/dataplane"
)

// TestRecorder_Observe feeds outcomes without a network.
func TestRecorder_Observe(t *testing.T) {
	// Ensure only token-less requests of known instances are counted, paths
	// and callers stay within their caps, and sightings follow the clock.
	a := &imds.Instance{ID: "i-aaaaaaaaaaaaaaaaa"}
	b := &imds.Instance{ID: "i-bbbbbbbbbbbbbbbbb"}
	long := "/latest/" + strings.Repeat("x", 1000)
	type req struct {
		in      *imds.Instance
		path    string
		version int
		refusal string
	}
	tests := []struct {
		name string
		reqs []req
		want []InstanceUsage // paths and times not compared when nil
	}{
		{"v2 and unknown source ignored", []req{
			{a, "/latest/meta-data/", 2, ""},
			{nil, "/latest/meta-data/", 1, dataplane.RefusedUnknownSource},
			{a, "/latest/api/token", 0, ""},
		}, []InstanceUsage{}},
		{"served and refused", []req{
			{a, "/latest/meta-data/", 1, ""},
			{a, "/latest/meta-data/", 1, dataplane.RefusedNoToken},
			{b, "/latest/user-data", 1, ""},
		}, []InstanceUsage{
			{InstanceID: a.ID, Served: 1, Refused: 1, Paths: []PathCount{{"/latest/meta-data/", 2}}},
			{InstanceID: b.ID, Served: 1, Paths: []PathCount{{"/latest/user-data", 1}}},
		}},
		{"paths capped", []req{
			{a, "/1", 1, ""}, {a, "/2", 1, ""}, {a, "/2", 1, ""}, {a, "/3", 1, ""}, {a, "/1", 1, ""},
		}, []InstanceUsage{
			{InstanceID: a.ID, Served: 5, Paths: []PathCount{{"/1", 2}, {"/2", 2}}, OtherPaths: 1},
		}},
		{"long path cut", []req{{a, long, 1, ""}}, []InstanceUsage{
			{InstanceID: a.ID, Served: 1, Paths: []PathCount{{long[:maxPathLen] + "…", 1}}},
		}},
		{"unprintable path", []req{{a, "/latest/\x1b[2J\t", 1, ""}}, []InstanceUsage{
			{InstanceID: a.ID, Served: 1, Paths: []PathCount{{"/latest/?[2J?", 1}}},
		}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			now := time.Date(2026, 12, 4, 16, 0, 0, 0, time.UTC)
			rec := NewRecorder(Options{MaxPaths: 2, Now: func() time.Time { return now }})
			start := now
			for _, q := range tt.reqs {
				now = now.Add(time.Second)
				r := httptest.NewRequest("GET", "/", nil)
				r.URL.Path = q.path
				r.RemoteAddr = "192.0.2.10:40000" // not loopback: no process lookup
				rec.Observe(r, dataplane.Outcome{Instance: q.in, Version: q.version, Refusal: q.refusal}, 0)
			}
			got := rec.Report().Instances
			if len(got) != len(tt.want) {
				t.Fatalf("Report() lists %d instances, want %d: %+v", len(got), len(tt.want), got)
			}
			for i, w := range tt.want {
				g := got[i]
				if g.InstanceID != w.InstanceID || g.Served != w.Served || g.Refused != w.Refused || g.OtherPaths != w.OtherPaths {
					t.Errorf("instance %d = %+v, want %+v", i, g, w)
				}
				if !equalPaths(g.Paths, w.Paths) {
					t.Errorf("instance %d paths = %+v, want %+v", i, g.Paths, w.Paths)
				}
				if !g.FirstSeen.After(start) || g.LastSeen.Before(g.FirstSeen) || g.LastSeen.After(now) {
					t.Errorf("instance %d seen %v to %v, outside %v to %v", i, g.FirstSeen, g.LastSeen, start, now)
				}
				if len(g.Callers) != 0 || g.Unattributed != 0 {
					t.Errorf("instance %d has callers %+v for a remote source", i, g.Callers)
				}
			}
		})
	}
}

func equalPaths(a, b []PathCount) bool {
	if len(a) != len(b) {
		return false
	}
	for i := range a {
		if a[i] != b[i] {
			return false
		}
	}
	return true
}

// TestUsage_Caller checks the cap on callers.
func TestUsage_Caller(t *testing.T) {
	// Ensure callers beyond the cap are counted apart and a reused pid with
	// another command is another caller.
	now := time.Now()
	u := newUsage(now)
	for _, p := range []Process{{1, "a"}, {2, "b"}, {1, "a"}, {1, "c"}, {3, "d"}} {
		u.caller(now, p, 3)
	}
	iu := u.report("i-1")
	if len(iu.Callers) != 3 || iu.OtherCallers != 1 {
		t.Fatalf("callers = %+v, other %d, want 3 and 1", iu.Callers, iu.OtherCallers)
	}
	if c := iu.Callers[0]; c.PID != 1 || c.Command != "a" || c.Requests != 2 {
		t.Errorf("busiest caller = %+v, want pid 1 \"a\" with 2 requests", c)
	}
}

// TestChain checks that hooks run in order and nils are skipped.
func TestChain(t *testing.T) {
	// Ensure Chain keeps nil for no hooks and runs every given hook once.
	if Chain() != nil || Chain(nil, nil) != nil {
		t.Fatal("Chain of no hooks is not nil")
	}
	var order []int
	hook := func(n int) AfterFunc {
		return func(*http.Request, dataplane.Outcome, time.Duration) { order = append(order, n) }
	}
	tests := []struct {
		name  string
		hooks []AfterFunc
		want  string
	}{
		{"one", []AfterFunc{nil, hook(1)}, "[1]"},
		{"three", []AfterFunc{hook(1), nil, hook(2), hook(3)}, "[1 2 3]"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			order = nil
			Chain(tt.hooks...)(nil, dataplane.Outcome{}, 0)
			if got := fmt.Sprint(order); got != tt.want {
				t.Errorf("ran %s, want %s", got, tt.want)
			}
		})
	}
}

// TestRecorder_ObserveConcurrent races requests of one instance.
func TestRecorder_ObserveConcurrent(t *testing.T) {
	// Ensure no request is lost or counted twice when many arrive at once,
	// the path cap holds, and the last sighting is the latest clock reading
	// in the clock's location.
	in := &imds.Instance{ID: "i-aaaaaaaaaaaaaaaaa"}
	start := time.Date(2026, 12, 4, 16, 0, 0, 0, time.UTC)
	tests := []struct {
		name              string
		workers, requests int
		paths, maxPaths   int
	}{
		{"within cap", 8, 500, 4, 8},
		{"beyond cap", 8, 500, 16, 4},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var tick atomic.Int64
			rec := NewRecorder(Options{MaxPaths: tt.maxPaths,
				Now: func() time.Time { return start.Add(time.Duration(tick.Add(1)) * time.Second) }})
			var wg sync.WaitGroup
			for w := range tt.workers {
				wg.Go(func() {
					for i := range tt.requests {
						r := httptest.NewRequest("GET", fmt.Sprintf("/p%d", (w+i)%tt.paths), nil)
						r.RemoteAddr = "192.0.2.10:40000"
						rec.Observe(r, dataplane.Outcome{Instance: in, Version: 1, Refusal: map[bool]string{true: dataplane.RefusedNoToken}[i%2 == 0]}, 0)
					}
				})
			}
			wg.Wait()
			total := uint64(tt.workers * tt.requests)
			last := start.Add(time.Duration(tick.Load()) * time.Second)
			iu := rec.Report().Instances[0]
			if iu.Served+iu.Refused != total || iu.Refused != total/2 {
				t.Errorf("served %d + refused %d, want %d half refused", iu.Served, iu.Refused, total)
			}
			sum := iu.OtherPaths
			for _, p := range iu.Paths {
				sum += p.Requests
			}
			if sum != total || len(iu.Paths) != min(tt.paths, tt.maxPaths) {
				t.Errorf("%d paths counting %d requests with %d others, want %d paths and %d requests",
					len(iu.Paths), sum-iu.OtherPaths, iu.OtherPaths, min(tt.paths, tt.maxPaths), total)
			}
			if iu.LastSeen != last {
				t.Errorf("last seen %v, want %v", iu.LastSeen, last)
			}
		})
	}
}
