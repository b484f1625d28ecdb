package fault_test

import (
	"crypto/rand"
	"encoding/json"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"net/url"
	"sync"
	"testing"
	"time"

	"github.com/imds-dev/imds"
	"github.com/imds-dev/imds/config"
	"github.com/imds-dev/imds/creds"
	"github.com/imds-dev/imds/dataplane"
	"github.com/imds-dev/imds/fault"
	"github.com/imds-dev/imds/identity"
	"github.com/imds-dev/imds/token"
	"github.com/imds-dev/imds/tree"
)

var (
	signerOnce sync.Once
	testSigner *identity.Signer
	signerErr  error
)

// sharedSigner returns one RSA signer for all tests; generating keys is slow.
func sharedSigner(t testing.TB) *identity.Signer {
	t.Helper()
	signerOnce.Do(func() { testSigner, signerErr = identity.GenerateSigner() })
	if signerErr != nil {
		t.Fatalf("GenerateSigner: %v", signerErr)
	}
	return testSigner
}

// served is one answered request, as the data plane's After hook saw it.
type served struct {
	Method, Path string
	Status       int  // 0: dropped
	Token        bool // the request carried a token header
}

// plane is a data plane on a loopback port serving the built-in instance
// (role app-role, tokens optional) with an injector as its Before hook.
type plane struct {
	t   testing.TB
	url string
	inj *fault.Injector

	mu   sync.Mutex // guards seen
	seen []served
}

func newPlane(t testing.TB) *plane {
	t.Helper()
	now := time.Now()
	seed := make([]byte, 32)
	rand.Read(seed)
	opts := tree.Options{Creds: creds.NewGenerator(seed, creds.DefaultSchedule), Sign: sharedSigner(t).Sign}
	view := dataplane.NewView(config.DefaultInstance(now),
		func(in *imds.Instance, now time.Time) *tree.Tree { return tree.Build(in, opts, now) })
	ring, err := token.NewKeyRing(now)
	if err != nil {
		t.Fatal(err)
	}

	p := &plane{t: t, inj: fault.New(fault.Options{})}
	handler := dataplane.New(dataplane.Config{
		Directory: dataplane.Single{View: view},
		Tokens:    token.NewAuthority(ring, nil),
		Hooks:     dataplane.Hooks{Before: p.inj.Before, After: p.record},
	})
	ts := httptest.NewUnstartedServer(handler)
	ts.Config.ConnContext = dataplane.ConnContext
	ts.Start()
	t.Cleanup(ts.Close)
	p.url = ts.URL
	requireLoopback(t, p.url)
	return p
}

func (p *plane) record(r *http.Request, out dataplane.Outcome, _ time.Duration) {
	p.mu.Lock()
	p.seen = append(p.seen, served{r.Method, r.URL.Path, out.Status, r.Header.Get("X-Aws-Ec2-Metadata-Token") != ""})
	p.mu.Unlock()
}

// requests returns the requests answered so far and forgets them.
func (p *plane) requests() []served {
	p.mu.Lock()
	defer p.mu.Unlock()
	s := p.seen
	p.seen = nil
	return s
}

// await waits up to five seconds for n answers to method on path.
func (p *plane) await(method, path string, n int) {
	for deadline := time.Now().Add(5 * time.Second); time.Now().Before(deadline); {
		p.mu.Lock()
		got := 0
		for _, s := range p.seen {
			if s.Method == method && s.Path == path {
				got++
			}
		}
		p.mu.Unlock()
		if got >= n {
			return
		}
		time.Sleep(10 * time.Millisecond)
	}
}

// credentials clears every fault rule and reads the role's credentials,
// with a token or without (EC2 serves the two kinds of request different
// sets), for comparison with what a client got.
func (p *plane) credentials(withToken bool) (accessKeyID string) {
	p.t.Helper()
	p.inj.Clear()
	req, _ := http.NewRequest("GET", p.url+"/latest/meta-data/iam/security-credentials/app-role", nil)
	if withToken {
		req.Header.Set("X-Aws-Ec2-Metadata-Token", p.token())
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		p.t.Fatal(err)
	}
	defer resp.Body.Close()
	body, _ := io.ReadAll(resp.Body)
	var c struct{ AccessKeyId string }
	if err := json.Unmarshal(body, &c); err != nil || c.AccessKeyId == "" {
		p.t.Fatalf("served credentials %q: %v", body, err)
	}
	p.requests()
	return c.AccessKeyId
}

// token returns a new token.
func (p *plane) token() string {
	p.t.Helper()
	req, _ := http.NewRequest("PUT", p.url+dataplane.TokenPath, nil)
	req.Header.Set("X-Aws-Ec2-Metadata-Token-Ttl-Seconds", "60")
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		p.t.Fatal(err)
	}
	defer resp.Body.Close()
	body, _ := io.ReadAll(resp.Body)
	if resp.StatusCode != 200 {
		p.t.Fatalf("PUT token: %d", resp.StatusCode)
	}
	return string(body)
}

// requireLoopback stops the test unless endpoint is http on a loopback IP.
func requireLoopback(t testing.TB, endpoint string) {
	t.Helper()
	u, err := url.Parse(endpoint)
	if err != nil {
		t.Fatalf("refusing to run a client: %v", err)
	}
	ip := net.ParseIP(u.Hostname())
	if u.Scheme != "http" || ip == nil || !ip.IsLoopback() {
		t.Fatalf("refusing to run a client against %q: not http on a loopback IP", endpoint)
	}
}
