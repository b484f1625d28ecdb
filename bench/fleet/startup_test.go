package fleet_test

import (
	"fmt"
	"slices"
	"testing"
	"time"

	"github.com/imds-dev/imds/test/fleet/harness"
)

// workers is how many requests the load generator keeps in flight.
const workers = 16

// started is a replica serving a generated fleet, with a token for each
// instance once sweep has run.
type started struct {
	r      *harness.Replica
	n      int
	tokens []string
}

// startFleet starts `imds serve --instances FILE --by-source` with n
// instances and reports how long it took until /readyz said 200 and the
// last instance's first IMDSv2 read answered, and the memory it then held.
func startFleet(t *testing.T, n int) *started {
	t.Helper()
	return startFleetWith(t, n, writeInventory(t, n), "")
}

// startFleetWith is startFleet with the inventory in file, a label for the
// report (the kind of start) and extra flags.
func startFleetWith(t *testing.T, n int, file, label string, flags ...string) *started {
	t.Helper()
	start := time.Now()
	r := harness.StartReplica(t, imdsBin, append([]string{"--instances", file, "--by-source"}, flags...)...)
	serving := time.Since(start)
	if _, err := harness.WaitReady(r.ControlURL, time.Minute); err != nil {
		t.Fatal(err)
	}
	ready := time.Since(start)
	c := newClient()
	last := n - 1
	tok, err := token(c, r.DataURL, address(last))
	if err == nil {
		err = getID(c, r.DataURL, address(last), tok, instanceID(last))
	}
	if err != nil {
		t.Fatal(err)
	}
	answered := time.Since(start)
	rss := mustRSS(t, r)
	t.Logf("%d instances%s: serving %v, ready %v, answering %v, RSS %s", n, label, serving, ready, answered, mib(rss))
	report.add(fmt.Sprintf("start-up, %d instances%s: until /readyz 200 and the last instance answers", n, label),
		answered.Round(time.Millisecond).String(), "")
	report.add(fmt.Sprintf("RSS after start, %d instances%s", n, label), mib(rss), "≤ 1 GiB")
	return &started{r: r, n: n}
}

// sweep has every instance take a token and read its instance-id once,
// building what the replica builds on first use, and reports the time and
// the memory held afterwards.
func (s *started) sweep(t *testing.T) {
	t.Helper()
	s.tokens = make([]string, s.n)
	c := newClient()
	start := time.Now()
	err := forEach(s.n, workers, func(i int) error {
		tok, err := token(c, s.r.DataURL, address(i))
		if err != nil {
			return err
		}
		s.tokens[i] = tok
		return getID(c, s.r.DataURL, address(i), tok, instanceID(i))
	})
	if err != nil {
		t.Fatal(err)
	}
	took := time.Since(start)
	rss := mustRSS(t, s.r)
	t.Logf("%d instances: first token and read of each in %v, RSS %s", s.n, took, mib(rss))
	if s.n > 1 {
		report.add(fmt.Sprintf("RSS after each of the %d instances took a token and read once", s.n), mib(rss), "≤ 1 GiB")
	}
}

// Ensure (report, not assert) start-up time, memory and data-plane
// throughput of a large fleet against a one-instance fleet.
func TestFleet_StartUpAndThroughput(t *testing.T) {
	needBench(t)
	big := startFleet(t, fleetSize())
	big.sweep(t)
	one := startFleet(t, 1)
	one.sweep(t)

	// Alternate the two so that a busy neighbour disturbs both alike, and
	// keep the median of three runs each.
	d := runLength()
	var rates, cpus [2][]float64
	for round := range 3 {
		for k, s := range []*started{one, big} {
			res, err := throughput(s.r, s.tokens, workers, d)
			if err != nil {
				t.Fatal(err)
			}
			t.Logf("round %d, %d instances: %.0f reads/s, %v CPU per read, %d failed",
				round+1, s.n, res.rate, res.cpu, res.failed)
			if res.failed > 0 {
				t.Errorf("%d instances: %d reads failed", s.n, res.failed)
			}
			rates[k] = append(rates[k], res.rate)
			cpus[k] = append(cpus[k], float64(res.cpu)/1e3)
		}
	}
	oneRate, bigRate := median(rates[0]), median(rates[1])
	oneCPU, bigCPU := median(cpus[0]), median(cpus[1])
	report.add("data-plane reads/s, 1 instance (IMDSv2 GET, a connection each, median of 3)",
		fmt.Sprintf("%.0f", oneRate), "")
	report.add(fmt.Sprintf("data-plane reads/s, %d instances, each read from the next instance", big.n),
		fmt.Sprintf("%.0f", bigRate), "")
	report.add("throughput ratio, large fleet / 1 instance", fmt.Sprintf("%.2f×", bigRate/oneRate), "≥ 0.9×")
	report.add("server CPU per read, 1 instance", fmt.Sprintf("%.1f µs", oneCPU), "")
	report.add(fmt.Sprintf("server CPU per read, %d instances", big.n), fmt.Sprintf("%.1f µs", bigCPU), "")
	report.add("CPU-per-read ratio, 1 instance / large fleet (throughput the server alone could reach)",
		fmt.Sprintf("%.2f×", oneCPU/bigCPU), "≥ 0.9×")
	report.add(fmt.Sprintf("RSS after the throughput runs, %d instances", big.n), mib(mustRSS(t, big.r)), "≤ 1 GiB")
}

func median(v []float64) float64 {
	s := slices.Sorted(slices.Values(v))
	return s[len(s)/2]
}

func mustRSS(t *testing.T, r *harness.Replica) int64 {
	t.Helper()
	rss, err := r.RSS()
	if err != nil {
		t.Fatal(err)
	}
	return rss
}

func mib(b int64) string { return fmt.Sprintf("%.0f MiB", float64(b)/(1<<20)) }

// Ensure (report, not assert) start-up time and memory of a large fleet
// kept in bbolt: the first start imports the inventory, a restart finds
// every instance stored already.
func TestFleet_StartUpBolt(t *testing.T) {
	needBench(t)
	n := fleetSize()
	file, dir := writeInventory(t, n), t.TempDir()
	first := startFleetWith(t, n, file, ", --data-dir, first start", "--data-dir", dir)
	first.r.Stop(t)
	again := startFleetWith(t, n, file, ", --data-dir, restart", "--data-dir", dir)
	again.r.Stop(t)
}

// Ensure (report, not assert) start-up time and memory of a large fleet
// kept in etcd: the first replica imports the inventory, a second one
// loads it from etcd (and finds nothing new in the file).
func TestFleet_StartUpEtcd(t *testing.T) {
	needBench(t)
	n := fleetSize()
	file, etcd := writeInventory(t, n), harness.StartEtcd(t)
	spec := etcd.Spec("/bench")
	startFleetWith(t, n, file, ", etcd, first replica", "--store", spec)
	startFleetWith(t, n, file, ", etcd, second replica", "--store", spec)
}
