package config

import (
	"net/netip"

	"go.yaml.in/yaml/v3"

	"github.com/imds-dev/imds"
)

// securityGroups reads the instance's groups, which every interface without
// its own list gets.
func (x *instanceDecoder) securityGroups(v *yaml.Node, p string) (err error) {
	x.groups, err = x.groupList(v, p)
	return err
}

func (d *decoder) groupList(v *yaml.Node, p string) ([]imds.SecurityGroup, error) {
	out := []imds.SecurityGroup{}
	err := d.list(v, p, false, func(_ int, item *yaml.Node, ip string) error {
		var g imds.SecurityGroup
		_, err := d.fields(item, ip, map[string]field{
			"id":   d.strTo(&g.ID),
			"name": d.strTo(&g.Name),
		})
		out = append(out, g)
		return err
	})
	return out, err
}

// networkInterfaces replaces the built-in interface with the listed ones.
// What an interface leaves out is derived in derive.go.
func (x *instanceDecoder) networkInterfaces(v *yaml.Node, p string) error {
	x.in.Interfaces = nil
	x.interfaces = []map[string]bool{}
	return x.list(v, p, false, func(i int, item *yaml.Node, ip string) error {
		ni := imds.NetworkInterface{DeviceIndex: i}
		set, err := x.fields(item, ip, map[string]field{
			"id":                 x.strTo(&ni.ID),
			"mac":                x.strTo(&ni.MAC),
			"device-index":       x.intTo(&ni.DeviceIndex),
			"network-card-index": x.intTo(&ni.NetworkCardIndex),
			"owner-id":           x.strTo(&ni.OwnerID),
			"private-ips":        x.addrsTo(&ni.PrivateIPv4s),
			"public-ips":         x.addrsTo(&ni.PublicIPv4s),
			"ipv6s":              x.addrsTo(&ni.IPv6s),
			"subnet-id":          x.strTo(&ni.SubnetID),
			"subnet-cidr":        x.prefixTo(&ni.SubnetIPv4CIDR),
			"subnet-ipv6-cidrs":  x.prefixesTo(&ni.SubnetIPv6CIDRs),
			"vpc-id":             x.strTo(&ni.VPCID),
			"vpc-cidrs":          x.prefixesTo(&ni.VPCIPv4CIDRs),
			"vpc-ipv6-cidrs":     x.prefixesTo(&ni.VPCIPv6CIDRs),
			"security-groups": func(v *yaml.Node, p string) (err error) {
				ni.SecurityGroups, err = x.groupList(v, p)
				return err
			},
			"private-dns-name": x.strTo(&ni.PrivateDNSName),
			"public-dns-name":  x.strTo(&ni.PublicDNSName),
		})
		x.in.Interfaces = append(x.in.Interfaces, ni)
		x.interfaces = append(x.interfaces, set)
		return err
	})
}

func (d *decoder) addrsTo(dst *[]netip.Addr) field {
	return func(v *yaml.Node, p string) (err error) {
		*dst, err = d.addrs(v, p)
		return err
	}
}

func (d *decoder) prefixTo(dst *netip.Prefix) field {
	return func(v *yaml.Node, p string) (err error) {
		*dst, err = d.prefix(v, p)
		return err
	}
}

func (d *decoder) prefixesTo(dst *[]netip.Prefix) field {
	return func(v *yaml.Node, p string) (err error) {
		*dst, err = d.prefixes(v, p)
		return err
	}
}
