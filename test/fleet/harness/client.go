package harness

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/url"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/credentials"
	"github.com/aws/aws-sdk-go-v2/service/ec2"
)

// The token headers of IMDSv2.
const (
	TokenHeader    = "X-aws-ec2-metadata-token"
	TokenTTLHeader = "X-aws-ec2-metadata-token-ttl-seconds"
)

// plainClient talks to loopback servers that need no particular source
// address: etcd's /health and the control plane's health endpoints.
var plainClient = &http.Client{
	Transport: &http.Transport{Proxy: nil, DisableKeepAlives: true},
	Timeout:   5 * time.Second,
}

// CheckLoopback accepts only an http URL whose host is a loopback IP
// literal; a name could resolve to a real address.
func CheckLoopback(endpoint string) error {
	u, err := url.Parse(endpoint)
	if err != nil {
		return fmt.Errorf("endpoint %q: %w", endpoint, err)
	}
	ip := net.ParseIP(u.Hostname())
	if u.Scheme != "http" || ip == nil || !ip.IsLoopback() {
		return fmt.Errorf("endpoint %q: not http on a loopback IP", endpoint)
	}
	return nil
}

// From returns a client whose connections leave from the loopback address
// src, so that the data plane takes it for the instance owning src. Each
// request opens its own connection, as the data plane closes it after one
// answer (EC2 does the same).
func From(src string) *http.Client {
	ip := net.ParseIP(src)
	if ip == nil || !ip.IsLoopback() {
		panic("harness: source " + src + " is not a loopback address")
	}
	d := &net.Dialer{LocalAddr: &net.TCPAddr{IP: ip}, Timeout: 2 * time.Second}
	return &http.Client{
		Transport: &http.Transport{Proxy: nil, DialContext: d.DialContext, DisableKeepAlives: true},
		Timeout:   5 * time.Second,
	}
}

// Get sends a GET to the data plane at base+path, with token when it is
// not empty, and returns the status and body.
func Get(c *http.Client, base, path, token string) (int, string, error) {
	req, err := http.NewRequest(http.MethodGet, base+path, nil)
	if err != nil {
		return 0, "", err
	}
	if token != "" {
		req.Header.Set(TokenHeader, token)
	}
	return do(c, req)
}

// Token asks the data plane at base for a token valid ttl seconds.
func Token(c *http.Client, base string, ttl int) (string, error) {
	req, err := http.NewRequest(http.MethodPut, base+"/latest/api/token", nil)
	if err != nil {
		return "", err
	}
	req.Header.Set(TokenTTLHeader, fmt.Sprint(ttl))
	status, body, err := do(c, req)
	if err != nil {
		return "", err
	}
	if status != http.StatusOK {
		return "", fmt.Errorf("token: status %d", status)
	}
	return body, nil
}

func do(c *http.Client, req *http.Request) (int, string, error) {
	resp, err := c.Do(req)
	if err != nil {
		return 0, "", err
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(resp.Body)
	return resp.StatusCode, string(body), err
}

// HealthReport is the body of /healthz and /readyz.
type HealthReport struct {
	Status    string `json:"status"`
	Store     string `json:"store"`
	Instances int    `json:"instances"`
}

// Health fetches the control plane's /healthz or /readyz (path).
func Health(controlURL, path string) (int, HealthReport, error) {
	var rep HealthReport
	resp, err := plainClient.Get(controlURL + path)
	if err != nil {
		return 0, rep, err
	}
	defer resp.Body.Close()
	if err := json.NewDecoder(resp.Body).Decode(&rep); err != nil {
		return resp.StatusCode, rep, fmt.Errorf("%s: decode: %w", path, err)
	}
	return resp.StatusCode, rep, nil
}

// WaitReady polls /readyz until it answers 200 or timeout passes, and
// returns how long that took.
func WaitReady(controlURL string, timeout time.Duration) (time.Duration, error) {
	start := time.Now()
	for {
		status, rep, err := Health(controlURL, "/readyz")
		if err == nil && status == http.StatusOK {
			return time.Since(start), nil
		}
		if time.Since(start) > timeout {
			return time.Since(start), fmt.Errorf("readyz not 200 after %v: %d %+v %v", timeout, status, rep, err)
		}
		time.Sleep(10 * time.Millisecond)
	}
}

// Credentials is a control-plane key in an AWS shared-credentials file.
type Credentials struct {
	Path, KeyID, Secret string
}

// WriteCredentials writes a fresh control-plane key into a credentials
// file in a temporary directory of t, for --control-credentials.
func WriteCredentials(t testing.TB) Credentials {
	t.Helper()
	c := Credentials{
		Path:   filepath.Join(t.TempDir(), "control-credentials"),
		KeyID:  "AKIAFLEETTEST0000001",
		Secret: "fleet/test/secret/" + strings.Repeat("x", 22),
	}
	data := fmt.Sprintf("[default]\naws_access_key_id = %s\naws_secret_access_key = %s\n", c.KeyID, c.Secret)
	if err := os.WriteFile(c.Path, []byte(data), 0o600); err != nil {
		t.Fatal(err)
	}
	return c
}

// EC2 returns aws-sdk-go-v2's EC2 client aimed at a control plane, signing
// with c and trying each call once, so that every answer of the control
// plane reaches the caller as it came; it reads nothing from the
// environment.
func EC2(t testing.TB, controlURL string, c Credentials) *ec2.Client {
	t.Helper()
	if err := CheckLoopback(controlURL); err != nil {
		t.Fatal(err)
	}
	return ec2.New(ec2.Options{
		BaseEndpoint:     aws.String(controlURL),
		Region:           "us-east-1",
		Credentials:      credentials.NewStaticCredentialsProvider(c.KeyID, c.Secret, ""),
		RetryMaxAttempts: 1,
		HTTPClient: &http.Client{
			Transport: ownBody{&http.Transport{Proxy: nil}},
			Timeout:   30 * time.Second,
		},
	})
}

// ownBody hands the HTTP transport its own copy of each request body. The
// SDK closes its body as soon as an answer's headers arrive; on loopback
// they can arrive while the transport is still finishing the request, whose
// write then fails and closes the connection under the answer being read
// ("use of closed network connection", aws/aws-sdk-go-v2#2737).
type ownBody struct{ rt http.RoundTripper }

func (o ownBody) RoundTrip(req *http.Request) (*http.Response, error) {
	if req.Body == nil || req.Body == http.NoBody {
		return o.rt.RoundTrip(req)
	}
	data, err := io.ReadAll(req.Body)
	req.Body.Close()
	if err != nil {
		return nil, fmt.Errorf("read request body: %w", err)
	}
	own := req.Clone(req.Context())
	own.ContentLength = int64(len(data))
	own.Body = io.NopCloser(bytes.NewReader(data))
	own.GetBody = func() (io.ReadCloser, error) { return io.NopCloser(bytes.NewReader(data)), nil }
	return o.rt.RoundTrip(own)
}

// CallTimeout is a context for one control call: long enough for any
// answer the control plane should give, short enough to call a hang one.
func CallTimeout() (context.Context, context.CancelFunc) {
	return context.WithTimeout(context.Background(), 15*time.Second)
}
