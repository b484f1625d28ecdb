package console

import (
	"crypto/hmac"
	"crypto/rand"
	"crypto/sha256"
	"crypto/subtle"
	"encoding/base64"
	"errors"
	"net/http"
	"net/url"
	"strings"
	"time"
)

// tokenField names the hidden form field that carries the form token.
const tokenField = "csrf_token"

// loginCookie names the cookie that pairs a login form with its browser.
const loginCookie = "imds_console_login"

// loginFormTTL is how long a login form stays usable.
const loginFormTTL = 15 * time.Minute

// maxForm caps a form body; the console's forms are a few hundred bytes.
const maxForm = 64 << 10

// Why a POST was refused; shown on the 403 page and logged.
var (
	errCrossOrigin = errors.New("the form was sent from another site")
	errNoOrigin    = errors.New("the request says neither where it came from (Origin) nor which page sent it (Referer)")
	errBadToken    = errors.New("the form token is missing or wrong; reload the page and try again")
	errNoSession   = errors.New("you are not signed in, or your session expired")
)

// checkOrigin refuses a POST that a page of another origin made the
// browser send. Browsers send Origin with every POST (and Sec-Fetch-Site,
// where they support it); Referer is the fallback for those that omit
// Origin. A request with neither is refused, since no browser sends one.
func checkOrigin(r *http.Request) error {
	own := ownOrigin(r)
	if site := r.Header.Get("Sec-Fetch-Site"); site != "" && site != "same-origin" {
		return errCrossOrigin
	}
	if o := r.Header.Get("Origin"); o != "" {
		if !strings.EqualFold(o, own) {
			return errCrossOrigin
		}
		return nil
	}
	if ref := r.Header.Get("Referer"); ref != "" {
		u, err := url.Parse(ref)
		if err != nil || !strings.EqualFold(u.Scheme+"://"+u.Host, own) {
			return errCrossOrigin
		}
		return nil
	}
	return errNoOrigin
}

// ownOrigin is the origin the request was sent to.
func ownOrigin(r *http.Request) string {
	if r.TLS != nil {
		return "https://" + r.Host
	}
	return "http://" + r.Host
}

// readForm parses a POST body of bounded size.
func readForm(w http.ResponseWriter, r *http.Request) error {
	r.Body = http.MaxBytesReader(w, r.Body, maxForm)
	return r.ParseForm()
}

// sameToken compares a form token with the expected one in constant time.
func sameToken(got, want string) bool {
	return want != "" && subtle.ConstantTimeCompare([]byte(got), []byte(want)) == 1
}

// loginTokens protect the login form, which has no session yet: the form's
// token is an HMAC, under a key made at start, of a random value the
// browser holds in a cookie scoped to the login page. A page elsewhere can
// neither read that cookie nor compute the token, and the server keeps
// nothing for a visitor who never signs in.
type loginTokens struct {
	key []byte
}

func newLoginTokens() *loginTokens {
	key := make([]byte, 32)
	rand.Read(key) // never fails; see crypto/rand
	return &loginTokens{key: key}
}

// issue sets a fresh login cookie and returns the form token that goes
// with it.
func (l *loginTokens) issue(w http.ResponseWriter, r *http.Request) string {
	nonce := randomToken()
	http.SetCookie(w, &http.Cookie{
		Name:     loginCookie,
		Value:    nonce,
		Path:     "/console/login",
		MaxAge:   int(loginFormTTL / time.Second),
		HttpOnly: true,
		Secure:   r.TLS != nil,
		SameSite: http.SameSiteStrictMode,
	})
	return l.token(nonce)
}

// check reports whether the form token matches the request's login cookie.
func (l *loginTokens) check(r *http.Request, got string) bool {
	ck, err := r.Cookie(loginCookie)
	if err != nil || ck.Value == "" {
		return false
	}
	return sameToken(got, l.token(ck.Value))
}

func (l *loginTokens) token(nonce string) string {
	m := hmac.New(sha256.New, l.key)
	m.Write([]byte("login\x00" + nonce))
	return base64.RawURLEncoding.EncodeToString(m.Sum(nil))
}

// clear removes the login cookie once it has served.
func (l *loginTokens) clear(w http.ResponseWriter, r *http.Request) {
	http.SetCookie(w, &http.Cookie{
		Name:     loginCookie,
		Path:     "/console/login",
		MaxAge:   -1,
		HttpOnly: true,
		Secure:   r.TLS != nil,
		SameSite: http.SameSiteStrictMode,
	})
}

// guard runs the checks every signed-in POST passes, in order: origin,
// session, form token. It parses the form. On refusal it answers 403 and
// returns ok false.
func (c *console) guard(w http.ResponseWriter, r *http.Request) (id string, s session, ok bool) {
	refuse := func(err error) (string, session, bool) {
		c.log.Warn("console request refused", "path", r.URL.Path, "remote", r.RemoteAddr, "reason", err.Error())
		c.renderError(w, r, http.StatusForbidden, "Request refused", err.Error())
		return "", session{}, false
	}
	if err := checkOrigin(r); err != nil {
		return refuse(err)
	}
	id, s, live := c.current(r)
	if !live {
		return refuse(errNoSession)
	}
	if err := readForm(w, r); err != nil {
		c.renderError(w, r, http.StatusBadRequest, "Bad request", "The form could not be read.")
		return "", session{}, false
	}
	if !sameToken(r.PostForm.Get(tokenField), s.csrf) {
		return refuse(errBadToken)
	}
	return id, s, true
}
