//go:build linux

// Package netns_test proves the IMDSv2 hop limit the way EC2 enforces it:
// at the IP layer, between real network namespaces. A server namespace and
// a client namespace are joined through a router namespace, so the client
// is one router away. With http-put-response-hop-limit 1 the token answer
// dies at the router and the client's PUT times out; with 2 it arrives;
// GET answers arrive either way.
//
// The tests need root and iproute2. They skip without them, except under
// CI=true, where they fail. All traffic stays inside the namespaces they
// create; nothing is routed to or from the host's own network.
package netns_test

import (
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"strings"
	"sync"
	"testing"
)

// binDir holds the imds binary; TestMain removes it.
var binDir string

func TestMain(m *testing.M) {
	dir, err := os.MkdirTemp("", "imds-netns-")
	if err != nil {
		fmt.Fprintln(os.Stderr, "temp dir:", err)
		os.Exit(1)
	}
	binDir = dir
	code := m.Run()
	os.RemoveAll(dir)
	os.Exit(code)
}

var (
	buildOnce sync.Once
	buildPath string
	buildErr  error
)

// imdsBinary builds ./cmd/imds once for the whole package, on first use, so
// a run that skips every test builds nothing.
func imdsBinary(t *testing.T) string {
	t.Helper()
	buildOnce.Do(func() {
		root, err := moduleRoot()
		if err != nil {
			buildErr = err
			return
		}
		out := filepath.Join(binDir, "imds")
		cmd := exec.Command("go", "build", "-o", out, "./cmd/imds")
		cmd.Dir = root
		if b, err := cmd.CombinedOutput(); err != nil {
			buildErr = fmt.Errorf("build imds: %w\n%s", err, b)
			return
		}
		buildPath = out
	})
	if buildErr != nil {
		t.Fatal(buildErr)
	}
	return buildPath
}

// moduleRoot asks the go command for the module's directory, so the tests
// run from any working directory.
func moduleRoot() (string, error) {
	out, err := exec.Command("go", "list", "-m", "-f", "{{.Dir}}").Output()
	if err != nil {
		return "", fmt.Errorf("go list -m: %w", err)
	}
	dir := strings.TrimSpace(string(out))
	if dir == "" {
		return "", fmt.Errorf("go list -m: not inside a module")
	}
	return dir, nil
}

// skipMsg is what a run without the prerequisites says.
const skipMsg = "hop-limit test needs root and iproute2; CI runs as root"

// requireNetns skips t (fails it under CI=true) unless this process can
// make network namespaces: Linux, root, and the ip command.
func requireNetns(t *testing.T) {
	t.Helper()
	if reason := netnsMissing(); reason != "" {
		unavailable(t, reason)
	}
}

// netnsMissing names the first missing prerequisite, or returns "".
func netnsMissing() string {
	if runtime.GOOS != "linux" {
		return "not linux"
	}
	if os.Geteuid() != 0 {
		return "not root"
	}
	if _, err := exec.LookPath("ip"); err != nil {
		return "ip not found"
	}
	return ""
}

// unavailable ends t because namespaces cannot be made: a failure when CI
// is set, since CI must run this test, and a skip elsewhere.
func unavailable(t *testing.T, reason string) {
	t.Helper()
	if os.Getenv("CI") == "true" {
		t.Fatalf("CI=true but namespaces cannot be made (%s): %s", reason, skipMsg)
	}
	t.Skipf("%s (%s)", skipMsg, reason)
}
