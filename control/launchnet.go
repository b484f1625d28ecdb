package control

import (
	"net/netip"
	"slices"

	"github.com/imds-dev/imds"
)

// imds keeps no VPCs or subnets of its own: it knows the ones its instances
// sit in. A launch goes into a subnet some instance already uses, found by
// SubnetId or by the requested address; a launch at an address no known
// subnet holds gets a subnet made up around that address, because a
// platform must be able to register a VM at the address the VM really has.

// site is where a launch puts its instances.
type site struct {
	AccountID string
	Placement imds.Placement
	// Net holds the subnet, VPC and security groups; the launch fills in
	// the interface's own fields.
	Net imds.NetworkInterface
	// Known is false for a subnet made up for this launch.
	Known bool
}

// Block sizes tried for a made-up subnet and VPC, as EC2's default VPC
// would have them.
const (
	madeSubnetBits = 24
	madeVPCBits    = 16
)

// chooseSite finds where the launch goes. all is sorted by id; fallback
// answers for an empty store.
func chooseSite(all []*imds.Instance, subnetID, zone string, addr netip.Addr, fallback *imds.Instance) (*site, *apiError) {
	switch {
	case subnetID != "":
		ref, ni := findInterface(all, func(ni *imds.NetworkInterface) bool { return ni.SubnetID == subnetID })
		if ref == nil {
			return nil, errorf(codeSubnetNotFound, "The subnet ID '%s' does not exist", subnetID)
		}
		if addr.IsValid() && !ni.SubnetIPv4CIDR.Contains(addr) {
			return nil, errorf(codeInvalidValue, "Address %s does not fall within the subnet's address range %s.", addr, ni.SubnetIPv4CIDR)
		}
		return knownSite(ref, ni, zone)
	case addr.IsValid():
		ref, ni := findInterface(all, func(ni *imds.NetworkInterface) bool { return ni.SubnetIPv4CIDR.Contains(addr) })
		if ref != nil {
			return knownSite(ref, ni, zone)
		}
		return madeSite(all, addr, zone, fallback), nil
	}
	// Neither: the subnet of the first instance in the zone asked for, or
	// of the first instance at all, as EC2 picks the default subnet.
	ref, ni := findInterface(all, func(*imds.NetworkInterface) bool { return true })
	if zone != "" {
		for _, in := range all {
			if p := in.Primary(); p != nil && in.Placement.AvailabilityZone == zone && p.SubnetIPv4CIDR.IsValid() {
				ref, ni = in, p
				break
			}
		}
	}
	if ref == nil {
		ref, ni = fallback, fallback.Primary()
	}
	st := siteOf(ref, ni, true)
	if zone != "" && zone != st.Placement.AvailabilityZone {
		st.Placement = imds.Placement{Region: st.Placement.Region, AvailabilityZone: zone}
	}
	return st, nil
}

// findInterface returns the first instance, and its interface, for which
// match holds; interfaces without an IPv4 subnet are skipped, since
// launches need one to take an address from.
func findInterface(all []*imds.Instance, match func(*imds.NetworkInterface) bool) (*imds.Instance, *imds.NetworkInterface) {
	for _, in := range all {
		for i := range in.Interfaces {
			ni := &in.Interfaces[i]
			if ni.SubnetIPv4CIDR.IsValid() && match(ni) {
				return in, ni
			}
		}
	}
	return nil, nil
}

// knownSite is the site of an existing subnet; a subnet lies in one zone,
// so a different zone asked for is refused.
func knownSite(ref *imds.Instance, ni *imds.NetworkInterface, zone string) (*site, *apiError) {
	if zone != "" && zone != ref.Placement.AvailabilityZone {
		return nil, errorf(codeInvalidValue, "Value (%s) for parameter availabilityZone is invalid. Subnet '%s' is in the availability zone %s.",
			zone, ni.SubnetID, ref.Placement.AvailabilityZone)
	}
	return siteOf(ref, ni, true), nil
}

func siteOf(ref *imds.Instance, ni *imds.NetworkInterface, known bool) *site {
	return &site{
		AccountID: ref.AccountID,
		Placement: imds.Placement{
			Region:             ref.Placement.Region,
			AvailabilityZone:   ref.Placement.AvailabilityZone,
			AvailabilityZoneID: ref.Placement.AvailabilityZoneID,
		},
		Net: imds.NetworkInterface{
			SubnetID:        ni.SubnetID,
			SubnetIPv4CIDR:  ni.SubnetIPv4CIDR,
			SubnetIPv6CIDRs: slices.Clone(ni.SubnetIPv6CIDRs),
			VPCID:           ni.VPCID,
			VPCIPv4CIDRs:    slices.Clone(ni.VPCIPv4CIDRs),
			VPCIPv6CIDRs:    slices.Clone(ni.VPCIPv6CIDRs),
			SecurityGroups:  slices.Clone(ni.SecurityGroups),
		},
		Known: known,
	}
}

// madeSite makes up a subnet around addr: inside the VPC of a known
// instance whose VPC blocks hold addr, or else in a VPC made up too. The
// subnet is the largest block from /24 down that overlaps no known subnet,
// and its ids derive from its address block, so launches at neighbouring
// addresses share it.
func madeSite(all []*imds.Instance, addr netip.Addr, zone string, fallback *imds.Instance) *site {
	ref, vpc := fallback, (*imds.NetworkInterface)(nil)
	if len(all) > 0 {
		ref = all[0]
	}
	var vpcBlock netip.Prefix
	for _, in := range all {
		for i := range in.Interfaces {
			ni := &in.Interfaces[i]
			for _, b := range ni.VPCIPv4CIDRs {
				if vpc == nil && b.Contains(addr) {
					ref, vpc, vpcBlock = in, ni, b
				}
			}
		}
	}

	bits := madeSubnetBits
	if vpc != nil {
		bits = max(bits, vpcBlock.Bits())
	}
	subnet := netip.PrefixFrom(addr, 32)
	for ; bits <= 32; bits++ {
		p := netip.PrefixFrom(addr, bits).Masked()
		if !overlapsSubnet(all, p) {
			subnet = p
			break
		}
	}

	var st *site
	if vpc != nil {
		st = siteOf(ref, vpc, false)
		st.Net.SubnetIPv6CIDRs = nil
	} else {
		block := netip.PrefixFrom(addr, min(madeVPCBits, subnet.Bits())).Masked()
		vpcID := derivedID("vpc", block.String())
		st = &site{
			AccountID: ref.AccountID,
			Placement: imds.Placement{Region: ref.Placement.Region, AvailabilityZone: ref.Placement.AvailabilityZone},
			Net: imds.NetworkInterface{
				VPCID:          vpcID,
				VPCIPv4CIDRs:   []netip.Prefix{block},
				SecurityGroups: []imds.SecurityGroup{{ID: derivedID("sg", vpcID), Name: "default"}},
			},
		}
	}
	st.Net.SubnetID = derivedID("subnet", subnet.String())
	st.Net.SubnetIPv4CIDR = subnet
	if zone != "" && zone != st.Placement.AvailabilityZone {
		st.Placement = imds.Placement{Region: st.Placement.Region, AvailabilityZone: zone}
	}
	return st
}

func overlapsSubnet(all []*imds.Instance, p netip.Prefix) bool {
	for _, in := range all {
		for _, ni := range in.Interfaces {
			if ni.SubnetIPv4CIDR.IsValid() && ni.SubnetIPv4CIDR.Overlaps(p) {
				return true
			}
		}
	}
	return false
}

// usedAddresses are the addresses the data plane attributes to instances:
// those of every instance not terminated.
func usedAddresses(all []*imds.Instance) map[netip.Addr]string {
	used := map[netip.Addr]string{}
	for _, in := range all {
		if in.State == "terminated" {
			continue
		}
		for _, a := range in.Addresses() {
			used[a] = in.ID
		}
	}
	return used
}

// allocate returns up to n free addresses of the subnet, lowest first,
// skipping the first four and the last, which EC2 reserves.
func allocate(subnet netip.Prefix, used map[netip.Addr]string, n int) []netip.Addr {
	var out []netip.Addr
	if !subnet.Addr().Is4() || subnet.Bits() > 30 {
		return nil
	}
	a := subnet.Masked().Addr()
	for range 4 {
		a = a.Next()
	}
	for ; subnet.Contains(a) && len(out) < n; a = a.Next() {
		if !subnet.Contains(a.Next()) {
			break // the subnet's last address
		}
		if _, taken := used[a]; !taken {
			out = append(out, a)
		}
	}
	return out
}
