package audit

import (
	"encoding/binary"
	"fmt"
	"net/netip"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// kernelHex prints an address and port as the kernel's tcp tables do.
func kernelHex(ap netip.AddrPort) string {
	raw := ap.Addr().AsSlice()
	var b strings.Builder
	for i := 0; i < len(raw); i += 4 {
		fmt.Fprintf(&b, "%08X", binary.NativeEndian.Uint32(raw[i:]))
	}
	return fmt.Sprintf("%s:%04X", b.String(), ap.Port())
}

// tcpLine is one row of a tcp table.
func tcpLine(local, remote netip.AddrPort, inode uint64) string {
	return fmt.Sprintf("   0: %s %s 01 00000000:00000000 00:00000000 00000000     0        0 %d 1 0000000000000000 20 4 30 10 -1\n",
		kernelHex(local), kernelHex(remote), inode)
}

const tcpHeader = "  sl  local_address rem_address   st tx_queue rx_queue tr tm->when retrnsmt   uid  timeout inode\n"

// fakeProc writes files under a temporary procfs root.
func fakeProc(t *testing.T, files map[string]string, links map[string]string) string {
	t.Helper()
	root := t.TempDir()
	for name, body := range files {
		p := filepath.Join(root, name)
		os.MkdirAll(filepath.Dir(p), 0o755)
		if err := os.WriteFile(p, []byte(body), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	for name, target := range links {
		p := filepath.Join(root, name)
		os.MkdirAll(filepath.Dir(p), 0o755)
		if err := os.Symlink(target, p); err != nil {
			t.Fatal(err)
		}
	}
	return root
}

// TestParseHexAddrPort decodes the kernel's notation.
func TestParseHexAddrPort(t *testing.T) {
	// Ensure IPv4 and IPv6 addresses round-trip through the kernel's
	// notation, and a literal little-endian row decodes as expected.
	for _, s := range []string{"127.0.0.1:1337", "127.0.0.2:65535", "[::1]:80", "[::ffff:127.0.0.1]:1338", "[2001:db8::254]:1"} {
		t.Run(s, func(t *testing.T) {
			want := netip.MustParseAddrPort(s)
			got, err := parseHexAddrPort(kernelHex(want))
			if err != nil || got != want {
				t.Errorf("parseHexAddrPort(%q) = %v, %v, want %v", kernelHex(want), got, err, want)
			}
		})
	}
	if binary.NativeEndian.Uint16([]byte{1, 0}) == 1 { // little-endian host
		got, err := parseHexAddrPort("0100007F:0539")
		if want := netip.MustParseAddrPort("127.0.0.1:1337"); err != nil || got != want {
			t.Errorf("parseHexAddrPort(0100007F:0539) = %v, %v, want %v", got, err, want)
		}
	}
	for _, bad := range []string{"", "0100007F", "0100007:0539", "0100007F:zz", "0100007F:10000", "01000:01"} {
		if _, err := parseHexAddrPort(bad); err == nil {
			t.Errorf("parseHexAddrPort(%q) accepted", bad)
		}
	}
}

// TestScanTables reads fake tcp tables.
func TestScanTables(t *testing.T) {
	// Ensure the client's end is found, not the server's, in either table,
	// and TIME_WAIT rows (inode 0) are passed over.
	server := netip.MustParseAddrPort("127.0.0.1:1338")
	client := netip.MustParseAddrPort("127.0.0.1:40001")
	server6 := netip.MustParseAddrPort("[::1]:1338")
	client6 := netip.MustParseAddrPort("[::1]:40001")
	mapped := func(ap netip.AddrPort) netip.AddrPort {
		return netip.AddrPortFrom(netip.AddrFrom16(ap.Addr().As16()), ap.Port())
	}
	tests := []struct {
		name           string
		tcp, tcp6      string
		client, server netip.AddrPort
		want           uint64
	}{
		{"ipv4", tcpLine(server, client, 111) + tcpLine(client, server, 222), "", client, server, 222},
		{"time-wait passed over", tcpLine(client, server, 0) + tcpLine(client, server, 333), "", client, server, 333},
		{"ipv6", "", tcpLine(server6, client6, 111) + tcpLine(client6, server6, 444), client6, server6, 444},
		{"ipv4 on an ipv6 socket", "", tcpLine(mapped(client), mapped(server), 555), client, server, 555},
		{"absent", tcpLine(server, client, 111), "", client, server, 0},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			root := fakeProc(t, map[string]string{"net/tcp": tcpHeader + tt.tcp, "net/tcp6": tcpHeader + tt.tcp6}, nil)
			got, err := scanTables(root, tt.client, tt.server)
			if got != tt.want || (tt.want == 0) != (err != nil) {
				t.Errorf("scanTables = %d, %v, want %d", got, err, tt.want)
			}
		})
	}
}

// TestSocketOwner walks fake descriptor links.
func TestSocketOwner(t *testing.T) {
	// Ensure the process holding the socket is found, whether or not it is
	// among the likely pids, its command line is made printable, and a
	// process without one is named by comm.
	root := fakeProc(t, map[string]string{
		"42/cmdline": "python3\x00-c\x00print(1)\x1b[2J\x00",
		"43/comm":    "kworker\n",
		"self/fd/x":  "",
	}, map[string]string{
		"7/fd/0":  "/dev/null",
		"42/fd/3": "socket:[9999]",
		"42/fd/4": "socket:[1234]",
		"43/fd/5": "socket:[777]",
	})
	tests := []struct {
		name    string
		inode   uint64
		likely  []int
		pid     int
		command string
	}{
		{"walk", 1234, nil, 42, "python3 -c print(1)?[2J"},
		{"likely", 1234, []int{42}, 42, "python3 -c print(1)?[2J"},
		{"likely others", 777, []int{42, 99}, 43, "[kworker]"},
		{"absent", 5, []int{42}, 0, ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			pid, err := socketOwner(root, tt.inode, tt.likely)
			if pid != tt.pid || (tt.pid == 0) != (err != nil) {
				t.Fatalf("socketOwner(%d) = %d, %v, want %d", tt.inode, pid, err, tt.pid)
			}
			if pid == 0 {
				return
			}
			if got := readCommand(root, fmt.Sprint(pid)); got != tt.command {
				t.Errorf("readCommand(%d) = %q, want %q", pid, got, tt.command)
			}
		})
	}
}
