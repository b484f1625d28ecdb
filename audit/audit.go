// Package audit records who still calls the metadata service without a
// token (IMDSv1), so that an operator can switch a fleet to IMDSv2-only
// knowing what would break. For every instance it keeps the number of
// token-less requests served and refused, when they were first and last
// seen, the paths asked for and, for callers on this host, the calling
// process, found from the socket's owner under /proc.
//
// It goes beyond EC2's MetadataNoToken and MetadataNoTokenRejected metrics,
// which count such requests but cannot say who made them.
package audit

import (
	"net"
	"net/http"
	"net/netip"
	"sync"
	"time"

	"github.com/imds-dev/imds/dataplane"
)

// Options configure a Recorder. The zero value of each field means the
// documented default.
type Options struct {
	// MaxPaths caps the distinct paths kept per instance; requests for
	// further paths are only counted. Default 32.
	MaxPaths int
	// MaxCallers caps the distinct local processes kept per instance;
	// requests from further ones are only counted. Default 16.
	MaxCallers int
	// LookupsPerSecond caps process lookups across all instances. Each
	// lookup asks the kernel's sock_diag for the socket (or, where that
	// cannot be asked, reads /proc/net/tcp and tcp6) and, unless the
	// socket or its process was seen before, reads the descriptors of
	// every process. It runs on the request's goroutine, because the
	// client's socket is gone once it has its answer, so the request
	// looked up is slower by that much: 5 to 20 microseconds for a caller
	// seen before, around a millisecond for a new one on a host with a
	// hundred processes. Requests beyond the cap are counted as
	// unattributed. Default 4, with bursts of twice as many; negative
	// turns lookups off.
	LookupsPerSecond float64
	// ProcRoot is where procfs is mounted; default "/proc". Process
	// lookups run only on Linux.
	ProcRoot string
	// Now is the clock for first and last sightings and for how long a
	// command line is kept; default time.Now.
	Now func() time.Time
}

// Recorder collects IMDSv1 usage. Its Observe method is meant for
// dataplane.Hooks.After. It is safe for concurrent use: requests of
// different instances share no lock, and those of one instance take one
// only to add a path or a caller.
type Recorder struct {
	maxPaths   int
	maxCallers int
	now        func() time.Time
	finder     *finder

	instances sync.Map // *usage by instance id
}

// NewRecorder returns an empty Recorder.
func NewRecorder(o Options) *Recorder {
	if o.MaxPaths <= 0 {
		o.MaxPaths = 32
	}
	if o.MaxCallers <= 0 {
		o.MaxCallers = 16
	}
	if o.LookupsPerSecond == 0 {
		o.LookupsPerSecond = 4
	}
	if o.ProcRoot == "" {
		o.ProcRoot = "/proc"
	}
	if o.Now == nil {
		o.Now = time.Now
	}
	return &Recorder{
		maxPaths:   o.MaxPaths,
		maxCallers: o.MaxCallers,
		now:        o.Now,
		finder:     newFinder(o.ProcRoot, o.LookupsPerSecond, o.Now),
	}
}

// Observe records one answered request if it came without a token from a
// known instance; anything else returns at once. For a caller on loopback
// it looks up the calling process, which must happen while the connection
// is still open, as it is when dataplane.Hooks.After runs.
func (rec *Recorder) Observe(r *http.Request, out dataplane.Outcome, took time.Duration) {
	if out.Version != 1 || out.Instance == nil {
		return
	}
	now := rec.now()
	local, proc, found := false, Process{}, false
	if client, server, ok := loopbackPair(r); ok {
		local = true
		proc, found = rec.finder.find(client, server)
	}

	u := rec.usage(out.Instance.ID, now)
	u.count(now, out.Refusal != "", boundPath(r.URL.Path), rec.maxPaths)
	switch {
	case found:
		u.caller(now, proc, rec.maxCallers)
	case local:
		u.unattributed.Add(1)
	}
}

// usage returns the record of instance id, made at now if it is new.
func (rec *Recorder) usage(id string, now time.Time) *usage {
	if u, ok := rec.instances.Load(id); ok {
		return u.(*usage)
	}
	u, _ := rec.instances.LoadOrStore(id, newUsage(now))
	return u.(*usage)
}

// loopbackPair returns both ends of the request's connection when the
// caller is on this host: the client's address and the server's.
func loopbackPair(r *http.Request) (client, server netip.AddrPort, ok bool) {
	client, err := netip.ParseAddrPort(r.RemoteAddr)
	if err != nil || !client.Addr().Unmap().IsLoopback() {
		return client, server, false
	}
	la, _ := r.Context().Value(http.LocalAddrContextKey).(net.Addr)
	tcp, isTCP := la.(*net.TCPAddr)
	if !isTCP {
		return client, server, false
	}
	return client, tcp.AddrPort(), true
}

// maxPathLen bounds the length of a kept path, so a caller sending long
// paths cannot make the report large.
const maxPathLen = 256

// boundPath cuts p to maxPathLen bytes and makes it printable: paths come
// from instances and end up on an operator's terminal.
func boundPath(p string) string {
	if len(p) > maxPathLen {
		p = p[:maxPathLen] + "…"
	}
	return printable(p)
}
