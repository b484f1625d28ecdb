package etcd_test

import (
	"context"
	"errors"
	"sync"
	"testing"
	"time"

	"github.com/imds-dev/imds/store/etcd/etcdtest"
	"github.com/imds-dev/imds/token"
)

// Ensure replicas that Sync their token keys from one etcd accept each
// other's tokens, across rotations, and refuse a token for another
// instance.
func TestSync_Replicas(t *testing.T) {
	srv := etcdtest.Start(t)
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()

	const every = time.Second
	var rings [2]*token.KeyRing
	var auths [2]*token.Authority
	var wg sync.WaitGroup
	for i := range rings {
		st := open(t, spec(srv, "/keys"))
		rings[i], _ = token.NewKeyRing(time.Now())
		auths[i] = token.NewAuthority(rings[i], nil)
		// Both start at once and race to create the first key.
		wg.Go(func() {
			if err := token.Sync(ctx, st, rings[i], every, nil); err != nil {
				t.Error(err)
			}
		})
	}
	wg.Wait()
	if rings[0].Current().ID != rings[1].Current().ID {
		t.Fatalf("replicas sign with keys %d and %d", rings[0].Current().ID, rings[1].Current().ID)
	}

	first, err := auths[0].Issue("i-0aaaaaaaaaaaaaaaa", 600)
	if err != nil {
		t.Fatal(err)
	}
	check := func(tok string, by int) {
		t.Helper()
		for i, a := range auths {
			if _, err := a.Verify(tok, "i-0aaaaaaaaaaaaaaaa"); err != nil {
				t.Fatalf("token of replica %d refused by replica %d: %v", by, i, err)
			}
			if _, err := a.Verify(tok, "i-0bbbbbbbbbbbbbbbb"); !errors.Is(err, token.ErrBadTag) {
				t.Fatalf("token for A accepted for B by replica %d: %v", i, err)
			}
		}
	}
	check(first, 0)

	// Let the keys rotate twice; tokens of every key stay valid everywhere.
	startID := rings[0].Current().ID
	deadline := time.Now().Add(10 * time.Second)
	for rings[0].Current().ID < startID+2 || rings[1].Current().ID < startID+2 {
		if time.Now().After(deadline) {
			t.Fatalf("keys did not rotate: %d, %d", rings[0].Current().ID, rings[1].Current().ID)
		}
		tok, err := auths[1].Issue("i-0aaaaaaaaaaaaaaaa", 600)
		if err != nil {
			t.Fatal(err)
		}
		check(tok, 1)
		time.Sleep(50 * time.Millisecond)
	}
	check(first, 0)
}
