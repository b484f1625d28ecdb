package proxyproto

import (
	"bufio"
	"bytes"
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"net/netip"
	"strconv"
	"strings"
)

// v2Signature opens every version 2 header.
var v2Signature = []byte("\r\n\r\n\x00\r\nQUIT\n")

// maxV1 is the longest version 1 line, CRLF included.
const maxV1 = 107

// header is what a PROXY header said. When proxied is false the header
// carried no addresses (v1 UNKNOWN, v2 LOCAL or a non-TCP family), or there
// was no header: the connection's own addresses stand.
type header struct {
	src, dst netip.AddrPort
	proxied  bool
}

// readHeader consumes a PROXY header from r if one starts the stream, and
// leaves the stream untouched when none does.
func readHeader(r *bufio.Reader) (header, error) {
	first, err := r.Peek(1)
	if err != nil {
		return header{}, err
	}
	switch first[0] {
	case 'P':
		if p, err := r.Peek(6); err == nil && string(p) == "PROXY " {
			return readV1(r)
		}
	case '\r':
		if p, err := r.Peek(len(v2Signature)); err == nil && bytes.Equal(p, v2Signature) {
			return readV2(r)
		}
	}
	return header{}, nil
}

// readV1 parses "PROXY TCP4|TCP6 src dst sport dport\r\n" or
// "PROXY UNKNOWN ...\r\n".
func readV1(r *bufio.Reader) (header, error) {
	var line []byte
	for len(line) < maxV1 {
		b, err := r.ReadByte()
		if err != nil {
			return header{}, fmt.Errorf("proxy v1 header: %w", err)
		}
		line = append(line, b)
		if b == '\n' {
			break
		}
	}
	s, ok := strings.CutSuffix(string(line), "\r\n")
	if !ok {
		return header{}, errors.New("proxy v1 header: no CRLF within 107 bytes")
	}
	f := strings.Split(s, " ")
	if len(f) >= 2 && f[1] == "UNKNOWN" {
		return header{}, nil
	}
	if len(f) != 6 || (f[1] != "TCP4" && f[1] != "TCP6") {
		return header{}, fmt.Errorf("proxy v1 header: malformed %q", s)
	}
	src, err1 := v1Addr(f[2], f[4], f[1] == "TCP4")
	dst, err2 := v1Addr(f[3], f[5], f[1] == "TCP4")
	if err := errors.Join(err1, err2); err != nil {
		return header{}, fmt.Errorf("proxy v1 header: %w", err)
	}
	return header{src: src, dst: dst, proxied: true}, nil
}

func v1Addr(ip, port string, v4 bool) (netip.AddrPort, error) {
	a, err := netip.ParseAddr(ip)
	if err != nil || a.Is4() != v4 || a.Zone() != "" {
		return netip.AddrPort{}, fmt.Errorf("bad address %q", ip)
	}
	if port == "" || port[0] < '0' || port[0] > '9' || (len(port) > 1 && port[0] == '0') {
		return netip.AddrPort{}, fmt.Errorf("bad port %q", port)
	}
	p, err := strconv.ParseUint(port, 10, 16)
	if err != nil {
		return netip.AddrPort{}, fmt.Errorf("bad port %q", port)
	}
	return netip.AddrPortFrom(a, uint16(p)), nil
}

// readV2 parses the binary header: signature, version and command, family
// and protocol, length, addresses, then TLVs, which are skipped.
func readV2(r *bufio.Reader) (header, error) {
	var fixed [16]byte
	if _, err := io.ReadFull(r, fixed[:]); err != nil {
		return header{}, fmt.Errorf("proxy v2 header: %w", err)
	}
	verCmd, fam := fixed[12], fixed[13]
	n := int(binary.BigEndian.Uint16(fixed[14:]))
	if verCmd>>4 != 2 {
		return header{}, fmt.Errorf("proxy v2 header: version %d", verCmd>>4)
	}
	body := make([]byte, n)
	if _, err := io.ReadFull(r, body); err != nil {
		return header{}, fmt.Errorf("proxy v2 header: %w", err)
	}
	switch verCmd & 0x0f {
	case 0x0: // LOCAL: the front-end speaking for itself, e.g. a health check
		return header{}, nil
	case 0x1: // PROXY
	default:
		return header{}, fmt.Errorf("proxy v2 header: command %d", verCmd&0x0f)
	}
	switch fam {
	case 0x11: // TCP over IPv4
		if n < 12 {
			return header{}, fmt.Errorf("proxy v2 header: %d bytes for IPv4 addresses", n)
		}
		src := netip.AddrFrom4([4]byte(body[0:4]))
		dst := netip.AddrFrom4([4]byte(body[4:8]))
		return header{
			src:     netip.AddrPortFrom(src, binary.BigEndian.Uint16(body[8:])),
			dst:     netip.AddrPortFrom(dst, binary.BigEndian.Uint16(body[10:])),
			proxied: true,
		}, nil
	case 0x21: // TCP over IPv6
		if n < 36 {
			return header{}, fmt.Errorf("proxy v2 header: %d bytes for IPv6 addresses", n)
		}
		src := netip.AddrFrom16([16]byte(body[0:16]))
		dst := netip.AddrFrom16([16]byte(body[16:32]))
		return header{
			src:     netip.AddrPortFrom(src, binary.BigEndian.Uint16(body[32:])),
			dst:     netip.AddrPortFrom(dst, binary.BigEndian.Uint16(body[34:])),
			proxied: true,
		}, nil
	}
	// UNSPEC, UDP and unix sockets carry no TCP client to speak of.
	return header{}, nil
}
