package main

import (
	"context"
	"fmt"
	"log/slog"
	"os"
	"path/filepath"
	"strings"

	"github.com/imds-dev/imds"
	"github.com/imds-dev/imds/inventory"
	"github.com/imds-dev/imds/store/bolt"
	"github.com/imds-dev/imds/store/etcd"
	"github.com/imds-dev/imds/store/mem"
)

// openStore opens the store named by spec and returns it with the function
// that closes it. spec is "" (memory without a data directory, else bbolt
// at dataDir/imds.db), "mem", "bolt" (needs dataDir) or
// "etcd://host:2379[,host:2379...][/prefix]".
func openStore(ctx context.Context, spec, dataDir string, logger *slog.Logger) (imds.Store, func() error, error) {
	nothing := func() error { return nil }
	switch {
	case strings.HasPrefix(spec, "etcd://"):
		s, err := etcd.Open(ctx, spec, &etcd.Options{Logger: logger})
		if err != nil {
			return nil, nil, err
		}
		return s, s.Close, nil
	case spec == "mem" || spec == "" && dataDir == "":
		return mem.New(), nothing, nil
	case spec == "bolt" || spec == "":
		if dataDir == "" {
			return nil, nil, fmt.Errorf("store bolt: needs a data directory")
		}
		if err := os.MkdirAll(dataDir, 0o700); err != nil {
			return nil, nil, fmt.Errorf("create data directory: %w", err)
		}
		s, err := bolt.Open(filepath.Join(dataDir, "imds.db"), nil)
		if err != nil {
			return nil, nil, err
		}
		logger.Info("store opened", "path", s.Path())
		return s, s.Close, nil
	}
	return nil, nil, fmt.Errorf("store %q: want mem, bolt or etcd://host:port[,host:port...][/prefix]", spec)
}

// loadInventory imports the instances of a describe-instances file into s.
// Instances already stored are left as they are, so running it at every
// start adds what is new and never undoes a control-plane change.
func loadInventory(ctx context.Context, s imds.Store, path string, logger *slog.Logger) (added int, err error) {
	f, err := os.Open(path)
	if err != nil {
		return 0, fmt.Errorf("instances file: %w", err)
	}
	defer f.Close()
	ins, err := inventory.Parse(f)
	if err != nil {
		return 0, fmt.Errorf("instances file %s: %w", path, err)
	}
	added, err = inventory.Import(ctx, s, ins)
	if err != nil {
		return added, fmt.Errorf("import %s: %w", path, err)
	}
	logger.Info("instances imported", "path", path, "listed", len(ins), "added", added)
	return added, nil
}
