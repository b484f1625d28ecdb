package token

import (
	"crypto/rand"
	"fmt"
	"sync"
	"time"
)

// Key is one HMAC key of a ring.
type Key struct {
	ID      uint32
	Secret  []byte
	Created time.Time
}

// KeySize is the length of generated secrets.
const KeySize = 32

// KeyRing holds the key that signs new tokens and the older keys whose tokens
// may still be alive. Rotation adds a key and makes it current; a key is
// dropped once every token it could have signed has expired (MaxTTL after it
// stopped being current). It is safe for concurrent use.
type KeyRing struct {
	mu      sync.RWMutex
	current Key
	retired []retiredKey // oldest first
}

type retiredKey struct {
	Key
	until time.Time // last moment a token of this key can be valid
}

// NewKeyRing returns a ring with one fresh random key.
func NewKeyRing(now time.Time) (*KeyRing, error) {
	k, err := NewKey(1, now)
	if err != nil {
		return nil, err
	}
	return &KeyRing{current: k}, nil
}

// NewKey returns a key with a random secret.
func NewKey(id uint32, now time.Time) (Key, error) {
	secret := make([]byte, KeySize)
	if _, err := rand.Read(secret); err != nil {
		return Key{}, fmt.Errorf("generate token key: %w", err)
	}
	return Key{ID: id, Secret: secret, Created: now}, nil
}

// Current returns the key that signs new tokens.
func (r *KeyRing) Current() Key {
	r.mu.RLock()
	defer r.mu.RUnlock()
	return r.current
}

// Lookup returns the key with the given id, current or retired.
func (r *KeyRing) Lookup(id uint32) (Key, bool) {
	r.mu.RLock()
	defer r.mu.RUnlock()
	if r.current.ID == id {
		return r.current, true
	}
	for _, k := range r.retired {
		if k.ID == id {
			return k.Key, true
		}
	}
	return Key{}, false
}

// Rotate makes a new random key current at now and forgets keys whose tokens
// have all expired.
func (r *KeyRing) Rotate(now time.Time) error {
	r.mu.RLock()
	next := r.current.ID + 1
	r.mu.RUnlock()
	k, err := NewKey(next, now)
	if err != nil {
		return err
	}
	r.Install(k, now)
	return nil
}

// Install makes k current (when it is newer than the current key) and keeps
// the previous key for MaxTTL so that its tokens stay valid. Replicas that
// share keys through a store call Install with the keys they are told about.
func (r *KeyRing) Install(k Key, now time.Time) {
	r.mu.Lock()
	defer r.mu.Unlock()
	if k.ID <= r.current.ID {
		return
	}
	r.retired = append(r.retired, retiredKey{Key: r.current, until: now.Add(MaxTTL * time.Second)})
	r.current = k
	kept := r.retired[:0]
	for _, old := range r.retired {
		if now.Before(old.until) {
			kept = append(kept, old)
		}
	}
	r.retired = kept
}
