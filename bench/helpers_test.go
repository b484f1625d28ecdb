package bench

import (
	"bytes"
	"crypto/rand"
	"os"
	"runtime"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/imds-dev/imds"
	"github.com/imds-dev/imds/creds"
	"github.com/imds-dev/imds/fleet"
	"github.com/imds-dev/imds/inventory"
	"github.com/imds-dev/imds/tree"
)

// fleetSize is the number of instances of the large-fleet benchmarks:
// IMDS_BENCH_INSTANCES, or 100000.
func fleetSize() int {
	if n, err := strconv.Atoi(os.Getenv("IMDS_BENCH_INSTANCES")); err == nil && n > 0 {
		return n
	}
	return 100_000
}

// generate returns n parsed instances and the size of their JSON.
func generate(tb testing.TB, n int) ([]*imds.Instance, int) {
	tb.Helper()
	var buf bytes.Buffer
	if err := WriteDescribeInstances(&buf, n); err != nil {
		tb.Fatal(err)
	}
	size := buf.Len()
	ins, err := inventory.Parse(&buf)
	if err != nil {
		tb.Fatal(err)
	}
	return ins, size
}

// newFleet returns an empty fleet rendering trees as `imds serve` does,
// less the identity signatures.
func newFleet() *fleet.Fleet {
	seed := make([]byte, 32)
	rand.Read(seed)
	opts := tree.Options{Creds: creds.NewGenerator(seed, creds.DefaultSchedule)}
	return fleet.New(fleet.BySource, func(in *imds.Instance, now time.Time) *tree.Tree {
		return tree.Build(in, opts, now)
	})
}

// memory returns the heap in use after a collection and the process's
// resident set, in MiB.
func memory() (heap, rss float64) {
	runtime.GC()
	var ms runtime.MemStats
	runtime.ReadMemStats(&ms)
	heap = float64(ms.HeapAlloc) / (1 << 20)
	status, _ := os.ReadFile("/proc/self/status")
	for line := range strings.Lines(string(status)) {
		if f := strings.Fields(line); len(f) >= 2 && f[0] == "VmRSS:" {
			kb, _ := strconv.ParseFloat(f[1], 64)
			rss = kb / 1024
		}
	}
	return heap, rss
}

func since(t time.Time) float64 { return time.Since(t).Seconds() }
