package audit

import (
	"net/netip"
	"runtime"
	"strconv"
	"sync"

	"golang.org/x/time/rate"
)

// Process is a process on this host, as /proc shows it.
type Process struct {
	PID int `json:"pid"`
	// Command is the command line with arguments separated by spaces,
	// cut at maxCommandLen bytes, unprintable characters replaced by '?'.
	Command string `json:"command"`
}

// LookupStats say how process lookups fared, so that a report without
// callers can be told apart from one whose lookups could not run.
type LookupStats struct {
	Supported bool   `json:"supported"`            // false off Linux or when turned off
	Found     uint64 `json:"found"`                // callers found
	Cached    uint64 `json:"cached"`               // of which from the socket cache
	Limited   uint64 `json:"rate_limited"`         // skipped by the rate cap
	Failed    uint64 `json:"failed"`               // socket or owner not found
	LastError string `json:"last_error,omitempty"` // why the last failure failed
}

// maxCached bounds the socket cache; it is emptied when full.
const maxCached = 4096

// finder finds the process at the client end of a loopback connection. A
// lookup costs a read of the TCP tables and, on a cache miss, a walk over
// every process's descriptors, so lookups are rate limited and their
// results cached by the client's port and socket inode: the requests of
// one kept-alive connection cost one walk.
type finder struct {
	root      string
	supported bool
	limit     *rate.Limiter

	mu    sync.Mutex
	cache map[sockKey]Process // keyed by client port and socket inode; guarded by mu
	st    LookupStats         // guarded by mu
}

type sockKey struct {
	port  uint16
	inode uint64
}

// newFinder returns a finder allowing perSecond lookups; none when
// perSecond is negative or the system is not Linux.
func newFinder(root string, perSecond float64) *finder {
	on := runtime.GOOS == "linux" && perSecond > 0
	return &finder{
		root:      root,
		supported: on,
		limit:     rate.NewLimiter(rate.Limit(max(perSecond, 0)), max(1, int(2*perSecond))),
		cache:     make(map[sockKey]Process),
		st:        LookupStats{Supported: on},
	}
}

// find returns the process owning the client end of the connection from
// client to server, and false when it cannot be found or the rate cap
// says not to look.
func (f *finder) find(client, server netip.AddrPort) (Process, bool) {
	if !f.supported {
		return Process{}, false
	}
	if !f.limit.Allow() {
		f.mu.Lock()
		f.st.Limited++
		f.mu.Unlock()
		return Process{}, false
	}
	inode, err := socketInode(f.root, client, server)
	if err != nil {
		f.failed(err)
		return Process{}, false
	}
	key := sockKey{client.Port(), inode}
	f.mu.Lock()
	p, ok := f.cache[key]
	if ok {
		f.st.Found++
		f.st.Cached++
	}
	f.mu.Unlock()
	if ok {
		return p, true
	}

	pid, err := socketOwner(f.root, inode)
	if err != nil {
		f.failed(err)
		return Process{}, false
	}
	p = Process{PID: pid, Command: readCommand(f.root, strconv.Itoa(pid))}
	f.mu.Lock()
	if len(f.cache) >= maxCached {
		clear(f.cache)
	}
	f.cache[key] = p
	f.st.Found++
	f.mu.Unlock()
	return p, true
}

func (f *finder) failed(err error) {
	f.mu.Lock()
	f.st.Failed++
	f.st.LastError = err.Error()
	f.mu.Unlock()
}

func (f *finder) stats() LookupStats {
	f.mu.Lock()
	defer f.mu.Unlock()
	return f.st
}
