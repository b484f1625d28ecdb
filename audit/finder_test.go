package audit

import (
	"fmt"
	"net/netip"
	"os"
	"path/filepath"
	"testing"
	"time"
)

// noNetlink stands for a host where sock_diag cannot be asked.
func noNetlink(client, server netip.AddrPort) (uint64, error) {
	return 0, fmt.Errorf("%w: socket: protocol not supported", errNoNetlink)
}

// TestFinder_Find checks degradation and the rate cap.
func TestFinder_Find(t *testing.T) {
	// Ensure an unreadable /proc fails softly with a reason, a socket seen
	// before comes from the cache, lookups beyond the cap are skipped and
	// counted, and a negative rate turns lookups off.
	client := netip.MustParseAddrPort("127.0.0.1:40001")
	server := netip.MustParseAddrPort("127.0.0.1:1338")

	f := newFinder(filepath.Join(t.TempDir(), "missing"), 100, time.Now)
	f.supported = true // as on Linux, whatever runs the test
	f.inode = noNetlink
	if _, ok := f.find(client, server); ok {
		t.Fatal("found a process without /proc")
	}
	if st := f.stats(); st.Failed != 1 || st.LastError == "" {
		t.Errorf("stats = %+v, want one failure with a reason", st)
	}

	root := fakeProc(t, map[string]string{"net/tcp": tcpHeader + tcpLine(client, server, 1234), "42/cmdline": "curl\x00"},
		map[string]string{"42/fd/3": "socket:[1234]"})
	f = newFinder(root, 1, time.Now) // a burst of two, then one a second
	f.supported = true
	f.inode = noNetlink
	for range 2 {
		if p, ok := f.find(client, server); !ok || p.PID != 42 || p.Command != "curl" {
			t.Fatalf("find = %+v, %v, want pid 42 curl", p, ok)
		}
	}
	if _, ok := f.find(client, server); ok {
		t.Error("third lookup ran past the rate cap")
	}
	if st := f.stats(); st.Found != 2 || st.Cached != 1 || st.Limited != 1 || st.Failed != 0 {
		t.Errorf("stats = %+v, want two found (one cached), one limited", st)
	}

	f = newFinder(root, -1, time.Now)
	if _, ok := f.find(client, server); ok || f.stats() != (LookupStats{}) {
		t.Errorf("lookups turned off: found %v, stats %+v", ok, f.stats())
	}
}

// TestFinder_SocketInode checks when the tcp tables are read.
func TestFinder_SocketInode(t *testing.T) {
	// Ensure the tables are read only when sock_diag cannot be asked, not
	// when it answers or knows no such socket.
	client := netip.MustParseAddrPort("127.0.0.1:40001")
	server := netip.MustParseAddrPort("127.0.0.1:1338")
	root := fakeProc(t, map[string]string{"net/tcp": tcpHeader + tcpLine(client, server, 1234), "net/tcp6": tcpHeader}, nil)
	tests := []struct {
		name  string
		diag  func(client, server netip.AddrPort) (uint64, error)
		want  uint64
		isErr error
	}{
		{"sock_diag answers", func(netip.AddrPort, netip.AddrPort) (uint64, error) { return 99, nil }, 99, nil},
		{"sock_diag knows no socket", func(netip.AddrPort, netip.AddrPort) (uint64, error) { return 0, errNoSocket }, 0, errNoSocket},
		{"sock_diag unavailable", noNetlink, 1234, nil},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			f := newFinder(root, 100, time.Now)
			f.inode = tt.diag
			got, err := f.socketInode(client, server)
			if got != tt.want || err != tt.isErr {
				t.Errorf("socketInode = %d, %v, want %d, %v", got, err, tt.want, tt.isErr)
			}
		})
	}
}

// TestFinder_Command checks the command line cache.
func TestFinder_Command(t *testing.T) {
	// Ensure a command line is read once within commandTTL and again once
	// it has passed, as after an exec, and that a clock gone back rereads.
	root := fakeProc(t, map[string]string{"42/cmdline": "curl\x00"}, nil)
	now := time.Date(2026, 12, 4, 16, 0, 0, 0, time.UTC)
	f := newFinder(root, 100, func() time.Time { return now })
	if got := f.command(42); got != "curl" {
		t.Fatalf("command = %q, want curl", got)
	}
	tests := []struct {
		name    string
		cmdline string        // written before the lookup
		at      time.Duration // after the first read
		want    string
	}{
		{"within ttl", "wget\x00", commandTTL - time.Millisecond, "curl"},
		{"ttl passed", "wget\x00", commandTTL, "wget"},
		{"clock back", "ftp\x00", -time.Hour, "ftp"},
	}
	first := now
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if err := os.WriteFile(filepath.Join(root, "42", "cmdline"), []byte(tt.cmdline), 0o644); err != nil {
				t.Fatal(err)
			}
			now = first.Add(tt.at)
			if got := f.command(42); got != tt.want {
				t.Errorf("command at %+v = %q, want %q", tt.at, got, tt.want)
			}
		})
	}
}
