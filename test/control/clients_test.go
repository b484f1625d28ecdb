package control_test

import (
	"context"
	"encoding/json"
	"errors"
	"io"
	"path/filepath"
	"runtime"
	"strings"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/feature/ec2/imds"
	"github.com/aws/smithy-go"
	smithyhttp "github.com/aws/smithy-go/transport/http"
)

const (
	awsInstall  = "pip install boto3 awscli (botocore 1.43 or later)"
	curlInstall = "apt-get install -y curl"
)

// awsCLI runs `aws ARGS... --endpoint-url CONTROL --output json` and decodes
// the output into v (skipped when v is nil).
func awsCLI(t testing.TB, p *pair, v any, args ...string) {
	t.Helper()
	aws := needTool(t, "aws", awsInstall)
	args = append(args, "--endpoint-url", p.ControlURL, "--output", "json")
	out := run(t, clientEnv(t, p), aws, args...)
	if v != nil {
		if err := json.Unmarshal(out, v); err != nil {
			t.Fatalf("aws %s: output %q: %v", strings.Join(args, " "), out, err)
		}
	}
}

// python runs py/ec2_client.py with args and decodes its output into v.
func python(t testing.TB, p *pair, v any, args ...string) {
	t.Helper()
	py := needTool(t, "python3", awsInstall)
	if _, err := runErr(nil, py, "-c", "import boto3, botocore"); err != nil {
		missing(t, "python3 cannot import boto3", awsInstall)
	}
	_, file, _, _ := runtime.Caller(0)
	script := filepath.Join(filepath.Dir(file), "py", "ec2_client.py")
	out := run(t, clientEnv(t, p), py, append([]string{script}, args...)...)
	if err := json.Unmarshal(out, v); err != nil {
		t.Fatalf("ec2_client.py %v: output %q: %v", args, out, err)
	}
}

// curlStatus fetches path from the data plane with curl, without a token,
// and returns the status code curl saw.
func curlStatus(t testing.TB, p *pair, path string) string {
	t.Helper()
	curl := needTool(t, "curl", curlInstall)
	out := run(t, clientEnv(t, p), curl, "-s", "--noproxy", "*", "-o", "/dev/null", "-w", "%{http_code}", p.DataURL+path)
	return string(out)
}

// goIMDS returns aws-sdk-go-v2's metadata client aimed at the data plane.
func goIMDS(p *pair) *imds.Client {
	return imds.New(imds.Options{Endpoint: p.DataURL, ClientEnableState: imds.ClientEnabled, EnableFallback: aws.FalseTernary})
}

// goMetadata reads path with aws-sdk-go-v2's client and returns the body,
// or the HTTP status of the refusal.
func goMetadata(t testing.TB, c *imds.Client, path string) (string, int) {
	t.Helper()
	out, err := c.GetMetadata(context.Background(), &imds.GetMetadataInput{Path: path})
	if err != nil {
		var re *smithyhttp.ResponseError
		if errors.As(err, &re) {
			return "", re.HTTPStatusCode()
		}
		var ae smithy.APIError
		if errors.As(err, &ae) {
			return "", -1
		}
		t.Fatalf("GetMetadata(%s): %v", path, err)
	}
	defer out.Content.Close()
	b, _ := io.ReadAll(out.Content)
	return string(b), 200
}

type metadataOptions struct {
	State                   string
	HttpTokens              string
	HttpPutResponseHopLimit int
	HttpEndpoint            string
	HttpProtocolIpv6        string
	InstanceMetadataTags    string
}

// Ensure the seed's commands, verbatim plus --endpoint-url and the
// first-start key, change what curl, botocore and aws-sdk-go-v2 see on the
// data plane by the time the CLI returns, and describe-instances shows the
// new options.
func TestAWSCLI_SeedCommands(t *testing.T) {
	p := startPair(t)
	gc := goIMDS(p)
	if got := curlStatus(t, p, "/latest/meta-data/instance-id"); got != "200" {
		t.Fatalf("curl before any change: %s, want 200", got)
	}

	var mod struct {
		InstanceId              string
		InstanceMetadataOptions metadataOptions
	}
	awsCLI(t, p, &mod, "ec2", "modify-instance-metadata-options", "--instance-id", instanceID, "--http-tokens", "required")
	if mod.InstanceId != instanceID || mod.InstanceMetadataOptions.HttpTokens != "required" || mod.InstanceMetadataOptions.State != "pending" {
		t.Errorf("modify answer = %+v", mod)
	}
	if got := curlStatus(t, p, "/latest/meta-data/instance-id"); got != "401" {
		t.Errorf("curl without a token after --http-tokens required: %s, want 401", got)
	}
	if body, status := goMetadata(t, gc, "instance-id"); body != instanceID {
		t.Errorf("aws-sdk-go-v2 imds with a token: %q (%d), want %s", body, status, instanceID)
	}
	var creds map[string]any
	python(t, p, &creds, "fetch")
	if creds["access_key"] == nil || creds["access_key"] == "" {
		t.Errorf("botocore's fetcher with tokens required got %v, want role credentials", creds)
	}

	var opts []metadataOptions
	awsCLI(t, p, &opts, "ec2", "describe-instances", "--query", "Reservations[].Instances[].MetadataOptions")
	if len(opts) != 1 || opts[0].State != "applied" || opts[0].HttpTokens != "required" || opts[0].HttpEndpoint != "enabled" {
		t.Errorf("describe-instances MetadataOptions = %+v", opts)
	}

	awsCLI(t, p, &mod, "ec2", "modify-instance-metadata-options", "--instance-id", instanceID, "--http-endpoint", "disabled")
	if got := curlStatus(t, p, "/latest/meta-data/instance-id"); got != "403" {
		t.Errorf("curl after --http-endpoint disabled: %s, want 403", got)
	}
	if body, status := goMetadata(t, gc, "instance-id"); status != 403 {
		t.Errorf("aws-sdk-go-v2 imds after disabling: %q (%d), want 403", body, status)
	}
	creds = nil
	python(t, p, &creds, "fetch")
	if len(creds) != 0 {
		t.Errorf("botocore's fetcher with the endpoint disabled got %v, want nothing", creds)
	}
	awsCLI(t, p, &opts, "ec2", "describe-instances", "--query", "Reservations[].Instances[].MetadataOptions")
	if len(opts) != 1 || opts[0].HttpEndpoint != "disabled" {
		t.Errorf("describe-instances MetadataOptions = %+v", opts)
	}
}

// Ensure tags set with the CLI appear in and vanish from the data plane's
// tags/instance when instance-metadata-tags is on, and describe-tags
// reports them.
func TestAWSCLI_Tags(t *testing.T) {
	p := startPair(t)
	awsCLI(t, p, nil, "ec2", "create-tags", "--resources", instanceID, "--tags", "Key=team,Value=blue", "Key=Name,Value=web-1")
	awsCLI(t, p, nil, "ec2", "modify-instance-metadata-options", "--instance-id", instanceID, "--instance-metadata-tags", "enabled")
	if status, body := p.plainGet(t, "/latest/meta-data/tags/instance"); status != 200 || body != "Name\nEnvironment\nteam" {
		t.Errorf("tags/instance = %d %q, want Name, Environment, team", status, body)
	}
	if status, body := p.plainGet(t, "/latest/meta-data/tags/instance/Name"); status != 200 || body != "web-1" {
		t.Errorf("tags/instance/Name = %d %q, want web-1", status, body)
	}

	var tags struct {
		Tags []struct{ Key, Value, ResourceId, ResourceType string }
	}
	awsCLI(t, p, &tags, "ec2", "describe-tags", "--filters", "Name=resource-id,Values="+instanceID, "Name=key,Values=team")
	if len(tags.Tags) != 1 || tags.Tags[0].Value != "blue" || tags.Tags[0].ResourceType != "instance" {
		t.Errorf("describe-tags = %+v", tags)
	}

	awsCLI(t, p, nil, "ec2", "delete-tags", "--resources", instanceID, "--tags", "Key=team")
	if status, _ := p.plainGet(t, "/latest/meta-data/tags/instance/team"); status != 404 {
		t.Errorf("tags/instance/team after delete-tags: %d, want 404", status)
	}
	awsCLI(t, p, nil, "ec2", "modify-instance-metadata-options", "--instance-id", instanceID, "--instance-metadata-tags", "disabled")
	if status, _ := p.plainGet(t, "/latest/meta-data/tags/instance"); status != 404 {
		t.Errorf("tags/instance after disabling: %d, want 404", status)
	}
}

// Ensure boto3's EC2 client can make every call, gets EC2's error codes,
// and its changes reach the data plane before the call returns.
func TestBoto3_EC2Client(t *testing.T) {
	p := startPair(t)
	var mod struct{ InstanceMetadataOptions metadataOptions }
	python(t, p, &mod, "call", "modify_instance_metadata_options",
		`{"InstanceId":"`+instanceID+`","HttpTokens":"required","HttpPutResponseHopLimit":3}`)
	if o := mod.InstanceMetadataOptions; o.HttpTokens != "required" || o.HttpPutResponseHopLimit != 3 {
		t.Errorf("modify answer = %+v", o)
	}
	if status, _ := p.plainGet(t, "/latest/meta-data/instance-id"); status != 401 {
		t.Errorf("token-less GET after boto3's change: %d, want 401", status)
	}

	var desc struct {
		Reservations []struct {
			Instances []struct {
				InstanceId string
				State      struct {
					Code int
					Name string
				}
				MetadataOptions metadataOptions
			}
		}
	}
	python(t, p, &desc, "call", "describe_instances", `{"InstanceIds":["`+instanceID+`"]}`)
	if len(desc.Reservations) != 1 || desc.Reservations[0].Instances[0].State.Code != 16 ||
		desc.Reservations[0].Instances[0].MetadataOptions.HttpPutResponseHopLimit != 3 {
		t.Errorf("describe_instances = %+v", desc)
	}

	var ok map[string]any
	python(t, p, &ok, "call", "create_tags", `{"Resources":["`+instanceID+`"],"Tags":[{"Key":"k","Value":"v"}]}`)
	python(t, p, &ok, "call", "delete_tags", `{"Resources":["`+instanceID+`"],"Tags":[{"Key":"k"}]}`)
	var defaults struct{ AccountLevel map[string]any }
	python(t, p, &ok, "call", "modify_instance_metadata_defaults", `{"HttpTokens":"required"}`)
	python(t, p, &defaults, "call", "get_instance_metadata_defaults", `{}`)
	if defaults.AccountLevel["HttpTokens"] != "required" {
		t.Errorf("get_instance_metadata_defaults = %+v", defaults)
	}

	for _, c := range []struct {
		op, args, code string
		status         float64
	}{
		{"modify_instance_metadata_options", `{"InstanceId":"i-0000000000000000f","HttpTokens":"required"}`, "InvalidInstanceID.NotFound", 400},
		{"modify_instance_metadata_options", `{"InstanceId":"` + instanceID + `","HttpTokens":"required","DryRun":true}`, "DryRunOperation", 412},
		{"describe_instances", `{"InstanceIds":["bogus"]}`, "InvalidInstanceID.Malformed", 400},
		{"describe_instances", `{"Filters":[{"Name":"nonsense","Values":["x"]}]}`, "InvalidParameterValue", 400},
	} {
		var refused struct {
			Error  string
			Status float64
		}
		python(t, p, &refused, "call", c.op, c.args)
		if refused.Error != c.code || refused.Status != c.status {
			t.Errorf("%s(%s) = %+v, want %s %v", c.op, c.args, refused, c.code, c.status)
		}
	}
}

// Ensure the CLI reports EC2's error codes from imds's error bodies, its
// --dry-run gets DryRunOperation, and its full describe-instances output
// and table formatter accept imds's answer.
func TestAWSCLI_ErrorsAndFullOutput(t *testing.T) {
	p := startPair(t)
	aws := needTool(t, "aws", awsInstall)
	env := clientEnv(t, p)
	for _, c := range []struct {
		args []string
		code string
	}{
		{[]string{"modify-instance-metadata-options", "--instance-id", "i-0000000000000000f", "--http-tokens", "required"}, "InvalidInstanceID.NotFound"},
		{[]string{"modify-instance-metadata-options", "--instance-id", "i-bogus", "--http-tokens", "required"}, "InvalidInstanceID.Malformed"},
		{[]string{"modify-instance-metadata-options", "--instance-id", instanceID, "--http-put-response-hop-limit", "65"}, "InvalidParameterValue"},
		{[]string{"modify-instance-metadata-options", "--instance-id", instanceID, "--http-tokens", "required", "--dry-run"}, "DryRunOperation"},
	} {
		args := append([]string{"ec2"}, append(c.args, "--endpoint-url", p.ControlURL)...)
		_, err := runErr(env, aws, args...)
		if err == nil || !strings.Contains(err.Error(), "("+c.code+")") {
			t.Errorf("aws %s: %v, want an error naming (%s)", strings.Join(c.args, " "), err, c.code)
		}
	}
	if status, _ := p.plainGet(t, "/latest/meta-data/instance-id"); status != 200 {
		t.Errorf("refused and dry-run calls changed the data plane: token-less GET %d", status)
	}

	var full struct {
		Reservations []struct {
			ReservationId string
			OwnerId       string
			Instances     []struct {
				InstanceId, PrivateIpAddress, PublicIpAddress string
				State                                         struct{ Name string }
				NetworkInterfaces                             []struct{ MacAddress string }
				Tags                                          []struct{ Key, Value string }
			}
		}
	}
	awsCLI(t, p, &full, "ec2", "describe-instances")
	if len(full.Reservations) != 1 || len(full.Reservations[0].Instances) != 1 {
		t.Fatalf("describe-instances = %+v", full)
	}
	in := full.Reservations[0].Instances[0]
	if in.InstanceId != instanceID || in.State.Name != "running" || in.PublicIpAddress != "203.0.113.25" ||
		len(in.NetworkInterfaces) != 1 || len(in.Tags) != 2 {
		t.Errorf("describe-instances instance = %+v", in)
	}
	table := run(t, env, aws, "ec2", "describe-instances", "--endpoint-url", p.ControlURL, "--output", "table")
	if !strings.Contains(string(table), instanceID) {
		t.Errorf("table output lacks the instance id:\n%s", table)
	}
}
