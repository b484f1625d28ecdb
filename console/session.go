package console

import (
	"crypto/rand"
	"crypto/sha256"
	"encoding/base64"
	"net/http"
	"sync"
	"time"
)

// sessionCookie names the session cookie. Its value is the only copy of
// the session id; the server keeps a digest of it.
const sessionCookie = "imds_console"

// maxSessions bounds the sessions kept; beyond it the one closest to
// expiry is dropped. Only a correct key makes a session, so this is a
// guard, not a limit anyone should meet.
const maxSessions = 10000

// session is one signed-in browser.
type session struct {
	keyID   string // the access key id signed in with; not a secret
	csrf    string // the token every form of this session carries
	expires time.Time
	flash   string // a message for the next page, shown once
}

// sessions are the signed-in browsers, kept in memory: a restart signs
// everyone out. It is safe for concurrent use.
type sessions struct {
	ttl time.Duration
	now func() time.Time

	mu   sync.Mutex
	byID map[[32]byte]*session // keyed by SHA-256 of the session id; guarded by mu
}

func newSessions(ttl time.Duration, now func() time.Time) *sessions {
	return &sessions{ttl: ttl, now: now, byID: map[[32]byte]*session{}}
}

// randomToken returns 256 random bits, URL-safe base64 encoded.
func randomToken() string {
	b := make([]byte, 32)
	rand.Read(b) // never fails; see crypto/rand
	return base64.RawURLEncoding.EncodeToString(b)
}

// create starts a session for keyID and returns its id.
func (s *sessions) create(keyID string) string {
	id := randomToken()
	now := s.now()
	s.mu.Lock()
	defer s.mu.Unlock()
	s.sweepLocked(now)
	s.byID[sha256.Sum256([]byte(id))] = &session{keyID: keyID, csrf: randomToken(), expires: now.Add(s.ttl)}
	return id
}

// sweepLocked drops expired sessions and, at the cap, the one closest to
// expiry. s.mu must be held.
func (s *sessions) sweepLocked(now time.Time) {
	var soonest [32]byte
	var first *session
	for k, v := range s.byID {
		if !now.Before(v.expires) {
			delete(s.byID, k)
			continue
		}
		if first == nil || v.expires.Before(first.expires) {
			soonest, first = k, v
		}
	}
	if len(s.byID) >= maxSessions {
		delete(s.byID, soonest)
	}
}

// get returns a copy of the live session with this id.
func (s *sessions) get(id string) (session, bool) {
	if id == "" {
		return session{}, false
	}
	k := sha256.Sum256([]byte(id))
	s.mu.Lock()
	defer s.mu.Unlock()
	v, ok := s.byID[k]
	if !ok {
		return session{}, false
	}
	if !s.now().Before(v.expires) {
		delete(s.byID, k)
		return session{}, false
	}
	return *v, true
}

// delete ends a session.
func (s *sessions) delete(id string) {
	s.mu.Lock()
	delete(s.byID, sha256.Sum256([]byte(id)))
	s.mu.Unlock()
}

// setFlash keeps msg for the session's next page.
func (s *sessions) setFlash(id, msg string) {
	s.mu.Lock()
	if v, ok := s.byID[sha256.Sum256([]byte(id))]; ok {
		v.flash = msg
	}
	s.mu.Unlock()
}

// takeFlash returns the session's message and forgets it.
func (s *sessions) takeFlash(id string) string {
	s.mu.Lock()
	defer s.mu.Unlock()
	v, ok := s.byID[sha256.Sum256([]byte(id))]
	if !ok {
		return ""
	}
	msg := v.flash
	v.flash = ""
	return msg
}

// current returns the request's session id and session, if it has a live
// one.
func (c *console) current(r *http.Request) (string, session, bool) {
	ck, err := r.Cookie(sessionCookie)
	if err != nil {
		return "", session{}, false
	}
	s, ok := c.sessions.get(ck.Value)
	return ck.Value, s, ok
}

// setSessionCookie hands the browser its session id: unreadable to
// scripts, sent only to the console and never with a request another site
// starts, and only over TLS when the console is reached over TLS.
func (c *console) setSessionCookie(w http.ResponseWriter, r *http.Request, id string) {
	http.SetCookie(w, &http.Cookie{
		Name:     sessionCookie,
		Value:    id,
		Path:     "/console",
		MaxAge:   int(c.sessions.ttl / time.Second),
		HttpOnly: true,
		Secure:   r.TLS != nil,
		SameSite: http.SameSiteStrictMode,
	})
}

// clearSessionCookie tells the browser to forget its session id.
func clearSessionCookie(w http.ResponseWriter, r *http.Request) {
	http.SetCookie(w, &http.Cookie{
		Name:     sessionCookie,
		Path:     "/console",
		MaxAge:   -1,
		HttpOnly: true,
		Secure:   r.TLS != nil,
		SameSite: http.SameSiteStrictMode,
	})
}
