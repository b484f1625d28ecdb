// Package fault injects failures into the data plane so that client code
// can be tested against a slow, failing or throttling metadata service:
// added latency, 500 and 503 answers, EC2's 429 throttling answer and
// dropped connections, per instance and path, for a number of requests or
// a time window. An [Injector] is the data plane's Before hook; [Handler]
// serves the control endpoints that change its rules at run time.
package fault

import (
	"errors"
	"fmt"
	"strconv"
	"sync"
	"sync/atomic"
	"time"

	"github.com/imds-dev/imds/fault/rule"
)

// MaxRules bounds how many rules an Injector holds; each request walks
// them all.
const MaxRules = 256

// Errors of Add and Remove.
var (
	ErrNotFound  = errors.New("no such fault rule")
	ErrDuplicate = errors.New("a fault rule with this id exists")
	ErrTooMany   = fmt.Errorf("too many fault rules (at most %d)", MaxRules)
)

// Options configure New. The zero value is ready to use.
type Options struct {
	// KeepAlive must match the data plane's setting, so that injected
	// error pages carry Connection: close exactly when real ones do.
	KeepAlive bool
	// Now is the clock for windows; default time.Now.
	Now func() time.Time
}

// Injector holds fault rules and applies them to data-plane requests. It
// is safe for concurrent use. With no rule set, its Before hook costs one
// atomic load.
type Injector struct {
	keepAlive bool
	now       func() time.Time

	// active is what requests read: the live rules in the order they were
	// added, nil when there are none. Writers replace it under mu.
	active atomic.Pointer[[]*live]

	mu    sync.Mutex // guards rules, seq
	rules []*live
	seq   int // last number used for a generated id
}

// live is a rule being applied, with its counters.
type live struct {
	rule.Rule
	remaining atomic.Int64 // requests left of Count; unused when Count is 0
	hits      atomic.Int64 // requests the rule acted on
}

// New returns an Injector without rules.
func New(o Options) *Injector {
	if o.Now == nil {
		o.Now = time.Now
	}
	return &Injector{keepAlive: o.KeepAlive, now: o.Now}
}

// Entry is a rule as listed: its written form, with how many requests it
// acted on and, for a rule with a count, how many it has left.
type Entry struct {
	rule.Spec
	Remaining *int64 `json:"remaining,omitempty"`
	Hits      int64  `json:"hits"`
}

// Add checks r, gives it an id when it has none ("f1", "f2", ...) and puts
// it after the existing rules. It returns the rule as stored, or a
// *rule.FieldError, ErrDuplicate or ErrTooMany.
func (i *Injector) Add(r rule.Rule) (rule.Rule, error) {
	now := i.now()
	if err := r.Check(now); err != nil {
		return rule.Rule{}, err
	}
	i.mu.Lock()
	defer i.mu.Unlock()
	i.pruneLocked(now)
	if len(i.rules) >= MaxRules {
		return rule.Rule{}, ErrTooMany
	}
	if r.ID == "" {
		r.ID = i.nextIDLocked()
	} else if i.findLocked(r.ID) >= 0 {
		return rule.Rule{}, fmt.Errorf("%w: %s", ErrDuplicate, r.ID)
	}
	l := &live{Rule: r}
	l.remaining.Store(r.Count)
	i.rules = append(i.rules, l)
	i.publishLocked()
	return r, nil
}

// Remove deletes the rule with the given id, or returns ErrNotFound.
func (i *Injector) Remove(id string) error {
	i.mu.Lock()
	defer i.mu.Unlock()
	k := i.findLocked(id)
	if k < 0 {
		return fmt.Errorf("%w: %s", ErrNotFound, id)
	}
	i.rules = append(i.rules[:k:k], i.rules[k+1:]...)
	i.publishLocked()
	return nil
}

// Clear deletes every rule and returns how many there were.
func (i *Injector) Clear() int {
	i.mu.Lock()
	defer i.mu.Unlock()
	n := len(i.rules)
	i.rules = nil
	i.publishLocked()
	return n
}

// List returns the rules still in force, in the order they apply. Rules
// whose count is used up or whose window has closed are gone.
func (i *Injector) List() []Entry {
	i.mu.Lock()
	defer i.mu.Unlock()
	i.pruneLocked(i.now())
	out := make([]Entry, 0, len(i.rules))
	for _, l := range i.rules {
		e := Entry{Spec: l.Spec(), Hits: l.hits.Load()}
		if l.Count > 0 {
			left := max(l.remaining.Load(), 0)
			e.Remaining = &left
		}
		out = append(out, e)
	}
	return out
}

// prune drops dead rules; requests call it when they meet one.
func (i *Injector) prune() {
	i.mu.Lock()
	i.pruneLocked(i.now())
	i.mu.Unlock()
}

// pruneLocked drops rules that can no longer act. i.mu must be held.
func (i *Injector) pruneLocked(now time.Time) {
	kept := i.rules[:0:0]
	for _, l := range i.rules {
		if !l.dead(now) {
			kept = append(kept, l)
		}
	}
	if len(kept) != len(i.rules) {
		i.rules = kept
		i.publishLocked()
	}
}

// publishLocked makes the current rules the ones requests see. The slice
// handed out is never changed afterwards. i.mu must be held.
func (i *Injector) publishLocked() {
	if len(i.rules) == 0 {
		i.rules = nil
		i.active.Store(nil)
		return
	}
	set := append([]*live(nil), i.rules...)
	i.active.Store(&set)
}

func (i *Injector) findLocked(id string) int {
	for k, l := range i.rules {
		if l.ID == id {
			return k
		}
	}
	return -1
}

// nextIDLocked returns the first generated id not taken by a rule that
// was given its id by hand. i.mu must be held.
func (i *Injector) nextIDLocked() string {
	for {
		i.seq++
		id := "f" + strconv.Itoa(i.seq)
		if i.findLocked(id) < 0 {
			return id
		}
	}
}

// dead reports whether the rule can no longer act: its count is used up or
// its window has closed.
func (l *live) dead(now time.Time) bool {
	return l.Count > 0 && l.remaining.Load() <= 0 || l.Ended(now)
}

// take claims one use of the rule for a request. It fails when another
// request took the last one.
func (l *live) take() bool {
	if l.Count == 0 {
		l.hits.Add(1)
		return true
	}
	for {
		n := l.remaining.Load()
		if n <= 0 {
			return false
		}
		if l.remaining.CompareAndSwap(n, n-1) {
			l.hits.Add(1)
			return true
		}
	}
}
