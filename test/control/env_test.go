package control_test

import (
	"fmt"
	"net"
	"net/url"
	"os"
	"os/exec"
	"strings"
	"testing"
)

// checkLoopback accepts only an http URL whose host is a loopback IP
// literal; a name could resolve to a real address.
func checkLoopback(endpoint string) error {
	u, err := url.Parse(endpoint)
	if err != nil {
		return fmt.Errorf("endpoint %q: %w", endpoint, err)
	}
	ip := net.ParseIP(u.Hostname())
	if u.Scheme != "http" || ip == nil || !ip.IsLoopback() {
		return fmt.Errorf("endpoint %q: not http on a loopback IP", endpoint)
	}
	return nil
}

// clientEnv returns the environment of one client process, built like
// shared/testenv.sh: the metadata endpoint on loopback, the control key
// only through AWS_SHARED_CREDENTIALS_FILE (as a user of imds gets it), a
// throwaway HOME and empty config, and no AWS setting, profile or proxy
// from the machine.
func clientEnv(t testing.TB, p *pair) []string {
	t.Helper()
	for _, u := range []string{p.DataURL, p.ControlURL} {
		if err := checkLoopback(u); err != nil {
			t.Fatalf("refusing to run a client: %v", err)
		}
	}
	home := t.TempDir()
	configFile := home + "/aws-config"
	if err := os.WriteFile(configFile, nil, 0o600); err != nil {
		t.Fatal(err)
	}
	var env []string
	for _, kv := range os.Environ() {
		name, _, _ := strings.Cut(kv, "=")
		upper := strings.ToUpper(name)
		if strings.HasPrefix(upper, "AWS_") || strings.HasSuffix(upper, "_PROXY") ||
			upper == "HOME" || upper == "PYTHONPATH" {
			continue
		}
		env = append(env, kv)
	}
	return append(env,
		"HOME="+home,
		"AWS_EC2_METADATA_SERVICE_ENDPOINT="+p.DataURL,
		"AWS_EC2_METADATA_SERVICE_ENDPOINT_MODE=IPv4",
		"AWS_CONFIG_FILE="+configFile,
		"AWS_SHARED_CREDENTIALS_FILE="+p.CredsFile,
		"AWS_DEFAULT_REGION=us-east-1",
		"AWS_REGION=us-east-1",
		"AWS_PAGER=",
		"IMDS_CONTROL_ENDPOINT="+p.ControlURL,
		"NO_PROXY=127.0.0.1,localhost,::1",
		"no_proxy=127.0.0.1,localhost,::1",
	)
}

// needTool returns a program's path; when it is missing the test fails
// under CI and skips elsewhere, saying how to install it.
func needTool(t testing.TB, name, install string) string {
	t.Helper()
	path, err := exec.LookPath(name)
	if err != nil {
		missing(t, name+" not found", install)
	}
	return path
}

func missing(t testing.TB, what, install string) {
	t.Helper()
	if os.Getenv("CI") != "" {
		t.Fatalf("%s; install with: %s", what, install)
	}
	t.Skipf("%s; install with: %s", what, install)
}

// run runs a client and returns its standard output; a failure ends the
// test with the client's standard error.
func run(t testing.TB, env []string, name string, args ...string) []byte {
	t.Helper()
	out, err := runErr(env, name, args...)
	if err != nil {
		t.Fatalf("%s %s: %v", name, strings.Join(args, " "), err)
	}
	return out
}

func runErr(env []string, name string, args ...string) ([]byte, error) {
	cmd := exec.Command(name, args...)
	cmd.Env = env
	var stderr strings.Builder
	cmd.Stderr = &stderr
	out, err := cmd.Output()
	if err != nil {
		return out, fmt.Errorf("%w\n%s", err, stderr.String())
	}
	return out, nil
}
