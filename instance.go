// Package imds holds the nouns and contracts of the instance metadata service:
// the instances it describes, their metadata options and events, and the
// store that keeps them. It imports no storage engine and no HTTP code; the
// metadata tree, the data plane, the control plane and the stores build on it.
package imds

import (
	"net/netip"
	"time"
)

// Instance is everything the metadata service knows about one EC2 instance.
// Values are plain data so that an Instance can be copied, stored and
// compared; derived values (hostnames, the identity document) are computed by
// the tree package so that they always agree with the fields here.
type Instance struct {
	ID            string    `json:"id"`            // i-0123456789abcdef0
	AccountID     string    `json:"accountId"`     // 12 digits
	ReservationID string    `json:"reservationId"` // r-...
	ImageID       string    `json:"imageId"`       // ami-...
	InstanceType  string    `json:"instanceType"`  // m5.large
	Architecture  string    `json:"architecture"`  // x86_64, arm64 or i386
	LaunchIndex   int       `json:"launchIndex"`
	LaunchTime    time.Time `json:"launchTime"` // pendingTime of the identity document
	KernelID      string    `json:"kernelId,omitempty"`
	RamdiskID     string    `json:"ramdiskId,omitempty"`
	// AMIManifestPath is "(unknown)" for EBS-backed images, as on EC2.
	AMIManifestPath string   `json:"amiManifestPath,omitempty"`
	AncestorAMIIDs  []string `json:"ancestorAmiIds,omitempty"`
	ProductCodes    []string `json:"productCodes,omitempty"`
	BillingProducts []string `json:"billingProducts,omitempty"`
	// LifeCycle is on-demand, spot or scheduled.
	LifeCycle string `json:"lifeCycle"`
	// Profile is the virtualisation profile, default-hvm or default-paravirtual.
	Profile string `json:"profile"`
	// Monitoring reports whether detailed CloudWatch monitoring is on.
	Monitoring bool `json:"monitoring,omitempty"`

	Placement    Placement          `json:"placement"`
	Interfaces   []NetworkInterface `json:"interfaces"` // device index order; [0] is the primary
	PublicKeys   []PublicKey        `json:"publicKeys,omitempty"`
	BlockDevices []BlockDevice      `json:"blockDevices,omitempty"`
	Tags         []Tag              `json:"tags,omitempty"` // in the order they were stored
	IAM          *IAMProfile        `json:"iam,omitempty"`  // nil without an instance profile
	// UserData holds the raw bytes as the instance receives them (already
	// base64-decoded); nil means the instance has none.
	UserData []byte `json:"userData,omitempty"`

	Options MetadataOptions `json:"options"`
	Events  Events          `json:"events"`
	// State is the lifecycle state the control plane reports: running unless
	// terminated.
	State string `json:"state,omitempty"`
	// ClientToken is the idempotency token of the RunInstances call that
	// launched the instance, kept so that a retried call is answered with
	// the instances it launched instead of launching more.
	ClientToken string `json:"clientToken,omitempty"`
	// Revision counts the stored versions of the instance. Stores set it:
	// every Put and Update stores a higher one than the instance had, so
	// a plane that hears of changes out of order keeps the newest.
	Revision uint64 `json:"revision,omitempty"`
}

// Placement says where the instance runs.
type Placement struct {
	Region             string `json:"region"`           // us-east-1
	AvailabilityZone   string `json:"availabilityZone"` // us-east-1a
	AvailabilityZoneID string `json:"availabilityZoneId,omitempty"`
	GroupName          string `json:"groupName,omitempty"`
	PartitionNumber    int    `json:"partitionNumber,omitempty"`
	HostID             string `json:"hostId,omitempty"`
}

// NetworkInterface is one attached ENI. The first private IPv4 address is
// the primary one and names the interface's private hostname.
type NetworkInterface struct {
	ID               string          `json:"id"`  // eni-...
	MAC              string          `json:"mac"` // lowercase, colon separated
	DeviceIndex      int             `json:"deviceIndex"`
	NetworkCardIndex int             `json:"networkCardIndex"`
	OwnerID          string          `json:"ownerId,omitempty"`
	PrivateIPv4s     []netip.Addr    `json:"privateIpv4s,omitempty"`
	IPv6s            []netip.Addr    `json:"ipv6s,omitempty"`
	PublicIPv4s      []netip.Addr    `json:"publicIpv4s,omitempty"` // PublicIPv4s[i] maps to PrivateIPv4s[i]
	SubnetID         string          `json:"subnetId"`
	SubnetIPv4CIDR   netip.Prefix    `json:"subnetIpv4Cidr"`
	SubnetIPv6CIDRs  []netip.Prefix  `json:"subnetIpv6Cidrs,omitempty"`
	VPCID            string          `json:"vpcId"`
	VPCIPv4CIDRs     []netip.Prefix  `json:"vpcIpv4Cidrs"`
	VPCIPv6CIDRs     []netip.Prefix  `json:"vpcIpv6Cidrs,omitempty"`
	SecurityGroups   []SecurityGroup `json:"securityGroups"`
	// PrivateDNSName and PublicDNSName override the names EC2 would derive
	// from the first private and public IPv4 addresses.
	PrivateDNSName string `json:"privateDnsName,omitempty"`
	PublicDNSName  string `json:"publicDnsName,omitempty"`
}

// SecurityGroup names a security group by id and name.
type SecurityGroup struct {
	ID   string `json:"id"`
	Name string `json:"name"`
}

// PublicKey is a key pair's public half as the instance sees it.
type PublicKey struct {
	Name    string `json:"name"`
	OpenSSH string `json:"openssh"` // the key line, served byte for byte
}

// BlockDevice maps a virtual name (ami, root, ebs1, ephemeral0, swap) to a
// device name (/dev/xvda, sdf).
type BlockDevice struct {
	Virtual string `json:"virtual"`
	Device  string `json:"device"`
}

// Tag is one instance tag.
type Tag struct {
	Key   string `json:"key"`
	Value string `json:"value"`
}

// IAMProfile is the instance profile associated with an instance.
type IAMProfile struct {
	ProfileARN string `json:"profileArn"` // arn:aws:iam::123456789012:instance-profile/name
	ProfileID  string `json:"profileId"`  // AIPA...
	RoleName   string `json:"roleName"`
	// Static, when set, is served instead of generated credentials.
	Static *StaticCredentials `json:"static,omitempty"`
}

// StaticCredentials are fixed credentials given by the operator. Expiration
// may be zero, in which case a rolling expiry is reported.
type StaticCredentials struct {
	AccessKeyID     string    `json:"accessKeyId"`
	SecretAccessKey string    `json:"secretAccessKey"`
	SessionToken    string    `json:"sessionToken"`
	Expiration      time.Time `json:"expiration,omitempty"`
}

// Values of the metadata options, spelled as EC2 spells them.
const (
	TokensOptional = "optional"
	TokensRequired = "required"
	Enabled        = "enabled"
	Disabled       = "disabled"
)

// Bounds of http-put-response-hop-limit.
const (
	MinHopLimit = 1
	MaxHopLimit = 64
)

// MetadataOptions are the per-instance switches of the metadata service, as
// set by modify-instance-metadata-options.
type MetadataOptions struct {
	HTTPTokens           string `json:"httpTokens"`           // optional or required
	HTTPEndpoint         string `json:"httpEndpoint"`         // enabled or disabled
	HTTPPutHopLimit      int    `json:"httpPutHopLimit"`      // 1..64
	HTTPProtocolIPv6     string `json:"httpProtocolIpv6"`     // enabled or disabled
	InstanceMetadataTags string `json:"instanceMetadataTags"` // enabled or disabled
}

// DefaultMetadataOptions returns EC2's defaults for an instance launched from
// an image without ImdsSupport=v2.0.
func DefaultMetadataOptions() MetadataOptions {
	return MetadataOptions{
		HTTPTokens:           TokensOptional,
		HTTPEndpoint:         Enabled,
		HTTPPutHopLimit:      1,
		HTTPProtocolIPv6:     Disabled,
		InstanceMetadataTags: Disabled,
	}
}

// TokensRequired reports whether the instance accepts only IMDSv2 requests.
func (o MetadataOptions) TokensRequired() bool { return o.HTTPTokens == TokensRequired }

// EndpointDisabled reports whether the instance's metadata endpoint is off.
func (o MetadataOptions) EndpointDisabled() bool { return o.HTTPEndpoint == Disabled }

// TagsEnabled reports whether instance tags appear under meta-data/tags/.
func (o MetadataOptions) TagsEnabled() bool { return o.InstanceMetadataTags == Enabled }

// IPv6Enabled reports whether the instance answers on the IPv6 endpoint.
func (o MetadataOptions) IPv6Enabled() bool { return o.HTTPProtocolIPv6 == Enabled }

// Primary returns the primary network interface, or nil when there is none.
func (in *Instance) Primary() *NetworkInterface {
	for i := range in.Interfaces {
		if in.Interfaces[i].DeviceIndex == 0 {
			return &in.Interfaces[i]
		}
	}
	if len(in.Interfaces) > 0 {
		return &in.Interfaces[0]
	}
	return nil
}

// Addresses returns every private address the instance owns, IPv4 and IPv6,
// which is how a fleet recognises the instance behind a request.
func (in *Instance) Addresses() []netip.Addr {
	var out []netip.Addr
	for _, ni := range in.Interfaces {
		out = append(out, ni.PrivateIPv4s...)
		out = append(out, ni.IPv6s...)
	}
	return out
}
