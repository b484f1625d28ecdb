package imds

import "context"

// Creator is implemented by stores that can add an instance only when its
// id is free, in one atomic step. An import uses it so that it never
// overwrites an instance the control plane created or changed meanwhile.
type Creator interface {
	// Create stores in, or returns ErrExists when its id is taken.
	Create(ctx context.Context, in *Instance) error
}
