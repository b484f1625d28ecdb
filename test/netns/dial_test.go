//go:build linux

package netns_test

import (
	"bufio"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"runtime"
	"testing"
	"time"

	"golang.org/x/sys/unix"
)

// inNetns runs fn on an OS thread moved into network namespace ns. Sockets
// fn makes stay in ns for their whole life, after the thread has moved
// back. A thread that cannot move back stays locked to its goroutine, so
// the runtime throws it away instead of running other code in ns.
func inNetns(ns string, fn func() error) error {
	errc := make(chan error, 1)
	go func() {
		runtime.LockOSThread()
		home, err := os.Open("/proc/thread-self/ns/net")
		if err != nil {
			runtime.UnlockOSThread()
			errc <- fmt.Errorf("open own namespace: %w", err)
			return
		}
		defer home.Close()
		target, err := os.Open(filepath.Join("/run/netns", ns))
		if err != nil {
			runtime.UnlockOSThread()
			errc <- fmt.Errorf("open namespace %s: %w", ns, err)
			return
		}
		defer target.Close()
		if err := unix.Setns(int(target.Fd()), unix.CLONE_NEWNET); err != nil {
			runtime.UnlockOSThread()
			errc <- fmt.Errorf("enter namespace %s: %w", ns, err)
			return
		}
		ferr := fn()
		if err := unix.Setns(int(home.Fd()), unix.CLONE_NEWNET); err != nil {
			errc <- fmt.Errorf("leave namespace %s: %w", ns, err)
			return
		}
		runtime.UnlockOSThread()
		errc <- ferr
	}()
	return <-errc
}

// conn is one TCP connection made inside a namespace. Requests go out as
// raw HTTP/1.1, so the test alone decides when a connection is reused.
type conn struct {
	c    net.Conn
	br   *bufio.Reader
	addr string
}

// dial connects from namespace ns to addr (host:port); t closes it.
func dial(t *testing.T, ns, addr string) *conn {
	t.Helper()
	c, err := dialIn(ns, addr)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { c.c.Close() })
	return c
}

func dialIn(ns, addr string) (*conn, error) {
	var c net.Conn
	err := inNetns(ns, func() error {
		var err error
		c, err = net.DialTimeout("tcp", addr, 2*time.Second)
		return err
	})
	if err != nil {
		return nil, fmt.Errorf("dial %s from %s: %w", addr, ns, err)
	}
	return &conn{c: c, br: bufio.NewReader(c), addr: addr}, nil
}

// answer is what came back for one request.
type answer struct {
	status int
	body   string
	close  bool          // the server announced it closes the connection
	took   time.Duration // from sending the request to the end of the body
}

// errNoAnswer means not one byte came back before the deadline: what a
// client beyond the hop limit sees of its token PUT.
var errNoAnswer = errors.New("no answer")

const (
	tokenPath = "/latest/api/token"
	idPath    = "/latest/meta-data/instance-id"
)

// do sends method path on the connection and reads the answer, waiting at
// most wait. A PUT asks for a token with a six-hour TTL.
func (c *conn) do(method, path string, wait time.Duration) (*answer, error) {
	req, err := http.NewRequest(method, "http://"+c.addr+path, nil)
	if err != nil {
		return nil, err
	}
	if method == http.MethodPut {
		req.Header.Set("X-aws-ec2-metadata-token-ttl-seconds", "21600")
	}
	start := time.Now()
	c.c.SetDeadline(start.Add(wait))
	if err := req.Write(c.c); err != nil {
		return nil, fmt.Errorf("send %s %s: %w", method, path, err)
	}
	resp, err := http.ReadResponse(c.br, req)
	if err != nil {
		var ne net.Error
		if errors.As(err, &ne) && ne.Timeout() && c.br.Buffered() == 0 {
			return nil, errNoAnswer
		}
		return nil, fmt.Errorf("read answer to %s %s: %w", method, path, err)
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(resp.Body)
	if err != nil {
		return nil, fmt.Errorf("read body of %s %s: %w", method, path, err)
	}
	return &answer{status: resp.StatusCode, body: string(body), close: resp.Close, took: time.Since(start)}, nil
}
