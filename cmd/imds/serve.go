package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"os"
	"strings"
	"time"

	"github.com/imds-dev/imds/config"
)

// serveFlags are the settings of `imds serve`.
type serveFlags struct {
	listen       listFlag
	configFile   string
	keepAlive    bool
	accessLog    bool
	logFormat    string
	logLevel     string
	identityCert string

	controlListen      listFlag
	controlCredentials string

	dataDir          string
	store            string
	instancesFile    string
	bySource         bool
	proxyFrom        string
	tokenKeyRotation time.Duration
	maxTrees         int
}

func parseServeFlags(args []string, stderr io.Writer) (*serveFlags, error) {
	f := &serveFlags{
		listen:        listFlag{values: []string{"127.0.0.1:1338"}},
		controlListen: listFlag{values: []string{"127.0.0.1:1339"}},
	}
	fs := flag.NewFlagSet("serve", flag.ContinueOnError)
	fs.SetOutput(stderr)
	fs.Var(&f.listen, "listen", "data-plane address to listen on; repeat for more, IPv6 as [::1]:1338")
	fs.StringVar(&f.configFile, "config", "", "YAML file describing the instance (default: the built-in instance)")
	fs.BoolVar(&f.keepAlive, "keep-alive", false, "keep connections open between requests (EC2 closes them)")
	fs.BoolVar(&f.accessLog, "access-log", false, "log every data-plane request (never tokens or secrets)")
	fs.StringVar(&f.logFormat, "log-format", "text", "log format: text or json")
	fs.StringVar(&f.logLevel, "log-level", "info", "log level: debug, info, warn or error")
	fs.StringVar(&f.identityCert, "identity-cert", "", "write the certificate that verifies identity-document signatures to this file")
	fs.Var(&f.controlListen, "control-listen", "control-plane (EC2 API) address; repeat for more; never give instances access to it")
	fs.StringVar(&f.controlCredentials, "control-credentials", "", "AWS shared-credentials file with the keys the control plane accepts (default: control-credentials in the state directory, created on first start)")
	fs.StringVar(&f.dataDir, "data-dir", "", "directory for persistent state: the bbolt store and the control credentials (default: state in memory, credentials in $XDG_STATE_HOME/imds)")
	fs.StringVar(&f.store, "store", "", "where instances live: mem, bolt (in --data-dir) or etcd://host:2379[,host:2379...][/prefix]; default bolt with --data-dir, else mem")
	fs.StringVar(&f.instancesFile, "instances", "", "import instances from the JSON that aws ec2 describe-instances prints; known ids are left as they are")
	fs.BoolVar(&f.bySource, "by-source", false, "answer each request with the instance owning its source address, even when there is only one")
	fs.StringVar(&f.proxyFrom, "proxy-from", "", "comma-separated front-end addresses or prefixes whose PROXY protocol headers are trusted")
	fs.IntVar(&f.maxTrees, "max-trees", 0, "rendered metadata trees kept in memory (tens of KiB each); beyond it the least recently read are rendered again on demand (0: keep all)")
	fs.DurationVar(&f.tokenKeyRotation, "token-key-rotation", 24*time.Hour, "how often the token signing key is replaced; older keys stay valid until their tokens expire")
	withEnvHelp(fs)
	if err := fs.Parse(args); err != nil {
		return nil, err
	}
	if fs.NArg() > 0 {
		return nil, fmt.Errorf("serve takes no arguments, got %q", fs.Args())
	}
	if err := applyEnv(fs); err != nil {
		return nil, err
	}
	if f.maxTrees < 0 {
		return nil, fmt.Errorf("--max-trees %d: must be 0 (keep all) or more", f.maxTrees)
	}
	if f.tokenKeyRotation < time.Minute {
		return nil, fmt.Errorf("--token-key-rotation %v: must be at least 1m", f.tokenKeyRotation)
	}
	return f, nil
}

func runServe(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	f, err := parseServeFlags(args, stderr)
	if err != nil {
		return err
	}
	logger, err := newLogger(stderr, f.logFormat, f.logLevel)
	if err != nil {
		return err
	}
	cfg, err := loadConfig(f.configFile, time.Now())
	if err != nil {
		return err
	}
	srv, err := startServer(ctx, f, cfg, logger)
	if err != nil {
		return err
	}
	<-ctx.Done()
	logger.Info("shutting down")
	shutdownCtx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	return srv.Shutdown(shutdownCtx)
}

func loadConfig(path string, now time.Time) (*config.File, error) {
	if path == "" {
		return config.Default(now), nil
	}
	return config.Load(path, now)
}

func newLogger(w io.Writer, format, level string) (*slog.Logger, error) {
	var lvl slog.Level
	if err := lvl.UnmarshalText([]byte(level)); err != nil {
		return nil, fmt.Errorf("log level %q: must be debug, info, warn or error", level)
	}
	opts := &slog.HandlerOptions{Level: lvl}
	switch format {
	case "text":
		return slog.New(slog.NewTextHandler(w, opts)), nil
	case "json":
		return slog.New(slog.NewJSONHandler(w, opts)), nil
	}
	return nil, fmt.Errorf("log format %q: must be text or json", format)
}

// listenAll binds every address before anything is served, so a bad address
// stops start-up instead of leaving a half-started server.
func listenAll(addrs []string) ([]net.Listener, error) {
	var out []net.Listener
	for _, a := range addrs {
		ln, err := net.Listen("tcp", a)
		if err != nil {
			for _, l := range out {
				l.Close()
			}
			return nil, fmt.Errorf("listen on %s: %w", a, err)
		}
		out = append(out, ln)
	}
	return out, nil
}

// endpointURL returns the URL a client sets as
// AWS_EC2_METADATA_SERVICE_ENDPOINT for the listener at addr.
func endpointURL(addr net.Addr) string {
	tcp, ok := addr.(*net.TCPAddr)
	if !ok {
		return "http://" + addr.String()
	}
	host := tcp.IP.String()
	if tcp.IP.IsUnspecified() {
		// A wildcard listener accepts loopback IPv4 too (Go listens
		// dual-stack for 0.0.0.0 and for a bare :port).
		host = "127.0.0.1"
	}
	if strings.Contains(host, ":") {
		host = "[" + host + "]"
	}
	return fmt.Sprintf("http://%s:%d", host, tcp.Port)
}

// serveAll serves h on every listener until Shutdown.
func serveAll(srv *http.Server, lns []net.Listener, logger *slog.Logger) {
	for _, ln := range lns {
		go func() {
			if err := srv.Serve(ln); err != nil && !errors.Is(err, http.ErrServerClosed) {
				logger.Error("data plane stopped", "addr", ln.Addr().String(), "err", err)
			}
		}()
	}
}

// writeFileAtomic writes data to path through a temporary file, so a reader
// never sees half a certificate.
func writeFileAtomic(path string, data []byte, mode os.FileMode) error {
	tmp := path + ".tmp"
	if err := os.WriteFile(tmp, data, mode); err != nil {
		return err
	}
	return os.Rename(tmp, path)
}
