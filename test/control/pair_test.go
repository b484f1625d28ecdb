// Package control_test runs the control plane and the data plane together,
// in this process (pair) and as `imds serve` (startServe), and drives them
// with the real AWS CLI, boto3, curl and aws-sdk-go-v2 to show that a
// control call changes what the data plane serves by the time its answer
// arrives.
package control_test

import (
	"context"
	"crypto/rand"
	"errors"
	"log/slog"
	"net"
	"net/http"
	"path/filepath"
	"testing"
	"time"

	"github.com/imds-dev/imds"
	"github.com/imds-dev/imds/config"
	"github.com/imds-dev/imds/control"
	"github.com/imds-dev/imds/creds"
	"github.com/imds-dev/imds/dataplane"
	"github.com/imds-dev/imds/fleet"
	"github.com/imds-dev/imds/store/mem"
	"github.com/imds-dev/imds/token"
	"github.com/imds-dev/imds/tree"
)

const instanceID = "i-0123456789abcdef0"

// pair is a data plane and a control plane over one in-memory store, each
// on its own loopback port.
type pair struct {
	DataURL    string // the metadata endpoint
	ControlURL string // the EC2 API endpoint
	CredsFile  string // shared-credentials file holding the control key
	KeyID      string
	Secret     string
	Store      *mem.Store
	Fleet      *fleet.Fleet
}

func startPair(t testing.TB) *pair {
	t.Helper()
	ctx := context.Background()
	store := mem.New()
	if err := store.Put(ctx, config.DefaultInstance(time.Now())); err != nil {
		t.Fatal(err)
	}

	seed := make([]byte, 32)
	rand.Read(seed)
	opts := tree.Options{Creds: creds.NewGenerator(seed, creds.DefaultSchedule)}
	f := fleet.New(fleet.Everyone, func(in *imds.Instance, now time.Time) *tree.Tree { return tree.Build(in, opts, now) })
	followCtx, stop := context.WithCancel(ctx)
	t.Cleanup(stop)
	if err := f.Follow(followCtx, store, slog.New(slog.DiscardHandler)); err != nil {
		t.Fatal(err)
	}
	ring, err := token.NewKeyRing(time.Now())
	if err != nil {
		t.Fatal(err)
	}
	data := dataplane.HTTPServer(dataplane.New(dataplane.Config{
		Directory: f,
		Tokens:    token.NewAuthority(ring, nil),
	}), nil)

	// The control key comes from a first-start credentials file, as a user
	// of `imds serve` gets it.
	credsFile := filepath.Join(t.TempDir(), control.CredentialsFileName)
	keys, _, err := control.EnsureCredentials(credsFile)
	if err != nil {
		t.Fatal(err)
	}
	ctl := &http.Server{Handler: control.New(control.Config{Store: store, Apply: f.Apply, Keys: keys})}

	p := &pair{
		DataURL:    serve(t, data),
		ControlURL: serve(t, ctl),
		CredsFile:  credsFile,
		Store:      store,
		Fleet:      f,
	}
	for id, secret := range keys {
		p.KeyID, p.Secret = id, secret
	}
	return p
}

// serve runs srv on a free loopback port until the test ends and returns
// its URL.
func serve(t testing.TB, srv *http.Server) string {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	go func() {
		if err := srv.Serve(ln); err != nil && !errors.Is(err, http.ErrServerClosed) {
			t.Errorf("serve: %v", err)
		}
	}()
	t.Cleanup(func() { srv.Close() })
	return "http://" + ln.Addr().String()
}

// plainGet sends a token-less GET to the data plane, as curl does, and
// returns the status.
func (p *pair) plainGet(t testing.TB, path string) (int, string) {
	t.Helper()
	resp, err := http.Get(p.DataURL + path)
	if err != nil {
		t.Fatalf("GET %s: %v", path, err)
	}
	defer resp.Body.Close()
	var b [4096]byte
	n, _ := resp.Body.Read(b[:])
	return resp.StatusCode, string(b[:n])
}
