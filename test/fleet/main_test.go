// Package fleet_test runs `imds serve` as a fleet does, as separate
// processes: three replicas sharing one etcd (Debian's server, started by
// the test), and one replica on a bbolt data directory killed with SIGKILL
// while control calls stream in. The instances come from
// describe-instances.json, on 127.0.0.11-.13 and a few more 127/8
// addresses; clients bind those addresses to pass for the instances.
package fleet_test

import (
	"fmt"
	"os"
	"path/filepath"
	"testing"

	"github.com/imds-dev/imds/test/fleet/harness"
)

// imdsBin is the imds binary built once for every test here.
var imdsBin string

// inventory is the describe-instances file every replica imports.
var inventory string

// The instances of describe-instances.json and their addresses.
const (
	webID   = "i-0a1b2c3d4e5f60711" // 127.0.0.11, 127.0.0.21; tags in metadata
	apiID   = "i-0a1b2c3d4e5f60712" // 127.0.0.12, 127.0.0.32
	batchID = "i-0a1b2c3d4e5f60713" // 127.0.0.13
)

// owners maps each instance address to its instance id.
var owners = map[string]string{
	"127.0.0.11": webID, "127.0.0.21": webID,
	"127.0.0.12": apiID, "127.0.0.32": apiID,
	"127.0.0.13": batchID,
}

func TestMain(m *testing.M) {
	os.Exit(run(m))
}

func run(m *testing.M) int {
	dir, err := os.MkdirTemp("", "imds-fleet-")
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		return 1
	}
	defer os.RemoveAll(dir)
	// The replicas carry the race detector when the tests do, so that
	// `go test -race` covers the processes it drives.
	if imdsBin, err = harness.Build(dir, raceEnabled); err != nil {
		fmt.Fprintln(os.Stderr, err)
		return 1
	}
	// After the build, which needs the real HOME for Go's caches.
	if err := isolateAWS(dir); err != nil {
		fmt.Fprintln(os.Stderr, err)
		return 1
	}
	if inventory, err = filepath.Abs("describe-instances.json"); err != nil {
		fmt.Fprintln(os.Stderr, err)
		return 1
	}
	return m.Run()
}

// isolateAWS does what shared/testenv.sh does, for this process and the
// replicas it starts: no metadata lookup leaves loopback, no real AWS
// configuration or credentials are read, keys are fake.
func isolateAWS(dir string) error {
	home := filepath.Join(dir, "home")
	if err := os.Mkdir(home, 0o700); err != nil {
		return err
	}
	for _, name := range []string{"AWS_PROFILE", "AWS_CONFIG_FILE", "AWS_SHARED_CREDENTIALS_FILE",
		"AWS_CONTAINER_CREDENTIALS_RELATIVE_URI", "AWS_CONTAINER_CREDENTIALS_FULL_URI"} {
		os.Unsetenv(name)
	}
	for name, value := range map[string]string{
		"AWS_EC2_METADATA_SERVICE_ENDPOINT":      "http://127.0.0.1:1338",
		"AWS_EC2_METADATA_SERVICE_ENDPOINT_MODE": "IPv4",
		"AWS_ACCESS_KEY_ID":                      "AKIAIOSFODNN7EXAMPLE",
		"AWS_SECRET_ACCESS_KEY":                  "wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY",
		"AWS_DEFAULT_REGION":                     "us-east-1",
		"AWS_REGION":                             "us-east-1",
		"HOME":                                   home,
	} {
		os.Setenv(name, value)
	}
	return nil
}
