//go:build linux

package netns_test

import (
	"testing"
)

// TestHopLimit_KeepAlive covers BL-28's keep-alive case at the IP layer.
func TestHopLimit_KeepAlive(t *testing.T) {
	// Ensure that with keep-alive a client within the hop limit gets the
	// token and then a GET over the same TCP connection, and that a client
	// beyond it, whose PUT went unanswered, still gets GETs on a new one.
	tp := newTopology(t)
	limit1 := tp.serve(t, serverConfig{hopLimit: 1, port: 1338, keepAlive: true})
	limit2 := tp.serve(t, serverConfig{hopLimit: 2, port: 1339, keepAlive: true})

	for _, fam := range families {
		t.Run(fam+"/PUT then GET on one connection, limit 2", func(t *testing.T) {
			t.Parallel()
			c := dial(t, tp.cli, limit2.addr(fam))
			a, err := c.do("PUT", tokenPath, noAnswerWait)
			wantAnswer(t, "PUT", a, err)
			if a.close {
				t.Fatal("PUT: server closes the connection; want it kept alive")
			}
			a, err = c.do("GET", idPath, noAnswerWait)
			wantAnswer(t, "GET", a, err)
		})
		t.Run(fam+"/GET on a new connection after an unanswered PUT, limit 1", func(t *testing.T) {
			t.Parallel()
			put := dial(t, tp.cli, limit1.addr(fam))
			a, err := put.do("PUT", tokenPath, noAnswerWait)
			wantNoAnswer(t, tp, a, err)
			get := dial(t, tp.cli, limit1.addr(fam))
			a, err = get.do("GET", idPath, noAnswerWait)
			wantAnswer(t, "GET", a, err)
		})
	}
}
