// Package rule describes fault-injection rules: which data-plane requests
// a rule matches (instance, path prefix, methods), what it does to them
// (latency, an error status, throttling, a dropped connection) and for how
// long (a number of requests, a time window, or both). It checks rules and
// reads them from JSON; the config loader and the control endpoints share
// it. It stands apart from package fault, which applies rules, so that the
// config loader can use it without importing the data plane.
package rule

import (
	"fmt"
	"slices"
	"strings"
	"time"
)

// Kind is what a rule does to the requests it matches.
type Kind string

// The kinds of fault.
const (
	// Latency delays the request, then lets it through.
	Latency Kind = "latency"
	// Error answers with the data plane's 500 or 503 page.
	Error Kind = "error"
	// Throttle answers with EC2's 429 page and Retry-After: 1.
	Throttle Kind = "throttle"
	// Drop closes the connection without an answer.
	Drop Kind = "drop"
)

// AnyInstance matches every instance.
const AnyInstance = "*"

// Bounds of a rule.
const (
	// MaxLatency stays below the data plane's write timeout (30 s), past
	// which the delayed answer could not be sent at all.
	MaxLatency = 20 * time.Second
	MaxCount   = 1_000_000_000
	maxID      = 64
	maxPath    = 1024
)

// Rule is one fault. The zero values of the optional fields match
// everything and last until the rule is removed.
type Rule struct {
	// ID names the rule; the injector assigns one when it is empty.
	ID string
	// Instance is the instance id the rule applies to; "" and AnyInstance
	// match every instance.
	Instance string
	// Path is a prefix of the request path ("/latest/meta-data/iam/");
	// "" matches every path.
	Path string
	// Methods restricts the rule to these methods (upper case); nil
	// matches every method.
	Methods []string
	Kind    Kind
	// Latency is the delay a Latency rule adds.
	Latency time.Duration
	// Status is the answer of an Error rule: 500 (when 0) or 503.
	Status int
	// Count, when positive, limits the rule to the next Count matching
	// requests; 0 means no limit.
	Count int64
	// From and Until bound the window in which the rule applies; a zero
	// time leaves that side open.
	From, Until time.Time
}

// FieldError is a problem with one field of a rule, named as JSON and the
// config file spell it ("latency", "methods[1]").
type FieldError struct {
	Field   string
	Problem string
}

func (e *FieldError) Error() string { return e.Field + ": " + e.Problem }

func fieldErr(field, format string, args ...any) *FieldError {
	return &FieldError{Field: field, Problem: fmt.Sprintf(format, args...)}
}

// knownMethods are the methods a rule may name: those the data plane
// answers, and those it refuses, so that refusals can be faulted too.
var knownMethods = []string{"GET", "HEAD", "PUT", "POST", "DELETE", "PATCH", "OPTIONS"}

// Check fills in the defaults of r (instance *, path /, status 500,
// methods in upper case without repeats) and checks it; now is when the
// rule is being added, so that a window already over is refused. It
// returns a *FieldError.
func (r *Rule) Check(now time.Time) error {
	if err := checkID(r.ID); err != nil {
		return err
	}
	if err := r.checkMatch(); err != nil {
		return err
	}
	if err := r.checkAction(); err != nil {
		return err
	}
	return r.checkLifetime(now)
}

// checkID accepts ids that are safe as the last element of a URL path.
func checkID(id string) error {
	if len(id) > maxID {
		return fieldErr("id", "longer than %d characters", maxID)
	}
	if strings.ContainsFunc(id, notNameRune) {
		return fieldErr("id", "may hold only letters, digits, '-', '_' and '.', not %q", id)
	}
	if id == "." || id == ".." {
		return fieldErr("id", "%q is not a name", id)
	}
	return nil
}

// notNameRune reports whether c may not appear in a rule or instance id.
func notNameRune(c rune) bool {
	switch {
	case c >= 'a' && c <= 'z', c >= 'A' && c <= 'Z', c >= '0' && c <= '9', c == '-', c == '_', c == '.':
		return false
	}
	return true
}

func (r *Rule) checkMatch() error {
	switch {
	case r.Instance == "":
		r.Instance = AnyInstance
	case len(r.Instance) > maxID:
		return fieldErr("instance", "longer than %d characters", maxID)
	case r.Instance != AnyInstance && strings.ContainsFunc(r.Instance, notNameRune):
		return fieldErr("instance", "must be an instance id such as i-0123456789abcdef0 or *, not %q", r.Instance)
	}

	switch {
	case r.Path == "":
		r.Path = "/"
	case len(r.Path) > maxPath:
		return fieldErr("path", "longer than %d characters", maxPath)
	case r.Path[0] != '/':
		return fieldErr("path", "must start with /, as /latest/meta-data/iam/ does, not %q", r.Path)
	case strings.ContainsFunc(r.Path, badRune):
		return fieldErr("path", "must not hold spaces or control characters")
	case strings.Contains(r.Path, "?"):
		return fieldErr("path", "matches the path only; leave out the query")
	}

	if len(r.Methods) > len(knownMethods) {
		return fieldErr("methods", "names more than %d methods", len(knownMethods))
	}
	var methods []string
	for i, m := range r.Methods {
		m = strings.ToUpper(m)
		if !slices.Contains(knownMethods, m) {
			return fieldErr(fmt.Sprintf("methods[%d]", i), "must be one of %s, not %q",
				strings.Join(knownMethods, ", "), r.Methods[i])
		}
		if !slices.Contains(methods, m) {
			methods = append(methods, m)
		}
	}
	r.Methods = methods
	return nil
}

func (r *Rule) checkAction() error {
	switch r.Kind {
	case Latency, Error, Throttle, Drop:
	case "":
		return fieldErr("kind", "required: latency, error, throttle or drop")
	default:
		return fieldErr("kind", "must be latency, error, throttle or drop, not %q", string(r.Kind))
	}

	switch {
	case r.Kind != Latency && r.Latency != 0:
		return fieldErr("latency", "applies only to kind latency")
	case r.Kind == Latency && r.Latency <= 0:
		return fieldErr("latency", "required for kind latency: a positive duration such as 2s")
	case r.Latency > MaxLatency:
		return fieldErr("latency", "must be at most %s, below the data plane's write timeout", MaxLatency)
	}

	switch {
	case r.Kind != Error && r.Status != 0:
		return fieldErr("status", "applies only to kind error (throttle answers 429)")
	case r.Kind == Error && r.Status == 0:
		r.Status = 500
	case r.Kind == Error && r.Status != 500 && r.Status != 503:
		return fieldErr("status", "must be 500 or 503, not %d", r.Status)
	}
	return nil
}

func (r *Rule) checkLifetime(now time.Time) error {
	switch {
	case r.Count < 0:
		return fieldErr("count", "must not be negative")
	case r.Count > MaxCount:
		return fieldErr("count", "must be at most %d", MaxCount)
	}
	r.From, r.Until = r.From.UTC(), r.Until.UTC()
	switch {
	case !r.From.IsZero() && !r.Until.IsZero() && !r.Until.After(r.From):
		return fieldErr("until", "must be after from")
	case !r.Until.IsZero() && !r.Until.After(now):
		return fieldErr("until", "the window is already over")
	}
	return nil
}

// badRune reports whether c may not appear in an instance id or path.
func badRune(c rune) bool { return c <= ' ' || c == 0x7f }

// Matches reports whether the rule applies to a request from instance for
// method and path, ignoring its count and window. Check must have run.
func (r *Rule) Matches(instance, method, path string) bool {
	if r.Instance != AnyInstance && r.Instance != instance {
		return false
	}
	if !strings.HasPrefix(path, r.Path) {
		return false
	}
	return r.Methods == nil || slices.Contains(r.Methods, method)
}

// Started reports whether the rule's window has opened at now.
func (r *Rule) Started(now time.Time) bool { return r.From.IsZero() || !now.Before(r.From) }

// Ended reports whether the rule's window has closed at now.
func (r *Rule) Ended(now time.Time) bool { return !r.Until.IsZero() && !now.Before(r.Until) }
