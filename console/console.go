// Package console is the operators' web page at /console on the control
// listener: every instance with its metadata options and its IMDSv1 usage,
// and EC2's "Modify instance metadata options" form, which changes an
// instance through the control plane's own code path, so the page can do
// nothing the API would refuse.
//
// Pages are rendered on the server with html/template and work without
// JavaScript. A person signs in with a control key (access key id and
// secret); the session lives in this process's memory and its cookie is
// HttpOnly and SameSite=Strict. Every form carries a per-session token, and
// a POST must come from the console's own origin.
package console

import (
	"context"
	"log/slog"
	"net/http"
	"time"

	"github.com/imds-dev/imds"
	"github.com/imds-dev/imds/audit"
	"github.com/imds-dev/imds/control"
)

// Controller is the part of the control plane the console uses.
// *control.Server implements it.
type Controller interface {
	// CheckKey reports whether secret belongs to the access key id.
	CheckKey(accessKeyID, secret string) bool
	// ModifyMetadataOptions changes an instance as the EC2 API action
	// does; a refusal is a *control.Refusal.
	ModifyMetadataOptions(ctx context.Context, instanceID string, change control.OptionsChange) (*imds.Instance, error)
}

var _ Controller = (*control.Server)(nil)

// DefaultSessionTTL is how long a sign-in lasts: a working day.
const DefaultSessionTTL = 12 * time.Hour

// DefaultPageSize is how many instances one page of the table shows.
const DefaultPageSize = 100

// Config configures the console. Zero values of optional fields mean the
// documented default.
type Config struct {
	// Store holds the instances; required.
	Store imds.Store
	// Control checks sign-ins and changes instances; required.
	Control Controller
	// Usage returns the IMDSv1 audit (audit.Recorder.Report). Nil: the
	// usage columns are empty.
	Usage func() audit.Report
	// Logger receives sign-ins and refused requests; never a secret, a
	// session id or a form token. Nil: no logs.
	Logger *slog.Logger
	// SessionTTL is how long a session lasts from sign-in; default
	// DefaultSessionTTL.
	SessionTTL time.Duration
	// PageSize caps the instances per page; default DefaultPageSize.
	PageSize int
	// Now is the clock for session expiry; default time.Now.
	Now func() time.Time
}

// console is the handler New returns.
type console struct {
	store    imds.Store
	ctl      Controller
	usage    func() audit.Report
	log      *slog.Logger
	pageSize int
	sessions *sessions
	login    *loginTokens
	mux      *http.ServeMux
}

// New returns the console's handler, which answers every path under
// /console/. Mount it on the control listener's mux as "/console/".
func New(cfg Config) http.Handler {
	c := &console{
		store:    cfg.Store,
		ctl:      cfg.Control,
		usage:    cfg.Usage,
		log:      cfg.Logger,
		pageSize: cfg.PageSize,
	}
	if c.usage == nil {
		c.usage = func() audit.Report { return audit.Report{} }
	}
	if c.log == nil {
		c.log = slog.New(slog.DiscardHandler)
	}
	if c.pageSize <= 0 {
		c.pageSize = DefaultPageSize
	}
	now := cfg.Now
	if now == nil {
		now = time.Now
	}
	ttl := cfg.SessionTTL
	if ttl <= 0 {
		ttl = DefaultSessionTTL
	}
	c.sessions = newSessions(ttl, now)
	c.login = newLoginTokens()

	c.mux = http.NewServeMux()
	c.mux.HandleFunc("GET /console/{$}", c.serveInstances)
	c.mux.HandleFunc("GET /console/login", c.serveLoginForm)
	c.mux.HandleFunc("POST /console/login", c.serveLogin)
	c.mux.HandleFunc("POST /console/logout", c.serveLogout)
	c.mux.HandleFunc("GET /console/instances/{id}/metadata-options", c.serveOptionsForm)
	c.mux.HandleFunc("POST /console/instances/{id}/metadata-options", c.serveOptions)
	c.mux.HandleFunc("GET /console/static/console.css", serveCSS)
	c.mux.HandleFunc("/console/", c.serveNotFound)
	return c
}

// ServeHTTP sets the headers every answer carries and routes the request.
// Pages hold instance data and form tokens, so nothing is cached; the page
// may load only its own style sheet, post only to itself and never be
// framed.
func (c *console) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	h := w.Header()
	h.Set("Content-Security-Policy", "default-src 'self'; form-action 'self'; frame-ancestors 'none'; base-uri 'none'")
	h.Set("X-Frame-Options", "DENY")
	h.Set("X-Content-Type-Options", "nosniff")
	// same-origin keeps the Referer (a fallback for the origin check) on
	// the console's own posts and sends none elsewhere.
	h.Set("Referrer-Policy", "same-origin")
	h.Set("Cache-Control", "no-store")
	c.mux.ServeHTTP(w, r)
}
