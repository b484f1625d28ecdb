package etcd

import "sync"

// keyLocks hands out one mutex per instance id, dropped when unused, so
// that a replica's own updates of an id do not race each other in etcd.
type keyLocks struct {
	mu sync.Mutex          // guards m
	m  map[string]*keyLock // keyed by instance id
}

type keyLock struct {
	mu    sync.Mutex
	users int // holders and waiters; guarded by keyLocks.mu
}

// lock locks id and returns the function that unlocks it.
func (l *keyLocks) lock(id string) (unlock func()) {
	l.mu.Lock()
	if l.m == nil {
		l.m = make(map[string]*keyLock)
	}
	k := l.m[id]
	if k == nil {
		k = &keyLock{}
		l.m[id] = k
	}
	k.users++
	l.mu.Unlock()

	k.mu.Lock()
	return func() {
		k.mu.Unlock()
		l.mu.Lock()
		k.users--
		if k.users == 0 {
			delete(l.m, id)
		}
		l.mu.Unlock()
	}
}
