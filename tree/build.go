package tree

import (
	"strconv"
	"strings"
	"time"

	"github.com/imds-dev/imds"
	"github.com/imds-dev/imds/creds"
	"github.com/imds-dev/imds/identity"
)

// Options are what a build needs besides the instance.
type Options struct {
	// Creds derives role credentials. Required when the instance has a role.
	Creds *creds.Generator
	// Sign signs the identity document. When nil, the signature leaves are
	// not served.
	Sign func(doc []byte) (identity.Signatures, error)
	// ExtendedCredentials serves iam/security-credentials-extended/, which
	// newer JavaScript SDKs try first. Off by default: whether EC2 serves it
	// is unconfirmed, and the SDKs fall back on 404.
	ExtendedCredentials bool
}

// Build renders in as seen at now.
func Build(in *imds.Instance, opt Options, now time.Time) *Tree {
	b := newBuilder()
	v := &validity{now: now}

	if in.UserData != nil {
		b.add("user-data", &Node{ContentType: OctetStream, Body: in.UserData})
		b.listing("", []string{"dynamic", "meta-data", "user-data"})
	} else {
		b.listing("", []string{"dynamic", "meta-data"})
	}

	buildMetaData(b, in, opt, v)
	buildDynamic(b, in, opt)
	return b.finish(v.until)
}

// validity tracks the earliest future moment at which the tree changes.
type validity struct {
	now   time.Time
	until time.Time
}

// visible reports whether something appearing at t is visible now, and
// remembers t when it lies in the future.
func (v *validity) visible(t time.Time) bool {
	if t.IsZero() || !t.After(v.now) {
		return true
	}
	v.changesAt(t)
	return false
}

func (v *validity) changesAt(t time.Time) {
	if v.until.IsZero() || t.Before(v.until) {
		v.until = t
	}
}

func buildMetaData(b *builder, in *imds.Instance, opt Options, v *validity) {
	const md = "meta-data/"
	primary := in.Primary()

	b.text(md+"ami-id", in.ImageID)
	b.text(md+"ami-launch-index", strconv.Itoa(in.LaunchIndex))
	b.text(md+"ami-manifest-path", orDefault(in.AMIManifestPath, "(unknown)"))
	if len(in.AncestorAMIIDs) > 0 {
		b.lines(md+"ancestor-ami-ids", in.AncestorAMIIDs)
	}
	if in.KernelID != "" {
		b.text(md+"kernel-id", in.KernelID)
	}
	if in.RamdiskID != "" {
		b.text(md+"ramdisk-id", in.RamdiskID)
	}
	if len(in.ProductCodes) > 0 {
		b.lines(md+"product-codes", in.ProductCodes)
	}
	b.text(md+"instance-action", "none")
	b.text(md+"instance-id", in.ID)
	b.text(md+"instance-life-cycle", orDefault(in.LifeCycle, "on-demand"))
	b.text(md+"instance-type", in.InstanceType)
	b.text(md+"profile", orDefault(in.Profile, "default-hvm"))
	b.text(md+"reservation-id", in.ReservationID)
	b.text(md+"metrics/vhostmd", `<?xml version="1.0" encoding="UTF-8"?>`)
	b.text(md+"services/domain", Domain(in.Placement.Region))
	b.text(md+"services/partition", Partition(in.Placement.Region))

	if primary != nil {
		b.text(md+"hostname", PrivateDNSName(primary, in.ID, in.Placement.Region))
		b.text(md+"local-hostname", PrivateDNSName(primary, in.ID, in.Placement.Region))
		b.text(md+"mac", primary.MAC)
		if len(primary.PrivateIPv4s) > 0 {
			b.text(md+"local-ipv4", primary.PrivateIPv4s[0].String())
		}
		if len(primary.IPv6s) > 0 {
			b.text(md+"ipv6", primary.IPv6s[0].String())
		}
		if len(primary.PublicIPv4s) > 0 {
			b.text(md+"public-ipv4", primary.PublicIPv4s[0].String())
			b.text(md+"public-hostname", PublicDNSName(primary, in.Placement.Region))
		}
		b.lines(md+"security-groups", groupNames(primary.SecurityGroups))
	}
	for i := range in.Interfaces {
		buildInterface(b, &in.Interfaces[i], in)
	}

	buildPlacement(b, in.Placement)
	buildBlockDevices(b, in.BlockDevices)
	buildPublicKeys(b, in.PublicKeys)
	buildTags(b, in)
	buildIAM(b, in, opt, v)
	buildEvents(b, in.Events, v)
}

func buildPlacement(b *builder, p imds.Placement) {
	const dir = "meta-data/placement/"
	b.text(dir+"availability-zone", p.AvailabilityZone)
	b.text(dir+"region", p.Region)
	if p.AvailabilityZoneID != "" {
		b.text(dir+"availability-zone-id", p.AvailabilityZoneID)
	}
	if p.GroupName != "" {
		b.text(dir+"group-name", p.GroupName)
	}
	if p.PartitionNumber > 0 {
		b.text(dir+"partition-number", strconv.Itoa(p.PartitionNumber))
	}
	if p.HostID != "" {
		b.text(dir+"host-id", p.HostID)
	}
}

func buildBlockDevices(b *builder, devices []imds.BlockDevice) {
	for _, d := range devices {
		b.text("meta-data/block-device-mapping/"+d.Virtual, d.Device)
	}
}

// buildPublicKeys lists keys as "N=name": the listing entries carry no slash
// although each N is a directory, and cloud-init depends on that form.
func buildPublicKeys(b *builder, keys []imds.PublicKey) {
	if len(keys) == 0 {
		return
	}
	entries := make([]string, len(keys))
	for i, k := range keys {
		n := strconv.Itoa(i)
		entries[i] = n + "=" + k.Name
		b.text("meta-data/public-keys/"+n+"/openssh-key", k.OpenSSH)
	}
	b.listing("meta-data/public-keys", entries)
}

// buildTags serves tags only when the option is on, keys in stored order.
func buildTags(b *builder, in *imds.Instance) {
	if !in.Options.TagsEnabled() || len(in.Tags) == 0 {
		return
	}
	keys := make([]string, 0, len(in.Tags))
	for _, t := range in.Tags {
		if !TagKeyServable(t.Key) {
			continue
		}
		keys = append(keys, t.Key)
		b.text("meta-data/tags/instance/"+t.Key, t.Value)
	}
	if len(keys) > 0 {
		b.listing("meta-data/tags/instance", keys)
	}
}

// TagKeyServable reports whether key can appear under tags/instance/: EC2
// allows only letters, digits and + - = . , _ : @, and not ".", ".." or
// "_index". The control plane refuses such keys while tags are enabled; the
// tree also skips them so that a path can never escape its directory.
func TagKeyServable(key string) bool {
	if key == "" || key == "." || key == ".." || key == "_index" {
		return false
	}
	for i := 0; i < len(key); i++ {
		c := key[i]
		switch {
		case c >= 'a' && c <= 'z', c >= 'A' && c <= 'Z', c >= '0' && c <= '9':
		case strings.IndexByte("+-=.,_:@", c) >= 0:
		default:
			return false
		}
	}
	return true
}

func groupNames(groups []imds.SecurityGroup) []string {
	out := make([]string, len(groups))
	for i, g := range groups {
		out[i] = g.Name
	}
	return out
}

func orDefault(s, def string) string {
	if s == "" {
		return def
	}
	return s
}
