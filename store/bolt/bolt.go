// Package bolt is the embedded imds.Store: instances, token keys and shared
// secrets in one bbolt file. Every change is fsynced before its method
// returns, so what the control plane acknowledged survives a crash or a
// kill -9.
//
// One process owns the file at a time; bbolt's file lock keeps a second
// `imds serve` on the same data directory from opening it.
package bolt

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"sync"
	"time"

	"go.etcd.io/bbolt"
	berrors "go.etcd.io/bbolt/errors"

	"github.com/imds-dev/imds"
	"github.com/imds-dev/imds/store/internal/fanout"
)

var (
	_ imds.Store       = (*Store)(nil)
	_ imds.Watcher     = (*Store)(nil)
	_ imds.Creator     = (*Store)(nil)
	_ imds.KeyStore    = (*Store)(nil)
	_ imds.SecretStore = (*Store)(nil)
)

// Bucket names.
var (
	instancesBucket = []byte("instances") // instance id -> JSON
	keysBucket      = []byte("keys")      // big-endian key id -> JSON
	secretsBucket   = []byte("secrets")   // name -> value as given
)

// Options configures Open. The zero value (or nil) means the defaults.
type Options struct {
	// LockTimeout bounds the wait for another process to release the
	// file. If zero, it defaults to 3 seconds.
	LockTimeout time.Duration
}

// Store is a bbolt-backed store. It is safe for concurrent use; Close it
// when done.
type Store struct {
	db *bbolt.DB
	// mu serialises writes together with their notifications, so watchers
	// see changes in the order they were committed.
	mu  sync.Mutex
	hub fanout.Hub
}

// Open opens (creating if needed) the database file at path. It fails with
// a clear error when another process holds the file.
func Open(path string, opts *Options) (*Store, error) {
	timeout := 3 * time.Second
	if opts != nil && opts.LockTimeout > 0 {
		timeout = opts.LockTimeout
	}
	db, err := bbolt.Open(path, 0o600, &bbolt.Options{Timeout: timeout})
	if errors.Is(err, berrors.ErrTimeout) {
		return nil, fmt.Errorf("open store %s: another process holds it (is another imds serving this data directory?): %w", path, err)
	}
	if err != nil {
		return nil, fmt.Errorf("open store %s: %w", path, err)
	}
	err = db.Update(func(tx *bbolt.Tx) error {
		for _, name := range [][]byte{instancesBucket, keysBucket, secretsBucket} {
			if _, err := tx.CreateBucketIfNotExists(name); err != nil {
				return err
			}
		}
		return nil
	})
	if err != nil {
		db.Close()
		return nil, fmt.Errorf("open store %s: create buckets: %w", path, err)
	}
	return &Store{db: db}, nil
}

// Close releases the file. Watch channels stay open until their contexts end.
func (s *Store) Close() error { return s.db.Close() }

// Path returns the database file's path.
func (s *Store) Path() string { return s.db.Path() }

// Get returns the instance with the given id, or imds.ErrNotFound.
func (s *Store) Get(_ context.Context, id string) (*imds.Instance, error) {
	var in *imds.Instance
	err := s.db.View(func(tx *bbolt.Tx) error {
		var err error
		in, err = getInstance(tx, id)
		return err
	})
	return in, err
}

// List returns every instance, ordered by id.
func (s *Store) List(context.Context) ([]*imds.Instance, error) {
	var out []*imds.Instance
	err := s.db.View(func(tx *bbolt.Tx) error {
		b := tx.Bucket(instancesBucket)
		out = make([]*imds.Instance, 0, b.Stats().KeyN)
		return b.ForEach(func(k, v []byte) error {
			in, err := decode(k, v)
			out = append(out, in)
			return err
		})
	})
	if err != nil {
		return nil, err
	}
	return out, nil
}

// Update applies fn inside one write transaction, so concurrent updates
// are serialised, and returns once the result is on disk.
func (s *Store) Update(_ context.Context, id string, fn func(*imds.Instance) error) (*imds.Instance, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	var next *imds.Instance
	err := s.db.Update(func(tx *bbolt.Tx) error {
		in, err := getInstance(tx, id)
		if err != nil {
			return err
		}
		rev := in.Revision
		if err := fn(in); err != nil {
			return err
		}
		in.ID, in.Revision = id, rev+1
		next = in
		return putInstance(tx, in)
	})
	if err != nil {
		return nil, err
	}
	s.hub.Publish(imds.Change{ID: id, Instance: next})
	return next.Clone(), nil
}

// Put stores in, replacing any instance with its id, and returns once it
// is on disk.
func (s *Store) Put(_ context.Context, in *imds.Instance) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	in = in.Clone()
	err := s.db.Update(func(tx *bbolt.Tx) error {
		in.Revision = 1
		if cur, err := getInstance(tx, in.ID); err == nil {
			in.Revision = cur.Revision + 1
		}
		return putInstance(tx, in)
	})
	if err != nil {
		return err
	}
	s.hub.Publish(imds.Change{ID: in.ID, Instance: in})
	return nil
}

// Create stores in unless its id is taken (imds.ErrExists).
func (s *Store) Create(ctx context.Context, in *imds.Instance) error {
	added, err := s.CreateAll(ctx, []*imds.Instance{in})
	if err == nil && added == 0 {
		return imds.ErrExists
	}
	return err
}

// CreateAll stores, in one transaction, those of ins whose ids are free,
// and reports how many it stored. An import of a large fleet uses it to pay
// for one fsync instead of one per instance.
func (s *Store) CreateAll(_ context.Context, ins []*imds.Instance) (added int, err error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	var stored []*imds.Instance
	err = s.db.Update(func(tx *bbolt.Tx) error {
		stored = stored[:0]
		b := tx.Bucket(instancesBucket)
		for _, in := range ins {
			if b.Get([]byte(in.ID)) != nil {
				continue
			}
			if err := putInstance(tx, in); err != nil {
				return err
			}
			stored = append(stored, in)
		}
		return nil
	})
	if err != nil {
		return 0, err
	}
	for _, in := range stored {
		s.hub.Publish(imds.Change{ID: in.ID, Instance: in})
	}
	return len(stored), nil
}

// Delete removes the instance and returns once that is on disk.
func (s *Store) Delete(_ context.Context, id string) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	found := false
	err := s.db.Update(func(tx *bbolt.Tx) error {
		b := tx.Bucket(instancesBucket)
		found = b.Get([]byte(id)) != nil
		if !found {
			return nil
		}
		return b.Delete([]byte(id))
	})
	if err != nil {
		return fmt.Errorf("delete %s: %w", id, err)
	}
	if found {
		s.hub.Publish(imds.Change{ID: id})
	}
	return nil
}

// Watch delivers every change committed after the call, in commit order,
// until ctx ends. Only changes made through this Store are seen: bbolt's
// file has a single writer process.
func (s *Store) Watch(ctx context.Context) (<-chan imds.Change, error) {
	return s.hub.Subscribe(ctx), nil
}

func getInstance(tx *bbolt.Tx, id string) (*imds.Instance, error) {
	v := tx.Bucket(instancesBucket).Get([]byte(id))
	if v == nil {
		return nil, imds.ErrNotFound
	}
	return decode([]byte(id), v)
}

func putInstance(tx *bbolt.Tx, in *imds.Instance) error {
	v, err := json.Marshal(in)
	if err != nil {
		return fmt.Errorf("encode %s: %w", in.ID, err)
	}
	if err := tx.Bucket(instancesBucket).Put([]byte(in.ID), v); err != nil {
		return fmt.Errorf("store %s: %w", in.ID, err)
	}
	return nil
}

// decode parses a stored value. v is only valid inside its transaction;
// json.Unmarshal copies what it keeps.
func decode(k, v []byte) (*imds.Instance, error) {
	in := new(imds.Instance)
	if err := json.Unmarshal(v, in); err != nil {
		return nil, fmt.Errorf("decode %s: %w", k, err)
	}
	return in, nil
}
