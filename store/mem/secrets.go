package mem

import (
	"context"
	"slices"

	"github.com/imds-dev/imds"
)

// Secret returns a copy of the named secret, or imds.ErrNotFound.
func (s *Store) Secret(_ context.Context, name string) ([]byte, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	v, ok := s.secrets[name]
	if !ok {
		return nil, imds.ErrNotFound
	}
	return slices.Clone(v), nil
}

// CreateSecret stores a copy of value unless name is taken (imds.ErrExists).
func (s *Store) CreateSecret(_ context.Context, name string, value []byte) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	if _, ok := s.secrets[name]; ok {
		return imds.ErrExists
	}
	if s.secrets == nil {
		s.secrets = make(map[string][]byte)
	}
	s.secrets[name] = slices.Clone(value)
	return nil
}
