package imds

import "context"

// SecretStore is implemented by stores that can share small secrets, such
// as the identity signing key and the credential seed, between replicas, so
// that every replica on one store signs and derives alike. Callers detect
// it with a type assertion.
//
// A secret is written once and never changes: replacing one would change
// certificates that verifiers pin and credentials that clients hold.
type SecretStore interface {
	// Secret returns a copy of the value stored under name, or ErrNotFound.
	Secret(ctx context.Context, name string) ([]byte, error)
	// CreateSecret stores a copy of value under name only if nothing is
	// stored there yet, and returns ErrExists otherwise, leaving the stored
	// value alone; of several replicas racing to create one name, exactly
	// one wins.
	CreateSecret(ctx context.Context, name string, value []byte) error
}
