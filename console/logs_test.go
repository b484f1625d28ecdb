package console

import (
	"net/url"
	"strings"
	"testing"
)

// TestConsole_Logs checks what the console writes to its log.
func TestConsole_Logs(t *testing.T) {
	// Ensure a secret (even one typed into the key id field), a session id
	// and a form token never reach the log, while sign-ins and refusals do.
	h := newHarness(t, harnessOptions{})
	loginTok := formToken(t, h.get("/console/login"))
	h.post("/console/login", url.Values{
		"csrf_token": {loginTok}, "access_key_id": {testSecret}, "secret_access_key": {testSecret},
	})
	tok := h.login()
	h.post(optionsPath, url.Values{"csrf_token": {tok}, "http_tokens": {"required"}})
	h.post(optionsPath, url.Values{"csrf_token": {tok + "x"}, "http_tokens": {"optional"}})
	h.post(optionsPath, url.Values{"csrf_token": {tok}}, "Origin", "http://127.0.0.1:1")
	u, _ := url.Parse(h.url + "/console/")
	var sessionID string
	for _, ck := range h.client.Jar.Cookies(u) {
		if ck.Name == sessionCookie {
			sessionID = ck.Value
		}
	}
	if sessionID == "" {
		t.Fatal("no session cookie")
	}
	h.post("/console/logout", url.Values{"csrf_token": {tok}})

	logs := h.logs.String()
	for name, secret := range map[string]string{
		"secret": testSecret, "session id": sessionID, "form token": tok, "login form token": loginTok,
	} {
		if strings.Contains(logs, secret) {
			t.Errorf("the log holds the %s:\n%s", name, logs)
		}
	}
	for _, want := range []string{"console login failed", "console login", "console changed metadata options",
		"console request refused", "console logout"} {
		if !strings.Contains(logs, want) {
			t.Errorf("the log lacks %q:\n%s", want, logs)
		}
	}
}
