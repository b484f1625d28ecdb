package etcd_test

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/imds-dev/imds"
	"github.com/imds-dev/imds/store/etcd"
	"github.com/imds-dev/imds/store/etcd/etcdtest"
	"github.com/imds-dev/imds/store/storetest"
)

func spec(srv *etcdtest.Server, prefix string) string {
	return "etcd://" + strings.TrimPrefix(srv.Endpoint, "http://") + prefix
}

func open(t *testing.T, spec string) *etcd.Store {
	t.Helper()
	s, err := etcd.Open(context.Background(), spec, &etcd.Options{HealthInterval: 200 * time.Millisecond})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { s.Close() })
	return s
}

// Ensure the etcd store passes the store conformance suite, each subtest
// under its own prefix of one embedded etcd.
func TestStore(t *testing.T) {
	srv := etcdtest.Start(t)
	var n atomic.Int32
	storetest.Run(t, func(t *testing.T) imds.Store {
		return open(t, spec(srv, fmt.Sprintf("/suite%d", n.Add(1))))
	})
}

// Ensure specs are split into endpoints and a prefix, and bad ones refused.
func TestParseSpec(t *testing.T) {
	tests := []struct {
		spec      string
		endpoints string
		prefix    string
		err       bool
	}{
		{"etcd://127.0.0.1:2379", "http://127.0.0.1:2379", "/imds", false},
		{"etcd://a:2379,b:2379/fleet/", "http://a:2379,http://b:2379", "/fleet", false},
		{"etcd://a:1/x/y", "http://a:1", "/x/y", false},
		{"http://a:2379", "", "", true},
		{"etcd://a:1,,b:2", "", "", true},
		{"etcd://user@a:1", "", "", true},
	}
	for _, tt := range tests {
		t.Run(tt.spec, func(t *testing.T) {
			eps, prefix, err := etcd.ParseSpec(tt.spec)
			if (err != nil) != tt.err {
				t.Fatalf("err %v, want error %v", err, tt.err)
			}
			if got := strings.Join(eps, ","); got != tt.endpoints || prefix != tt.prefix {
				t.Fatalf("got %q %q, want %q %q", got, prefix, tt.endpoints, tt.prefix)
			}
		})
	}
}

// Ensure two replicas on one etcd see each other's changes and do not lose
// concurrent updates of one instance.
func TestStore_Replicas(t *testing.T) {
	srv := etcdtest.Start(t)
	a, b := open(t, spec(srv, "/r")), open(t, spec(srv, "/r"))
	ctx := context.Background()
	in := storetest.Sample("i-00000000000000001", 1)
	if err := a.Put(ctx, in); err != nil {
		t.Fatal(err)
	}
	eventually(t, func() bool { _, err := b.Get(ctx, in.ID); return err == nil })

	var wg sync.WaitGroup
	for i := range 40 {
		s := []*etcd.Store{a, b}[i%2]
		wg.Go(func() {
			_, err := s.Update(ctx, in.ID, func(in *imds.Instance) error {
				in.LaunchIndex++
				return nil
			})
			if err != nil {
				t.Error(err)
			}
		})
	}
	wg.Wait()
	eventually(t, func() bool {
		x, _ := a.Get(ctx, in.ID)
		y, _ := b.Get(ctx, in.ID)
		return x.LaunchIndex == 40 && y.LaunchIndex == 40
	})
}

// Ensure that while etcd is down reads answer from the cache, health says
// so, and writes fail promptly with ErrUnavailable; and that all recovers
// when etcd is back.
func TestStore_Unreachable(t *testing.T) {
	srv := etcdtest.Start(t)
	s := open(t, spec(srv, "/down"))
	other := open(t, spec(srv, "/down"))
	ctx := context.Background()
	in := storetest.Sample("i-00000000000000001", 1)
	if err := s.Put(ctx, in); err != nil {
		t.Fatal(err)
	}

	stopAt := time.Now()
	srv.Stop()
	t.Logf("stop took %s", time.Since(stopAt).Round(time.Millisecond))
	if _, err := s.Get(ctx, in.ID); err != nil {
		t.Fatalf("read while etcd is down: %v", err)
	}
	if all, err := s.List(ctx); err != nil || len(all) != 1 {
		t.Fatalf("list while etcd is down: %d, %v", len(all), err)
	}
	eventually(t, func() bool { return s.Health() != nil })
	if err := s.Health(); !errors.Is(err, imds.ErrUnavailable) {
		t.Fatalf("health %v, want ErrUnavailable", err)
	}

	writes := []struct {
		name string
		fn   func() error
	}{
		{"put", func() error { return s.Put(ctx, storetest.Sample("i-00000000000000002", 2)) }},
		{"update", func() error {
			_, err := s.Update(ctx, in.ID, func(in *imds.Instance) error { in.LaunchIndex = 9; return nil })
			return err
		}},
		{"delete", func() error { return s.Delete(ctx, in.ID) }},
	}
	for _, w := range writes {
		t.Run(w.name, func(t *testing.T) {
			start := time.Now()
			err := w.fn()
			if !errors.Is(err, imds.ErrUnavailable) {
				t.Fatalf("got %v, want ErrUnavailable", err)
			}
			if d := time.Since(start); d > 4*time.Second {
				t.Fatalf("failed after %s", d)
			}
		})
	}

	start := time.Now()
	srv.Restart(t)
	t.Logf("restart took %s", time.Since(start).Round(time.Millisecond))
	eventually(t, func() bool { return s.Health() == nil })
	t.Logf("healthy %s after etcd restarted", time.Since(start).Round(time.Millisecond))
	got, err := s.Update(ctx, in.ID, func(in *imds.Instance) error { in.LaunchIndex = 7; return nil })
	if err != nil {
		t.Fatalf("update after recovery: %v", err)
	}
	if got.LaunchIndex != 7 {
		t.Fatalf("launch index %d", got.LaunchIndex)
	}
	eventually(t, func() bool {
		x, err := other.Get(ctx, in.ID)
		return err == nil && x.LaunchIndex == 7
	})
}

func eventually(t *testing.T, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(15 * time.Second)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatal("condition not met in 15s")
		}
		time.Sleep(20 * time.Millisecond)
	}
}
