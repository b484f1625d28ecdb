// Package fleet_test measures `imds serve` with a large fleet, as separate
// processes on loopback: start-up and memory with 100k instances from a
// describe-instances file, data-plane throughput against a one-instance
// fleet, and how fast a change made through one replica is enforced by
// another through etcd. It reports figures and asserts none; it runs only
// with IMDS_BENCH_FLEET=1:
//
//	IMDS_BENCH_FLEET=1 go test -count=1 -timeout 30m -v ./bench/fleet/
//
// IMDS_BENCH_INSTANCES sets the fleet size (default 100000) and
// IMDS_BENCH_DURATION each throughput run (default 10s). The table at the
// end is the one kept in README.md.
package fleet_test

import (
	"fmt"
	"os"
	"path/filepath"
	"strconv"
	"sync"
	"testing"
	"time"

	"github.com/imds-dev/imds/test/fleet/harness"
)

// imdsBin is the imds binary, built without the race detector.
var imdsBin string

func TestMain(m *testing.M) {
	os.Exit(run(m))
}

func run(m *testing.M) int {
	if os.Getenv("IMDS_BENCH_FLEET") != "1" {
		return m.Run() // every test skips
	}
	dir, err := os.MkdirTemp("", "imds-bench-fleet-")
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		return 1
	}
	defer os.RemoveAll(dir)
	if imdsBin, err = harness.Build(dir, false); err != nil {
		fmt.Fprintln(os.Stderr, err)
		return 1
	}
	// After the build, which needs the real HOME for Go's caches: the
	// replicas and SDK clients read no AWS configuration.
	home := filepath.Join(dir, "home")
	os.Mkdir(home, 0o700)
	os.Setenv("HOME", home)
	for _, name := range []string{"AWS_PROFILE", "AWS_CONFIG_FILE", "AWS_SHARED_CREDENTIALS_FILE"} {
		os.Unsetenv(name)
	}
	os.Setenv("AWS_EC2_METADATA_SERVICE_ENDPOINT", "http://127.0.0.1:1338")

	code := m.Run()
	report.print()
	return code
}

// needBench skips t unless the benchmarks were asked for.
func needBench(t *testing.T) {
	t.Helper()
	if os.Getenv("IMDS_BENCH_FLEET") != "1" {
		t.Skip("set IMDS_BENCH_FLEET=1 to run the fleet benchmarks")
	}
}

// fleetSize is IMDS_BENCH_INSTANCES, or 100000.
func fleetSize() int {
	if n, err := strconv.Atoi(os.Getenv("IMDS_BENCH_INSTANCES")); err == nil && n > 0 {
		return n
	}
	return 100_000
}

// runLength is IMDS_BENCH_DURATION, or 10 seconds.
func runLength() time.Duration {
	if d, err := time.ParseDuration(os.Getenv("IMDS_BENCH_DURATION")); err == nil && d > 0 {
		return d
	}
	return 10 * time.Second
}

// report collects the table printed at the end.
var report table

type table struct {
	mu   sync.Mutex // guards rows
	rows [][3]string
}

// add records one figure with its target ("" when it has none).
func (tb *table) add(what, value, target string) {
	tb.mu.Lock()
	defer tb.mu.Unlock()
	tb.rows = append(tb.rows, [3]string{what, value, target})
}

func (tb *table) print() {
	tb.mu.Lock()
	defer tb.mu.Unlock()
	if len(tb.rows) == 0 {
		return
	}
	fmt.Println("\n| measurement | value | target |")
	fmt.Println("|---|---|---|")
	for _, r := range tb.rows {
		fmt.Printf("| %s | %s | %s |\n", r[0], r[1], r[2])
	}
}
