package control

import (
	"context"
	"errors"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/ec2"
	"github.com/aws/aws-sdk-go-v2/service/ec2/types"
	"github.com/aws/smithy-go"
)

// apiCode returns the EC2 error code of err, or "" when err is nil or not
// an API error.
func apiCode(t testing.TB, err error) string {
	t.Helper()
	if err == nil {
		return ""
	}
	var ae smithy.APIError
	if !errors.As(err, &ae) {
		t.Fatalf("error %v is not an API error", err)
	}
	return ae.ErrorCode()
}

// Ensure aws-sdk-go-v2's EC2 client can change every metadata option and
// that the change is applied before the answer arrives.
func TestServer_ModifyInstanceMetadataOptions(t *testing.T) {
	h := newHarness(t)
	ctx := context.Background()
	out, err := h.client.ModifyInstanceMetadataOptions(ctx, &ec2.ModifyInstanceMetadataOptionsInput{
		InstanceId:              aws.String(testID),
		HttpTokens:              types.HttpTokensStateRequired,
		HttpEndpoint:            types.InstanceMetadataEndpointStateEnabled,
		HttpPutResponseHopLimit: aws.Int32(2),
		HttpProtocolIpv6:        types.InstanceMetadataProtocolStateEnabled,
		InstanceMetadataTags:    types.InstanceMetadataTagsStateEnabled,
	})
	if err != nil {
		t.Fatalf("ModifyInstanceMetadataOptions: %v", err)
	}
	o := out.InstanceMetadataOptions
	if aws.ToString(out.InstanceId) != testID || o.State != types.InstanceMetadataOptionsStatePending ||
		o.HttpTokens != types.HttpTokensStateRequired || aws.ToInt32(o.HttpPutResponseHopLimit) != 2 ||
		o.HttpProtocolIpv6 != types.InstanceMetadataProtocolStateEnabled ||
		o.InstanceMetadataTags != types.InstanceMetadataTagsStateEnabled {
		t.Errorf("answer = %+v", o)
	}
	applied := h.lastApplied()
	if applied == nil || applied.Options.HTTPTokens != "required" || applied.Options.HTTPPutHopLimit != 2 {
		t.Fatalf("applied before the answer = %+v, want tokens required, hop limit 2", applied)
	}

	desc, err := h.client.DescribeInstances(ctx, &ec2.DescribeInstancesInput{InstanceIds: []string{testID}})
	if err != nil {
		t.Fatalf("DescribeInstances: %v", err)
	}
	got := desc.Reservations[0].Instances[0].MetadataOptions
	if got.State != types.InstanceMetadataOptionsStateApplied || got.HttpTokens != types.HttpTokensStateRequired {
		t.Errorf("described options = %+v, want applied and required", got)
	}
}

// Ensure refusals of ModifyInstanceMetadataOptions carry EC2's codes and
// change nothing.
func TestServer_ModifyInstanceMetadataOptionsRefused(t *testing.T) {
	tests := []struct {
		name string
		in   ec2.ModifyInstanceMetadataOptionsInput
		code string
	}{
		{"unknown instance", ec2.ModifyInstanceMetadataOptionsInput{InstanceId: aws.String("i-0000000000000000f"), HttpTokens: "required"}, "InvalidInstanceID.NotFound"},
		{"malformed id", ec2.ModifyInstanceMetadataOptionsInput{InstanceId: aws.String("i-xyz"), HttpTokens: "required"}, "InvalidInstanceID.Malformed"},
		{"bad tokens", ec2.ModifyInstanceMetadataOptionsInput{InstanceId: aws.String(testID), HttpTokens: "sometimes"}, "InvalidParameterValue"},
		{"hop limit 0", ec2.ModifyInstanceMetadataOptionsInput{InstanceId: aws.String(testID), HttpPutResponseHopLimit: aws.Int32(0)}, "InvalidParameterValue"},
		{"hop limit 65", ec2.ModifyInstanceMetadataOptionsInput{InstanceId: aws.String(testID), HttpPutResponseHopLimit: aws.Int32(65)}, "InvalidParameterValue"},
		{"dry run", ec2.ModifyInstanceMetadataOptionsInput{InstanceId: aws.String(testID), HttpTokens: "required", DryRun: aws.Bool(true)}, "DryRunOperation"},
		{"dry run unknown", ec2.ModifyInstanceMetadataOptionsInput{InstanceId: aws.String("i-0000000000000000f"), DryRun: aws.Bool(true)}, "InvalidInstanceID.NotFound"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			h := newHarness(t)
			_, err := h.client.ModifyInstanceMetadataOptions(context.Background(), &tt.in)
			if got := apiCode(t, err); got != tt.code {
				t.Fatalf("code = %q (%v), want %q", got, err, tt.code)
			}
			if h.lastApplied() != nil || h.instance(testID).Options.HTTPTokens != "optional" {
				t.Errorf("refused call changed the instance")
			}
		})
	}
}

// Ensure enabling tags in metadata is refused while a tag key could not be
// served, and a key that cannot be served is refused while tags are on.
func TestServer_TagKeysServable(t *testing.T) {
	h := newHarness(t)
	ctx := context.Background()
	_, err := h.client.CreateTags(ctx, &ec2.CreateTagsInput{
		Resources: []string{testID},
		Tags:      []types.Tag{{Key: aws.String("cost center"), Value: aws.String("x")}},
	})
	if err != nil {
		t.Fatalf("CreateTags with tags disabled: %v", err)
	}
	_, err = h.client.ModifyInstanceMetadataOptions(ctx, &ec2.ModifyInstanceMetadataOptionsInput{
		InstanceId: aws.String(testID), InstanceMetadataTags: types.InstanceMetadataTagsStateEnabled,
	})
	if got := apiCode(t, err); got != "InvalidParameterValue" {
		t.Fatalf("enable tags with key %q: code %q, want InvalidParameterValue", "cost center", got)
	}
	_, err = h.client.DeleteTags(ctx, &ec2.DeleteTagsInput{
		Resources: []string{testID}, Tags: []types.Tag{{Key: aws.String("cost center")}},
	})
	if err != nil {
		t.Fatalf("DeleteTags: %v", err)
	}
	_, err = h.client.ModifyInstanceMetadataOptions(ctx, &ec2.ModifyInstanceMetadataOptionsInput{
		InstanceId: aws.String(testID), InstanceMetadataTags: types.InstanceMetadataTagsStateEnabled,
	})
	if err != nil {
		t.Fatalf("enable tags: %v", err)
	}
	for _, key := range []string{"a/b", "_index", "..", "with space"} {
		_, err = h.client.CreateTags(ctx, &ec2.CreateTagsInput{
			Resources: []string{testID}, Tags: []types.Tag{{Key: aws.String(key), Value: aws.String("v")}},
		})
		if got := apiCode(t, err); got != "InvalidParameterValue" {
			t.Errorf("CreateTags(%q) with tags enabled: code %q, want InvalidParameterValue", key, got)
		}
	}
}

// Ensure DescribeInstances answers the SDK with the instance's fields, its
// filters work and pagination visits every instance once.
func TestServer_DescribeInstances(t *testing.T) {
	h := newHarness(t, secondInstance("i-0fedcba9876543210"), secondInstance("i-00000000000000001"))
	ctx := context.Background()

	out, err := h.client.DescribeInstances(ctx, &ec2.DescribeInstancesInput{InstanceIds: []string{testID}})
	if err != nil {
		t.Fatalf("DescribeInstances: %v", err)
	}
	if len(out.Reservations) != 1 || len(out.Reservations[0].Instances) != 1 {
		t.Fatalf("reservations = %+v", out.Reservations)
	}
	in := out.Reservations[0].Instances[0]
	checks := []struct{ name, got, want string }{
		{"InstanceId", aws.ToString(in.InstanceId), testID},
		{"ImageId", aws.ToString(in.ImageId), "ami-0abcdef1234567890"},
		{"State", string(in.State.Name), "running"},
		{"InstanceType", string(in.InstanceType), "m5.large"},
		{"PrivateIpAddress", aws.ToString(in.PrivateIpAddress), "172.31.1.2"},
		{"PublicIpAddress", aws.ToString(in.PublicIpAddress), "203.0.113.25"},
		{"PrivateDnsName", aws.ToString(in.PrivateDnsName), "ip-172-31-1-2.ec2.internal"},
		{"PublicDnsName", aws.ToString(in.PublicDnsName), "ec2-203-0-113-25.compute-1.amazonaws.com"},
		{"AvailabilityZone", aws.ToString(in.Placement.AvailabilityZone), "us-east-1a"},
		{"KeyName", aws.ToString(in.KeyName), "my-key"},
		{"LaunchTime", in.LaunchTime.UTC().Format("2006-01-02T15:04:05Z"), "2026-12-04T16:00:00Z"},
		{"MetadataOptions.HttpTokens", string(in.MetadataOptions.HttpTokens), "optional"},
		{"NetworkInterfaces[0].MacAddress", aws.ToString(in.NetworkInterfaces[0].MacAddress), "0e:49:61:0f:c3:11"},
		{"IamInstanceProfile.Arn", aws.ToString(in.IamInstanceProfile.Arn), "arn:aws:iam::123456789012:instance-profile/app-role"},
	}
	for _, c := range checks {
		if c.got != c.want {
			t.Errorf("%s = %q, want %q", c.name, c.got, c.want)
		}
	}
	if aws.ToInt32(in.State.Code) != 16 || len(in.Tags) != 2 {
		t.Errorf("state code %d, tags %v", aws.ToInt32(in.State.Code), in.Tags)
	}

	filtered, err := h.client.DescribeInstances(ctx, &ec2.DescribeInstancesInput{
		Filters: []types.Filter{{Name: aws.String("tag:Name"), Values: []string{"sec*"}}},
	})
	if err != nil {
		t.Fatalf("DescribeInstances with tag filter: %v", err)
	}
	if n := countInstances(filtered.Reservations); n != 2 {
		t.Errorf("tag:Name=sec* matched %d instances, want 2", n)
	}

	var seen []string
	pager := ec2.NewDescribeInstancesPaginator(h.client, &ec2.DescribeInstancesInput{MaxResults: aws.Int32(5)})
	for pager.HasMorePages() {
		page, err := pager.NextPage(ctx)
		if err != nil {
			t.Fatalf("page: %v", err)
		}
		for _, r := range page.Reservations {
			for _, in := range r.Instances {
				seen = append(seen, aws.ToString(in.InstanceId))
			}
		}
	}
	if len(seen) != 3 {
		t.Errorf("paginated ids = %v, want 3", seen)
	}

	_, err = h.client.DescribeInstances(ctx, &ec2.DescribeInstancesInput{InstanceIds: []string{"i-0000000000000000f"}})
	if got := apiCode(t, err); got != "InvalidInstanceID.NotFound" {
		t.Errorf("unknown id: code %q", got)
	}
	_, err = h.client.DescribeInstances(ctx, &ec2.DescribeInstancesInput{Filters: []types.Filter{{Name: aws.String("flavour"), Values: []string{"x"}}}})
	if got := apiCode(t, err); got != "InvalidParameterValue" {
		t.Errorf("unknown filter: code %q", got)
	}
}

func countInstances(rs []types.Reservation) int {
	n := 0
	for _, r := range rs {
		n += len(r.Instances)
	}
	return n
}

// Ensure tags can be created, described with filters and deleted through
// the SDK, and each change reaches the data plane.
func TestServer_Tags(t *testing.T) {
	h := newHarness(t)
	ctx := context.Background()
	_, err := h.client.CreateTags(ctx, &ec2.CreateTagsInput{
		Resources: []string{testID},
		Tags:      []types.Tag{{Key: aws.String("team"), Value: aws.String("blue")}, {Key: aws.String("Name"), Value: aws.String("web-1")}},
	})
	if err != nil {
		t.Fatalf("CreateTags: %v", err)
	}
	if got := h.lastApplied().Tags; len(got) != 3 || got[0].Value != "web-1" || got[2].Key != "team" {
		t.Errorf("applied tags = %v, want Name=web-1, Environment=dev, team=blue", got)
	}

	out, err := h.client.DescribeTags(ctx, &ec2.DescribeTagsInput{
		Filters: []types.Filter{{Name: aws.String("resource-id"), Values: []string{testID}}, {Name: aws.String("key"), Values: []string{"team"}}},
	})
	if err != nil {
		t.Fatalf("DescribeTags: %v", err)
	}
	if len(out.Tags) != 1 || aws.ToString(out.Tags[0].Value) != "blue" || out.Tags[0].ResourceType != types.ResourceTypeInstance {
		t.Errorf("DescribeTags = %+v", out.Tags)
	}

	_, err = h.client.DeleteTags(ctx, &ec2.DeleteTagsInput{
		Resources: []string{testID},
		Tags:      []types.Tag{{Key: aws.String("team"), Value: aws.String("red")}, {Key: aws.String("Environment")}},
	})
	if err != nil {
		t.Fatalf("DeleteTags: %v", err)
	}
	if got := h.instance(testID).Tags; len(got) != 2 || got[1].Key != "team" {
		t.Errorf("tags after delete = %v, want Name and team (value did not match)", got)
	}

	_, err = h.client.CreateTags(ctx, &ec2.CreateTagsInput{Resources: []string{"vol-0123456789abcdef0"}, Tags: []types.Tag{{Key: aws.String("a")}}})
	if got := apiCode(t, err); got != "UnsupportedOperation" {
		t.Errorf("tag a volume: code %q, want UnsupportedOperation", got)
	}
	_, err = h.client.CreateTags(ctx, &ec2.CreateTagsInput{Resources: []string{testID, "i-0000000000000000f"}, Tags: []types.Tag{{Key: aws.String("a")}}})
	if got := apiCode(t, err); got != "InvalidInstanceID.NotFound" {
		t.Errorf("tag an unknown instance: code %q", got)
	}
	if got := h.instance(testID).Tags; len(got) != 2 {
		t.Errorf("a refused CreateTags changed tags: %v", got)
	}
}

// Ensure account defaults round-trip, clear with no-preference and apply to
// options given to Defaults.Apply.
func TestServer_MetadataDefaults(t *testing.T) {
	h := newHarness(t)
	ctx := context.Background()
	_, err := h.client.ModifyInstanceMetadataDefaults(ctx, &ec2.ModifyInstanceMetadataDefaultsInput{
		HttpTokens: types.MetadataDefaultHttpTokensStateRequired, HttpPutResponseHopLimit: aws.Int32(2),
	})
	if err != nil {
		t.Fatalf("ModifyInstanceMetadataDefaults: %v", err)
	}
	out, err := h.client.GetInstanceMetadataDefaults(ctx, &ec2.GetInstanceMetadataDefaultsInput{})
	if err != nil {
		t.Fatalf("GetInstanceMetadataDefaults: %v", err)
	}
	a := out.AccountLevel
	if a.HttpTokens != types.HttpTokensStateRequired || aws.ToInt32(a.HttpPutResponseHopLimit) != 2 || a.HttpEndpoint != "" {
		t.Errorf("AccountLevel = %+v", a)
	}
	if h.instance(testID).Options.HTTPTokens != "optional" {
		t.Errorf("defaults changed a running instance")
	}

	_, err = h.client.ModifyInstanceMetadataDefaults(ctx, &ec2.ModifyInstanceMetadataDefaultsInput{
		HttpTokens: types.MetadataDefaultHttpTokensStateNoPreference, HttpPutResponseHopLimit: aws.Int32(-1),
	})
	if err != nil {
		t.Fatalf("clear defaults: %v", err)
	}
	if got := h.server.Defaults().Get(); got != (DefaultValues{}) {
		t.Errorf("defaults after no-preference = %+v", got)
	}
}
