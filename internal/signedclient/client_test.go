package signedclient_test

import (
	"context"
	"encoding/json"
	"errors"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"testing"

	"github.com/imds-dev/imds/control"
	"github.com/imds-dev/imds/internal/signedclient"
	"github.com/imds-dev/imds/store/mem"
)

// TestClient_Do checks a signed round trip through control.Authenticate.
func TestClient_Do(t *testing.T) {
	// Ensure a request signed with the file's keys is accepted and one signed
	// with other keys is refused.
	keys := map[string]string{"AKIAIMDSTEST00000001": "c2VjcmV0c2VjcmV0c2VjcmV0c2VjcmV0c2VjcmV0"}
	ctl := control.New(control.Config{Store: mem.New(), Keys: keys})
	ts := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		id, body, err := ctl.Authenticate(r)
		if err != nil {
			var ae *control.AuthError
			errors.As(err, &ae)
			http.Error(w, ae.Code, ae.Status)
			return
		}
		json.NewEncoder(w).Encode(map[string]string{"key": id, "body": string(body)})
	}))
	defer ts.Close()

	dir := t.TempDir()
	good := filepath.Join(dir, "good")
	os.WriteFile(good, []byte("[default]\naws_access_key_id = AKIAIMDSTEST00000001\naws_secret_access_key = c2VjcmV0c2VjcmV0c2VjcmV0c2VjcmV0c2VjcmV0\n"), 0o600)
	bad := filepath.Join(dir, "bad")
	os.WriteFile(bad, []byte("[default]\naws_access_key_id = AKIAIMDSTEST00000001\naws_secret_access_key = wrong\n"), 0o600)

	ctx := context.Background()
	c, err := signedclient.New(ctx, signedclient.Options{Endpoint: ts.URL, CredentialsFile: good})
	if err != nil {
		t.Fatal(err)
	}
	var got map[string]string
	if err := c.Do(ctx, "POST", "/imds/test", map[string]int{"n": 1}, &got); err != nil {
		t.Fatalf("Do: %v", err)
	}
	if got["key"] != "AKIAIMDSTEST00000001" || got["body"] != `{"n":1}` {
		t.Errorf("server saw %v", got)
	}

	c, err = signedclient.New(ctx, signedclient.Options{Endpoint: ts.URL, CredentialsFile: bad})
	if err != nil {
		t.Fatal(err)
	}
	var se *signedclient.Error
	if err := c.Do(ctx, "GET", "/imds/test", nil, nil); !errors.As(err, &se) || se.Status != http.StatusForbidden {
		t.Errorf("wrong secret: err = %v, want a 403", err)
	}
}

// TestNew_RefusesRemote checks the loopback guard.
func TestNew_RefusesRemote(t *testing.T) {
	// Ensure a non-loopback endpoint is refused before anything is sent.
	if _, err := signedclient.New(context.Background(), signedclient.Options{Endpoint: "http://192.0.2.1:1339", CredentialsFile: "x"}); err == nil {
		t.Fatal("remote endpoint accepted")
	}
}
