package dataplane

import (
	"io"
	"log/slog"
	"net"
	"net/http"
	"strconv"

	"golang.org/x/net/ipv4"
	"golang.org/x/net/ipv6"

	"github.com/imds-dev/imds/token"
)

// tokenLengthHdr is the Content-Length of every token answer.
var tokenLengthHdr = []string{strconv.Itoa(token.EncodedLen)}

// serveToken answers PUT /latest/api/token and the other methods on that
// path. The response to a successful PUT leaves with the instance's hop limit
// as its IP TTL, so a caller more hops away than allowed never receives it.
func (s *Server) serveToken(w http.ResponseWriter, r *http.Request, instanceID string, hopLimit int) (status int, refusal string) {
	switch r.Method {
	case http.MethodPut:
	case http.MethodOptions:
		return s.writeError(w, optionsToken), ""
	default:
		s.counters.MethodNotAllowed.Add(1)
		return s.writeError(w, errMethodToken), RefusedMethod
	}
	if _, fwd := r.Header[hdrForwardedFor]; fwd {
		s.counters.TokensRefused.Add(1)
		return s.writeError(w, errForbidden), RefusedForwarded
	}
	raw, present, ok := singleHeader(r.Header, hdrTokenTTL)
	ttl, valid := token.ParseTTL(raw)
	if !present || !ok || !valid {
		s.counters.TokensRefused.Add(1)
		return s.writeError(w, errBadRequest), RefusedBadTTL
	}
	tok, err := s.tokens.Issue(instanceID, ttl)
	if err != nil {
		// Only the system's random source can fail here.
		return s.writeError(w, errServiceUnavailable), RefusedInternal
	}
	s.counters.TokensIssued.Add(1)

	h := w.Header()
	s.commonHeaders(h)
	h["Content-Type"] = textPlainHdr
	h["Content-Length"] = tokenLengthHdr
	// The request's own header slice already holds the granted TTL.
	h[hdrTokenTTL] = r.Header[hdrTokenTTL][:1:1]

	cs := connStateOf(r)
	restore := s.limitHops(cs, hopLimit)
	w.WriteHeader(http.StatusOK)
	io.WriteString(w, tok)
	if restore == nil {
		return http.StatusOK, ""
	}
	if s.afterHop != nil {
		if f, ok := w.(http.Flusher); ok {
			f.Flush()
		}
		s.afterHop(cs.conn)
	}
	// Keep the limit until the client speaks again (see connState). A
	// closing connection never gets it back: its last packets, the FIN
	// included, stay as limited as the token they follow.
	if s.keepAlive {
		cs.restoreTTL = restore
	}
	return http.StatusOK, ""
}

// limitHops sets the connection's IP TTL (IPv6 hop limit) to hops and returns
// a function that restores the previous value, or nil when the socket could
// not be changed (the failure is counted, and the answer still goes out).
func (s *Server) limitHops(cs *connState, hops int) (restore func()) {
	if cs == nil || hops <= 0 {
		return nil
	}
	c := cs.conn
	tcp, ok := c.LocalAddr().(*net.TCPAddr)
	if !ok {
		return nil
	}
	// A closing connection never gets its TTL back (see serveToken), so
	// only a kept-alive one pays for reading the old value.
	var old int
	var err error
	if tcp.IP.To4() != nil {
		pc := ipv4.NewConn(c)
		if s.keepAlive {
			old, err = pc.TTL()
		}
		if err == nil {
			err = pc.SetTTL(hops)
		}
		if err != nil {
			s.hopLimitFailed(err)
			return nil
		}
		return func() { pc.SetTTL(old) }
	}
	pc := ipv6.NewConn(c)
	if s.keepAlive {
		old, err = pc.HopLimit()
	}
	if err == nil {
		err = pc.SetHopLimit(hops)
	}
	if err != nil {
		s.hopLimitFailed(err)
		return nil
	}
	return func() { pc.SetHopLimit(old) }
}

func (s *Server) hopLimitFailed(err error) {
	s.counters.HopLimitFailures.Add(1)
	s.anomalies.warn("hop-limit", "cannot set the hop limit on a token answer; it leaves with the default TTL",
		slog.String("err", err.Error()))
}
