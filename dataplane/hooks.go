package dataplane

import (
	"net/http"
	"time"

	"github.com/imds-dev/imds"
)

// Hooks let other packages watch and shape the data plane: the IMDSv1
// audit and metrics watch every answer, fault injection may answer instead
// of the service. Unset hooks cost nothing on the hot path.
type Hooks struct {
	// Before runs once the caller's instance is known and before any check.
	// It returns 0 to let the request proceed, the status it answered with
	// itself, or Dropped when it closed the connection without an answer.
	Before func(w http.ResponseWriter, r *http.Request, in *imds.Instance) (status int)
	// After runs once the request is answered, on the request's goroutine.
	After func(r *http.Request, out Outcome, took time.Duration)
}

// Dropped is what a Before hook returns when it closed the connection
// without answering.
const Dropped = -1

// DropConnection closes the connection without writing a response, as the
// data plane does for an instance without an IPv6 endpoint; a Before hook
// that calls it returns Dropped. When w cannot be hijacked it panics with
// http.ErrAbortHandler, which net/http turns into a reset.
func DropConnection(w http.ResponseWriter) {
	if hj, ok := w.(http.Hijacker); ok {
		if c, _, err := hj.Hijack(); err == nil {
			c.Close()
			return
		}
	}
	// Without hijacking (HTTP/2, wrapped writers) abort the handler, which
	// makes net/http reset the stream instead of answering.
	panic(http.ErrAbortHandler)
}

// Outcome says how a request was answered.
type Outcome struct {
	// Instance is the caller's instance, nil for an unknown source.
	Instance *imds.Instance
	// Status is the HTTP status sent, 0 when the connection was dropped.
	Status int
	// Version is 1 for a request without a token header, 2 with one, and
	// 0 when the answer came before the token was looked at.
	Version int
	// TokenRequest reports whether the request asked for a token.
	TokenRequest bool
	// Refusal names why the request was refused; empty when it was served.
	Refusal string
}

// Refusal reasons, stable for metrics labels and the audit.
const (
	RefusedUnknownSource  = "unknown-source"
	RefusedIPv6           = "ipv6-disabled"
	RefusedDisabled       = "endpoint-disabled"
	RefusedFault          = "fault-injected"
	RefusedDatedTokenPath = "dated-token-path"
	RefusedMethod         = "method"
	RefusedForwarded      = "forwarded"
	RefusedBadTTL         = "bad-ttl"
	RefusedInternal       = "internal"
	RefusedNoToken        = "no-token"
	RefusedBadToken       = "bad-token"
	RefusedExpired        = "expired-token"
)

func (o Outcome) refused(status int, reason string) Outcome {
	o.Status, o.Refusal = status, reason
	return o
}
