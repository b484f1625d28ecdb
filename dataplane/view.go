package dataplane

import (
	"sync"
	"sync/atomic"
	"time"

	"github.com/imds-dev/imds"
	"github.com/imds-dev/imds/tree"
)

// View is one instance as the data plane serves it: the instance record and
// its rendered tree, rebuilt lazily when the instance changes or the tree's
// validity runs out. Reads take no lock.
type View struct {
	inst  atomic.Pointer[imds.Instance]
	built atomic.Pointer[tree.Tree]
	build func(*imds.Instance, time.Time) *tree.Tree

	mu sync.Mutex // serialises rebuilds, so a burst builds once

	// lastUsed is the unix second of the last Tree call, so that a fleet
	// over its memory budget can drop the trees read least recently.
	lastUsed atomic.Int64
}

// NewView returns a view of in that renders trees with build.
func NewView(in *imds.Instance, build func(*imds.Instance, time.Time) *tree.Tree) *View {
	v := &View{build: build}
	v.inst.Store(in)
	return v
}

// Instance returns the current instance record. Callers must not modify it.
func (v *View) Instance() *imds.Instance { return v.inst.Load() }

// Set replaces the instance record; the next request sees the change.
func (v *View) Set(in *imds.Instance) {
	v.mu.Lock()
	v.inst.Store(in)
	v.built.Store(nil)
	v.mu.Unlock()
}

// Tree returns the tree valid at now, building it if needed.
func (v *View) Tree(now time.Time) *tree.Tree {
	// Write the shared word only when the second changes, so concurrent
	// readers of one instance do not fight over its cache line.
	if sec := now.Unix(); v.lastUsed.Load() != sec {
		v.lastUsed.Store(sec)
	}
	if t := v.built.Load(); t != nil && (t.ValidUntil.IsZero() || now.Before(t.ValidUntil)) {
		return t
	}
	v.mu.Lock()
	defer v.mu.Unlock()
	if t := v.built.Load(); t != nil && (t.ValidUntil.IsZero() || now.Before(t.ValidUntil)) {
		return t
	}
	t := v.build(v.inst.Load(), now)
	v.built.Store(t)
	return t
}

// LastUsed returns the unix second the tree was last asked for.
func (v *View) LastUsed() int64 { return v.lastUsed.Load() }

// Built reports whether the view holds a rendered tree.
func (v *View) Built() bool { return v.built.Load() != nil }

// DropTree forgets the rendered tree to save memory; the next request
// renders it again.
func (v *View) DropTree() {
	v.mu.Lock()
	v.built.Store(nil)
	v.mu.Unlock()
}
