package audit

import (
	"errors"
	"net/netip"
	"runtime"
	"slices"
	"strconv"
	"sync"
	"sync/atomic"
	"time"

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

// Bounds of the finder's caches; each is emptied when full.
const (
	maxCached  = 4096 // sockets and command lines
	maxLikely  = 8    // pids whose descriptors are read first
	commandTTL = 5 * time.Second
)

// finder finds the process at the client end of a loopback connection.
// A lookup asks sock_diag for the socket's inode, which costs a few
// system calls, and, on a cache miss, walks processes' descriptors for
// the owner, which costs a read of every descriptor on the host. So
// lookups are rate limited; owners are cached by the client's port and
// socket inode, so that the requests of one kept-alive connection cost one
// walk; the callers found last are looked at first, so that a process
// opening a connection per request is found without a walk; and command
// lines are cached for commandTTL.
//
// A request turned away by the cap takes no lock of the finder's, only
// the limiter's for a moment; the counts are atomic.
type finder struct {
	root      string
	supported bool
	limit     *rate.Limiter
	now       func() time.Time
	// inode finds a socket's inode: sockDiagInode but in tests.
	inode func(client, server netip.AddrPort) (uint64, error)

	found, cached, limited, failed atomic.Uint64
	lastError                      atomic.Pointer[string]

	mu       sync.Mutex
	owners   map[sockKey]int // pid by client port and socket inode; guarded by mu
	commands map[int]command // by pid; guarded by mu
	likely   []int           // pids found last, newest first; guarded by mu
}

type sockKey struct {
	port  uint16
	inode uint64
}

// command is a process's command line as read at a time.
type command struct {
	text string
	read time.Time
}

// newFinder returns a finder allowing perSecond lookups; none when
// perSecond is negative or the system is not Linux.
func newFinder(root string, perSecond float64, now func() time.Time) *finder {
	return &finder{
		root:      root,
		supported: runtime.GOOS == "linux" && perSecond > 0,
		limit:     rate.NewLimiter(rate.Limit(max(perSecond, 0)), max(1, int(2*perSecond))),
		now:       now,
		inode:     sockDiagInode,
		owners:    make(map[sockKey]int),
		commands:  make(map[int]command),
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
		f.limited.Add(1)
		return Process{}, false
	}
	inode, err := f.socketInode(client, server)
	if err != nil {
		f.fail(err)
		return Process{}, false
	}
	key := sockKey{client.Port(), inode}
	var likely [maxLikely]int
	f.mu.Lock()
	pid, ok := f.owners[key]
	n := copy(likely[:], f.likely)
	f.mu.Unlock()
	if ok {
		f.cached.Add(1)
	} else if pid, err = socketOwner(f.root, inode, likely[:n]); err != nil {
		f.fail(err)
		return Process{}, false
	} else {
		f.remember(key, pid)
	}
	f.found.Add(1)
	return Process{PID: pid, Command: f.command(pid)}, true
}

// socketInode asks sock_diag for the socket's inode, and reads the tcp
// tables only when sock_diag cannot be asked: a socket sock_diag does not
// know is not in the tables either.
func (f *finder) socketInode(client, server netip.AddrPort) (uint64, error) {
	inode, err := f.inode(client, server)
	if !errors.Is(err, errNoNetlink) {
		return inode, err
	}
	return scanTables(f.root, client, server)
}

// remember caches pid as the owner of the socket key and puts it first
// among the likely pids.
func (f *finder) remember(key sockKey, pid int) {
	f.mu.Lock()
	defer f.mu.Unlock()
	if len(f.owners) >= maxCached {
		clear(f.owners)
	}
	f.owners[key] = pid
	if i := slices.Index(f.likely, pid); i >= 0 {
		f.likely = slices.Delete(f.likely, i, i+1)
	}
	f.likely = slices.Insert(f.likely, 0, pid)
	f.likely = f.likely[:min(len(f.likely), maxLikely)]
}

// command returns pid's command line, read again once commandTTL has
// passed since it was: long enough that a busy caller's lookups read it
// seldom, short enough that a reused pid or a new program shows soon.
func (f *finder) command(pid int) string {
	now := f.now()
	f.mu.Lock()
	c, ok := f.commands[pid]
	f.mu.Unlock()
	if ok && now.Sub(c.read) < commandTTL && !now.Before(c.read) {
		return c.text
	}
	c = command{text: readCommand(f.root, strconv.Itoa(pid)), read: now}
	f.mu.Lock()
	if len(f.commands) >= maxCached {
		clear(f.commands)
	}
	f.commands[pid] = c
	f.mu.Unlock()
	return c.text
}

func (f *finder) fail(err error) {
	f.failed.Add(1)
	msg := err.Error()
	f.lastError.Store(&msg)
}

// stats returns the counts so far; each is read on its own, so a snapshot
// taken during lookups may be off by the lookups under way.
func (f *finder) stats() LookupStats {
	st := LookupStats{
		Supported: f.supported,
		Found:     f.found.Load(),
		Cached:    f.cached.Load(),
		Limited:   f.limited.Load(),
		Failed:    f.failed.Load(),
	}
	if msg := f.lastError.Load(); msg != nil {
		st.LastError = *msg
	}
	return st
}
