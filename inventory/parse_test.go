package inventory_test

import (
	"os"

	"github.com/imds-dev/imds"
	"strings"
	"testing"

	"github.com/imds-dev/imds/inventory"
)

// Ensure the committed sample parses into the instances it describes.
func TestParse_Sample(t *testing.T) {
	f, err := os.Open("../test/fleet/describe-instances.json")
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	ins, err := inventory.Parse(f)
	if err != nil {
		t.Fatal(err)
	}
	if len(ins) != 3 {
		t.Fatalf("%d instances, want 3", len(ins))
	}
	web, batch, bare := ins[0], ins[1], ins[2]
	tests := []struct {
		name, got, want string
	}{
		{"id", web.ID, "i-0a1b2c3d4e5f60711"},
		{"account", web.AccountID, "111122223333"},
		{"region", web.Placement.Region, "us-east-1"},
		{"addresses", addrs(web), "127.0.0.11 127.0.0.21"},
		{"public", web.Interfaces[0].PublicIPv4s[0].String(), "198.51.100.11"},
		{"subnet guess", web.Interfaces[0].SubnetIPv4CIDR.String(), "127.0.0.0/20"},
		{"tokens", web.Options.HTTPTokens, "required"},
		{"hop limit", string(rune('0' + web.Options.HTTPPutHopLimit)), "2"},
		{"role", web.IAM.RoleName, "web-role"},
		{"ebs", web.BlockDevices[2].Virtual + "=" + web.BlockDevices[2].Device, "ebs1=sdf"},
		{"tag", web.Tags[1].Key + "=" + web.Tags[1].Value, "team=platform"},
		{"primary by device index", batch.Interfaces[0].ID, "eni-0a1b2c3d4e5f60017"},
		{"mac lowercased", batch.Interfaces[1].MAC, "0e:3a:11:22:33:12"},
		{"ipv6", batch.Interfaces[0].IPv6s[0].String(), "fd00:ec2:0:1::12"},
		{"life cycle", batch.LifeCycle, "spot"},
		{"api time form", batch.LaunchTime.String(), "2024-03-04 09:15:27 +0000 UTC"},
		{"zone id", batch.Placement.AvailabilityZoneID, "use1-az6"},
		{"bare interface", addrs(bare), "127.0.0.13"},
		{"bare region", bare.Placement.Region, "eu-west-1"},
		{"bare groups", bare.Interfaces[0].SecurityGroups[0].ID, "sg-0a1b2c3d4e5f60026"},
		{"default options", bare.Options.HTTPTokens, "optional"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if tt.got != tt.want {
				t.Fatalf("got %q, want %q", tt.got, tt.want)
			}
		})
	}
}

func addrs(in *imds.Instance) string {
	var out []string
	for _, a := range in.Addresses() {
		out = append(out, a.String())
	}
	return strings.Join(out, " ")
}

// minimal is one valid instance for the error cases to break.
const minimal = `{"InstanceId": "i-0123456789abcdef0", "ImageId": "ami-0123456789abcdef0",
 "InstanceType": "t3.micro", "LaunchTime": "2024-01-01T00:00:00+00:00",
 "Placement": {"AvailabilityZone": "us-east-1a"}, "PrivateIpAddress": "10.0.0.5",
 "SubnetId": "subnet-0123456789abcdef0", "VpcId": "vpc-0123456789abcdef0",
 "SecurityGroups": [{"GroupId": "sg-0123456789abcdef0", "GroupName": "default"}]}`

func doc(instances ...string) string {
	return `{"Reservations": [{"ReservationId": "r-0123456789abcdef0", "OwnerId": "123456789012",
 "Instances": [` + strings.Join(instances, ",") + `]}]}`
}

// Ensure bad input is refused with an error naming where and what.
func TestParse_Errors(t *testing.T) {
	tests := []struct {
		name, input, want string
	}{
		{"not json", `{"Reservations": [`, "read describe-instances output"},
		{"no reservations", `{"Foo": 1}`, "no Reservations"},
		{"wrong type", doc(strings.Replace(minimal, `"t3.micro"`, `7`, 1)),
			"Reservations[0].Instances[0]: InstanceType: got a JSON number, want string"},
		{"nested wrong type", doc(minimal, strings.Replace(minimal, `"us-east-1a"}`, `"us-east-1a", "PartitionNumber": "2"}`, 1)),
			"Reservations[0].Instances[1]: Placement.PartitionNumber"},
		{"no id", doc(strings.Replace(minimal, `"InstanceId": "i-0123456789abcdef0",`, ``, 1)),
			"Reservations[0].Instances[0]: InstanceId: required"},
		{"bad time", doc(strings.Replace(minimal, `2024-01-01T00:00:00+00:00`, `yesterday`, 1)),
			`(i-0123456789abcdef0) LaunchTime: "yesterday" is not a time`},
		{"bad address", doc(strings.Replace(minimal, `10.0.0.5`, `10.0.0.500`, 1)),
			`(i-0123456789abcdef0) PrivateIpAddress: "10.0.0.500" is not an IPv4 address`},
		{"no address", doc(strings.Replace(minimal, `"PrivateIpAddress": "10.0.0.5",`, ``, 1)),
			"NetworkInterfaces: none, and no PrivateIpAddress either"},
		{"bad zone", doc(strings.Replace(minimal, `us-east-1a`, `moon-1a`, 1)),
			`(i-0123456789abcdef0) Placement.AvailabilityZone: "moon-1a" is not a zone`},
		{"incoherent", doc(strings.Replace(minimal, `ami-0123456789abcdef0`, `ami-x`, 1)),
			`(i-0123456789abcdef0) not a coherent instance: ami-id: "ami-x" is not an image id`},
		{"repeated id", doc(minimal, minimal), "Reservations[0].Instances[1]: InstanceId: i-0123456789abcdef0 repeats Reservations[0].Instances[0]"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := inventory.Parse(strings.NewReader(tt.input))
			if err == nil || !strings.Contains(err.Error(), tt.want) {
				t.Fatalf("got %v, want an error containing %q", err, tt.want)
			}
		})
	}
}

// Ensure run-instances output, which has no Reservations, is accepted.
func TestParse_RunInstancesOutput(t *testing.T) {
	in := `{"ReservationId": "r-0123456789abcdef0", "OwnerId": "123456789012", "Instances": [` + minimal + `]}`
	ins, err := inventory.Parse(strings.NewReader(in))
	if err != nil {
		t.Fatal(err)
	}
	if len(ins) != 1 || ins[0].ReservationID != "r-0123456789abcdef0" {
		t.Fatalf("got %+v", ins)
	}
}
