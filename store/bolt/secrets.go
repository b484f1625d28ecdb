package bolt

import (
	"bytes"
	"context"

	"go.etcd.io/bbolt"

	"github.com/imds-dev/imds"
)

// Secret returns a copy of the named secret, or imds.ErrNotFound.
func (s *Store) Secret(_ context.Context, name string) ([]byte, error) {
	var out []byte
	err := s.db.View(func(tx *bbolt.Tx) error {
		v := tx.Bucket(secretsBucket).Get([]byte(name))
		if v == nil {
			return imds.ErrNotFound
		}
		// v is only valid inside the transaction.
		out = bytes.Clone(v)
		return nil
	})
	return out, err
}

// CreateSecret stores value unless name is taken (imds.ErrExists), and
// returns once it is on disk.
func (s *Store) CreateSecret(_ context.Context, name string, value []byte) error {
	return s.db.Update(func(tx *bbolt.Tx) error {
		b := tx.Bucket(secretsBucket)
		if b.Get([]byte(name)) != nil {
			return imds.ErrExists
		}
		return b.Put([]byte(name), value)
	})
}
