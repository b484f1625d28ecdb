// Package harness runs the pieces of an imds fleet as separate processes
// for the fleet scenarios (test/fleet) and benchmarks (bench/fleet): the
// `imds serve` binary, an etcd they share, and clients that speak to them
// from chosen loopback source addresses. Everything it starts listens on
// 127.0.0.1 and is stopped when the test that started it ends.
package harness

import (
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
)

// Build compiles cmd/imds into dir and returns the binary's path. With race
// set the binary carries the race detector, so that a race in a replica is
// seen by the test that drives it (see [Replica]).
func Build(dir string, race bool) (string, error) {
	bin := filepath.Join(dir, "imds")
	args := []string{"build", "-o", bin}
	if race {
		args = append(args, "-race")
	}
	cmd := exec.Command("go", append(args, "github.com/imds-dev/imds/cmd/imds")...)
	cmd.Stdout, cmd.Stderr = os.Stderr, os.Stderr
	if err := cmd.Run(); err != nil {
		return "", fmt.Errorf("build imds: %w", err)
	}
	return bin, nil
}
