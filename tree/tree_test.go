package tree_test

import (
	"net/netip"
	"testing"
	"time"

	"github.com/imds-dev/imds"
	"github.com/imds-dev/imds/config"
	"github.com/imds-dev/imds/creds"
	"github.com/imds-dev/imds/tree"
)

var start = time.Date(2026, 12, 4, 16, 0, 0, 0, time.UTC)

func body(t *testing.T, tr *tree.Tree, path string) string {
	t.Helper()
	n, ok := tr.Lookup(path)
	if !ok {
		t.Fatalf("Lookup(%q): not found", path)
	}
	b, _ := n.Content(false)
	return string(b)
}

// TestBuild_Network checks the interface subtree of a two-ENI instance.
func TestBuild_Network(t *testing.T) {
	// Ensure every interface is listed with its addresses, and hostnames
	// follow the region's naming.
	in := config.DefaultInstance(start)
	in.Placement = imds.Placement{Region: "eu-west-1", AvailabilityZone: "eu-west-1b"}
	in.Interfaces[0].IPv6s = []netip.Addr{netip.MustParseAddr("2001:db8::1")}
	in.Interfaces[0].PrivateIPv4s = append(in.Interfaces[0].PrivateIPv4s, netip.MustParseAddr("172.31.1.3"))
	second := in.Interfaces[0]
	second.MAC, second.DeviceIndex, second.ID = "0e:49:61:0f:c3:22", 1, "eni-0aaaaaaaaaaaaaaaa"
	second.PublicIPv4s, second.IPv6s = nil, nil
	second.PrivateIPv4s = []netip.Addr{netip.MustParseAddr("172.31.2.9")}
	in.Interfaces = append(in.Interfaces, second)
	tr := tree.Build(in, tree.Options{}, start)

	macs := "meta-data/network/interfaces/macs/"
	tests := []struct{ path, want string }{
		{macs, "0e:49:61:0f:c3:11/\n0e:49:61:0f:c3:22/"},
		{macs + "0e:49:61:0f:c3:11/local-ipv4s", "172.31.1.2\n172.31.1.3"},
		{macs + "0e:49:61:0f:c3:11/ipv6s", "2001:db8::1"},
		{macs + "0e:49:61:0f:c3:11/ipv4-associations/203.0.113.25", "172.31.1.2"},
		{macs + "0e:49:61:0f:c3:11/public-hostname", "ec2-203-0-113-25.eu-west-1.compute.amazonaws.com"},
		{macs + "0e:49:61:0f:c3:22/device-number", "1"},
		{macs + "0e:49:61:0f:c3:22/local-hostname", "ip-172-31-2-9.eu-west-1.compute.internal"},
		{"meta-data/hostname", "ip-172-31-1-2.eu-west-1.compute.internal"},
		{"meta-data/ipv6", "2001:db8::1"},
		{"meta-data/services/partition", "aws"},
	}
	for _, tt := range tests {
		if got := body(t, tr, tt.path); got != tt.want {
			t.Errorf("%s = %q, want %q", tt.path, got, tt.want)
		}
	}
	if _, ok := tr.Lookup(macs + "0e:49:61:0f:c3:22/public-ipv4s"); ok {
		t.Error("second interface lists public addresses it does not have")
	}
}

// TestBuild_Tags checks tag order and unservable keys.
func TestBuild_Tags(t *testing.T) {
	// Ensure tags keep stored order and keys that could escape the
	// directory never become paths.
	in := config.DefaultInstance(start)
	in.Options.InstanceMetadataTags = imds.Enabled
	in.Tags = []imds.Tag{{Key: "zeta", Value: "1"}, {Key: "a/b", Value: "2"}, {Key: "aws:autoscaling:groupName", Value: "g"}, {Key: "..", Value: "x"}}
	tr := tree.Build(in, tree.Options{}, start)
	if got := body(t, tr, "meta-data/tags/instance"); got != "zeta\naws:autoscaling:groupName" {
		t.Errorf("tags listing = %q", got)
	}
	if _, ok := tr.Lookup("meta-data/tags/instance/a/b"); ok {
		t.Error("key with a slash became a path")
	}
	if got := body(t, tr, "meta-data/tags/"); got != "instance/" {
		t.Errorf("tags/ = %q, want instance/", got)
	}
}

// TestBuild_ValidUntil checks that a tree expires at its next change.
func TestBuild_ValidUntil(t *testing.T) {
	// Ensure the tree is rebuilt when a notice appears or credentials rotate,
	// whichever comes first.
	in := config.DefaultInstance(start)
	g := creds.NewGenerator(make([]byte, 32), creds.DefaultSchedule)
	tr := tree.Build(in, tree.Options{Creds: g}, start)
	if want := g.Schedule().NextRotation(start); !tr.ValidUntil.Equal(want) {
		t.Errorf("ValidUntil = %v, want rotation at %v", tr.ValidUntil, want)
	}
	in.Events.Rebalance = &imds.RebalanceNotice{NoticeTime: start.Add(time.Minute)}
	if tr := tree.Build(in, tree.Options{Creds: g}, start); !tr.ValidUntil.Equal(start.Add(time.Minute)) {
		t.Errorf("ValidUntil = %v, want the notice time", tr.ValidUntil)
	}
	if tr := tree.Build(in, tree.Options{}, start.Add(time.Hour)); !tr.ValidUntil.IsZero() {
		t.Errorf("ValidUntil = %v, want never", tr.ValidUntil)
	}
}
