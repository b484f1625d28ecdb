package tree

import (
	"net/netip"
	"strconv"
	"strings"

	"github.com/imds-dev/imds"
)

// buildInterface renders network/interfaces/macs/MAC/ for one interface.
func buildInterface(b *builder, ni *imds.NetworkInterface, in *imds.Instance) {
	dir := "meta-data/network/interfaces/macs/" + ni.MAC + "/"
	region := in.Placement.Region

	b.text(dir+"device-number", strconv.Itoa(ni.DeviceIndex))
	b.text(dir+"network-card-index", strconv.Itoa(ni.NetworkCardIndex))
	b.text(dir+"interface-id", ni.ID)
	b.text(dir+"mac", ni.MAC)
	b.text(dir+"owner-id", orDefault(ni.OwnerID, in.AccountID))
	b.text(dir+"local-hostname", PrivateDNSName(ni, in.ID, region))
	if len(ni.PrivateIPv4s) > 0 {
		b.lines(dir+"local-ipv4s", addrStrings(ni.PrivateIPv4s))
	}
	if len(ni.IPv6s) > 0 {
		b.lines(dir+"ipv6s", addrStrings(ni.IPv6s))
	}
	if len(ni.PublicIPv4s) > 0 {
		b.lines(dir+"public-ipv4s", addrStrings(ni.PublicIPv4s))
		b.text(dir+"public-hostname", PublicDNSName(ni, region))
		for i, pub := range ni.PublicIPv4s {
			if i < len(ni.PrivateIPv4s) {
				b.text(dir+"ipv4-associations/"+pub.String(), ni.PrivateIPv4s[i].String())
			}
		}
	}
	ids := make([]string, len(ni.SecurityGroups))
	for i, g := range ni.SecurityGroups {
		ids[i] = g.ID
	}
	b.lines(dir+"security-group-ids", ids)
	b.lines(dir+"security-groups", groupNames(ni.SecurityGroups))

	b.text(dir+"subnet-id", ni.SubnetID)
	if ni.SubnetIPv4CIDR.IsValid() {
		b.text(dir+"subnet-ipv4-cidr-block", ni.SubnetIPv4CIDR.String())
	}
	if len(ni.SubnetIPv6CIDRs) > 0 {
		b.lines(dir+"subnet-ipv6-cidr-blocks", prefixStrings(ni.SubnetIPv6CIDRs))
	}
	b.text(dir+"vpc-id", ni.VPCID)
	if len(ni.VPCIPv4CIDRs) > 0 {
		b.text(dir+"vpc-ipv4-cidr-block", ni.VPCIPv4CIDRs[0].String())
		b.lines(dir+"vpc-ipv4-cidr-blocks", prefixStrings(ni.VPCIPv4CIDRs))
	}
	if len(ni.VPCIPv6CIDRs) > 0 {
		b.lines(dir+"vpc-ipv6-cidr-blocks", prefixStrings(ni.VPCIPv6CIDRs))
	}
}

// PrivateDNSName returns the interface's private host name: the configured
// one, or EC2's IP-based name (ip-10-0-0-5.ec2.internal in us-east-1,
// ip-10-0-0-5.REGION.compute.internal elsewhere). An IPv6-only interface
// gets the resource-based name, instance id first, as on EC2.
func PrivateDNSName(ni *imds.NetworkInterface, instanceID, region string) string {
	if ni.PrivateDNSName != "" {
		return ni.PrivateDNSName
	}
	name := instanceID
	if len(ni.PrivateIPv4s) > 0 {
		name = "ip-" + dashed(ni.PrivateIPv4s[0])
	}
	if region == "us-east-1" && len(ni.PrivateIPv4s) > 0 {
		return name + ".ec2.internal"
	}
	return name + "." + region + ".compute.internal"
}

// PublicDNSName returns the interface's public host name, configured or
// derived as EC2 does (ec2-203-0-113-25.compute-1.amazonaws.com in us-east-1).
func PublicDNSName(ni *imds.NetworkInterface, region string) string {
	if ni.PublicDNSName != "" {
		return ni.PublicDNSName
	}
	if len(ni.PublicIPv4s) == 0 {
		return ""
	}
	name := "ec2-" + dashed(ni.PublicIPv4s[0])
	if region == "us-east-1" {
		return name + ".compute-1.amazonaws.com"
	}
	return name + "." + region + ".compute." + Domain(region)
}

// Domain returns services/domain for a region.
func Domain(region string) string {
	if strings.HasPrefix(region, "cn-") {
		return "amazonaws.com.cn"
	}
	return "amazonaws.com"
}

// Partition returns services/partition for a region.
func Partition(region string) string {
	switch {
	case strings.HasPrefix(region, "cn-"):
		return "aws-cn"
	case strings.HasPrefix(region, "us-gov-"):
		return "aws-us-gov"
	}
	return "aws"
}

func dashed(a netip.Addr) string { return strings.ReplaceAll(a.String(), ".", "-") }

func addrStrings(addrs []netip.Addr) []string {
	out := make([]string, len(addrs))
	for i, a := range addrs {
		out[i] = a.String()
	}
	return out
}

func prefixStrings(ps []netip.Prefix) []string {
	out := make([]string, len(ps))
	for i, p := range ps {
		out[i] = p.String()
	}
	return out
}
