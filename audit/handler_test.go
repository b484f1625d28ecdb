package audit

import (
	"context"
	"encoding/json"
	"errors"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"testing"

	"github.com/imds-dev/imds"
	"github.com/imds-dev/imds/control"
	"github.com/imds-dev/imds/dataplane"
	"github.com/imds-dev/imds/internal/signedclient"
	"github.com/imds-dev/imds/store/mem"
)

// The documentation's example key, never a real one.
const (
	testKeyID  = "AKIAIOSFODNN7EXAMPLE"
	testSecret = "wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY"
)

// TestHandler serves the report behind control's signature check.
func TestHandler(t *testing.T) {
	// Ensure a signed GET gets the report, and an unsigned request, a wrong
	// secret or another method get a JSON refusal with EC2's code.
	rec := NewRecorder(Options{})
	r := httptest.NewRequest("GET", "/latest/meta-data/", nil)
	r.RemoteAddr = "192.0.2.10:40000"
	rec.Observe(r, dataplane.Outcome{Instance: &imds.Instance{ID: "i-0123456789abcdef0"}, Version: 1}, 0)

	ctl := control.New(control.Config{Store: mem.New(), Keys: map[string]string{testKeyID: testSecret}})
	mux := http.NewServeMux()
	mux.Handle("/imds/audit", Handler(rec, ctl.Authenticate))
	ts := httptest.NewServer(mux)
	defer ts.Close()

	dir := t.TempDir()
	creds := func(secret string) string {
		p := filepath.Join(dir, secret[:4])
		body := "[default]\naws_access_key_id = " + testKeyID + "\naws_secret_access_key = " + secret + "\n"
		if err := os.WriteFile(p, []byte(body), 0o600); err != nil {
			t.Fatal(err)
		}
		return p
	}
	tests := []struct {
		name   string
		method string
		file   string // "" sends the request unsigned
		status int
		code   string
	}{
		{"signed", "GET", creds(testSecret), http.StatusOK, ""},
		{"unsigned", "GET", "", http.StatusForbidden, "MissingAuthenticationToken"},
		{"wrong secret", "GET", creds("nottheSecret"), http.StatusForbidden, "SignatureDoesNotMatch"},
		{"post", "POST", creds(testSecret), http.StatusMethodNotAllowed, "UnsupportedOperation"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var rep Report
			err := getAudit(t, ts.URL, tt.method, tt.file, &rep)
			if tt.status == http.StatusOK {
				if err != nil {
					t.Fatalf("%s /imds/audit: %v", tt.method, err)
				}
				if len(rep.Instances) != 1 || rep.Instances[0].Served != 1 {
					t.Errorf("report = %+v, want one served request", rep)
				}
				return
			}
			var se *signedclient.Error
			if !errors.As(err, &se) || se.Status != tt.status {
				t.Fatalf("%s /imds/audit: err = %v, want status %d", tt.method, err, tt.status)
			}
			var body errorBody
			if err := json.Unmarshal([]byte(se.Body), &body); err != nil || body.Error.Code != tt.code {
				t.Errorf("body = %s, want JSON with code %s", se.Body, tt.code)
			}
		})
	}
}

// getAudit calls the audit endpoint, signed with the keys in file or, when
// file is empty, unsigned; refusals come back as *signedclient.Error.
func getAudit(t *testing.T, base, method, file string, out any) error {
	t.Helper()
	if file != "" {
		c, err := signedclient.New(context.Background(), signedclient.Options{Endpoint: base, CredentialsFile: file})
		if err != nil {
			t.Fatal(err)
		}
		return c.Do(context.Background(), method, "/imds/audit", nil, out)
	}
	resp, err := http.Get(base + "/imds/audit")
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	var raw json.RawMessage
	json.NewDecoder(resp.Body).Decode(&raw)
	if resp.StatusCode != http.StatusOK {
		return &signedclient.Error{Status: resp.StatusCode, Body: string(raw)}
	}
	return json.Unmarshal(raw, out)
}
