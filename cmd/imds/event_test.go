package main

import (
	"bytes"
	"context"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/imds-dev/imds/config"
	"github.com/imds-dev/imds/control"
	"github.com/imds-dev/imds/events"
	"github.com/imds-dev/imds/store/mem"
)

// eventServer is a control listener serving the event endpoints over a
// store holding the given instances (spot ones first), with its key in a
// credentials file under $XDG_STATE_HOME, where `imds event` looks by
// default.
func eventServer(t *testing.T, ids ...string) (url string, st *mem.Store) {
	t.Helper()
	st = mem.New()
	for _, id := range ids {
		in := config.DefaultInstance(time.Now())
		in.ID, in.LifeCycle = id, "spot"
		if err := st.Put(context.Background(), in); err != nil {
			t.Fatal(err)
		}
	}
	keyID, secret := control.NewKey()
	ctl := control.New(control.Config{Store: st, Keys: map[string]string{keyID: secret}})
	h := events.NewHandler(events.Options{Store: st, Auth: ctl})
	mux := http.NewServeMux()
	mux.Handle(events.Path, h)
	mux.Handle(events.Path+"/", h)
	ts := httptest.NewServer(mux)
	t.Cleanup(ts.Close)

	state := t.TempDir()
	t.Setenv("XDG_STATE_HOME", state)
	credsFile := filepath.Join(state, "imds", control.CredentialsFileName)
	os.MkdirAll(filepath.Dir(credsFile), 0o700)
	body := "[default]\naws_access_key_id = " + keyID + "\naws_secret_access_key = " + secret + "\n"
	if err := os.WriteFile(credsFile, []byte(body), 0o600); err != nil {
		t.Fatal(err)
	}
	return ts.URL, st
}

// TestRunEvent runs the subcommand's actions in turn against a server with
// one instance.
func TestRunEvent(t *testing.T) {
	// Ensure each action reaches the server for the only instance without
	// --instance-id, prints what the server holds, and that bad input fails
	// with the server's message naming the flag, or before any call.
	url, st := eventServer(t, "i-0123456789abcdef0")
	var maintenanceID string
	idRe := regexp.MustCompile(`instance-event-[0-9a-f]{17}`)
	for _, tt := range []struct {
		name    string
		args    []string
		want    []string // in stdout, or in the error
		wantErr bool
		events  int // events on the instance afterwards
	}{
		{"spot", []string{"spot", "--endpoint", url, "--action", "stop", "--in", "2m"},
			[]string{"i-0123456789abcdef0", "spot", "pending", "stop at "}, false, 1},
		{"rebalance", []string{"rebalance", "--endpoint", url, "--instance-id", "i-0123456789abcdef0"},
			[]string{"rebalance", "yes"}, false, 2},
		{"maintenance", []string{"maintenance", "--endpoint", url, "--code", "system-reboot", "--not-before", "+24h"},
			[]string{"instance-event-", "system-reboot active"}, false, 3},
		{"autoscaling json", []string{"autoscaling", "--endpoint", url, "--state", "Terminated", "--json"},
			[]string{`"state": "Terminated"`, `"id": "autoscaling"`}, false, 4},
		{"list", []string{"list", "--endpoint", url}, []string{"spot", "rebalance", "autoscaling", "system-reboot"}, false, 4},
		{"list json", []string{"list", "--endpoint", url, "--instance-id", "i-0123456789abcdef0", "--json"},
			[]string{`"lifeCycle": "spot"`, `"kind": "maintenance"`}, false, 4},
		{"cancel spot", []string{"cancel", "--endpoint", url, "spot"}, []string{"spot spot on i-0123456789abcdef0: removed"}, false, 3},
		{"cancel maintenance", []string{"cancel", "--endpoint", url, "MAINTENANCE"}, []string{"canceled; it stays in events/maintenance/history"}, false, 3},
		{"cancel again", []string{"cancel", "--endpoint", url, "MAINTENANCE"}, []string{"already canceled", "IncorrectEventState"}, true, 3},
		{"cancel unknown", []string{"cancel", "--endpoint", url, "spot"}, []string{"has no event spot"}, true, 3},
		{"bad action", []string{"spot", "--endpoint", url, "--action", "explode"}, []string{"--action: must be", "InvalidEvent"}, true, 3},
		{"bad in", []string{"spot", "--endpoint", url, "--in", "soon"}, []string{"--in: ", "InvalidEvent"}, true, 3},
		{"no start", []string{"maintenance", "--endpoint", url, "--code", "system-reboot"}, []string{"--not-before: required"}, true, 3},
		{"unknown instance", []string{"list", "--endpoint", url, "--instance-id", "i-00000000000000000"},
			[]string{"no instance i-00000000000000000", "InvalidInstanceID.NotFound"}, true, 3},
		{"flag of another kind", []string{"rebalance", "--endpoint", url, "--action", "stop"}, []string{"flag provided but not defined"}, true, 3},
		{"cancel without id", []string{"cancel", "--endpoint", url}, []string{"give one event id"}, true, 3},
		{"remote refused", []string{"list", "--endpoint", "http://192.0.2.1:1339"}, []string{"not a loopback address"}, true, 3},
		{"unknown action", []string{"explode"}, []string{"unknown action"}, true, 3},
	} {
		t.Run(tt.name, func(t *testing.T) {
			args := append([]string(nil), tt.args...)
			for i, a := range args {
				if a == "MAINTENANCE" {
					args[i] = maintenanceID
				}
			}
			var stdout, stderr bytes.Buffer
			err := runEvent(context.Background(), args, &stdout, &stderr)
			got := stdout.String()
			if err != nil {
				got = err.Error()
			}
			if (err != nil) != tt.wantErr {
				t.Fatalf("runEvent(%v) error = %v, want error %v\n%s", args, err, tt.wantErr, got)
			}
			for _, w := range tt.want {
				if !strings.Contains(got, w) {
					t.Errorf("runEvent(%v) output lacks %q:\n%s", args, w, got)
				}
			}
			if id := idRe.FindString(got); id != "" && maintenanceID == "" {
				maintenanceID = id
			}
			in, _ := st.Get(context.Background(), "i-0123456789abcdef0")
			n := len(in.Events.Maintenance)
			for _, set := range []bool{in.Events.Spot != nil, in.Events.Rebalance != nil, in.Events.AutoScaling != nil} {
				if set {
					n++
				}
			}
			if n != tt.events {
				t.Errorf("after runEvent(%v) the instance has %d events, want %d", args, n, tt.events)
			}
		})
	}
}

// Ensure --instance-id is required when the server has several instances,
// and the error names some of them.
func TestRunEvent_SeveralInstances(t *testing.T) {
	url, _ := eventServer(t, "i-0123456789abcdef0", "i-0123456789abcdef1")
	var stdout, stderr bytes.Buffer
	err := runEvent(context.Background(), []string{"rebalance", "--endpoint", url}, &stdout, &stderr)
	if err == nil || !strings.Contains(err.Error(), "2 instances (i-0123456789abcdef0, i-0123456789abcdef1)") {
		t.Errorf("rebalance without --instance-id on two instances: %v", err)
	}
	err = runEvent(context.Background(), []string{"list", "--endpoint", url}, &stdout, &stderr)
	if err != nil || !strings.Contains(stdout.String(), "no events") {
		t.Errorf("list of two instances without events = %q, %v", stdout.String(), err)
	}
}
