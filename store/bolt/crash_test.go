package bolt_test

import (
	"bufio"
	"context"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"go.etcd.io/bbolt"

	"github.com/imds-dev/imds"
	"github.com/imds-dev/imds/store/bolt"
	"github.com/imds-dev/imds/store/storetest"
)

// crashEnv names the database a re-executed test binary writes to until it
// is killed.
const crashEnv = "IMDS_BOLT_CRASH_DB"

const counterID = "i-0000000000000c0de"

// TestMain turns the test binary into the crash test's writer when crashEnv
// is set.
func TestMain(m *testing.M) {
	if path := os.Getenv(crashEnv); path != "" {
		if err := writeUntilKilled(path); err != nil {
			fmt.Fprintln(os.Stderr, err)
			os.Exit(1)
		}
		os.Exit(0)
	}
	os.Exit(m.Run())
}

// writeUntilKilled streams changes and prints "put N" or "update N" after
// each one is acknowledged.
func writeUntilKilled(path string) error {
	s, err := bolt.Open(path, nil)
	if err != nil {
		return err
	}
	ctx := context.Background()
	if err := s.Put(ctx, storetest.Sample(counterID, 0)); err != nil {
		return err
	}
	out := bufio.NewWriter(os.Stdout)
	for n := 1; n < 1_000_000; n++ {
		id := fmt.Sprintf("i-%017d", n)
		if err := s.Put(ctx, storetest.Sample(id, n)); err != nil {
			return err
		}
		fmt.Fprintf(out, "put %d\n", n)
		_, err := s.Update(ctx, counterID, func(in *imds.Instance) error {
			in.LaunchIndex = n
			return nil
		})
		if err != nil {
			return err
		}
		fmt.Fprintf(out, "update %d\n", n)
		out.Flush()
	}
	return nil
}

// Ensure every change acknowledged before a kill -9 is in the file after
// it, and the file opens and checks cleanly.
func TestStore_Crash(t *testing.T) {
	if testing.Short() {
		t.Skip("re-executes the test binary")
	}
	path := filepath.Join(t.TempDir(), "imds.db")
	cmd := exec.Command(os.Args[0], "-test.run=^$")
	cmd.Env = append(os.Environ(), crashEnv+"="+path)
	cmd.Stderr = os.Stderr
	stdout, err := cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}

	// Kill the writer mid-stream, then read what it had acknowledged: the
	// pipe still holds lines written before the kill.
	lines := make(chan string)
	go func() {
		sc := bufio.NewScanner(stdout)
		for sc.Scan() {
			lines <- sc.Text()
		}
		close(lines)
	}()
	var puts, lastUpdate int
	deadline := time.After(30 * time.Second)
	killed := false
	for line := range lines {
		word, num, _ := strings.Cut(line, " ")
		n, _ := strconv.Atoi(num)
		if word == "put" {
			puts = n
		} else {
			lastUpdate = n
		}
		if !killed && n >= 150 {
			cmd.Process.Signal(syscall.SIGKILL)
			killed = true
		}
		select {
		case <-deadline:
			t.Fatal("writer too slow")
		default:
		}
	}
	cmd.Wait()
	if !killed {
		t.Fatal("writer ended before it was killed")
	}
	t.Logf("killed after %d acknowledged puts, last acknowledged update %d", puts, lastUpdate)

	checkFile(t, path)
	s := open(t, path)
	ctx := context.Background()
	for n := 1; n <= puts; n++ {
		if _, err := s.Get(ctx, fmt.Sprintf("i-%017d", n)); err != nil {
			t.Fatalf("acknowledged put %d: %v", n, err)
		}
	}
	c, err := s.Get(ctx, counterID)
	if err != nil {
		t.Fatal(err)
	}
	if c.LaunchIndex < lastUpdate {
		t.Fatalf("counter %d, acknowledged %d", c.LaunchIndex, lastUpdate)
	}
}

// checkFile runs bbolt's consistency check over the file.
func checkFile(t *testing.T, path string) {
	t.Helper()
	db, err := bbolt.Open(path, 0o600, &bbolt.Options{ReadOnly: true, Timeout: time.Second})
	if err != nil {
		t.Fatalf("reopen after crash: %v", err)
	}
	defer db.Close()
	err = db.View(func(tx *bbolt.Tx) error {
		for err := range tx.Check() {
			return err
		}
		return nil
	})
	if err != nil {
		t.Fatalf("check after crash: %v", err)
	}
}
