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
}

// startControl reads or creates the control-plane keys, binds every
// control listener and serves the EC2 API on them. It returns once the
// listeners accept connections; the caller stops the server with Shutdown.
func startControl(ctx context.Context, cfg controlConfig) (*http.Server, []net.Addr, error) {
	if err := ctx.Err(); err != nil {
		return nil, nil, err
	}
	keys, err := controlKeys(cfg)
	if err != nil {
		return nil, nil, err
	}
	lns, err := listenAll(cfg.Listen)
	if err != nil {
		return nil, nil, fmt.Errorf("control plane: %w", err)
	}
	logger := cfg.Logger.With("component", "control")
	srv := &http.Server{
		Handler:           control.New(control.Config{Store: cfg.Store, Apply: cfg.Apply, Keys: keys, Logger: logger}),
		ReadHeaderTimeout: 10 * time.Second,
		ReadTimeout:       30 * time.Second,
		WriteTimeout:      30 * time.Second,
		IdleTimeout:       60 * time.Second,
		MaxHeaderBytes:    64 << 10,
		ErrorLog:          slog.NewLogLogger(logger.Handler(), slog.LevelWarn),
	}
	var addrs []net.Addr
	for _, ln := range lns {
		addrs = append(addrs, ln.Addr())
		go func() {
			if err := srv.Serve(ln); err != nil && !errors.Is(err, http.ErrServerClosed) {
				logger.Error("control plane stopped", "addr", ln.Addr().String(), "err", err)
			}
		}()
		logger.Info("control plane listening", "addr", ln.Addr().String(),
			"endpoint", "aws ec2 ... --endpoint-url "+endpointURL(ln.Addr()))
	}
	return srv, addrs, nil
}

// controlKeys loads the control-plane keys: from --control-credentials when
// given, else from the data directory's control-credentials, which the
// first start writes. It logs the line a user exports to use the keys; the
// secrets themselves are never logged.
func controlKeys(cfg controlConfig) (map[string]string, error) {
	logger := cfg.Logger
	path := cfg.CredentialsFile
	if path != "" {
		keys, err := control.LoadCredentials(path)
		if err != nil {
			return nil, err
		}
		logger.Info("control plane keys loaded", "file", path, "keys", len(keys))
		return keys, nil
	}
	if cfg.DataDir == "" {
		return nil, errors.New("control plane: needs --data-dir or --control-credentials")
	}
	path = filepath.Join(cfg.DataDir, control.CredentialsFileName)
	keys, created, err := control.EnsureCredentials(path)
	if err != nil {
		return nil, err
	}
	if created {
		logger.Info("control plane key created", "file", path)
	} else if fi, err := os.Stat(path); err == nil && fi.Mode().Perm()&0o077 != 0 {
		logger.Warn("control plane credentials file is readable by others; chmod 600 it", "file", path, "mode", fi.Mode().Perm().String())
	}
	abs, err := filepath.Abs(path)
	if err != nil {
		abs = path
	}
	logger.Info("to call the control plane: export AWS_SHARED_CREDENTIALS_FILE=" + abs)
	return keys, nil
}
