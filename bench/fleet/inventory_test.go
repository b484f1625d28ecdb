package fleet_test

import (
	"bytes"
	"fmt"
	"net/netip"
	"os"
	"path/filepath"
	"testing"

	"github.com/imds-dev/imds/bench"
)

// writeInventory writes a describe-instances file of n instances and
// returns its path. bench.WriteDescribeInstances puts instance i on
// 10.x.y.z with x.y.z = i+1; the file moves them to 127.x.y.z, which Linux
// routes to loopback, so that a client can bind each instance's address.
func writeInventory(t *testing.T, n int) string {
	t.Helper()
	var buf bytes.Buffer
	if err := bench.WriteDescribeInstances(&buf, n); err != nil {
		t.Fatal(err)
	}
	data := bytes.ReplaceAll(buf.Bytes(),
		[]byte(`"PrivateIpAddress": "10.`), []byte(`"PrivateIpAddress": "127.`))
	path := filepath.Join(t.TempDir(), fmt.Sprintf("describe-instances-%d.json", n))
	if err := os.WriteFile(path, data, 0o600); err != nil {
		t.Fatal(err)
	}
	return path
}

// address returns the source address of instance i of writeInventory's
// file.
func address(i int) string {
	a := i + 1
	return netip.AddrFrom4([4]byte{127, byte(a >> 16), byte(a >> 8), byte(a)}).String()
}

// instanceID returns the id bench.WriteDescribeInstances gives instance i.
func instanceID(i int) string { return fmt.Sprintf("i-%017x", i) }
