// Package mem is an in-memory imds.Store: the store of a one-process server
// with nothing on disk, and of tests. It keeps deep copies, so callers may
// modify what they pass in or get back.
package mem

import (
	"context"
	"sync"

	"github.com/imds-dev/imds"
)

var (
	_ imds.Store       = (*Store)(nil)
	_ imds.Watcher     = (*Store)(nil)
	_ imds.Creator     = (*Store)(nil)
	_ imds.KeyStore    = (*Store)(nil)
	_ imds.SecretStore = (*Store)(nil)
)

// Store is an in-memory store. The zero value is not usable; call New.
type Store struct {
	mu        sync.Mutex
	instances map[string]*imds.Instance // keyed by instance id
	watchers  map[chan imds.Change]struct{}
	keys      map[uint32]imds.SigningKey // keyed by key id; nil until the first key
	secrets   map[string][]byte          // keyed by name; nil until the first secret
}

// New returns an empty store.
func New() *Store {
	return &Store{
		instances: make(map[string]*imds.Instance),
		watchers:  make(map[chan imds.Change]struct{}),
	}
}

// Get returns a copy of the instance, or imds.ErrNotFound.
func (s *Store) Get(_ context.Context, id string) (*imds.Instance, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	in, ok := s.instances[id]
	if !ok {
		return nil, imds.ErrNotFound
	}
	return in.Clone(), nil
}

// List returns copies of every instance.
func (s *Store) List(context.Context) ([]*imds.Instance, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	out := make([]*imds.Instance, 0, len(s.instances))
	for _, in := range s.instances {
		out = append(out, in.Clone())
	}
	return out, nil
}

// Update applies fn to a copy of the instance and stores the result.
func (s *Store) Update(_ context.Context, id string, fn func(*imds.Instance) error) (*imds.Instance, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	cur, ok := s.instances[id]
	if !ok {
		return nil, imds.ErrNotFound
	}
	next := cur.Clone()
	if err := fn(next); err != nil {
		return nil, err
	}
	next.ID = id
	next.Revision = cur.Revision + 1
	s.instances[id] = next
	s.notifyLocked(imds.Change{ID: id, Instance: next.Clone()})
	return next.Clone(), nil
}

// Put stores a copy of in.
func (s *Store) Put(_ context.Context, in *imds.Instance) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	stored := in.Clone()
	stored.Revision = 1
	if cur, ok := s.instances[in.ID]; ok {
		stored.Revision = cur.Revision + 1
	}
	s.instances[in.ID] = stored
	s.notifyLocked(imds.Change{ID: in.ID, Instance: stored.Clone()})
	return nil
}

// Delete removes the instance.
func (s *Store) Delete(_ context.Context, id string) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	if _, ok := s.instances[id]; !ok {
		return nil
	}
	delete(s.instances, id)
	s.notifyLocked(imds.Change{ID: id})
	return nil
}

// Watch delivers changes made after the call until ctx ends. A watcher that
// falls more than 1024 changes behind misses changes; the in-memory store
// serves one process, whose planes apply changes directly as well.
func (s *Store) Watch(ctx context.Context) (<-chan imds.Change, error) {
	ch := make(chan imds.Change, 1024)
	s.mu.Lock()
	s.watchers[ch] = struct{}{}
	s.mu.Unlock()
	go func() {
		<-ctx.Done()
		s.mu.Lock()
		delete(s.watchers, ch)
		close(ch)
		s.mu.Unlock()
	}()
	return ch, nil
}

// notifyLocked sends c to every watcher without blocking. s.mu must be held.
func (s *Store) notifyLocked(c imds.Change) {
	for ch := range s.watchers {
		select {
		case ch <- c:
		default:
		}
	}
}
