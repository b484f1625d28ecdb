package mem

import (
	"cmp"
	"context"
	"slices"

	"github.com/imds-dev/imds"
)

// Create stores a copy of in unless its id is taken.
func (s *Store) Create(_ context.Context, in *imds.Instance) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	if _, ok := s.instances[in.ID]; ok {
		return imds.ErrExists
	}
	s.instances[in.ID] = in.Clone()
	s.notifyLocked(imds.Change{ID: in.ID, Instance: in.Clone()})
	return nil
}

// SigningKeys returns copies of the stored token keys by increasing ID.
func (s *Store) SigningKeys(context.Context) ([]imds.SigningKey, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	out := make([]imds.SigningKey, 0, len(s.keys))
	for _, k := range s.keys {
		k.Secret = slices.Clone(k.Secret)
		out = append(out, k)
	}
	slices.SortFunc(out, func(a, b imds.SigningKey) int { return cmp.Compare(a.ID, b.ID) })
	return out, nil
}

// AddSigningKey stores a copy of k unless its ID is taken.
func (s *Store) AddSigningKey(_ context.Context, k imds.SigningKey) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	if _, ok := s.keys[k.ID]; ok {
		return imds.ErrExists
	}
	if s.keys == nil {
		s.keys = make(map[uint32]imds.SigningKey)
	}
	k.Secret = slices.Clone(k.Secret)
	s.keys[k.ID] = k
	return nil
}

// RemoveSigningKey forgets the key with the given ID.
func (s *Store) RemoveSigningKey(_ context.Context, id uint32) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	delete(s.keys, id)
	return nil
}
