package control_test

import (
	"bufio"
	"encoding/json"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"
)

var (
	buildOnce sync.Once
	imdsBin   string
	buildErr  error
)

// imdsBinary builds cmd/imds once per test run.
func imdsBinary(t testing.TB) string {
	t.Helper()
	buildOnce.Do(func() {
		_, file, _, _ := runtime.Caller(0)
		root := filepath.Join(filepath.Dir(file), "..", "..")
		dir, err := os.MkdirTemp("", "imds-bin-")
		if err != nil {
			buildErr = err
			return
		}
		imdsBin = filepath.Join(dir, "imds")
		cmd := exec.Command("go", "build", "-o", imdsBin, "./cmd/imds")
		cmd.Dir = root
		if out, err := cmd.CombinedOutput(); err != nil {
			buildErr = err
			imdsBin = string(out)
		}
	})
	if buildErr != nil {
		t.Fatalf("build imds: %v\n%s", buildErr, imdsBin)
	}
	return imdsBin
}

// startServe runs `imds serve` on free loopback ports with dataDir and
// returns the pair it serves, read from its start-up line, and a function
// that stops the process; it is stopped when the test ends at the latest.
func startServe(t testing.TB, dataDir string) (*pair, func()) {
	t.Helper()
	cmd := exec.Command(imdsBinary(t), "serve", "--listen", "127.0.0.1:0", "--control-listen", "127.0.0.1:0",
		"--data-dir", dataDir, "--log-format", "json")
	cmd.Env = []string{"PATH=" + os.Getenv("PATH"), "HOME=" + t.TempDir()}
	stderr, err := cmd.StderrPipe()
	if err != nil {
		t.Fatal(err)
	}
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	done := make(chan struct{})
	var stopOnce sync.Once
	stop := func() {
		stopOnce.Do(func() {
			cmd.Process.Signal(syscall.SIGTERM)
			select {
			case <-done:
			case <-time.After(10 * time.Second):
				cmd.Process.Kill()
				<-done
			}
		})
	}
	t.Cleanup(stop)

	started := make(chan map[string]any, 1)
	var lines []string
	go func() {
		defer close(done)
		sc := bufio.NewScanner(stderr)
		for sc.Scan() {
			lines = append(lines, sc.Text())
			var rec map[string]any
			if json.Unmarshal(sc.Bytes(), &rec) == nil && rec["msg"] == "imds serving" {
				started <- rec
			}
		}
		cmd.Wait()
	}()
	var rec map[string]any
	select {
	case rec = <-started:
	case <-done:
		t.Fatalf("imds serve exited:\n%s", strings.Join(lines, "\n"))
	case <-time.After(30 * time.Second):
		t.Fatalf("imds serve did not start")
	}

	str := func(k string) string { s, _ := rec[k].(string); return s }
	listen, _ := rec["listen"].([]any)
	p := &pair{ControlURL: str("control")}
	if len(listen) > 0 {
		p.DataURL, _ = listen[0].(string)
	}
	p.CredsFile = strings.TrimPrefix(str("control_export"), "export AWS_SHARED_CREDENTIALS_FILE=")
	if p.DataURL == "" || p.ControlURL == "" || p.CredsFile == "" {
		t.Fatalf("start-up line lacks listen, control or control_export: %v", rec)
	}
	return p, stop
}

// Ensure `imds serve` writes a 0600 first-start key that the AWS CLI uses
// through the exported AWS_SHARED_CREDENTIALS_FILE alone, that the seed's
// command takes effect on the data plane at once, and that a restart keeps
// both the key and the change.
func TestServe_FirstStartKeyAndRestart(t *testing.T) {
	dataDir := t.TempDir()
	p, stop := startServe(t, dataDir)
	if want := filepath.Join(dataDir, "control-credentials"); p.CredsFile != want {
		t.Errorf("exported credentials file %q, want %q", p.CredsFile, want)
	}
	fi, err := os.Stat(p.CredsFile)
	if err != nil || fi.Mode().Perm() != 0o600 {
		t.Fatalf("credentials file: %v, mode %v; want 0600", err, fi.Mode().Perm())
	}
	key, _ := os.ReadFile(p.CredsFile)

	var mod struct{ InstanceMetadataOptions metadataOptions }
	awsCLI(t, p, &mod, "ec2", "modify-instance-metadata-options", "--instance-id", instanceID, "--http-tokens", "required")
	if got := curlStatus(t, p, "/latest/meta-data/instance-id"); got != "401" {
		t.Errorf("curl without a token after --http-tokens required: %s, want 401", got)
	}

	stop()
	p, _ = startServe(t, dataDir)
	if again, _ := os.ReadFile(p.CredsFile); string(again) != string(key) {
		t.Errorf("restart changed the credentials file")
	}
	if got := curlStatus(t, p, "/latest/meta-data/instance-id"); got != "401" {
		t.Errorf("curl without a token after a restart: %s, want 401 (the change kept)", got)
	}
	var opts []metadataOptions
	awsCLI(t, p, &opts, "ec2", "describe-instances", "--query", "Reservations[].Instances[].MetadataOptions")
	if len(opts) != 1 || opts[0].HttpTokens != "required" {
		t.Errorf("describe-instances after a restart = %+v", opts)
	}
}
