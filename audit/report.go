package audit

import (
	"cmp"
	"slices"
	"sync/atomic"
	"time"
)

// Report is the audit as the control plane serves it at /imds/audit.
type Report struct {
	Generated time.Time `json:"generated"`
	// Instances are those that made token-less requests, by id.
	Instances []InstanceUsage `json:"instances"`
	Lookups   LookupStats     `json:"process_lookups"`
}

// InstanceUsage is one instance's token-less requests.
type InstanceUsage struct {
	InstanceID string    `json:"instance_id"`
	Served     uint64    `json:"v1_served"`
	Refused    uint64    `json:"v1_refused"` // refused, mostly because tokens are required
	FirstSeen  time.Time `json:"first_seen"`
	LastSeen   time.Time `json:"last_seen"`
	// Paths are the paths asked for, most requested first. OtherPaths
	// counts requests for paths beyond the recorder's cap.
	Paths      []PathCount `json:"paths"`
	OtherPaths uint64      `json:"other_paths,omitempty"`
	// Callers are the local processes that made the requests, busiest
	// first. OtherCallers counts requests from processes beyond the cap;
	// Unattributed counts loopback requests whose process was not found
	// (lookup limited, not permitted or not on Linux).
	Callers      []Caller `json:"callers"`
	OtherCallers uint64   `json:"other_callers,omitempty"`
	Unattributed uint64   `json:"unattributed,omitempty"`
}

// PathCount is how often one path was asked for.
type PathCount struct {
	Path     string `json:"path"`
	Requests uint64 `json:"requests"`
}

// Caller is a local process that called without a token.
type Caller struct {
	Process
	Requests  uint64    `json:"requests"`
	FirstSeen time.Time `json:"first_seen"`
	LastSeen  time.Time `json:"last_seen"`
}

// Report returns a snapshot of the audit, instances ordered by id. Each
// count is read on its own: a report taken while requests arrive may miss
// some of those under way in one count and not in another.
func (rec *Recorder) Report() Report {
	rep := Report{Generated: rec.now(), Instances: []InstanceUsage{}, Lookups: rec.finder.stats()}
	rec.instances.Range(func(id, u any) bool {
		rep.Instances = append(rep.Instances, u.(*usage).report(id.(string)))
		return true
	})
	slices.SortFunc(rep.Instances, func(a, b InstanceUsage) int { return cmp.Compare(a.InstanceID, b.InstanceID) })
	return rep
}

func (u *usage) report(id string) InstanceUsage {
	iu := InstanceUsage{
		InstanceID:   id,
		Served:       u.served.Load(),
		Refused:      u.refused.Load(),
		FirstSeen:    u.first,
		LastSeen:     u.lastSeen(),
		Paths:        []PathCount{},
		OtherPaths:   u.otherPaths.Load(),
		Unattributed: u.unattributed.Load(),
	}
	u.paths.Range(func(p, n any) bool {
		iu.Paths = append(iu.Paths, PathCount{Path: p.(string), Requests: n.(*atomic.Uint64).Load()})
		return true
	})
	slices.SortFunc(iu.Paths, func(a, b PathCount) int {
		return cmp.Or(cmp.Compare(b.Requests, a.Requests), cmp.Compare(a.Path, b.Path))
	})

	u.mu.Lock()
	iu.Callers = make([]Caller, 0, len(u.callers))
	iu.OtherCallers = u.otherCallers
	for k, c := range u.callers {
		iu.Callers = append(iu.Callers, Caller{
			Process:  Process{PID: k.pid, Command: k.command},
			Requests: c.requests, FirstSeen: c.first, LastSeen: c.last,
		})
	}
	u.mu.Unlock()
	slices.SortFunc(iu.Callers, func(a, b Caller) int {
		return cmp.Or(cmp.Compare(b.Requests, a.Requests), cmp.Compare(a.PID, b.PID))
	})
	return iu
}
