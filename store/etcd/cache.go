package etcd

import (
	"context"
	"encoding/json"
	"fmt"
	"strconv"
	"strings"
	"time"

	clientv3 "go.etcd.io/etcd/client/v3"

	"github.com/imds-dev/imds"
)

// load fills the cache with everything under the prefix, publishing the
// differences from what the cache held before (none on first load).
func (s *Store) load(ctx context.Context) error {
	resp, err := s.cli.Get(ctx, s.prefix+"/", clientv3.WithPrefix())
	if err != nil {
		return unavailable("load "+s.prefix, err)
	}
	instances := make(map[string]*imds.Instance, len(resp.Kvs))
	keys := make(map[uint32]imds.SigningKey)
	for _, kv := range resp.Kvs {
		s.decode(string(kv.Key), kv.Value, instances, keys)
	}

	s.mu.Lock()
	defer s.mu.Unlock()
	for id, old := range s.instances {
		if _, ok := instances[id]; !ok {
			s.hub.Publish(imds.Change{ID: id})
		} else if !sameJSON(old, instances[id]) {
			s.hub.Publish(imds.Change{ID: id, Instance: instances[id]})
		}
	}
	if s.instances != nil {
		for id, in := range instances {
			if _, ok := s.instances[id]; !ok {
				s.hub.Publish(imds.Change{ID: id, Instance: in})
			}
		}
	}
	s.instances, s.keys = instances, keys
	s.advanceLocked(resp.Header.Revision)
	return nil
}

// follow keeps the cache in step with etcd until ctx ends. The watch
// resumes by itself after a connection loss; when it cannot (the revision
// it needs was compacted away), the cache is reloaded whole.
func (s *Store) follow(ctx context.Context) {
	defer s.done.Done()
	for ctx.Err() == nil {
		s.mu.RLock()
		next := s.rev + 1
		s.mu.RUnlock()
		err := s.watch(ctx, next)
		if ctx.Err() != nil {
			return
		}
		s.log.Warn("etcd watch ended; reloading", "err", err)
		for ctx.Err() == nil {
			lctx, cancel := context.WithTimeout(ctx, 5*time.Second)
			err := s.load(lctx)
			cancel()
			if err == nil {
				break
			}
			s.health.set(fmt.Errorf("reload cache: %w", err), s.log)
			select {
			case <-ctx.Done():
			case <-time.After(time.Second):
			}
		}
	}
}

// watch applies changes from revision from on, and returns why it stopped.
func (s *Store) watch(ctx context.Context, from int64) error {
	wctx, cancel := context.WithCancel(clientv3.WithRequireLeader(ctx))
	defer cancel()
	ch := s.cli.Watch(wctx, s.prefix+"/", clientv3.WithPrefix(), clientv3.WithRev(from),
		clientv3.WithProgressNotify())
	for resp := range ch {
		if resp.CompactRevision != 0 {
			return fmt.Errorf("revision %d compacted", from)
		}
		if err := resp.Err(); err != nil {
			return err
		}
		s.apply(resp)
	}
	return ctx.Err()
}

// apply updates the cache with one watch response and publishes its
// changes, in revision order.
func (s *Store) apply(resp clientv3.WatchResponse) {
	s.mu.Lock()
	defer s.mu.Unlock()
	rev := s.rev
	for _, ev := range resp.Events {
		key := string(ev.Kv.Key)
		rev = ev.Kv.ModRevision
		if ev.Type == clientv3.EventTypeDelete {
			if id, ok := strings.CutPrefix(key, s.prefix+"/instances/"); ok {
				if _, had := s.instances[id]; had {
					delete(s.instances, id)
					s.hub.Publish(imds.Change{ID: id})
				}
			} else if id, ok := s.keyID(key); ok {
				delete(s.keys, id)
			}
			continue
		}
		if in := s.decode(key, ev.Kv.Value, s.instances, s.keys); in != nil {
			s.hub.Publish(imds.Change{ID: in.ID, Instance: in})
		}
	}
	if resp.IsProgressNotify() {
		// Every change up to the header's revision has been delivered.
		rev = max(rev, resp.Header.Revision)
	}
	s.advanceLocked(rev)
}

// decode files one key's value into instances or keys and returns the
// instance it decoded, if any. Values that do not parse are logged and
// skipped: one bad write must not stop a replica from following the rest.
func (s *Store) decode(key string, v []byte, instances map[string]*imds.Instance, keys map[uint32]imds.SigningKey) *imds.Instance {
	if id, ok := strings.CutPrefix(key, s.prefix+"/instances/"); ok {
		in := new(imds.Instance)
		if err := json.Unmarshal(v, in); err != nil {
			s.log.Error("skip undecodable instance", "key", key, "err", err)
			return nil
		}
		in.ID = id
		instances[id] = in
		return in
	}
	if id, ok := s.keyID(key); ok {
		var k imds.SigningKey
		if err := json.Unmarshal(v, &k); err != nil {
			s.log.Error("skip undecodable token key", "key", key, "err", err)
			return nil
		}
		keys[id] = k
	}
	return nil
}

func (s *Store) keyID(key string) (uint32, bool) {
	rest, ok := strings.CutPrefix(key, s.prefix+"/keys/")
	if !ok {
		return 0, false
	}
	id, err := strconv.ParseUint(rest, 10, 32)
	return uint32(id), err == nil
}

// advanceLocked records that the cache reflects rev. s.mu must be held.
func (s *Store) advanceLocked(rev int64) {
	if rev <= s.rev {
		return
	}
	s.rev = rev
	close(s.advanced)
	s.advanced = make(chan struct{})
}

// waitRev waits until the cache reflects rev, so that a replica reads its
// own writes. A write is acknowledged even when the wait runs out: it is
// committed, and the cache catches up when the watch does.
func (s *Store) waitRev(ctx context.Context, rev int64) {
	for {
		s.mu.RLock()
		cur, ch := s.rev, s.advanced
		s.mu.RUnlock()
		if cur >= rev {
			return
		}
		select {
		case <-ch:
		case <-ctx.Done():
			s.log.Warn("cache behind an acknowledged write", "revision", rev, "cached", cur)
			return
		}
	}
}

func sameJSON(a, b *imds.Instance) bool {
	x, _ := json.Marshal(a)
	y, _ := json.Marshal(b)
	return string(x) == string(y)
}
