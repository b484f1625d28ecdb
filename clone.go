package imds

import "slices"

// Clone returns a deep copy of in, so that a store or a plane can hand out
// instances without sharing slices with the copy it keeps.
func (in *Instance) Clone() *Instance {
	if in == nil {
		return nil
	}
	out := *in
	out.AncestorAMIIDs = slices.Clone(in.AncestorAMIIDs)
	out.ProductCodes = slices.Clone(in.ProductCodes)
	out.BillingProducts = slices.Clone(in.BillingProducts)
	out.PublicKeys = slices.Clone(in.PublicKeys)
	out.BlockDevices = slices.Clone(in.BlockDevices)
	out.Tags = slices.Clone(in.Tags)
	out.UserData = slices.Clone(in.UserData)
	out.Interfaces = make([]NetworkInterface, len(in.Interfaces))
	for i, ni := range in.Interfaces {
		ni.PrivateIPv4s = slices.Clone(ni.PrivateIPv4s)
		ni.IPv6s = slices.Clone(ni.IPv6s)
		ni.PublicIPv4s = slices.Clone(ni.PublicIPv4s)
		ni.SubnetIPv6CIDRs = slices.Clone(ni.SubnetIPv6CIDRs)
		ni.VPCIPv4CIDRs = slices.Clone(ni.VPCIPv4CIDRs)
		ni.VPCIPv6CIDRs = slices.Clone(ni.VPCIPv6CIDRs)
		ni.SecurityGroups = slices.Clone(ni.SecurityGroups)
		out.Interfaces[i] = ni
	}
	if in.Interfaces == nil {
		out.Interfaces = nil
	}
	if in.IAM != nil {
		iam := *in.IAM
		if in.IAM.Static != nil {
			st := *in.IAM.Static
			iam.Static = &st
		}
		out.IAM = &iam
	}
	out.Events = in.Events.clone()
	return &out
}

func (e Events) clone() Events {
	out := e
	if e.Spot != nil {
		s := *e.Spot
		out.Spot = &s
	}
	if e.Rebalance != nil {
		r := *e.Rebalance
		out.Rebalance = &r
	}
	if e.AutoScaling != nil {
		a := *e.AutoScaling
		out.AutoScaling = &a
	}
	out.Maintenance = slices.Clone(e.Maintenance)
	return out
}
