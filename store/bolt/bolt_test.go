package bolt_test

import (
	"context"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/imds-dev/imds"
	"github.com/imds-dev/imds/store/bolt"
	"github.com/imds-dev/imds/store/storetest"
)

func open(t *testing.T, path string) *bolt.Store {
	t.Helper()
	s, err := bolt.Open(path, nil)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { s.Close() })
	return s
}

// Ensure the bbolt store passes the store conformance suite.
func TestStore(t *testing.T) {
	storetest.Run(t, func(t *testing.T) imds.Store {
		return open(t, filepath.Join(t.TempDir(), "imds.db"))
	})
}

// Ensure what was stored (instances, token keys, secrets) is there after
// the file is closed and reopened.
func TestStore_Reopen(t *testing.T) {
	path := filepath.Join(t.TempDir(), "imds.db")
	s, err := bolt.Open(path, nil)
	if err != nil {
		t.Fatal(err)
	}
	ctx := context.Background()
	in := storetest.Sample("i-00000000000000001", 1)
	if err := s.Put(ctx, in); err != nil {
		t.Fatal(err)
	}
	if err := s.AddSigningKey(ctx, imds.SigningKey{ID: 1, Secret: []byte("k")}); err != nil {
		t.Fatal(err)
	}
	if err := s.CreateSecret(ctx, "credential-seed", []byte("seed")); err != nil {
		t.Fatal(err)
	}
	s.Close()

	s = open(t, path)
	if _, err := s.Get(ctx, in.ID); err != nil {
		t.Fatalf("after reopen: %v", err)
	}
	if keys, err := s.SigningKeys(ctx); err != nil || len(keys) != 1 {
		t.Fatalf("keys after reopen: %v, %v", keys, err)
	}
	if v, err := s.Secret(ctx, "credential-seed"); err != nil || string(v) != "seed" {
		t.Fatalf("secret after reopen: %q, %v", v, err)
	}
}

// Ensure a second open of a held file fails after the lock timeout with an
// error that says another process holds it.
func TestOpen_Locked(t *testing.T) {
	path := filepath.Join(t.TempDir(), "imds.db")
	open(t, path)
	start := time.Now()
	_, err := bolt.Open(path, &bolt.Options{LockTimeout: 200 * time.Millisecond})
	if err == nil || !strings.Contains(err.Error(), "another process holds it") {
		t.Fatalf("second open: %v", err)
	}
	if d := time.Since(start); d > 2*time.Second {
		t.Fatalf("second open took %s", d)
	}
}

// Ensure Open reports a path it cannot create.
func TestOpen_BadPath(t *testing.T) {
	_, err := bolt.Open(filepath.Join(t.TempDir(), "missing", "imds.db"), nil)
	if err == nil || !strings.Contains(err.Error(), "open store") {
		t.Fatalf("got %v", err)
	}
}
