package fleet_test

import (
	"context"
	"fmt"
	"maps"
	"net/http"
	"slices"
	"sync"
	"sync/atomic"
	"time"

	"github.com/imds-dev/imds/test/fleet/harness"
)

// Phases of a load run, as the outage test moves through them.
const (
	beforeOutage = iota
	duringOutage
	afterOutage
)

// load is a stream of IMDSv2 reads (token PUTs and GETs of instance-id)
// against every replica from every instance address, counting each
// outcome by phase. A read fails when it errs, is not a 200, or names the
// wrong instance.
type load struct {
	phase   atomic.Int32
	ok      [3]atomic.Int64 // successful reads, by phase
	failed  atomic.Int64
	slowest atomic.Int64 // nanoseconds

	mu   sync.Mutex // guards errs
	errs []string   // the first few failures

	stop context.CancelFunc
	wg   sync.WaitGroup
}

// startLoad runs workers readers until stop is called. Each reader pauses
// a couple of milliseconds between reads, so the load stays well within
// what the machine sustains while keeping every replica busy.
func startLoad(c *cluster, workers int) *load {
	ctx, cancel := context.WithCancel(context.Background())
	l := &load{stop: cancel}
	srcs := slices.Sorted(maps.Keys(owners))
	for w := range workers {
		l.wg.Add(1)
		go func() {
			defer l.wg.Done()
			l.read(ctx, c, srcs[w%len(srcs)], w)
		}()
	}
	return l
}

// read is one worker: a fresh token every 50 reads, each read on the next
// replica, so tokens cross replicas all the time.
func (l *load) read(ctx context.Context, c *cluster, src string, w int) {
	from := harness.From(src)
	var tok string
	for i := 0; ctx.Err() == nil; i++ {
		r := c.replicas[(w+i)%len(c.replicas)]
		if i%50 == 0 {
			start := time.Now()
			t, err := harness.Token(from, r.DataURL, 21600)
			l.record(start, src, "PUT token", http.StatusOK, err)
			if err == nil {
				tok = t
			}
		}
		start := time.Now()
		status, body, err := harness.Get(from, r.DataURL, "/latest/meta-data/instance-id", tok)
		if err == nil && status == http.StatusOK && body != owners[src] {
			err = fmt.Errorf("answered %q, want %q", body, owners[src])
		}
		l.record(start, src, "GET instance-id", status, err)
		time.Sleep(2 * time.Millisecond)
	}
}

func (l *load) record(start time.Time, src, what string, status int, err error) {
	d := int64(time.Since(start))
	for {
		old := l.slowest.Load()
		if d <= old || l.slowest.CompareAndSwap(old, d) {
			break
		}
	}
	if err == nil && status == http.StatusOK {
		l.ok[l.phase.Load()].Add(1)
		return
	}
	l.failed.Add(1)
	l.mu.Lock()
	defer l.mu.Unlock()
	if len(l.errs) < 5 {
		l.errs = append(l.errs, fmt.Sprintf("%s from %s: status %d, err %v", what, src, status, err))
	}
}

// finish stops the readers and waits for them.
func (l *load) finish() {
	l.stop()
	l.wg.Wait()
}
