package audit

import (
	"net/http"
	"time"

	"github.com/imds-dev/imds/dataplane"
)

// AfterFunc is the shape of dataplane.Hooks.After.
type AfterFunc = func(*http.Request, dataplane.Outcome, time.Duration)

// Chain returns one After hook that runs each non-nil hook in order. With
// none it returns nil, so that a data plane without observers keeps its
// hook-free fast path; with one it returns that hook itself.
func Chain(hooks ...AfterFunc) AfterFunc {
	var set []AfterFunc
	for _, h := range hooks {
		if h != nil {
			set = append(set, h)
		}
	}
	switch len(set) {
	case 0:
		return nil
	case 1:
		return set[0]
	}
	return func(r *http.Request, out dataplane.Outcome, took time.Duration) {
		for _, h := range set {
			h(r, out, took)
		}
	}
}
