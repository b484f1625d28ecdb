package dataplane

import (
	"bufio"
	"crypto/rand"
	"net/http"
	"net/http/httptest"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/imds-dev/imds"
	"github.com/imds-dev/imds/creds"
	"github.com/imds-dev/imds/token"
	"github.com/imds-dev/imds/tree"
)

// Fuzz modes, as bits of FuzzServeHTTP's mode byte.
const (
	fuzzRequired  = 1 << iota // http-tokens=required
	fuzzDisabled              // http-endpoint=disabled
	fuzzForwarded             // send X-Forwarded-For
)

// fuzzPlanes returns one data plane per combination of the first two mode
// bits, all sharing a clock that never moves and one key ring.
func fuzzPlanes(t testing.TB) [4]*Server {
	start := time.Date(2026, 12, 4, 16, 0, 0, 0, time.UTC)
	now := func() time.Time { return start }
	ring, err := token.NewKeyRing(start)
	if err != nil {
		t.Fatal(err)
	}
	seed := make([]byte, 32)
	rand.Read(seed)
	opts := tree.Options{Creds: creds.NewGenerator(seed, creds.DefaultSchedule), Sign: sharedSigner(t).Sign}
	var planes [4]*Server
	for mode := range planes {
		in := testInstance(start)
		tagsEnabled(in)
		if mode&fuzzRequired != 0 {
			in.Options.HTTPTokens = imds.TokensRequired
		}
		if mode&fuzzDisabled != 0 {
			in.Options.HTTPEndpoint = imds.Disabled
		}
		view := NewView(in, func(in *imds.Instance, now time.Time) *tree.Tree { return tree.Build(in, opts, now) })
		planes[mode] = New(Config{Directory: Single{View: view}, Tokens: token.NewAuthority(ring, now), Now: now})
	}
	return planes
}

// FuzzServeHTTP feeds arbitrary methods, request targets and header values
// to the handler and checks what must hold for every answer.
func FuzzServeHTTP(f *testing.F) {
	seeds := []struct {
		method, target, tok, ttl, xff string
		mode                          byte
	}{
		{"GET", "/latest/meta-data/instance-id", "", "", "", 0},
		{"GET", "/latest/meta-data/instance-id", "VALID", "", "", fuzzRequired},
		{"PUT", "/latest/api/token", "", "21600", "", 0},
		{"PUT", "/latest/api/token", "", "60", "203.0.113.7", fuzzForwarded},
		{"PUT", "/2021-03-23/api/token", "", "60", "", 0},
		{"OPTIONS", "/latest/api/token", "", "", "", 0},
		{"HEAD", "/latest/user-data", "", "", "", 0},
		{"GET", "/latest/meta-data/..", "", "", "", 0},
		{"GET", "/latest/meta-data/%2e%2e/%2e%2e/", "", "", "", 0},
		{"GET", "//latest//meta-data//", "", "", "", 0},
		{"GET", "/latest/meta-data/instance-id%00", "", "", "", 0},
		{"GET", "/latest/" + strings.Repeat("a/", 4000), "", "", "", 0},
		{"GET", "http://x", "", "", "", 0},
		{"GET", "*", "", "", "", 0},
		{"DELETE", "/latest/api/token", "VALID", "1", "x", fuzzForwarded | fuzzDisabled},
	}
	for _, s := range seeds {
		f.Add(s.method, s.target, s.tok, s.ttl, s.xff, s.mode)
	}
	planes := fuzzPlanes(f)
	authority := planes[0].tokens

	f.Fuzz(func(t *testing.T, method, target, tok, ttl, xff string, mode byte) {
		if strings.ContainsAny(method+target+tok+ttl+xff, "\r\n") {
			t.Skip("line breaks would only add or split headers")
		}
		if tok == "VALID" {
			var err error
			if tok, err = authority.Issue("i-0123456789abcdef0", 60); err != nil {
				t.Fatal(err)
			}
		}
		raw := method + " " + target + " HTTP/1.1\r\nHost: x\r\n"
		if tok != "" {
			raw += "X-aws-ec2-metadata-token: " + tok + "\r\n"
		}
		if ttl != "" {
			raw += "X-aws-ec2-metadata-token-ttl-seconds: " + ttl + "\r\n"
		}
		if mode&fuzzForwarded != 0 {
			raw += "X-Forwarded-For: " + xff + "\r\n"
		}
		req, err := http.ReadRequest(bufio.NewReader(strings.NewReader(raw + "\r\n")))
		if err != nil {
			t.Skip("net/http refuses this request before any handler")
		}
		req.RemoteAddr = "127.0.0.1:40000"

		rec := httptest.NewRecorder()
		planes[mode&3].ServeHTTP(rec, req)
		fuzzCheck(t, req, rec, mode, authority)
	})
}

// fuzzCheck asserts the invariants of one answer.
func fuzzCheck(t *testing.T, req *http.Request, rec *httptest.ResponseRecorder, mode byte, authority *token.Authority) {
	status := rec.Code
	switch status {
	case 200, 400, 401, 403, 404, 405:
	default:
		t.Fatalf("%s %q: status %d", req.Method, req.RequestURI, status)
	}
	if got := rec.Header().Get("Server"); got != "EC2ws" {
		t.Errorf("Server = %q", got)
	}
	if cl := rec.Header().Get("Content-Length"); cl != strconv.Itoa(rec.Body.Len()) {
		t.Errorf("Content-Length %q, body %d bytes", cl, rec.Body.Len())
	}
	if mode&fuzzDisabled != 0 && status != 403 {
		t.Errorf("endpoint disabled answered %d", status)
	}
	if (status == 401 || status == 403 || status == 405) && rec.Body.Len() != 0 {
		t.Errorf("%d with body %q", status, rec.Body.String())
	}
	if status != 200 {
		return
	}

	onToken := req.URL.Path == TokenPath
	switch {
	case req.Method == http.MethodGet || req.Method == http.MethodHead:
	case req.Method == http.MethodOptions && onToken:
	case req.Method == http.MethodPut && onToken:
		if _, err := authority.Verify(rec.Body.String(), "i-0123456789abcdef0"); err != nil {
			t.Errorf("issued token %q does not verify: %v", rec.Body.String(), err)
		}
	default:
		t.Errorf("200 for %s %q", req.Method, req.RequestURI)
	}
}
