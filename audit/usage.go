package audit

import "time"

// usage is what the Recorder keeps about one instance's token-less
// requests. Its bounds (maxPaths, maxCallers) keep it small whatever the
// instance sends.
type usage struct {
	served, refused uint64
	first, last     time.Time

	paths      map[string]uint64 // keyed by path
	otherPaths uint64            // requests for paths beyond the cap

	callers      map[callerKey]*callerUsage
	otherCallers uint64 // requests from processes beyond the cap
	unattributed uint64 // loopback requests whose process was not found
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
	return &usage{
		first:   now,
		paths:   make(map[string]uint64),
		callers: make(map[callerKey]*callerUsage),
	}
}

// count records one request for path.
func (u *usage) count(now time.Time, refused bool, path string, maxPaths int) {
	if refused {
		u.refused++
	} else {
		u.served++
	}
	u.last = now
	if _, ok := u.paths[path]; ok || len(u.paths) < maxPaths {
		u.paths[path]++
	} else {
		u.otherPaths++
	}
}

// caller records that p made the request just counted.
func (u *usage) caller(now time.Time, p Process, maxCallers int) {
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
