package fault

import (
	"context"
	"net/http"
	"time"

	"github.com/imds-dev/imds"
	"github.com/imds-dev/imds/dataplane"
	"github.com/imds-dev/imds/fault/rule"
)

// Before is the data plane's Before hook (dataplane.Hooks.Before). Rules
// apply in the order they were added: every matching latency rule adds
// its delay, and the first matching error, throttle or drop rule answers.
// It returns 0 to let the request through, the status it answered with,
// or dataplane.Dropped when it closed the connection.
func (i *Injector) Before(w http.ResponseWriter, r *http.Request, in *imds.Instance) int {
	set := i.active.Load()
	if set == nil {
		return 0
	}
	return i.apply(w, r, in.ID, *set)
}

func (i *Injector) apply(w http.ResponseWriter, r *http.Request, instance string, rules []*live) int {
	path := r.URL.Path
	if path == "" {
		path = "/"
	}
	now := i.now()
	stale := false
	defer func() {
		if stale {
			i.prune()
		}
	}()

	for _, l := range rules {
		if !l.Matches(instance, r.Method, path) || !l.Started(now) {
			continue
		}
		if l.Ended(now) || !l.take() {
			stale = true
			continue
		}
		if l.Count > 0 && l.remaining.Load() <= 0 {
			stale = true
		}
		switch l.Kind {
		case rule.Latency:
			if !sleep(r.Context(), l.Latency) {
				// The client gave up or the server is stopping: answering
				// now would only mislead whoever is left.
				dataplane.DropConnection(w)
				return dataplane.Dropped
			}
			now = i.now()
		case rule.Error:
			return dataplane.WriteErrorPage(w, l.Status, i.keepAlive)
		case rule.Throttle:
			return dataplane.WriteErrorPage(w, http.StatusTooManyRequests, i.keepAlive)
		case rule.Drop:
			dataplane.DropConnection(w)
			return dataplane.Dropped
		}
	}
	return 0
}

// sleep waits for d and reports whether it did; it returns false early
// when ctx is done.
func sleep(ctx context.Context, d time.Duration) bool {
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-t.C:
		return true
	case <-ctx.Done():
		return false
	}
}
