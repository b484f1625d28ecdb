package harness

import (
	"context"
	"io"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/imds-dev/imds/store/etcd/etcdtest"
)

// DebianEtcd is where Debian's etcd-server package puts the server.
const DebianEtcd = "/usr/bin/etcd"

// Etcd is a one-member etcd on loopback ports with its data in a test's
// temporary directory. It is Debian's etcd server run as a process when
// installed, so that it can be paused and killed like a real one; else an
// etcd embedded in the test process, which can only be stopped and started.
type Etcd struct {
	// Endpoint is the client URL, http://127.0.0.1:PORT.
	Endpoint string
	// Debian reports whether this is Debian's server (a process) rather
	// than the embedded one.
	Debian bool

	embedded *etcdtest.Server
	args     []string // the Debian server's command line
	logPath  string
	cmd      *exec.Cmd
	exited   chan struct{} // closed once cmd has been reaped
}

// StartEtcd starts an etcd that stops when t ends. Without Debian's server
// it falls back to the embedded one, except under CI (CI set), where the
// scenario is meant to run against the real server and the test fails.
func StartEtcd(t testing.TB) *Etcd {
	t.Helper()
	if _, err := os.Stat(DebianEtcd); err != nil {
		if os.Getenv("CI") != "" {
			t.Fatalf("%s missing; install with: apt-get install etcd-server", DebianEtcd)
		}
		t.Logf("%s missing (apt-get install etcd-server); using the embedded etcd", DebianEtcd)
		srv := etcdtest.Start(t)
		return &Etcd{Endpoint: srv.Endpoint, embedded: srv}
	}

	client, peer := "http://"+freePort(t), "http://"+freePort(t)
	dir := t.TempDir()
	e := &Etcd{
		Endpoint: client,
		Debian:   true,
		logPath:  filepath.Join(dir, "etcd.log"),
		args: []string{
			"--name", "fleet", "--data-dir", filepath.Join(dir, "data"),
			"--listen-client-urls", client, "--advertise-client-urls", client,
			"--listen-peer-urls", peer, "--initial-advertise-peer-urls", peer,
			"--initial-cluster", "fleet=" + peer,
			"--logger", "zap", "--log-outputs", "stderr", "--log-level", "warn",
		},
	}
	e.start(t)
	t.Cleanup(func() {
		e.kill()
		if t.Failed() {
			logTail(t, "etcd", e.logPath)
		}
	})
	return e
}

// Spec returns the --store value naming this etcd under prefix.
func (e *Etcd) Spec(prefix string) string {
	return "etcd://" + strings.TrimPrefix(e.Endpoint, "http://") + prefix
}

// Pause freezes Debian's server with SIGSTOP: its sockets stay open and
// every request hangs, as when a member's host stalls.
func (e *Etcd) Pause(t testing.TB) {
	t.Helper()
	e.signal(t, syscall.SIGSTOP)
}

// Resume lets a paused server run again.
func (e *Etcd) Resume(t testing.TB) {
	t.Helper()
	e.signal(t, syscall.SIGCONT)
}

// Kill ends the server at once (kill -9 for Debian's, a stop for the
// embedded one); its data stays for Restart.
func (e *Etcd) Kill(t testing.TB) {
	t.Helper()
	if e.embedded != nil {
		e.embedded.Stop()
		return
	}
	e.kill()
}

// Restart starts a killed server again on the same ports and data and
// waits until it answers.
func (e *Etcd) Restart(t testing.TB) {
	t.Helper()
	if e.embedded != nil {
		e.embedded.Restart(t)
		return
	}
	e.start(t)
}

func (e *Etcd) signal(t testing.TB, sig syscall.Signal) {
	t.Helper()
	if e.cmd == nil {
		t.Fatalf("signal %v: only Debian's etcd runs as a process", sig)
	}
	if err := e.cmd.Process.Signal(sig); err != nil {
		t.Fatalf("signal etcd: %v", err)
	}
}

func (e *Etcd) start(t testing.TB) {
	t.Helper()
	logf, err := os.OpenFile(e.logPath, os.O_CREATE|os.O_WRONLY|os.O_APPEND, 0o600)
	if err != nil {
		t.Fatal(err)
	}
	defer logf.Close()
	cmd := exec.Command(DebianEtcd, e.args...)
	cmd.Stdout, cmd.Stderr = logf, logf
	cmd.SysProcAttr = &syscall.SysProcAttr{Pdeathsig: syscall.SIGKILL}
	if err := cmd.Start(); err != nil {
		t.Fatalf("start etcd: %v", err)
	}
	exited := make(chan struct{})
	go func() { cmd.Wait(); close(exited) }()
	e.cmd, e.exited = cmd, exited

	deadline := time.Now().Add(20 * time.Second)
	for !etcdHealthy(e.Endpoint) {
		select {
		case <-exited:
			logTail(t, "etcd", e.logPath)
			e.cmd = nil
			t.Fatalf("etcd exited at start: %v", cmd.ProcessState)
		case <-time.After(50 * time.Millisecond):
		}
		if time.Now().After(deadline) {
			logTail(t, "etcd", e.logPath)
			t.Fatal("etcd not healthy after 20s")
		}
	}
}

// kill sends SIGKILL, which ends a paused process too, and reaps it.
func (e *Etcd) kill() {
	if e.cmd == nil {
		return
	}
	e.cmd.Process.Kill()
	<-e.exited
	e.cmd = nil
}

// etcdHealthy reports whether etcd's /health endpoint says it has a leader
// and answers reads.
func etcdHealthy(endpoint string) bool {
	ctx, cancel := context.WithTimeout(context.Background(), time.Second)
	defer cancel()
	req, _ := http.NewRequestWithContext(ctx, "GET", endpoint+"/health", nil)
	resp, err := plainClient.Do(req)
	if err != nil {
		return false
	}
	defer resp.Body.Close()
	body, _ := io.ReadAll(resp.Body)
	return resp.StatusCode == http.StatusOK && strings.Contains(string(body), `"true"`)
}

// freePort returns a loopback address whose port was free a moment ago.
func freePort(t testing.TB) string {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	return ln.Addr().String()
}

// logTail writes the end of a process's log to the test log.
func logTail(t testing.TB, name, path string) {
	t.Helper()
	data, err := os.ReadFile(path)
	if err != nil {
		return
	}
	if len(data) > 4000 {
		data = data[len(data)-4000:]
	}
	t.Logf("%s log (end):\n%s", name, data)
}
