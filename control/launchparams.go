package control

import (
	"encoding/base64"
	"net/netip"
	"regexp"
	"strings"

	"github.com/imds-dev/imds"
	"github.com/imds-dev/imds/config"
)

// Error codes of launches, beside the shared ones in errors.go.
const (
	codeAMIMalformed       = "InvalidAMIID.Malformed"
	codeSubnetMalformed    = "InvalidSubnetID.Malformed"
	codeSubnetNotFound     = "InvalidSubnetID.NotFound"
	codeKeyPairNotFound    = "InvalidKeyPair.NotFound"
	codeAddressInUse       = "InvalidIPAddress.InUse"
	codeNoFreeAddresses    = "InsufficientFreeAddressesInSubnet"
	codeInstanceLimit      = "InstanceLimitExceeded"
	codeIdempotentMismatch = "IdempotentParameterMismatch"
)

// maxLaunch caps the instances one RunInstances call launches, as an
// account's instance limit does on EC2: a call asking for more launches
// this many when its MinCount allows, and is refused otherwise.
const maxLaunch = 100

// defaultInstanceType is what EC2 launches when RunInstances names no type.
const defaultInstanceType = "m1.small"

// maxClientToken is EC2's limit on an idempotency token, in ASCII characters.
const maxClientToken = 64

var runInstancesParams = []string{
	"ImageId", "InstanceType", "MinCount", "MaxCount", "KeyName", "UserData",
	"TagSpecification.#.ResourceType", "TagSpecification.#.Tag.#.Key", "TagSpecification.#.Tag.#.Value",
	"MetadataOptions.HttpTokens", "MetadataOptions.HttpEndpoint", "MetadataOptions.HttpPutResponseHopLimit",
	"MetadataOptions.HttpProtocolIpv6", "MetadataOptions.InstanceMetadataTags",
	"IamInstanceProfile.Arn", "IamInstanceProfile.Name", "Placement.AvailabilityZone",
	"SubnetId", "PrivateIpAddress", "ClientToken", "DryRun",
}

var (
	amiIDRe    = regexp.MustCompile(`^ami-([0-9a-f]{8}|[0-9a-f]{17})$`)
	subnetIDRe = regexp.MustCompile(`^subnet-([0-9a-f]{8}|[0-9a-f]{17})$`)
)

// launch is a RunInstances request, read and checked on its own; what
// depends on the stored instances (subnet, key, profile, addresses) is
// checked when the launch is planned.
type launch struct {
	ImageID      string
	InstanceType string
	MinCount     int
	MaxCount     int
	KeyName      string
	Tags         []imds.Tag
	Options      func(*imds.MetadataOptions) // sets the options given
	UserData     []byte                      // nil without user data
	ProfileARN   string
	ProfileName  string
	Zone         string
	SubnetID     string
	Address      netip.Addr // the zero Addr without PrivateIpAddress
	ClientToken  string
	DryRun       bool
}

// parseLaunch reads the parameters of RunInstances.
func parseLaunch(p params) (*launch, *apiError) {
	l := &launch{InstanceType: defaultInstanceType}
	var ok bool
	if l.ImageID, ok = p.str("ImageId"); !ok {
		return nil, errMissing("ImageId")
	}
	if !amiIDRe.MatchString(l.ImageID) {
		return nil, errorf(codeAMIMalformed, "Invalid id: %q (expecting \"ami-...\")", l.ImageID)
	}
	if t, ok := p.str("InstanceType"); ok {
		l.InstanceType = t
	}
	if err := l.counts(p); err != nil {
		return nil, err
	}
	l.KeyName, _ = p.str("KeyName")
	l.ProfileARN, _ = p.str("IamInstanceProfile.Arn")
	l.ProfileName, _ = p.str("IamInstanceProfile.Name")
	l.Zone, _ = p.str("Placement.AvailabilityZone")
	if l.SubnetID, ok = p.str("SubnetId"); ok && !subnetIDRe.MatchString(l.SubnetID) {
		return nil, errorf(codeSubnetMalformed, "Invalid id: %q (expecting \"subnet-...\")", l.SubnetID)
	}
	if err := l.address(p); err != nil {
		return nil, err
	}
	if l.ClientToken, ok = p.str("ClientToken"); ok && !clientToken(l.ClientToken) {
		return nil, errorf(codeInvalidValue, "The client token must be 1 to %d printable ASCII characters.", maxClientToken)
	}

	var err *apiError
	if l.Tags, err = launchTags(p); err != nil {
		return nil, err
	}
	if l.Options, err = optionChanges(p.under("MetadataOptions")); err != nil {
		return nil, err
	}
	if l.UserData, err = userData(p); err != nil {
		return nil, err
	}
	if l.DryRun, err = p.boolean("DryRun"); err != nil {
		return nil, err
	}
	return l, nil
}

// counts reads MinCount and MaxCount, both required by EC2.
func (l *launch) counts(p params) *apiError {
	for _, c := range []struct {
		name string
		n    *int
	}{{"MinCount", &l.MinCount}, {"MaxCount", &l.MaxCount}} {
		n, ok, err := p.integer(c.name)
		switch {
		case err != nil:
			return err
		case !ok:
			return errMissing(c.name)
		case n < 1:
			return errorf(codeInvalidValue, "Value (%d) for parameter %s is invalid. It must be at least 1.", n, c.name)
		}
		*c.n = n
	}
	switch {
	case l.MinCount > l.MaxCount:
		return errorf(codeInvalidValue, "MinCount (%d) must not be greater than MaxCount (%d).", l.MinCount, l.MaxCount)
	case l.MinCount > maxLaunch:
		return errorf(codeInstanceLimit, "You have requested more instances (%d) than imds launches in one call (%d).",
			l.MinCount, maxLaunch)
	}
	return nil
}

// address reads PrivateIpAddress: one IPv4 unicast address, which names a
// single instance.
func (l *launch) address(p params) *apiError {
	v, ok := p.str("PrivateIpAddress")
	if !ok {
		return nil
	}
	a, err := netip.ParseAddr(v)
	if err != nil || !a.Is4() || a.IsUnspecified() || a.IsMulticast() || a == netip.AddrFrom4([4]byte{255, 255, 255, 255}) {
		return errBadValue("PrivateIpAddress", v)
	}
	if l.MaxCount > 1 {
		return errorf(codeInvalidCombination, "PrivateIpAddress can be given only when launching one instance, not up to %d.", l.MaxCount)
	}
	l.Address = a
	return nil
}

func clientToken(s string) bool {
	if s == "" || len(s) > maxClientToken {
		return false
	}
	for i := 0; i < len(s); i++ {
		if s[i] < 0x21 || s[i] > 0x7e {
			return false
		}
	}
	return true
}

// under returns the parameters below prefix, with the prefix and its dot
// removed: MetadataOptions.HttpTokens becomes HttpTokens.
func (p params) under(prefix string) params {
	out := params{}
	for name, v := range p {
		if rest, ok := strings.CutPrefix(name, prefix+"."); ok {
			out[rest] = v
		}
	}
	return out
}

// launchTags reads TagSpecification.N; only instance tags are kept by
// imds, so other resource types are refused rather than dropped.
func launchTags(p params) ([]imds.Tag, *apiError) {
	var tags []imds.Tag
	seen := map[string]bool{}
	for _, g := range p.groups("TagSpecification") {
		rt, ok := g.Fields.str("ResourceType")
		if !ok {
			return nil, errorf(codeMissingParameter, "The request must contain the parameter TagSpecification.%d.ResourceType", g.N)
		}
		if rt != "instance" {
			return nil, errorf(codeUnsupportedOperation, "imds keeps tags only for instances, not for resource type '%s'.", rt)
		}
		list, err := tagParams(g.Fields)
		if err != nil {
			return nil, err
		}
		for _, t := range list {
			if err := checkTag(t, seen); err != nil {
				return nil, err
			}
			tags = append(tags, imds.Tag{Key: t.Key, Value: t.Value})
		}
	}
	if userTags(tags) > maxUserTags {
		return nil, errorf(codeTagLimitExceeded, "The maximum number of Tags for a resource has been reached.")
	}
	return tags, nil
}

// userData decodes UserData, which clients send base64-encoded; EC2's
// limit applies to the decoded bytes.
func userData(p params) ([]byte, *apiError) {
	v, ok := p.str("UserData")
	if !ok || v == "" {
		return nil, nil
	}
	b, err := base64.StdEncoding.DecodeString(v)
	if err != nil {
		return nil, errorf(codeInvalidValue, "Invalid BASE64 encoding of user data.")
	}
	if len(b) > config.MaxUserData {
		return nil, errorf(codeInvalidValue, "User data is limited to %d bytes, not %d.", config.MaxUserData, len(b))
	}
	return b, nil
}
