package token

import (
	"encoding/base64"
	"errors"
	"regexp"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"
)

const instanceA = "i-0123456789abcdef0"

// fakeClock is a settable time source.
type fakeClock struct {
	mu sync.Mutex
	t  time.Time
}

func (c *fakeClock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.t
}

func (c *fakeClock) Advance(d time.Duration) {
	c.mu.Lock()
	c.t = c.t.Add(d)
	c.mu.Unlock()
}

// newFakeAuthority returns an authority with a fresh ring and a clock
// starting at a whole second.
func newFakeAuthority(t testing.TB) (*Authority, *KeyRing, *fakeClock) {
	t.Helper()
	clk := &fakeClock{t: time.Date(2026, 12, 4, 16, 0, 0, 0, time.UTC)}
	ring, err := NewKeyRing(clk.Now())
	if err != nil {
		t.Fatal(err)
	}
	return NewAuthority(ring, clk.Now), ring, clk
}

func mustIssue(t testing.TB, a *Authority, instance string, ttl int) string {
	t.Helper()
	tok, err := a.Issue(instance, ttl)
	if err != nil {
		t.Fatal(err)
	}
	return tok
}

// TestAuthority_Issue checks the token's outward shape.
func TestAuthority_Issue(t *testing.T) {
	// Ensure tokens are 56 URL-safe characters, like EC2's, and unique.
	a, _, _ := newFakeAuthority(t)
	shape := regexp.MustCompile(`^[A-Za-z0-9_-]{56}$`)
	seen := map[string]bool{}
	for i := 0; i < 100; i++ {
		tok := mustIssue(t, a, instanceA, 60)
		if !shape.MatchString(tok) {
			t.Fatalf("Issue() = %q, want 56 URL-safe base64 characters", tok)
		}
		if seen[tok] {
			t.Fatalf("Issue() repeated %q", tok)
		}
		seen[tok] = true
	}
}

// TestAuthority_Verify runs Verify over the ways a token can be good or bad.
func TestAuthority_Verify(t *testing.T) {
	// Ensure each case gives the documented remaining TTL or sentinel.
	tests := []struct {
		name string
		ttl  int
		// after runs between Issue and Verify and may change the token.
		after    func(a *Authority, r *KeyRing, c *fakeClock, tok string) string
		instance string // default instanceA
		want     int
		err      error
	}{
		{name: "fresh", ttl: 21600, want: 21600},
		{name: "fresh ttl 1", ttl: 1, want: 1},
		{name: "half a second used", ttl: 60, want: 59,
			after: afterAdvance(500 * time.Millisecond)},
		// The remaining time rounds down but never to 0 while valid.
		{name: "last millisecond", ttl: 60, want: 1,
			after: afterAdvance(60*time.Second - time.Millisecond)},
		{name: "expired at exactly TTL", ttl: 60, err: ErrExpired,
			after: afterAdvance(60 * time.Second)},
		{name: "expired later", ttl: 1, err: ErrExpired,
			after: afterAdvance(time.Hour)},
		{name: "wrong instance", ttl: 60, instance: "i-0fedcba9876543210", err: ErrBadTag},
		{name: "empty instance", ttl: 60, instance: "-", err: ErrBadTag},
		{name: "instance prefix", ttl: 60, instance: "i-0123456789abcdef", err: ErrBadTag},
		{name: "unknown key", ttl: 60, err: ErrUnknownKey,
			after: func(_ *Authority, _ *KeyRing, _ *fakeClock, tok string) string {
				return rewriteRaw(tok, func(raw []byte) { raw[4] ^= 0x40 })
			}},
		{name: "rotated key still valid", ttl: 600, want: 599,
			after: func(_ *Authority, r *KeyRing, c *fakeClock, tok string) string {
				c.Advance(time.Second)
				if err := r.Rotate(c.Now()); err != nil {
					panic(err)
				}
				return tok
			}},
		{name: "rotated twice within MaxTTL", ttl: MaxTTL, want: 1,
			after: func(_ *Authority, r *KeyRing, c *fakeClock, tok string) string {
				r.Rotate(c.Now())
				c.Advance(MaxTTL*time.Second - time.Second)
				r.Rotate(c.Now())
				return tok
			}},
		// The key goes once every token it signed must have expired; the
		// authority's clock stays put to tell the key check from expiry.
		{name: "key dropped after MaxTTL", ttl: 60, err: ErrUnknownKey,
			after: func(_ *Authority, r *KeyRing, c *fakeClock, tok string) string {
				r.Rotate(c.Now())
				r.Rotate(c.Now().Add(MaxTTL*time.Second + time.Second))
				return tok
			}},
		{name: "wrong version", ttl: 60, err: ErrMalformed,
			after: func(_ *Authority, _ *KeyRing, _ *fakeClock, tok string) string {
				return rewriteRaw(tok, func(raw []byte) { raw[0] = 2 })
			}},
		{name: "TTL 0 minted by a careless caller", ttl: 0, err: ErrMalformed},
		{name: "TTL above MaxTTL minted by a careless caller", ttl: MaxTTL + 1, err: ErrMalformed},
		{name: "empty", ttl: 60, err: ErrMalformed, after: afterReplace("")},
		{name: "truncated", ttl: 60, err: ErrMalformed,
			after: func(_ *Authority, _ *KeyRing, _ *fakeClock, tok string) string { return tok[:55] }},
		{name: "extended", ttl: 60, err: ErrMalformed,
			after: func(_ *Authority, _ *KeyRing, _ *fakeClock, tok string) string { return tok + "A" }},
		{name: "standard base64 alphabet", ttl: 60, err: ErrMalformed,
			after: func(_ *Authority, _ *KeyRing, _ *fakeClock, tok string) string {
				return "+/" + tok[2:]
			}},
		{name: "padded", ttl: 60, err: ErrMalformed,
			after: func(_ *Authority, _ *KeyRing, _ *fakeClock, tok string) string { return tok[:54] + "==" }},
		{name: "spaces", ttl: 60, err: ErrMalformed, after: afterReplace(strings.Repeat(" ", 56))},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			a, r, c := newFakeAuthority(t)
			tok := mustIssue(t, a, instanceA, tt.ttl)
			if tt.after != nil {
				tok = tt.after(a, r, c, tok)
			}
			instance := tt.instance
			switch instance {
			case "":
				instance = instanceA
			case "-":
				instance = ""
			}
			got, err := a.Verify(tok, instance)
			if got != tt.want || !errors.Is(err, tt.err) {
				t.Errorf("Verify() = %d, %v; want %d, %v", got, err, tt.want, tt.err)
			}
		})
	}
}

// TestAuthority_VerifyTampered flips every bit of every byte in turn.
func TestAuthority_VerifyTampered(t *testing.T) {
	// Ensure no single changed byte, in the raw token or in its text,
	// leaves a token valid.
	a, _, _ := newFakeAuthority(t)
	tok := mustIssue(t, a, instanceA, 60)
	raw, _ := base64.RawURLEncoding.DecodeString(tok)
	for i := range raw {
		for bit := 0; bit < 8; bit++ {
			bad := rewriteRaw(tok, func(r []byte) { r[i] ^= 1 << bit })
			if _, err := a.Verify(bad, instanceA); err == nil {
				t.Errorf("raw byte %d bit %d flipped: token still valid", i, bit)
			}
		}
	}
	const alphabet = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_"
	for i := range tok {
		for _, c := range []byte(alphabet + "+/=. \x00\xff") {
			if c == tok[i] {
				continue
			}
			bad := tok[:i] + string(c) + tok[i+1:]
			if _, err := a.Verify(bad, instanceA); err == nil {
				t.Errorf("character %d set to %q: token still valid", i, c)
			}
		}
	}
}

// TestAuthority_VerifyAcrossAuthorities checks replicas and restarts.
func TestAuthority_VerifyAcrossAuthorities(t *testing.T) {
	// Ensure a token verifies on any authority that shares the ring and
	// on none with a fresh one (a restart without persisted keys).
	a, ring, clk := newFakeAuthority(t)
	tok := mustIssue(t, a, instanceA, 60)
	if _, err := NewAuthority(ring, clk.Now).Verify(tok, instanceA); err != nil {
		t.Errorf("replica with the same ring: %v", err)
	}
	fresh, _, _ := newFakeAuthority(t)
	if _, err := fresh.Verify(tok, instanceA); !errors.Is(err, ErrBadTag) {
		t.Errorf("fresh ring: %v, want %v", err, ErrBadTag)
	}
}

// TestAuthority_VerifyAllocs keeps the hot path free of garbage.
func TestAuthority_VerifyAllocs(t *testing.T) {
	// Ensure Verify allocates nothing, for good and for bad tokens.
	if raceEnabled {
		t.Skip("the race detector allocates; run without -race to count allocations")
	}
	a, _, _ := newFakeAuthority(t)
	good := mustIssue(t, a, instanceA, 60)
	tests := []struct{ name, tok string }{
		{"valid", good},
		{"forged", "A" + good[1:]},
		{"junk", "garbage"},
		{"wrong length", good + "A"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if n := testing.AllocsPerRun(200, func() { a.Verify(tt.tok, instanceA) }); n != 0 {
				t.Errorf("Verify allocates %v times per call, want 0", n)
			}
		})
	}
}

// TestParseTTL covers the TTL header's accepted forms.
func TestParseTTL(t *testing.T) {
	// Ensure exactly the ASCII decimal integers 1..21600 are accepted.
	tests := []struct {
		in   string
		want int
		ok   bool
		gap  string
	}{
		{"1", 1, true, ""},
		{"60", 60, true, ""},
		{"21600", 21600, true, ""},
		{"00060", 60, true, ""},
		{"000060", 60, true, ""},
		{"0", 0, false, ""},
		{"00000", 0, false, ""},
		{"21601", 0, false, ""},
		{"99999", 0, false, ""},
		{"100000", 0, false, ""},
		{"", 0, false, ""},
		{"-1", 0, false, ""},
		{"+60", 0, false, ""},
		{" 60", 0, false, ""},
		{"60 ", 0, false, ""},
		{"6 0", 0, false, ""},
		{"1.5", 0, false, ""},
		{"1e3", 0, false, ""},
		{"0x10", 0, false, ""},
		{"abc", 0, false, ""},
		{"６０", 0, false, ""},
		{"60\x00", 0, false, ""},
		{"99999999999999999999", 0, false, ""},
	}
	for _, tt := range tests {
		t.Run(strconv.Quote(tt.in), func(t *testing.T) {
			if tt.gap != "" {
				t.Skip(tt.gap)
			}
			got, ok := ParseTTL(tt.in)
			if ok != tt.ok || (ok && got != tt.want) {
				t.Errorf("ParseTTL(%q) = %d, %v; want %d, %v", tt.in, got, ok, tt.want, tt.ok)
			}
		})
	}
}

func afterAdvance(d time.Duration) func(*Authority, *KeyRing, *fakeClock, string) string {
	return func(_ *Authority, _ *KeyRing, c *fakeClock, tok string) string {
		c.Advance(d)
		return tok
	}
}

func afterReplace(s string) func(*Authority, *KeyRing, *fakeClock, string) string {
	return func(*Authority, *KeyRing, *fakeClock, string) string { return s }
}

// rewrite decodes tok, lets change alter the raw bytes and encodes it again.
func rewriteRaw(tok string, change func(raw []byte)) string {
	raw, err := base64.RawURLEncoding.DecodeString(tok)
	if err != nil {
		panic(err)
	}
	change(raw)
	return base64.RawURLEncoding.EncodeToString(raw)
}
