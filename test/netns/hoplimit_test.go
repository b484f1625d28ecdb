//go:build linux

package netns_test

import (
	"errors"
	"testing"
	"time"
)

// families are the two IP versions every case runs over.
var families = []string{"ipv4", "ipv6"}

// noAnswerWait is how long a client waits before it calls a PUT
// unanswered, as `curl --max-time 2` would.
const noAnswerWait = 2 * time.Second

// TestHopLimit_TokenAnswer proves BL-28 at the IP layer (SPEC.md 8.3).
func TestHopLimit_TokenAnswer(t *testing.T) {
	// Ensure the token answer dies at the router when the client is more
	// hops away than http-put-response-hop-limit, arrives when it is not,
	// and that GET answers reach the client either way.
	tp := newTopology(t)
	limit1 := tp.serve(t, serverConfig{hopLimit: 1, port: 1338})
	limit2 := tp.serve(t, serverConfig{hopLimit: 2, port: 1339})

	tests := []struct {
		name     string
		from     string // namespace of the client
		srv      *imdsServer
		method   string
		answered bool
	}{
		{"GET from two hops, limit 1", tp.cli, limit1, "GET", true},
		{"PUT from one hop, limit 1", tp.rtr, limit1, "PUT", true},
		{"PUT from two hops, limit 1", tp.cli, limit1, "PUT", false},
		{"PUT from two hops, limit 2", tp.cli, limit2, "PUT", true},
		{"GET from two hops, limit 2", tp.cli, limit2, "GET", true},
	}
	for _, fam := range families {
		for _, tt := range tests {
			t.Run(fam+"/"+tt.name, func(t *testing.T) {
				// Parallel, so the cases that wait out noAnswerWait
				// wait together.
				t.Parallel()
				c := dial(t, tt.from, tt.srv.addr(fam))
				path := idPath
				if tt.method == "PUT" {
					path = tokenPath
				}
				a, err := c.do(tt.method, path, noAnswerWait)
				if !tt.answered {
					wantNoAnswer(t, tp, a, err)
					return
				}
				wantAnswer(t, tt.method, a, err)
			})
		}
	}
}

// wantAnswer fails t unless a is a 200 carrying a token (PUT) or the
// instance id (GET).
func wantAnswer(t *testing.T, method string, a *answer, err error) {
	t.Helper()
	if err != nil {
		t.Fatalf("%s: %v", method, err)
	}
	if a.status != 200 {
		t.Fatalf("%s: status %d, want 200 (body %q)", method, a.status, a.body)
	}
	switch method {
	case "PUT":
		if len(a.body) < 40 {
			t.Errorf("PUT: body %q is not a token", a.body)
		}
	case "GET":
		if a.body != instanceID {
			t.Errorf("GET: body %q, want %q", a.body, instanceID)
		}
	}
}

// wantNoAnswer fails t unless the request got nothing back at all.
func wantNoAnswer(t *testing.T, tp *topology, a *answer, err error) {
	t.Helper()
	if errors.Is(err, errNoAnswer) {
		return
	}
	if err != nil {
		t.Fatalf("got %v, want no answer within %v", err, noAnswerWait)
	}
	t.Fatalf("got status %d with %d-byte body after %v, want no answer within %v; %s",
		a.status, len(a.body), a.took.Round(time.Millisecond), noAnswerWait, tp.packetLoss())
}
