// Package events_test drives `imds event` and `imds serve` as built
// binaries: a user schedules a notice with the first-start control key
// found where serve wrote it, and the data plane shows it at its time.
package events_test

import (
	"bufio"
	"encoding/json"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"
)

// imdsBinary builds cmd/imds into a directory of the test's.
func imdsBinary(t *testing.T) string {
	t.Helper()
	_, file, _, _ := runtime.Caller(0)
	bin := filepath.Join(t.TempDir(), "imds")
	cmd := exec.Command("go", "build", "-o", bin, "./cmd/imds")
	cmd.Dir = filepath.Join(filepath.Dir(file), "..", "..")
	if out, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("build imds: %v\n%s", err, out)
	}
	return bin
}

// server is a running `imds serve`.
type server struct {
	bin, home       string
	dataURL, ctlURL string
	instanceID      string
}

// startServe runs `imds serve` on free loopback ports with a throwaway
// HOME, so that its first-start key lands in HOME/.local/state/imds, where
// `imds event` looks by default. The instance is a Spot instance.
func startServe(t *testing.T, bin string) *server {
	t.Helper()
	home := t.TempDir()
	cfg := filepath.Join(home, "imds.yaml")
	if err := os.WriteFile(cfg, []byte("instance:\n  life-cycle: spot\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	cmd := exec.Command(bin, "serve", "--config", cfg, "--listen", "127.0.0.1:0",
		"--control-listen", "127.0.0.1:0", "--log-format", "json")
	cmd.Env = env(home)
	stderr, err := cmd.StderrPipe()
	if err != nil {
		t.Fatal(err)
	}
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	done := make(chan struct{})
	t.Cleanup(func() {
		cmd.Process.Signal(syscall.SIGTERM)
		select {
		case <-done:
		case <-time.After(10 * time.Second):
			cmd.Process.Kill()
			<-done
		}
	})

	started := make(chan map[string]any, 1)
	var mu sync.Mutex
	var lines []string
	go func() {
		defer close(done)
		sc := bufio.NewScanner(stderr)
		for sc.Scan() {
			mu.Lock()
			lines = append(lines, sc.Text())
			mu.Unlock()
			var rec map[string]any
			if json.Unmarshal(sc.Bytes(), &rec) == nil && rec["msg"] == "imds serving" {
				started <- rec
			}
		}
		io.Copy(io.Discard, stderr)
		cmd.Wait()
	}()
	var rec map[string]any
	select {
	case rec = <-started:
	case <-done:
		mu.Lock()
		defer mu.Unlock()
		t.Fatalf("imds serve exited:\n%s", strings.Join(lines, "\n"))
	case <-time.After(30 * time.Second):
		t.Fatal("imds serve did not start")
	}

	s := &server{bin: bin, home: home}
	s.ctlURL, _ = rec["control"].(string)
	s.instanceID, _ = rec["instance"].(string)
	if listen, _ := rec["listen"].([]any); len(listen) > 0 {
		s.dataURL, _ = listen[0].(string)
	}
	for _, u := range []string{s.dataURL, s.ctlURL} {
		if err := checkLoopback(u); err != nil {
			t.Fatalf("start-up line %v: %v", rec, err)
		}
	}
	return s
}

// env is the environment of every process: PATH and a throwaway HOME,
// nothing from the machine's AWS setup, no proxy.
func env(home string) []string {
	return []string{"PATH=" + os.Getenv("PATH"), "HOME=" + home, "NO_PROXY=*", "no_proxy=*"}
}

// checkLoopback accepts only an http URL whose host is a loopback IP.
func checkLoopback(endpoint string) error {
	u, err := url.Parse(endpoint)
	if err != nil {
		return err
	}
	if ip := net.ParseIP(u.Hostname()); u.Scheme != "http" || ip == nil || !ip.IsLoopback() {
		return fmt.Errorf("endpoint %q: not http on a loopback IP", endpoint)
	}
	return nil
}

// event runs `imds event ARGS --endpoint CONTROL` and returns its output.
func (s *server) event(t *testing.T, args ...string) (string, error) {
	t.Helper()
	args = append([]string{"event", args[0], "--endpoint", s.ctlURL}, args[1:]...)
	cmd := exec.Command(s.bin, args...)
	cmd.Env = env(s.home)
	out, err := cmd.CombinedOutput()
	return string(out), err
}

// get fetches a metadata path without a token, as curl does.
func (s *server) get(t *testing.T, path string) (int, string) {
	t.Helper()
	resp, err := http.Get(s.dataURL + "/latest/meta-data/" + path)
	if err != nil {
		t.Fatalf("GET %s: %v", path, err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return resp.StatusCode, string(b)
}

// Ensure `imds event` with serve's first-start key and no flags but the
// endpoint schedules a Spot notice that the data plane shows at its time,
// lists it, and cancels it.
func TestBinary_Event(t *testing.T) {
	s := startServe(t, imdsBinary(t))
	if status, _ := s.get(t, "spot/instance-action"); status != 404 {
		t.Fatalf("spot/instance-action before scheduling: %d, want 404", status)
	}

	out, err := s.event(t, "spot", "--in", "2s")
	if err != nil || !strings.Contains(out, s.instanceID) || !strings.Contains(out, "pending") {
		t.Fatalf("imds event spot: %v\n%s", err, out)
	}
	sent := time.Now()
	if status, _ := s.get(t, "spot/instance-action"); status != 404 && time.Since(sent) < time.Second {
		t.Errorf("spot/instance-action right after scheduling: %d, want 404", status)
	}
	for {
		status, body := s.get(t, "spot/instance-action")
		if status == 200 {
			if !strings.HasPrefix(body, `{"action": "terminate", "time": "`) {
				t.Errorf("spot/instance-action = %q", body)
			}
			break
		}
		if time.Since(sent) > 5*time.Second {
			t.Fatalf("spot/instance-action still %d five seconds after scheduling", status)
		}
		time.Sleep(50 * time.Millisecond)
	}

	out, err = s.event(t, "list")
	if err != nil || !strings.Contains(out, "spot") || !strings.Contains(out, "yes") {
		t.Errorf("imds event list: %v\n%s", err, out)
	}
	if out, err = s.event(t, "cancel", "spot"); err != nil || !strings.Contains(out, "removed") {
		t.Errorf("imds event cancel spot: %v\n%s", err, out)
	}
	if status, _ := s.get(t, "spot/instance-action"); status != 404 {
		t.Errorf("spot/instance-action after cancel: %d, want 404", status)
	}
}
