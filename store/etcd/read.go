package etcd

import (
	"cmp"
	"context"
	"slices"

	"github.com/imds-dev/imds"
)

// Get returns the cached instance, or imds.ErrNotFound. It never waits on
// etcd: while etcd is away it answers from the last known state.
func (s *Store) Get(_ context.Context, id string) (*imds.Instance, error) {
	s.mu.RLock()
	defer s.mu.RUnlock()
	in, ok := s.instances[id]
	if !ok {
		return nil, imds.ErrNotFound
	}
	return in.Clone(), nil
}

// List returns every cached instance, in no particular order.
func (s *Store) List(context.Context) ([]*imds.Instance, error) {
	s.mu.RLock()
	defer s.mu.RUnlock()
	out := make([]*imds.Instance, 0, len(s.instances))
	for _, in := range s.instances {
		out = append(out, in.Clone())
	}
	return out, nil
}

// SigningKeys returns the cached token keys by increasing ID.
func (s *Store) SigningKeys(context.Context) ([]imds.SigningKey, error) {
	s.mu.RLock()
	defer s.mu.RUnlock()
	out := make([]imds.SigningKey, 0, len(s.keys))
	for _, k := range s.keys {
		k.Secret = slices.Clone(k.Secret)
		out = append(out, k)
	}
	slices.SortFunc(out, func(a, b imds.SigningKey) int { return cmp.Compare(a.ID, b.ID) })
	return out, nil
}

// Watch delivers every change the cache applies after the call, in etcd's
// revision order, until ctx ends. Changes made by other replicas arrive
// too.
func (s *Store) Watch(ctx context.Context) (<-chan imds.Change, error) {
	return s.hub.Subscribe(ctx), nil
}

// Revision returns the etcd revision the cache reflects.
func (s *Store) Revision() int64 {
	s.mu.RLock()
	defer s.mu.RUnlock()
	return s.rev
}
