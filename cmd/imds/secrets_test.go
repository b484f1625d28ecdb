package main

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"testing"

	"github.com/imds-dev/imds"
	"github.com/imds-dev/imds/config"
	"github.com/imds-dev/imds/identity"
	"github.com/imds-dev/imds/store/mem"
)

// loser is a store where another replica creates each secret between this
// replica's first read and its create.
type loser struct {
	*mem.Store
	winner []byte
	reads  int
}

func (l *loser) Secret(ctx context.Context, name string) ([]byte, error) {
	l.reads++
	if l.reads == 1 {
		if err := l.Store.CreateSecret(ctx, name, l.winner); err != nil {
			return nil, err
		}
		return nil, imds.ErrNotFound
	}
	return l.Store.Secret(ctx, name)
}

// broken is a store whose secrets cannot be read.
type broken struct{ *mem.Store }

func (broken) Secret(context.Context, string) ([]byte, error) {
	return nil, fmt.Errorf("read: %w", imds.ErrUnavailable)
}

// plain is a store that keeps no secrets.
type plain struct{ imds.Store }

// TestSharedSecret_Source checks where sharedSecret's value comes from.
func TestSharedSecret_Source(t *testing.T) {
	// Ensure a stored secret wins over a new one, a missing one is created
	// and kept, a lost create race yields the winner's, and failures say
	// which secret they concern.
	stored := mem.New()
	stored.CreateSecret(context.Background(), "s", []byte("old"))
	boom := errors.New("boom")
	tests := []struct {
		name    string
		st      imds.Store
		gen     error // generate fails with it
		want    string
		kept    string // what the store holds afterwards, if it keeps secrets
		wantErr error
	}{
		{name: "stored", st: stored, want: "old", kept: "old"},
		{name: "missing", st: mem.New(), want: "new", kept: "new"},
		{name: "lost race", st: &loser{Store: mem.New(), winner: []byte("won")}, want: "won", kept: "won"},
		{name: "no secret store", st: plain{mem.New()}, want: "new"},
		{name: "generate fails", st: mem.New(), gen: boom, wantErr: boom},
		{name: "read fails", st: broken{mem.New()}, wantErr: imds.ErrUnavailable},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			ctx := context.Background()
			got, err := sharedSecret(ctx, tt.st, "s", func() ([]byte, error) {
				if tt.gen != nil {
					return nil, tt.gen
				}
				return []byte("new"), nil
			})
			if tt.wantErr != nil {
				if !errors.Is(err, tt.wantErr) {
					t.Fatalf("sharedSecret = %q, %v, want %v", got, err, tt.wantErr)
				}
				return
			}
			if err != nil || string(got) != tt.want {
				t.Fatalf("sharedSecret = %q, %v, want %q", got, err, tt.want)
			}
			if tt.kept == "" {
				return
			}
			kept, err := tt.st.(imds.SecretStore).Secret(ctx, "s")
			if err != nil || string(kept) != tt.kept {
				t.Fatalf("store holds %q, %v, want %q", kept, err, tt.kept)
			}
		})
	}
}

// TestNewSigner_Source checks which identity key signs.
func TestNewSigner_Source(t *testing.T) {
	// Ensure a key from the config wins and leaves the store alone, and
	// that without one a second start on the same store gets the first
	// start's key.
	ctx := context.Background()
	given, err := identity.GenerateSigner()
	if err != nil {
		t.Fatal(err)
	}
	st := mem.New()
	cfg := &config.File{IdentityKeyPEM: given.KeyPEM(), IdentityCertPEM: given.CertificatePEM()}
	s, err := newSigner(ctx, cfg, st)
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(s.CertificatePEM(), given.CertificatePEM()) {
		t.Error("config's identity key not used")
	}
	if _, err := st.Secret(ctx, identitySecret); !errors.Is(err, imds.ErrNotFound) {
		t.Errorf("config's key put in the store: %v", err)
	}

	first, err := newSigner(ctx, &config.File{}, st)
	if err != nil {
		t.Fatal(err)
	}
	second, err := newSigner(ctx, &config.File{}, st)
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(first.CertificatePEM(), second.CertificatePEM()) {
		t.Error("second start on one store has another identity certificate")
	}
	if bytes.Equal(first.CertificatePEM(), given.CertificatePEM()) {
		t.Error("generated signer is the config's")
	}
}

// TestCredentialSeed_Source checks which seed derives credentials.
func TestCredentialSeed_Source(t *testing.T) {
	// Ensure the config's seed wins, a generated one is shared through the
	// store, and a stored value of the wrong size is refused.
	ctx := context.Background()
	st := mem.New()
	given := bytes.Repeat([]byte{7}, 32)
	if got, err := credentialSeed(ctx, &config.File{CredentialSeed: given}, st); err != nil || !bytes.Equal(got, given) {
		t.Fatalf("with a configured seed: %x, %v", got, err)
	}
	first, err := credentialSeed(ctx, &config.File{}, st)
	if err != nil || len(first) != 32 {
		t.Fatalf("generated seed: %x, %v", first, err)
	}
	second, err := credentialSeed(ctx, &config.File{}, st)
	if err != nil || !bytes.Equal(first, second) {
		t.Fatalf("second start: %x, %v, want %x", second, err, first)
	}

	bad := mem.New()
	bad.CreateSecret(ctx, credentialSeedSecret, []byte("short"))
	if _, err := credentialSeed(ctx, &config.File{}, bad); err == nil {
		t.Fatal("a 5-byte stored seed was accepted")
	}
}
