package clients_test

import (
	"maps"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"testing"
)

const botocoreInstall = "pip install boto3 awscli (botocore 1.43 or later)"

// pythonProbes caches whether an interpreter can import a module list,
// keyed by "path import list"; importing boto3 takes a second.
var pythonProbes sync.Map

// needPython returns an interpreter that can import every module named,
// failing (CI) or skipping the test when there is none.
func needPython(t testing.TB, python, install string, modules ...string) string {
	t.Helper()
	path := needTool(t, python, install)
	stmt := "import " + strings.Join(modules, ", ")
	ok, seen := pythonProbes.Load(path + " " + stmt)
	if !seen {
		ok = exec.Command(path, "-c", stmt).Run() == nil
		pythonProbes.Store(path+" "+stmt, ok)
	}
	if !ok.(bool) {
		missing(t, path+" cannot run "+stmt, install)
	}
	return path
}

// botocore runs py/botocore_client.py with the given command and decodes
// its JSON output into v.
func botocore(t testing.TB, s *imdsServer, fromIMDS bool, command string, v any) {
	t.Helper()
	python := needPython(t, "python3", botocoreInstall, "botocore", "boto3")
	script := filepath.Join(clientDir("py"), "botocore_client.py")
	out := runClient(t, clientEnv(t, s.URL, fromIMDS), python, script, command)
	decodeJSON(t, out, v)
}

// oneCredentialFetch is what a botocore credential fetch costs with a
// token: one PUT for the token, one GET for the role name, one GET for the
// credentials.
var oneCredentialFetch = map[string]int{"PUT 200": 1, "GET 200": 2}

// Ensure botocore's InstanceMetadataFetcher returns the role's keys with
// expiry_time equal to the served Expiration, for one PUT and two GETs.
func TestBotocore_InstanceMetadataFetcher(t *testing.T) {
	t.Parallel()
	for _, mode := range []struct{ name, config string }{
		{"optional", ""},
		{"required", tokensRequired},
	} {
		t.Run(mode.name, func(t *testing.T) {
			t.Parallel()
			s := startIMDS(t, serveOptions{config: mode.config})
			mark := s.mark()
			var got struct {
				RoleName   string `json:"role_name"`
				AccessKey  string `json:"access_key"`
				SecretKey  string `json:"secret_key"`
				Token      string `json:"token"`
				ExpiryTime string `json:"expiry_time"`
			}
			botocore(t, s, false, "fetcher", &got)
			requests := s.accessSince(mark)
			want := servedCredentials(t, s)

			if got.RoleName != "app-role" || got.AccessKey != want.AccessKeyId ||
				got.SecretKey != want.SecretAccessKey || got.Token != want.Token {
				t.Errorf("retrieve_iam_role_credentials() = role %q key %q, want app-role %q", got.RoleName, got.AccessKey, want.AccessKeyId)
			}
			if got.ExpiryTime != want.Expiration {
				t.Errorf("expiry_time = %q, want the served Expiration %q", got.ExpiryTime, want.Expiration)
			}
			checkTokenRequests(t, requests, oneCredentialFetch)
		})
	}
}

// Ensure botocore's region fetcher, which reads availability-zone/ (with a
// slash) and strips its last character, gets the instance's region.
// (For a Local Zone released botocore gets it wrong; TestGoSDK_GetRegion
// covers those.)
func TestBotocore_InstanceMetadataRegionFetcher(t *testing.T) {
	t.Parallel()
	for _, mode := range []struct{ name, config, want string }{
		{"optional", "", "us-east-1"},
		{"required", tokensRequired, "us-east-1"},
		{"us-west-2a", "instance:\n  region: us-west-2\n", "us-west-2"},
	} {
		t.Run(mode.name, func(t *testing.T) {
			t.Parallel()
			s := startIMDS(t, serveOptions{config: mode.config})
			var got struct{ Region *string }
			botocore(t, s, false, "region", &got)
			if got.Region == nil || *got.Region != mode.want {
				t.Errorf("retrieve_region() = %v, want %s", got.Region, mode.want)
			}
		})
	}
}

// Ensure a boto3 Session with no static keys finds the role's credentials
// through its default chain, reports them as 'iam-role', and costs imds one
// PUT and two GETs.
func TestBoto3_Session(t *testing.T) {
	t.Parallel()
	for _, mode := range []struct{ name, config string }{
		{"optional", ""},
		{"required", tokensRequired},
	} {
		t.Run(mode.name, func(t *testing.T) {
			t.Parallel()
			s := startIMDS(t, serveOptions{config: mode.config})
			mark := s.mark()
			var got struct {
				Method    *string
				AccessKey string `json:"access_key"`
				SecretKey string `json:"secret_key"`
				Token     string
			}
			botocore(t, s, true, "session", &got)
			requests := s.accessSince(mark)
			want := servedCredentials(t, s)

			if got.Method == nil || *got.Method != "iam-role" {
				t.Errorf("get_credentials().method = %v, want iam-role", got.Method)
			}
			if got.AccessKey != want.AccessKeyId || got.SecretKey != want.SecretAccessKey || got.Token != want.Token {
				t.Errorf("get_credentials() key = %q, want the served %q", got.AccessKey, want.AccessKeyId)
			}
			checkTokenRequests(t, requests, oneCredentialFetch)
		})
	}
}

// checkTokenRequests checks the requests' counts by method and status, and
// that every GET carried a token.
func checkTokenRequests(t testing.TB, requests []accessEntry, want map[string]int) {
	t.Helper()
	if got := countRequests(requests); !maps.Equal(got, want) {
		t.Errorf("requests %v: counts %v, want %v", requests, got, want)
	}
	for _, r := range requests {
		if r.Method == "GET" && !r.Token {
			t.Errorf("request %v: no token", r)
		}
	}
}
