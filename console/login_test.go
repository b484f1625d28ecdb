package console

import (
	"crypto/tls"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"testing"
	"time"
)

// TestConsole_Login checks the sign-in form's answers.
func TestConsole_Login(t *testing.T) {
	// Ensure only the right key, from the console's own form, signs in.
	tests := []struct {
		name       string
		key, sec   string
		token      string // "" takes the form's own
		headers    []string
		wantStatus int
		wantBody   string
	}{
		{"right key", testKeyID, testSecret, "", nil, http.StatusSeeOther, ""},
		{"key id with spaces", " " + testKeyID + " ", testSecret, "", nil, http.StatusSeeOther, ""},
		{"referer instead of origin", testKeyID, testSecret, "", []string{"Origin", "", "Referer", "{url}/console/login"}, http.StatusSeeOther, ""},
		{"wrong secret", testKeyID, "not-the-secret", "", nil, http.StatusUnauthorized, "is not valid"},
		{"unknown key", "AKIAUNKNOWNKEY000000", testSecret, "", nil, http.StatusUnauthorized, "is not valid"},
		{"empty", "", "", "", nil, http.StatusUnauthorized, "is not valid"},
		{"wrong form token", testKeyID, testSecret, "forged", nil, http.StatusForbidden, "expired or was not sent"},
		{"other origin", testKeyID, testSecret, "", []string{"Origin", "http://127.0.0.1:1"}, http.StatusForbidden, "another site"},
		{"cross-site fetch", testKeyID, testSecret, "", []string{"Sec-Fetch-Site", "cross-site"}, http.StatusForbidden, "another site"},
		{"no origin or referer", testKeyID, testSecret, "", []string{"Origin", ""}, http.StatusForbidden, "neither"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			h := newHarness(t, harnessOptions{})
			tok := formToken(t, h.get("/console/login"))
			if tt.token != "" {
				tok = tt.token
			}
			for i := range tt.headers {
				tt.headers[i] = strings.ReplaceAll(tt.headers[i], "{url}", h.url)
			}
			a := h.post("/console/login", url.Values{
				"csrf_token": {tok}, "access_key_id": {tt.key}, "secret_access_key": {tt.sec},
			}, tt.headers...)
			if a.StatusCode != tt.wantStatus {
				t.Fatalf("status %d, want %d\n%s", a.StatusCode, tt.wantStatus, a.Body)
			}
			if !strings.Contains(a.Body, tt.wantBody) {
				t.Errorf("body lacks %q:\n%s", tt.wantBody, a.Body)
			}
			if strings.Contains(a.Body, tt.sec) && tt.sec != "" {
				t.Error("the page shows the secret that was typed")
			}

			// Only a sign-in opens the instances.
			list := h.get("/console/")
			signedIn := list.StatusCode == http.StatusOK
			if signedIn != (tt.wantStatus == http.StatusSeeOther) {
				t.Errorf("GET /console/ status %d after the attempt", list.StatusCode)
			}
		})
	}
}

// TestConsole_LoginFormOnce checks that a login form's token is tied to
// the browser that loaded it.
func TestConsole_LoginFormOnce(t *testing.T) {
	// Ensure a token taken from one browser's form fails in another.
	h := newHarness(t, harnessOptions{})
	tok := formToken(t, h.get("/console/login"))
	h.client = newClient(t) // a browser without the login cookie
	a := h.post("/console/login", url.Values{
		"csrf_token": {tok}, "access_key_id": {testKeyID}, "secret_access_key": {testSecret},
	})
	if a.StatusCode != http.StatusForbidden {
		t.Fatalf("status %d, want 403", a.StatusCode)
	}
}

// TestConsole_SessionCookie checks the session cookie's attributes.
func TestConsole_SessionCookie(t *testing.T) {
	// Ensure the cookie is HttpOnly, SameSite=Strict, scoped to /console,
	// holds 256 random bits and is Secure exactly when reached over TLS.
	for _, scheme := range []string{"http", "https"} {
		t.Run(scheme, func(t *testing.T) {
			// The handler is called directly so that a request can claim TLS.
			handler := New(Config{Store: nil, Control: fakeKeys{}})
			onTLS := func(r *http.Request) *http.Request {
				if scheme == "https" {
					r.TLS = &tls.ConnectionState{}
				}
				return r
			}
			base := scheme + "://console.test"
			pre := httptest.NewRecorder()
			handler.ServeHTTP(pre, onTLS(httptest.NewRequest(http.MethodGet, base+"/console/login", nil)))
			form := url.Values{
				"csrf_token":        {tokenRe.FindStringSubmatch(pre.Body.String())[1]},
				"access_key_id":     {testKeyID},
				"secret_access_key": {testSecret},
			}
			req := onTLS(httptest.NewRequest(http.MethodPost, base+"/console/login", strings.NewReader(form.Encode())))
			req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
			req.Header.Set("Origin", base)
			for _, ck := range pre.Result().Cookies() {
				req.AddCookie(ck)
			}

			rec := httptest.NewRecorder()
			handler.ServeHTTP(rec, req)
			if rec.Code != http.StatusSeeOther {
				t.Fatalf("status %d, want 303\n%s", rec.Code, rec.Body)
			}
			var ck *http.Cookie
			for _, c := range rec.Result().Cookies() {
				if c.Name == sessionCookie {
					ck = c
				}
			}
			if ck == nil {
				t.Fatal("no session cookie")
			}
			secure := scheme == "https"
			if !ck.HttpOnly || ck.SameSite != http.SameSiteStrictMode || ck.Path != "/console" || ck.Secure != secure {
				t.Errorf("cookie %+v: want HttpOnly, SameSite=Strict, Path=/console, Secure=%v", ck, secure)
			}
			if len(ck.Value) != 43 { // 32 bytes, unpadded base64
				t.Errorf("session id of %d characters, want 43", len(ck.Value))
			}
			if want := int((12 * time.Hour).Seconds()); ck.MaxAge != want {
				t.Errorf("MaxAge %d, want %d", ck.MaxAge, want)
			}
		})
	}
}

// fakeKeys accepts only the test key and changes nothing.
type fakeKeys struct{ Controller }

func (fakeKeys) CheckKey(id, secret string) bool { return id == testKeyID && secret == testSecret }

// TestConsole_SessionExpiry checks that a session ends after its time.
func TestConsole_SessionExpiry(t *testing.T) {
	// Ensure a session is good just before 12 hours and gone after.
	h := newHarness(t, harnessOptions{})
	h.login()
	h.advance(12*time.Hour - time.Minute)
	if a := h.get("/console/"); a.StatusCode != http.StatusOK {
		t.Fatalf("before expiry: status %d, want 200", a.StatusCode)
	}
	h.advance(2 * time.Minute)
	a := h.get("/console/")
	if a.StatusCode != http.StatusSeeOther || a.Header.Get("Location") != "/console/login" {
		t.Fatalf("after expiry: status %d to %q, want 303 to the login", a.StatusCode, a.Header.Get("Location"))
	}
}

// TestConsole_Logout checks signing out.
func TestConsole_Logout(t *testing.T) {
	// Ensure sign-out needs the form token and ends the session for good.
	h := newHarness(t, harnessOptions{})
	tok := h.login()
	if a := h.post("/console/logout", nil); a.StatusCode != http.StatusForbidden {
		t.Fatalf("logout without token: status %d, want 403", a.StatusCode)
	}
	u, _ := url.Parse(h.url + "/console/")
	old := h.client.Jar.Cookies(u)

	if a := h.post("/console/logout", url.Values{"csrf_token": {tok}}); a.StatusCode != http.StatusSeeOther {
		t.Fatalf("logout: status %d, want 303", a.StatusCode)
	}
	if a := h.get("/console/"); a.StatusCode != http.StatusSeeOther {
		t.Fatalf("after logout: status %d, want 303", a.StatusCode)
	}

	// The cookie the browser had is worthless now.
	h.client = newClient(t)
	h.client.Jar.SetCookies(u, old)
	if a := h.get("/console/"); a.StatusCode != http.StatusSeeOther {
		t.Errorf("old cookie after logout: status %d, want 303", a.StatusCode)
	}
}
