package etcd

import (
	"context"
	"fmt"
	"log/slog"
	"sync"
	"time"

	"github.com/imds-dev/imds"
)

// health remembers whether etcd answered the last probe.
type health struct {
	mu    sync.Mutex // guards err and since
	err   error      // nil while etcd answers
	since time.Time  // when err first appeared
}

// set records the outcome of a probe and logs each transition once.
func (h *health) set(err error, log *slog.Logger) {
	h.mu.Lock()
	defer h.mu.Unlock()
	switch {
	case err != nil && h.err == nil:
		h.since = time.Now()
		log.Warn("etcd unreachable; serving the last known state", "err", err)
	case err == nil && h.err != nil:
		log.Info("etcd reachable again", "down", time.Since(h.since).Round(time.Millisecond))
	}
	h.err = err
}

// Health returns nil while etcd answers, and otherwise an error wrapping
// imds.ErrUnavailable that says since when and why it does not. Reads keep
// answering from the cache meanwhile; writes fail.
func (s *Store) Health() error {
	s.health.mu.Lock()
	defer s.health.mu.Unlock()
	if s.health.err == nil {
		return nil
	}
	return fmt.Errorf("etcd unreachable since %s, serving the last known state: %w: %w",
		s.health.since.UTC().Format(time.RFC3339), imds.ErrUnavailable, s.health.err)
}

// probe reads one key every probeEvery until ctx ends. The read is
// linearizable, so it fails when the member it reaches has no quorum.
func (s *Store) probe(ctx context.Context) {
	defer s.done.Done()
	t := time.NewTicker(s.probeEvery)
	defer t.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case <-t.C:
		}
		pctx, cancel := context.WithTimeout(ctx, s.probeEvery)
		_, err := s.cli.Get(pctx, s.prefix+"/health")
		cancel()
		if ctx.Err() != nil {
			return
		}
		s.health.set(err, s.log)
	}
}
