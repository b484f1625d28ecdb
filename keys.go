package imds

import (
	"context"
	"time"
)

// SigningKey is one secret that signs and checks IMDSv2 tokens. Replicas
// share keys through the store so that a token issued by one is honoured by
// all. A key signs new tokens from Created on, until a newer key's Created
// passes; Created may lie in the future, so that every replica knows a key
// before any replica signs with it.
type SigningKey struct {
	ID      uint32    `json:"id"`
	Secret  []byte    `json:"secret"`
	Created time.Time `json:"created"`
}

// KeyStore is implemented by stores that can share token keys between
// replicas. Callers detect it with a type assertion.
type KeyStore interface {
	// SigningKeys returns every stored key, ordered by increasing ID.
	SigningKeys(ctx context.Context) ([]SigningKey, error)
	// AddSigningKey stores k only if no key has its ID, and returns
	// ErrExists otherwise; of several replicas racing to add one ID,
	// exactly one wins.
	AddSigningKey(ctx context.Context, k SigningKey) error
	// RemoveSigningKey forgets the key with the given ID; removing an
	// unknown ID is not an error.
	RemoveSigningKey(ctx context.Context, id uint32) error
}
