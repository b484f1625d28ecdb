package main

import (
	"bytes"
	"context"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/imds-dev/imds/control"
	"github.com/imds-dev/imds/fault"
	"github.com/imds-dev/imds/store/mem"
)

// faultServer is a control listener serving the fault endpoints, with its
// key in a credentials file under $XDG_STATE_HOME, where `imds fault`
// looks by default.
func faultServer(t *testing.T) (url string, inj *fault.Injector) {
	t.Helper()
	id, secret := control.NewKey()
	inj = fault.New(fault.Options{})
	ctl := control.New(control.Config{Store: mem.New(), Keys: map[string]string{id: secret}})
	h := fault.NewHandler(inj, ctl)
	mux := http.NewServeMux()
	mux.Handle(fault.Path, h)
	mux.Handle(fault.Path+"/", h)
	ts := httptest.NewServer(mux)
	t.Cleanup(ts.Close)

	state := t.TempDir()
	t.Setenv("XDG_STATE_HOME", state)
	credsFile := filepath.Join(state, "imds", control.CredentialsFileName)
	os.MkdirAll(filepath.Dir(credsFile), 0o700)
	body := "[default]\naws_access_key_id = " + id + "\naws_secret_access_key = " + secret + "\n"
	if err := os.WriteFile(credsFile, []byte(body), 0o600); err != nil {
		t.Fatal(err)
	}
	return ts.URL, inj
}

// TestRunFault runs the subcommand's actions in turn against one server.
func TestRunFault(t *testing.T) {
	// Ensure add, list and clear change and show the server's rules, and
	// that bad input fails with the server's message or before any call.
	url, inj := faultServer(t)
	for _, tt := range []struct {
		name    string
		args    []string
		want    []string // in stdout, or in the error
		wantErr bool
		rules   int // rules on the server afterwards
	}{
		{"add throttle", []string{"add", "--endpoint", url, "--path", "/latest/meta-data/iam/", "--kind", "throttle", "--count", "3"},
			[]string{"f1", "throttle", "/latest/meta-data/iam/", "429", "3"}, false, 1},
		{"add latency", []string{"add", "--endpoint", url, "--kind", "latency", "--latency", "2s", "--method", "put",
			"--path", "/latest/api/token", "--instance", "i-0123456789abcdef0", "--id", "slow", "--for", "1m"},
			[]string{"slow", "latency", "i-0123456789abcdef0", "PUT", "+2s", "until "}, false, 2},
		{"list", []string{"list", "--endpoint", url}, []string{"f1", "slow", "+2s"}, false, 2},
		{"list json", []string{"list", "--endpoint", url, "--json"}, []string{`"remaining": 3`, `"id": "slow"`}, false, 2},
		{"bad kind", []string{"add", "--endpoint", url, "--kind", "boom"}, []string{"kind: must be latency", "InvalidFaultRule"}, true, 2},
		{"no kind", []string{"add", "--endpoint", url}, []string{"--kind is required"}, true, 2},
		{"taken id", []string{"add", "--endpoint", url, "--kind", "drop", "--id", "slow"}, []string{"FaultRuleExists"}, true, 2},
		{"clear one", []string{"clear", "--endpoint", url, "slow"}, []string{"removed 1 fault rule\n"}, false, 1},
		{"clear unknown", []string{"clear", "--endpoint", url, "slow"}, []string{"no fault rule slow"}, true, 1},
		{"clear all", []string{"clear", "--endpoint", url}, []string{"removed 1 fault rule\n"}, false, 0},
		{"list empty", []string{"list", "--endpoint", url}, []string{"no fault rules"}, false, 0},
		{"remote refused", []string{"list", "--endpoint", "http://192.0.2.1:1339"}, []string{"not a loopback address"}, true, 0},
		{"unknown action", []string{"explode"}, []string{"unknown action"}, true, 0},
	} {
		t.Run(tt.name, func(t *testing.T) {
			var stdout, stderr bytes.Buffer
			err := runFault(context.Background(), tt.args, &stdout, &stderr)
			got := stdout.String()
			if err != nil {
				got = err.Error()
			}
			if (err != nil) != tt.wantErr {
				t.Fatalf("runFault(%q) error = %v, stdout %q", tt.args, err, stdout.String())
			}
			for _, w := range tt.want {
				if !strings.Contains(got, w) {
					t.Errorf("runFault(%q) = %q, want it to contain %q", tt.args, got, w)
				}
			}
			if n := len(inj.List()); n != tt.rules {
				t.Errorf("after runFault(%q): %d rules, want %d", tt.args, n, tt.rules)
			}
		})
	}
}
