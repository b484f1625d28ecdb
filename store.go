package imds

import (
	"context"
	"errors"
)

// Sentinel errors shared by every store and by the planes above them.
var (
	// ErrNotFound is returned when no instance has the given id.
	ErrNotFound = errors.New("instance not found")
	// ErrExists is returned by Create when the id is taken.
	ErrExists = errors.New("instance already exists")
	// ErrUnavailable wraps failures of a store that cannot be reached; the
	// caller may retry, and nothing was changed.
	ErrUnavailable = errors.New("store unavailable")
)

// Store keeps instances. Implementations are safe for concurrent use. A
// change is acknowledged (the method returns nil) only once it is durable in
// the store's own sense: in memory for the memory store, on disk for bbolt,
// committed by the cluster for etcd.
type Store interface {
	// Get returns the instance with the given id, or ErrNotFound.
	Get(ctx context.Context, id string) (*Instance, error)
	// List returns every instance, in no particular order.
	List(ctx context.Context) ([]*Instance, error)
	// Update applies fn to the stored instance atomically and stores the
	// result. It returns ErrNotFound when the id is unknown, and fn's error
	// unchanged when fn fails (nothing is stored then).
	Update(ctx context.Context, id string, fn func(*Instance) error) (*Instance, error)
	// Put stores in, replacing any instance with the same id.
	Put(ctx context.Context, in *Instance) error
	// Delete removes the instance; deleting an unknown id is not an error.
	Delete(ctx context.Context, id string) error
}

// Change reports one instance as it is after a change; Instance is nil when
// it was deleted.
type Change struct {
	ID       string
	Instance *Instance
}

// Watcher is implemented by stores that can tell a replica about changes made
// elsewhere. Callers detect it with a type assertion.
type Watcher interface {
	// Watch delivers every change made after the call until ctx ends.
	Watch(ctx context.Context) (<-chan Change, error)
}
