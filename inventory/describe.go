package inventory

import "encoding/json"

// The subset of `aws ec2 describe-instances` output the importer reads,
// spelled as the CLI prints it. Fields it does not know are ignored, so
// newer CLI versions keep working.

type describeOutput struct {
	Reservations []json.RawMessage `json:"Reservations"`
	// Instances is set instead of Reservations in the output of
	// run-instances, which is accepted as one reservation.
	Instances     []json.RawMessage `json:"Instances"`
	ReservationID string            `json:"ReservationId"`
	OwnerID       string            `json:"OwnerId"`
}

type reservation struct {
	ReservationID string            `json:"ReservationId"`
	OwnerID       string            `json:"OwnerId"`
	Instances     []json.RawMessage `json:"Instances"`
}

type instance struct {
	InstanceID         string `json:"InstanceId"`
	ImageID            string `json:"ImageId"`
	InstanceType       string `json:"InstanceType"`
	Architecture       string `json:"Architecture"`
	AmiLaunchIndex     int    `json:"AmiLaunchIndex"`
	LaunchTime         string `json:"LaunchTime"`
	KernelID           string `json:"KernelId"`
	RamdiskID          string `json:"RamdiskId"`
	InstanceLifecycle  string `json:"InstanceLifecycle"`
	VirtualizationType string `json:"VirtualizationType"`
	Monitoring         struct{ State string }
	Placement          placement          `json:"Placement"`
	PrivateIPAddress   string             `json:"PrivateIpAddress"`
	PublicIPAddress    string             `json:"PublicIpAddress"`
	PrivateDNSName     string             `json:"PrivateDnsName"`
	PublicDNSName      string             `json:"PublicDnsName"`
	SubnetID           string             `json:"SubnetId"`
	VpcID              string             `json:"VpcId"`
	NetworkInterfaces  []networkInterface `json:"NetworkInterfaces"`
	SecurityGroups     []group            `json:"SecurityGroups"`
	Tags               []tag              `json:"Tags"`
	IamInstanceProfile *struct {
		Arn string `json:"Arn"`
		ID  string `json:"Id"`
	} `json:"IamInstanceProfile"`
	KeyName             string          `json:"KeyName"`
	RootDeviceName      string          `json:"RootDeviceName"`
	BlockDeviceMappings []blockDevice   `json:"BlockDeviceMappings"`
	ProductCodes        []productCode   `json:"ProductCodes"`
	MetadataOptions     metadataOptions `json:"MetadataOptions"`
	State               struct {
		Name string `json:"Name"`
	} `json:"State"`
}

type placement struct {
	AvailabilityZone   string `json:"AvailabilityZone"`
	AvailabilityZoneID string `json:"AvailabilityZoneId"`
	GroupName          string `json:"GroupName"`
	PartitionNumber    int    `json:"PartitionNumber"`
	HostID             string `json:"HostId"`
}

type networkInterface struct {
	NetworkInterfaceID string `json:"NetworkInterfaceId"`
	MacAddress         string `json:"MacAddress"`
	OwnerID            string `json:"OwnerId"`
	SubnetID           string `json:"SubnetId"`
	VpcID              string `json:"VpcId"`
	PrivateDNSName     string `json:"PrivateDnsName"`
	Attachment         struct {
		DeviceIndex      int `json:"DeviceIndex"`
		NetworkCardIndex int `json:"NetworkCardIndex"`
	} `json:"Attachment"`
	Association        *association `json:"Association"`
	PrivateIPAddress   string       `json:"PrivateIpAddress"`
	PrivateIPAddresses []struct {
		PrivateIPAddress string       `json:"PrivateIpAddress"`
		Primary          bool         `json:"Primary"`
		Association      *association `json:"Association"`
	} `json:"PrivateIpAddresses"`
	Ipv6Addresses []struct {
		Ipv6Address string `json:"Ipv6Address"`
	} `json:"Ipv6Addresses"`
	Groups []group `json:"Groups"`
}

type association struct {
	PublicIP      string `json:"PublicIp"`
	PublicDNSName string `json:"PublicDnsName"`
}

type group struct {
	GroupID   string `json:"GroupId"`
	GroupName string `json:"GroupName"`
}

type tag struct {
	Key   string `json:"Key"`
	Value string `json:"Value"`
}

type blockDevice struct {
	DeviceName string `json:"DeviceName"`
	Ebs        *struct {
		VolumeID string `json:"VolumeId"`
	} `json:"Ebs"`
}

type productCode struct {
	ProductCodeID string `json:"ProductCodeId"`
}

type metadataOptions struct {
	HTTPTokens              string `json:"HttpTokens"`
	HTTPPutResponseHopLimit int    `json:"HttpPutResponseHopLimit"`
	HTTPEndpoint            string `json:"HttpEndpoint"`
	HTTPProtocolIpv6        string `json:"HttpProtocolIpv6"`
	InstanceMetadataTags    string `json:"InstanceMetadataTags"`
}
