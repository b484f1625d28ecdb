package fleet

import (
	"context"
	"fmt"
	"net/netip"
	"testing"
	"time"

	"github.com/imds-dev/imds"
	"github.com/imds-dev/imds/config"
	"github.com/imds-dev/imds/store/mem"
	"github.com/imds-dev/imds/tree"
)

func build(in *imds.Instance, now time.Time) *tree.Tree { return tree.Build(in, tree.Options{}, now) }

func instance(id string, addrs ...string) *imds.Instance {
	in := config.DefaultInstance(time.Unix(0, 0))
	in.ID = id
	in.Interfaces[0].PrivateIPv4s = nil
	for _, a := range addrs {
		in.Interfaces[0].PrivateIPv4s = append(in.Interfaces[0].PrivateIPv4s, netip.MustParseAddr(a))
	}
	return in
}

// TestFleet_Lookup checks attribution by source address.
func TestFleet_Lookup(t *testing.T) {
	// Ensure each address finds its owner and unknown addresses find nobody.
	f := New(BySource, build)
	f.Apply(instance("i-0000000000000000a", "127.0.0.2", "127.0.0.4"))
	f.Apply(instance("i-0000000000000000b", "127.0.0.3"))
	tests := []struct{ addr, want string }{
		{"127.0.0.2", "i-0000000000000000a"},
		{"127.0.0.4", "i-0000000000000000a"},
		{"127.0.0.3", "i-0000000000000000b"},
		{"127.0.0.5", ""},
	}
	for _, tt := range tests {
		v := f.Lookup(netip.MustParseAddr(tt.addr))
		got := ""
		if v != nil {
			got = v.Instance().ID
		}
		if got != tt.want {
			t.Errorf("Lookup(%s) = %q, want %q", tt.addr, got, tt.want)
		}
	}
}

// TestFleet_Everyone checks the laptop mode.
func TestFleet_Everyone(t *testing.T) {
	// Ensure one instance answers every source, and two fall back to
	// attribution by address.
	f := New(Everyone, build)
	f.Apply(instance("i-0000000000000000a", "10.0.0.1"))
	if v := f.Lookup(netip.MustParseAddr("127.0.0.1")); v == nil {
		t.Fatal("single instance not served to 127.0.0.1")
	}
	f.Apply(instance("i-0000000000000000b", "10.0.0.2"))
	if v := f.Lookup(netip.MustParseAddr("127.0.0.1")); v != nil {
		t.Fatalf("with two instances 127.0.0.1 got %s", v.Instance().ID)
	}
	// Back to one instance: the terminated VM's address must not become
	// the remaining instance's.
	f.Remove("i-0000000000000000b")
	if v := f.Lookup(netip.MustParseAddr("10.0.0.2")); v != nil {
		t.Fatalf("after the second instance went, its address got %s", v.Instance().ID)
	}
}

// TestFleet_ApplyMovesAddresses checks re-indexing and removal.
func TestFleet_ApplyMovesAddresses(t *testing.T) {
	// Ensure an address follows its instance and a terminated instance
	// stops being served.
	f := New(BySource, build)
	f.Apply(instance("i-0000000000000000a", "127.0.0.2"))
	f.Apply(instance("i-0000000000000000a", "127.0.0.9"))
	if f.Lookup(netip.MustParseAddr("127.0.0.2")) != nil {
		t.Error("old address still served")
	}
	if f.Lookup(netip.MustParseAddr("127.0.0.9")) == nil {
		t.Error("new address not served")
	}
	gone := instance("i-0000000000000000a", "127.0.0.9")
	gone.State = "terminated"
	f.Apply(gone)
	if f.Lookup(netip.MustParseAddr("127.0.0.9")) != nil || f.Len() != 0 {
		t.Error("terminated instance still served")
	}
}

// TestFleet_Follow checks that store changes reach the fleet.
func TestFleet_Follow(t *testing.T) {
	// Ensure a fleet following a store sees later puts and deletes.
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	s := mem.New()
	s.Put(ctx, instance("i-0000000000000000a", "127.0.0.2"))
	f := New(BySource, build)
	if err := f.Follow(ctx, s, nil); err != nil {
		t.Fatal(err)
	}
	if f.Len() != 1 {
		t.Fatalf("Len = %d after Follow, want 1", f.Len())
	}
	s.Put(ctx, instance("i-0000000000000000b", "127.0.0.3"))
	s.Delete(ctx, "i-0000000000000000a")
	deadline := time.Now().Add(2 * time.Second)
	for time.Now().Before(deadline) {
		if f.Lookup(netip.MustParseAddr("127.0.0.3")) != nil && f.Lookup(netip.MustParseAddr("127.0.0.2")) == nil {
			return
		}
		time.Sleep(5 * time.Millisecond)
	}
	t.Fatal("store changes did not reach the fleet")
}

// TestFleet_SharedAddress checks the rule for an address two instances claim.
func TestFleet_SharedAddress(t *testing.T) {
	// Ensure the smaller id wins a shared address and the other takes over
	// when the winner goes.
	f := New(BySource, build)
	f.Apply(instance("i-0000000000000000b", "127.0.0.7"))
	f.Apply(instance("i-0000000000000000a", "127.0.0.7"))
	if got := f.Lookup(netip.MustParseAddr("127.0.0.7")).Instance().ID; got != "i-0000000000000000a" {
		t.Fatalf("shared address answered by %s, want the smaller id", got)
	}
	f.Remove("i-0000000000000000a")
	if got := f.Lookup(netip.MustParseAddr("127.0.0.7")).Instance().ID; got != "i-0000000000000000b" {
		t.Fatalf("after removal answered by %s, want the other claimant", got)
	}
}

// BenchmarkFleet_Apply measures adding instances to a large fleet; the cost
// per instance must not grow with the fleet.
func BenchmarkFleet_Apply(b *testing.B) {
	f := New(BySource, build)
	base := instance("i-00000000000000000", "10.0.0.1")
	b.ReportAllocs()
	for i := range b.N {
		in := base.Clone()
		in.ID = fmt.Sprintf("i-%017x", i)
		in.Interfaces[0].PrivateIPv4s = []netip.Addr{netip.AddrFrom4([4]byte{10, byte(i >> 16), byte(i >> 8), byte(i)})}
		f.Apply(in)
	}
}

// TestFleet_ApplyKeepsNewest checks that late deliveries do not roll back.
func TestFleet_ApplyKeepsNewest(t *testing.T) {
	// Ensure an older revision arriving after a newer one is ignored.
	f := New(BySource, build)
	newer := instance("i-0000000000000000a", "127.0.0.2")
	newer.Revision, newer.Options.HTTPTokens = 3, imds.TokensRequired
	older := instance("i-0000000000000000a", "127.0.0.2")
	older.Revision = 2
	f.Apply(newer)
	f.Apply(older)
	if got := f.View("i-0000000000000000a").Instance(); got.Revision != 3 || !got.Options.TokensRequired() {
		t.Fatalf("serving revision %d, want 3", got.Revision)
	}
}

// TestFleet_TrimTrees checks the memory bound on rendered trees.
func TestFleet_TrimTrees(t *testing.T) {
	// Ensure the least recently read trees are dropped first, and a
	// dropped tree is rendered again on its next read.
	f := New(BySource, build)
	base := time.Unix(1_000_000, 0)
	for i := range 20 {
		in := instance(fmt.Sprintf("i-%017x", i), fmt.Sprintf("127.0.1.%d", i+1))
		f.Apply(in)
		f.View(in.ID).Tree(base.Add(time.Duration(i) * time.Second))
	}
	f.trimTrees(10)
	kept := 0
	for i := range 20 {
		v := f.View(fmt.Sprintf("i-%017x", i))
		if v.Built() {
			kept++
			if i < 11 {
				t.Errorf("tree %d kept although older ones were dropped", i)
			}
		}
	}
	if kept != 9 {
		t.Errorf("kept %d trees, want 9 (max minus a tenth)", kept)
	}
	v := f.View(fmt.Sprintf("i-%017x", 0))
	if v.Tree(base.Add(time.Hour)) == nil || !v.Built() {
		t.Error("dropped tree not rendered again")
	}
}

// TestFleet_TerminatedEndsEveryone checks the rule after a restart.
func TestFleet_TerminatedEndsEveryone(t *testing.T) {
	// Ensure a store holding a terminated instance (a fleet's trace) does
	// not put the fleet back into answering everyone with its survivor.
	f := New(Everyone, build)
	f.Apply(instance("i-0000000000000000a", "10.0.0.1"))
	gone := instance("i-0000000000000000b", "10.0.0.2")
	gone.State = "terminated"
	f.Apply(gone)
	if v := f.Lookup(netip.MustParseAddr("10.0.0.2")); v != nil {
		t.Fatalf("terminated instance's address answered by %s", v.Instance().ID)
	}
}
