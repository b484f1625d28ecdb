package proxyproto

import (
	"bufio"
	"bytes"
	"encoding/binary"
	"io"
	"net/netip"
	"strconv"
	"strings"
	"testing"
)

// v2 builds a version 2 header.
func v2(cmd, fam byte, body []byte) []byte {
	b := append([]byte{}, v2Signature...)
	b = append(b, 0x20|cmd, fam)
	b = binary.BigEndian.AppendUint16(b, uint16(len(body)))
	return append(b, body...)
}

func v2TCP4(src, dst string, sport, dport uint16, tlv []byte) []byte {
	s, d := netip.MustParseAddr(src).As4(), netip.MustParseAddr(dst).As4()
	body := append(s[:], d[:]...)
	body = binary.BigEndian.AppendUint16(body, sport)
	body = binary.BigEndian.AppendUint16(body, dport)
	return v2(1, 0x11, append(body, tlv...))
}

func v2TCP6(src, dst string, sport, dport uint16) []byte {
	s, d := netip.MustParseAddr(src).As16(), netip.MustParseAddr(dst).As16()
	body := append(s[:], d[:]...)
	body = binary.BigEndian.AppendUint16(body, sport)
	body = binary.BigEndian.AppendUint16(body, dport)
	return v2(1, 0x21, body)
}

// Ensure headers of both versions are read, the rest of the stream is left
// intact, and malformed headers are refused.
func TestReadHeader(t *testing.T) {
	const rest = "GET / HTTP/1.1\r\n\r\n"
	tests := []struct {
		name    string
		in      []byte
		src     string // "" when the connection's own addresses stand
		dst     string
		wantErr bool
	}{
		{"v1 tcp4", []byte("PROXY TCP4 127.0.0.9 127.0.0.1 40000 80\r\n"), "127.0.0.9:40000", "127.0.0.1:80", false},
		{"v1 tcp6", []byte("PROXY TCP6 fd00::1 fd00:ec2::254 1 80\r\n"), "[fd00::1]:1", "[fd00:ec2::254]:80", false},
		{"v1 unknown", []byte("PROXY UNKNOWN ffff::1 ffff::2 1 2\r\n"), "", "", false},
		{"v1 unknown bare", []byte("PROXY UNKNOWN\r\n"), "", "", false},
		{"v2 tcp4 with tlvs", v2TCP4("10.1.2.3", "10.0.0.1", 5555, 80, []byte{0x04, 0, 1, 'x'}), "10.1.2.3:5555", "10.0.0.1:80", false},
		{"v2 tcp6", v2TCP6("2001:db8::7", "fd00:ec2::254", 1, 80), "[2001:db8::7]:1", "[fd00:ec2::254]:80", false},
		{"v2 local", v2(0, 0x00, nil), "", "", false},
		{"v2 unix", v2(1, 0x31, make([]byte, 216)), "", "", false},
		{"no header", nil, "", "", false},
		{"v1 bad port", []byte("PROXY TCP4 1.2.3.4 1.2.3.5 70000 80\r\n"), "", "", true},
		{"v1 leading zero", []byte("PROXY TCP4 1.2.3.4 1.2.3.5 080 80\r\n"), "", "", true},
		{"v1 family mismatch", []byte("PROXY TCP4 ::1 ::1 1 2\r\n"), "", "", true},
		{"v1 no crlf", []byte("PROXY TCP4 1.2.3.4 1.2.3.5 1 2\n"), "", "", true},
		{"v1 too long", []byte("PROXY TCP4 " + strings.Repeat("1", 120) + "\r\n"), "", "", true},
		{"v1 extra field", []byte("PROXY TCP4 1.2.3.4 1.2.3.5 1 2 3\r\n"), "", "", true},
		{"v2 version 1", append(v2Signature, 0x11, 0x11, 0, 0), "", "", true},
		{"v2 short addresses", v2(1, 0x11, make([]byte, 8)), "", "", true},
		{"v2 truncated", append(v2Signature, 0x21, 0x11, 0x01, 0x00), "", "", true},
		{"v2 bad command", v2(7, 0x11, make([]byte, 12)), "", "", true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r := bufio.NewReader(bytes.NewReader(append(tt.in, rest...)))
			h, err := readHeader(r)
			if (err != nil) != tt.wantErr {
				t.Fatalf("err %v, want error %v", err, tt.wantErr)
			}
			if err != nil {
				return
			}
			if tt.src == "" {
				if h.proxied {
					t.Fatalf("proxied %v", h)
				}
			} else if h.src.String() != tt.src || h.dst.String() != tt.dst {
				t.Fatalf("got %s -> %s, want %s -> %s", h.src, h.dst, tt.src, tt.dst)
			}
			left, _ := io.ReadAll(r)
			if string(left) != rest {
				t.Fatalf("stream after header %q", left)
			}
		})
	}
}

// Ensure a stream that is no header is never consumed, and a header that
// parses describes addresses that re-encode to the same header.
func FuzzReadHeader(f *testing.F) {
	f.Add([]byte("PROXY TCP4 127.0.0.9 127.0.0.1 40000 80\r\nGET /"))
	f.Add([]byte("PROXY TCP6 ::1 ::2 1 2\r\n"))
	f.Add([]byte("PUT /latest/api/token HTTP/1.1\r\n"))
	f.Add(v2TCP4("10.1.2.3", "10.0.0.1", 5555, 80, []byte{1, 0, 0}))
	f.Add(v2TCP6("2001:db8::7", "::1", 1, 80))
	f.Add(v2(0, 0, nil))
	f.Fuzz(func(t *testing.T, in []byte) {
		r := bufio.NewReader(bytes.NewReader(in))
		h, err := readHeader(r)
		if err != nil {
			return
		}
		if !h.proxied {
			rest, _ := io.ReadAll(r)
			if !bytes.HasPrefix(in, []byte("PROXY ")) && !bytes.HasPrefix(in, v2Signature) && !bytes.Equal(rest, in) {
				t.Fatalf("stream consumed without a header: %q", in)
			}
			return
		}
		if !h.src.IsValid() || !h.dst.IsValid() || h.src.Addr().Is4() != h.dst.Addr().Is4() {
			t.Fatalf("bad addresses %v", h)
		}
		fam := "TCP6"
		if h.src.Addr().Is4() {
			fam = "TCP4"
		}
		line := "PROXY " + fam + " " + h.src.Addr().String() + " " + h.dst.Addr().String() + " " +
			itoa(h.src.Port()) + " " + itoa(h.dst.Port()) + "\r\n"
		again, err := readHeader(bufio.NewReader(strings.NewReader(line)))
		if err != nil || again != h {
			t.Fatalf("%q re-encoded as %q parses to %v, %v", in, line, again, err)
		}
	})
}

func itoa(p uint16) string { return strconv.Itoa(int(p)) }
