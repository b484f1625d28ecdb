//go:build linux

package netns_test

import (
	"fmt"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"
)

// instanceID is the instance every test server serves.
const instanceID = "i-0213abcdef0123456"

// serverConfig is what differs between the test servers.
type serverConfig struct {
	hopLimit  int
	port      int
	keepAlive bool
}

// imdsServer is `imds serve` running in the server namespace, listening on
// the server's IPv4 and IPv6 addresses.
type imdsServer struct {
	v4, v6 string // host:port of each listener
}

// addr returns the listener of family "ipv4" or "ipv6".
func (s *imdsServer) addr(family string) string {
	if family == "ipv6" {
		return s.v6
	}
	return s.v4
}

// serve starts imds in the server namespace with cfg and waits until the
// client namespace gets answers on both listeners. t stops it.
func (tp *topology) serve(t *testing.T, cfg serverConfig) *imdsServer {
	t.Helper()
	bin := imdsBinary(t)
	dir := t.TempDir()
	yaml := fmt.Sprintf(`instance:
  id: %s
  metadata-options:
    http-put-response-hop-limit: %d
    http-protocol-ipv6: enabled
`, instanceID, cfg.hopLimit)
	cfgPath := filepath.Join(dir, "imds.yaml")
	if err := os.WriteFile(cfgPath, []byte(yaml), 0o644); err != nil {
		t.Fatal(err)
	}
	port := strconv.Itoa(cfg.port)
	s := &imdsServer{v4: net.JoinHostPort(srvV4, port), v6: net.JoinHostPort(srvV6, port)}

	args := []string{"netns", "exec", tp.srv, bin, "serve",
		"--listen", s.v4, "--listen", s.v6, "--config", cfgPath,
		// Several servers share the namespace's loopback: the control
		// plane takes any free port, and its key a throwaway directory.
		"--control-listen", "127.0.0.1:0"}
	if cfg.keepAlive {
		args = append(args, "--keep-alive")
	}
	logPath := filepath.Join(dir, "imds.log")
	logFile, err := os.Create(logPath)
	if err != nil {
		t.Fatal(err)
	}
	defer logFile.Close()
	cmd := exec.Command("ip", args...)
	cmd.Env = append(withoutIMDSEnv(os.Environ()), "XDG_STATE_HOME="+dir)
	cmd.Stdout, cmd.Stderr = logFile, logFile
	// ip netns exec becomes imds itself, so the server dies with the test
	// even when the test is killed before its cleanup.
	cmd.SysProcAttr = &syscall.SysProcAttr{Pdeathsig: syscall.SIGKILL}
	if err := cmd.Start(); err != nil {
		t.Fatalf("start imds: %v", err)
	}
	exited := make(chan struct{})
	go func() { cmd.Wait(); close(exited) }()
	t.Cleanup(func() {
		cmd.Process.Signal(syscall.SIGTERM)
		select {
		case <-exited:
		case <-time.After(5 * time.Second):
			cmd.Process.Kill()
			<-exited
		}
		if t.Failed() {
			log, _ := os.ReadFile(logPath)
			t.Logf("imds (hop limit %d) log:\n%s", cfg.hopLimit, log)
		}
	})

	for _, addr := range []string{s.v4, s.v6} {
		if err := waitReady(tp.cli, addr, exited); err != nil {
			t.Fatal(err)
		}
	}
	return s
}

// waitReady polls GET instance-id from namespace ns until it succeeds, the
// server exits or five seconds pass.
func waitReady(ns, addr string, exited <-chan struct{}) error {
	deadline := time.Now().Add(5 * time.Second)
	for {
		a, err := getID(ns, addr)
		if err == nil && a.status == 200 {
			return nil
		}
		select {
		case <-exited:
			return fmt.Errorf("imds on %s exited before answering", addr)
		default:
		}
		if time.Now().After(deadline) {
			return fmt.Errorf("imds on %s not answering from %s: %v", addr, ns, err)
		}
		time.Sleep(50 * time.Millisecond)
	}
}

func getID(ns, addr string) (*answer, error) {
	c, err := dialIn(ns, addr)
	if err != nil {
		return nil, err
	}
	defer c.c.Close()
	return c.do("GET", idPath, time.Second)
}

// withoutIMDSEnv drops IMDS_* variables, which imds reads as flags, so the
// caller's environment cannot change the servers.
func withoutIMDSEnv(env []string) []string {
	var out []string
	for _, kv := range env {
		if !strings.HasPrefix(kv, "IMDS_") {
			out = append(out, kv)
		}
	}
	return out
}
