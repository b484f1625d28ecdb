// Package console_test drives the console in headless Chromium against a
// data plane, a control plane and the console running in this process on
// loopback ports: sign in through the form, switch an instance to
// IMDSv2-only and see a token-less request refused, see a forged form from
// another origin refused, and take the screenshot the README shows.
package console_test

import (
	"context"
	"crypto/rand"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"net/netip"
	"net/url"
	"path/filepath"
	"testing"
	"time"

	"github.com/imds-dev/imds"
	"github.com/imds-dev/imds/audit"
	"github.com/imds-dev/imds/config"
	"github.com/imds-dev/imds/console"
	"github.com/imds-dev/imds/control"
	"github.com/imds-dev/imds/creds"
	"github.com/imds-dev/imds/dataplane"
	"github.com/imds-dev/imds/fleet"
	"github.com/imds-dev/imds/store/mem"
	"github.com/imds-dev/imds/token"
	"github.com/imds-dev/imds/tree"
)

// The instances of the stack. Requests are attributed by source address:
// web answers 127.0.0.1 and legacy 127.0.0.2; batch gets no requests.
const (
	webID    = "i-0123456789abcdef0"
	legacyID = "i-07d2c4e6f8a0b1c35"
	batchID  = "i-0f9e8d7c6b5a43210"
)

// stack is a data plane and a control listener carrying the EC2 API and
// the console, as `imds serve` mounts them, over one in-memory store.
type stack struct {
	DataURL    string
	ConsoleURL string // the control listener's base URL
	KeyID      string
	Secret     string
	Store      *mem.Store
	Usage      *audit.Recorder
}

func startStack(t *testing.T) *stack {
	t.Helper()
	ctx := context.Background()
	store := mem.New()
	for _, in := range []*imds.Instance{
		instance(webID, "web-frontend", "127.0.0.1", "203.0.113.25", 1, false),
		instance(legacyID, "legacy-reporting", "127.0.0.2", "", 2, false),
		instance(batchID, "batch-worker", "172.31.7.40", "", 3, true),
	} {
		if err := store.Put(ctx, in); err != nil {
			t.Fatal(err)
		}
	}

	seed := make([]byte, 32)
	rand.Read(seed)
	opts := tree.Options{Creds: creds.NewGenerator(seed, creds.DefaultSchedule)}
	fl := fleet.New(fleet.BySource, func(in *imds.Instance, now time.Time) *tree.Tree { return tree.Build(in, opts, now) })
	followCtx, stop := context.WithCancel(ctx)
	t.Cleanup(stop)
	if err := fl.Follow(followCtx, store, slog.New(slog.DiscardHandler)); err != nil {
		t.Fatal(err)
	}
	ring, err := token.NewKeyRing(time.Now())
	if err != nil {
		t.Fatal(err)
	}
	usage := audit.NewRecorder(audit.Options{LookupsPerSecond: 100})
	data := dataplane.HTTPServer(dataplane.New(dataplane.Config{
		Directory: fl,
		Tokens:    token.NewAuthority(ring, nil),
		Hooks:     dataplane.Hooks{After: usage.Observe},
	}), nil)

	// The key comes from a first-start credentials file, as a user of
	// `imds serve` gets it, and the routes are mounted as serve mounts them.
	keys, _, err := control.EnsureCredentials(filepath.Join(t.TempDir(), control.CredentialsFileName))
	if err != nil {
		t.Fatal(err)
	}
	ctl := control.New(control.Config{Store: store, Apply: fl.Apply, Keys: keys})
	mux := http.NewServeMux()
	mux.Handle("/", ctl)
	mux.Handle("/console/", console.New(console.Config{Store: store, Control: ctl, Usage: usage.Report}))

	s := &stack{
		DataURL:    serve(t, "127.0.0.1:0", data),
		ConsoleURL: serve(t, "127.0.0.1:0", &http.Server{Handler: mux}),
		Store:      store,
		Usage:      usage,
	}
	for id, secret := range keys {
		s.KeyID, s.Secret = id, secret
	}
	return s
}

// instance is the built-in instance renamed and readdressed, with its
// primary private address alone in a /24 of the VPC.
func instance(id, name, private, public string, n int, v2only bool) *imds.Instance {
	in := config.DefaultInstance(time.Now().Add(-time.Duration(n) * 24 * time.Hour))
	in.ID = id
	in.Tags = []imds.Tag{{Key: "Name", Value: name}}
	ni := &in.Interfaces[0]
	addr := netip.MustParseAddr(private)
	ni.ID = fmt.Sprintf("eni-0%016x", n)
	ni.MAC = fmt.Sprintf("0e:49:61:0f:c3:%02x", n)
	ni.PrivateIPv4s = []netip.Addr{addr}
	ni.SubnetIPv4CIDR = netip.PrefixFrom(addr, 24).Masked()
	ni.VPCIPv4CIDRs = []netip.Prefix{netip.PrefixFrom(addr, 16).Masked()}
	ni.PublicIPv4s = nil
	if public != "" {
		ni.PublicIPv4s = []netip.Addr{netip.MustParseAddr(public)}
	}
	if v2only {
		in.Options.HTTPTokens = imds.TokensRequired
	}
	return in
}

// serve runs srv on a free port of a loopback address until the test
// ends and returns its URL.
func serve(t *testing.T, addr string, srv *http.Server) string {
	t.Helper()
	ln, err := net.Listen("tcp", addr)
	if err != nil {
		t.Fatal(err)
	}
	go func() {
		if err := srv.Serve(ln); err != nil && !errors.Is(err, http.ErrServerClosed) {
			t.Errorf("serve: %v", err)
		}
	}()
	t.Cleanup(func() { srv.Close() })
	u := "http://" + ln.Addr().String()
	if err := checkLoopback(u); err != nil {
		t.Fatal(err)
	}
	return u
}

// checkLoopback accepts only an http URL whose host is a loopback IP
// literal; a name could resolve to a real address.
func checkLoopback(endpoint string) error {
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

// tokens returns the instance's http-tokens as stored.
func (s *stack) tokens(t *testing.T, id string) string {
	t.Helper()
	in, err := s.Store.Get(context.Background(), id)
	if err != nil {
		t.Fatal(err)
	}
	return in.Options.HTTPTokens
}
