package dataplane

import (
	"log/slog"
	"net"
	"net/http"
	"net/netip"
	"strconv"
	"strings"
	"sync/atomic"
	"time"

	"github.com/imds-dev/imds/token"
)

// ServeHTTP answers one data-plane request. The checks run in the order
// SPEC.md 7.1 fixes: endpoint disabled, method, dated token path,
// X-Forwarded-For, TTL; then token validity, then the path.
func (s *Server) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	start := s.now()
	if s.accessLog == nil && s.hooks.After == nil {
		s.serve(w, r, start)
		return
	}
	out := s.serve(w, r, start)
	took := s.now().Sub(start)
	if s.hooks.After != nil {
		s.hooks.After(r, out, took)
	}
	if s.accessLog != nil {
		s.logAccess(r, out, took)
	}
}

// serve answers r as seen at now, the moment the request arrived; one
// clock reading serves the tree's validity check and the hooks' timing.
func (s *Server) serve(w http.ResponseWriter, r *http.Request, now time.Time) Outcome {
	if s.keepAlive {
		if cs := connStateOf(r); cs != nil && cs.restoreTTL != nil {
			cs.restoreTTL()
			cs.restoreTTL = nil
		}
	}
	src := sourceAddr(r)
	view := s.dir.Lookup(src)
	if view == nil {
		s.counters.UnknownSource.Add(1)
		s.anomalies.warn("unknown-source", "request from an address no instance owns",
			slog.String("source", src.String()), slog.String("path", r.URL.Path))
		return Outcome{Status: s.writeError(w, errForbidden), Refusal: RefusedUnknownSource}
	}
	in := view.Instance()
	opts := in.Options
	out := Outcome{Instance: in}

	if !opts.IPv6Enabled() && arrivedOverIPv6(r) {
		// The instance has no IPv6 endpoint: no HTTP answer at all.
		s.counters.IPv6Refused.Add(1)
		out.Refusal = RefusedIPv6
		DropConnection(w)
		return out
	}
	if s.hooks.Before != nil {
		if status := s.hooks.Before(w, r, in); status != 0 {
			out.Status, out.Refusal = max(status, 0), RefusedFault
			return out
		}
	}
	if opts.EndpointDisabled() {
		s.counters.EndpointDisabled.Add(1)
		return out.refused(s.writeError(w, errForbidden), RefusedDisabled)
	}

	path := r.URL.Path
	if path == "" {
		// An absolute-form target with no path ("GET http://host HTTP/1.1")
		// means the root (RFC 9112 3.2.2); slicing it below would panic.
		path = "/"
	}
	if path == TokenPath {
		out.Status, out.Refusal = s.serveToken(w, r, in.ID, in.Options.HTTPPutHopLimit)
		out.TokenRequest = true
		return out
	}
	if r.Method != http.MethodGet && r.Method != http.MethodHead {
		if r.Method == http.MethodPut && isDatedTokenPath(path) {
			s.counters.TokensRefused.Add(1)
			out.TokenRequest = true
			return out.refused(s.writeError(w, errForbidden), RefusedDatedTokenPath)
		}
		s.counters.MethodNotAllowed.Add(1)
		return out.refused(s.writeError(w, errMethodMetadata), RefusedMethod)
	}

	// A token header makes the request IMDSv2, and then the token must be
	// good: a bad token is never downgraded to IMDSv1.
	remaining := 0
	tok, present, ok := singleHeader(r.Header, hdrToken)
	switch {
	case present:
		out.Version = 2
		if !ok {
			s.counters.RefusedBadToken.Add(1)
			return out.refused(s.writeError(w, errUnauthorized), RefusedBadToken)
		}
		if _, fwd := r.Header[hdrForwardedFor]; fwd {
			s.counters.ForwardedRefused.Add(1)
			return out.refused(s.writeError(w, errForbidden), RefusedForwarded)
		}
		var err error
		remaining, err = s.tokens.Verify(tok, in.ID)
		if err != nil {
			return out.refused(s.writeError(w, errUnauthorized), s.countTokenFailure(err))
		}
	case opts.TokensRequired():
		out.Version = 1
		s.counters.RefusedNoToken.Add(1)
		return out.refused(s.writeError(w, errUnauthorized), RefusedNoToken)
	default:
		out.Version = 1
	}

	out.Status = s.serveMetadata(w, path, view, remaining, now)
	return out
}

// serveMetadata answers a GET or HEAD from the instance's tree. remaining is
// the token's remaining TTL, or 0 for a request without a token.
func (s *Server) serveMetadata(w http.ResponseWriter, path string, view *View, remaining int, now time.Time) int {
	v2 := remaining > 0
	if v2 {
		s.counters.RequestsV2.Add(1)
	} else {
		s.counters.RequestsV1.Add(1)
	}

	h := w.Header()
	s.commonHeaders(h)
	if v2 {
		h[hdrTokenTTL] = ttlHeaderValue(remaining)
	}
	if path == "/" {
		h["Content-Type"] = textPlainHdr
		h["Content-Length"] = s.rootLen
		h["Accept-Ranges"] = acceptNone
		w.WriteHeader(http.StatusOK)
		w.Write(s.root)
		return http.StatusOK
	}

	version, rest, _ := strings.Cut(path[1:], "/")
	if !s.versions[version] {
		s.counters.NotFound.Add(1)
		return s.writeError(w, errNotFound)
	}
	node, ok := view.Tree(now).Lookup(rest)
	if !ok {
		s.counters.NotFound.Add(1)
		return s.writeError(w, errNotFound)
	}
	body, length := node.Content(v2)
	if node.ContentType == "text/plain" {
		h["Content-Type"] = textPlainHdr
		h["Accept-Ranges"] = acceptNone
	} else {
		h["Content-Type"] = []string{node.ContentType}
		h["Accept-Ranges"] = acceptBytes
	}
	h["Content-Length"] = length
	w.WriteHeader(http.StatusOK)
	w.Write(body)
	return http.StatusOK
}

// countTokenFailure counts a refused token and names the refusal.
func (s *Server) countTokenFailure(err error) string {
	if err == token.ErrExpired {
		s.counters.RefusedExpired.Add(1)
		return RefusedExpired
	}
	s.counters.RefusedBadToken.Add(1)
	return RefusedBadToken
}

// singleHeader returns the value of a header that must appear at most once.
// present reports whether it appeared with a non-empty value (an empty value
// counts as absent); ok is false when it appeared more than once with
// different values, which makes the request ambiguous.
func singleHeader(h http.Header, name string) (value string, present, ok bool) {
	vals := h[name]
	switch len(vals) {
	case 0:
		return "", false, true
	case 1:
		return vals[0], vals[0] != "", true
	}
	for _, v := range vals[1:] {
		if v != vals[0] {
			return "", true, false
		}
	}
	return vals[0], vals[0] != "", true
}

// isDatedTokenPath reports whether path is /<version>/api/token for a version
// other than latest; EC2 refuses token requests there with 403.
func isDatedTokenPath(path string) bool {
	if !strings.HasSuffix(path, "/api/token") || len(path) < len("/x/api/token") {
		return false
	}
	version := path[1 : len(path)-len("/api/token")]
	return version != "" && !strings.Contains(version, "/")
}

// sourceAddr returns the request's source address, unmapped from IPv4-in-IPv6.
func sourceAddr(r *http.Request) netip.Addr {
	ap, err := netip.ParseAddrPort(r.RemoteAddr)
	if err != nil {
		return netip.Addr{}
	}
	return ap.Addr().Unmap()
}

// arrivedOverIPv6 reports whether the request reached an IPv6 listener.
func arrivedOverIPv6(r *http.Request) bool {
	la, ok := r.Context().Value(http.LocalAddrContextKey).(*net.TCPAddr)
	return ok && la.IP.To4() == nil
}

// ttlHeaders caches the header values of remaining TTLs, made on first
// use: a v2 answer then costs no allocation for its TTL header.
var ttlHeaders [token.MaxTTL + 1]atomic.Pointer[[]string]

// ttlHeaderValue returns the X-Aws-Ec2-Metadata-Token-Ttl-Seconds value for n.
func ttlHeaderValue(n int) []string {
	if n < 0 || n > token.MaxTTL {
		return []string{strconv.Itoa(n)}
	}
	if v := ttlHeaders[n].Load(); v != nil {
		return *v
	}
	v := []string{strconv.Itoa(n)}
	ttlHeaders[n].Store(&v)
	return v
}
