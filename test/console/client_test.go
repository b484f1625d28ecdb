package console_test

import (
	"context"
	"net"
	"net/http"
	"os"
	"os/exec"
	"strconv"
	"strings"
	"testing"
	"time"
)

// plainGet asks the data plane for the instance id without a token, from
// the source address given, as a script using IMDSv1 would, and returns
// the status. It runs curl when there is one, so the audit names curl as
// the caller; otherwise Go's client from the same address.
func plainGet(t *testing.T, dataURL, source string) int {
	t.Helper()
	if err := checkLoopback(dataURL); err != nil {
		t.Fatal(err)
	}
	target := dataURL + "/latest/meta-data/instance-id"
	if curl, err := exec.LookPath("curl"); err == nil {
		// -q first: no ~/.curlrc; --noproxy: never through a proxy.
		cmd := exec.Command(curl, "-q", "-s", "-o", "/dev/null", "-w", "%{http_code}",
			"--noproxy", "*", "--max-time", "10", "--interface", source, target)
		cmd.Env = append(os.Environ(), "HOME="+t.TempDir())
		out, err := cmd.Output()
		if err != nil {
			t.Fatalf("curl %s: %v", target, err)
		}
		code, err := strconv.Atoi(strings.TrimSpace(string(out)))
		if err != nil {
			t.Fatalf("curl printed %q", out)
		}
		return code
	}

	dialer := &net.Dialer{LocalAddr: &net.TCPAddr{IP: net.ParseIP(source)}, Timeout: 5 * time.Second}
	client := &http.Client{Timeout: 10 * time.Second, Transport: &http.Transport{
		Proxy:       nil,
		DialContext: dialer.DialContext,
	}}
	req, err := http.NewRequestWithContext(context.Background(), http.MethodGet, target, nil)
	if err != nil {
		t.Fatal(err)
	}
	resp, err := client.Do(req)
	if err != nil {
		t.Fatalf("GET %s: %v", target, err)
	}
	resp.Body.Close()
	return resp.StatusCode
}

// needChromium returns Debian's Chromium; when it is missing the test
// fails under CI and skips elsewhere, saying how to install it.
func needChromium(t *testing.T) string {
	t.Helper()
	for _, name := range []string{"chromium", "/usr/bin/chromium"} {
		if path, err := exec.LookPath(name); err == nil {
			return path
		}
	}
	const msg = "chromium not found; install with: apt-get install -y chromium chromium-driver"
	if os.Getenv("CI") != "" {
		t.Fatal(msg)
	}
	t.Skip(msg)
	return ""
}
