//go:build linux

package netns_test

import (
	"bufio"
	"fmt"
	"os"
	"strconv"
	"strings"
)

// netCounters reads the kernel's SNMP counters of namespace ns, keyed as
// nstat names them: IcmpOutTimeExcds, Icmp6OutTimeExcds, TcpRetransSegs.
func netCounters(ns string) (map[string]int64, error) {
	out := map[string]int64{}
	err := inNetns(ns, func() error {
		// thread-self, not self: only this thread is in ns.
		if err := readPairedSNMP("/proc/thread-self/net/snmp", out); err != nil {
			return err
		}
		return readFlatSNMP("/proc/thread-self/net/snmp6", out)
	})
	return out, err
}

// readPairedSNMP reads /proc/net/snmp, where a line of names ("Tcp: A B")
// is followed by a line of values ("Tcp: 1 2").
func readPairedSNMP(path string, out map[string]int64) error {
	data, err := os.ReadFile(path)
	if err != nil {
		return fmt.Errorf("read counters: %w", err)
	}
	lines := strings.Split(strings.TrimSpace(string(data)), "\n")
	for i := 0; i+1 < len(lines); i += 2 {
		names, values := strings.Fields(lines[i]), strings.Fields(lines[i+1])
		if len(names) != len(values) || len(names) == 0 {
			return fmt.Errorf("read counters: odd line pair in %s", path)
		}
		proto := strings.TrimSuffix(names[0], ":")
		for j := 1; j < len(names); j++ {
			v, _ := strconv.ParseInt(values[j], 10, 64)
			out[proto+names[j]] = v
		}
	}
	return nil
}

// readFlatSNMP reads /proc/net/snmp6: one "Name value" pair a line.
func readFlatSNMP(path string, out map[string]int64) error {
	f, err := os.Open(path)
	if err != nil {
		return fmt.Errorf("read counters: %w", err)
	}
	defer f.Close()
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		if kv := strings.Fields(sc.Text()); len(kv) == 2 {
			v, _ := strconv.ParseInt(kv[1], 10, 64)
			out[kv[0]] = v
		}
	}
	return sc.Err()
}

// packetLoss says what the kernels saw, for failure messages: how many
// packets died at the router for want of TTL, and how many segments the
// server sent again. A token that arrives although the router dropped its
// first copy was resent with a larger TTL.
func (tp *topology) packetLoss() string {
	rtr, err := netCounters(tp.rtr)
	if err != nil {
		return err.Error()
	}
	srv, err := netCounters(tp.srv)
	if err != nil {
		return err.Error()
	}
	return fmt.Sprintf("so far the router sent %d ICMP and %d ICMPv6 time-exceeded, the server retransmitted %d TCP segments",
		rtr["IcmpOutTimeExcds"], rtr["Icmp6OutTimeExcds"], srv["TcpRetransSegs"])
}
