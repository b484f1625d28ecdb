package main

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"time"

	"github.com/imds-dev/imds"
	"github.com/imds-dev/imds/config"
	"github.com/imds-dev/imds/control"
	"github.com/imds-dev/imds/creds"
	"github.com/imds-dev/imds/dataplane"
	"github.com/imds-dev/imds/fleet"
	"github.com/imds-dev/imds/inventory"
	"github.com/imds-dev/imds/proxyproto"
	"github.com/imds-dev/imds/token"
	"github.com/imds-dev/imds/tree"
)

// server is a running `imds serve`.
type server struct {
	data       *http.Server
	addrs      []net.Addr
	control    *controlPlane
	plane      *dataplane.Server
	fleet      *fleet.Fleet
	store      imds.Store
	closeStore func() error
}

// startServer builds every part from cfg, binds the listeners and starts
// serving. It returns once the server answers requests; on error nothing is
// left running.
func startServer(ctx context.Context, f *serveFlags, cfg *config.File, logger *slog.Logger) (_ *server, err error) {
	st, closeStore, err := openStore(ctx, f.store, f.dataDir, logger)
	if err != nil {
		return nil, err
	}
	defer func() {
		if err != nil {
			closeStore()
		}
	}()
	if f.configFile == "" && f.instancesFile != "" {
		// An inventory replaces the built-in instance, it does not join it.
		cfg.Instances = nil
	}
	if err := seedStore(ctx, st, cfg, f.instancesFile, logger); err != nil {
		return nil, err
	}

	ring, err := tokenKeys(ctx, st, f.tokenKeyRotation, logger)
	if err != nil {
		return nil, err
	}
	build, err := treeBuilder(ctx, st, cfg, f.identityCert, logger)
	if err != nil {
		return nil, err
	}
	mode := fleet.Everyone
	if f.bySource {
		mode = fleet.BySource
	}
	fl := fleet.New(mode, build)
	if err := fl.Follow(ctx, st, logger); err != nil {
		return nil, fmt.Errorf("load instances: %w", err)
	}
	go fl.KeepTrees(ctx, f.maxTrees, 5*time.Second)

	var accessLog *slog.Logger
	if f.accessLog || (cfg.AccessLog != nil && *cfg.AccessLog) {
		accessLog = logger.With("component", "access")
	}
	keepAlive := f.keepAlive || (cfg.KeepAlive != nil && *cfg.KeepAlive)
	tools, err := newOperatorTools(st, cfg, keepAlive)
	if err != nil {
		return nil, err
	}
	plane := dataplane.New(dataplane.Config{
		Counters:  tools.counters,
		Hooks:     tools.hooks(),
		Directory: fl,
		Tokens:    token.NewAuthority(ring, nil),
		Versions:  cfg.Versions,
		KeepAlive: keepAlive,
		AccessLog: accessLog,
		Logger:    logger.With("component", "dataplane"),
	})

	listen := f.listen.values
	if !f.listen.set && len(cfg.Listen) > 0 {
		listen = cfg.Listen
	}
	lns, err := listenAll(listen)
	if err != nil {
		return nil, err
	}
	if f.proxyFrom != "" {
		trusted, err := proxyproto.ParseTrusted(f.proxyFrom)
		if err != nil {
			closeAll(lns)
			return nil, err
		}
		for i, ln := range lns {
			lns[i] = proxyproto.NewListener(ln, trusted)
		}
	}

	srv := &server{data: dataplane.HTTPServer(plane, logger), plane: plane, fleet: fl, store: st, closeStore: closeStore}
	srv.control, err = startControl(ctx, controlConfig{
		Listen:          f.controlListen.values,
		CredentialsFile: f.controlCredentials,
		DataDir:         stateDir(f.dataDir),
		Store:           st,
		Apply:           fl.Apply,
		Logger:          logger,
		Routes: func(ctl *control.Server) map[string]http.Handler {
			return tools.routes(ctl, st, fl, logger)
		},
	})
	if err != nil {
		closeAll(lns)
		return nil, err
	}

	srv.data.SetKeepAlivesEnabled(keepAlive)
	for _, ln := range lns {
		srv.addrs = append(srv.addrs, ln.Addr())
	}
	serveAll(srv.data, lns, logger)
	logStart(logger, srv.addrs, srv.control, fl, st)
	return srv, nil
}

// stateDir is where the control credentials live: the data directory when
// one is given, else $XDG_STATE_HOME/imds (~/.local/state/imds).
func stateDir(dataDir string) string {
	if dataDir != "" {
		return dataDir
	}
	if x := os.Getenv("XDG_STATE_HOME"); x != "" {
		return filepath.Join(x, "imds")
	}
	home, err := os.UserHomeDir()
	if err != nil {
		return filepath.Join(os.TempDir(), "imds")
	}
	return filepath.Join(home, ".local", "state", "imds")
}

// seedStore adds the configured instances and those of the inventory file
// to the store, leaving alone any the store already holds: a restart never
// undoes what the control plane changed.
func seedStore(ctx context.Context, st imds.Store, cfg *config.File, instancesFile string, logger *slog.Logger) error {
	for _, in := range cfg.Instances {
		if stored, err := st.Get(ctx, in.ID); err == nil && !sameInstance(stored, in) {
			logger.Warn("the store's version of a configured instance differs from the config file; the store wins, since it holds control-plane changes (remove the store to start from the file)",
				"instance", in.ID)
		}
	}
	if _, err := inventory.Import(ctx, st, cfg.Instances); err != nil {
		return fmt.Errorf("store configured instances: %w", err)
	}
	if instancesFile != "" {
		if _, err := loadInventory(ctx, st, instancesFile, logger); err != nil {
			return err
		}
	}
	return nil
}

// sameInstance reports whether two versions of an instance agree in
// everything but their revision and launch time (a config without one
// launches the instance at every start).
func sameInstance(a, b *imds.Instance) bool {
	a, b = a.Clone(), b.Clone()
	a.Revision, b.Revision = 0, 0
	a.LaunchTime, b.LaunchTime = time.Time{}, time.Time{}
	a.Events, b.Events = imds.Events{}, imds.Events{} // relative to each start
	x, _ := json.Marshal(a)
	y, _ := json.Marshal(b)
	return bytes.Equal(x, y)
}

// tokenKeys returns the key ring that signs and checks tokens. When the
// store can share keys, every replica on that store uses the same ring.
func tokenKeys(ctx context.Context, st imds.Store, rotateEvery time.Duration, logger *slog.Logger) (*token.KeyRing, error) {
	ring, err := token.NewKeyRing(time.Now())
	if err != nil {
		return nil, err
	}
	if ks, ok := st.(imds.KeyStore); ok {
		if err := token.Sync(ctx, ks, ring, rotateEvery, logger); err != nil {
			return nil, fmt.Errorf("token keys: %w", err)
		}
	}
	return ring, nil
}

// treeBuilder returns the function that renders an instance's metadata
// tree, with its credential generator and identity signer.
//
// A generated signing key and credential seed are kept in the store, so
// that every replica on one store hands out the same credentials and
// signatures, and a restart on a store that lasts (bbolt in the data
// directory, etcd) keeps the certificates given to verifiers and the
// credentials given to clients.
func treeBuilder(ctx context.Context, st imds.Store, cfg *config.File, certOut string,
	logger *slog.Logger) (func(*imds.Instance, time.Time) *tree.Tree, error) {
	signer, err := newSigner(ctx, cfg, st)
	if err != nil {
		return nil, err
	}
	if certOut != "" {
		if err := writeFileAtomic(certOut, signer.CertificatePEM(), 0o644); err != nil {
			return nil, fmt.Errorf("write identity certificate: %w", err)
		}
		logger.Info("identity certificate written", "path", certOut)
	}
	seed, err := credentialSeed(ctx, cfg, st)
	if err != nil {
		return nil, err
	}
	opts := tree.Options{Creds: creds.NewGenerator(seed, cfg.Credentials), Sign: signer.Sign}
	return func(in *imds.Instance, now time.Time) *tree.Tree { return tree.Build(in, opts, now) }, nil
}

// logStart writes the one start-up line: where the data plane listens and
// the export line a client needs.
func logStart(logger *slog.Logger, addrs []net.Addr, cp *controlPlane, fl *fleet.Fleet, st imds.Store) {
	urls := make([]string, len(addrs))
	for i, a := range addrs {
		urls[i] = endpointURL(a)
	}
	attrs := []any{"listen", urls, "instances", fl.Len()}
	switch n := fl.Len(); {
	case n == 0:
		logger.Warn("no instances to serve: every data-plane request will be refused")
	case n == 1:
		if all, err := st.List(context.Background()); err == nil && len(all) > 0 {
			in := all[0]
			attrs = append(attrs, "instance", in.ID, "http_tokens", in.Options.HTTPTokens)
			for _, a := range addrs {
				if tcp, ok := a.(*net.TCPAddr); ok && tcp.IP.To4() == nil && !tcp.IP.IsUnspecified() && !in.Options.IPv6Enabled() {
					logger.Warn("IPv6 listener answers nothing while the instance's http-protocol-ipv6 is disabled, as on EC2; enable it in metadata-options",
						"addr", a.String(), "instance", in.ID)
				}
			}
		}
	default:
		logger.Info("several instances: each request is answered by the instance that owns its source address; others are refused")
	}
	for _, a := range addrs {
		if !isLoopbackAddr(a) {
			logger.Warn("data plane reachable beyond this host", "addr", a.String())
		}
	}
	for _, a := range cp.addrs {
		if !isLoopbackAddr(a) {
			logger.Warn("control plane reachable beyond this host; never let instances reach it", "addr", a.String())
		}
	}
	attrs = append(attrs, "export", "export AWS_EC2_METADATA_SERVICE_ENDPOINT="+urls[0])
	if len(cp.addrs) > 0 {
		attrs = append(attrs, "control", endpointURL(cp.addrs[0]),
			"control_export", "export AWS_SHARED_CREDENTIALS_FILE="+cp.credentialsFile)
	}
	logger.Info("imds serving", attrs...)
}

func isLoopbackAddr(a net.Addr) bool {
	tcp, ok := a.(*net.TCPAddr)
	return ok && tcp.IP.IsLoopback()
}

func closeAll(lns []net.Listener) {
	for _, ln := range lns {
		ln.Close()
	}
}

// Shutdown stops serving, letting requests in flight finish, then closes
// the store.
func (s *server) Shutdown(ctx context.Context) error {
	err := s.data.Shutdown(ctx)
	err = errors.Join(err, s.control.srv.Shutdown(ctx))
	return errors.Join(err, s.closeStore())
}
