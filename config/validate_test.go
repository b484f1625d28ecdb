package config

import (
	"errors"
	"net/netip"
	"strings"
	"testing"
	"time"

	"github.com/imds-dev/imds"
)

// Ensure Validate, as the control plane calls it, names the field of each
// problem and accepts coherent edge cases.
func TestValidate(t *testing.T) {
	tests := []struct {
		name   string
		change func(in *imds.Instance)
		field  string // "" when the instance is valid
		msg    string // part of the problem
	}{
		{"default", func(in *imds.Instance) {}, "", ""},
		{"short ids", func(in *imds.Instance) {
			in.ID, in.ImageID, in.ReservationID = "i-12345678", "ami-12345678", "r-12345678"
		}, "", ""},
		{"local zone", func(in *imds.Instance) {
			in.Placement = imds.Placement{Region: "us-west-2", AvailabilityZone: "us-west-2-lax-1a", AvailabilityZoneID: "usw2-lax1-az1"}
			in.IAM = nil
		}, "", ""},
		{"wavelength zone", func(in *imds.Instance) {
			in.Placement = imds.Placement{Region: "us-east-1", AvailabilityZone: "us-east-1-wl1-bos-wlz-1"}
		}, "", ""},
		{"ipv6-only interface", func(in *imds.Instance) {
			ni := &in.Interfaces[0]
			ni.PrivateIPv4s, ni.PublicIPv4s, ni.SubnetIPv4CIDR = nil, nil, netip.Prefix{}
			ni.IPv6s = []netip.Addr{netip.MustParseAddr("2001:db8::5")}
			ni.SubnetIPv6CIDRs = []netip.Prefix{netip.MustParsePrefix("2001:db8::/64")}
			ni.VPCIPv6CIDRs = []netip.Prefix{netip.MustParsePrefix("2001:db8::/56")}
		}, "", ""},
		{"tags with every servable character", func(in *imds.Instance) {
			in.Options.InstanceMetadataTags = imds.Enabled
			in.Tags = []imds.Tag{{Key: "aws:autoscaling:groupName", Value: "g"}, {Key: "a+b-c=d.e,f_g:h@i", Value: ""}}
		}, "", ""},
		{"unservable tags while tags are disabled", func(in *imds.Instance) {
			in.Tags = []imds.Tag{{Key: "a/b", Value: "x"}}
		}, "", ""},

		{"instance id", func(in *imds.Instance) { in.ID = "i-0123456789ABCDEF0" }, "id", "not an instance id"},
		{"account", func(in *imds.Instance) { in.AccountID = "12345678901a" }, "account-id", "not 12 digits"},
		{"launch time", func(in *imds.Instance) { in.LaunchTime = time.Time{} }, "launch-time", "required"},
		{"life cycle", func(in *imds.Instance) { in.LifeCycle = "reserved" }, "life-cycle", `not "reserved"`},
		{"state", func(in *imds.Instance) { in.State = "exploded" }, "state", `not "exploded"`},
		{"kernel", func(in *imds.Instance) { in.KernelID = "ami-12345678" }, "kernel-id", "not a kernel id"},
		{"ancestor", func(in *imds.Instance) { in.AncestorAMIIDs = []string{"ami-1"} }, "ancestor-ami-ids[0]", "not an image id"},
		{"billing product", func(in *imds.Instance) { in.BillingProducts = []string{"bp-1"} }, "billing-products[0]", "not a billing product"},
		{"region", func(in *imds.Instance) { in.Placement.Region = "useast1" }, "region", "not a region"},
		{"region not the local zone's parent", func(in *imds.Instance) {
			in.Placement = imds.Placement{Region: "us-west-1", AvailabilityZone: "us-west-2-lax-1a"}
		}, "availability-zone", `not in region "us-west-1"`},
		{"zone with two letters", func(in *imds.Instance) { in.Placement.AvailabilityZone = "us-east-1ab" }, "availability-zone", "not an availability zone"},
		{"host id", func(in *imds.Instance) { in.Placement.HostID = "host-1" }, "host-id", "dedicated host"},
		{"no interfaces", func(in *imds.Instance) { in.Interfaces = nil }, "network-interfaces", "at least one"},
		{"primary not first", func(in *imds.Instance) { in.Interfaces[0].DeviceIndex = 1 }, "network-interfaces[0].device-index", "primary"},
		{"public IPv6 address", func(in *imds.Instance) {
			in.Interfaces[0].PublicIPv4s = []netip.Addr{netip.MustParseAddr("2001:db8::1")}
		}, "network-interfaces[0].public-ips[0]", "not an IPv4 address"},
		{"IPv4 in ipv6s", func(in *imds.Instance) {
			in.Interfaces[0].IPv6s = []netip.Addr{netip.MustParseAddr("::ffff:10.0.0.1")}
		}, "network-interfaces[0].ipv6s[0]", "not an IPv6 address"},
		{"repeated address", func(in *imds.Instance) {
			in.Interfaces[0].PrivateIPv4s = append(in.Interfaces[0].PrivateIPv4s, in.Interfaces[0].PrivateIPv4s[0])
		}, "network-interfaces[0].private-ips[1]", "repeats network-interfaces[0].private-ips[0]"},
		{"subnet outside VPC", func(in *imds.Instance) {
			in.Interfaces[0].VPCIPv4CIDRs = []netip.Prefix{netip.MustParsePrefix("10.0.0.0/16")}
		}, "network-interfaces[0].subnet-cidr", "not inside the VPC"},
		{"interface owner", func(in *imds.Instance) { in.Interfaces[0].OwnerID = "me" }, "network-interfaces[0].owner-id", "12 digits"},
		{"no security group", func(in *imds.Instance) { in.Interfaces[0].SecurityGroups = nil }, "network-interfaces[0].security-groups", "at least one"},
		{"security group name", func(in *imds.Instance) { in.Interfaces[0].SecurityGroups[0].Name = "" }, "network-interfaces[0].security-groups[0].name", "required"},
		{"dns name", func(in *imds.Instance) { in.Interfaces[0].PrivateDNSName = "Host_1" }, "network-interfaces[0].private-dns-name", "host name"},
		{"key name", func(in *imds.Instance) { in.PublicKeys[0].Name = "" }, "public-keys[0].name", "required"},
		{"key with newline", func(in *imds.Instance) { in.PublicKeys[0].OpenSSH += "\nssh-rsa AAAA x" }, "public-keys[0].public-key", "one OpenSSH"},
		{"repeated block device", func(in *imds.Instance) {
			in.BlockDevices = append(in.BlockDevices, imds.BlockDevice{Virtual: "root", Device: "sda"})
		}, "block-devices.root", "repeated"},
		{"repeated tag", func(in *imds.Instance) { in.Tags = append(in.Tags, imds.Tag{Key: "Name", Value: "x"}) }, "tags.Name", "repeated"},
		{"tag key length", func(in *imds.Instance) { in.Tags = []imds.Tag{{Key: strings.Repeat("k", 129)}} }, "tags." + strings.Repeat("k", 129), "1 to 128"},
		{"tag value length", func(in *imds.Instance) { in.Tags = []imds.Tag{{Key: "k", Value: strings.Repeat("v", 257)}} }, "tags.k", "at most 256"},
		{"dotdot tag while enabled", func(in *imds.Instance) {
			in.Options.InstanceMetadataTags = imds.Enabled
			in.Tags = []imds.Tag{{Key: "..", Value: "x"}}
		}, `tags[".."]`, "cannot be served"},
		{"role", func(in *imds.Instance) { in.IAM.RoleName = strings.Repeat("r", 65) }, "iam.role", "not a role name"},
		{"profile partition", func(in *imds.Instance) {
			in.IAM.ProfileARN = "arn:aws-cn:iam::123456789012:instance-profile/app-role"
		}, "iam.profile-arn", `partition "aws-cn" does not match region "us-east-1"`},
		{"profile id", func(in *imds.Instance) { in.IAM.ProfileID = "AIDAVMQT32F2Q43IXV2TC" }, "iam.profile-id", "not an instance profile id"},
		{"access key", func(in *imds.Instance) {
			in.IAM.Static = &imds.StaticCredentials{AccessKeyID: "key", SecretAccessKey: "s"}
		}, "iam.credentials.access-key-id", "not an access key id"},
		{"user data at the limit", func(in *imds.Instance) { in.UserData = make([]byte, MaxUserData) }, "", ""},
		{"user data over the limit", func(in *imds.Instance) { in.UserData = make([]byte, MaxUserData+1) }, "user-data", "16385 bytes, more than EC2's 16384"},
		{"hop limit zero", func(in *imds.Instance) { in.Options.HTTPPutHopLimit = 0 }, "metadata-options.http-put-response-hop-limit", "1 to 64"},
		{"option case", func(in *imds.Instance) { in.Options.HTTPEndpoint = "Enabled" }, "metadata-options.http-endpoint", `not "Enabled"`},
		{"ipv6 option", func(in *imds.Instance) { in.Options.HTTPProtocolIPv6 = "" }, "metadata-options.http-protocol-ipv6", `not ""`},
		{"spot action", func(in *imds.Instance) {
			in.LifeCycle = "spot"
			in.Events.Spot = &imds.SpotNotice{Action: "Terminate"}
		}, "events.spot.action", `not "Terminate"`},
		{"rebalance on demand", func(in *imds.Instance) { in.Events.Rebalance = &imds.RebalanceNotice{} }, "events.rebalance", "only Spot"},
		{"repeated event id", func(in *imds.Instance) {
			e := imds.MaintenanceEvent{ID: "instance-event-0123456789abcdef0", Code: "system-reboot", NotBefore: in.LaunchTime}
			in.Events.Maintenance = []imds.MaintenanceEvent{e, e}
		}, "events.maintenance[1].id", "repeats events.maintenance[0]"},
		{"event state", func(in *imds.Instance) {
			in.Events.Maintenance = []imds.MaintenanceEvent{{ID: "instance-event-0123456789abcdef0", Code: "system-reboot", State: "cancelled", NotBefore: in.LaunchTime}}
		}, "events.maintenance[0].state", `not "cancelled"`},
		{"every autoscaling state", func(in *imds.Instance) { in.Events.AutoScaling = &imds.AutoScalingState{State: "Warmed:Hibernated"} }, "", ""},
		{"autoscaling state case", func(in *imds.Instance) { in.Events.AutoScaling = &imds.AutoScalingState{State: "inservice"} }, "events.autoscaling.state", `not "inservice"`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			in := DefaultInstance(testNow)
			tt.change(in)
			err := Validate(in)
			if tt.field == "" {
				if err != nil {
					t.Fatalf("Validate() = %v, want nil", err)
				}
				return
			}
			var fe *FieldError
			if !errors.As(err, &fe) {
				t.Fatalf("Validate() = %v, want a *FieldError for %s", err, tt.field)
			}
			if fe.Field != tt.field || !strings.Contains(fe.Problem, tt.msg) {
				t.Errorf("Validate() = %q, want %s: ...%s...", err, tt.field, tt.msg)
			}
		})
	}
}
