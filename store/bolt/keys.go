package bolt

import (
	"context"
	"encoding/binary"
	"encoding/json"
	"fmt"

	"go.etcd.io/bbolt"

	"github.com/imds-dev/imds"
)

// SigningKeys returns the stored token keys by increasing ID (bbolt keeps
// the big-endian IDs sorted).
func (s *Store) SigningKeys(context.Context) ([]imds.SigningKey, error) {
	var out []imds.SigningKey
	err := s.db.View(func(tx *bbolt.Tx) error {
		return tx.Bucket(keysBucket).ForEach(func(k, v []byte) error {
			var key imds.SigningKey
			if err := json.Unmarshal(v, &key); err != nil {
				return fmt.Errorf("decode token key %x: %w", k, err)
			}
			out = append(out, key)
			return nil
		})
	})
	return out, err
}

// AddSigningKey stores k unless its ID is taken (imds.ErrExists).
func (s *Store) AddSigningKey(_ context.Context, k imds.SigningKey) error {
	v, err := json.Marshal(k)
	if err != nil {
		return fmt.Errorf("encode token key %d: %w", k.ID, err)
	}
	return s.db.Update(func(tx *bbolt.Tx) error {
		b := tx.Bucket(keysBucket)
		id := keyID(k.ID)
		if b.Get(id) != nil {
			return imds.ErrExists
		}
		return b.Put(id, v)
	})
}

// RemoveSigningKey forgets the key with the given ID.
func (s *Store) RemoveSigningKey(_ context.Context, id uint32) error {
	return s.db.Update(func(tx *bbolt.Tx) error {
		return tx.Bucket(keysBucket).Delete(keyID(id))
	})
}

func keyID(id uint32) []byte { return binary.BigEndian.AppendUint32(nil, id) }
