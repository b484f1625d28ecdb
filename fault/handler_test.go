package fault_test

import (
	"context"
	"encoding/json"
	"errors"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/imds-dev/imds/control"
	"github.com/imds-dev/imds/fault"
	"github.com/imds-dev/imds/fault/rule"
	"github.com/imds-dev/imds/internal/signedclient"
	"github.com/imds-dev/imds/store/mem"
)

const (
	testKeyID  = "AKIAIMDSTEST00000001"
	testSecret = "c2VjcmV0c2VjcmV0c2VjcmV0c2VjcmV0c2VjcmV0"
)

// controlServer serves the fault endpoints on loopback, signed with the
// test key, and returns its URL and a credentials file holding the key.
func controlServer(t *testing.T, inj *fault.Injector) (url, credsFile string) {
	t.Helper()
	ctl := control.New(control.Config{Store: mem.New(), Keys: map[string]string{testKeyID: testSecret}})
	mux := http.NewServeMux()
	h := fault.NewHandler(inj, ctl)
	mux.Handle(fault.Path, h)
	mux.Handle(fault.Path+"/", h)
	ts := httptest.NewServer(mux)
	t.Cleanup(ts.Close)

	credsFile = filepath.Join(t.TempDir(), "control-credentials")
	data := "[default]\naws_access_key_id = " + testKeyID + "\naws_secret_access_key = " + testSecret + "\n"
	if err := os.WriteFile(credsFile, []byte(data), 0o600); err != nil {
		t.Fatal(err)
	}
	return ts.URL, credsFile
}

func signedClient(t *testing.T, url, credsFile string) *signedclient.Client {
	t.Helper()
	c, err := signedclient.New(context.Background(), signedclient.Options{Endpoint: url, CredentialsFile: credsFile})
	if err != nil {
		t.Fatal(err)
	}
	return c
}

// errorBody is the JSON of an error answer.
type errorBody struct {
	Code, Message, Field string
}

// Ensure the endpoints add, list, remove and clear rules in the injector.
func TestHandler_ServeHTTP(t *testing.T) {
	inj := fault.New(fault.Options{})
	url, creds := controlServer(t, inj)
	c := signedClient(t, url, creds)
	ctx := context.Background()

	var added fault.Entry
	if err := c.Do(ctx, "POST", fault.Path, map[string]any{"kind": "throttle", "path": "/latest/meta-data/iam/", "count": 3}, &added); err != nil {
		t.Fatalf("POST: %v", err)
	}
	if added.ID != "f1" || added.Kind != "throttle" || added.Instance != "*" || added.Remaining == nil || *added.Remaining != 3 {
		t.Errorf("POST answered %+v", added)
	}
	if err := c.Do(ctx, "POST", fault.Path, map[string]any{"id": "slow", "kind": "latency", "latency": "2s", "for": "1m"}, nil); err != nil {
		t.Fatalf("POST: %v", err)
	}

	var list struct{ Faults []fault.Entry }
	if err := c.Do(ctx, "GET", fault.Path, nil, &list); err != nil {
		t.Fatalf("GET: %v", err)
	}
	if len(list.Faults) != 2 || list.Faults[1].ID != "slow" || list.Faults[1].Latency != "2s" || list.Faults[1].Until == "" {
		t.Errorf("GET answered %+v", list.Faults)
	}

	var removed struct{ Removed int }
	if err := c.Do(ctx, "DELETE", fault.Path+"/f1", nil, &removed); err != nil || removed.Removed != 1 {
		t.Errorf("DELETE f1: %v, %+v", err, removed)
	}
	if err := c.Do(ctx, "DELETE", fault.Path, nil, &removed); err != nil || removed.Removed != 1 {
		t.Errorf("DELETE all: %v, %+v", err, removed)
	}
	if got := inj.List(); len(got) != 0 {
		t.Errorf("rules left after clearing: %+v", got)
	}
}

// Ensure bad requests get a 4xx with a JSON error naming what is wrong.
func TestHandler_ServeHTTPErrors(t *testing.T) {
	inj := fault.New(fault.Options{})
	url, creds := controlServer(t, inj)
	c := signedClient(t, url, creds)
	if _, err := inj.Add(ruleWithID("taken")); err != nil {
		t.Fatal(err)
	}

	for _, tt := range []struct {
		name, method, path string
		body               any
		status             int
		code, field        string
	}{
		{"bad kind", "POST", fault.Path, map[string]any{"kind": "boom"}, 400, "InvalidFaultRule", "kind"},
		{"wrong type", "POST", fault.Path, map[string]any{"kind": "drop", "count": "x"}, 400, "InvalidFaultRule", "count"},
		{"unknown field", "POST", fault.Path, map[string]any{"kind": "drop", "colour": 1}, 400, "InvalidFaultRule", "colour"},
		{"not an object", "POST", fault.Path, []int{1}, 400, "InvalidFaultRule", ""},
		{"empty body", "POST", fault.Path, nil, 400, "InvalidFaultRule", ""},
		{"taken id", "POST", fault.Path, map[string]any{"kind": "drop", "id": "taken"}, 409, "FaultRuleExists", "id"},
		{"unknown id", "DELETE", fault.Path + "/nope", nil, 404, "FaultRuleNotFound", ""},
		{"empty id", "DELETE", fault.Path + "/", nil, 404, "NotFound", ""},
		{"nested path", "DELETE", fault.Path + "/a/b", nil, 404, "FaultRuleNotFound", ""},
		{"PUT", "PUT", fault.Path, nil, 405, "MethodNotAllowed", ""},
		{"GET one", "GET", fault.Path + "/taken", nil, 405, "MethodNotAllowed", ""},
	} {
		t.Run(tt.name, func(t *testing.T) {
			err := c.Do(context.Background(), tt.method, tt.path, tt.body, nil)
			var se *signedclient.Error
			if !errors.As(err, &se) {
				t.Fatalf("%s %s: err = %v, want an error answer", tt.method, tt.path, err)
			}
			var got errorBody
			if jerr := json.Unmarshal([]byte(se.Body), &got); jerr != nil {
				t.Fatalf("error body %q is not JSON: %v", se.Body, jerr)
			}
			if se.Status != tt.status || got.Code != tt.code || got.Field != tt.field || got.Message == "" {
				t.Errorf("%s %s = %d %+v, want %d %s field %q", tt.method, tt.path, se.Status, got, tt.status, tt.code, tt.field)
			}
		})
	}
}

// Ensure unsigned or wrongly signed calls are refused with a JSON error
// before anything is read or changed.
func TestHandler_ServeHTTPUnsigned(t *testing.T) {
	inj := fault.New(fault.Options{})
	url, _ := controlServer(t, inj)
	resp, err := http.Post(url+fault.Path, "application/json", strings.NewReader(`{"kind":"drop"}`))
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	var got errorBody
	if err := json.NewDecoder(resp.Body).Decode(&got); err != nil || resp.StatusCode/100 != 4 || got.Code == "" {
		t.Errorf("unsigned POST = %d %+v (%v), want a 4xx JSON error", resp.StatusCode, got, err)
	}
	if len(inj.List()) != 0 {
		t.Error("unsigned POST added a rule")
	}

	bad := filepath.Join(t.TempDir(), "creds")
	os.WriteFile(bad, []byte("[default]\naws_access_key_id = "+testKeyID+"\naws_secret_access_key = wrong\n"), 0o600)
	var se *signedclient.Error
	if err := signedClient(t, url, bad).Do(context.Background(), "GET", fault.Path, nil, nil); !errors.As(err, &se) || se.Status/100 != 4 {
		t.Errorf("wrongly signed GET: %v, want a 4xx", err)
	}
}

func ruleWithID(id string) rule.Rule { return rule.Rule{ID: id, Kind: rule.Drop} }
