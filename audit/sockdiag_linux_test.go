package audit

import (
	"errors"
	"net"
	"net/netip"
	"os"
	"runtime"
	"syscall"
	"testing"
)

// dialMapped connects to an IPv4 loopback listener from an IPv6 socket,
// as a Java client does by default, and returns what dialLoopback does.
func dialMapped(tb testing.TB) (c net.Conn, client, server netip.AddrPort) {
	tb.Helper()
	ln, err := net.Listen("tcp4", "127.0.0.1:0")
	if err != nil {
		tb.Fatal(err)
	}
	tb.Cleanup(func() { ln.Close() })
	fd, err := syscall.Socket(syscall.AF_INET6, syscall.SOCK_STREAM|syscall.SOCK_CLOEXEC, 0)
	if err != nil {
		tb.Skipf("ipv6 socket: %v", err)
	}
	to := &syscall.SockaddrInet6{Port: ln.Addr().(*net.TCPAddr).Port, Addr: netip.MustParseAddr("::ffff:127.0.0.1").As16()}
	if err := syscall.Connect(fd, to); err != nil {
		syscall.Close(fd)
		tb.Skipf("connect from an ipv6 socket to 127.0.0.1: %v", err)
	}
	file := os.NewFile(uintptr(fd), "mapped")
	c, err = net.FileConn(file) // a duplicate; the original closes below
	file.Close()
	if err != nil {
		tb.Fatal(err)
	}
	tb.Cleanup(func() { c.Close() })
	s, err := ln.Accept()
	if err != nil {
		tb.Fatal(err)
	}
	tb.Cleanup(func() { s.Close() })
	return c, s.RemoteAddr().(*net.TCPAddr).AddrPort(), s.LocalAddr().(*net.TCPAddr).AddrPort()
}

// inodeOf returns the inode of a connection's socket, as fstat sees it.
func inodeOf(tb testing.TB, c net.Conn) uint64 {
	tb.Helper()
	raw, err := c.(syscall.Conn).SyscallConn()
	if err != nil {
		tb.Fatal(err)
	}
	var st syscall.Stat_t
	var serr error
	if err := raw.Control(func(fd uintptr) { serr = syscall.Fstat(int(fd), &st) }); err != nil || serr != nil {
		tb.Fatalf("fstat: %v %v", err, serr)
	}
	return st.Ino
}

// TestSockDiagInode asks the kernel about real loopback connections.
func TestSockDiagInode(t *testing.T) {
	// Ensure sock_diag finds the client's socket of an IPv4, an IPv6 and
	// an IPv4-over-IPv6 connection, agreeing with fstat and the tcp
	// tables, and knows none for a closed client or for a listener that
	// merely sits on the client's port.
	if runtime.GOOS != "linux" {
		t.Skip("sock_diag is Linux's")
	}
	dials := []struct {
		name string
		dial func(testing.TB) (net.Conn, netip.AddrPort, netip.AddrPort)
	}{
		{"ipv4", func(tb testing.TB) (net.Conn, netip.AddrPort, netip.AddrPort) { return dialLoopback(tb, "tcp4") }},
		{"ipv6", func(tb testing.TB) (net.Conn, netip.AddrPort, netip.AddrPort) { return dialLoopback(tb, "tcp6") }},
		{"ipv4 on an ipv6 socket", dialMapped},
	}
	for _, d := range dials {
		t.Run(d.name, func(t *testing.T) {
			c, client, server := d.dial(t)
			got, err := sockDiagInode(client, server)
			if errors.Is(err, errNoNetlink) {
				t.Skipf("sock_diag unavailable here: %v", err)
			}
			if want := inodeOf(t, c); err != nil || got != want {
				t.Fatalf("sockDiagInode(%v, %v) = %d, %v, want %d", client, server, got, err, want)
			}
			if scanned, err := scanTables("/proc", client, server); err != nil || scanned != got {
				t.Errorf("scanTables = %d, %v, sock_diag said %d", scanned, err, got)
			}
			if inode, err := sockDiagInode(server, client); err != nil || inode == got || inode == 0 {
				t.Errorf("server's end = %d, %v, want another socket than %d", inode, err, got)
			}
		})
	}

	t.Run("closed", func(t *testing.T) {
		c, client, server := dialLoopback(t, "tcp4")
		c.Close()
		if inode, err := sockDiagInode(client, server); !errors.Is(err, errNoSocket) {
			t.Errorf("closed client: %d, %v, want %v", inode, err, errNoSocket)
		}
	})
	t.Run("listener on the client's port", func(t *testing.T) {
		ln, err := net.Listen("tcp4", "127.0.0.1:0")
		if err != nil {
			t.Fatal(err)
		}
		defer ln.Close()
		client := ln.Addr().(*net.TCPAddr).AddrPort()
		server := netip.MustParseAddrPort("127.0.0.1:1")
		if inode, err := sockDiagInode(client, server); !errors.Is(err, errNoSocket) {
			t.Errorf("listener: %d, %v, want %v", inode, err, errNoSocket)
		}
	})
}
