// Package clients_test runs real AWS clients (aws-sdk-go-v2, botocore, the
// AWS CLI, the JavaScript SDK's IMDS provider, cloud-init and openssl)
// against `imds serve` on loopback, to show they cannot tell it from EC2.
//
// Each test starts its own server on a free 127.0.0.1 port. Clients that
// are not installed fail the test when CI is set and skip it otherwise.
package clients_test

import (
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
)

// imdsBin is the imds binary built once by TestMain.
var imdsBin string

// moduleRoot is the directory holding the repository's go.mod.
var moduleRoot string

func TestMain(m *testing.M) {
	os.Exit(run(m))
}

func run(m *testing.M) int {
	dir, err := os.MkdirTemp("", "imds-clients-")
	if err != nil {
		fmt.Fprintln(os.Stderr, "temp dir:", err)
		return 1
	}
	defer os.RemoveAll(dir)

	root, err := findModuleRoot()
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		return 1
	}
	moduleRoot = root
	imdsBin = filepath.Join(dir, "imds")
	build := exec.Command("go", "build", "-o", imdsBin, "./cmd/imds")
	build.Dir = root
	if out, err := build.CombinedOutput(); err != nil {
		fmt.Fprintf(os.Stderr, "build imds: %v\n%s", err, out)
		return 1
	}
	return m.Run()
}

// findModuleRoot asks the go command where the module's go.mod is, so the
// tests work from any working directory.
func findModuleRoot() (string, error) {
	out, err := exec.Command("go", "env", "GOMOD").Output()
	if err != nil {
		return "", fmt.Errorf("go env GOMOD: %w", err)
	}
	gomod := strings.TrimSpace(string(out))
	if gomod == "" || gomod == os.DevNull {
		return "", fmt.Errorf("go env GOMOD: not inside a module")
	}
	return filepath.Dir(gomod), nil
}
