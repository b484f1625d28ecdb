package clients_test

import (
	"bufio"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"
)

// serveOptions says how to start one `imds serve`.
type serveOptions struct {
	config       string // YAML text; empty serves the built-in instance
	port         int    // 0 picks a free port
	identityCert string // file to write the signing certificate to, if set
}

// imdsServer is one running `imds serve` process with its access log.
type imdsServer struct {
	URL  string // http://127.0.0.1:PORT, no trailing slash
	Port int

	cmd  *exec.Cmd
	done chan struct{} // closed when the process has exited

	mu    sync.Mutex
	lines []string // every stderr line, guarded by mu
}

// tokensRequired is a config whose instance is the built-in one with
// http-tokens=required.
const tokensRequired = `instance:
  metadata-options:
    http-tokens: required
`

// startIMDS starts `imds serve` with the access log on and returns once it
// answers GET /. The process is stopped when the test ends, and its log is
// printed if the test failed.
func startIMDS(t testing.TB, opts serveOptions) *imdsServer {
	t.Helper()
	// The control plane gets a free port too, so parallel servers never
	// collide, and its first-start key goes to a throwaway state directory.
	args := []string{"serve", "--listen", fmt.Sprintf("127.0.0.1:%d", opts.port), "--access-log",
		"--control-listen", "127.0.0.1:0"}
	if opts.config != "" {
		path := filepath.Join(t.TempDir(), "imds.yaml")
		if err := os.WriteFile(path, []byte(opts.config), 0o600); err != nil {
			t.Fatalf("write config: %v", err)
		}
		args = append(args, "--config", path)
	}
	if opts.identityCert != "" {
		args = append(args, "--identity-cert", opts.identityCert)
	}

	s := &imdsServer{cmd: exec.Command(imdsBin, args...), done: make(chan struct{})}
	s.cmd.Env = append(imdsEnv(), "XDG_STATE_HOME="+t.TempDir())
	stderr, err := s.cmd.StderrPipe()
	if err != nil {
		t.Fatalf("stderr pipe: %v", err)
	}
	if err := s.cmd.Start(); err != nil {
		t.Fatalf("start imds: %v", err)
	}
	started := make(chan string, 1)
	go s.readLog(stderr, started)
	t.Cleanup(func() { s.stop(t) })

	select {
	case u := <-started:
		s.URL = u
	case <-s.done:
		t.Fatalf("imds serve exited before listening:\n%s", s.log())
	case <-time.After(15 * time.Second):
		t.Fatalf("imds serve did not log listen= within 15s:\n%s", s.log())
	}
	requireLoopback(t, s.URL)
	u, _ := url.Parse(s.URL)
	s.Port, _ = strconv.Atoi(u.Port())
	s.waitReady(t)
	return s
}

// imdsEnv is the server's environment: the test's own minus every IMDS_
// variable, so no flag is set behind the test's back.
func imdsEnv() []string {
	var env []string
	for _, kv := range os.Environ() {
		if !strings.HasPrefix(kv, "IMDS_") {
			env = append(env, kv)
		}
	}
	return env
}

// readLog collects stderr lines and sends the first listen URL on started.
func (s *imdsServer) readLog(r io.Reader, started chan<- string) {
	defer close(s.done)
	sc := bufio.NewScanner(r)
	sc.Buffer(make([]byte, 64*1024), 1024*1024)
	sent := false
	for sc.Scan() {
		line := sc.Text()
		s.mu.Lock()
		s.lines = append(s.lines, line)
		s.mu.Unlock()
		if sent {
			continue
		}
		if v, ok := parseLogLine(line)["listen"]; ok {
			// slog prints the []string of URLs as "[u1 u2]".
			urls := strings.Fields(strings.Trim(v, "[]"))
			if len(urls) > 0 {
				started <- urls[0]
				sent = true
			}
		}
	}
	s.cmd.Wait()
}

// waitReady polls GET / until the server answers at all (with tokens
// required the answer is a 401), then waits for that request's access-log
// line, which comes after the response, so no test counts it as its own.
func (s *imdsServer) waitReady(t testing.TB) {
	t.Helper()
	deadline := time.Now().Add(10 * time.Second)
	answered := false
	for !answered || len(s.access()) == 0 {
		if time.Now().After(deadline) {
			t.Fatalf("imds at %s not ready:\n%s", s.URL, s.log())
		}
		if !answered {
			if resp, err := http.Get(s.URL + "/"); err == nil {
				resp.Body.Close()
				answered = true
				continue
			}
		}
		time.Sleep(20 * time.Millisecond)
	}
}

// stop ends the process and waits for it, so its port is free again.
func (s *imdsServer) stop(t testing.TB) {
	select {
	case <-s.done:
	default:
		s.cmd.Process.Signal(syscall.SIGTERM)
		select {
		case <-s.done:
		case <-time.After(5 * time.Second):
			s.cmd.Process.Kill()
			<-s.done
		}
	}
	if t.Failed() {
		t.Logf("imds log:\n%s", s.log())
	}
}

func (s *imdsServer) log() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return strings.Join(s.lines, "\n")
}

// accessEntry is one access-log line of the data plane.
type accessEntry struct {
	Method string
	Path   string
	Status int
	Token  bool // whether the request carried a token header
}

func (e accessEntry) String() string {
	return fmt.Sprintf("%s %s %d token=%v", e.Method, e.Path, e.Status, e.Token)
}

// mark returns a position in the access log; pass it to accessSince.
func (s *imdsServer) mark() int {
	return len(s.access())
}

// accessSince returns the access-log entries after mark once the log has
// been quiet for a moment: the server writes a line after the response has
// gone out, so a client can finish before its last line appears.
func (s *imdsServer) accessSince(mark int) []accessEntry {
	const quiet = 300 * time.Millisecond
	n := -1
	for stable := time.Duration(0); stable < quiet; {
		time.Sleep(50 * time.Millisecond)
		if m := len(s.access()); m != n {
			n, stable = m, 0
			continue
		}
		stable += 50 * time.Millisecond
	}
	all := s.access()
	if mark > len(all) {
		return nil
	}
	return all[mark:]
}

func (s *imdsServer) access() []accessEntry {
	s.mu.Lock()
	defer s.mu.Unlock()
	var out []accessEntry
	for _, line := range s.lines {
		kv := parseLogLine(line)
		if kv["msg"] != "request" || kv["method"] == "" {
			continue
		}
		status, _ := strconv.Atoi(kv["status"])
		out = append(out, accessEntry{
			Method: kv["method"],
			Path:   kv["path"],
			Status: status,
			Token:  kv["token"] == "true",
		})
	}
	return out
}

// parseLogLine splits a slog text line into its key=value pairs; quoted
// values are unquoted.
func parseLogLine(line string) map[string]string {
	kv := map[string]string{}
	for len(line) > 0 {
		line = strings.TrimLeft(line, " ")
		key, rest, ok := strings.Cut(line, "=")
		if !ok || strings.ContainsAny(key, " \"") {
			return kv
		}
		var val string
		if strings.HasPrefix(rest, `"`) {
			q, err := strconv.QuotedPrefix(rest)
			if err != nil {
				return kv
			}
			val, _ = strconv.Unquote(q)
			rest = rest[len(q):]
		} else {
			val, rest, _ = strings.Cut(rest, " ")
		}
		kv[key] = val
		line = rest
	}
	return kv
}
