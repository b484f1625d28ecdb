// Package bench holds the fleet benchmarks and the generator of large
// describe-instances files they start from. The benchmarks report figures;
// they assert nothing.
package bench

import (
	"bufio"
	"fmt"
	"io"
)

// WriteDescribeInstances writes describe-instances output for n instances,
// 100 to a reservation, each with one interface and a distinct private
// address in 10.0.0.0/8 (n must not exceed 2^24-2).
func WriteDescribeInstances(w io.Writer, n int) error {
	bw := bufio.NewWriterSize(w, 1<<16)
	fmt.Fprint(bw, `{"Reservations": [`)
	for i := range n {
		if i%100 == 0 {
			if i > 0 {
				fmt.Fprint(bw, `]},`)
			}
			fmt.Fprintf(bw, `{"ReservationId": "r-%017x", "OwnerId": "123456789012", "Instances": [`, i/100)
		} else {
			fmt.Fprint(bw, `,`)
		}
		writeInstance(bw, i)
	}
	if n > 0 {
		fmt.Fprint(bw, `]}`)
	}
	fmt.Fprint(bw, "]}\n")
	return bw.Flush()
}

func writeInstance(w io.Writer, i int) {
	a := i + 1 // skip 10.0.0.0
	ip := fmt.Sprintf("10.%d.%d.%d", a>>16&0xff, a>>8&0xff, a&0xff)
	fmt.Fprintf(w, `{"InstanceId": "i-%017x", "ImageId": "ami-0123456789abcdef0",
 "InstanceType": "m5.large", "AmiLaunchIndex": %d, "LaunchTime": "2024-01-01T00:00:00+00:00",
 "Placement": {"AvailabilityZone": "us-east-1a"}, "State": {"Name": "running"},
 "Architecture": "x86_64", "RootDeviceName": "/dev/xvda",
 "IamInstanceProfile": {"Arn": "arn:aws:iam::123456789012:instance-profile/app", "Id": "AIPAVMQT32F2Q43IXV2TC"},
 "Tags": [{"Key": "Name", "Value": "node-%d"}],
 "MetadataOptions": {"HttpTokens": "required", "HttpPutResponseHopLimit": 2, "HttpEndpoint": "enabled"},
 "NetworkInterfaces": [{"NetworkInterfaceId": "eni-%017x", "MacAddress": "0e:%02x:%02x:%02x:%02x:01",
  "OwnerId": "123456789012", "Attachment": {"DeviceIndex": 0, "NetworkCardIndex": 0},
  "PrivateIpAddresses": [{"Primary": true, "PrivateIpAddress": "%s"}],
  "SubnetId": "subnet-0123456789abcdef0", "VpcId": "vpc-0123456789abcdef0",
  "Groups": [{"GroupId": "sg-0123456789abcdef0", "GroupName": "default"}]}]}`,
		i, i%100, i, i, a>>24&0xff, a>>16&0xff, a>>8&0xff, a&0xff, ip)
}
