package clients_test

import (
	"bytes"
	"context"
	"encoding/json"
	"io"
	"net/http"
	"os/exec"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"
)

// runClient runs one client process with env and returns its stdout. It
// refuses to start unless env points the metadata endpoint at loopback.
func runClient(t testing.TB, env []string, name string, args ...string) []byte {
	t.Helper()
	endpoint := ""
	for _, kv := range env {
		if v, ok := strings.CutPrefix(kv, "AWS_EC2_METADATA_SERVICE_ENDPOINT="); ok {
			endpoint = v
		}
	}
	requireLoopback(t, endpoint)

	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()
	cmd := exec.CommandContext(ctx, name, args...)
	cmd.Env = env
	var stdout, stderr bytes.Buffer
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	if err := cmd.Run(); err != nil {
		t.Fatalf("%s %s: %v\nstdout:\n%s\nstderr:\n%s", name, strings.Join(args, " "), err, stdout.Bytes(), stderr.Bytes())
	}
	return stdout.Bytes()
}

// decodeJSON decodes a client's JSON output into v.
func decodeJSON(t testing.TB, out []byte, v any) {
	t.Helper()
	if err := json.Unmarshal(out, v); err != nil {
		t.Fatalf("decode client output: %v\n%s", err, out)
	}
}

// roleCredentials is the credential JSON imds serves for a role.
type roleCredentials struct {
	Code            string
	LastUpdated     string
	Type            string
	AccessKeyId     string
	SecretAccessKey string
	Token           string
	Expiration      string
}

// expiration parses the JSON's Expiration.
func (c roleCredentials) expiration(t testing.TB) time.Time {
	t.Helper()
	exp, err := time.Parse(time.RFC3339, c.Expiration)
	if err != nil {
		t.Fatalf("served Expiration %q: %v", c.Expiration, err)
	}
	return exp
}

// servedCredentials fetches app-role's credentials the way an IMDSv2 client
// does (token first), so they are the delivery that clients using a token
// receive.
func servedCredentials(t testing.TB, s *imdsServer) roleCredentials {
	t.Helper()
	var c roleCredentials
	body := fetch(t, s, "/latest/meta-data/iam/security-credentials/app-role")
	if err := json.Unmarshal(body, &c); err != nil {
		t.Fatalf("served credentials: %v\n%s", err, body)
	}
	return c
}

// fetch GETs path with a fresh token and returns the body of a 200.
func fetch(t testing.TB, s *imdsServer, path string) []byte {
	t.Helper()
	req, _ := http.NewRequest(http.MethodPut, s.URL+"/latest/api/token", nil)
	req.Header.Set("X-aws-ec2-metadata-token-ttl-seconds", "60")
	tok := do(t, req)

	req, _ = http.NewRequest(http.MethodGet, s.URL+path, nil)
	req.Header.Set("X-aws-ec2-metadata-token", string(tok))
	return do(t, req)
}

func do(t testing.TB, req *http.Request) []byte {
	t.Helper()
	requireLoopback(t, req.URL.String())
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatalf("%s %s: %v", req.Method, req.URL.Path, err)
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(resp.Body)
	if err != nil || resp.StatusCode != http.StatusOK {
		t.Fatalf("%s %s = %d, %v; want 200", req.Method, req.URL.Path, resp.StatusCode, err)
	}
	return body
}

// sameRequests reports whether got and want hold the same requests in any
// order. The server logs a request once it has answered it, so two
// requests of one client may be logged in either order.
func sameRequests(got, want []accessEntry) bool {
	key := func(a, b accessEntry) int { return strings.Compare(a.String(), b.String()) }
	return slices.Equal(slices.SortedFunc(slices.Values(got), key), slices.SortedFunc(slices.Values(want), key))
}

// countRequests counts access-log entries by "METHOD STATUS".
func countRequests(entries []accessEntry) map[string]int {
	n := map[string]int{}
	for _, e := range entries {
		n[e.Method+" "+strconv.Itoa(e.Status)]++
	}
	return n
}
