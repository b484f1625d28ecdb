// Package dataplane is the instance-facing HTTP service: it attributes each
// request to an instance, issues and checks IMDSv2 tokens, enforces the
// instance's metadata options and answers from the instance's metadata tree
// with the status codes, headers and bodies EC2 uses.
//
// The hot path writes no logs and takes no locks: outcomes are counted, and
// an access log is written only when asked for.
package dataplane

import (
	"context"
	"log/slog"
	"net"
	"net/http"
	"net/netip"
	"strconv"
	"strings"
	"time"

	"github.com/imds-dev/imds/token"
)

// TokenPath is the only path on which a token can be requested.
const TokenPath = "/latest/api/token"

// Header names, in Go's canonical form (net/http canonicalises incoming
// names, so clients may send any case).
const (
	hdrToken        = "X-Aws-Ec2-Metadata-Token"
	hdrTokenTTL     = "X-Aws-Ec2-Metadata-Token-Ttl-Seconds"
	hdrForwardedFor = "X-Forwarded-For"
)

// DefaultVersions is the list GET / answers with, oldest first. Every entry
// is also accepted as a path prefix, with the same content as latest.
var DefaultVersions = []string{
	"1.0", "2007-01-19", "2007-03-01", "2007-08-29", "2007-10-10", "2007-12-15",
	"2008-02-01", "2008-09-01", "2009-04-04", "2011-01-01", "2011-05-01",
	"2012-01-12", "2014-02-25", "2014-11-05", "2015-10-20", "2016-04-19",
	"2016-06-30", "2016-09-02", "2018-03-28", "2018-08-17", "2018-09-24",
	"2019-10-01", "2020-10-27", "2021-01-03", "2021-03-23",
}

// Directory finds the instance behind a request.
type Directory interface {
	// Lookup returns the view of the instance that owns addr, or nil when
	// no instance does.
	Lookup(addr netip.Addr) *View
}

// Config configures a Server. The zero value of each optional field means
// the documented default.
type Config struct {
	Directory Directory        // required
	Tokens    *token.Authority // required
	Versions  []string         // default DefaultVersions
	KeepAlive bool             // default false: Connection: close, as EC2
	AccessLog *slog.Logger     // nil: no access log
	Logger    *slog.Logger     // warnings about anomalies; nil: none
	Now       func() time.Time // default time.Now
	Counters  *Counters        // nil: a private set
	Hooks     Hooks            // audit, metrics, fault injection
	afterHop  func(c net.Conn) // test hook, run while the hop limit is set
}

// Server is the data plane's http.Handler.
type Server struct {
	dir       Directory
	tokens    *token.Authority
	versions  map[string]bool
	root      []byte   // body of GET /
	rootLen   []string // its Content-Length
	keepAlive bool
	accessLog *slog.Logger
	now       func() time.Time
	counters  *Counters
	afterHop  func(c net.Conn)
	anomalies *anomalyLog
	hooks     Hooks
}

// New returns a data-plane handler.
func New(cfg Config) *Server {
	s := &Server{
		dir:       cfg.Directory,
		tokens:    cfg.Tokens,
		versions:  make(map[string]bool),
		keepAlive: cfg.KeepAlive,
		accessLog: cfg.AccessLog,
		now:       cfg.Now,
		counters:  cfg.Counters,
		afterHop:  cfg.afterHop,
		anomalies: newAnomalyLog(cfg.Logger),
		hooks:     cfg.Hooks,
	}
	if s.now == nil {
		s.now = time.Now
	}
	if s.counters == nil {
		s.counters = new(Counters)
	}
	versions := cfg.Versions
	if len(versions) == 0 {
		versions = DefaultVersions
	}
	for _, v := range versions {
		s.versions[v] = true
	}
	s.versions["latest"] = true
	s.root = []byte(strings.Join(append(append([]string(nil), versions...), "latest"), "\n"))
	s.rootLen = []string{strconv.Itoa(len(s.root))}
	return s
}

// Counters returns the outcome counters of the server.
func (s *Server) Counters() *Counters { return s.counters }

// ConnContext remembers each accepted connection in its requests' context,
// so that the token handler can set the hop limit on the socket. Install it
// as http.Server.ConnContext.
func ConnContext(ctx context.Context, c net.Conn) context.Context {
	return context.WithValue(ctx, connKey{}, &connState{conn: c})
}

type connKey struct{}

// connState is what the data plane keeps per connection. net/http serves
// the requests of one HTTP/1.x connection one after another on one
// goroutine, so its fields need no lock.
type connState struct {
	conn net.Conn
	// restoreTTL, when set, gives the socket its normal TTL back. It runs
	// when the next request arrives on the connection: by then the client
	// has received the token answer, so no retransmission of it can leave
	// with the normal TTL and slip past the hop limit.
	restoreTTL func()
}

func connStateOf(r *http.Request) *connState {
	c, _ := r.Context().Value(connKey{}).(*connState)
	return c
}

// HTTPServer returns an http.Server for h with the settings the data plane
// needs: the connection in the request context, bounded header sizes, and
// timeouts that keep slow clients from holding sockets. There is no read or
// write timeout per request: the handler never reads a body, and answers
// are small enough to fit in the socket buffer, so neither can stall; the
// header timeout (against slowloris) and the idle timeout remain, and each
// request is spared the cost of two more deadlines.
func HTTPServer(h http.Handler, errorLog *slog.Logger) *http.Server {
	srv := &http.Server{
		Handler:           h,
		ConnContext:       ConnContext,
		ReadHeaderTimeout: 10 * time.Second,
		IdleTimeout:       60 * time.Second,
		MaxHeaderBytes:    64 << 10,
	}
	if errorLog != nil {
		srv.ErrorLog = slog.NewLogLogger(errorLog.Handler(), slog.LevelWarn)
	}
	return srv
}

var (
	serverHdr    = []string{"EC2ws"}
	closeHdr     = []string{"close"}
	textPlainHdr = []string{"text/plain"}
	acceptNone   = []string{"none"}
	acceptBytes  = []string{"bytes"}
)

// commonHeaders sets the headers every answer carries.
func (s *Server) commonHeaders(h http.Header) {
	h["Server"] = serverHdr
	if !s.keepAlive {
		h["Connection"] = closeHdr
	}
}
