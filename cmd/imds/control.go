package main

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"time"

	"github.com/imds-dev/imds"
	"github.com/imds-dev/imds/control"
)

// controlConfig is what `imds serve` hands the control plane.
type controlConfig struct {
	Listen []string // --control-listen addresses
	// CredentialsFile is --control-credentials; empty means
	// DataDir/control-credentials, written with a new key on first start.
	CredentialsFile string
	DataDir         string               // --data-dir
	Store           imds.Store           // the instances
	Apply           func(*imds.Instance) // hands a change to the data plane; returns once it is served
	Logger          *slog.Logger
	// Routes adds imds's own endpoints (health, metrics, audit, faults,
	// events, console) beside the EC2 API, which answers every other path.
	// Each is given the control server, for its SigV4 checks.
	Routes func(ctl *control.Server) map[string]http.Handler
}

// controlPlane is a running control listener.
type controlPlane struct {
	srv   *http.Server
	addrs []net.Addr
	// credentialsFile is the shared-credentials file holding the keys, for
	// the start-up line that tells a user what to export.
	credentialsFile string
}

// startControl reads or creates the control-plane keys, binds every
// control listener and serves the EC2 API on them. It returns once the
// listeners accept connections; the caller stops the server with Shutdown.
func startControl(ctx context.Context, cfg controlConfig) (*controlPlane, error) {
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	keys, credsFile, err := controlKeys(cfg)
	if err != nil {
		return nil, err
	}
	lns, err := listenAll(cfg.Listen)
	if err != nil {
		return nil, fmt.Errorf("control plane: %w", err)
	}
	logger := cfg.Logger.With("component", "control")
	ctl := control.New(control.Config{Store: cfg.Store, Apply: cfg.Apply, Keys: keys, Logger: logger})
	mux := http.NewServeMux()
	mux.Handle("/", ctl)
	if cfg.Routes != nil {
		for pattern, h := range cfg.Routes(ctl) {
			mux.Handle(pattern, h)
		}
	}
	srv := &http.Server{
		Handler:           mux,
		ReadHeaderTimeout: 10 * time.Second,
		ReadTimeout:       30 * time.Second,
		WriteTimeout:      30 * time.Second,
		IdleTimeout:       60 * time.Second,
		MaxHeaderBytes:    64 << 10,
		ErrorLog:          slog.NewLogLogger(logger.Handler(), slog.LevelWarn),
	}
	cp := &controlPlane{srv: srv, credentialsFile: credsFile}
	for _, ln := range lns {
		cp.addrs = append(cp.addrs, ln.Addr())
		go func() {
			if err := srv.Serve(ln); err != nil && !errors.Is(err, http.ErrServerClosed) {
				logger.Error("control plane stopped", "addr", ln.Addr().String(), "err", err)
			}
		}()
	}
	return cp, nil
}

// controlKeys loads the control-plane keys: from --control-credentials when
// given, else from the data directory's control-credentials, which the
// first start writes. It returns the keys and the file's absolute path;
// the secrets themselves are never logged.
func controlKeys(cfg controlConfig) (map[string]string, string, error) {
	logger := cfg.Logger
	path := cfg.CredentialsFile
	if path != "" {
		keys, err := control.LoadCredentials(path)
		if err != nil {
			return nil, "", err
		}
		return keys, absPath(path), nil
	}
	if cfg.DataDir == "" {
		return nil, "", errors.New("control plane: needs --data-dir or --control-credentials")
	}
	path = filepath.Join(cfg.DataDir, control.CredentialsFileName)
	keys, created, err := control.EnsureCredentials(path)
	if err != nil {
		return nil, "", err
	}
	if created {
		logger.Info("control plane key created", "file", path)
	} else if fi, err := os.Stat(path); err == nil && fi.Mode().Perm()&0o077 != 0 {
		logger.Warn("control plane credentials file is readable by others; chmod 600 it", "file", path, "mode", fi.Mode().Perm().String())
	}
	return keys, absPath(path), nil
}

func absPath(p string) string {
	if abs, err := filepath.Abs(p); err == nil {
		return abs
	}
	return p
}
