// Package etcd is the imds.Store shared by several `imds serve` replicas.
// etcd orders and replicates the changes; each replica keeps a cache fed by
// an etcd watch, so reads (the data plane's, through a fleet) never wait on
// etcd and keep answering from the last known state while it is away.
// Writes go to etcd and fail promptly with imds.ErrUnavailable when it
// cannot be reached, so the control plane never acknowledges a lost change.
//
// Layout under the prefix (default /imds):
//
//	<prefix>/instances/<id>  instance as JSON
//	<prefix>/keys/<id>       token key as JSON, id as 10 decimal digits
//	<prefix>/secrets/<name>  shared secret, bytes as given; never cached
package etcd

import (
	"context"
	"fmt"
	"log/slog"
	"strings"
	"sync"
	"time"

	clientv3 "go.etcd.io/etcd/client/v3"
	"go.uber.org/zap"
	"google.golang.org/grpc"
	"google.golang.org/grpc/backoff"

	"github.com/imds-dev/imds"
	"github.com/imds-dev/imds/store/internal/fanout"
)

var (
	_ imds.Store          = (*Store)(nil)
	_ imds.Watcher        = (*Store)(nil)
	_ imds.Creator        = (*Store)(nil)
	_ imds.KeyStore       = (*Store)(nil)
	_ imds.SecretStore    = (*Store)(nil)
	_ imds.HealthReporter = (*Store)(nil)
)

// DefaultPrefix is the key prefix when a spec names none.
const DefaultPrefix = "/imds"

// Options configures a Store. The zero value (or nil) means the defaults.
type Options struct {
	// Logger receives lifecycle and degradation messages. If nil, nothing
	// is logged.
	Logger *slog.Logger
	// WriteTimeout bounds every write, retries included. If zero, it
	// defaults to 2 seconds.
	WriteTimeout time.Duration
	// HealthInterval is how often etcd is probed. If zero, it defaults to
	// 1 second.
	HealthInterval time.Duration
}

// Store is an etcd-backed store. It is safe for concurrent use; Close it
// when done.
type Store struct {
	cli        *clientv3.Client
	ownsClient bool
	prefix     string // without trailing slash
	log        *slog.Logger
	writeLimit time.Duration
	probeEvery time.Duration

	mu        sync.RWMutex               // guards the cache: instances, keys, rev, advanced
	instances map[string]*imds.Instance  // keyed by instance id
	keys      map[uint32]imds.SigningKey // keyed by key id
	rev       int64                      // etcd revision the cache reflects
	advanced  chan struct{}              // closed and replaced when rev grows

	hub    fanout.Hub
	locks  keyLocks
	health health

	stop context.CancelFunc
	done sync.WaitGroup
}

// Open connects to the cluster named by spec, of the form
// etcd://host:2379,host2:2379/prefix, and loads the cache. It fails with an
// error wrapping imds.ErrUnavailable when etcd cannot be reached.
func Open(ctx context.Context, spec string, opts *Options) (*Store, error) {
	endpoints, prefix, err := ParseSpec(spec)
	if err != nil {
		return nil, err
	}
	cli, err := clientv3.New(clientv3.Config{
		Endpoints:   endpoints,
		DialTimeout: 2 * time.Second,
		Logger:      zap.NewNop(),
		// Keep-alives notice a dead member while no request is running.
		DialKeepAliveTime:    5 * time.Second,
		DialKeepAliveTimeout: 2 * time.Second,
		// Reconnect within a couple of seconds of etcd's return, rather
		// than after gRPC's default backoff of up to two minutes.
		DialOptions: []grpc.DialOption{grpc.WithConnectParams(grpc.ConnectParams{
			Backoff:           backoff.Config{BaseDelay: 100 * time.Millisecond, Multiplier: 1.6, Jitter: 0.2, MaxDelay: 2 * time.Second},
			MinConnectTimeout: 2 * time.Second,
		})},
	})
	if err != nil {
		return nil, fmt.Errorf("connect to etcd %s: %w", strings.Join(endpoints, ","), err)
	}
	s, err := New(ctx, cli, prefix, opts)
	if err != nil {
		cli.Close()
		return nil, err
	}
	s.ownsClient = true
	return s, nil
}

// ParseSpec splits etcd://host:port,host:port/prefix into client endpoints
// and a key prefix (DefaultPrefix when the spec has no path).
func ParseSpec(spec string) (endpoints []string, prefix string, err error) {
	rest, ok := strings.CutPrefix(spec, "etcd://")
	if !ok {
		return nil, "", fmt.Errorf("store %q: want etcd://host:port[,host:port...][/prefix]", spec)
	}
	hosts, path, _ := strings.Cut(rest, "/")
	for h := range strings.SplitSeq(hosts, ",") {
		if h == "" || strings.ContainsAny(h, "@?#") {
			return nil, "", fmt.Errorf("store %q: bad host %q", spec, h)
		}
		endpoints = append(endpoints, "http://"+h)
	}
	prefix = "/" + strings.Trim(path, "/")
	if prefix == "/" {
		prefix = DefaultPrefix
	}
	return endpoints, prefix, nil
}

// New returns a store over an existing client, loading the cache before it
// returns. The caller keeps ownership of cli.
func New(ctx context.Context, cli *clientv3.Client, prefix string, opts *Options) (*Store, error) {
	if opts == nil {
		opts = &Options{}
	}
	s := &Store{
		cli:        cli,
		prefix:     strings.TrimRight(prefix, "/"),
		log:        opts.Logger,
		writeLimit: opts.WriteTimeout,
		probeEvery: opts.HealthInterval,
		advanced:   make(chan struct{}),
	}
	if s.log == nil {
		s.log = slog.New(slog.DiscardHandler)
	}
	if s.writeLimit <= 0 {
		s.writeLimit = 2 * time.Second
	}
	if s.probeEvery <= 0 {
		s.probeEvery = time.Second
	}
	s.log = s.log.With("component", "etcd", "prefix", s.prefix)

	lctx, cancel := context.WithTimeout(ctx, 5*time.Second)
	defer cancel()
	if err := s.load(lctx); err != nil {
		return nil, err
	}
	bg, stop := context.WithCancel(context.Background())
	s.stop = stop
	s.done.Add(2)
	go s.follow(bg)
	go s.probe(bg)
	s.log.Info("store opened", "instances", len(s.instances), "revision", s.rev)
	return s, nil
}

// Close stops the watch and the health probe and, for a store from Open,
// closes the client.
func (s *Store) Close() error {
	s.stop()
	s.done.Wait()
	if s.ownsClient {
		return s.cli.Close()
	}
	return nil
}

func (s *Store) instanceKey(id string) string { return s.prefix + "/instances/" + id }

func (s *Store) signingKey(id uint32) string { return fmt.Sprintf("%s/keys/%010d", s.prefix, id) }

// unavailable wraps an etcd failure so callers can tell it with
// errors.Is(err, imds.ErrUnavailable).
func unavailable(op string, err error) error {
	return fmt.Errorf("%s: %w: %w", op, imds.ErrUnavailable, err)
}
