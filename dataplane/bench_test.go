package dataplane

import (
	"context"
	"crypto/rand"
	"net"
	"net/http"
	"net/http/httptest"
	"testing"
	"time"

	"github.com/imds-dev/imds"
	"github.com/imds-dev/imds/creds"
	"github.com/imds-dev/imds/token"
	"github.com/imds-dev/imds/tree"
)

// The benchmarks drive ServeHTTP directly with a reused request and a
// writer that throws the body away, so they measure the handler alone: no
// sockets, no HTTP parsing. BenchmarkBareHandler does the same for a
// hello-world handler, which makes imds/bare ratios readable from one run:
//
//	go test -run '^$' -bench . -benchmem ./dataplane/
//
// bench/load.sh measures the same paths over real connections.

// discardWriter is the smallest http.ResponseWriter: one header map, cleared
// between requests so that each starts empty as under net/http, and a body
// that is only counted.
type discardWriter struct {
	h      http.Header
	status int
	n      int
}

func newDiscardWriter() *discardWriter { return &discardWriter{h: make(http.Header, 8)} }

func (w *discardWriter) Header() http.Header { return w.h }

func (w *discardWriter) WriteHeader(code int) {
	if w.status == 0 {
		w.status = code
	}
}

func (w *discardWriter) Write(b []byte) (int, error) {
	if w.status == 0 {
		w.status = http.StatusOK
	}
	w.n += len(b)
	return len(b), nil
}

// WriteString is there because net/http's writer has it too, so a handler
// that writes a string through io.WriteString pays no conversion here either.
func (w *discardWriter) WriteString(s string) (int, error) {
	if w.status == 0 {
		w.status = http.StatusOK
	}
	w.n += len(s)
	return len(s), nil
}

func (w *discardWriter) reset() {
	clear(w.h)
	w.status = 0
	w.n = 0
}

// benchPlane is a data plane serving the default instance with the real
// clock, as `imds serve` does, but reached without a listener.
type benchPlane struct {
	plane *Server
	auth  *token.Authority
	id    string
}

func newBenchPlane(b *testing.B) *benchPlane {
	b.Helper()
	now := time.Now()
	in := testInstance(now)
	seed := make([]byte, 32)
	rand.Read(seed)
	opts := tree.Options{Creds: creds.NewGenerator(seed, creds.DefaultSchedule), Sign: sharedSigner(b).Sign}
	view := NewView(in, func(in *imds.Instance, now time.Time) *tree.Tree { return tree.Build(in, opts, now) })
	ring, err := token.NewKeyRing(now)
	if err != nil {
		b.Fatal(err)
	}
	auth := token.NewAuthority(ring, nil)
	plane := New(Config{Directory: Single{View: view}, Tokens: auth})
	return &benchPlane{plane: plane, auth: auth, id: in.ID}
}

// request builds a request as net/http would hand it over on a loopback
// IPv4 connection. A token header, when wanted, carries a fresh token.
func (p *benchPlane) request(b *testing.B, method, path string, hdr map[string]string) *http.Request {
	b.Helper()
	r := httptest.NewRequest(method, path, nil)
	r.RemoteAddr = "127.0.0.1:40000"
	local := &net.TCPAddr{IP: net.IPv4(127, 0, 0, 1), Port: 8080}
	r = r.WithContext(context.WithValue(r.Context(), http.LocalAddrContextKey, local))
	for k, v := range hdr {
		if v == "TOK" {
			tok, err := p.auth.Issue(p.id, token.MaxTTL)
			if err != nil {
				b.Fatal(err)
			}
			v = tok
		}
		r.Header.Set(k, v)
	}
	return r
}

// serveOnce answers r into w and fails unless the status is want.
func serveOnce(b *testing.B, h http.Handler, w *discardWriter, r *http.Request, want int) {
	b.Helper()
	w.reset()
	h.ServeHTTP(w, r)
	if w.status != want {
		b.Fatalf("%s %s: status %d, want %d", r.Method, r.URL.Path, w.status, want)
	}
}

// benchCase is one request the benchmarks replay.
type benchCase struct {
	name   string
	method string
	path   string
	hdr    map[string]string
}

var benchCases = []benchCase{
	{name: "v1_instance_id", method: "GET", path: "/latest/meta-data/instance-id"},
	{name: "v2_instance_id", method: "GET", path: "/latest/meta-data/instance-id",
		hdr: map[string]string{hdrToken: "TOK"}},
	{name: "token_put", method: "PUT", path: TokenPath,
		hdr: map[string]string{hdrTokenTTL: "21600"}},
	{name: "v2_credentials", method: "GET", path: "/latest/meta-data/iam/security-credentials/app-role",
		hdr: map[string]string{hdrToken: "TOK"}},
	{name: "v1_listing", method: "GET", path: "/latest/meta-data/"},
}

// BenchmarkServer measures one request of each kind on one goroutine.
func BenchmarkServer(b *testing.B) {
	p := newBenchPlane(b)
	for _, tc := range benchCases {
		b.Run(tc.name, func(b *testing.B) {
			r := p.request(b, tc.method, tc.path, tc.hdr)
			w := newDiscardWriter()
			serveOnce(b, p.plane, w, r, http.StatusOK)
			b.ReportAllocs()
			b.SetBytes(int64(w.n))
			for b.Loop() {
				w.reset()
				p.plane.ServeHTTP(w, r)
			}
			if w.status != http.StatusOK {
				b.Fatalf("status %d", w.status)
			}
		})
	}
}

// BenchmarkServer_Parallel runs the same requests from GOMAXPROCS goroutines
// against one server: the hot path takes no lock, so ns/op should shrink
// with cores rather than grow.
func BenchmarkServer_Parallel(b *testing.B) {
	p := newBenchPlane(b)
	for _, tc := range benchCases {
		b.Run(tc.name, func(b *testing.B) {
			probe := p.request(b, tc.method, tc.path, tc.hdr)
			serveOnce(b, p.plane, newDiscardWriter(), probe, http.StatusOK)
			b.ReportAllocs()
			b.RunParallel(func(pb *testing.PB) {
				// Each goroutine gets its own writer and request; the
				// request is only read, but net/http never shares one.
				r := probe.Clone(probe.Context())
				w := newDiscardWriter()
				for pb.Next() {
					w.reset()
					p.plane.ServeHTTP(w, r)
					if w.status != http.StatusOK {
						b.Errorf("status %d", w.status)
						return
					}
				}
			})
		})
	}
}

// helloBody has the size of an instance id, the body bench/hello serves.
var helloBody = []byte("i-0123456789abcdef0")

// hello is the baseline handler, written the ordinary net/http way and
// answering with the headers bench/hello sends.
func hello(w http.ResponseWriter, r *http.Request) {
	h := w.Header()
	h.Set("Server", "x")
	h.Set("Content-Type", "text/plain")
	h.Set("Content-Length", "19")
	w.Write(helloBody)
}

// BenchmarkBareHandler is the baseline for BenchmarkServer: the same
// request path and writer, a handler that does nothing but answer.
func BenchmarkBareHandler(b *testing.B) {
	p := &benchPlane{}
	r := p.request(b, "GET", "/latest/meta-data/instance-id", nil)
	w := newDiscardWriter()
	h := http.HandlerFunc(hello)
	serveOnce(b, h, w, r, http.StatusOK)
	b.ReportAllocs()
	b.SetBytes(int64(w.n))
	for b.Loop() {
		w.reset()
		h.ServeHTTP(w, r)
	}
}

// BenchmarkBareHandler_Parallel is the baseline for
// BenchmarkServer_Parallel: how far this machine scales a handler that
// shares nothing.
func BenchmarkBareHandler_Parallel(b *testing.B) {
	p := &benchPlane{}
	probe := p.request(b, "GET", "/latest/meta-data/instance-id", nil)
	h := http.HandlerFunc(hello)
	b.ReportAllocs()
	b.RunParallel(func(pb *testing.PB) {
		r := probe.Clone(probe.Context())
		w := newDiscardWriter()
		for pb.Next() {
			w.reset()
			h.ServeHTTP(w, r)
		}
	})
}

// BenchmarkAuthority_Issue measures minting one token, which includes
// reading 9 random bytes from the system.
func BenchmarkAuthority_Issue(b *testing.B) {
	p := newBenchPlane(b)
	b.ReportAllocs()
	for b.Loop() {
		if _, err := p.auth.Issue(p.id, token.MaxTTL); err != nil {
			b.Fatal(err)
		}
	}
}

// BenchmarkAuthority_Verify measures checking a good token and refusing a
// token of the right size with a bad tag.
func BenchmarkAuthority_Verify(b *testing.B) {
	p := newBenchPlane(b)
	good, err := p.auth.Issue(p.id, token.MaxTTL)
	if err != nil {
		b.Fatal(err)
	}
	// Change the last character, which lies wholly inside the tag.
	forged := []byte(good)
	if forged[len(forged)-1] == 'A' {
		forged[len(forged)-1] = 'B'
	} else {
		forged[len(forged)-1] = 'A'
	}
	cases := []struct {
		name string
		tok  string
		ok   bool
	}{
		{name: "good", tok: good, ok: true},
		{name: "bad_tag", tok: string(forged), ok: false},
	}
	for _, tc := range cases {
		b.Run(tc.name, func(b *testing.B) {
			b.ReportAllocs()
			for b.Loop() {
				_, err := p.auth.Verify(tc.tok, p.id)
				if (err == nil) != tc.ok {
					b.Fatalf("Verify: %v", err)
				}
			}
		})
	}
}
