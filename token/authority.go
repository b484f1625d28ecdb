// Package token issues and checks IMDSv2 session tokens.
//
// Tokens are self-contained: each carries its issue time, lifetime and the id
// of the key that authenticated it, and an HMAC-SHA-256 tag over those fields
// and the instance it was issued to. Any replica holding the key ring verifies
// a token without shared session state, a token is useless on another
// instance, and the server keeps nothing per token, so memory stays flat no
// matter how many tokens are issued.
package token

import (
	"crypto/hmac"
	"crypto/rand"
	"crypto/sha256"
	"encoding/base64"
	"encoding/binary"
	"errors"
	"hash"
	"sync"
	"time"
)

// Bounds of the TTL a client may request, in seconds.
const (
	MinTTL = 1
	MaxTTL = 21600
)

// Errors returned by Verify. Callers answer all of them with 401; the
// distinction is for metrics.
var (
	ErrMalformed  = errors.New("malformed token")
	ErrUnknownKey = errors.New("token key unknown")
	// ErrBadTag covers forged tokens and tokens of another instance: the
	// instance id is part of the tag, so the two cannot be told apart.
	ErrBadTag  = errors.New("token tag mismatch")
	ErrExpired = errors.New("token expired")
)

// Wire layout, before base64url encoding (42 bytes, 56 characters encoded,
// the size of EC2's own tokens):
//
//	version(1) keyID(4) issuedMillis(8) ttlSeconds(4) nonce(9) tag(16)
const (
	version     = 0x01
	tagSize     = 16
	nonceSize   = 9
	headerSize  = 1 + 4 + 8 + 4 + nonceSize
	rawSize     = headerSize + tagSize
	encodedSize = rawSize * 4 / 3
)

var encoding = base64.RawURLEncoding

// Authority mints and checks tokens with the keys of a KeyRing. It is safe
// for concurrent use.
type Authority struct {
	ring *KeyRing
	now  func() time.Time
	macs sync.Pool // of *keyedMAC, reused to keep Verify allocation-free
}

type keyedMAC struct {
	keyID uint32
	mac   hash.Hash
	sum   [sha256.Size]byte
	// input is reused to hand header and instance id to the hash without
	// a heap copy per call.
	input []byte
}

// NewAuthority returns an authority using ring. now defaults to time.Now;
// tests inject a clock.
func NewAuthority(ring *KeyRing, now func() time.Time) *Authority {
	if now == nil {
		now = time.Now
	}
	return &Authority{ring: ring, now: now}
}

// Issue returns a token for instanceID valid for ttl seconds from now. The
// caller has already checked ttl with ParseTTL.
func (a *Authority) Issue(instanceID string, ttl int) (string, error) {
	key := a.ring.Current()
	var raw [rawSize]byte
	raw[0] = version
	binary.BigEndian.PutUint32(raw[1:5], key.ID)
	binary.BigEndian.PutUint64(raw[5:13], uint64(a.now().UnixMilli()))
	binary.BigEndian.PutUint32(raw[13:17], uint32(ttl))
	if _, err := rand.Read(raw[17:headerSize]); err != nil {
		return "", err
	}
	m := a.tag(key, raw[:headerSize], instanceID)
	copy(raw[headerSize:], m.sum[:tagSize])
	a.release(m)
	var out [encodedSize]byte
	encoding.Encode(out[:], raw[:])
	return string(out[:]), nil
}

// EncodedLen is the length of every token Issue returns.
const EncodedLen = encodedSize

// Verify checks tok for instanceID and returns the whole seconds it has left
// (at least 1). A token is valid from its issue until issue plus TTL; at that
// instant it has expired.
func (a *Authority) Verify(tok, instanceID string) (remaining int, err error) {
	// Check the length before decoding anything, so junk costs nothing.
	if len(tok) != encodedSize {
		return 0, ErrMalformed
	}
	var src [encodedSize]byte
	var raw [rawSize]byte
	copy(src[:], tok)
	if n, err := encoding.Decode(raw[:], src[:]); err != nil || n != rawSize || raw[0] != version {
		return 0, ErrMalformed
	}
	key, ok := a.ring.Lookup(binary.BigEndian.Uint32(raw[1:5]))
	if !ok {
		return 0, ErrUnknownKey
	}
	m := a.tag(key, raw[:headerSize], instanceID)
	good := hmac.Equal(m.sum[:tagSize], raw[headerSize:])
	a.release(m)
	if !good {
		// A forged token and a token of another instance look the same
		// here, since the instance is part of the tag; both are refused.
		return 0, ErrBadTag
	}

	issued := int64(binary.BigEndian.Uint64(raw[5:13]))
	ttl := int64(binary.BigEndian.Uint32(raw[13:17]))
	if ttl < MinTTL || ttl > MaxTTL {
		return 0, ErrMalformed
	}
	left := issued + ttl*1000 - a.now().UnixMilli()
	if left <= 0 {
		return 0, ErrExpired
	}
	// Round down but never report 0 for a token that is still valid.
	return int(max(left/1000, 1)), nil
}

// tag computes the HMAC of header and instanceID under key. The returned
// value must be handed back with release.
func (a *Authority) tag(key Key, header []byte, instanceID string) *keyedMAC {
	m, _ := a.macs.Get().(*keyedMAC)
	if m == nil || m.keyID != key.ID {
		m = &keyedMAC{keyID: key.ID, mac: hmac.New(sha256.New, key.Secret)}
	} else {
		m.mac.Reset()
	}
	m.input = append(append(m.input[:0], header...), instanceID...)
	m.mac.Write(m.input)
	m.mac.Sum(m.sum[:0])
	return m
}

func (a *Authority) release(m *keyedMAC) { a.macs.Put(m) }

// ParseTTL parses the X-aws-ec2-metadata-token-ttl-seconds header value. Only
// plain ASCII digits are accepted (no sign, no spaces, no leading plus), and
// the value must lie in [MinTTL, MaxTTL].
func ParseTTL(s string) (int, bool) {
	if len(s) == 0 {
		return 0, false
	}
	n := 0
	for i := 0; i < len(s); i++ {
		c := s[i]
		if c < '0' || c > '9' {
			return 0, false
		}
		// Stop as soon as the value is out of range, so long inputs cannot
		// overflow; leading zeros are fine.
		if n = n*10 + int(c-'0'); n > MaxTTL {
			return 0, false
		}
	}
	return n, n >= MinTTL
}
