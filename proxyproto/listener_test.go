package proxyproto_test

import (
	"bufio"
	"context"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/netip"
	"testing"
	"time"

	"github.com/imds-dev/imds/proxyproto"
)

// serve runs an HTTP server that answers with the source address it sees,
// behind a listener trusting 127.0.0.2 only.
func serve(t *testing.T) string {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	trusted, err := proxyproto.ParseTrusted("127.0.0.2, 10.9.0.0/16")
	if err != nil {
		t.Fatal(err)
	}
	pl := proxyproto.NewListener(ln, trusted)
	pl.HeaderTimeout = time.Second
	srv := &http.Server{Handler: http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		la := r.Context().Value(http.LocalAddrContextKey).(net.Addr)
		fmt.Fprintf(w, "%s %s", r.RemoteAddr, la)
	})}
	go srv.Serve(pl)
	t.Cleanup(func() { srv.Shutdown(context.Background()) })
	return ln.Addr().String()
}

// get sends header and then a GET from the local address from, and returns
// the status line and body.
func get(t *testing.T, addr, from, header string) (string, string) {
	t.Helper()
	d := net.Dialer{LocalAddr: &net.TCPAddr{IP: net.ParseIP(from)}, Timeout: 2 * time.Second}
	c, err := d.Dial("tcp", addr)
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	c.SetDeadline(time.Now().Add(5 * time.Second))
	fmt.Fprintf(c, "%sGET / HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n", header)
	resp, err := http.ReadResponse(bufio.NewReader(c), nil)
	if err != nil {
		t.Fatal(err)
	}
	body, _ := io.ReadAll(resp.Body)
	return resp.Status, string(body)
}

// Ensure the data plane sees the client's address through a trusted
// front-end, the real source otherwise, and that an untrusted header is
// never honoured.
func TestListener_Accept(t *testing.T) {
	addr := serve(t)
	_, port, _ := net.SplitHostPort(addr)
	tests := []struct {
		name, from, header string
		status, body       string
	}{
		{"trusted v1", "127.0.0.2", "PROXY TCP4 127.0.0.50 127.0.0.1 40000 80\r\n",
			"200 OK", "127.0.0.50:40000 127.0.0.1:80"},
		{"trusted without header", "127.0.0.2", "", "200 OK", "127.0.0.2:"},
		{"trusted local health check", "127.0.0.2", string([]byte("\r\n\r\n\x00\r\nQUIT\n\x20\x00\x00\x00")),
			"200 OK", "127.0.0.2:"},
		{"untrusted with header", "127.0.0.3", "PROXY TCP4 127.0.0.50 127.0.0.1 40000 80\r\n",
			"400 Bad Request", ""},
		{"untrusted without header", "127.0.0.3", "", "200 OK", "127.0.0.3:"},
		{"trusted malformed", "127.0.0.2", "PROXY TCP4 nonsense\r\n", "", ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if tt.status == "" {
				// A malformed header from a front-end closes the connection.
				d := net.Dialer{LocalAddr: &net.TCPAddr{IP: net.ParseIP(tt.from)}}
				c, err := d.Dial("tcp", addr)
				if err != nil {
					t.Fatal(err)
				}
				defer c.Close()
				c.SetDeadline(time.Now().Add(5 * time.Second))
				fmt.Fprintf(c, "%sGET / HTTP/1.1\r\nHost: x\r\n\r\n", tt.header)
				if n, err := c.Read(make([]byte, 1)); n != 0 || err == nil {
					t.Fatalf("read %d, %v; want the connection closed", n, err)
				}
				return
			}
			status, body := get(t, addr, tt.from, tt.header)
			if status != tt.status || len(body) < len(tt.body) || body[:len(tt.body)] != tt.body {
				t.Fatalf("got %q %q, want %q %q…", status, body, tt.status, tt.body)
			}
			if tt.body == tt.from+":" && !containsPort(body, port) {
				t.Fatalf("local address in %q is not the listener's", body)
			}
		})
	}
}

func containsPort(body, port string) bool {
	var remote, local string
	fmt.Sscan(body, &remote, &local)
	ap, err := netip.ParseAddrPort(local)
	return err == nil && fmt.Sprint(ap.Port()) == port
}

// Ensure the trusted list accepts addresses and prefixes and refuses junk.
func TestParseTrusted(t *testing.T) {
	tests := []struct {
		in   string
		want string
		err  bool
	}{
		{"127.0.0.2", "[127.0.0.2/32]", false},
		{"10.0.0.0/8, fd00::1", "[10.0.0.0/8 fd00::1/128]", false},
		{"10.1.2.3/8", "[10.0.0.0/8]", false},
		{"", "[]", false},
		{"lb.example", "", true},
	}
	for _, tt := range tests {
		t.Run(tt.in, func(t *testing.T) {
			got, err := proxyproto.ParseTrusted(tt.in)
			if (err != nil) != tt.err || (!tt.err && fmt.Sprint(got) != tt.want) {
				t.Fatalf("got %v, %v; want %s", got, err, tt.want)
			}
		})
	}
}
