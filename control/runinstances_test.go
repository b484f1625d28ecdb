package control

import (
	"context"
	"crypto/sha256"
	"encoding/base64"
	"encoding/hex"
	"net/http"
	"net/http/httptest"
	"net/netip"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	v4 "github.com/aws/aws-sdk-go-v2/aws/signer/v4"
	"github.com/aws/aws-sdk-go-v2/service/ec2"
	"github.com/aws/aws-sdk-go-v2/service/ec2/types"

	"github.com/imds-dev/imds"
	"github.com/imds-dev/imds/config"
	"github.com/imds-dev/imds/store/mem"
)

const testImage = "ami-0fedcba9876543210"

// launchOne is the smallest RunInstances input: one instance of testImage.
func launchOne() *ec2.RunInstancesInput {
	return &ec2.RunInstancesInput{ImageId: aws.String(testImage), MinCount: aws.Int32(1), MaxCount: aws.Int32(1)}
}

func (h *harness) count() int {
	h.t.Helper()
	all, err := h.store.List(context.Background())
	if err != nil {
		h.t.Fatal(err)
	}
	return len(all)
}

var (
	longInstanceIDRe = regexp.MustCompile(`^i-0[0-9a-f]{16}$`)
	reservationIDRe  = regexp.MustCompile(`^r-0[0-9a-f]{16}$`)
)

// Ensure RunInstances through aws-sdk-go-v2 launches an instance with what
// it asked for, answers with it pending, and hands it to the data plane
// before the answer.
func TestServer_RunInstances(t *testing.T) {
	h := newHarness(t)
	ctx := context.Background()
	script := "#!/bin/sh\necho hello\n"
	in := launchOne()
	in.InstanceType = types.InstanceTypeT4gMicro
	in.PrivateIpAddress = aws.String("10.20.30.40")
	in.KeyName = aws.String("my-key")
	in.IamInstanceProfile = &types.IamInstanceProfileSpecification{Name: aws.String("app-role")}
	in.UserData = aws.String(base64.StdEncoding.EncodeToString([]byte(script)))
	in.MetadataOptions = &types.InstanceMetadataOptionsRequest{HttpTokens: types.HttpTokensStateRequired, HttpPutResponseHopLimit: aws.Int32(2)}
	in.TagSpecifications = []types.TagSpecification{{
		ResourceType: types.ResourceTypeInstance,
		Tags:         []types.Tag{{Key: aws.String("Name"), Value: aws.String("vm-1")}},
	}}
	out, err := h.client.RunInstances(ctx, in)
	if err != nil {
		t.Fatalf("RunInstances: %v", err)
	}
	if !reservationIDRe.MatchString(aws.ToString(out.ReservationId)) || aws.ToString(out.OwnerId) != "123456789012" || len(out.Instances) != 1 {
		t.Fatalf("reservation %q owner %q with %d instances", aws.ToString(out.ReservationId), aws.ToString(out.OwnerId), len(out.Instances))
	}
	got := out.Instances[0]
	id := aws.ToString(got.InstanceId)
	checks := []struct{ name, got, want string }{
		{"State", string(got.State.Name), "pending"},
		{"ImageId", aws.ToString(got.ImageId), testImage},
		{"InstanceType", string(got.InstanceType), "t4g.micro"},
		{"Architecture", string(got.Architecture), "arm64"},
		{"PrivateIpAddress", aws.ToString(got.PrivateIpAddress), "10.20.30.40"},
		{"PrivateDnsName", aws.ToString(got.PrivateDnsName), "ip-10-20-30-40.ec2.internal"},
		{"KeyName", aws.ToString(got.KeyName), "my-key"},
		{"IamInstanceProfile.Arn", aws.ToString(got.IamInstanceProfile.Arn), "arn:aws:iam::123456789012:instance-profile/app-role"},
		{"MetadataOptions.State", string(got.MetadataOptions.State), "pending"},
		{"MetadataOptions.HttpTokens", string(got.MetadataOptions.HttpTokens), "required"},
		{"Placement.AvailabilityZone", aws.ToString(got.Placement.AvailabilityZone), "us-east-1a"},
	}
	for _, c := range checks {
		if c.got != c.want {
			t.Errorf("%s = %q, want %q", c.name, c.got, c.want)
		}
	}
	if !longInstanceIDRe.MatchString(id) || aws.ToInt32(got.State.Code) != 0 || len(got.Tags) != 1 ||
		aws.ToInt32(got.MetadataOptions.HttpPutResponseHopLimit) != 2 {
		t.Errorf("id %q, state code %d, tags %v, hop limit %d", id, aws.ToInt32(got.State.Code), got.Tags,
			aws.ToInt32(got.MetadataOptions.HttpPutResponseHopLimit))
	}

	applied := h.lastApplied()
	if applied == nil || applied.ID != id || string(applied.UserData) != script || applied.State != "running" {
		t.Fatalf("applied before the answer = %+v, want %s running with the user data", applied, id)
	}
	ni := applied.Interfaces[0]
	if ni.SubnetIPv4CIDR != netip.MustParsePrefix("10.20.30.0/24") || !strings.HasPrefix(ni.SubnetID, "subnet-0") ||
		ni.VPCIPv4CIDRs[0] != netip.MustParsePrefix("10.20.0.0/16") || len(ni.SecurityGroups) != 1 {
		t.Errorf("made-up network = %+v", ni)
	}

	desc, err := h.client.DescribeInstances(ctx, &ec2.DescribeInstancesInput{InstanceIds: []string{id}})
	if err != nil {
		t.Fatalf("DescribeInstances: %v", err)
	}
	if d := desc.Reservations[0].Instances[0]; d.State.Name != types.InstanceStateNameRunning ||
		d.MetadataOptions.State != types.InstanceMetadataOptionsStateApplied {
		t.Errorf("described state %s, options %s; want running, applied", d.State.Name, d.MetadataOptions.State)
	}
}

// Ensure a launch of several instances without an address takes free
// addresses of the subnet, past EC2's reserved ones and those in use, and
// gives each instance its own ids and MAC in one reservation.
func TestServer_RunInstancesCount(t *testing.T) {
	tests := []struct {
		name     string
		min, max int32
		subnet   string
		want     []string
		code     string
	}{
		{"three in the default subnet", 1, 3, "", []string{"172.31.0.4", "172.31.0.5", "172.31.0.6"}, ""},
		{"named subnet", 2, 2, "subnet-0be9b61d7a1c2e3f4", []string{"172.31.0.4", "172.31.0.5"}, ""},
		{"small subnet gives what it has", 1, 20, "subnet-0aaaaaaaaaaaaaaaa", []string{
			"10.9.0.4", "10.9.0.5", "10.9.0.6", "10.9.0.7", "10.9.0.8", "10.9.0.10",
			"10.9.0.11", "10.9.0.12", "10.9.0.13", "10.9.0.14",
		}, ""},
		{"small subnet refuses more than it has", 11, 20, "subnet-0aaaaaaaaaaaaaaaa", nil, "InsufficientFreeAddressesInSubnet"},
		{"over the cap with a low minimum", 1, 150, "", nil, ""},
		{"minimum over the cap", 101, 150, "", nil, "InstanceLimitExceeded"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			small := secondInstance("i-0aaaaaaaaaaaaaaaa")
			small.Interfaces[0].SubnetID = "subnet-0aaaaaaaaaaaaaaaa"
			small.Interfaces[0].SubnetIPv4CIDR = netip.MustParsePrefix("10.9.0.0/28")
			small.Interfaces[0].VPCIPv4CIDRs = []netip.Prefix{netip.MustParsePrefix("10.9.0.0/16")}
			small.Interfaces[0].PrivateIPv4s = []netip.Addr{netip.MustParseAddr("10.9.0.9")}
			small.Interfaces[0].PublicIPv4s = nil
			h := newHarness(t, small)

			in := launchOne()
			in.MinCount, in.MaxCount = aws.Int32(tt.min), aws.Int32(tt.max)
			if tt.subnet != "" {
				in.SubnetId = aws.String(tt.subnet)
			}
			out, err := h.client.RunInstances(context.Background(), in)
			if got := apiCode(t, err); got != tt.code {
				t.Fatalf("code = %q (%v), want %q", got, err, tt.code)
			}
			if tt.code != "" {
				if h.count() != 2 {
					t.Errorf("a refused launch stored instances")
				}
				return
			}
			if tt.want == nil && len(out.Instances) != maxLaunch {
				t.Fatalf("launched %d, want the cap %d", len(out.Instances), maxLaunch)
			}
			seen := map[string]bool{}
			for i, x := range out.Instances {
				if tt.want != nil && aws.ToString(x.PrivateIpAddress) != tt.want[i] {
					t.Errorf("instance %d address %s, want %s", i, aws.ToString(x.PrivateIpAddress), tt.want[i])
				}
				ni := x.NetworkInterfaces[0]
				for _, v := range []string{aws.ToString(x.InstanceId), aws.ToString(ni.NetworkInterfaceId), aws.ToString(ni.MacAddress), aws.ToString(x.PrivateIpAddress)} {
					if seen[v] {
						t.Errorf("%s given twice", v)
					}
					seen[v] = true
				}
				if aws.ToInt32(x.AmiLaunchIndex) != int32(i) {
					t.Errorf("instance %d has launch index %d", i, aws.ToInt32(x.AmiLaunchIndex))
				}
			}
			if want := len(out.Instances) + 2; h.count() != want {
				t.Errorf("store holds %d instances, want %d", h.count(), want)
			}
		})
	}
}

// Ensure metadata options of a launch come from the request first, then
// the account's defaults, then EC2's defaults.
func TestServer_RunInstancesDefaults(t *testing.T) {
	tests := []struct {
		name     string
		defaults ec2.ModifyInstanceMetadataDefaultsInput
		request  *types.InstanceMetadataOptionsRequest
		want     imds.MetadataOptions
	}{
		{"EC2's defaults", ec2.ModifyInstanceMetadataDefaultsInput{}, nil,
			imds.MetadataOptions{HTTPTokens: "optional", HTTPEndpoint: "enabled", HTTPPutHopLimit: 1, HTTPProtocolIPv6: "disabled", InstanceMetadataTags: "disabled"}},
		{"account defaults", ec2.ModifyInstanceMetadataDefaultsInput{
			HttpTokens: types.MetadataDefaultHttpTokensStateRequired, HttpPutResponseHopLimit: aws.Int32(2),
			InstanceMetadataTags: types.DefaultInstanceMetadataTagsStateEnabled,
		}, nil,
			imds.MetadataOptions{HTTPTokens: "required", HTTPEndpoint: "enabled", HTTPPutHopLimit: 2, HTTPProtocolIPv6: "disabled", InstanceMetadataTags: "enabled"}},
		{"request over account defaults", ec2.ModifyInstanceMetadataDefaultsInput{
			HttpTokens: types.MetadataDefaultHttpTokensStateRequired, HttpEndpoint: types.DefaultInstanceMetadataEndpointStateDisabled,
		}, &types.InstanceMetadataOptionsRequest{HttpTokens: types.HttpTokensStateOptional, HttpProtocolIpv6: types.InstanceMetadataProtocolStateEnabled},
			imds.MetadataOptions{HTTPTokens: "optional", HTTPEndpoint: "disabled", HTTPPutHopLimit: 1, HTTPProtocolIPv6: "enabled", InstanceMetadataTags: "disabled"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			h := newHarness(t)
			ctx := context.Background()
			if _, err := h.client.ModifyInstanceMetadataDefaults(ctx, &tt.defaults); err != nil {
				t.Fatalf("ModifyInstanceMetadataDefaults: %v", err)
			}
			in := launchOne()
			in.MetadataOptions = tt.request
			out, err := h.client.RunInstances(ctx, in)
			if err != nil {
				t.Fatalf("RunInstances: %v", err)
			}
			if got := h.instance(aws.ToString(out.Instances[0].InstanceId)).Options; got != tt.want {
				t.Errorf("options = %+v, want %+v", got, tt.want)
			}
			if got := h.instance(testID).Options; got != imds.DefaultMetadataOptions() {
				t.Errorf("defaults changed the running instance: %+v", got)
			}
		})
	}
}

// Ensure refused launches carry EC2's codes and store nothing.
func TestServer_RunInstancesRefused(t *testing.T) {
	with := func(f func(*ec2.RunInstancesInput)) *ec2.RunInstancesInput {
		in := launchOne()
		f(in)
		return in
	}
	tests := []struct {
		name string
		in   *ec2.RunInstancesInput
		code string
	}{
		{"no image", with(func(in *ec2.RunInstancesInput) { in.ImageId = nil }), "MissingParameter"},
		{"malformed image", with(func(in *ec2.RunInstancesInput) { in.ImageId = aws.String("ami-xyz") }), "InvalidAMIID.Malformed"},
		{"bad instance type", with(func(in *ec2.RunInstancesInput) { in.InstanceType = "huge" }), "InvalidParameterValue"},
		{"min over max", with(func(in *ec2.RunInstancesInput) { in.MinCount = aws.Int32(3) }), "InvalidParameterValue"},
		{"zero count", with(func(in *ec2.RunInstancesInput) { in.MinCount = aws.Int32(0) }), "InvalidParameterValue"},
		{"address in use", with(func(in *ec2.RunInstancesInput) { in.PrivateIpAddress = aws.String("172.31.1.2") }), "InvalidIPAddress.InUse"},
		{"address for two", with(func(in *ec2.RunInstancesInput) {
			in.PrivateIpAddress, in.MaxCount = aws.String("10.0.0.5"), aws.Int32(2)
		}), "InvalidParameterCombination"},
		{"IPv6 address", with(func(in *ec2.RunInstancesInput) { in.PrivateIpAddress = aws.String("fd00::5") }), "InvalidParameterValue"},
		{"address outside subnet", with(func(in *ec2.RunInstancesInput) {
			in.SubnetId, in.PrivateIpAddress = aws.String("subnet-0be9b61d7a1c2e3f4"), aws.String("10.0.0.5")
		}), "InvalidParameterValue"},
		{"unknown subnet", with(func(in *ec2.RunInstancesInput) { in.SubnetId = aws.String("subnet-00000000000000000") }), "InvalidSubnetID.NotFound"},
		{"malformed subnet", with(func(in *ec2.RunInstancesInput) { in.SubnetId = aws.String("subnet-x") }), "InvalidSubnetID.Malformed"},
		{"zone of another region", with(func(in *ec2.RunInstancesInput) {
			in.PrivateIpAddress = aws.String("10.0.0.5")
			in.Placement = &types.Placement{AvailabilityZone: aws.String("eu-west-1a")}
		}), "InvalidParameterValue"},
		{"zone other than the subnet's", with(func(in *ec2.RunInstancesInput) {
			in.SubnetId = aws.String("subnet-0be9b61d7a1c2e3f4")
			in.Placement = &types.Placement{AvailabilityZone: aws.String("us-east-1b")}
		}), "InvalidParameterValue"},
		{"unknown key", with(func(in *ec2.RunInstancesInput) { in.KeyName = aws.String("nobody") }), "InvalidKeyPair.NotFound"},
		{"unknown profile", with(func(in *ec2.RunInstancesInput) {
			in.IamInstanceProfile = &types.IamInstanceProfileSpecification{Arn: aws.String("arn:aws:iam::123456789012:instance-profile/other")}
		}), "InvalidParameterValue"},
		{"user data over 16 KiB", with(func(in *ec2.RunInstancesInput) {
			in.UserData = aws.String(base64.StdEncoding.EncodeToString(make([]byte, 16385)))
		}), "InvalidParameterValue"},
		{"user data not base64", with(func(in *ec2.RunInstancesInput) { in.UserData = aws.String("#!/bin/sh") }), "InvalidParameterValue"},
		{"volume tags", with(func(in *ec2.RunInstancesInput) {
			in.TagSpecifications = []types.TagSpecification{{ResourceType: types.ResourceTypeVolume, Tags: []types.Tag{{Key: aws.String("a")}}}}
		}), "UnsupportedOperation"},
		{"repeated tag key", with(func(in *ec2.RunInstancesInput) {
			in.TagSpecifications = []types.TagSpecification{{ResourceType: types.ResourceTypeInstance,
				Tags: []types.Tag{{Key: aws.String("a")}, {Key: aws.String("a")}}}}
		}), "InvalidParameterValue"},
		{"unservable tag key with tags on", with(func(in *ec2.RunInstancesInput) {
			in.TagSpecifications = []types.TagSpecification{{ResourceType: types.ResourceTypeInstance, Tags: []types.Tag{{Key: aws.String("a/b")}}}}
			in.MetadataOptions = &types.InstanceMetadataOptionsRequest{InstanceMetadataTags: types.InstanceMetadataTagsStateEnabled}
		}), "InvalidParameterValue"},
		{"hop limit 65", with(func(in *ec2.RunInstancesInput) {
			in.MetadataOptions = &types.InstanceMetadataOptionsRequest{HttpPutResponseHopLimit: aws.Int32(65)}
		}), "InvalidParameterValue"},
		{"bad tokens", with(func(in *ec2.RunInstancesInput) {
			in.MetadataOptions = &types.InstanceMetadataOptionsRequest{HttpTokens: "sometimes"}
		}), "InvalidParameterValue"},
		{"dry run", with(func(in *ec2.RunInstancesInput) { in.DryRun = aws.Bool(true) }), "DryRunOperation"},
		{"dry run of a refused launch", with(func(in *ec2.RunInstancesInput) {
			in.DryRun, in.KeyName = aws.Bool(true), aws.String("nobody")
		}), "InvalidKeyPair.NotFound"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			h := newHarness(t)
			_, err := h.client.RunInstances(context.Background(), tt.in)
			if got := apiCode(t, err); got != tt.code {
				t.Fatalf("code = %q (%v), want %q", got, err, tt.code)
			}
			if h.count() != 1 || h.lastApplied() != nil {
				t.Errorf("a refused launch stored or applied an instance")
			}
		})
	}
}

// Ensure the counts, which the SDK insists on, are required by the server
// too.
func TestServer_RunInstancesMissingCount(t *testing.T) {
	h := newHarness(t)
	for _, body := range []string{
		"Action=RunInstances&Version=2016-11-15&ImageId=" + testImage + "&MinCount=1",
		"Action=RunInstances&Version=2016-11-15&ImageId=" + testImage + "&MaxCount=1",
	} {
		if status, code := h.send(rawCall{body: body}); status != 400 || code != "MissingParameter" {
			t.Errorf("%s: %d %s, want 400 MissingParameter", body, status, code)
		}
	}
}

// Ensure a retried launch with the same client token gets the instances
// the first call launched, and a different request with it is refused.
func TestServer_RunInstancesClientToken(t *testing.T) {
	h := newHarness(t)
	ctx := context.Background()
	in := launchOne()
	in.ClientToken = aws.String("retry-me")
	first, err := h.client.RunInstances(ctx, in)
	if err != nil {
		t.Fatalf("RunInstances: %v", err)
	}
	again, err := h.client.RunInstances(ctx, in)
	if err != nil {
		t.Fatalf("RunInstances again: %v", err)
	}
	if a, b := aws.ToString(first.Instances[0].InstanceId), aws.ToString(again.Instances[0].InstanceId); a != b ||
		aws.ToString(first.ReservationId) != aws.ToString(again.ReservationId) || h.count() != 2 {
		t.Errorf("retry launched %s after %s; store holds %d", b, a, h.count())
	}
	in.ImageId = aws.String("ami-0123456789abcdef0")
	_, err = h.client.RunInstances(ctx, in)
	if got := apiCode(t, err); got != "IdempotentParameterMismatch" {
		t.Errorf("same token, other image: code %q, want IdempotentParameterMismatch", got)
	}
}

// Ensure no correctly signed RunInstances or TerminateInstances body,
// whatever it holds, gets a 5xx answer or panics the handler.
func FuzzServer_Launch(f *testing.F) {
	const run = "Action=RunInstances&Version=2016-11-15&ImageId=" + testImage
	for _, s := range []string{
		run + "&MinCount=1&MaxCount=1",
		run + "&MinCount=1&MaxCount=3&SubnetId=subnet-0be9b61d7a1c2e3f4&KeyName=my-key",
		run + "&MinCount=1&MaxCount=1&PrivateIpAddress=127.0.0.21&MetadataOptions.HttpTokens=required&UserData=IyEvYmluL3NoCg==",
		run + "&MinCount=1&MaxCount=1&TagSpecification.1.ResourceType=instance&TagSpecification.1.Tag.1.Key=a&TagSpecification.1.Tag.1.Value=b",
		run + "&MinCount=1&MaxCount=1&IamInstanceProfile.Name=app-role&Placement.AvailabilityZone=us-east-1a&ClientToken=t",
		"Action=TerminateInstances&Version=2016-11-15&InstanceId.1=i-0123456789abcdef0",
	} {
		f.Add(s)
	}
	signer := v4.NewSigner()
	creds := aws.Credentials{AccessKeyID: testKeyID, SecretAccessKey: testSecret}
	f.Fuzz(func(t *testing.T, body string) {
		store := mem.New()
		store.Put(context.Background(), config.DefaultInstance(time.Now()))
		srv := New(Config{Store: store, Keys: map[string]string{testKeyID: testSecret}})
		req := httptest.NewRequest(http.MethodPost, "http://127.0.0.1:1339/", strings.NewReader(body))
		req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
		sum := sha256.Sum256([]byte(body))
		if err := signer.SignHTTP(context.Background(), creds, req, hex.EncodeToString(sum[:]), "ec2", "us-east-1", time.Now()); err != nil {
			t.Fatal(err)
		}
		w := httptest.NewRecorder()
		srv.ServeHTTP(w, req)
		if w.Code >= 500 {
			t.Fatalf("body %q: status %d: %s", body, w.Code, w.Body)
		}
	})
}
