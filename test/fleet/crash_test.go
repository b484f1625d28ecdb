package fleet_test

import (
	"context"
	"errors"
	"fmt"
	"math/rand/v2"
	"path/filepath"
	"slices"
	"strconv"
	"sync"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/ec2"
	"github.com/aws/aws-sdk-go-v2/service/ec2/types"
	"github.com/aws/smithy-go"
	"go.etcd.io/bbolt"

	"github.com/imds-dev/imds/test/fleet/harness"
)

// slots is how many tag keys each tags writer cycles through, besides
// its "stream" tag.
const slots = 10

// writer streams one kind of control call at one instance, one call at a
// time, numbering them from 1. It stops at its first error: after a kill
// every call fails, and the call that was in flight then is the only one
// whose fate is open.
type writer struct {
	id   string // instance
	tags bool   // CreateTags; else ModifyInstanceMetadataOptions

	mu    sync.Mutex // guards the fields below
	sent  int        // number of the last call sent
	acked int        // number of the last call answered 2xx
	slot  [slots]int // tags: number of the last call acknowledged per slot
	err   error      // the error that stopped the writer
	// open holds the calls in flight at each kill: each may or may not
	// have been applied, and a slot keeps such a value until it is next
	// written.
	open []int
}

// hopLimit and tokens are what options call n sets.
func hopLimit(n int) int32 { return int32(n%64 + 1) }

func tokens(n int) types.HttpTokensState {
	if n%2 == 0 {
		return types.HttpTokensStateRequired
	}
	return types.HttpTokensStateOptional
}

// run sends calls until one fails.
func (w *writer) run(c *ec2.Client) {
	for {
		w.mu.Lock()
		w.sent++
		n := w.sent
		w.mu.Unlock()

		ctx, cancel := harness.CallTimeout()
		err := w.call(ctx, c, n)
		cancel()

		w.mu.Lock()
		if err != nil {
			w.err = err
			w.open = append(w.open, n)
			w.mu.Unlock()
			return
		}
		w.acked = n
		w.slot[n%slots] = n
		w.mu.Unlock()
	}
}

func (w *writer) call(ctx context.Context, c *ec2.Client, n int) error {
	if w.tags {
		v := aws.String(strconv.Itoa(n))
		_, err := c.CreateTags(ctx, &ec2.CreateTagsInput{
			Resources: []string{w.id},
			Tags: []types.Tag{
				{Key: aws.String("stream"), Value: v},
				{Key: aws.String(fmt.Sprintf("slot-%d", n%slots)), Value: v},
			},
		})
		return err
	}
	_, err := c.ModifyInstanceMetadataOptions(ctx, &ec2.ModifyInstanceMetadataOptionsInput{
		InstanceId: aws.String(w.id), HttpTokens: tokens(n), HttpPutResponseHopLimit: aws.Int32(hopLimit(n)),
	})
	return err
}

// Ensure every control call `imds serve --data-dir` acknowledged before a
// kill -9 is there after a restart on the same directory (which imports
// the inventory again), and that the bbolt file passes its own check.
func TestServe_KillMidStream(t *testing.T) {
	dir := t.TempDir()
	creds := harness.WriteCredentials(t)
	args := []string{"--data-dir", dir, "--instances", inventory, "--control-credentials", creds.Path}

	var writers []*writer
	for _, id := range []string{webID, apiID, batchID} {
		writers = append(writers, &writer{id: id}, &writer{id: id, tags: true})
	}
	for round := 1; round <= 3; round++ {
		r := harness.StartReplica(t, imdsBin, args...)
		c := harness.EC2(t, r.ControlURL, creds)
		if round > 1 {
			checkAcknowledged(t, c, writers)
		}
		stream(t, r, c, writers)
		checkBolt(t, filepath.Join(dir, "imds.db"))
		if t.Failed() {
			return
		}
	}
	r := harness.StartReplica(t, imdsBin, args...)
	checkAcknowledged(t, harness.EC2(t, r.ControlURL, creds), writers)
}

// stream runs every writer against r and kills r once each writer has a
// few acknowledged calls, at a random moment after that.
func stream(t *testing.T, r *harness.Replica, c *ec2.Client, writers []*writer) {
	t.Helper()
	start := make([]int, len(writers))
	var wg sync.WaitGroup
	for i, w := range writers {
		w.mu.Lock()
		start[i], w.err = w.acked, nil
		w.mu.Unlock()
		wg.Add(1)
		go func() {
			defer wg.Done()
			w.run(c)
		}()
	}
	_, ok := pollUntil(20*time.Second, func() bool {
		for i, w := range writers {
			w.mu.Lock()
			n, err := w.acked-start[i], w.err
			w.mu.Unlock()
			if n < 3 && err == nil {
				return false
			}
		}
		return true
	})
	time.Sleep(rand.N(300 * time.Millisecond))
	r.Kill(t)
	wg.Wait()
	if !ok {
		t.Fatal("writers had no 3 calls acknowledged within 20s")
	}

	total := 0
	for i, w := range writers {
		var api smithy.APIError
		if errors.As(w.err, &api) {
			t.Errorf("%s (tags %v): refused before the kill: %v", w.id, w.tags, w.err)
		}
		total += w.acked - start[i]
	}
	t.Logf("killed imds with %d calls acknowledged in this round", total)
}

// checkAcknowledged compares what the control plane describes with what
// the writers had acknowledged: each value is that of the last
// acknowledged call, or of the call in flight at the kill.
func checkAcknowledged(t *testing.T, c *ec2.Client, writers []*writer) {
	t.Helper()
	ctx, cancel := harness.CallTimeout()
	defer cancel()
	for _, w := range writers {
		if w.tags {
			checkTags(t, ctx, c, w)
		} else {
			checkOptions(t, ctx, c, w)
		}
	}
}

func checkOptions(t *testing.T, ctx context.Context, c *ec2.Client, w *writer) {
	t.Helper()
	out, err := c.DescribeInstances(ctx, &ec2.DescribeInstancesInput{InstanceIds: []string{w.id}})
	if err != nil {
		t.Fatalf("DescribeInstances(%s): %v", w.id, err)
	}
	o := out.Reservations[0].Instances[0].MetadataOptions
	got := fmt.Sprintf("%s/%d", o.HttpTokens, aws.ToInt32(o.HttpPutResponseHopLimit))
	want := func(n int) string { return fmt.Sprintf("%s/%d", tokens(n), hopLimit(n)) }
	if got != want(w.acked) && got != want(w.sent) {
		t.Errorf("%s options = %s, want %s (call %d, acknowledged) or %s (call %d, in flight)",
			w.id, got, want(w.acked), w.acked, want(w.sent), w.sent)
	}
}

func checkTags(t *testing.T, ctx context.Context, c *ec2.Client, w *writer) {
	t.Helper()
	out, err := c.DescribeTags(ctx, &ec2.DescribeTagsInput{
		Filters: []types.Filter{{Name: aws.String("resource-id"), Values: []string{w.id}}},
	})
	if err != nil {
		t.Fatalf("DescribeTags(%s): %v", w.id, err)
	}
	got := map[string]string{}
	for _, tag := range out.Tags {
		got[aws.ToString(tag.Key)] = aws.ToString(tag.Value)
	}
	// check accepts the last acknowledged call of a key, or a later call
	// that was in flight at a kill.
	check := func(key string, acked int, inFlight func(n int) bool) {
		v := got[key]
		n, err := strconv.Atoi(v)
		if v == strconv.Itoa(acked) || err == nil && n > acked && slices.Contains(w.open, n) && inFlight(n) {
			return
		}
		t.Errorf("%s tag %s = %q, want %d (acknowledged) or a later call of %v (in flight at a kill)",
			w.id, key, v, acked, w.open)
	}
	check("stream", w.acked, func(n int) bool { return n == w.sent })
	for k, acked := range w.slot {
		if acked > 0 {
			check(fmt.Sprintf("slot-%d", k), acked, func(n int) bool { return n%slots == k })
		}
	}
}

// checkBolt opens the killed replica's database as bbolt itself would and
// runs bbolt's consistency check over it.
func checkBolt(t *testing.T, path string) {
	t.Helper()
	db, err := bbolt.Open(path, 0o600, &bbolt.Options{ReadOnly: true, Timeout: 2 * time.Second})
	if err != nil {
		t.Fatalf("open %s after kill -9: %v", path, err)
	}
	defer db.Close()
	err = db.View(func(tx *bbolt.Tx) error {
		var errs []error
		for err := range tx.Check() {
			errs = append(errs, err)
		}
		return errors.Join(errs...)
	})
	if err != nil {
		t.Errorf("bbolt check of %s after kill -9: %v", path, err)
	}
}
