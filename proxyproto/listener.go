// Package proxyproto lets the data plane see a client's own address behind
// a load balancer that speaks the PROXY protocol (version 1 or 2). Headers
// are honoured only on connections from configured front-end addresses;
// from anywhere else the stream is passed on untouched, so a client that
// sends its own header to claim another instance's address gets nothing
// but a malformed request.
package proxyproto

import (
	"bufio"
	"fmt"
	"net"
	"net/netip"
	"strings"
	"sync"
	"time"
)

// DefaultHeaderTimeout bounds the wait for a trusted front-end's header.
const DefaultHeaderTimeout = 5 * time.Second

// Listener wraps a listener, reading PROXY headers from trusted peers.
type Listener struct {
	net.Listener
	trusted []netip.Prefix
	// HeaderTimeout bounds the header read. If zero, it defaults to
	// DefaultHeaderTimeout.
	HeaderTimeout time.Duration
}

// NewListener returns ln with PROXY headers honoured from peers inside
// trusted. With no trusted prefixes it changes nothing.
func NewListener(ln net.Listener, trusted []netip.Prefix) *Listener {
	return &Listener{Listener: ln, trusted: trusted}
}

// ParseTrusted parses a comma-separated list of addresses and prefixes
// (10.0.0.5,10.1.0.0/16,fd00::/8) as a --proxy-from flag gives it.
func ParseTrusted(list string) ([]netip.Prefix, error) {
	var out []netip.Prefix
	for f := range strings.SplitSeq(list, ",") {
		f = strings.TrimSpace(f)
		if f == "" {
			continue
		}
		if p, err := netip.ParsePrefix(f); err == nil {
			out = append(out, p.Masked())
			continue
		}
		a, err := netip.ParseAddr(f)
		if err != nil {
			return nil, fmt.Errorf("proxy front-end %q: not an address or prefix", f)
		}
		out = append(out, netip.PrefixFrom(a.Unmap(), a.Unmap().BitLen()))
	}
	return out, nil
}

// Accept returns the next connection. A connection from a trusted peer is
// wrapped: its header is read on first use (by RemoteAddr, LocalAddr or
// Read, so Accept never waits on a slow peer). Others are returned as they
// are.
func (l *Listener) Accept() (net.Conn, error) {
	c, err := l.Listener.Accept()
	if err != nil || !l.trusts(c.RemoteAddr()) {
		return c, err
	}
	timeout := l.HeaderTimeout
	if timeout <= 0 {
		timeout = DefaultHeaderTimeout
	}
	return &Conn{Conn: c, r: bufio.NewReader(c), timeout: timeout}, nil
}

func (l *Listener) trusts(a net.Addr) bool {
	tcp, ok := a.(*net.TCPAddr)
	if !ok {
		return false
	}
	ip, ok := netip.AddrFromSlice(tcp.IP)
	if !ok {
		return false
	}
	ip = ip.Unmap()
	for _, p := range l.trusted {
		if p.Contains(ip) {
			return true
		}
	}
	return false
}

// Conn is a connection from a trusted front-end. RemoteAddr and LocalAddr
// report the addresses its header carried: the client and the address the
// client connected to. Socket options set through it (such as the IMDS hop
// limit) cannot reach the client, which is another network hop away.
type Conn struct {
	net.Conn
	r       *bufio.Reader
	timeout time.Duration

	once sync.Once
	hdr  header
	err  error // set when the header was malformed; the conn is closed
}

// init reads the header once. net/http asks for RemoteAddr before it sets
// its own deadlines, so clearing the deadline here does not undo them.
func (c *Conn) init() {
	c.once.Do(func() {
		c.Conn.SetReadDeadline(time.Now().Add(c.timeout))
		c.hdr, c.err = readHeader(c.r)
		c.Conn.SetReadDeadline(time.Time{})
		if c.err != nil {
			c.Conn.Close()
		}
	})
}

// Read reads the stream after the header.
func (c *Conn) Read(b []byte) (int, error) {
	c.init()
	if c.err != nil {
		return 0, c.err
	}
	return c.r.Read(b)
}

// RemoteAddr returns the client's address, or the front-end's when the
// header carried none.
func (c *Conn) RemoteAddr() net.Addr {
	c.init()
	if !c.hdr.proxied {
		return c.Conn.RemoteAddr()
	}
	return net.TCPAddrFromAddrPort(c.hdr.src)
}

// LocalAddr returns the address the client connected to, or the
// listener's when the header carried none.
func (c *Conn) LocalAddr() net.Addr {
	c.init()
	if !c.hdr.proxied {
		return c.Conn.LocalAddr()
	}
	return net.TCPAddrFromAddrPort(c.hdr.dst)
}
