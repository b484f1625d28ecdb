package inventory

import (
	"cmp"
	"crypto/sha256"
	"fmt"
	"net/netip"
	"regexp"
	"slices"
	"strings"
	"time"

	"github.com/imds-dev/imds"
)

var regionRe = regexp.MustCompile(`^[a-z]{2}(-[a-z]+)+-[0-9]+`)

// convert maps one described instance onto the domain model. What the
// output does not carry gets EC2's defaults; see subnetGuess for the
// address blocks. KeyName is not used: the output names the key pair but
// does not hold its public key, so public-keys stays empty.
func convert(res *reservation, x *instance) (*imds.Instance, error) {
	launched, err := parseTime(x.LaunchTime)
	if err != nil {
		return nil, fmt.Errorf("LaunchTime: %w", err)
	}
	in := &imds.Instance{
		ID:              x.InstanceID,
		AccountID:       res.OwnerID,
		ReservationID:   res.ReservationID,
		ImageID:         x.ImageID,
		InstanceType:    x.InstanceType,
		Architecture:    cmp.Or(x.Architecture, "x86_64"),
		LaunchIndex:     x.AmiLaunchIndex,
		LaunchTime:      launched,
		KernelID:        x.KernelID,
		RamdiskID:       x.RamdiskID,
		AMIManifestPath: "(unknown)",
		LifeCycle:       cmp.Or(x.InstanceLifecycle, "on-demand"),
		Profile:         "default-hvm",
		Monitoring:      x.Monitoring.State == "enabled" || x.Monitoring.State == "pending",
		Placement: imds.Placement{
			Region:             regionRe.FindString(x.Placement.AvailabilityZone),
			AvailabilityZone:   x.Placement.AvailabilityZone,
			AvailabilityZoneID: x.Placement.AvailabilityZoneID,
			GroupName:          x.Placement.GroupName,
			PartitionNumber:    x.Placement.PartitionNumber,
			HostID:             x.Placement.HostID,
		},
		BlockDevices: blockDevices(x),
		Options:      options(x.MetadataOptions),
		State:        x.State.Name,
	}
	if in.Placement.Region == "" {
		return nil, fmt.Errorf("Placement.AvailabilityZone: %q is not a zone such as us-east-1a", x.Placement.AvailabilityZone)
	}
	if x.VirtualizationType == "paravirtual" {
		in.Profile = "default-paravirtual"
	}
	for _, c := range x.ProductCodes {
		in.ProductCodes = append(in.ProductCodes, c.ProductCodeID)
	}
	for _, t := range x.Tags {
		in.Tags = append(in.Tags, imds.Tag{Key: t.Key, Value: t.Value})
	}
	if p := x.IamInstanceProfile; p != nil {
		// The output names the profile, not its role; profiles made by
		// the console or by most tools carry the role's name.
		name := p.Arn[strings.LastIndex(p.Arn, "/")+1:]
		in.IAM = &imds.IAMProfile{ProfileARN: p.Arn, ProfileID: p.ID, RoleName: name}
	}
	if in.Interfaces, err = interfaces(x); err != nil {
		return nil, err
	}
	if in.AccountID == "" && len(in.Interfaces) > 0 {
		in.AccountID = in.Interfaces[0].OwnerID
	}
	return in, nil
}

// parseTime accepts the CLI's form (2024-01-15T10:00:00+00:00) and the
// API's (2024-01-15T10:00:00.000Z).
func parseTime(s string) (time.Time, error) {
	if s == "" {
		return time.Time{}, fmt.Errorf("required")
	}
	t, err := time.Parse(time.RFC3339Nano, s)
	if err != nil {
		return time.Time{}, fmt.Errorf("%q is not a time such as 2024-01-15T10:00:00+00:00", s)
	}
	return t.UTC(), nil
}

func options(o metadataOptions) imds.MetadataOptions {
	d := imds.DefaultMetadataOptions()
	return imds.MetadataOptions{
		HTTPTokens:           cmp.Or(o.HTTPTokens, d.HTTPTokens),
		HTTPEndpoint:         cmp.Or(o.HTTPEndpoint, d.HTTPEndpoint),
		HTTPPutHopLimit:      cmp.Or(o.HTTPPutResponseHopLimit, d.HTTPPutHopLimit),
		HTTPProtocolIPv6:     cmp.Or(o.HTTPProtocolIpv6, d.HTTPProtocolIPv6),
		InstanceMetadataTags: cmp.Or(o.InstanceMetadataTags, d.InstanceMetadataTags),
	}
}

// blockDevices maps the root device to ami and root, and other EBS volumes
// to ebs1, ebs2, … by their short device names, as EC2's metadata shows.
func blockDevices(x *instance) []imds.BlockDevice {
	var out []imds.BlockDevice
	if x.RootDeviceName != "" {
		out = append(out,
			imds.BlockDevice{Virtual: "ami", Device: x.RootDeviceName},
			imds.BlockDevice{Virtual: "root", Device: x.RootDeviceName})
	}
	n := 0
	for _, b := range x.BlockDeviceMappings {
		if b.Ebs == nil || b.DeviceName == x.RootDeviceName {
			continue
		}
		n++
		out = append(out, imds.BlockDevice{
			Virtual: fmt.Sprintf("ebs%d", n),
			Device:  strings.TrimPrefix(b.DeviceName, "/dev/"),
		})
	}
	return out
}

// interfaces maps NetworkInterfaces in device-index order. Output without
// them (trimmed by a query, or from EC2-Classic days) gets one interface
// made from the instance's own address fields, with an id and MAC derived
// from the instance id so that every import agrees.
func interfaces(x *instance) ([]imds.NetworkInterface, error) {
	if len(x.NetworkInterfaces) == 0 {
		if x.PrivateIPAddress == "" {
			return nil, fmt.Errorf("NetworkInterfaces: none, and no PrivateIpAddress either")
		}
		if a, err := netip.ParseAddr(x.PrivateIPAddress); err != nil || !a.Is4() {
			return nil, fmt.Errorf("PrivateIpAddress: %q is not an IPv4 address", x.PrivateIPAddress)
		}
		sum := sha256.Sum256([]byte(x.InstanceID))
		mac := sum[:6]
		mac[0] = mac[0]&^1 | 2 // unicast, locally administered
		ni := networkInterface{
			NetworkInterfaceID: fmt.Sprintf("eni-%x", sum[6:15])[:21],
			MacAddress:         fmt.Sprintf("%02x:%02x:%02x:%02x:%02x:%02x", mac[0], mac[1], mac[2], mac[3], mac[4], mac[5]),
			SubnetID:           x.SubnetID,
			VpcID:              x.VpcID,
			PrivateIPAddress:   x.PrivateIPAddress,
			PrivateDNSName:     x.PrivateDNSName,
			Groups:             x.SecurityGroups,
		}
		if x.PublicIPAddress != "" {
			ni.Association = &association{PublicIP: x.PublicIPAddress, PublicDNSName: x.PublicDNSName}
		}
		x.NetworkInterfaces = []networkInterface{ni}
	}

	out := make([]imds.NetworkInterface, 0, len(x.NetworkInterfaces))
	for i := range x.NetworkInterfaces {
		ni, err := networkIface(x, &x.NetworkInterfaces[i])
		if err != nil {
			return nil, fmt.Errorf("NetworkInterfaces[%d].%w", i, err)
		}
		out = append(out, ni)
	}
	slices.SortStableFunc(out, func(a, b imds.NetworkInterface) int { return cmp.Compare(a.DeviceIndex, b.DeviceIndex) })
	return out, nil
}

func networkIface(x *instance, n *networkInterface) (imds.NetworkInterface, error) {
	ni := imds.NetworkInterface{
		ID:               n.NetworkInterfaceID,
		MAC:              strings.ToLower(n.MacAddress),
		DeviceIndex:      n.Attachment.DeviceIndex,
		NetworkCardIndex: n.Attachment.NetworkCardIndex,
		OwnerID:          n.OwnerID,
		SubnetID:         cmp.Or(n.SubnetID, x.SubnetID),
		VPCID:            cmp.Or(n.VpcID, x.VpcID),
		PrivateDNSName:   n.PrivateDNSName,
	}
	groups := n.Groups
	if len(groups) == 0 {
		groups = x.SecurityGroups
	}
	for _, g := range groups {
		ni.SecurityGroups = append(ni.SecurityGroups, imds.SecurityGroup{ID: g.GroupID, Name: g.GroupName})
	}
	if err := privateAddresses(&ni, n); err != nil {
		return ni, err
	}
	for k, a := range n.Ipv6Addresses {
		ip, err := netip.ParseAddr(a.Ipv6Address)
		if err != nil || !ip.Is6() {
			return ni, fmt.Errorf("Ipv6Addresses[%d].Ipv6Address: %q is not an IPv6 address", k, a.Ipv6Address)
		}
		ni.IPv6s = append(ni.IPv6s, ip)
	}
	if n.Association != nil && n.Association.PublicDNSName != "" {
		ni.PublicDNSName = n.Association.PublicDNSName
	}
	subnetGuess(&ni)
	return ni, nil
}

// privateAddresses lists the primary address first and pairs public
// addresses with private ones. The model pairs them by position, so
// addresses with a public partner come before those without; a public
// address whose private partner cannot be placed so is left out.
func privateAddresses(ni *imds.NetworkInterface, n *networkInterface) error {
	type pair struct {
		priv, pub netip.Addr
		primary   bool
	}
	var pairs []pair
	for k, a := range n.PrivateIPAddresses {
		p := pair{primary: a.Primary}
		var err error
		if p.priv, err = netip.ParseAddr(a.PrivateIPAddress); err != nil || !p.priv.Is4() {
			return fmt.Errorf("PrivateIpAddresses[%d].PrivateIpAddress: %q is not an IPv4 address", k, a.PrivateIPAddress)
		}
		if a.Association != nil && a.Association.PublicIP != "" {
			if p.pub, err = netip.ParseAddr(a.Association.PublicIP); err != nil || !p.pub.Is4() {
				return fmt.Errorf("PrivateIpAddresses[%d].Association.PublicIp: %q is not an IPv4 address", k, a.Association.PublicIP)
			}
		}
		pairs = append(pairs, p)
	}
	if len(pairs) == 0 && n.PrivateIPAddress != "" {
		p := pair{primary: true}
		var err error
		if p.priv, err = netip.ParseAddr(n.PrivateIPAddress); err != nil || !p.priv.Is4() {
			return fmt.Errorf("PrivateIpAddress: %q is not an IPv4 address", n.PrivateIPAddress)
		}
		if n.Association != nil && n.Association.PublicIP != "" {
			if p.pub, err = netip.ParseAddr(n.Association.PublicIP); err != nil || !p.pub.Is4() {
				return fmt.Errorf("Association.PublicIp: %q is not an IPv4 address", n.Association.PublicIP)
			}
		}
		pairs = append(pairs, p)
	}
	rank := func(p pair) int {
		switch {
		case p.primary:
			return 0
		case p.pub.IsValid():
			return 1
		}
		return 2
	}
	slices.SortStableFunc(pairs, func(a, b pair) int { return cmp.Compare(rank(a), rank(b)) })
	paired := true
	for _, p := range pairs {
		ni.PrivateIPv4s = append(ni.PrivateIPv4s, p.priv)
		paired = paired && p.pub.IsValid()
		if paired {
			ni.PublicIPv4s = append(ni.PublicIPv4s, p.pub)
		}
	}
	return nil
}

// subnetGuess fills the address blocks, which describe-instances does not
// carry: the /20 subnet and /16 VPC that hold the interface's first IPv4
// address (the shape of a default VPC), widened until they hold all of its
// addresses, and for IPv6 the /64 subnet and /56 VPC block of the first
// IPv6 address. Import a config file instead where the real blocks matter.
func subnetGuess(ni *imds.NetworkInterface) {
	if len(ni.PrivateIPv4s) > 0 {
		sub := cover(ni.PrivateIPv4s, 20)
		ni.SubnetIPv4CIDR = sub
		ni.VPCIPv4CIDRs = []netip.Prefix{netip.PrefixFrom(sub.Addr(), min(sub.Bits(), 16)).Masked()}
	}
	if len(ni.IPv6s) > 0 {
		sub := cover(ni.IPv6s, 64)
		ni.SubnetIPv6CIDRs = []netip.Prefix{sub}
		ni.VPCIPv6CIDRs = []netip.Prefix{netip.PrefixFrom(sub.Addr(), min(sub.Bits(), 56)).Masked()}
	}
}

// cover returns the longest prefix of at most bits that holds every addr.
func cover(addrs []netip.Addr, bits int) netip.Prefix {
	for ; bits > 0; bits-- {
		p, _ := addrs[0].Prefix(bits)
		if !slices.ContainsFunc(addrs, func(a netip.Addr) bool { return !p.Contains(a) }) {
			return p
		}
	}
	p, _ := addrs[0].Prefix(0)
	return p
}
