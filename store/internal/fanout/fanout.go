// Package fanout hands a store's changes to any number of watchers, each at
// its own pace. Unlike a buffered channel per watcher it never drops a
// change: a fleet that missed one would serve a stale instance until the
// next restart.
package fanout

import (
	"context"
	"sync"

	"github.com/imds-dev/imds"
)

// Hub delivers published changes to its subscribers in publication order.
// The zero value is ready to use; it is safe for concurrent use.
type Hub struct {
	mu   sync.Mutex // guards subs
	subs map[*sub]struct{}
}

type sub struct {
	mu    sync.Mutex    // guards queue
	queue []imds.Change // published, not yet delivered
	wake  chan struct{} // capacity 1: something was queued
}

// Subscribe returns a channel of the changes published from now until ctx
// ends, when the channel is closed.
func (h *Hub) Subscribe(ctx context.Context) <-chan imds.Change {
	s := &sub{wake: make(chan struct{}, 1)}
	h.mu.Lock()
	if h.subs == nil {
		h.subs = make(map[*sub]struct{})
	}
	h.subs[s] = struct{}{}
	h.mu.Unlock()

	out := make(chan imds.Change)
	go func() {
		defer close(out)
		defer h.remove(s)
		for {
			s.mu.Lock()
			batch := s.queue
			s.queue = nil
			s.mu.Unlock()
			for _, c := range batch {
				select {
				case out <- c:
				case <-ctx.Done():
					return
				}
			}
			select {
			case <-s.wake:
			case <-ctx.Done():
				return
			}
		}
	}()
	return out
}

func (h *Hub) remove(s *sub) {
	h.mu.Lock()
	delete(h.subs, s)
	h.mu.Unlock()
}

// Publish queues c for every subscriber, each with its own copy of the
// instance. Callers that need an order publish under their own write lock.
func (h *Hub) Publish(c imds.Change) {
	h.mu.Lock()
	defer h.mu.Unlock()
	for s := range h.subs {
		s.mu.Lock()
		s.queue = append(s.queue, imds.Change{ID: c.ID, Instance: c.Instance.Clone()})
		s.mu.Unlock()
		select {
		case s.wake <- struct{}{}:
		default:
		}
	}
}
