// Package etcdtest runs a one-member etcd inside a test process, listening
// on loopback ports only, with its data in a test's temporary directory.
package etcdtest

import (
	"net"
	"net/url"
	"testing"
	"time"

	"go.etcd.io/etcd/server/v3/embed"
)

// Server is an embedded etcd that a test can stop and start again.
type Server struct {
	// Endpoint is the client URL, such as http://127.0.0.1:40123.
	Endpoint string
	cfg      *embed.Config
	etcd     *embed.Etcd
}

// Start starts a server and stops it when the test ends.
func Start(t testing.TB) *Server {
	t.Helper()
	client, peer := freePort(t), freePort(t)
	cfg := embed.NewConfig()
	cfg.Name = "test"
	cfg.Dir = t.TempDir()
	cfg.LogLevel = "fatal"
	// Tests need no durability from the etcd they start; fsync-free runs
	// keep the suite within its time budget.
	cfg.UnsafeNoFsync = true
	cu := url.URL{Scheme: "http", Host: client}
	pu := url.URL{Scheme: "http", Host: peer}
	cfg.ListenClientUrls, cfg.AdvertiseClientUrls = []url.URL{cu}, []url.URL{cu}
	cfg.ListenPeerUrls, cfg.AdvertisePeerUrls = []url.URL{pu}, []url.URL{pu}
	cfg.InitialCluster = cfg.InitialClusterFromName(cfg.Name)
	s := &Server{Endpoint: cu.String(), cfg: cfg}
	s.Restart(t)
	t.Cleanup(s.Stop)
	return s
}

// Stop stops the server; its data stays for Restart.
func (s *Server) Stop() {
	if s.etcd != nil {
		s.etcd.Close()
		s.etcd = nil
	}
}

// Restart starts the server again on the same ports and data.
func (s *Server) Restart(t testing.TB) {
	t.Helper()
	e, err := embed.StartEtcd(s.cfg)
	if err != nil {
		t.Fatalf("start etcd: %v", err)
	}
	select {
	case <-e.Server.ReadyNotify():
	case <-time.After(30 * time.Second):
		e.Close()
		t.Fatal("etcd did not become ready")
	}
	s.etcd = e
}

func freePort(t testing.TB) string {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	return ln.Addr().String()
}
