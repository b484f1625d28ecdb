package etcd

import (
	"context"

	"github.com/imds-dev/imds"
)

// Secret returns the named secret, or imds.ErrNotFound. Unlike the other
// reads it asks etcd itself rather than the cache: it runs at start-up,
// where a replica must see what another replica created a moment ago, and
// it fails with imds.ErrUnavailable when etcd cannot be reached. It is
// bounded by Options.WriteTimeout like a write.
func (s *Store) Secret(ctx context.Context, name string) ([]byte, error) {
	ctx, cancel := context.WithTimeout(ctx, s.writeLimit)
	defer cancel()
	resp, err := s.cli.Get(ctx, s.secretKey(name))
	if err != nil {
		return nil, unavailable("read secret "+name, err)
	}
	if len(resp.Kvs) == 0 {
		return nil, imds.ErrNotFound
	}
	// The response is this call's own; its bytes are the caller's to keep.
	return resp.Kvs[0].Value, nil
}

// CreateSecret stores value unless name is taken (imds.ErrExists), in one
// transaction, so that of replicas racing to create it exactly one wins.
func (s *Store) CreateSecret(ctx context.Context, name string, value []byte) error {
	return s.create(ctx, "create secret "+name, s.secretKey(name), value)
}

func (s *Store) secretKey(name string) string { return s.prefix + "/secrets/" + name }
