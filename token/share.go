package token

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"time"

	"github.com/imds-dev/imds"
)

// Sync makes ring follow the token keys kept in ks, so that every replica
// sharing ks signs with the same key and honours the same older keys. It
// loads the keys before it returns (creating the first when there is none)
// and then keeps them in step until ctx ends.
//
// Rotation is scheduled, not immediate: while a key is current, the key that
// replaces it is already stored with a Created time every later, so each
// replica knows it before any replica signs with it. Replicas race to
// schedule it through ks's atomic create; one wins per period and the others
// read the winner's key. A key is kept until its last token has expired:
// MaxTTL after its successor took over, plus a grace for clock skew.
//
// ring must not have issued tokens yet: its own random key is replaced.
func Sync(ctx context.Context, ks imds.KeyStore, ring *KeyRing, every time.Duration, logger *slog.Logger) error {
	sh := newSharer(ks, ring, every, logger, time.Now)
	if err := sh.step(ctx); err != nil {
		return err
	}
	go sh.run(ctx)
	return nil
}

// sharer keeps one ring in step with a key store.
type sharer struct {
	ks    imds.KeyStore
	ring  *KeyRing
	every time.Duration // rotation period
	poll  time.Duration // how often the store is read
	grace time.Duration // notice before a late key activates; skew allowance
	now   func() time.Time
	log   *slog.Logger
}

func newSharer(ks imds.KeyStore, ring *KeyRing, every time.Duration, logger *slog.Logger, now func() time.Time) *sharer {
	if logger == nil {
		logger = slog.New(slog.DiscardHandler)
	}
	poll := min(max(every/10, 50*time.Millisecond), 10*time.Second)
	return &sharer{
		ks: ks, ring: ring, every: every, poll: poll, grace: 3 * poll, now: now,
		log: logger.With("component", "token-keys"),
	}
}

func (sh *sharer) run(ctx context.Context) {
	t := time.NewTicker(sh.poll)
	defer t.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case <-t.C:
		}
		if err := sh.step(ctx); err != nil && ctx.Err() == nil {
			sh.log.Warn("token keys not refreshed; keeping the current ones", "err", err)
		}
	}
}

// step reads the keys, schedules the next one when none is pending, hands
// the set to the ring and forgets keys whose tokens have all expired.
func (sh *sharer) step(ctx context.Context) error {
	keys, err := sh.ks.SigningKeys(ctx)
	if err != nil {
		return fmt.Errorf("load token keys: %w", err)
	}
	now := sh.now()
	// Twice at most: an empty store first gets its current key, then the
	// one that follows it.
	for range 2 {
		if len(keys) > 0 && keys[len(keys)-1].Created.After(now) {
			break
		}
		if err := sh.schedule(ctx, keys, now); err != nil {
			if len(keys) == 0 {
				return err
			}
			sh.log.Warn("next token key not scheduled", "err", err)
			break
		}
		if keys, err = sh.ks.SigningKeys(ctx); err != nil {
			return fmt.Errorf("load token keys: %w", err)
		}
	}
	if len(keys) == 0 {
		return errors.New("load token keys: store has none after creating one")
	}
	sh.ring.adopt(keys, now, sh.grace)
	sh.prune(ctx, keys, now)
	return nil
}

// schedule stores the key that follows the newest one: active now when
// there is none, else one period after the newest (but never sooner than a
// grace from now, so that every replica hears of it first).
func (sh *sharer) schedule(ctx context.Context, keys []imds.SigningKey, now time.Time) error {
	next := imds.SigningKey{ID: 1, Created: now}
	if n := len(keys); n > 0 {
		at := keys[n-1].Created.Add(sh.every)
		if soonest := now.Add(sh.grace); at.Before(soonest) {
			at = soonest
		}
		next = imds.SigningKey{ID: keys[n-1].ID + 1, Created: at}
	}
	k, err := NewKey(next.ID, next.Created)
	if err != nil {
		return err
	}
	next.Secret = k.Secret
	err = sh.ks.AddSigningKey(ctx, next)
	switch {
	case errors.Is(err, imds.ErrExists):
		return nil // another replica won this period
	case err != nil:
		return fmt.Errorf("add token key %d: %w", next.ID, err)
	}
	sh.log.Debug("token key scheduled", "id", next.ID, "active_from", next.Created.UTC())
	return nil
}

// prune removes keys whose tokens have all expired. Any replica may do it;
// removing twice is harmless.
func (sh *sharer) prune(ctx context.Context, keys []imds.SigningKey, now time.Time) {
	for i := 0; i+1 < len(keys); i++ {
		if now.Before(sh.expiry(keys[i+1])) {
			return
		}
		if err := sh.ks.RemoveSigningKey(ctx, keys[i].ID); err != nil {
			sh.log.Debug("token key not removed", "id", keys[i].ID, "err", err)
		}
	}
}

// expiry is when the last token signed by the key before successor expires.
func (sh *sharer) expiry(successor imds.SigningKey) time.Time {
	return successor.Created.Add(MaxTTL*time.Second + sh.grace)
}

// adopt replaces the ring's keys with keys (ordered by ID): the newest key
// whose Created has passed signs, and the rest stay known for checking,
// keys not yet active and keys whose tokens may still be alive alike.
func (r *KeyRing) adopt(keys []imds.SigningKey, now time.Time, grace time.Duration) {
	cur := 0
	for i, k := range keys {
		if !k.Created.After(now) {
			cur = i
		}
	}
	var retired []retiredKey
	for i, k := range keys {
		if i == cur {
			continue
		}
		until := now.Add(MaxTTL * time.Second) // a pending key
		if i < cur {
			until = keys[i+1].Created.Add(MaxTTL*time.Second + grace)
			if !now.Before(until) {
				continue
			}
		}
		retired = append(retired, retiredKey{Key: fromShared(k), until: until})
	}

	r.mu.Lock()
	defer r.mu.Unlock()
	r.current = fromShared(keys[cur])
	r.retired = retired
}

func fromShared(k imds.SigningKey) Key {
	return Key{ID: k.ID, Secret: k.Secret, Created: k.Created}
}
