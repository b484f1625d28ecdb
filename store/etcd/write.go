package etcd

import (
	"context"
	"encoding/json"
	"fmt"

	clientv3 "go.etcd.io/etcd/client/v3"

	"github.com/imds-dev/imds"
)

// Put stores in, replacing any instance with its id, and returns once the
// cluster committed it and this replica's cache holds it.
func (s *Store) Put(ctx context.Context, in *imds.Instance) error {
	in = in.Clone()
	in.Revision = 1
	if cur, err := s.Get(ctx, in.ID); err == nil {
		in.Revision = cur.Revision + 1
	}
	v, err := json.Marshal(in)
	if err != nil {
		return fmt.Errorf("encode %s: %w", in.ID, err)
	}
	ctx, cancel := context.WithTimeout(ctx, s.writeLimit)
	defer cancel()
	resp, err := s.cli.Put(ctx, s.instanceKey(in.ID), string(v))
	if err != nil {
		return unavailable("put "+in.ID, err)
	}
	s.waitRev(ctx, resp.Header.Revision)
	return nil
}

// Create stores in unless its id is taken (imds.ErrExists), in one
// transaction.
func (s *Store) Create(ctx context.Context, in *imds.Instance) error {
	v, err := json.Marshal(in)
	if err != nil {
		return fmt.Errorf("encode %s: %w", in.ID, err)
	}
	return s.create(ctx, "create "+in.ID, s.instanceKey(in.ID), v)
}

// create puts key only if it does not exist yet.
func (s *Store) create(ctx context.Context, op, key string, v []byte) error {
	ctx, cancel := context.WithTimeout(ctx, s.writeLimit)
	defer cancel()
	resp, err := s.cli.Txn(ctx).
		If(clientv3.Compare(clientv3.CreateRevision(key), "=", 0)).
		Then(clientv3.OpPut(key, string(v))).
		Commit()
	if err != nil {
		return unavailable(op, err)
	}
	// Either way, wait until the cache has seen this revision: a loser of
	// a create race reads the winner's value from the cache next.
	s.waitRev(ctx, resp.Header.Revision)
	if !resp.Succeeded {
		return imds.ErrExists
	}
	return nil
}

// Update applies fn and stores the result in a transaction conditioned on
// the revision fn saw; when another writer got there first, it runs fn
// again on the newer value. fn may therefore run more than once, and must
// only change the instance it is given. Updates of one id from this replica
// queue behind each other, so only replicas race.
func (s *Store) Update(ctx context.Context, id string, fn func(*imds.Instance) error) (*imds.Instance, error) {
	unlock := s.locks.lock(id)
	defer unlock()
	ctx, cancel := context.WithTimeout(ctx, s.writeLimit)
	defer cancel()

	key := s.instanceKey(id)
	resp, err := s.cli.Get(ctx, key)
	if err != nil {
		return nil, unavailable("update "+id, err)
	}
	kvs := resp.Kvs
	for {
		if len(kvs) == 0 {
			return nil, imds.ErrNotFound
		}
		in := new(imds.Instance)
		if err := json.Unmarshal(kvs[0].Value, in); err != nil {
			return nil, fmt.Errorf("decode %s: %w", id, err)
		}
		// ModRevision only grows, so deriving the revision from it keeps
		// every replica's writes in order without a counter of our own.
		rev := max(in.Revision, uint64(kvs[0].ModRevision)) + 1
		if err := fn(in); err != nil {
			return nil, err
		}
		in.ID, in.Revision = id, rev
		v, err := json.Marshal(in)
		if err != nil {
			return nil, fmt.Errorf("encode %s: %w", id, err)
		}
		txn, err := s.cli.Txn(ctx).
			If(clientv3.Compare(clientv3.ModRevision(key), "=", kvs[0].ModRevision)).
			Then(clientv3.OpPut(key, string(v))).
			Else(clientv3.OpGet(key)).
			Commit()
		if err != nil {
			return nil, unavailable("update "+id, err)
		}
		if txn.Succeeded {
			s.waitRev(ctx, txn.Header.Revision)
			return in, nil
		}
		kvs = txn.Responses[0].GetResponseRange().Kvs
	}
}

// Delete removes the instance and returns once the cluster committed it.
func (s *Store) Delete(ctx context.Context, id string) error {
	return s.delete(ctx, "delete "+id, s.instanceKey(id))
}

func (s *Store) delete(ctx context.Context, op, key string) error {
	ctx, cancel := context.WithTimeout(ctx, s.writeLimit)
	defer cancel()
	resp, err := s.cli.Delete(ctx, key)
	if err != nil {
		return unavailable(op, err)
	}
	if resp.Deleted > 0 {
		s.waitRev(ctx, resp.Header.Revision)
	}
	return nil
}

// AddSigningKey stores k unless its ID is taken (imds.ErrExists).
func (s *Store) AddSigningKey(ctx context.Context, k imds.SigningKey) error {
	v, err := json.Marshal(k)
	if err != nil {
		return fmt.Errorf("encode token key %d: %w", k.ID, err)
	}
	return s.create(ctx, fmt.Sprintf("add token key %d", k.ID), s.signingKey(k.ID), v)
}

// RemoveSigningKey forgets the key with the given ID.
func (s *Store) RemoveSigningKey(ctx context.Context, id uint32) error {
	return s.delete(ctx, fmt.Sprintf("remove token key %d", id), s.signingKey(id))
}
