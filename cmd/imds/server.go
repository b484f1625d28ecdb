package main

import (
	"context"
	"crypto/rand"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"time"

	"github.com/imds-dev/imds"
	"github.com/imds-dev/imds/config"
	"github.com/imds-dev/imds/creds"
	"github.com/imds-dev/imds/dataplane"
	"github.com/imds-dev/imds/fleet"
	"github.com/imds-dev/imds/identity"
	"github.com/imds-dev/imds/store/mem"
	"github.com/imds-dev/imds/token"
	"github.com/imds-dev/imds/tree"
)

// server is a running `imds serve`.
type server struct {
	data  *http.Server
	addrs []net.Addr
	plane *dataplane.Server
	fleet *fleet.Fleet
	store imds.Store
}

// startServer builds every part from cfg, binds the listeners and starts
// serving. It returns once the server answers requests.
func startServer(ctx context.Context, f *serveFlags, cfg *config.File, logger *slog.Logger) (*server, error) {
	in := cfg.Instances[0]

	signer, err := newSigner(cfg)
	if err != nil {
		return nil, err
	}
	if f.identityCert != "" {
		if err := writeFileAtomic(f.identityCert, signer.CertificatePEM(), 0o644); err != nil {
			return nil, fmt.Errorf("write identity certificate: %w", err)
		}
	}
	seed := cfg.CredentialSeed
	if len(seed) == 0 {
		seed = make([]byte, 32)
		rand.Read(seed)
	}
	gen := creds.NewGenerator(seed, cfg.Credentials)
	opts := tree.Options{Creds: gen, Sign: signer.Sign}
	build := func(in *imds.Instance, now time.Time) *tree.Tree { return tree.Build(in, opts, now) }

	ring, err := token.NewKeyRing(time.Now())
	if err != nil {
		return nil, err
	}
	// One instance answers every caller, as a laptop or CI wants; with
	// several, each request goes to the instance owning its source address.
	st := mem.New()
	for _, in := range cfg.Instances {
		if err := st.Put(ctx, in); err != nil {
			return nil, err
		}
	}
	fl := fleet.New(fleet.Everyone, build)
	if err := fl.Follow(ctx, st, logger); err != nil {
		return nil, fmt.Errorf("load instances: %w", err)
	}
	var accessLog *slog.Logger
	if f.accessLog || (cfg.AccessLog != nil && *cfg.AccessLog) {
		accessLog = logger.With("component", "access")
	}
	keepAlive := f.keepAlive || (cfg.KeepAlive != nil && *cfg.KeepAlive)
	plane := dataplane.New(dataplane.Config{
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
	srv := &server{data: dataplane.HTTPServer(plane, logger), plane: plane, fleet: fl, store: st}
	srv.data.SetKeepAlivesEnabled(keepAlive)
	for _, ln := range lns {
		srv.addrs = append(srv.addrs, ln.Addr())
	}
	serveAll(srv.data, lns, logger)

	logStart(logger, srv.addrs, in)
	return srv, nil
}

// logStart writes the one start-up line: where the data plane listens and
// the export line a client needs.
func logStart(logger *slog.Logger, addrs []net.Addr, in *imds.Instance) {
	urls := make([]string, len(addrs))
	for i, a := range addrs {
		urls[i] = endpointURL(a)
	}
	logger.Info("imds serving",
		"listen", urls,
		"instance", in.ID,
		"http_tokens", in.Options.HTTPTokens,
		"export", "export AWS_EC2_METADATA_SERVICE_ENDPOINT="+urls[0])
	for _, a := range addrs {
		if tcp, ok := a.(*net.TCPAddr); ok && tcp.IP.To4() == nil && !in.Options.IPv6Enabled() {
			logger.Warn("IPv6 listener answers nothing while the instance's http-protocol-ipv6 is disabled, as on EC2; enable it in metadata-options",
				"addr", a.String(), "instance", in.ID)
		}
	}
}

func newSigner(cfg *config.File) (*identity.Signer, error) {
	if len(cfg.IdentityKeyPEM) > 0 {
		s, err := identity.LoadSigner(cfg.IdentityKeyPEM, cfg.IdentityCertPEM)
		if err != nil {
			return nil, fmt.Errorf("load identity key: %w", err)
		}
		return s, nil
	}
	s, err := identity.GenerateSigner()
	if err != nil {
		return nil, fmt.Errorf("generate identity key: %w", err)
	}
	return s, nil
}

// Shutdown stops serving, letting requests in flight finish.
func (s *server) Shutdown(ctx context.Context) error {
	return s.data.Shutdown(ctx)
}
