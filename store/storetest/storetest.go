// Package storetest is the conformance suite every imds.Store passes: the
// semantics of store/mem are the reference, and bbolt and etcd are held to
// them by running the same tests.
package storetest

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/netip"
	"sync"
	"testing"
	"time"

	"github.com/imds-dev/imds"
	"github.com/imds-dev/imds/config"
)

// Run runs the suite. open returns a new, empty store for each subtest; the
// store is closed by open's own t.Cleanup if it needs closing. Optional
// interfaces (imds.Watcher, imds.Creator, imds.KeyStore, imds.SecretStore)
// are tested when the store implements them.
func Run(t *testing.T, open func(t *testing.T) imds.Store) {
	tests := []struct {
		name string
		fn   func(t *testing.T, s imds.Store)
	}{
		{"GetMissing", testGetMissing},
		{"PutGet", testPutGet},
		{"PutReplaces", testPutReplaces},
		{"List", testList},
		{"Update", testUpdate},
		{"UpdateMissing", testUpdateMissing},
		{"UpdateFnError", testUpdateFnError},
		{"UpdateKeepsID", testUpdateKeepsID},
		{"Delete", testDelete},
		{"DeepCopies", testDeepCopies},
		{"ConcurrentUpdates", testConcurrentUpdates},
		{"Create", testCreate},
		{"Watch", testWatch},
		{"Revisions", testRevisions},
		{"SigningKeys", testSigningKeys},
		{"ConcurrentAddSigningKey", testConcurrentAddSigningKey},
		{"Secrets", testSecrets},
		{"ConcurrentCreateSecret", testConcurrentCreateSecret},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) { tt.fn(t, open(t)) })
	}
}

// Sample returns a complete, valid instance with the given id whose private
// address is 10.0.x.y derived from n, so that samples do not share addresses.
func Sample(id string, n int) *imds.Instance {
	in := config.DefaultInstance(time.Date(2024, 5, 1, 12, 0, 0, 0, time.UTC))
	in.ID = id
	ni := &in.Interfaces[0]
	ni.PrivateIPv4s = []netip.Addr{netip.AddrFrom4([4]byte{172, 31, byte(n >> 8 & 0x0f), byte(n)})}
	in.Events.Maintenance = []imds.MaintenanceEvent{{
		ID: "instance-event-0123456789abcdef0", Code: "system-reboot", State: imds.EventActive,
		NotBefore: time.Date(2024, 6, 1, 0, 0, 0, 0, time.UTC),
	}}
	return in
}

func ctx(t *testing.T) context.Context {
	c, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	t.Cleanup(cancel)
	return c
}

// same compares instances as a store keeps them: by their JSON form, which
// ignores monotonic clock readings and nil-versus-empty slices. Revision
// is the store's to set, and is checked by testRevisions.
func same(t *testing.T, got, want *imds.Instance) {
	t.Helper()
	got, want = got.Clone(), want.Clone()
	got.Revision, want.Revision = 0, 0
	g, _ := json.Marshal(got)
	w, _ := json.Marshal(want)
	if !bytes.Equal(g, w) {
		t.Fatalf("instance differs:\ngot  %s\nwant %s", g, w)
	}
}

func mustPut(t *testing.T, s imds.Store, in *imds.Instance) {
	t.Helper()
	if err := s.Put(ctx(t), in); err != nil {
		t.Fatalf("put %s: %v", in.ID, err)
	}
}

// Ensure every Put and Update stores a higher revision than the one
// before, and that watchers see the revisions in order.
func testRevisions(t *testing.T, s imds.Store) {
	in := Sample("i-00000000000000001", 1)
	mustPut(t, s, in)
	first, err := s.Get(ctx(t), in.ID)
	if err != nil {
		t.Fatal(err)
	}
	if first.Revision == 0 {
		t.Fatal("Put stored revision 0")
	}
	last := first.Revision
	for i := range 3 {
		got, err := s.Update(ctx(t), in.ID, func(in *imds.Instance) error { in.LaunchIndex = i; return nil })
		if err != nil {
			t.Fatal(err)
		}
		if got.Revision <= last {
			t.Fatalf("Update %d stored revision %d after %d", i, got.Revision, last)
		}
		last = got.Revision
	}
	mustPut(t, s, in) // in still carries revision 0
	again, err := s.Get(ctx(t), in.ID)
	if err != nil {
		t.Fatal(err)
	}
	if again.Revision <= last {
		t.Fatalf("Put over revision %d stored %d", last, again.Revision)
	}
}

// Ensure Get of an unknown id returns ErrNotFound.
func testGetMissing(t *testing.T, s imds.Store) {
	if _, err := s.Get(ctx(t), "i-0000000000000dead"); !errors.Is(err, imds.ErrNotFound) {
		t.Fatalf("got %v, want ErrNotFound", err)
	}
}

// Ensure Get returns what Put stored, field for field.
func testPutGet(t *testing.T, s imds.Store) {
	in := Sample("i-00000000000000001", 1)
	in.UserData = []byte{0, 1, 2, 0xff}
	mustPut(t, s, in)
	got, err := s.Get(ctx(t), in.ID)
	if err != nil {
		t.Fatal(err)
	}
	same(t, got, in)
}

// Ensure a second Put of an id replaces the first.
func testPutReplaces(t *testing.T, s imds.Store) {
	in := Sample("i-00000000000000001", 1)
	mustPut(t, s, in)
	in.InstanceType = "c7g.xlarge"
	mustPut(t, s, in)
	got, err := s.Get(ctx(t), in.ID)
	if err != nil {
		t.Fatal(err)
	}
	if got.InstanceType != "c7g.xlarge" {
		t.Fatalf("instance type %q, want the replacement", got.InstanceType)
	}
}

// Ensure List returns every instance once, and nothing for an empty store.
func testList(t *testing.T, s imds.Store) {
	all, err := s.List(ctx(t))
	if err != nil || len(all) != 0 {
		t.Fatalf("empty store lists %d, %v", len(all), err)
	}
	want := map[string]bool{}
	for i := range 3 {
		id := fmt.Sprintf("i-0000000000000000%d", i)
		mustPut(t, s, Sample(id, i))
		want[id] = true
	}
	all, err = s.List(ctx(t))
	if err != nil {
		t.Fatal(err)
	}
	if len(all) != len(want) {
		t.Fatalf("listed %d, want %d", len(all), len(want))
	}
	for _, in := range all {
		if !want[in.ID] {
			t.Fatalf("unexpected or repeated %s", in.ID)
		}
		delete(want, in.ID)
	}
}

// Ensure Update stores fn's result and returns it.
func testUpdate(t *testing.T, s imds.Store) {
	in := Sample("i-00000000000000001", 1)
	mustPut(t, s, in)
	got, err := s.Update(ctx(t), in.ID, func(in *imds.Instance) error {
		in.Options.HTTPTokens = imds.TokensRequired
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	in.Options.HTTPTokens = imds.TokensRequired
	same(t, got, in)
	stored, err := s.Get(ctx(t), in.ID)
	if err != nil {
		t.Fatal(err)
	}
	same(t, stored, in)
}

// Ensure Update of an unknown id returns ErrNotFound without calling fn.
func testUpdateMissing(t *testing.T, s imds.Store) {
	_, err := s.Update(ctx(t), "i-0000000000000dead", func(*imds.Instance) error {
		t.Error("fn called for a missing instance")
		return nil
	})
	if !errors.Is(err, imds.ErrNotFound) {
		t.Fatalf("got %v, want ErrNotFound", err)
	}
}

// Ensure fn's error comes back unchanged and nothing is stored, even when
// fn changed the instance before failing.
func testUpdateFnError(t *testing.T, s imds.Store) {
	in := Sample("i-00000000000000001", 1)
	mustPut(t, s, in)
	boom := errors.New("boom")
	_, err := s.Update(ctx(t), in.ID, func(in *imds.Instance) error {
		in.InstanceType = "x1.32xlarge"
		in.Tags = append(in.Tags, imds.Tag{Key: "k", Value: "v"})
		return boom
	})
	if err != boom {
		t.Fatalf("got %v, want fn's error itself", err)
	}
	got, err := s.Get(ctx(t), in.ID)
	if err != nil {
		t.Fatal(err)
	}
	same(t, got, in)
}

// Ensure fn cannot move an instance to another id.
func testUpdateKeepsID(t *testing.T, s imds.Store) {
	in := Sample("i-00000000000000001", 1)
	mustPut(t, s, in)
	got, err := s.Update(ctx(t), in.ID, func(in *imds.Instance) error {
		in.ID = "i-00000000000000002"
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	if got.ID != in.ID {
		t.Fatalf("id %s, want %s", got.ID, in.ID)
	}
	if _, err := s.Get(ctx(t), "i-00000000000000002"); !errors.Is(err, imds.ErrNotFound) {
		t.Fatalf("the new id exists: %v", err)
	}
}

// Ensure Delete removes an instance and ignores unknown ids.
func testDelete(t *testing.T, s imds.Store) {
	in := Sample("i-00000000000000001", 1)
	mustPut(t, s, in)
	if err := s.Delete(ctx(t), in.ID); err != nil {
		t.Fatal(err)
	}
	if _, err := s.Get(ctx(t), in.ID); !errors.Is(err, imds.ErrNotFound) {
		t.Fatalf("after delete: %v", err)
	}
	if err := s.Delete(ctx(t), in.ID); err != nil {
		t.Fatalf("second delete: %v", err)
	}
}

// Ensure callers can change what they passed in or got back without
// changing what is stored.
func testDeepCopies(t *testing.T, s imds.Store) {
	in := Sample("i-00000000000000001", 1)
	want := in.Clone()
	mustPut(t, s, in)
	in.Tags[0].Value = "changed after put"
	in.Interfaces[0].PrivateIPv4s[0] = netip.MustParseAddr("10.9.9.9")

	got, err := s.Get(ctx(t), want.ID)
	if err != nil {
		t.Fatal(err)
	}
	got.Tags[0].Value = "changed after get"
	got.IAM.RoleName = "changed"
	list, err := s.List(ctx(t))
	if err != nil {
		t.Fatal(err)
	}
	list[0].Interfaces[0].SecurityGroups[0].Name = "changed after list"
	upd, err := s.Update(ctx(t), want.ID, func(*imds.Instance) error { return nil })
	if err != nil {
		t.Fatal(err)
	}
	upd.Events.Maintenance[0].State = imds.EventCanceled

	got, err = s.Get(ctx(t), want.ID)
	if err != nil {
		t.Fatal(err)
	}
	same(t, got, want)
}

// Ensure concurrent Updates of one instance are serialised: none is lost.
func testConcurrentUpdates(t *testing.T, s imds.Store) {
	const n = 50
	in := Sample("i-00000000000000001", 1)
	in.LaunchIndex = 0
	mustPut(t, s, in)
	var wg sync.WaitGroup
	errs := make(chan error, n)
	for range n {
		wg.Go(func() {
			_, err := s.Update(ctx(t), in.ID, func(in *imds.Instance) error {
				in.LaunchIndex++
				return nil
			})
			errs <- err
		})
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		if err != nil {
			t.Fatal(err)
		}
	}
	got, err := s.Get(ctx(t), in.ID)
	if err != nil {
		t.Fatal(err)
	}
	if got.LaunchIndex != n {
		t.Fatalf("counter %d after %d updates", got.LaunchIndex, n)
	}
}

// Ensure Create adds a new id and refuses a taken one, leaving it as it was.
func testCreate(t *testing.T, s imds.Store) {
	c, ok := s.(imds.Creator)
	if !ok {
		t.Skip("store is no imds.Creator")
	}
	in := Sample("i-00000000000000001", 1)
	if err := c.Create(ctx(t), in); err != nil {
		t.Fatal(err)
	}
	other := in.Clone()
	other.InstanceType = "t3.nano"
	if err := c.Create(ctx(t), other); !errors.Is(err, imds.ErrExists) {
		t.Fatalf("second create: %v, want ErrExists", err)
	}
	got, err := s.Get(ctx(t), in.ID)
	if err != nil {
		t.Fatal(err)
	}
	same(t, got, in)
}

// Ensure a watcher sees every change made after Watch, in order.
func testWatch(t *testing.T, s imds.Store) {
	w, ok := s.(imds.Watcher)
	if !ok {
		t.Skip("store is no imds.Watcher")
	}
	wctx, cancel := context.WithCancel(ctx(t))
	defer cancel()
	ch, err := w.Watch(wctx)
	if err != nil {
		t.Fatal(err)
	}
	a := Sample("i-0000000000000000a", 10)
	b := Sample("i-0000000000000000b", 11)
	mustPut(t, s, a)
	for i := 1; i <= 5; i++ {
		if _, err := s.Update(ctx(t), a.ID, func(in *imds.Instance) error {
			in.LaunchIndex = i
			return nil
		}); err != nil {
			t.Fatal(err)
		}
	}
	if err := s.Delete(ctx(t), a.ID); err != nil {
		t.Fatal(err)
	}
	mustPut(t, s, b)

	want := []string{"a:0", "a:1", "a:2", "a:3", "a:4", "a:5", "a:deleted", "b:0"}
	for i, w := range want {
		select {
		case c := <-ch:
			got := c.ID[len(c.ID)-1:] + ":deleted"
			if c.Instance != nil {
				got = fmt.Sprintf("%s:%d", c.ID[len(c.ID)-1:], c.Instance.LaunchIndex)
			}
			if got != w {
				t.Fatalf("change %d is %s, want %s", i, got, w)
			}
		case <-time.After(10 * time.Second):
			t.Fatalf("change %d (%s) never came", i, w)
		}
	}
}

// Ensure keys are listed by ID, copied, unique by ID and removable.
func testSigningKeys(t *testing.T, s imds.Store) {
	ks, ok := s.(imds.KeyStore)
	if !ok {
		t.Skip("store is no imds.KeyStore")
	}
	keys, err := ks.SigningKeys(ctx(t))
	if err != nil || len(keys) != 0 {
		t.Fatalf("new store has keys %v, %v", keys, err)
	}
	at := time.Date(2024, 5, 1, 0, 0, 0, 0, time.UTC)
	for _, id := range []uint32{3, 1, 2} {
		secret := bytes.Repeat([]byte{byte(id)}, 32)
		k := imds.SigningKey{ID: id, Secret: secret, Created: at.Add(time.Duration(id) * time.Hour)}
		if err := ks.AddSigningKey(ctx(t), k); err != nil {
			t.Fatalf("add %d: %v", id, err)
		}
		secret[0] = 0xee // the store kept its own copy
	}
	dup := imds.SigningKey{ID: 2, Secret: []byte("other"), Created: at}
	if err := ks.AddSigningKey(ctx(t), dup); !errors.Is(err, imds.ErrExists) {
		t.Fatalf("duplicate id: %v, want ErrExists", err)
	}

	keys, err = ks.SigningKeys(ctx(t))
	if err != nil {
		t.Fatal(err)
	}
	if len(keys) != 3 {
		t.Fatalf("%d keys, want 3", len(keys))
	}
	for i, k := range keys {
		id := uint32(i + 1)
		if k.ID != id || !bytes.Equal(k.Secret, bytes.Repeat([]byte{byte(id)}, 32)) ||
			!k.Created.Equal(at.Add(time.Duration(id)*time.Hour)) {
			t.Fatalf("key %d is %+v", i, k)
		}
	}
	keys[0].Secret[0] = 0xee

	if err := ks.RemoveSigningKey(ctx(t), 1); err != nil {
		t.Fatal(err)
	}
	if err := ks.RemoveSigningKey(ctx(t), 99); err != nil {
		t.Fatalf("remove unknown: %v", err)
	}
	keys, err = ks.SigningKeys(ctx(t))
	if err != nil {
		t.Fatal(err)
	}
	if len(keys) != 2 || keys[0].ID != 2 || keys[0].Secret[0] != 2 {
		t.Fatalf("after remove: %+v", keys)
	}
}

// Ensure of many concurrent adds of one key ID exactly one wins.
func testConcurrentAddSigningKey(t *testing.T, s imds.Store) {
	ks, ok := s.(imds.KeyStore)
	if !ok {
		t.Skip("store is no imds.KeyStore")
	}
	const n = 20
	var wg sync.WaitGroup
	errs := make(chan error, n)
	for i := range n {
		wg.Go(func() {
			k := imds.SigningKey{ID: 7, Secret: []byte{byte(i)}, Created: time.Now()}
			errs <- ks.AddSigningKey(ctx(t), k)
		})
	}
	wg.Wait()
	close(errs)
	won := 0
	for err := range errs {
		switch {
		case err == nil:
			won++
		case !errors.Is(err, imds.ErrExists):
			t.Fatal(err)
		}
	}
	if won != 1 {
		t.Fatalf("%d adds won, want 1", won)
	}
}

// Ensure a secret reads back as created, copied both ways, that a second
// create of its name is refused without changing it, and that names are
// kept apart.
func testSecrets(t *testing.T, s imds.Store) {
	ss, ok := s.(imds.SecretStore)
	if !ok {
		t.Skip("store is no imds.SecretStore")
	}
	if v, err := ss.Secret(ctx(t), "credential-seed"); !errors.Is(err, imds.ErrNotFound) {
		t.Fatalf("missing secret: %x, %v, want ErrNotFound", v, err)
	}

	want := map[string][]byte{
		"credential-seed": bytes.Repeat([]byte{0xab}, 32),
		"identity-signer": []byte("-----BEGIN PRIVATE KEY-----\n..."),
	}
	for name, v := range want {
		given := bytes.Clone(v)
		if err := ss.CreateSecret(ctx(t), name, given); err != nil {
			t.Fatalf("create %s: %v", name, err)
		}
		given[0] ^= 0xff // the store kept its own copy
	}
	if err := ss.CreateSecret(ctx(t), "credential-seed", []byte("other")); !errors.Is(err, imds.ErrExists) {
		t.Fatalf("second create: %v, want ErrExists", err)
	}

	for name, v := range want {
		got, err := ss.Secret(ctx(t), name)
		if err != nil {
			t.Fatalf("Secret(%q): %v", name, err)
		}
		if !bytes.Equal(got, v) {
			t.Fatalf("Secret(%q) = %x, want %x", name, got, v)
		}
		got[0] ^= 0xff // and hands out copies
	}
	got, err := ss.Secret(ctx(t), "credential-seed")
	if err != nil || !bytes.Equal(got, want["credential-seed"]) {
		t.Fatalf("after changing a read copy: %x, %v", got, err)
	}
}

// Ensure of many concurrent creates of one secret exactly one wins, and
// that the winner's value is the one kept.
func testConcurrentCreateSecret(t *testing.T, s imds.Store) {
	ss, ok := s.(imds.SecretStore)
	if !ok {
		t.Skip("store is no imds.SecretStore")
	}
	const n = 20
	var wg sync.WaitGroup
	won := make(chan byte, n)
	errs := make(chan error, n)
	for i := range n {
		wg.Go(func() {
			err := ss.CreateSecret(ctx(t), "race", []byte{byte(i)})
			switch {
			case err == nil:
				won <- byte(i)
			case !errors.Is(err, imds.ErrExists):
				errs <- err
			}
		})
	}
	wg.Wait()
	close(won)
	close(errs)
	for err := range errs {
		t.Fatal(err)
	}
	if len(won) != 1 {
		t.Fatalf("%d creates won, want 1", len(won))
	}
	winner := <-won
	got, err := ss.Secret(ctx(t), "race")
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(got, []byte{winner}) {
		t.Fatalf("Secret = %x, want the winner's %x", got, winner)
	}
}
