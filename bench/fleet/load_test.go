package fleet_test

import (
	"context"
	"fmt"
	"io"
	"net"
	"net/http"
	"sync"
	"sync/atomic"
	"time"

	"github.com/imds-dev/imds/test/fleet/harness"
)

// sourceKey carries, in a request's context, the loopback address its
// connection leaves from.
type sourceKey struct{}

// newClient returns a client that opens a connection per request, from
// the address in the request's context, so that one client can pass for
// any number of instances.
func newClient() *http.Client {
	dial := func(ctx context.Context, network, addr string) (net.Conn, error) {
		src, _ := ctx.Value(sourceKey{}).(string)
		ip := net.ParseIP(src)
		if ip == nil || !ip.IsLoopback() {
			return nil, fmt.Errorf("source %q: not a loopback address", src)
		}
		d := net.Dialer{LocalAddr: &net.TCPAddr{IP: ip}, Timeout: 2 * time.Second}
		return d.DialContext(ctx, network, addr)
	}
	return &http.Client{
		Transport: &http.Transport{Proxy: nil, DialContext: dial, DisableKeepAlives: true},
		Timeout:   5 * time.Second,
	}
}

// call sends one data-plane request from src and returns the status and
// body.
func call(c *http.Client, method, url, src string, header http.Header) (int, string, error) {
	ctx := context.WithValue(context.Background(), sourceKey{}, src)
	req, err := http.NewRequestWithContext(ctx, method, url, nil)
	if err != nil {
		return 0, "", err
	}
	req.Header = header
	resp, err := c.Do(req)
	if err != nil {
		return 0, "", err
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(resp.Body)
	return resp.StatusCode, string(body), err
}

// token asks for a token from src.
func token(c *http.Client, base, src string) (string, error) {
	h := http.Header{harness.TokenTTLHeader: {"21600"}}
	status, body, err := call(c, http.MethodPut, base+"/latest/api/token", src, h)
	if err == nil && status != http.StatusOK {
		err = fmt.Errorf("token from %s: status %d", src, status)
	}
	return body, err
}

// getID reads instance-id from src with tok and checks it names want.
func getID(c *http.Client, base, src, tok, want string) error {
	status, body, err := call(c, http.MethodGet, base+"/latest/meta-data/instance-id", src,
		http.Header{harness.TokenHeader: {tok}})
	switch {
	case err != nil:
		return err
	case status != http.StatusOK:
		return fmt.Errorf("instance-id from %s: status %d", src, status)
	case body != want:
		return fmt.Errorf("instance-id from %s: %q, want %q", src, body, want)
	}
	return nil
}

// forEach runs fn(i) for i in [0, n) on workers goroutines and returns
// the first error.
func forEach(n, workers int, fn func(i int) error) error {
	var next atomic.Int64
	var first error
	var once sync.Once
	var wg sync.WaitGroup
	for range workers {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for {
				i := int(next.Add(1) - 1)
				if i >= n {
					return
				}
				if err := fn(i); err != nil {
					once.Do(func() { first = err })
					next.Store(int64(n))
					return
				}
			}
		}()
	}
	wg.Wait()
	return first
}

// result is one throughput run.
type result struct {
	rate   float64       // successful reads per second
	failed int64         // failed reads
	cpu    time.Duration // the replica's processor time per read
}

// throughput reads instance-id from r for d on workers goroutines, request
// k from instance k mod len(tokens) (tokens[i] is instance i's). Besides
// the rate it measures the replica's own processor time per read, which a
// load generator sharing the machine disturbs far less.
func throughput(r *harness.Replica, tokens []string, workers int, d time.Duration) (result, error) {
	base := r.DataURL
	cpu0, err := r.CPU()
	if err != nil {
		return result{}, err
	}
	c := newClient()
	var ok, failed atomic.Int64
	deadline := time.Now().Add(d)
	var wg sync.WaitGroup
	for w := range workers {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for k := w; time.Now().Before(deadline); k += workers {
				i := k % len(tokens)
				if getID(c, base, address(i), tokens[i], instanceID(i)) != nil {
					failed.Add(1)
					continue
				}
				ok.Add(1)
			}
		}()
	}
	wg.Wait()
	cpu1, err := r.CPU()
	if err != nil {
		return result{}, err
	}
	res := result{rate: float64(ok.Load()) / d.Seconds(), failed: failed.Load()}
	if n := ok.Load() + failed.Load(); n > 0 {
		res.cpu = (cpu1 - cpu0) / time.Duration(n)
	}
	return res, nil
}
