package fleet

import (
	"context"
	"sort"
	"time"

	"github.com/imds-dev/imds/dataplane"
)

// KeepTrees bounds memory in a large fleet: a rendered tree takes tens of
// kilobytes, so a hundred thousand of them would take gigabytes, while most
// instances read their metadata rarely. Every interval it drops the trees
// of the least recently read instances beyond max; they are rendered again
// on their next request, which costs tens of microseconds. It runs until
// ctx ends. max <= 0 keeps every tree.
func (f *Fleet) KeepTrees(ctx context.Context, max int, interval time.Duration) {
	if max <= 0 {
		return
	}
	t := time.NewTicker(interval)
	defer t.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case <-t.C:
			f.trimTrees(max)
		}
	}
}

// trimTrees drops trees beyond max, least recently read first, keeping a
// tenth of max free so that it does not run again at once.
func (f *Fleet) trimTrees(max int) {
	f.mu.Lock()
	built := make([]*dataplane.View, 0, len(f.byID))
	for _, v := range f.byID {
		if v.Built() {
			built = append(built, v)
		}
	}
	f.mu.Unlock()
	if len(built) <= max {
		return
	}
	sort.Slice(built, func(i, j int) bool { return built[i].LastUsed() < built[j].LastUsed() })
	for _, v := range built[:len(built)-max+max/10] {
		v.DropTree()
	}
}
