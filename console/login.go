package console

import (
	"net/http"
	"strings"
)

// loginPage is what the login template shows.
type loginPage struct {
	Token string // the login form's token
	KeyID string // what was typed, shown again after a failure
	Error string
}

// serveLoginForm shows the sign-in form, or the instances to someone
// already signed in.
func (c *console) serveLoginForm(w http.ResponseWriter, r *http.Request) {
	if _, _, ok := c.current(r); ok {
		http.Redirect(w, r, "/console/", http.StatusSeeOther)
		return
	}
	c.renderLogin(w, r, http.StatusOK, loginPage{})
}

func (c *console) renderLogin(w http.ResponseWriter, r *http.Request, status int, p loginPage) {
	p.Token = c.login.issue(w, r)
	c.render(w, r, status, "login", page{Title: "Sign in", Data: p})
}

// serveLogin checks the form's origin and token, then the key. A good key
// gets a new session (never one the browser brought along) and is sent to
// the instances.
func (c *console) serveLogin(w http.ResponseWriter, r *http.Request) {
	if err := checkOrigin(r); err != nil {
		c.log.Warn("console login refused", "remote", r.RemoteAddr, "reason", err.Error())
		c.renderError(w, r, http.StatusForbidden, "Request refused", err.Error())
		return
	}
	if err := readForm(w, r); err != nil {
		c.renderError(w, r, http.StatusBadRequest, "Bad request", "The form could not be read.")
		return
	}
	if !c.login.check(r, r.PostForm.Get(tokenField)) {
		c.log.Warn("console login refused", "remote", r.RemoteAddr, "reason", errBadToken.Error())
		c.renderLogin(w, r, http.StatusForbidden, loginPage{Error: "This sign-in form expired or was not sent from this console. Try again."})
		return
	}

	keyID := strings.TrimSpace(r.PostForm.Get("access_key_id"))
	secret := r.PostForm.Get("secret_access_key")
	if !c.ctl.CheckKey(keyID, secret) {
		// The typed key id is not logged: a secret pasted into the wrong
		// field would land in the log.
		c.log.Info("console login failed", "remote", r.RemoteAddr)
		c.renderLogin(w, r, http.StatusUnauthorized, loginPage{KeyID: keyID, Error: "The access key ID or secret access key is not valid."})
		return
	}

	if old, err := r.Cookie(sessionCookie); err == nil {
		c.sessions.delete(old.Value)
	}
	c.setSessionCookie(w, r, c.sessions.create(keyID))
	c.login.clear(w, r)
	c.log.Info("console login", "key", keyID, "remote", r.RemoteAddr)
	http.Redirect(w, r, "/console/", http.StatusSeeOther)
}

// serveLogout ends the session; it is a guarded form, so no other site can
// sign a person out.
func (c *console) serveLogout(w http.ResponseWriter, r *http.Request) {
	id, s, ok := c.guard(w, r)
	if !ok {
		return
	}
	c.sessions.delete(id)
	clearSessionCookie(w, r)
	c.log.Info("console logout", "key", s.keyID, "remote", r.RemoteAddr)
	http.Redirect(w, r, "/console/login", http.StatusSeeOther)
}
