package audit

import (
	"sync"
	"sync/atomic"
	"time"
)

// usage is what the Recorder keeps about one instance's token-less
// requests. Its bounds (maxPaths, maxCallers) keep it small whatever the
// instance sends.
//
// A request for a path seen before only adds to counters, so that the
// requests of one busy instance do not queue on a lock; mu is taken to add
// a path and to record a caller, which is rate limited.
type usage struct {
	first time.Time // set once

	served, refused atomic.Uint64
	last            atomic.Int64 // wall clock of the latest sighting, in Unix nanoseconds

	paths      sync.Map      // *atomic.Uint64 by path
	otherPaths atomic.Uint64 // requests for paths beyond the cap

	unattributed atomic.Uint64 // loopback requests whose process was not found

	mu           sync.Mutex
	npaths       int                        // entries in paths; guarded by mu
	callers      map[callerKey]*callerUsage // guarded by mu
	otherCallers uint64                     // requests from processes beyond the cap; guarded by mu
}

// callerKey tells processes apart; a pid reused by another command counts
// as another caller.
type callerKey struct {
	pid     int
	command string
}

type callerUsage struct {
	requests uint64
	first    time.Time
	last     time.Time
}

func newUsage(now time.Time) *usage {
	u := &usage{first: now, callers: make(map[callerKey]*callerUsage)}
	u.last.Store(now.UnixNano())
	return u
}

// count records one request for path.
func (u *usage) count(now time.Time, refused bool, path string, maxPaths int) {
	if refused {
		u.refused.Add(1)
	} else {
		u.served.Add(1)
	}
	u.seen(now)
	if n, ok := u.paths.Load(path); ok {
		n.(*atomic.Uint64).Add(1)
		return
	}
	u.mu.Lock()
	defer u.mu.Unlock()
	if n, ok := u.paths.Load(path); ok { // added since the look above
		n.(*atomic.Uint64).Add(1)
		return
	}
	if u.npaths >= maxPaths {
		u.otherPaths.Add(1)
		return
	}
	n := new(atomic.Uint64)
	n.Store(1)
	u.paths.Store(path, n)
	u.npaths++
}

// seen moves the last sighting forward to now; never back, when requests
// observed at the same time finish in another order.
func (u *usage) seen(now time.Time) {
	t := now.UnixNano()
	for {
		last := u.last.Load()
		if t <= last || u.last.CompareAndSwap(last, t) {
			return
		}
	}
}

// lastSeen returns the latest sighting in the location of the first.
func (u *usage) lastSeen() time.Time {
	return time.Unix(0, u.last.Load()).In(u.first.Location())
}

// caller records that p made the request just counted.
func (u *usage) caller(now time.Time, p Process, maxCallers int) {
	u.mu.Lock()
	defer u.mu.Unlock()
	k := callerKey{p.PID, p.Command}
	c := u.callers[k]
	if c == nil {
		if len(u.callers) >= maxCallers {
			u.otherCallers++
			return
		}
		c = &callerUsage{first: now}
		u.callers[k] = c
	}
	c.requests++
	c.last = now
}
