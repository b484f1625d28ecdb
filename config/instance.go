package config

import (
	"strconv"
	"time"

	"go.yaml.in/yaml/v3"

	"github.com/imds-dev/imds"
)

// instanceDecoder fills one instance from its mapping. It starts from the
// built-in instance so that a tiny file works, and remembers which keys the
// file gave so that derived values (zone from region, interface ids from the
// instance id, the profile ARN from the account) follow the file rather than
// the default.
type instanceDecoder struct {
	*decoder
	path  string    // "instance" or "instances[N]"
	start time.Time // what relative event times count from
	in    *imds.Instance
	set   map[string]bool // instance keys the file gave

	groups     []imds.SecurityGroup // instance-level security-groups
	interfaces []map[string]bool    // keys given per interface; nil without network-interfaces
	iam        map[string]bool      // keys given under iam
	// renames maps a field as Validate names it to the key the file used
	// for it (public-keys[0] -> key-pair).
	renames map[string]string
}

func (d *decoder) instance(n *yaml.Node, path string, now time.Time) (*imds.Instance, map[string]string, error) {
	in := DefaultInstance(now)
	x := &instanceDecoder{
		decoder: d,
		path:    path,
		start:   now.UTC().Truncate(time.Second),
		in:      in,
		groups:  in.Interfaces[0].SecurityGroups,
		renames: map[string]string{},
	}
	set, err := d.fields(n, path, x.handlers())
	if err != nil {
		return nil, nil, err
	}
	x.set = set
	if err := x.exclusive("key-pair", "public-keys"); err != nil {
		return nil, nil, err
	}
	if err := x.exclusive("user-data", "user-data-base64", "user-data-file"); err != nil {
		return nil, nil, err
	}
	x.derive()
	return in, x.renames, nil
}

// exclusive reports a second key among keys that say the same thing.
func (x *instanceDecoder) exclusive(keys ...string) error {
	first := ""
	for _, k := range keys {
		if !x.set[k] {
			continue
		}
		if first != "" {
			p := join(x.path, k)
			return &Error{File: x.name, Line: x.lines[p], Field: p,
				Problem: "conflicts with " + first + " (line " + strconv.Itoa(x.lines[join(x.path, first)]) + ")"}
		}
		first = k
	}
	return nil
}

func (x *instanceDecoder) handlers() map[string]field {
	in := x.in
	pl := &in.Placement
	return map[string]field{
		"id":                   x.strTo(&in.ID),
		"account-id":           x.strTo(&in.AccountID),
		"reservation-id":       x.strTo(&in.ReservationID),
		"ami-id":               x.strTo(&in.ImageID),
		"instance-type":        x.strTo(&in.InstanceType),
		"architecture":         x.strTo(&in.Architecture),
		"launch-index":         x.intTo(&in.LaunchIndex),
		"launch-time":          x.timeTo(&in.LaunchTime),
		"kernel-id":            x.strTo(&in.KernelID),
		"ramdisk-id":           x.strTo(&in.RamdiskID),
		"ami-manifest-path":    x.strTo(&in.AMIManifestPath),
		"ancestor-ami-ids":     x.strsTo(&in.AncestorAMIIDs),
		"product-codes":        x.strsTo(&in.ProductCodes),
		"billing-products":     x.strsTo(&in.BillingProducts),
		"life-cycle":           x.strTo(&in.LifeCycle),
		"profile":              x.strTo(&in.Profile),
		"monitoring":           x.boolTo(&in.Monitoring),
		"region":               x.strTo(&pl.Region),
		"availability-zone":    x.strTo(&pl.AvailabilityZone),
		"availability-zone-id": x.strTo(&pl.AvailabilityZoneID),
		"placement-group":      x.strTo(&pl.GroupName),
		"partition-number":     x.intTo(&pl.PartitionNumber),
		"host-id":              x.strTo(&pl.HostID),
		"key-pair":             x.keyPair,
		"public-keys":          x.publicKeys,
		"security-groups":      x.securityGroups,
		"network-interfaces":   x.networkInterfaces,
		"tags":                 x.tags,
		"block-devices":        x.blockDevices,
		"iam":                  x.iamProfile,
		"user-data":            x.userData,
		"user-data-base64":     x.userDataBase64,
		"user-data-file":       x.userDataFile,
		"metadata-options":     x.options,
		"events":               x.events,
	}
}

func (d *decoder) strTo(dst *string) field {
	return func(v *yaml.Node, p string) (err error) {
		*dst, err = d.str(v, p)
		return err
	}
}

func (d *decoder) strsTo(dst *[]string) field {
	return func(v *yaml.Node, p string) (err error) {
		*dst, err = d.strs(v, p)
		return err
	}
}

func (d *decoder) intTo(dst *int) field {
	return func(v *yaml.Node, p string) (err error) {
		*dst, err = d.integer(v, p)
		return err
	}
}

func (d *decoder) boolTo(dst *bool) field {
	return func(v *yaml.Node, p string) (err error) {
		*dst, err = d.boolean(v, p)
		return err
	}
}

func (d *decoder) timeTo(dst *time.Time) field {
	return func(v *yaml.Node, p string) (err error) {
		*dst, err = d.timestamp(v, p)
		return err
	}
}

func (x *instanceDecoder) tags(v *yaml.Node, p string) error {
	x.in.Tags = nil
	return x.pairs(v, p, func(key string, val *yaml.Node, kp string) error {
		s, err := x.str(val, kp)
		x.in.Tags = append(x.in.Tags, imds.Tag{Key: key, Value: s})
		return err
	})
}

func (x *instanceDecoder) blockDevices(v *yaml.Node, p string) error {
	x.in.BlockDevices = nil
	return x.pairs(v, p, func(key string, val *yaml.Node, kp string) error {
		s, err := x.str(val, kp)
		x.in.BlockDevices = append(x.in.BlockDevices, imds.BlockDevice{Virtual: key, Device: s})
		return err
	})
}

func (x *instanceDecoder) options(v *yaml.Node, p string) error {
	o := &x.in.Options
	_, err := x.fields(v, p, map[string]field{
		"http-tokens":                 x.strTo(&o.HTTPTokens),
		"http-endpoint":               x.strTo(&o.HTTPEndpoint),
		"http-put-response-hop-limit": x.intTo(&o.HTTPPutHopLimit),
		"http-protocol-ipv6":          x.strTo(&o.HTTPProtocolIPv6),
		"instance-metadata-tags":      x.strTo(&o.InstanceMetadataTags),
	})
	return err
}
