package clients_test

import (
	"fmt"
	"net"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
)

// requireLoopback stops the test unless endpoint is a loopback endpoint.
func requireLoopback(t testing.TB, endpoint string) {
	t.Helper()
	if err := checkLoopback(endpoint); err != nil {
		t.Fatalf("refusing to run a client: %v", err)
	}
}

// checkLoopback accepts only an http URL whose host is a loopback IP
// literal. Names are refused too: a name could resolve to a real metadata
// address.
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

// clientEnv returns the environment for one client process, built like
// shared/testenv.sh: the metadata endpoint on loopback, fake static keys for
// anything else, a throwaway HOME with empty AWS config files, and no
// profile, container credentials or proxy. With fromIMDS the static keys are
// left out, so the client has to take its credentials from imds.
func clientEnv(t testing.TB, endpoint string, fromIMDS bool) []string {
	t.Helper()
	requireLoopback(t, endpoint)

	home := t.TempDir()
	configFile := filepath.Join(home, "aws-config")
	credsFile := filepath.Join(home, "aws-credentials")
	for _, f := range []string{configFile, credsFile} {
		if err := os.WriteFile(f, nil, 0o600); err != nil {
			t.Fatalf("write %s: %v", f, err)
		}
	}

	var env []string
	for _, kv := range os.Environ() {
		name, _, _ := strings.Cut(kv, "=")
		if !inheritable(name) {
			continue
		}
		env = append(env, kv)
	}
	env = append(env,
		"HOME="+home,
		"AWS_EC2_METADATA_SERVICE_ENDPOINT="+endpoint,
		"AWS_EC2_METADATA_SERVICE_ENDPOINT_MODE=IPv4",
		"AWS_CONFIG_FILE="+configFile,
		"AWS_SHARED_CREDENTIALS_FILE="+credsFile,
		"AWS_DEFAULT_REGION=us-east-1",
		"AWS_REGION=us-east-1",
		"AWS_PAGER=",
		"NO_PROXY=127.0.0.1,localhost,::1",
		"no_proxy=127.0.0.1,localhost,::1",
	)
	if !fromIMDS {
		env = append(env,
			"AWS_ACCESS_KEY_ID=AKIAIOSFODNN7EXAMPLE",
			"AWS_SECRET_ACCESS_KEY=wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY",
		)
	}
	return env
}

// inheritable reports whether a variable of the test's own environment may
// reach a client. Every AWS setting and proxy is dropped, so nothing from
// the machine can steer a client away from loopback; HOME is replaced.
// The container-credential variables are dropped rather than set empty:
// botocore tries the container provider whenever they are present at all.
func inheritable(name string) bool {
	upper := strings.ToUpper(name)
	switch {
	case strings.HasPrefix(upper, "AWS_"),
		strings.HasSuffix(upper, "_PROXY"),
		upper == "HOME",
		upper == "PYTHONPATH",
		upper == "NODE_OPTIONS":
		return false
	}
	return true
}

// needTool returns the path of a client program. When it is missing the
// test fails under CI and skips elsewhere, naming how to install it.
func needTool(t testing.TB, name, install string) string {
	t.Helper()
	path, err := exec.LookPath(name)
	if err != nil {
		missing(t, name+" not found", install)
	}
	return path
}

// missing fails (CI) or skips (elsewhere) a test whose client is absent.
func missing(t testing.TB, what, install string) {
	t.Helper()
	if os.Getenv("CI") != "" {
		t.Fatalf("%s; install with: %s", what, install)
	}
	t.Skipf("%s; install with: %s", what, install)
}

// clientDir returns a directory under test/clients holding client scripts.
func clientDir(name string) string {
	return filepath.Join(moduleRoot, "test", "clients", name)
}
