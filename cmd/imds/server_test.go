package main

import (
	"bytes"
	"context"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/imds-dev/imds/config"
	"github.com/imds-dev/imds/store/etcd/etcdtest"
)

// startForTest runs startServer on free loopback ports with data dir dir.
func startForTest(t *testing.T, dir string, extra ...string) *server {
	t.Helper()
	t.Setenv("XDG_STATE_HOME", t.TempDir())
	ctx, cancel := context.WithCancel(context.Background())
	srv, err := startArgs(ctx, append([]string{"--data-dir", dir}, extra...)...)
	if err != nil {
		cancel()
		t.Fatal(err)
	}
	t.Cleanup(func() {
		srv.Shutdown(context.Background())
		cancel()
	})
	return srv
}

// startArgs runs startServer with args on free loopback ports and the
// built-in instance. It reports failure rather than failing a test, so it
// may run off the test's goroutine; the caller shuts the server down.
func startArgs(ctx context.Context, args ...string) (*server, error) {
	args = append([]string{"--listen", "127.0.0.1:0", "--control-listen", "127.0.0.1:0"}, args...)
	f, err := parseServeFlags(args, io.Discard)
	if err != nil {
		return nil, err
	}
	return startServer(ctx, f, config.Default(time.Now()), slog.New(slog.DiscardHandler))
}

func getBody(t *testing.T, base, path string) string {
	t.Helper()
	resp, err := http.Get(base + path)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return string(b)
}

// TestServer_DataDirKeepsKeys checks what a restart on one data directory
// keeps.
func TestServer_DataDirKeepsKeys(t *testing.T) {
	// Ensure the identity certificate and the role credentials survive a
	// restart, so verifiers and clients holding them keep working.
	dir := t.TempDir()
	cert1, cert2 := filepath.Join(dir, "c1.pem"), filepath.Join(dir, "c2.pem")
	const creds = "/latest/meta-data/iam/security-credentials/app-role"

	srv := startForTest(t, dir, "--identity-cert", cert1)
	before := getBody(t, endpointURL(srv.addrs[0]), creds)
	srv.Shutdown(context.Background())

	srv = startForTest(t, dir, "--identity-cert", cert2)
	after := getBody(t, endpointURL(srv.addrs[0]), creds)

	a, _ := os.ReadFile(cert1)
	b, _ := os.ReadFile(cert2)
	if len(a) == 0 || string(a) != string(b) {
		t.Error("identity certificate changed across a restart")
	}
	if before != after {
		t.Errorf("credentials changed across a restart:\n%s\n%s", before, after)
	}
}

// TestServer_SharedStore checks what replicas on one store share.
func TestServer_SharedStore(t *testing.T) {
	// Ensure two replicas started at once on one etcd serve the same role
	// credentials and sign with the same certificate, so a client balanced
	// across them sees no flip and a verifier needs one certificate.
	etcd := etcdtest.Start(t)
	t.Setenv("XDG_STATE_HOME", t.TempDir())
	spec := "etcd://" + strings.TrimPrefix(etcd.Endpoint, "http://") + "/replicas"
	dir := t.TempDir()
	ctx, cancel := context.WithCancel(context.Background())
	t.Cleanup(cancel)

	// Both start together, so both find the store without secrets and race
	// to create them.
	var srvs [2]*server
	var errs [2]error
	var certs [2]string
	var wg sync.WaitGroup
	for i := range srvs {
		certs[i] = filepath.Join(dir, fmt.Sprintf("cert%d.pem", i))
		own := filepath.Join(dir, fmt.Sprintf("replica%d", i))
		wg.Go(func() {
			srvs[i], errs[i] = startArgs(ctx, "--store", spec, "--data-dir", own, "--identity-cert", certs[i])
		})
	}
	wg.Wait()
	for i, srv := range srvs {
		if srv != nil {
			t.Cleanup(func() { srv.Shutdown(context.Background()) })
		}
		if errs[i] != nil {
			t.Fatalf("replica %d: %v", i, errs[i])
		}
	}

	const creds = "/latest/meta-data/iam/security-credentials/app-role"
	a := getBody(t, endpointURL(srvs[0].addrs[0]), creds)
	b := getBody(t, endpointURL(srvs[1].addrs[0]), creds)
	if !strings.Contains(a, "AccessKeyId") || a != b {
		t.Errorf("replicas serve different credentials:\n%s\n%s", a, b)
	}
	c0, _ := os.ReadFile(certs[0])
	c1, _ := os.ReadFile(certs[1])
	if len(c0) == 0 || !bytes.Equal(c0, c1) {
		t.Error("replicas sign with different identity certificates")
	}
}

// TestParseServeFlags_Refuses checks flag values refused at start.
func TestParseServeFlags_Refuses(t *testing.T) {
	// Ensure a token-key rotation too short to be meaningful is refused.
	for _, v := range []string{"0s", "-1h", "1ns"} {
		if _, err := parseServeFlags([]string{"--token-key-rotation", v}, io.Discard); err == nil {
			t.Errorf("--token-key-rotation %s accepted", v)
		}
	}
}
