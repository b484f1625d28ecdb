// Package fleet keeps the data plane's views of many instances in step with
// a store, and finds the instance behind a request by its source address.
//
// Reads (Lookup) take no lock: the address index is a sync.Map updated per
// address, so a request costs one atomic load and one map lookup however
// large the fleet, and a change costs only its own addresses.
package fleet

import (
	"context"
	"log/slog"
	"net/netip"
	"slices"
	"sync"
	"sync/atomic"
	"time"

	"github.com/imds-dev/imds"
	"github.com/imds-dev/imds/dataplane"
	"github.com/imds-dev/imds/tree"
)

// Mode says how a request is attributed to an instance.
type Mode int

const (
	// BySource answers each request with the instance that owns its source
	// address; unknown sources are refused.
	BySource Mode = iota
	// Everyone answers every request with the fleet's only instance, as a
	// laptop or CI setup wants. Once the fleet has held more than one
	// instance it behaves as BySource for good: otherwise terminating the
	// launched VMs would hand their addresses the remaining instance's
	// identity and credentials.
	Everyone
)

var _ dataplane.Directory = (*Fleet)(nil)

// Fleet is a dataplane.Directory over a changing set of instances. It is
// safe for concurrent use.
type Fleet struct {
	build func(*imds.Instance, time.Time) *tree.Tree
	mode  Mode

	mu     sync.Mutex                 // serialises changes; guards byID, owners and wasFleet
	byID   map[string]*dataplane.View // keyed by instance id
	owners map[netip.Addr][]string    // ids claiming each address, keyed by address
	// wasFleet records that more than one instance was served at once,
	// which ends Everyone mode.
	wasFleet bool

	// byAddr maps each address to the view answering it. Changes touch
	// only the addresses of the instance that changed, so applying one
	// instance costs the same in a fleet of one or of a hundred thousand.
	byAddr sync.Map                       // netip.Addr → *dataplane.View
	only   atomic.Pointer[dataplane.View] // the single instance, in Everyone mode
}

// New returns an empty fleet whose views render trees with build.
func New(mode Mode, build func(*imds.Instance, time.Time) *tree.Tree) *Fleet {
	return &Fleet{
		build:  build,
		mode:   mode,
		byID:   make(map[string]*dataplane.View),
		owners: make(map[netip.Addr][]string),
	}
}

// Lookup returns the view answering requests from addr, or nil.
func (f *Fleet) Lookup(addr netip.Addr) *dataplane.View {
	if v := f.only.Load(); v != nil {
		return v
	}
	if v, ok := f.byAddr.Load(addr); ok {
		return v.(*dataplane.View)
	}
	return nil
}

// View returns the view of the instance with the given id, or nil.
func (f *Fleet) View(id string) *dataplane.View {
	f.mu.Lock()
	defer f.mu.Unlock()
	return f.byID[id]
}

// Len returns the number of instances served.
func (f *Fleet) Len() int {
	f.mu.Lock()
	defer f.mu.Unlock()
	return len(f.byID)
}

// Apply serves in from now on, replacing any earlier version of it. A
// terminated instance is removed. Apply returns once the data plane answers
// with the new version, which is what lets the control plane enforce a
// change before it acknowledges it.
func (f *Fleet) Apply(in *imds.Instance) {
	if in.State == "terminated" {
		// A terminated instance is a fleet's trace, even after a restart
		// that never served it: its address must stay refused.
		f.Remove(in.ID)
		f.mu.Lock()
		f.wasFleet = true
		f.updateOnlyLocked()
		f.mu.Unlock()
		return
	}
	f.mu.Lock()
	defer f.mu.Unlock()
	if v, ok := f.byID[in.ID]; ok {
		old := v.Instance()
		if in.Revision != 0 && in.Revision <= old.Revision {
			// Already serving this version or a newer one: a watch can
			// deliver a change after the control plane applied a later one.
			return
		}
		v.Set(in)
		if !sameAddresses(old, in) {
			f.releaseLocked(in.ID, old.Addresses())
			f.claimLocked(in.ID, in.Addresses())
		}
		return
	}
	f.byID[in.ID] = dataplane.NewView(in, f.build)
	f.claimLocked(in.ID, in.Addresses())
	f.updateOnlyLocked()
}

// Remove stops serving the instance with the given id.
func (f *Fleet) Remove(id string) {
	f.mu.Lock()
	defer f.mu.Unlock()
	v, ok := f.byID[id]
	if !ok {
		return
	}
	delete(f.byID, id)
	f.releaseLocked(id, v.Instance().Addresses())
	f.updateOnlyLocked()
}

// claimLocked records id as a claimant of addrs and republishes their
// owners. f.mu must be held.
func (f *Fleet) claimLocked(id string, addrs []netip.Addr) {
	for _, a := range addrs {
		if !slices.Contains(f.owners[a], id) {
			f.owners[a] = append(f.owners[a], id)
		}
		f.publishLocked(a)
	}
}

// releaseLocked withdraws id's claim on addrs. f.mu must be held.
func (f *Fleet) releaseLocked(id string, addrs []netip.Addr) {
	for _, a := range addrs {
		ids := slices.DeleteFunc(f.owners[a], func(o string) bool { return o == id })
		if len(ids) == 0 {
			delete(f.owners, a)
		} else {
			f.owners[a] = ids
		}
		f.publishLocked(a)
	}
}

// publishLocked makes the address answer with its owner. When two
// instances claim one address, the one with the smaller id wins, so that
// every replica makes the same choice. f.mu must be held.
func (f *Fleet) publishLocked(a netip.Addr) {
	ids := f.owners[a]
	if len(ids) == 0 {
		f.byAddr.Delete(a)
		return
	}
	f.byAddr.Store(a, f.byID[slices.Min(ids)])
}

// updateOnlyLocked sets the single instance of Everyone mode. f.mu must be
// held.
func (f *Fleet) updateOnlyLocked() {
	if len(f.byID) > 1 {
		f.wasFleet = true
	}
	var only *dataplane.View
	if f.mode == Everyone && !f.wasFleet && len(f.byID) == 1 {
		for _, v := range f.byID {
			only = v
		}
	}
	f.only.Store(only)
}

func sameAddresses(a, b *imds.Instance) bool {
	x, y := a.Addresses(), b.Addresses()
	if len(x) != len(y) {
		return false
	}
	for i := range x {
		if x[i] != y[i] {
			return false
		}
	}
	return true
}

// Follow loads every instance of s and, when s is an imds.Watcher, keeps
// applying its changes until ctx ends. Changes made through this process's
// control plane are applied directly as well; applying twice is harmless.
func (f *Fleet) Follow(ctx context.Context, s imds.Store, logger *slog.Logger) error {
	var changes <-chan imds.Change
	if w, ok := s.(imds.Watcher); ok {
		// Watch before listing, so no change falls between the two.
		ch, err := w.Watch(ctx)
		if err != nil {
			return err
		}
		changes = ch
	}
	all, err := s.List(ctx)
	if err != nil {
		return err
	}
	for _, in := range all {
		f.Apply(in)
	}
	if changes == nil {
		return nil
	}
	go func() {
		for c := range changes {
			if c.Instance == nil {
				f.Remove(c.ID)
				continue
			}
			f.Apply(c.Instance)
		}
		if logger != nil {
			logger.Debug("store watch ended")
		}
	}()
	return nil
}
