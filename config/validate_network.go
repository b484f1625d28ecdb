package config

import (
	"net/netip"
	"regexp"

	"github.com/imds-dev/imds"
)

var (
	eniRe      = resourceID("eni")
	subnetRe   = resourceID("subnet")
	vpcRe      = resourceID("vpc")
	sgRe       = resourceID("sg")
	macRe      = regexp.MustCompile(`^[0-9a-f]{2}(:[0-9a-f]{2}){5}$`)
	hostnameRe = regexp.MustCompile(`^[a-z0-9]([a-z0-9-]*[a-z0-9])?(\.[a-z0-9]([a-z0-9-]*[a-z0-9])?)*$`)
)

// checkInterfaces checks each interface on its own and then what must be
// unique across them: MACs, ids, device indexes and addresses, since the
// tree keys interfaces by MAC and a fleet finds instances by address.
func checkInterfaces(in *imds.Instance) error {
	if len(in.Interfaces) == 0 {
		return fieldErr("network-interfaces", "the instance needs at least one interface")
	}
	macs := map[string]string{}
	ids := map[string]string{}
	addrs := map[netip.Addr]string{}
	for i := range in.Interfaces {
		ni := &in.Interfaces[i]
		p := index("network-interfaces", i)
		if err := checkInterface(ni, p); err != nil {
			return err
		}
		switch {
		case i == 0 && ni.DeviceIndex != 0:
			return fieldErr(p+".device-index", "the first interface must be the primary one, device-index 0")
		case i > 0 && ni.DeviceIndex <= in.Interfaces[i-1].DeviceIndex:
			return fieldErr(p+".device-index", "interfaces must be listed by increasing device-index without repeats")
		case macs[ni.MAC] != "":
			return fieldErr(p+".mac", "%s repeats %s", ni.MAC, macs[ni.MAC])
		case ids[ni.ID] != "":
			return fieldErr(p+".id", "%s repeats %s", ni.ID, ids[ni.ID])
		}
		macs[ni.MAC], ids[ni.ID] = p, p
		for j, a := range ni.PrivateIPv4s {
			if err := claim(addrs, a, index(p+".private-ips", j)); err != nil {
				return err
			}
		}
		for j, a := range ni.IPv6s {
			if err := claim(addrs, a, index(p+".ipv6s", j)); err != nil {
				return err
			}
		}
	}
	return nil
}

func claim(owners map[netip.Addr]string, a netip.Addr, field string) error {
	if prev, ok := owners[a]; ok {
		return fieldErr(field, "%s repeats %s", a, prev)
	}
	owners[a] = field
	return nil
}

func checkInterface(ni *imds.NetworkInterface, p string) error {
	switch {
	case !eniRe.MatchString(ni.ID):
		return fieldErr(p+".id", "%q is not an interface id such as eni-0123456789abcdef0", ni.ID)
	case !macRe.MatchString(ni.MAC):
		return fieldErr(p+".mac", "%q is not a MAC address in lowercase colon form such as 0e:49:61:0f:c3:11", ni.MAC)
	case ni.DeviceIndex < 0:
		return fieldErr(p+".device-index", "must not be negative")
	case ni.NetworkCardIndex < 0:
		return fieldErr(p+".network-card-index", "must not be negative")
	case ni.OwnerID != "" && !accountRe.MatchString(ni.OwnerID):
		return fieldErr(p+".owner-id", "%q is not 12 digits", ni.OwnerID)
	case len(ni.PrivateIPv4s) == 0 && len(ni.IPv6s) == 0:
		return fieldErr(p+".private-ips", "the interface needs a private IPv4 address (or an IPv6 one)")
	case len(ni.PublicIPv4s) > len(ni.PrivateIPv4s):
		return fieldErr(p+".public-ips", "%d public addresses for %d private ones", len(ni.PublicIPv4s), len(ni.PrivateIPv4s))
	case !subnetRe.MatchString(ni.SubnetID):
		return fieldErr(p+".subnet-id", "%q is not a subnet id such as subnet-0123456789abcdef0", ni.SubnetID)
	case !vpcRe.MatchString(ni.VPCID):
		return fieldErr(p+".vpc-id", "%q is not a VPC id such as vpc-0123456789abcdef0", ni.VPCID)
	case ni.PrivateDNSName != "" && !hostname(ni.PrivateDNSName):
		return fieldErr(p+".private-dns-name", "%q is not a lowercase host name", ni.PrivateDNSName)
	case ni.PublicDNSName != "" && !hostname(ni.PublicDNSName):
		return fieldErr(p+".public-dns-name", "%q is not a lowercase host name", ni.PublicDNSName)
	}
	if err := checkAddresses(ni, p); err != nil {
		return err
	}
	if len(ni.SecurityGroups) == 0 {
		return fieldErr(p+".security-groups", "an interface needs at least one security group")
	}
	for j, g := range ni.SecurityGroups {
		gp := index(p+".security-groups", j)
		switch {
		case !sgRe.MatchString(g.ID):
			return fieldErr(gp+".id", "%q is not a security group id such as sg-0123456789abcdef0", g.ID)
		case g.Name == "" || !printable(g.Name) || len(g.Name) > 255:
			return fieldErr(gp+".name", "required, printable text of at most 255 bytes")
		}
	}
	return nil
}

func hostname(s string) bool { return len(s) <= 253 && hostnameRe.MatchString(s) }

// checkAddresses checks that every address has the right family and lies
// in its subnet, and every subnet in its VPC.
func checkAddresses(ni *imds.NetworkInterface, p string) error {
	if err := family(ni.PrivateIPv4s, p+".private-ips", true); err != nil {
		return err
	}
	if err := family(ni.PublicIPv4s, p+".public-ips", true); err != nil {
		return err
	}
	if err := family(ni.IPv6s, p+".ipv6s", false); err != nil {
		return err
	}

	if len(ni.PrivateIPv4s) > 0 || ni.SubnetIPv4CIDR.IsValid() {
		sub := ni.SubnetIPv4CIDR
		if err := network(sub, p+".subnet-cidr", true); err != nil {
			return err
		}
		if err := within(ni.PrivateIPv4s, []netip.Prefix{sub}, p+".private-ips"); err != nil {
			return err
		}
		if len(ni.VPCIPv4CIDRs) == 0 {
			return fieldErr(p+".vpc-cidrs", "required with an IPv4 subnet")
		}
		if !covered(sub, ni.VPCIPv4CIDRs) {
			return fieldErr(p+".subnet-cidr", "%s is not inside the VPC's blocks", sub)
		}
	}
	for j, v := range ni.VPCIPv4CIDRs {
		if err := network(v, index(p+".vpc-cidrs", j), true); err != nil {
			return err
		}
	}

	for j, s := range ni.SubnetIPv6CIDRs {
		sp := index(p+".subnet-ipv6-cidrs", j)
		if err := network(s, sp, false); err != nil {
			return err
		}
		if !covered(s, ni.VPCIPv6CIDRs) {
			return fieldErr(sp, "%s is not inside the VPC's IPv6 blocks", s)
		}
	}
	for j, v := range ni.VPCIPv6CIDRs {
		if err := network(v, index(p+".vpc-ipv6-cidrs", j), false); err != nil {
			return err
		}
	}
	return within(ni.IPv6s, ni.SubnetIPv6CIDRs, p+".ipv6s")
}

func family(addrs []netip.Addr, field string, v4 bool) error {
	for j, a := range addrs {
		switch {
		case v4 && !a.Is4():
			return fieldErr(index(field, j), "%s is not an IPv4 address", a)
		case !v4 && (!a.Is6() || a.Is4In6()):
			return fieldErr(index(field, j), "%s is not an IPv6 address", a)
		case a.Zone() != "":
			return fieldErr(index(field, j), "%s must not carry a zone", a)
		}
	}
	return nil
}

// network checks that p is a block of the family, written with its host
// bits clear (10.0.0.0/24, not 10.0.0.5/24).
func network(p netip.Prefix, field string, v4 bool) error {
	switch {
	case !p.IsValid():
		return fieldErr(field, "required")
	case v4 && !p.Addr().Is4(), !v4 && (!p.Addr().Is6() || p.Addr().Is4In6()):
		return fieldErr(field, "%s is of the wrong address family", p)
	case p != p.Masked():
		return fieldErr(field, "%s has host bits set; use %s", p, p.Masked())
	}
	return nil
}

func within(addrs []netip.Addr, blocks []netip.Prefix, field string) error {
	for j, a := range addrs {
		in := false
		for _, b := range blocks {
			in = in || b.Contains(a)
		}
		if !in {
			return fieldErr(index(field, j), "%s is outside the subnet", a)
		}
	}
	return nil
}

// covered reports whether inner lies entirely inside one of outer.
func covered(inner netip.Prefix, outer []netip.Prefix) bool {
	for _, o := range outer {
		if o.Bits() <= inner.Bits() && o.Contains(inner.Addr()) {
			return true
		}
	}
	return false
}
