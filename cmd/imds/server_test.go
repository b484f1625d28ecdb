package main

import (
	"context"
	"io"
	"log/slog"
	"net/http"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/imds-dev/imds/config"
)

// startForTest runs startServer on free loopback ports with data dir dir.
func startForTest(t *testing.T, dir string, extra ...string) *server {
	t.Helper()
	t.Setenv("XDG_STATE_HOME", t.TempDir())
	args := append([]string{"--listen", "127.0.0.1:0", "--control-listen", "127.0.0.1:0", "--data-dir", dir}, extra...)
	f, err := parseServeFlags(args, io.Discard)
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	srv, err := startServer(ctx, f, config.Default(time.Now()), slog.New(slog.DiscardHandler))
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

// TestParseServeFlags_Refuses checks flag values refused at start.
func TestParseServeFlags_Refuses(t *testing.T) {
	// Ensure a token-key rotation too short to be meaningful is refused.
	for _, v := range []string{"0s", "-1h", "1ns"} {
		if _, err := parseServeFlags([]string{"--token-key-rotation", v}, io.Discard); err == nil {
			t.Errorf("--token-key-rotation %s accepted", v)
		}
	}
}
