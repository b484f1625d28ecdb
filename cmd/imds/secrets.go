package main

import (
	"context"
	"crypto/rand"
	"encoding/pem"
	"errors"
	"fmt"

	"github.com/imds-dev/imds"
	"github.com/imds-dev/imds/config"
	"github.com/imds-dev/imds/identity"
)

// Names of the secrets kept in the store.
const (
	credentialSeedSecret = "credential-seed" // 32 random bytes
	identitySecret       = "identity-signer" // key PEM block, then certificate PEM block
)

// sharedSecret returns the secret stored under name, creating it with
// generate when the store has none. Replicas on one store that start
// together race to create it; the losers take the winner's value, so every
// replica ends up with the same. A store that keeps no secrets gets a value
// for this process only.
func sharedSecret(ctx context.Context, st imds.Store, name string, generate func() ([]byte, error)) ([]byte, error) {
	ss, ok := st.(imds.SecretStore)
	if !ok {
		return generate()
	}
	v, err := ss.Secret(ctx, name)
	if err == nil {
		return v, nil
	}
	if !errors.Is(err, imds.ErrNotFound) {
		return nil, fmt.Errorf("read %s: %w", name, err)
	}

	v, err = generate()
	if err != nil {
		return nil, err
	}
	err = ss.CreateSecret(ctx, name, v)
	if errors.Is(err, imds.ErrExists) {
		// Another replica created it between our read and our create.
		if v, err = ss.Secret(ctx, name); err != nil {
			return nil, fmt.Errorf("read %s: %w", name, err)
		}
		return v, nil
	}
	if err != nil {
		return nil, fmt.Errorf("store %s: %w", name, err)
	}
	return v, nil
}

// newSigner returns the identity signer: the config's key, else the one
// the store shares, which the first replica to start generates.
func newSigner(ctx context.Context, cfg *config.File, st imds.Store) (*identity.Signer, error) {
	if len(cfg.IdentityKeyPEM) > 0 {
		s, err := identity.LoadSigner(cfg.IdentityKeyPEM, cfg.IdentityCertPEM)
		if err != nil {
			return nil, fmt.Errorf("load identity key: %w", err)
		}
		return s, nil
	}
	v, err := sharedSecret(ctx, st, identitySecret, func() ([]byte, error) {
		s, err := identity.GenerateSigner()
		if err != nil {
			return nil, fmt.Errorf("generate identity key: %w", err)
		}
		return append(s.KeyPEM(), s.CertificatePEM()...), nil
	})
	if err != nil {
		return nil, err
	}
	// LoadSigner reads only the first block of its key argument, so the
	// whole value can go there; the certificate is what follows that block.
	_, certPEM := pem.Decode(v)
	s, err := identity.LoadSigner(v, certPEM)
	if err != nil {
		return nil, fmt.Errorf("load %s from the store: %w", identitySecret, err)
	}
	return s, nil
}

// credentialSeed returns the secret role credentials are derived from: the
// config's, else the one the store shares.
func credentialSeed(ctx context.Context, cfg *config.File, st imds.Store) ([]byte, error) {
	if len(cfg.CredentialSeed) > 0 {
		return cfg.CredentialSeed, nil
	}
	const size = 32
	seed, err := sharedSecret(ctx, st, credentialSeedSecret, func() ([]byte, error) {
		seed := make([]byte, size)
		rand.Read(seed)
		return seed, nil
	})
	if err != nil {
		return nil, err
	}
	if len(seed) != size {
		return nil, fmt.Errorf("load %s from the store: %d bytes, want %d", credentialSeedSecret, len(seed), size)
	}
	return seed, nil
}
