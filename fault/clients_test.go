package fault_test

import (
	"bytes"
	"context"
	"encoding/json"
	"io"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	awshttp "github.com/aws/aws-sdk-go-v2/aws/transport/http"
	"github.com/aws/aws-sdk-go-v2/feature/ec2/imds"

	"github.com/imds-dev/imds/dataplane"
	"github.com/imds-dev/imds/fault/rule"
	"github.com/imds-dev/imds/internal/loopback"
)

// clientEnv sets the test process's environment as shared/testenv.sh
// does, for the in-process SDK: the metadata endpoint on loopback, fake
// static keys, a throwaway HOME and no profile, config or proxy.
func clientEnv(t *testing.T, endpoint string) {
	t.Helper()
	requireLoopback(t, endpoint)
	home := t.TempDir()
	for k, v := range map[string]string{
		"AWS_EC2_METADATA_SERVICE_ENDPOINT":      endpoint,
		"AWS_EC2_METADATA_SERVICE_ENDPOINT_MODE": "IPv4",
		"AWS_ACCESS_KEY_ID":                      "AKIAIOSFODNN7EXAMPLE",
		"AWS_SECRET_ACCESS_KEY":                  "wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY",
		"AWS_DEFAULT_REGION":                     "us-east-1",
		"AWS_REGION":                             "us-east-1",
		"AWS_CONFIG_FILE":                        filepath.Join(home, "aws-config"),
		"AWS_SHARED_CREDENTIALS_FILE":            filepath.Join(home, "aws-credentials"),
		"HOME":                                   home,
		"NO_PROXY":                               "127.0.0.1,localhost,::1",
		"no_proxy":                               "127.0.0.1,localhost,::1",
	} {
		t.Setenv(k, v)
	}
	for _, k := range []string{"AWS_PROFILE", "AWS_EC2_METADATA_DISABLED", "AWS_EC2_METADATA_V1_DISABLED",
		"AWS_CONTAINER_CREDENTIALS_RELATIVE_URI", "AWS_CONTAINER_CREDENTIALS_FULL_URI"} {
		t.Setenv(k, "")
		os.Unsetenv(k)
	}
}

// goClient returns aws-sdk-go-v2's IMDS client for p, with its default
// retryer and timeouts, dialling loopback only.
func goClient(t *testing.T, p *plane) *imds.Client {
	t.Helper()
	clientEnv(t, p.url)
	hc := awshttp.NewBuildableClient().
		WithTransportOptions(func(tr *http.Transport) { tr.Proxy = nil }).
		WithDialerOptions(func(d *net.Dialer) { d.Control = loopback.DialControl })
	return imds.New(imds.Options{Endpoint: p.url, ClientEnableState: imds.ClientEnabled, HTTPClient: hc})
}

// getMetadata reads instance-id through c and fails the test unless it
// comes back.
func getMetadata(t *testing.T, c *imds.Client) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	out, err := c.GetMetadata(ctx, &imds.GetMetadataInput{Path: "instance-id"})
	if err != nil {
		t.Fatalf("GetMetadata(instance-id): %v", err)
	}
	defer out.Content.Close()
	b, _ := io.ReadAll(out.Content)
	if !strings.HasPrefix(string(b), "i-") {
		t.Fatalf("GetMetadata(instance-id) = %q", b)
	}
}

// statuses lists the statuses of the requests to paths starting with prefix.
func statuses(seen []served, method, prefix string) []int {
	var out []int
	for _, s := range seen {
		if s.Method == method && strings.HasPrefix(s.Path, prefix) {
			out = append(out, s.Status)
		}
	}
	return out
}

// Ensure aws-sdk-go-v2's standard retryer carries GetMetadata through two
// injected 500s, 503s or 429s: three attempts, the third answered, all
// with the token.
func TestInjector_GoSDKRetries(t *testing.T) {
	for _, tt := range []struct {
		name   string
		rule   rule.Rule
		status int
	}{
		{"500", rule.Rule{Kind: rule.Error, Path: "/latest/meta-data/instance-id", Count: 2}, 500},
		{"503", rule.Rule{Kind: rule.Error, Status: 503, Path: "/latest/meta-data/instance-id", Count: 2}, 503},
		{"429", rule.Rule{Kind: rule.Throttle, Path: "/latest/meta-data/instance-id", Count: 2}, 429},
	} {
		t.Run(tt.name, func(t *testing.T) {
			p := newPlane(t)
			if _, err := p.inj.Add(tt.rule); err != nil {
				t.Fatal(err)
			}
			getMetadata(t, goClient(t, p))

			seen := p.requests()
			want := []int{tt.status, tt.status, 200}
			if got := statuses(seen, "GET", "/latest/meta-data/instance-id"); !slices.Equal(got, want) {
				t.Errorf("GET statuses %v, want %v (requests %v)", got, want, seen)
			}
			for _, s := range seen {
				if s.Method == "GET" && !s.Token {
					t.Errorf("request %v went without the token", s)
				}
			}
		})
	}
}

// Ensure a token PUT whose connection is dropped, or that outlasts the
// client's 500 ms wait for response headers, makes aws-sdk-go-v2 fall back
// to IMDSv1 and stop asking for tokens, as SPEC.md 11.2 says it does on EC2
// when the token request cannot be sent or times out.
func TestInjector_GoSDKFallsBack(t *testing.T) {
	put := []string{"PUT"}
	for _, tt := range []struct {
		name string
		rule rule.Rule
	}{
		{"dropped PUT", rule.Rule{Kind: rule.Drop, Path: dataplane.TokenPath, Methods: put}},
		{"slow PUT", rule.Rule{Kind: rule.Latency, Latency: 2 * time.Second, Path: dataplane.TokenPath, Methods: put}},
	} {
		t.Run(tt.name, func(t *testing.T) {
			p := newPlane(t)
			if _, err := p.inj.Add(tt.rule); err != nil {
				t.Fatal(err)
			}
			c := goClient(t, p)
			getMetadata(t, c)
			p.await("PUT", dataplane.TokenPath, 1)
			seen := p.requests()
			puts := statuses(seen, "PUT", dataplane.TokenPath)
			t.Logf("token PUTs before the fallback: %v", puts)
			if len(puts) == 0 || slices.ContainsFunc(puts, func(s int) bool { return s != 0 }) {
				t.Errorf("token PUTs %v, want only unanswered ones (requests %v)", puts, seen)
			}
			if got := statuses(seen, "GET", "/"); !slices.Equal(got, []int{200}) {
				t.Errorf("GET statuses %v, want [200]", got)
			}
			for _, s := range seen {
				if s.Method == "GET" && s.Token {
					t.Errorf("request %v carried a token, want IMDSv1", s)
				}
			}

			// The token provider is now disabled: no further PUT.
			getMetadata(t, c)
			if puts := statuses(p.requests(), "PUT", "/"); len(puts) != 0 {
				t.Errorf("second GetMetadata sent PUTs %v, want none", puts)
			}
		})
	}
}

// botocoreCredentials runs testdata/botocore_fetch.py against p with the
// environment of shared/testenv.sh and returns the access key it fetched.
func botocoreCredentials(t *testing.T, p *plane, attempts int) string {
	t.Helper()
	requireLoopback(t, p.url)
	python, err := exec.LookPath("python3")
	if err == nil {
		err = exec.Command(python, "-c", "import botocore").Run()
	}
	if err != nil {
		if os.Getenv("CI") != "" {
			t.Fatalf("python3 with botocore: %v; install with pip install botocore", err)
		}
		t.Skipf("python3 with botocore: %v; install with pip install botocore", err)
	}

	home := t.TempDir()
	for _, f := range []string{"aws-config", "aws-credentials"} {
		if err := os.WriteFile(filepath.Join(home, f), nil, 0o600); err != nil {
			t.Fatal(err)
		}
	}
	env := []string{
		"PATH=" + os.Getenv("PATH"),
		"HOME=" + home,
		"AWS_EC2_METADATA_SERVICE_ENDPOINT=" + p.url,
		"AWS_EC2_METADATA_SERVICE_ENDPOINT_MODE=IPv4",
		"AWS_ACCESS_KEY_ID=AKIAIOSFODNN7EXAMPLE",
		"AWS_SECRET_ACCESS_KEY=wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY",
		"AWS_DEFAULT_REGION=us-east-1",
		"AWS_REGION=us-east-1",
		"AWS_CONFIG_FILE=" + filepath.Join(home, "aws-config"),
		"AWS_SHARED_CREDENTIALS_FILE=" + filepath.Join(home, "aws-credentials"),
		"AWS_PAGER=",
		"NO_PROXY=127.0.0.1,localhost,::1",
		"no_proxy=127.0.0.1,localhost,::1",
	}
	cmd := exec.Command(python, filepath.Join("testdata", "botocore_fetch.py"), strconv.Itoa(attempts))
	cmd.Env = env
	var stdout, stderr bytes.Buffer
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	if err := cmd.Run(); err != nil {
		t.Fatalf("botocore_fetch.py: %v\n%s", err, stderr.String())
	}
	var got struct {
		RoleName  string `json:"role_name"`
		AccessKey string `json:"access_key"`
	}
	if err := json.Unmarshal(stdout.Bytes(), &got); err != nil || got.RoleName != "app-role" {
		t.Fatalf("botocore fetched %q (%v), want app-role's credentials\n%s", stdout.String(), err, stderr.String())
	}
	return got.AccessKey
}

// Ensure botocore's InstanceMetadataFetcher (timeout 1 s) gets the role's
// credentials through injected failures: retrying 500s and 429s with
// num_attempts 3, and falling back to IMDSv1 when the token PUT is dropped
// or outlasts its timeout, as SPEC.md 11.1 says it does on EC2.
func TestInjector_Botocore(t *testing.T) {
	iam := "/latest/meta-data/iam/"
	put := []string{"PUT"}
	for _, tt := range []struct {
		name     string
		rule     rule.Rule
		attempts int
		token    bool  // whether every GET carries a token
		puts     []int // statuses of the token PUTs
		iamGETs  []int // statuses of the GETs under iam/
	}{
		{"500", rule.Rule{Kind: rule.Error, Path: iam, Count: 2}, 3, true, []int{200}, []int{500, 500, 200, 200}},
		{"503", rule.Rule{Kind: rule.Error, Status: 503, Path: iam, Count: 2}, 3, true, []int{200}, []int{503, 503, 200, 200}},
		{"429", rule.Rule{Kind: rule.Throttle, Path: iam, Count: 2}, 3, true, []int{200}, []int{429, 429, 200, 200}},
		{"dropped PUT", rule.Rule{Kind: rule.Drop, Path: dataplane.TokenPath, Methods: put}, 3, false, []int{0, 0, 0}, []int{200, 200}},
		{"slow PUT", rule.Rule{Kind: rule.Latency, Latency: 2 * time.Second, Path: dataplane.TokenPath, Methods: put}, 1, false, []int{0}, []int{200, 200}},
	} {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			p := newPlane(t)
			if _, err := p.inj.Add(tt.rule); err != nil {
				t.Fatal(err)
			}
			key := botocoreCredentials(t, p, tt.attempts)
			// A PUT the client gave up on is answered once the server sees
			// the connection close, which may come after the client exits.
			p.await("PUT", dataplane.TokenPath, len(tt.puts))
			seen := p.requests()
			if want := p.credentials(tt.token); key != want {
				t.Errorf("botocore got key %s, want the served %s", key, want)
			}
			if got := statuses(seen, "PUT", dataplane.TokenPath); !slices.Equal(got, tt.puts) {
				t.Errorf("token PUT statuses %v, want %v (requests %v)", got, tt.puts, seen)
			}
			if got := statuses(seen, "GET", iam); !slices.Equal(got, tt.iamGETs) {
				t.Errorf("GET statuses %v, want %v (requests %v)", got, tt.iamGETs, seen)
			}
			for _, s := range seen {
				if s.Method == "GET" && s.Token != tt.token {
					t.Errorf("request %v: token %v, want %v", s, s.Token, tt.token)
				}
			}
		})
	}
}
