package audit

import (
	"fmt"
	"io"
	"net/http"
	"net/url"
	"os"
	"os/exec"
	"runtime"
	"strings"
	"testing"

	"github.com/imds-dev/imds/internal/loopback"
)

// clientArg marks a re-executed test binary as a metadata client; it shows
// in the command line the audit reports.
const clientArg = "imds-audit-client"

// TestMain lets the test binary serve as the client processes of
// TestRecorder_ObserveProcesses: "audit.test imds-audit-client v1 URL".
func TestMain(m *testing.M) {
	if len(os.Args) == 4 && os.Args[1] == clientArg {
		if err := runClient(os.Args[2], os.Args[3]); err != nil {
			fmt.Fprintln(os.Stderr, err)
			os.Exit(1)
		}
		os.Exit(0)
	}
	os.Exit(m.Run())
}

// clientPaths are what each client process asks for.
var clientPaths = []string{"/latest/meta-data/instance-id", "/latest/meta-data/ami-id", "/latest/meta-data/instance-id"}

// runClient asks for clientPaths without a token (v1) or with one (v2).
func runClient(mode, base string) error {
	u, err := url.Parse(base)
	if err != nil || !loopback.IsLiteral(u.Hostname()) {
		return fmt.Errorf("refusing non-loopback endpoint %q", base)
	}
	tok := ""
	if mode == "v2" {
		req, _ := http.NewRequest("PUT", base+"/latest/api/token", nil)
		req.Header.Set("X-aws-ec2-metadata-token-ttl-seconds", "60")
		if tok, err = fetch(req); err != nil {
			return err
		}
	}
	for _, p := range clientPaths {
		req, _ := http.NewRequest("GET", base+p, nil)
		if tok != "" {
			req.Header.Set("X-aws-ec2-metadata-token", tok)
		}
		if _, err := fetch(req); err != nil {
			return err
		}
	}
	return nil
}

func fetch(req *http.Request) (string, error) {
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		return "", err
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	if resp.StatusCode != http.StatusOK {
		return "", fmt.Errorf("%s %s: status %d", req.Method, req.URL.Path, resp.StatusCode)
	}
	return string(b), err
}

// startClient runs the test binary as a client and returns its pid once it
// has finished.
func startClient(t *testing.T, mode, base string) int {
	t.Helper()
	cmd := exec.Command(os.Args[0], clientArg, mode, base)
	cmd.Env = append(os.Environ(), "HTTP_PROXY=", "http_proxy=", "NO_PROXY=*")
	out, err := cmd.CombinedOutput()
	if err != nil {
		t.Fatalf("%s client: %v\n%s", mode, err, out)
	}
	return cmd.Process.Pid
}

// TestRecorder_ObserveProcesses runs two client processes on loopback.
func TestRecorder_ObserveProcesses(t *testing.T) {
	// Ensure the IMDSv1 caller is named by pid and command line and the
	// IMDSv2 caller is not listed.
	if runtime.GOOS != "linux" {
		t.Skip("process lookup needs Linux's /proc")
	}
	rec := NewRecorder(Options{LookupsPerSecond: 100})
	p := startPlane(t, rec.Observe)
	v1 := startClient(t, "v1", p.url)
	v2 := startClient(t, "v2", p.url)

	rep := rec.Report()
	if len(rep.Instances) != 1 {
		t.Fatalf("report lists %d instances, want 1: %+v", len(rep.Instances), rep)
	}
	iu := rep.Instances[0]
	if iu.Served != uint64(len(clientPaths)) || iu.Refused != 0 {
		t.Errorf("served, refused = %d, %d, want %d, 0", iu.Served, iu.Refused, len(clientPaths))
	}
	if len(iu.Callers) != 1 {
		t.Fatalf("callers = %+v (lookups %+v), want the v1 client (pid %d) alone", iu.Callers, rep.Lookups, v1)
	}
	c := iu.Callers[0]
	want := clientArg + " v1 " + p.url
	if c.PID != v1 || !strings.HasSuffix(c.Command, want) || c.Requests != uint64(len(clientPaths)) {
		t.Errorf("caller = %+v, want pid %d running ...%q with %d requests", c, v1, want, len(clientPaths))
	}
	if c.PID == v2 {
		t.Errorf("the v2 client (pid %d) is listed", v2)
	}
	if iu.Unattributed != 0 {
		t.Errorf("unattributed = %d, want 0 (lookups %+v)", iu.Unattributed, rep.Lookups)
	}
	top := PathCount{Path: "/latest/meta-data/instance-id", Requests: 2}
	if len(iu.Paths) != 2 || iu.Paths[0] != top {
		t.Errorf("paths = %+v, want %+v first of two", iu.Paths, top)
	}
}

// TestRecorder_ObserveRefused checks a token-less request refused once
// tokens are required.
func TestRecorder_ObserveRefused(t *testing.T) {
	// Ensure a refused token-less request is counted as refused, not served.
	rec := NewRecorder(Options{})
	p := startPlane(t, rec.Observe)
	p.requireTokens()
	resp, err := http.Get(p.url + "/latest/meta-data/")
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusUnauthorized {
		t.Fatalf("status %d, want 401", resp.StatusCode)
	}
	rep := rec.Report()
	if len(rep.Instances) != 1 || rep.Instances[0].Refused != 1 || rep.Instances[0].Served != 0 {
		t.Errorf("report = %+v, want one refused request", rep.Instances)
	}
}
