// Package config reads the YAML file that describes instances and server
// settings, validates it with errors that name the file, line and field, and
// supplies the built-in instance that `imds serve` runs with no file at all.
package config

import (
	"net/netip"
	"time"

	"github.com/imds-dev/imds"
)

// DefaultPublicKey is the OpenSSH key of the built-in instance's key pair
// "my-key". Its private half was never kept. It ends with a newline, as
// the key EC2 serves does (BL-05).
const DefaultPublicKey = "ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIHSbKC/Tyzio1vc4GGYroC7pgz1seBpelVi0rVVGtoqK my-key\n"

// DefaultUserData is the built-in instance's user data.
const DefaultUserData = "#!/bin/sh\necho hi\n"

// DefaultInstance returns the built-in instance: a coherent m5.large in
// us-east-1a with a public address, a key pair, two security groups, an
// instance profile with role app-role, tags, user data and EC2's default
// metadata options. Every value that appears in several places (region and
// zone, MAC and addresses, account) agrees everywhere.
func DefaultInstance(launched time.Time) *imds.Instance {
	groups := []imds.SecurityGroup{
		{ID: "sg-0b07f8f6cb485d4df", Name: "default"},
		{ID: "sg-0e2c6a0a4b1e6f3a2", Name: "web"},
	}
	return &imds.Instance{
		ID:              "i-0123456789abcdef0",
		AccountID:       "123456789012",
		ReservationID:   "r-0fedcba9876543210",
		ImageID:         "ami-0abcdef1234567890",
		InstanceType:    "m5.large",
		Architecture:    "x86_64",
		LaunchTime:      launched.UTC().Truncate(time.Second),
		AMIManifestPath: "(unknown)",
		LifeCycle:       "on-demand",
		Profile:         "default-hvm",
		Placement: imds.Placement{
			Region:             "us-east-1",
			AvailabilityZone:   "us-east-1a",
			AvailabilityZoneID: "use1-az4",
		},
		Interfaces: []imds.NetworkInterface{{
			ID:               "eni-0f95d3625f5c521cc",
			MAC:              "0e:49:61:0f:c3:11",
			DeviceIndex:      0,
			NetworkCardIndex: 0,
			OwnerID:          "123456789012",
			PrivateIPv4s:     []netip.Addr{netip.MustParseAddr("172.31.1.2")},
			PublicIPv4s:      []netip.Addr{netip.MustParseAddr("203.0.113.25")},
			SubnetID:         "subnet-0be9b61d7a1c2e3f4",
			SubnetIPv4CIDR:   netip.MustParsePrefix("172.31.0.0/20"),
			VPCID:            "vpc-0d295a6a7b8c9d0e1",
			VPCIPv4CIDRs:     []netip.Prefix{netip.MustParsePrefix("172.31.0.0/16")},
			SecurityGroups:   groups,
		}},
		PublicKeys: []imds.PublicKey{{Name: "my-key", OpenSSH: DefaultPublicKey}},
		BlockDevices: []imds.BlockDevice{
			{Virtual: "ami", Device: "/dev/xvda"},
			{Virtual: "root", Device: "/dev/xvda"},
		},
		Tags: []imds.Tag{{Key: "Name", Value: "imds-default"}, {Key: "Environment", Value: "dev"}},
		IAM: &imds.IAMProfile{
			ProfileARN: "arn:aws:iam::123456789012:instance-profile/app-role",
			ProfileID:  "AIPAVMQT32F2Q43IXV2TC",
			RoleName:   "app-role",
		},
		UserData: []byte(DefaultUserData),
		Options:  imds.DefaultMetadataOptions(),
		State:    "running",
	}
}
