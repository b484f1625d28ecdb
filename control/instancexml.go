package control

import (
	"github.com/imds-dev/imds"
	"github.com/imds-dev/imds/tree"
)

// instanceXML is the part of EC2's Instance shape imds can fill from what it
// knows: enough for the CLI's and SDKs' describe output, the addresses,
// tags and metadata options.
type instanceXML struct {
	InstanceID         string                 `xml:"instanceId"`
	ImageID            string                 `xml:"imageId"`
	State              stateXML               `xml:"instanceState"`
	PrivateDNSName     string                 `xml:"privateDnsName"`
	DNSName            string                 `xml:"dnsName"`
	Reason             string                 `xml:"reason"`
	KeyName            string                 `xml:"keyName,omitempty"`
	AmiLaunchIndex     int                    `xml:"amiLaunchIndex"`
	ProductCodes       items[productCodeXML]  `xml:"productCodes"`
	InstanceType       string                 `xml:"instanceType"`
	LaunchTime         string                 `xml:"launchTime"`
	Placement          placementXML           `xml:"placement"`
	KernelID           string                 `xml:"kernelId,omitempty"`
	RamdiskID          string                 `xml:"ramdiskId,omitempty"`
	Monitoring         monitoringXML          `xml:"monitoring"`
	SubnetID           string                 `xml:"subnetId,omitempty"`
	VPCID              string                 `xml:"vpcId,omitempty"`
	PrivateIPAddress   string                 `xml:"privateIpAddress,omitempty"`
	IPAddress          string                 `xml:"ipAddress,omitempty"`
	Architecture       string                 `xml:"architecture"`
	RootDeviceType     string                 `xml:"rootDeviceType"`
	RootDeviceName     string                 `xml:"rootDeviceName,omitempty"`
	InstanceLifecycle  string                 `xml:"instanceLifecycle,omitempty"`
	VirtualizationType string                 `xml:"virtualizationType"`
	Hypervisor         string                 `xml:"hypervisor"`
	Tags               *items[tagXML]         `xml:"tagSet,omitempty"`
	Groups             items[groupXML]        `xml:"groupSet"`
	IAMProfile         *iamProfileXML         `xml:"iamInstanceProfile,omitempty"`
	NetworkInterfaces  items[interfaceXML]    `xml:"networkInterfaceSet"`
	SourceDestCheck    bool                   `xml:"sourceDestCheck"`
	MetadataOptions    optionsXML             `xml:"metadataOptions"`
	IPv6Address        string                 `xml:"ipv6Address,omitempty"`
	PlatformDetails    string                 `xml:"platformDetails"`
	BlockDevices       *items[blockDeviceXML] `xml:"blockDeviceMapping,omitempty"`
}

type stateXML struct {
	Code int    `xml:"code"`
	Name string `xml:"name"`
}

type productCodeXML struct {
	ID   string `xml:"productCode"`
	Type string `xml:"type"`
}

type placementXML struct {
	AvailabilityZone   string `xml:"availabilityZone"`
	AvailabilityZoneID string `xml:"availabilityZoneId,omitempty"`
	GroupName          string `xml:"groupName"`
	PartitionNumber    int    `xml:"partitionNumber,omitempty"`
	HostID             string `xml:"hostId,omitempty"`
	Tenancy            string `xml:"tenancy"`
}

type monitoringXML struct {
	State string `xml:"state"`
}

type tagXML struct {
	Key   string `xml:"key"`
	Value string `xml:"value"`
}

type groupXML struct {
	ID   string `xml:"groupId"`
	Name string `xml:"groupName"`
}

type iamProfileXML struct {
	ARN string `xml:"arn"`
	ID  string `xml:"id"`
}

type blockDeviceXML struct {
	DeviceName string `xml:"deviceName"`
}

type interfaceXML struct {
	ID               string                `xml:"networkInterfaceId"`
	SubnetID         string                `xml:"subnetId"`
	VPCID            string                `xml:"vpcId"`
	OwnerID          string                `xml:"ownerId"`
	Status           string                `xml:"status"`
	MACAddress       string                `xml:"macAddress"`
	PrivateIPAddress string                `xml:"privateIpAddress,omitempty"`
	PrivateDNSName   string                `xml:"privateDnsName,omitempty"`
	SourceDestCheck  bool                  `xml:"sourceDestCheck"`
	Groups           items[groupXML]       `xml:"groupSet"`
	Attachment       attachmentXML         `xml:"attachment"`
	Association      *associationXML       `xml:"association,omitempty"`
	PrivateIPs       items[privateIPXML]   `xml:"privateIpAddressesSet"`
	IPv6Addresses    items[ipv6AddressXML] `xml:"ipv6AddressesSet"`
	InterfaceType    string                `xml:"interfaceType"`
}

type attachmentXML struct {
	ID                  string `xml:"attachmentId"`
	DeviceIndex         int    `xml:"deviceIndex"`
	NetworkCardIndex    int    `xml:"networkCardIndex"`
	Status              string `xml:"status"`
	AttachTime          string `xml:"attachTime"`
	DeleteOnTermination bool   `xml:"deleteOnTermination"`
}

type associationXML struct {
	PublicIP      string `xml:"publicIp"`
	PublicDNSName string `xml:"publicDnsName"`
	IPOwnerID     string `xml:"ipOwnerId"`
}

type privateIPXML struct {
	PrivateIPAddress string          `xml:"privateIpAddress"`
	PrivateDNSName   string          `xml:"privateDnsName,omitempty"`
	Primary          bool            `xml:"primary"`
	Association      *associationXML `xml:"association,omitempty"`
}

type ipv6AddressXML struct {
	Address string `xml:"ipv6Address"`
}

// instanceXML renders in in EC2's shape.
func (s *Server) instanceXML(in *imds.Instance) instanceXML {
	region := in.Placement.Region
	if region == "" {
		region = s.region
	}
	out := instanceXML{
		InstanceID:         in.ID,
		ImageID:            in.ImageID,
		State:              stateXML{Code: stateCode(in), Name: stateName(in)},
		AmiLaunchIndex:     in.LaunchIndex,
		InstanceType:       in.InstanceType,
		LaunchTime:         apiTimestamp(in.LaunchTime),
		KernelID:           in.KernelID,
		RamdiskID:          in.RamdiskID,
		Architecture:       in.Architecture,
		RootDeviceType:     "ebs",
		VirtualizationType: "hvm",
		Hypervisor:         "xen",
		SourceDestCheck:    true,
		MetadataOptions:    optionsOf(in.Options, "applied"),
		PlatformDetails:    "Linux/UNIX",
		Placement: placementXML{
			AvailabilityZone:   in.Placement.AvailabilityZone,
			AvailabilityZoneID: in.Placement.AvailabilityZoneID,
			GroupName:          in.Placement.GroupName,
			PartitionNumber:    in.Placement.PartitionNumber,
			HostID:             in.Placement.HostID,
			Tenancy:            "default",
		},
		Monitoring: monitoringXML{State: "disabled"},
	}
	if in.Monitoring {
		out.Monitoring.State = "enabled"
	}
	if in.Placement.HostID != "" {
		out.Placement.Tenancy = "host"
	}
	if in.Profile == "default-paravirtual" {
		out.VirtualizationType = "paravirtual"
	}
	if in.LifeCycle == "spot" || in.LifeCycle == "scheduled" {
		out.InstanceLifecycle = in.LifeCycle
	}
	if len(in.PublicKeys) > 0 {
		out.KeyName = in.PublicKeys[0].Name
	}
	for _, c := range in.ProductCodes {
		out.ProductCodes.Items = append(out.ProductCodes.Items, productCodeXML{ID: c, Type: "marketplace"})
	}
	if len(in.Tags) > 0 {
		out.Tags = &items[tagXML]{}
		for _, t := range in.Tags {
			out.Tags.Items = append(out.Tags.Items, tagXML{t.Key, t.Value})
		}
	}
	if in.IAM != nil {
		out.IAMProfile = &iamProfileXML{ARN: in.IAM.ProfileARN, ID: in.IAM.ProfileID}
	}
	for _, b := range in.BlockDevices {
		if b.Virtual == "root" {
			out.RootDeviceName = b.Device
		}
	}
	if out.RootDeviceName != "" {
		out.BlockDevices = &items[blockDeviceXML]{Items: []blockDeviceXML{{DeviceName: out.RootDeviceName}}}
	}

	if ni := in.Primary(); ni != nil {
		out.PrivateDNSName = tree.PrivateDNSName(ni, in.ID, region)
		out.DNSName = tree.PublicDNSName(ni, region)
		out.SubnetID, out.VPCID = ni.SubnetID, ni.VPCID
		if len(ni.PrivateIPv4s) > 0 {
			out.PrivateIPAddress = ni.PrivateIPv4s[0].String()
		}
		if len(ni.PublicIPv4s) > 0 {
			out.IPAddress = ni.PublicIPv4s[0].String()
		}
		if len(ni.IPv6s) > 0 {
			out.IPv6Address = ni.IPv6s[0].String()
		}
		out.Groups.Items = groupsXML(ni.SecurityGroups)
	}
	for i := range in.Interfaces {
		out.NetworkInterfaces.Items = append(out.NetworkInterfaces.Items, interfaceOf(in, &in.Interfaces[i], region))
	}
	return out
}

func groupsXML(groups []imds.SecurityGroup) []groupXML {
	out := make([]groupXML, len(groups))
	for i, g := range groups {
		out[i] = groupXML{ID: g.ID, Name: g.Name}
	}
	return out
}

func interfaceOf(in *imds.Instance, ni *imds.NetworkInterface, region string) interfaceXML {
	owner := ni.OwnerID
	if owner == "" {
		owner = in.AccountID
	}
	out := interfaceXML{
		ID:              ni.ID,
		SubnetID:        ni.SubnetID,
		VPCID:           ni.VPCID,
		OwnerID:         owner,
		Status:          "in-use",
		MACAddress:      ni.MAC,
		PrivateDNSName:  tree.PrivateDNSName(ni, in.ID, region),
		SourceDestCheck: true,
		Groups:          items[groupXML]{groupsXML(ni.SecurityGroups)},
		InterfaceType:   "interface",
		Attachment: attachmentXML{
			ID:                  "eni-attach-" + suffix(ni.ID),
			DeviceIndex:         ni.DeviceIndex,
			NetworkCardIndex:    ni.NetworkCardIndex,
			Status:              "attached",
			AttachTime:          apiTimestamp(in.LaunchTime),
			DeleteOnTermination: ni.DeviceIndex == 0,
		},
	}
	for i, a := range ni.PrivateIPv4s {
		ip := privateIPXML{PrivateIPAddress: a.String(), Primary: i == 0}
		if i == 0 {
			out.PrivateIPAddress = ip.PrivateIPAddress
			ip.PrivateDNSName = out.PrivateDNSName
		}
		if i < len(ni.PublicIPv4s) {
			ip.Association = &associationXML{PublicIP: ni.PublicIPv4s[i].String(), IPOwnerID: "amazon"}
			if i == 0 {
				ip.Association.PublicDNSName = tree.PublicDNSName(ni, region)
				out.Association = ip.Association
			}
		}
		out.PrivateIPs.Items = append(out.PrivateIPs.Items, ip)
	}
	for _, a := range ni.IPv6s {
		out.IPv6Addresses.Items = append(out.IPv6Addresses.Items, ipv6AddressXML{a.String()})
	}
	return out
}

// suffix returns the hex part of an EC2 id ("eni-0abc" gives "0abc").
func suffix(id string) string {
	for i := 0; i < len(id); i++ {
		if id[i] == '-' {
			return id[i+1:]
		}
	}
	return id
}
