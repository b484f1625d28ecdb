package main

import (
	"bytes"
	"context"
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/imds-dev/imds"
	"github.com/imds-dev/imds/audit"
	"github.com/imds-dev/imds/control"
	"github.com/imds-dev/imds/dataplane"
	"github.com/imds-dev/imds/store/mem"
)

// auditServer is a control listener serving /imds/audit with one recorded
// token-less request, and a credentials file holding its key under
// $XDG_STATE_HOME, where `imds audit` looks by default.
func auditServer(t *testing.T) (url, credsFile string) {
	t.Helper()
	id, secret := control.NewKey()
	rec := audit.NewRecorder(audit.Options{})
	r := httptest.NewRequest("GET", "/latest/meta-data/iam/security-credentials/", nil)
	r.RemoteAddr = "192.0.2.10:40000"
	rec.Observe(r, dataplane.Outcome{Instance: &imds.Instance{ID: "i-0123456789abcdef0"}, Version: 1}, 0)

	ctl := control.New(control.Config{Store: mem.New(), Keys: map[string]string{id: secret}})
	mux := http.NewServeMux()
	mux.Handle("/imds/audit", audit.Handler(rec, ctl.Authenticate))
	ts := httptest.NewServer(mux)
	t.Cleanup(ts.Close)

	state := t.TempDir()
	t.Setenv("XDG_STATE_HOME", state)
	credsFile = filepath.Join(state, "imds", control.CredentialsFileName)
	os.MkdirAll(filepath.Dir(credsFile), 0o700)
	body := "[default]\naws_access_key_id = " + id + "\naws_secret_access_key = " + secret + "\n"
	if err := os.WriteFile(credsFile, []byte(body), 0o600); err != nil {
		t.Fatal(err)
	}
	return ts.URL, credsFile
}

// TestRunAudit runs the subcommand against a control listener.
func TestRunAudit(t *testing.T) {
	// Ensure the report prints as a table or JSON with the default
	// credentials file, and bad keys or a remote endpoint fail.
	url, _ := auditServer(t)
	wrong := filepath.Join(t.TempDir(), "wrong")
	os.WriteFile(wrong, []byte("[default]\naws_access_key_id = AKIAIOSFODNN7EXAMPLE\naws_secret_access_key = x\n"), 0o600)
	tests := []struct {
		name    string
		args    []string
		want    string // in stdout
		wantErr string
	}{
		{"table", []string{"--endpoint", url}, "i-0123456789abcdef0  1          0", ""},
		{"json", []string{"--endpoint", url, "--json"}, `"instance_id": "i-0123456789abcdef0"`, ""},
		{"wrong key", []string{"--endpoint", url, "--credentials", wrong}, "", "AuthFailure"},
		{"remote", []string{"--endpoint", "http://192.0.2.1:1339"}, "", "not a loopback address"},
		{"argument", []string{"--endpoint", url, "extra"}, "", "unexpected argument"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var out, errOut bytes.Buffer
			err := runAudit(context.Background(), tt.args, &out, &errOut)
			if tt.wantErr != "" {
				if err == nil || !strings.Contains(err.Error(), tt.wantErr) {
					t.Fatalf("runAudit(%q) = %v, want an error with %q", tt.args, err, tt.wantErr)
				}
				return
			}
			if err != nil {
				t.Fatalf("runAudit(%q): %v\n%s", tt.args, err, errOut.String())
			}
			if !strings.Contains(out.String(), tt.want) {
				t.Errorf("runAudit(%q) printed\n%s\nwant %q in it", tt.args, out.String(), tt.want)
			}
		})
	}

	var rep audit.Report
	var out bytes.Buffer
	if err := runAudit(context.Background(), []string{"--endpoint", url, "--json"}, &out, &out); err != nil {
		t.Fatal(err)
	}
	if err := json.Unmarshal(out.Bytes(), &rep); err != nil || len(rep.Instances) != 1 || rep.Instances[0].Served != 1 {
		t.Errorf("--json printed %s (%v), want a report with one served request", out.String(), err)
	}
}

// TestPrintAudit renders reports as tables.
func TestPrintAudit(t *testing.T) {
	// Ensure every caller gets a row, top paths are cut to three, and an
	// empty report says so.
	seen := time.Date(2026, 12, 4, 16, 0, 0, 0, time.UTC)
	tests := []struct {
		name string
		rep  audit.Report
		want []string
	}{
		{"empty", audit.Report{Lookups: audit.LookupStats{Supported: true}}, []string{"no IMDSv1 requests recorded"}},
		{"callers", audit.Report{
			Lookups: audit.LookupStats{Supported: true},
			Instances: []audit.InstanceUsage{{
				InstanceID: "i-1", Served: 7, Refused: 2, FirstSeen: seen, LastSeen: seen.Add(time.Hour),
				Paths: []audit.PathCount{{Path: "/a", Requests: 4}, {Path: "/b", Requests: 2}, {Path: "/c", Requests: 2}, {Path: "/d", Requests: 1}},
				Callers: []audit.Caller{
					{Process: audit.Process{PID: 4242, Command: "python3 app.py"}, Requests: 5},
					{Process: audit.Process{PID: 77, Command: "curl http://127.0.0.1:1338/"}, Requests: 2},
				},
				Unattributed: 2,
			}},
		}, []string{
			"i-1       7          2           2026-12-04T16:00:00Z  2026-12-04T17:00:00Z  /a (4), /b (2), /c (2), +1 more  4242  python3 app.py",
			"  77    curl http://127.0.0.1:1338/",
			"  ?     (2 local requests not attributed)",
		}},
		{"unsupported", audit.Report{Instances: []audit.InstanceUsage{{InstanceID: "i-2", Served: 1}}},
			[]string{"i-2", "not supported"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var out bytes.Buffer
			if err := printAudit(&out, tt.rep); err != nil {
				t.Fatal(err)
			}
			for _, w := range tt.want {
				if !strings.Contains(out.String(), w) {
					t.Errorf("printAudit printed\n%s\nwant %q in it", out.String(), w)
				}
			}
		})
	}
}
