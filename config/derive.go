package config

import (
	"crypto/sha256"
	"encoding/binary"
	"encoding/hex"
	"net/netip"
	"strconv"
	"strings"

	"github.com/imds-dev/imds"
)

// derive fills what the file left out from what it gave, so the instance
// stays coherent: a zone in the given region, interface ids and MACs of the
// given instance, a profile ARN in the given account. Everything derived
// is a hash of the file's values, so repeated starts agree.
func (x *instanceDecoder) derive() {
	def := DefaultInstance(x.start)
	x.derivePlacement(def)
	if x.interfaces == nil {
		x.deriveDefaultInterface(def)
	} else {
		for i := range x.in.Interfaces {
			x.deriveInterface(i, def.Interfaces[0])
		}
	}
	x.deriveIAM()
	x.deriveEvents()
}

func (x *instanceDecoder) derivePlacement(def *imds.Instance) {
	pl := &x.in.Placement
	switch {
	case x.set["availability-zone"] && !x.set["region"]:
		if r := regionOf(pl.AvailabilityZone); r != "" {
			pl.Region = r
		}
	case x.set["region"] && !x.set["availability-zone"] && pl.Region != "":
		pl.AvailabilityZone = pl.Region + "a"
	}
	if !x.set["availability-zone-id"] && pl.AvailabilityZone != def.Placement.AvailabilityZone {
		pl.AvailabilityZoneID = ""
		if zoneRe.MatchString(pl.AvailabilityZone) {
			pl.AvailabilityZoneID = zoneID(pl.Region, pl.AvailabilityZone)
		}
	}
}

// deriveDefaultInterface adapts the built-in interface to the instance: its
// account, its groups and, for another instance id, its own id, MAC and
// addresses, so that a fleet of minimal instances does not collide.
func (x *instanceDecoder) deriveDefaultInterface(def *imds.Instance) {
	ni := &x.in.Interfaces[0]
	ni.OwnerID = x.in.AccountID
	x.inheritGroups(0, ni)
	if x.in.ID == def.ID {
		return
	}
	id := x.in.ID
	ni.ID = "eni-" + hexID(id, "eni", "0")
	ni.MAC = macFor(id, 0)
	ni.PrivateIPv4s = []netip.Addr{hostIn(ni.SubnetIPv4CIDR, id)}
	ni.PublicIPv4s = []netip.Addr{hostIn(netip.MustParsePrefix("203.0.113.0/24"), id)}
}

func (x *instanceDecoder) inheritGroups(i int, ni *imds.NetworkInterface) {
	ni.SecurityGroups = x.groups
	if x.set["security-groups"] {
		x.renames[index("network-interfaces", i)+".security-groups"] = "security-groups"
	}
}

// deriveInterface fills one listed interface. Subnets and VPCs follow the
// first address: the built-in ones when it lies inside them, otherwise the
// address's /24 (IPv6: /64) inside a /16 (IPv6: /56).
func (x *instanceDecoder) deriveInterface(i int, dn imds.NetworkInterface) {
	ni := &x.in.Interfaces[i]
	set := x.interfaces[i]
	if ni.ID == "" {
		ni.ID = "eni-" + hexID(x.in.ID, "eni", strconv.Itoa(ni.DeviceIndex))
	}
	if ni.MAC == "" {
		ni.MAC = macFor(x.in.ID, ni.DeviceIndex)
	}
	if !set["security-groups"] {
		x.inheritGroups(i, ni)
	}

	if !ni.SubnetIPv4CIDR.IsValid() && len(ni.PrivateIPv4s) > 0 && ni.PrivateIPv4s[0].Is4() {
		first := ni.PrivateIPv4s[0]
		ni.SubnetIPv4CIDR = netip.PrefixFrom(first, 24).Masked()
		if dn.SubnetIPv4CIDR.Contains(first) {
			ni.SubnetIPv4CIDR = dn.SubnetIPv4CIDR
		}
	}
	if sub := ni.SubnetIPv4CIDR; !set["vpc-cidrs"] && sub.IsValid() && sub.Addr().Is4() {
		ni.VPCIPv4CIDRs = []netip.Prefix{netip.PrefixFrom(sub.Addr(), min(16, sub.Bits())).Masked()}
		if covered(sub, dn.VPCIPv4CIDRs) {
			ni.VPCIPv4CIDRs = append([]netip.Prefix(nil), dn.VPCIPv4CIDRs...)
		}
	}
	if !set["subnet-ipv6-cidrs"] && len(ni.IPv6s) > 0 && ni.IPv6s[0].Is6() {
		ni.SubnetIPv6CIDRs = []netip.Prefix{netip.PrefixFrom(ni.IPv6s[0], 64).Masked()}
	}
	if !set["vpc-ipv6-cidrs"] && len(ni.SubnetIPv6CIDRs) > 0 && ni.SubnetIPv6CIDRs[0].Addr().Is6() {
		s := ni.SubnetIPv6CIDRs[0]
		ni.VPCIPv6CIDRs = []netip.Prefix{netip.PrefixFrom(s.Addr(), min(56, s.Bits())).Masked()}
	}

	if ni.SubnetID == "" {
		ni.SubnetID = "subnet-" + hexID("subnet", networkKey(ni.SubnetIPv4CIDR, ni.SubnetIPv6CIDRs))
		if ni.SubnetIPv4CIDR == dn.SubnetIPv4CIDR {
			ni.SubnetID = dn.SubnetID
		}
	}
	if ni.VPCID == "" {
		var v4 netip.Prefix
		if len(ni.VPCIPv4CIDRs) > 0 {
			v4 = ni.VPCIPv4CIDRs[0]
		}
		ni.VPCID = "vpc-" + hexID("vpc", networkKey(v4, ni.VPCIPv6CIDRs))
		if v4 == dn.VPCIPv4CIDRs[0] {
			ni.VPCID = dn.VPCID
		}
	}
}

// networkKey names a subnet or VPC by its first block, for deriving its id.
func networkKey(v4 netip.Prefix, v6 []netip.Prefix) string {
	if v4.IsValid() || len(v6) == 0 {
		return v4.String()
	}
	return v6[0].String()
}

// deriveIAM completes the profile: the role is named after the profile when
// only the ARN is given, the ARN is built from partition, account and role,
// and the profile id is a hash of the ARN unless the file gives one.
func (x *instanceDecoder) deriveIAM() {
	p := x.in.IAM
	if p == nil {
		return
	}
	if x.iam["profile-arn"] && !x.iam["role"] {
		p.RoleName = p.ProfileARN[strings.LastIndexByte(p.ProfileARN, '/')+1:]
	}
	if !x.iam["profile-arn"] {
		p.ProfileARN = "arn:" + partition(x.in.Placement.Region) + ":iam::" + x.in.AccountID +
			":instance-profile/" + p.RoleName
	}
	if !x.iam["profile-id"] && p.ProfileARN != DefaultInstance(x.start).IAM.ProfileARN {
		p.ProfileID = "AIPA" + upperID(p.ProfileARN, 17)
	}
}

// deriveEvents marks an instance with Spot notices as a Spot instance and
// names maintenance events the file left unnamed.
func (x *instanceDecoder) deriveEvents() {
	ev := &x.in.Events
	if !x.set["life-cycle"] && (ev.Spot != nil || ev.Rebalance != nil) {
		x.in.LifeCycle = "spot"
	}
	for i := range ev.Maintenance {
		if ev.Maintenance[i].ID == "" {
			ev.Maintenance[i].ID = "instance-event-" + hexID(x.in.ID, "event", strconv.Itoa(i))
		}
	}
}

func digest(parts ...string) [32]byte {
	return sha256.Sum256([]byte(strings.Join(parts, "\x00")))
}

// hexID returns 17 hex digits, the length of current EC2 resource ids.
func hexID(parts ...string) string {
	sum := digest(parts...)
	return hex.EncodeToString(sum[:9])[:17]
}

// upperID returns n characters of the alphabet AWS uses in unique ids.
func upperID(seed string, n int) string {
	const alphabet = "ABCDEFGHIJKLMNOPQRSTUVWXYZ234567"
	sum := digest("profile-id", seed)
	out := make([]byte, n)
	for i := range out {
		out[i] = alphabet[sum[i]&31]
	}
	return string(out)
}

// macFor returns a locally administered unicast MAC whose first octet is
// one of 02, 06, 0a, 0e, as EC2's are.
func macFor(instanceID string, device int) string {
	sum := digest(instanceID, "mac", strconv.Itoa(device))
	sum[0] = 0x02 | sum[0]&0x0c
	b := make([]string, 6)
	for i := range b {
		b[i] = hex.EncodeToString(sum[i : i+1])
	}
	return strings.Join(b, ":")
}

// hostIn picks an address inside an IPv4 block, skipping the network
// address, the three addresses AWS reserves after it, and the broadcast.
func hostIn(block netip.Prefix, seed string) netip.Addr {
	base := block.Masked().Addr().As4()
	size := uint64(1) << (32 - block.Bits())
	sum := digest(seed, "ip", block.String())
	off := uint64(0)
	if size > 5 {
		off = 4 + binary.BigEndian.Uint64(sum[:8])%(size-5)
	}
	n := uint32(off) + binary.BigEndian.Uint32(base[:])
	var out [4]byte
	binary.BigEndian.PutUint32(out[:], n)
	return netip.AddrFrom4(out)
}
