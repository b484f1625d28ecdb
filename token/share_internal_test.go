package token

import (
	"context"
	"testing"
	"time"

	"github.com/imds-dev/imds/store/mem"
)

// Ensure keys rotate on schedule, a token outlives its key's rotation until
// it expires, and keys whose tokens have all expired leave the store.
func TestSharer_Step(t *testing.T) {
	ctx := context.Background()
	st := mem.New()
	clock := time.Date(2024, 1, 1, 0, 0, 0, 0, time.UTC)
	now := func() time.Time { return clock }
	ring, _ := NewKeyRing(clock)
	sh := newSharer(st, ring, time.Hour, nil, now)
	auth := NewAuthority(ring, now)

	if err := sh.step(ctx); err != nil {
		t.Fatal(err)
	}
	keys, _ := st.SigningKeys(ctx)
	if len(keys) != 2 || ring.Current().ID != 1 || !keys[1].Created.Equal(clock.Add(time.Hour)) {
		t.Fatalf("after first step: current %d, keys %+v", ring.Current().ID, keys)
	}
	old, _ := auth.Issue("i-0a", MaxTTL)

	start := clock
	for hour := 1; hour <= 8; hour++ {
		clock = start.Add(time.Duration(hour) * time.Hour)
		if err := sh.step(ctx); err != nil {
			t.Fatal(err)
		}
		keys, _ := st.SigningKeys(ctx)
		_, err := auth.Verify(old, "i-0a")
		_, known := ring.Lookup(1)
		switch {
		case ring.Current().ID != uint32(hour+1):
			t.Fatalf("at +%dh key %d is current", hour, ring.Current().ID)
		case (err == nil) != (hour < 6):
			t.Fatalf("at +%dh the first token: %v", hour, err)
		case (keys[0].ID == 1) != (hour <= 7) || known != (hour <= 7):
			t.Fatalf("at +%dh key 1 stored %v, in the ring %v", hour, keys[0].ID == 1, known)
		}
	}
}

// Ensure a key created late (no replica ran for longer than a period) is
// scheduled a grace ahead, so that other replicas hear of it first.
func TestSharer_LateKey(t *testing.T) {
	ctx := context.Background()
	st := mem.New()
	clock := time.Date(2024, 1, 1, 0, 0, 0, 0, time.UTC)
	ring, _ := NewKeyRing(clock)
	sh := newSharer(st, ring, time.Hour, nil, func() time.Time { return clock })
	if err := sh.step(ctx); err != nil {
		t.Fatal(err)
	}
	clock = clock.Add(5 * time.Hour)
	if err := sh.step(ctx); err != nil {
		t.Fatal(err)
	}
	keys, _ := st.SigningKeys(ctx)
	last := keys[len(keys)-1]
	if last.ID != 3 || !last.Created.Equal(clock.Add(sh.grace)) || ring.Current().ID != 2 {
		t.Fatalf("current %d, last key %d at %s (now %s)", ring.Current().ID, last.ID, last.Created, clock)
	}
}
