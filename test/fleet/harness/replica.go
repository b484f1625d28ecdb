package harness

import (
	"bufio"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"sync/atomic"
	"syscall"
	"testing"
	"time"
)

// StartTimeout bounds how long StartReplica waits for a replica to serve;
// a 100k-instance import fits in it.
const StartTimeout = 3 * time.Minute

// Replica is one `imds serve` process with its data and control planes on
// ports of 127.0.0.1 chosen at start.
type Replica struct {
	DataURL    string // the data plane, http://127.0.0.1:PORT
	ControlURL string // the control plane (EC2 API, /healthz, /readyz)
	PID        int

	cmd     *exec.Cmd
	logPath string
	exited  chan struct{} // closed once the process has been reaped
	raced   atomic.Bool   // the race detector reported in the log
}

// servingLine is the part of the start-up log line that says where a
// replica listens.
type servingLine struct {
	Msg     string   `json:"msg"`
	Listen  []string `json:"listen"`
	Control string   `json:"control"`
}

// StartReplica runs bin serve with args plus loopback listeners on free
// ports and JSON logs, and returns once the replica serves. It is stopped
// (SIGTERM) when t ends unless Kill or Stop came first; a race report in
// its log then fails t, and a failed t gets the log's end.
func StartReplica(t testing.TB, bin string, args ...string) *Replica {
	t.Helper()
	args = append([]string{"serve", "--listen", "127.0.0.1:0", "--control-listen", "127.0.0.1:0",
		"--log-format", "json"}, args...)
	cmd := exec.Command(bin, args...)
	cmd.Env = append(os.Environ(), "XDG_STATE_HOME="+t.TempDir())
	cmd.SysProcAttr = &syscall.SysProcAttr{Pdeathsig: syscall.SIGKILL}
	stderr, err := cmd.StderrPipe()
	if err != nil {
		t.Fatal(err)
	}
	r := &Replica{cmd: cmd, exited: make(chan struct{})}
	r.logPath = filepath.Join(t.TempDir(), "imds.log")
	logf, err := os.Create(r.logPath)
	if err != nil {
		t.Fatal(err)
	}
	if err := cmd.Start(); err != nil {
		logf.Close()
		t.Fatalf("start imds: %v", err)
	}
	r.PID = cmd.Process.Pid

	serving := make(chan servingLine, 1)
	go func() {
		r.follow(stderr, logf, serving)
		logf.Close()
		cmd.Wait()
		close(r.exited)
	}()
	t.Cleanup(func() { r.finish(t) })

	select {
	case l := <-serving:
		r.DataURL, r.ControlURL = l.Listen[0], l.Control
	case <-r.exited:
		t.Fatalf("imds %s exited at start: %v", strings.Join(args, " "), cmd.ProcessState)
	case <-time.After(StartTimeout):
		t.Fatalf("imds not serving after %v", StartTimeout)
	}
	for _, u := range []string{r.DataURL, r.ControlURL} {
		if err := CheckLoopback(u); err != nil {
			t.Fatal(err)
		}
	}
	return r
}

// follow copies the replica's log to logf, hands on the start-up line and
// notes race reports.
func (r *Replica) follow(stderr io.Reader, logf io.Writer, serving chan<- servingLine) {
	sc := bufio.NewScanner(stderr)
	sc.Buffer(make([]byte, 64<<10), 1<<20)
	for sc.Scan() {
		line := sc.Bytes()
		fmt.Fprintf(logf, "%s\n", line)
		if strings.Contains(string(line), "WARNING: DATA RACE") {
			r.raced.Store(true)
		}
		var l servingLine
		if json.Unmarshal(line, &l) == nil && l.Msg == "imds serving" && len(l.Listen) > 0 {
			select {
			case serving <- l:
			default:
			}
		}
	}
	io.Copy(logf, stderr) // a line too long for the scanner
}

// Kill ends the replica with SIGKILL, as a crash would, and reaps it.
func (r *Replica) Kill(t testing.TB) {
	t.Helper()
	r.cmd.Process.Kill()
	<-r.exited
}

// Stop asks the replica to shut down (SIGTERM) and fails t unless it exits
// cleanly within 10 seconds.
func (r *Replica) Stop(t testing.TB) {
	t.Helper()
	select {
	case <-r.exited:
		return
	default:
	}
	r.cmd.Process.Signal(syscall.SIGTERM)
	select {
	case <-r.exited:
	case <-time.After(10 * time.Second):
		r.cmd.Process.Kill()
		<-r.exited
		t.Errorf("imds pid %d did not stop within 10s of SIGTERM", r.PID)
		return
	}
	if !r.cmd.ProcessState.Success() {
		t.Errorf("imds pid %d stopped with %v", r.PID, r.cmd.ProcessState)
	}
}

// finish stops the replica if it still runs and reports what its log says.
func (r *Replica) finish(t testing.TB) {
	t.Helper()
	r.Stop(t)
	if r.raced.Load() {
		t.Errorf("imds pid %d: the race detector reported a race", r.PID)
	}
	if t.Failed() {
		logTail(t, fmt.Sprintf("imds pid %d", r.PID), r.logPath)
	}
}

// RSS returns the replica's resident set size in bytes, from
// /proc/PID/status.
func (r *Replica) RSS() (int64, error) {
	data, err := os.ReadFile(fmt.Sprintf("/proc/%d/status", r.PID))
	if err != nil {
		return 0, err
	}
	for _, line := range strings.Split(string(data), "\n") {
		if f := strings.Fields(line); len(f) == 3 && f[0] == "VmRSS:" && f[2] == "kB" {
			kb, err := strconv.ParseInt(f[1], 10, 64)
			return kb << 10, err
		}
	}
	return 0, errors.New("rss: no VmRSS line in /proc status")
}

// CPU returns the processor time the replica has used, user and system,
// from /proc/PID/stat.
func (r *Replica) CPU() (time.Duration, error) {
	data, err := os.ReadFile(fmt.Sprintf("/proc/%d/stat", r.PID))
	if err != nil {
		return 0, err
	}
	// The command name, in parentheses, may hold spaces; fields count
	// from after it, utime and stime being the 12th and 13th there.
	_, rest, ok := strings.Cut(string(data), ") ")
	f := strings.Fields(rest)
	if !ok || len(f) < 13 {
		return 0, errors.New("cpu: short /proc stat line")
	}
	var ticks int64
	for _, s := range f[11:13] {
		n, err := strconv.ParseInt(s, 10, 64)
		if err != nil {
			return 0, fmt.Errorf("cpu: %w", err)
		}
		ticks += n
	}
	// Linux reports in USER_HZ, 100 on every architecture Go supports.
	return time.Duration(ticks) * 10 * time.Millisecond, nil
}

// LogPath returns the file holding the replica's log.
func (r *Replica) LogPath() string { return r.logPath }
