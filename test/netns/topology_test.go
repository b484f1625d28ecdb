//go:build linux

package netns_test

import (
	"fmt"
	"os"
	"os/exec"
	"regexp"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
)

// Addresses inside the namespaces. The server and the router share one
// link (10.213.1.0/24, fd00:213:1::/64), the router and the client another
// (10.213.2.0/24, fd00:213:2::/64). No namespace has a default route, so
// nothing can leave them.
const (
	srvV4    = "10.213.1.1"
	rtrSrvV4 = "10.213.1.2"
	rtrCliV4 = "10.213.2.1"
	cliV4    = "10.213.2.2"
	srvV6    = "fd00:213:1::1"
	rtrSrvV6 = "fd00:213:1::2"
	rtrCliV6 = "fd00:213:2::1"
	cliV6    = "fd00:213:2::2"
)

// topology is three network namespaces in a line, server - router -
// client, so the client is one router (two hops) from the server and the
// router is one hop from it.
type topology struct {
	srv, rtr, cli string
}

// nsName matches the namespaces these tests make: imds-PID-N-ROLE.
var nsName = regexp.MustCompile(`^imds-([0-9]+)-[0-9]+-(srv|rtr|cli)$`)

var topologies atomic.Int32

// newTopology builds a fresh topology, removed again when t ends, whether
// it passes or fails. It skips t (fails it under CI=true) when this
// process cannot make namespaces.
func newTopology(t *testing.T) *topology {
	t.Helper()
	requireNetns(t)
	sweepLeftovers(t)

	base := fmt.Sprintf("imds-%d-%d", os.Getpid(), topologies.Add(1))
	tp := &topology{srv: base + "-srv", rtr: base + "-rtr", cli: base + "-cli"}
	for i, ns := range []string{tp.srv, tp.rtr, tp.cli} {
		if err := ip("netns", "add", ns); err != nil {
			if i == 0 {
				unavailable(t, err.Error())
			}
			t.Fatal(err)
		}
		t.Cleanup(func() {
			if err := ip("netns", "del", ns); err != nil {
				t.Errorf("remove namespace: %v", err)
			}
		})
	}

	steps := [][]string{
		{"-n", tp.srv, "link", "set", "lo", "up"},
		{"-n", tp.rtr, "link", "set", "lo", "up"},
		{"-n", tp.cli, "link", "set", "lo", "up"},
		// Each veth pair is made inside a namespace with its peer put
		// straight into the router, so the host never sees either end.
		{"-n", tp.srv, "link", "add", "s0", "type", "veth", "peer", "name", "r0", "netns", tp.rtr},
		{"-n", tp.cli, "link", "add", "c0", "type", "veth", "peer", "name", "r1", "netns", tp.rtr},
		{"-n", tp.srv, "addr", "add", srvV4 + "/24", "dev", "s0"},
		{"-n", tp.rtr, "addr", "add", rtrSrvV4 + "/24", "dev", "r0"},
		{"-n", tp.rtr, "addr", "add", rtrCliV4 + "/24", "dev", "r1"},
		{"-n", tp.cli, "addr", "add", cliV4 + "/24", "dev", "c0"},
		// nodad: the addresses are usable at once instead of after
		// duplicate address detection.
		{"-n", tp.srv, "addr", "add", srvV6 + "/64", "dev", "s0", "nodad"},
		{"-n", tp.rtr, "addr", "add", rtrSrvV6 + "/64", "dev", "r0", "nodad"},
		{"-n", tp.rtr, "addr", "add", rtrCliV6 + "/64", "dev", "r1", "nodad"},
		{"-n", tp.cli, "addr", "add", cliV6 + "/64", "dev", "c0", "nodad"},
		{"-n", tp.srv, "link", "set", "s0", "up"},
		{"-n", tp.rtr, "link", "set", "r0", "up"},
		{"-n", tp.rtr, "link", "set", "r1", "up"},
		{"-n", tp.cli, "link", "set", "c0", "up"},
		// Only the two test subnets are routed, through the router.
		{"-n", tp.srv, "route", "add", "10.213.2.0/24", "via", rtrSrvV4},
		{"-n", tp.srv, "-6", "route", "add", "fd00:213:2::/64", "via", rtrSrvV6},
		{"-n", tp.cli, "route", "add", "10.213.1.0/24", "via", rtrCliV4},
		{"-n", tp.cli, "-6", "route", "add", "fd00:213:1::/64", "via", rtrCliV6},
	}
	for _, args := range steps {
		if err := ip(args...); err != nil {
			t.Fatal(err)
		}
	}
	err := inNetns(tp.rtr, func() error {
		for _, knob := range []string{"ipv4/ip_forward", "ipv6/conf/all/forwarding"} {
			if err := os.WriteFile("/proc/sys/net/"+knob, []byte("1"), 0o644); err != nil {
				return fmt.Errorf("enable forwarding: %w", err)
			}
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	return tp
}

// ip runs the ip command; its error carries the command and its output.
func ip(args ...string) error {
	out, err := exec.Command("ip", args...).CombinedOutput()
	if err != nil {
		return fmt.Errorf("ip %s: %w: %s", strings.Join(args, " "), err, strings.TrimSpace(string(out)))
	}
	return nil
}

var sweepOnce sync.Once

// sweepLeftovers removes the namespaces of earlier runs that died before
// their cleanup ran, and the imds servers still inside them. Namespaces of
// a run that is still alive are left alone.
func sweepLeftovers(t *testing.T) {
	sweepOnce.Do(func() {
		entries, err := os.ReadDir("/run/netns")
		if err != nil {
			return // no namespaces at all yet
		}
		for _, e := range entries {
			m := nsName.FindStringSubmatch(e.Name())
			if m == nil || m[1] == strconv.Itoa(os.Getpid()) {
				continue
			}
			if alive(m[1]) {
				continue // that run is still going
			}
			killServersIn(e.Name())
			if err := ip("netns", "del", e.Name()); err != nil {
				t.Logf("remove leftover namespace: %v", err)
			}
		}
	})
}

// alive reports whether process pid exists and is not a zombie: a killed
// run stays a zombie until it is reaped, which can take a while in a
// container whose init does not reap.
func alive(pid string) bool {
	stat, err := os.ReadFile("/proc/" + pid + "/stat")
	if err != nil {
		return false
	}
	// The state follows the command name, which is in parentheses.
	i := strings.LastIndexByte(string(stat), ')')
	return i < 0 || i+2 >= len(stat) || stat[i+2] != 'Z'
}

// killServersIn kills the imds processes left in namespace ns.
func killServersIn(ns string) {
	out, err := exec.Command("ip", "netns", "pids", ns).Output()
	if err != nil {
		return
	}
	for _, f := range strings.Fields(string(out)) {
		pid, err := strconv.Atoi(f)
		if err != nil {
			continue
		}
		comm, err := os.ReadFile(fmt.Sprintf("/proc/%d/comm", pid))
		if err != nil || strings.TrimSpace(string(comm)) != "imds" {
			continue
		}
		if p, err := os.FindProcess(pid); err == nil {
			p.Kill()
		}
	}
}
