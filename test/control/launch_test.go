package control_test

import (
	"context"
	"io"
	"log/slog"
	"net"
	"net/http"
	"path/filepath"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/ec2"
	"github.com/aws/aws-sdk-go-v2/service/ec2/types"

	"github.com/imds-dev/imds"
	"github.com/imds-dev/imds/config"
	"github.com/imds-dev/imds/control"
	"github.com/imds-dev/imds/dataplane"
	"github.com/imds-dev/imds/fleet"
	"github.com/imds-dev/imds/store/mem"
	"github.com/imds-dev/imds/token"
	"github.com/imds-dev/imds/tree"
)

const launchImage = "ami-0fedcba9876543210"

// startFleetPair is startPair with a fleet that attributes requests by
// source address, as a platform's metadata service does: the built-in
// instance owns 172.31.1.2 only, so loopback callers are unknown until an
// instance is launched at their address.
func startFleetPair(t testing.TB) *pair {
	t.Helper()
	ctx := context.Background()
	store := mem.New()
	if err := store.Put(ctx, config.DefaultInstance(time.Now())); err != nil {
		t.Fatal(err)
	}
	f := fleet.New(fleet.BySource, func(in *imds.Instance, now time.Time) *tree.Tree {
		return tree.Build(in, tree.Options{}, now)
	})
	followCtx, stop := context.WithCancel(ctx)
	t.Cleanup(stop)
	if err := f.Follow(followCtx, store, slog.New(slog.DiscardHandler)); err != nil {
		t.Fatal(err)
	}
	ring, err := token.NewKeyRing(time.Now())
	if err != nil {
		t.Fatal(err)
	}
	data := dataplane.HTTPServer(dataplane.New(dataplane.Config{Directory: f, Tokens: token.NewAuthority(ring, nil)}), nil)

	credsFile := filepath.Join(t.TempDir(), control.CredentialsFileName)
	keys, _, err := control.EnsureCredentials(credsFile)
	if err != nil {
		t.Fatal(err)
	}
	ctl := &http.Server{Handler: control.New(control.Config{Store: store, Apply: f.Apply, Keys: keys})}
	p := &pair{DataURL: serve(t, data), ControlURL: serve(t, ctl), CredsFile: credsFile, Store: store, Fleet: f}
	for id, secret := range keys {
		p.KeyID, p.Secret = id, secret
	}
	return p
}

// getFrom sends one request to the data plane from the loopback address
// src (Linux routes all of 127/8 to lo), as the VM at that address would,
// and returns the status and body.
func getFrom(t testing.TB, p *pair, src, method, path string, header http.Header) (int, string) {
	t.Helper()
	if err := checkLoopback("http://" + src); err != nil {
		t.Fatal(err)
	}
	dialer := &net.Dialer{LocalAddr: &net.TCPAddr{IP: net.ParseIP(src)}, Timeout: 5 * time.Second}
	client := &http.Client{Transport: &http.Transport{DialContext: dialer.DialContext, DisableKeepAlives: true, Proxy: nil}}
	req, err := http.NewRequest(method, p.DataURL+path, nil)
	if err != nil {
		t.Fatal(err)
	}
	for k, v := range header {
		req.Header[k] = v
	}
	resp, err := client.Do(req)
	if err != nil {
		t.Fatalf("%s %s from %s: %v", method, path, src, err)
	}
	defer resp.Body.Close()
	body, _ := io.ReadAll(resp.Body)
	return resp.StatusCode, string(body)
}

// tokenFrom fetches an IMDSv2 token from src.
func tokenFrom(t testing.TB, p *pair, src string) string {
	t.Helper()
	status, tok := getFrom(t, p, src, http.MethodPut, dataplane.TokenPath,
		http.Header{"X-Aws-Ec2-Metadata-Token-Ttl-Seconds": {"60"}})
	if status != http.StatusOK || tok == "" {
		t.Fatalf("token PUT from %s: %d %q", src, status, tok)
	}
	return tok
}

// Ensure an instance launched with aws-sdk-go-v2 at 127.0.0.21 is served to
// requests from that address as soon as RunInstances answers, and stops
// being served once TerminateInstances answers.
func TestGoSDK_RunAndTerminate(t *testing.T) {
	p := startFleetPair(t)
	c := ec2Client(t, p)
	ctx := context.Background()
	const src = "127.0.0.21"
	if status, _ := getFrom(t, p, src, http.MethodGet, "/latest/meta-data/instance-id", nil); status != http.StatusForbidden {
		t.Fatalf("GET from %s before the launch: %d, want 403", src, status)
	}

	run, err := c.RunInstances(ctx, &ec2.RunInstancesInput{
		ImageId: aws.String(launchImage), MinCount: aws.Int32(1), MaxCount: aws.Int32(1),
		PrivateIpAddress: aws.String(src),
		TagSpecifications: []types.TagSpecification{{ResourceType: types.ResourceTypeInstance,
			Tags: []types.Tag{{Key: aws.String("Name"), Value: aws.String("vm-21")}}}},
		MetadataOptions: &types.InstanceMetadataOptionsRequest{InstanceMetadataTags: types.InstanceMetadataTagsStateEnabled},
	})
	if err != nil {
		t.Fatalf("RunInstances: %v", err)
	}
	id := aws.ToString(run.Instances[0].InstanceId)
	checks := []struct{ path, want string }{
		{"/latest/meta-data/instance-id", id},
		{"/latest/meta-data/local-ipv4", src},
		{"/latest/meta-data/ami-id", launchImage},
		{"/latest/meta-data/tags/instance/Name", "vm-21"},
	}
	for _, ch := range checks {
		if status, body := getFrom(t, p, src, http.MethodGet, ch.path, nil); status != http.StatusOK || body != ch.want {
			t.Errorf("GET %s from %s after the launch: %d %q, want 200 %q", ch.path, src, status, body, ch.want)
		}
	}

	if _, err := c.TerminateInstances(ctx, &ec2.TerminateInstancesInput{InstanceIds: []string{id}}); err != nil {
		t.Fatalf("TerminateInstances: %v", err)
	}
	if status, body := getFrom(t, p, src, http.MethodGet, "/latest/meta-data/instance-id", nil); status != http.StatusForbidden {
		t.Errorf("GET from %s after terminating: %d %q, want 403 (unknown source)", src, status, body)
	}
	if in, err := p.Store.Get(ctx, id); err != nil || in.State != "terminated" {
		t.Errorf("stored instance after terminating: %v, %v; want it kept as terminated", in, err)
	}
}

type cliInstance struct {
	InstanceId       string
	PrivateIpAddress string
	State            struct {
		Code int
		Name string
	}
	MetadataOptions metadataOptions
}

type cliStateChange struct {
	InstanceId                  string
	CurrentState, PreviousState struct {
		Code int
		Name string
	}
}

// Ensure the AWS CLI's run-instances and terminate-instances parse imds's
// answers, and what they do reaches the data plane before they return.
func TestAWSCLI_RunAndTerminate(t *testing.T) {
	p := startFleetPair(t)
	const src = "127.0.0.22"
	var run struct {
		ReservationId string
		OwnerId       string
		Instances     []cliInstance
	}
	awsCLI(t, p, &run, "ec2", "run-instances", "--image-id", launchImage, "--count", "1",
		"--private-ip-address", src, "--metadata-options", "HttpTokens=required")
	if len(run.Instances) != 1 || run.ReservationId == "" || run.OwnerId != "123456789012" {
		t.Fatalf("run-instances output = %+v", run)
	}
	got := run.Instances[0]
	if got.PrivateIpAddress != src || got.State.Name != "pending" || got.MetadataOptions.HttpTokens != "required" {
		t.Errorf("run-instances instance = %+v", got)
	}

	if status, _ := getFrom(t, p, src, http.MethodGet, "/latest/meta-data/instance-id", nil); status != http.StatusUnauthorized {
		t.Errorf("token-less GET from %s with tokens required: %d, want 401", src, status)
	}
	tok := tokenFrom(t, p, src)
	hdr := http.Header{"X-Aws-Ec2-Metadata-Token": {tok}}
	if status, body := getFrom(t, p, src, http.MethodGet, "/latest/meta-data/instance-id", hdr); status != http.StatusOK || body != got.InstanceId {
		t.Errorf("GET from %s with a token: %d %q, want 200 %s", src, status, body, got.InstanceId)
	}

	var term struct{ TerminatingInstances []cliStateChange }
	awsCLI(t, p, &term, "ec2", "terminate-instances", "--instance-ids", got.InstanceId)
	if len(term.TerminatingInstances) != 1 {
		t.Fatalf("terminate-instances output = %+v", term)
	}
	if ch := term.TerminatingInstances[0]; ch.InstanceId != got.InstanceId || ch.CurrentState.Code != 32 || ch.PreviousState.Name != "running" {
		t.Errorf("terminate-instances state change = %+v, want running → shutting-down (32)", ch)
	}
	if status, _ := getFrom(t, p, src, http.MethodGet, "/latest/meta-data/instance-id", hdr); status != http.StatusForbidden {
		t.Errorf("GET from %s after terminate-instances: %d, want 403", src, status)
	}

	var states []string
	awsCLI(t, p, &states, "ec2", "describe-instances", "--instance-ids", got.InstanceId,
		"--query", "Reservations[].Instances[].State.Name")
	if len(states) != 1 || states[0] != "terminated" {
		t.Errorf("describe-instances state = %v, want terminated", states)
	}
}
