package audit

import (
	"context"
	"net"
	"net/http"
	"net/http/httptest"
	"net/netip"
	"os"
	"runtime"
	"strconv"
	"testing"
	"time"

	"github.com/imds-dev/imds"
	"github.com/imds-dev/imds/dataplane"
)

// dialLoopback connects to a new listener on a loopback address ("tcp4"
// on 127.0.0.1, "tcp6" on ::1) and returns the client's connection and
// both ends as the server sees them: the client's address and its own.
// Both stay open until the test ends.
func dialLoopback(tb testing.TB, network string) (c net.Conn, client, server netip.AddrPort) {
	tb.Helper()
	host := "127.0.0.1"
	if network == "tcp6" {
		host = "::1"
	}
	ln, err := net.Listen(network, net.JoinHostPort(host, "0"))
	if err != nil {
		tb.Skipf("listen on %s: %v", host, err)
	}
	tb.Cleanup(func() { ln.Close() })
	if c, err = net.Dial(network, ln.Addr().String()); err != nil {
		tb.Fatal(err)
	}
	tb.Cleanup(func() { c.Close() })
	s, err := ln.Accept()
	if err != nil {
		tb.Fatal(err)
	}
	tb.Cleanup(func() { s.Close() })
	return c, s.RemoteAddr().(*net.TCPAddr).AddrPort(), s.LocalAddr().(*net.TCPAddr).AddrPort()
}

// v1Request is a token-less request as the data plane hands it to Observe,
// from client to server.
func v1Request(client, server netip.AddrPort) *http.Request {
	r := httptest.NewRequest("GET", "/latest/meta-data/instance-id", nil)
	r.RemoteAddr = client.String()
	ctx := context.WithValue(r.Context(), http.LocalAddrContextKey, net.TCPAddrFromAddrPort(server))
	return r.WithContext(ctx)
}

// fillTimeWait leaves n loopback connections in TIME_WAIT, closed by the
// server as imds closes every answered connection, when
// IMDS_AUDIT_TIMEWAIT asks for n. They linger for a minute in the network
// namespace, so run it in a namespace of its own (unshare -n).
func fillTimeWait(tb testing.TB) {
	tb.Helper()
	n, _ := strconv.Atoi(os.Getenv("IMDS_AUDIT_TIMEWAIT"))
	if n <= 0 {
		return
	}
	const perListener = 4000 // well inside the ephemeral ports connect() picks from
	var ln net.Listener
	defer func() {
		if ln != nil {
			ln.Close()
		}
	}()
	buf := make([]byte, 1)
	for i := range n {
		if i%perListener == 0 {
			if ln != nil {
				ln.Close()
			}
			var err error
			if ln, err = net.Listen("tcp4", "127.0.0.1:0"); err != nil {
				tb.Fatal(err)
			}
		}
		c, err := net.Dial("tcp4", ln.Addr().String())
		if err != nil {
			tb.Fatal(err)
		}
		s, err := ln.Accept()
		if err != nil {
			tb.Fatal(err)
		}
		s.Close() // the server closes first and keeps the TIME_WAIT row
		c.Read(buf)
		c.Close()
	}
}

// BenchmarkRecorder_Observe measures a token-less request's cost to the
// data plane: from a caller found before, one over the rate cap, and one
// from another host; serially and from every CPU at once on one instance.
func BenchmarkRecorder_Observe(b *testing.B) {
	if runtime.GOOS != "linux" {
		b.Skip("process lookup needs Linux")
	}
	fillTimeWait(b)
	_, client, server := dialLoopback(b, "tcp4")
	out := dataplane.Outcome{Instance: &imds.Instance{ID: "i-aaaaaaaaaaaaaaaaa"}, Version: 1, Status: 200}
	remote := v1Request(netip.MustParseAddrPort("192.0.2.10:40000"), server)
	cases := []struct {
		name string
		rate float64
		r    *http.Request
	}{
		{"cached", 1e9, v1Request(client, server)},
		{"limited", 1e-9, v1Request(client, server)},
		{"remote", 4, remote},
	}
	for _, c := range cases {
		rec := NewRecorder(Options{LookupsPerSecond: c.rate})
		rec.Observe(c.r, out, 0) // the first lookup, or the one the burst allows
		rec.Observe(c.r, out, 0)
		b.Run(c.name, func(b *testing.B) {
			b.ReportAllocs()
			for b.Loop() {
				rec.Observe(c.r, out, 0)
			}
		})
		b.Run(c.name+"/parallel", func(b *testing.B) {
			b.ReportAllocs()
			b.RunParallel(func(pb *testing.PB) {
				for pb.Next() {
					rec.Observe(c.r, out, 0)
				}
			})
		})
		if c.name == "cached" {
			if iu := rec.Report().Instances[0]; len(iu.Callers) != 1 || iu.Unattributed != 0 {
				b.Fatalf("cached case: callers %+v, %d unattributed, lookups %+v", iu.Callers, iu.Unattributed, rec.Report().Lookups)
			}
		}
	}
}

// BenchmarkSocketInode measures finding a socket's inode, by sock_diag
// and by the tcp tables: averaged over sixteen connections, since a table
// scan stops where it finds one, and for a socket already gone, which
// costs a whole scan.
func BenchmarkSocketInode(b *testing.B) {
	if runtime.GOOS != "linux" {
		b.Skip("needs Linux")
	}
	fillTimeWait(b)
	type pair struct{ client, server netip.AddrPort }
	var conns []pair
	for range 16 {
		_, c, s := dialLoopback(b, "tcp4")
		conns = append(conns, pair{c, s})
	}
	gone := pair{netip.MustParseAddrPort("127.0.0.1:1"), conns[0].server}
	scan := func(c, s netip.AddrPort) (uint64, error) { return scanTables("/proc", c, s) }
	for _, m := range []struct {
		name  string
		inode func(client, server netip.AddrPort) (uint64, error)
	}{{"sock_diag", sockDiagInode}, {"procfs", scan}} {
		b.Run(m.name, func(b *testing.B) {
			b.ReportAllocs()
			i := 0
			for b.Loop() {
				p := conns[i%len(conns)]
				i++
				if _, err := m.inode(p.client, p.server); err != nil {
					b.Fatal(err)
				}
			}
		})
		b.Run(m.name+"/gone", func(b *testing.B) {
			b.ReportAllocs()
			for b.Loop() {
				if _, err := m.inode(gone.client, gone.server); err == nil {
					b.Fatal("found a socket that is gone")
				}
			}
		})
	}
}

// BenchmarkFinder_Find measures a whole lookup: for a socket seen before,
// for a new socket of a process found before (a caller opening a
// connection per request), and for a process never seen, which costs a
// walk over every process's descriptors.
func BenchmarkFinder_Find(b *testing.B) {
	if runtime.GOOS != "linux" {
		b.Skip("needs Linux")
	}
	_, client, server := dialLoopback(b, "tcp4")
	cases := []struct {
		name   string
		forget func(f *finder)
	}{
		{"cached socket", func(*finder) {}},
		{"known process", func(f *finder) { clear(f.owners) }},
		{"new process", func(f *finder) { clear(f.owners); f.likely = f.likely[:0]; clear(f.commands) }},
	}
	for _, c := range cases {
		b.Run(c.name, func(b *testing.B) {
			f := newFinder("/proc", 1e9, time.Now)
			if _, ok := f.find(client, server); !ok {
				b.Fatalf("lookup failed: %+v", f.stats())
			}
			b.ReportAllocs()
			for b.Loop() {
				c.forget(f)
				if _, ok := f.find(client, server); !ok {
					b.Fatalf("lookup failed: %+v", f.stats())
				}
			}
		})
	}
}
