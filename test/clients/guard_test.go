package clients_test

import (
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
)

// Ensure the harness accepts only http on a loopback IP literal.
func TestCheckLoopback(t *testing.T) {
	tests := []struct {
		endpoint string
		ok       bool
	}{
		{"http://127.0.0.1:1338", true},
		{"http://127.3.2.1:80", true},
		{"http://[::1]:1338", true},
		{"http://169.254.169.254", false},
		{"http://[fd00:ec2::254]", false},
		{"http://169.254.170.2", false},
		{"http://localhost:1338", false},
		{"https://127.0.0.1:1338", false},
		{"http://0.0.0.0:1338", false},
		{"", false},
	}
	for _, tt := range tests {
		t.Run(tt.endpoint, func(t *testing.T) {
			if err := checkLoopback(tt.endpoint); (err == nil) != tt.ok {
				t.Errorf("checkLoopback(%q) = %v, want ok %v", tt.endpoint, err, tt.ok)
			}
		})
	}
}

// Ensure every client script refuses a non-loopback endpoint before it
// loads an SDK. The endpoints tried would still lead to loopback if a guard
// let them through, so a broken guard cannot send traffic elsewhere.
func TestCheckLoopback_Scripts(t *testing.T) {
	scripts := []struct {
		name, interpreter, install, script, arg string
	}{
		{"botocore", "python3", botocoreInstall, filepath.Join("py", "botocore_client.py"), "region"},
		{"cloud-init", "/usr/bin/python3", cloudInitInstall, filepath.Join("py", "cloudinit_crawl.py"), "helper"},
		{"node", "node", nodeInstall, filepath.Join("js", "imds_creds.mjs"), ""},
	}
	for _, sc := range scripts {
		for _, endpoint := range []string{"http://localhost:1", "https://127.0.0.1:1"} {
			t.Run(sc.name+"/"+endpoint, func(t *testing.T) {
				interp := needTool(t, sc.interpreter, sc.install)
				args := []string{filepath.Join(moduleRoot, "test", "clients", sc.script)}
				if sc.arg != "" {
					args = append(args, sc.arg)
				}
				cmd := exec.Command(interp, args...)
				cmd.Env = []string{"PATH=/usr/bin:/bin", "HOME=" + t.TempDir(),
					"AWS_EC2_METADATA_SERVICE_ENDPOINT=" + endpoint}
				out, err := cmd.CombinedOutput()
				if err == nil || !strings.Contains(string(out), "refusing to run") {
					t.Errorf("%s with endpoint %q: %v, output %q; want a refusal", sc.script, endpoint, err, out)
				}
			})
		}
	}
}
