package clients_test

import (
	"context"
	"io"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/credentials/ec2rolecreds"
	"github.com/aws/aws-sdk-go-v2/feature/ec2/imds"
)

// newGoClient returns an aws-sdk-go-v2 IMDS client aimed at s. The endpoint
// is set explicitly, so the process environment plays no part.
func newGoClient(t testing.TB, s *imdsServer, fallback aws.Ternary) *imds.Client {
	t.Helper()
	requireLoopback(t, s.URL)
	return imds.New(imds.Options{
		Endpoint:          s.URL,
		ClientEnableState: imds.ClientEnabled,
		EnableFallback:    fallback,
	})
}

// Ensure aws-sdk-go-v2's IMDS client reads every value it has an operation
// for, with tokens optional or required and with IMDSv1 fallback disabled,
// and always over IMDSv2.
func TestGoSDK_Client(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name     string
		config   string
		fallback aws.Ternary
	}{
		{"optional", "", aws.UnknownTernary},
		{"required", tokensRequired, aws.UnknownTernary},
		{"required/no v1 fallback", tokensRequired, aws.FalseTernary},
		{"optional/no v1 fallback", "", aws.FalseTernary},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			s := startIMDS(t, serveOptions{config: tt.config})
			c := newGoClient(t, s, tt.fallback)
			ctx := context.Background()
			mark := s.mark()

			md, err := c.GetMetadata(ctx, &imds.GetMetadataInput{Path: "instance-id"})
			if err != nil {
				t.Fatalf("GetMetadata(instance-id): %v", err)
			}
			id := readAll(t, md.Content)
			if id != "i-0123456789abcdef0" {
				t.Errorf("GetMetadata(instance-id) = %q, want i-0123456789abcdef0", id)
			}

			region, err := c.GetRegion(ctx, nil)
			if err != nil {
				t.Fatalf("GetRegion: %v", err)
			}
			if region.Region != "us-east-1" {
				t.Errorf("GetRegion = %q, want us-east-1", region.Region)
			}

			doc, err := c.GetInstanceIdentityDocument(ctx, nil)
			if err != nil {
				t.Fatalf("GetInstanceIdentityDocument: %v", err)
			}
			if doc.InstanceID != id || doc.Region != "us-east-1" || doc.AvailabilityZone != "us-east-1a" ||
				doc.AccountID != "123456789012" || doc.InstanceType != "m5.large" {
				t.Errorf("GetInstanceIdentityDocument = %+v, want i-0123456789abcdef0 in us-east-1a, account 123456789012, m5.large",
					doc.InstanceIdentityDocument)
			}

			ud, err := c.GetUserData(ctx, nil)
			if err != nil {
				t.Fatalf("GetUserData: %v", err)
			}
			if got := readAll(t, ud.Content); got != "#!/bin/sh\necho hi\n" {
				t.Errorf("GetUserData = %q, want %q", got, "#!/bin/sh\necho hi\n")
			}

			info, err := c.GetIAMInfo(ctx, nil)
			if err != nil {
				t.Fatalf("GetIAMInfo: %v", err)
			}
			if info.Code != "Success" || !strings.HasSuffix(info.InstanceProfileArn, ":instance-profile/app-role") ||
				info.InstanceProfileID == "" || info.LastUpdated.IsZero() {
				t.Errorf("GetIAMInfo = %+v, want Success for instance profile app-role", info.IAMInfo)
			}

			// One token, and every GET presents it.
			got := s.accessSince(mark)
			want := []accessEntry{{Method: "PUT", Path: "/latest/api/token", Status: 200}}
			for _, p := range []string{
				"/latest/meta-data/instance-id",
				"/latest/dynamic/instance-identity/document",
				"/latest/dynamic/instance-identity/document",
				"/latest/user-data",
				"/latest/meta-data/iam/info",
			} {
				want = append(want, accessEntry{Method: "GET", Path: p, Status: 200, Token: true})
			}
			if !sameRequests(got, want) {
				t.Errorf("requests = %v, want %v", got, want)
			}
		})
	}
}

// Ensure a token the server no longer accepts costs aws-sdk-go-v2 exactly
// one 401: it drops the token, fetches a new one and retries. The old token
// dies with the server that signed it; a new server on the same port has a
// new key. Not parallel: no other test may take the port in between.
func TestGoSDK_TokenRefused(t *testing.T) {
	for _, mode := range []struct{ name, config string }{
		{"optional", ""},
		{"required", tokensRequired},
	} {
		t.Run(mode.name, func(t *testing.T) {
			first := startIMDS(t, serveOptions{config: mode.config})
			c := newGoClient(t, first, aws.FalseTernary)
			ctx := context.Background()
			if _, err := c.GetMetadata(ctx, &imds.GetMetadataInput{Path: "instance-id"}); err != nil {
				t.Fatalf("GetMetadata before restart: %v", err)
			}
			first.stop(t)

			second := startIMDS(t, serveOptions{config: mode.config, port: first.Port})
			mark := second.mark()
			md, err := c.GetMetadata(ctx, &imds.GetMetadataInput{Path: "instance-id"})
			if err != nil {
				t.Fatalf("GetMetadata after restart: %v", err)
			}
			if id := readAll(t, md.Content); id != "i-0123456789abcdef0" {
				t.Errorf("GetMetadata after restart = %q, want i-0123456789abcdef0", id)
			}

			got := second.accessSince(mark)
			want := []accessEntry{
				{Method: "GET", Path: "/latest/meta-data/instance-id", Status: 401, Token: true},
				{Method: "PUT", Path: "/latest/api/token", Status: 200},
				{Method: "GET", Path: "/latest/meta-data/instance-id", Status: 200, Token: true},
			}
			if !sameRequests(got, want) {
				t.Errorf("requests after restart = %v, want %v", got, want)
			}
		})
	}
}

// shortCredentials is a required-mode config whose credentials live less
// than an hour, below ec2rolecreds' cap.
const shortCredentials = tokensRequired + `credentials:
  lifetime: 50m
  rotate-every: 40m
`

// Ensure aws-sdk-go-v2's ec2rolecreds provider returns the keys imds serves
// for the role, expiring when the JSON says. The provider caps expiry at one
// hour from now, so for the default 6-hour credentials the cap is what it
// must report, and for 50-minute ones the served Expiration exactly.
func TestGoSDK_RoleCredentials(t *testing.T) {
	t.Parallel()
	for _, mode := range []struct {
		name, config string
		exact        bool // Expiration is under the cap
	}{
		{"optional", "", false},
		{"required", tokensRequired, false},
		{"required/50m credentials", shortCredentials, true},
	} {
		t.Run(mode.name, func(t *testing.T) {
			t.Parallel()
			s := startIMDS(t, serveOptions{config: mode.config})
			p := ec2rolecreds.New(func(o *ec2rolecreds.Options) {
				o.Client = newGoClient(t, s, aws.FalseTernary)
			})
			before := time.Now()
			got, err := p.Retrieve(context.Background())
			after := time.Now()
			if err != nil {
				t.Fatalf("Retrieve: %v", err)
			}
			want := servedCredentials(t, s)

			if !strings.HasPrefix(got.AccessKeyID, "ASIA") || got.AccessKeyID != want.AccessKeyId ||
				got.SecretAccessKey != want.SecretAccessKey || got.SessionToken != want.Token {
				t.Errorf("Retrieve keys = %s / %s, want the served %s", got.AccessKeyID, got.SessionToken, want.AccessKeyId)
			}
			if !got.CanExpire {
				t.Errorf("Retrieve CanExpire = false, want true")
			}
			exp := want.expiration(t)
			if under := exp.Before(before.Add(time.Hour)); under != mode.exact {
				t.Fatalf("served Expiration %v: under the one-hour cap = %v, want %v", exp, under, mode.exact)
			}
			switch {
			case mode.exact:
				if !got.Expires.Equal(exp) {
					t.Errorf("Retrieve Expires = %v, want the served %v", got.Expires, exp)
				}
			case got.Expires.Before(before.Add(time.Hour).Truncate(time.Second)) || got.Expires.After(after.Add(time.Hour)):
				t.Errorf("Retrieve Expires = %v, want the provider's one-hour cap (served %v)", got.Expires, exp)
			}
		})
	}
}

func readAll(t testing.TB, r io.ReadCloser) string {
	t.Helper()
	defer r.Close()
	b, err := io.ReadAll(r)
	if err != nil {
		t.Fatalf("read body: %v", err)
	}
	return string(b)
}

// Ensure the region aws-sdk-go-v2 reads from the identity document agrees
// with placement/region and the zone, Local Zones included (BL-08).
func TestGoSDK_GetRegion(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name, config, region, zone string
	}{
		{"default", "", "us-east-1", "us-east-1a"},
		{"us-west-2", "instance:\n  region: us-west-2\n", "us-west-2", "us-west-2a"},
		{"local zone", "instance:\n  availability-zone: us-west-2-lax-1a\n", "us-west-2", "us-west-2-lax-1a"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			s := startIMDS(t, serveOptions{config: tt.config})
			c := newGoClient(t, s, aws.FalseTernary)
			ctx := context.Background()

			region, err := c.GetRegion(ctx, nil)
			if err != nil {
				t.Fatalf("GetRegion: %v", err)
			}
			if region.Region != tt.region {
				t.Errorf("GetRegion = %q, want %q", region.Region, tt.region)
			}
			for path, want := range map[string]string{
				"placement/region":             tt.region,
				"placement/availability-zone":  tt.zone,
				"placement/availability-zone/": tt.zone,
			} {
				if got := getMetadata(t, c, path); got != want {
					t.Errorf("GetMetadata(%q) = %q, want %q", path, got, want)
				}
			}
		})
	}
}

// Ensure a path answers the same with and without a trailing slash, as
// SDKs build them both ways (BL-16, SPEC.md 2.3).
func TestGoSDK_GetMetadata(t *testing.T) {
	t.Parallel()
	s := startIMDS(t, serveOptions{})
	c := newGoClient(t, s, aws.FalseTernary)
	tests := []struct {
		path, want string // want "" means: same as the path without its slash
	}{
		{"iam/security-credentials", "app-role"},
		{"iam/security-credentials/", "app-role"},
		{"iam/security-credentials/app-role/", ""},
		{"iam/", "info\nsecurity-credentials/"},
		{"iam", "info\nsecurity-credentials/"},
		{"public-keys/0/", "openssh-key"},
		{"instance-id/", "i-0123456789abcdef0"},
	}
	for _, tt := range tests {
		t.Run(tt.path, func(t *testing.T) {
			t.Parallel()
			got := getMetadata(t, c, tt.path)
			want := tt.want
			if want == "" {
				want = getMetadata(t, c, strings.TrimSuffix(tt.path, "/"))
			}
			if got != want {
				t.Errorf("GetMetadata(%q) = %q, want %q", tt.path, got, want)
			}
		})
	}
}

func getMetadata(t testing.TB, c *imds.Client, path string) string {
	t.Helper()
	out, err := c.GetMetadata(context.Background(), &imds.GetMetadataInput{Path: path})
	if err != nil {
		t.Fatalf("GetMetadata(%q): %v", path, err)
	}
	return readAll(t, out.Content)
}
