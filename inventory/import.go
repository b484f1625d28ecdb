package inventory

import (
	"context"
	"errors"
	"sync"
	"sync/atomic"

	"github.com/imds-dev/imds"
)

// bulkCreator is implemented by stores that can create many instances in
// one durable step (store/bolt: one fsync per chunk instead of one each).
type bulkCreator interface {
	CreateAll(ctx context.Context, ins []*imds.Instance) (added int, err error)
}

// chunk is how many instances one bulk step stores.
const chunk = 2000

// workers is how many creates run at once against a store without bulk
// creation, so that a networked store's round trips overlap.
const workers = 32

// Import stores the instances whose ids s does not hold yet and reports how
// many it added. It never replaces an instance already stored: importing
// the same file at every start adds what is new and leaves whatever the
// control plane changed since, including terminated instances as long as
// the store keeps them. Stores implementing imds.Creator make this atomic
// per instance; with others a change made between the check and the write
// could be overwritten.
func Import(ctx context.Context, s imds.Store, ins []*imds.Instance) (added int, err error) {
	switch st := s.(type) {
	case bulkCreator:
		for start := 0; start < len(ins); start += chunk {
			n, err := st.CreateAll(ctx, ins[start:min(start+chunk, len(ins))])
			added += n
			if err != nil {
				return added, err
			}
		}
		return added, nil
	case imds.Creator:
		// Skip what the store already holds before asking it to create:
		// a replica's reads come from its cache, while each create is a
		// round trip (a restart re-imports the whole inventory).
		return parallel(ctx, ins, func(ctx context.Context, in *imds.Instance) error {
			if _, err := s.Get(ctx, in.ID); err == nil {
				return imds.ErrExists
			}
			return st.Create(ctx, in)
		})
	}
	return parallel(ctx, ins, func(ctx context.Context, in *imds.Instance) error {
		_, err := s.Get(ctx, in.ID)
		switch {
		case err == nil:
			return imds.ErrExists
		case !errors.Is(err, imds.ErrNotFound):
			return err
		}
		return s.Put(ctx, in)
	})
}

// parallel runs create over ins with a few workers, counting successes and
// ignoring ErrExists; it stops at the first other error.
func parallel(ctx context.Context, ins []*imds.Instance, create func(context.Context, *imds.Instance) error) (int, error) {
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	var (
		next, added atomic.Int64
		once        sync.Once
		first       error
		wg          sync.WaitGroup
	)
	for range min(workers, len(ins)) {
		wg.Go(func() {
			for ctx.Err() == nil {
				i := next.Add(1) - 1
				if i >= int64(len(ins)) {
					return
				}
				err := create(ctx, ins[i])
				switch {
				case err == nil:
					added.Add(1)
				case !errors.Is(err, imds.ErrExists):
					once.Do(func() { first = err; cancel() })
				}
			}
		})
	}
	wg.Wait()
	if first == nil && ctx.Err() != nil {
		first = ctx.Err()
	}
	return int(added.Load()), first
}
