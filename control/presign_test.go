package control

import (
	"context"
	"io"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	v4 "github.com/aws/aws-sdk-go-v2/aws/signer/v4"
)

// presign returns a presigned GET URL for query, signed at at and valid for
// expires (none when zero).
func presign(t testing.TB, base, query string, at time.Time, expires time.Duration, secret string) string {
	t.Helper()
	u := base + "/?" + query
	if expires > 0 {
		u += "&X-Amz-Expires=" + strconv.Itoa(int(expires/time.Second))
	}
	req, err := http.NewRequest(http.MethodGet, u, nil)
	if err != nil {
		t.Fatal(err)
	}
	creds := aws.Credentials{AccessKeyID: testKeyID, SecretAccessKey: secret}
	signed, _, err := v4.NewSigner().PresignHTTP(context.Background(), creds, req, payloadHash(nil), "ec2", "us-west-2", at)
	if err != nil {
		t.Fatal(err)
	}
	return signed
}

// Ensure presigned GET URLs are accepted while valid and refused when
// expired, tampered with or signed with another secret.
func TestServer_Presigned(t *testing.T) {
	h := newHarness(t)
	now := time.Now()
	tests := []struct {
		name   string
		url    func() string
		status int
		code   string
	}{
		{"valid", func() string { return presign(t, h.url, describeBody, now, 0, testSecret) }, 200, ""},
		{"valid for an hour, signed 30 minutes ago", func() string {
			return presign(t, h.url, describeBody, now.Add(-30*time.Minute), time.Hour, testSecret)
		}, 200, ""},
		{"expired", func() string {
			return presign(t, h.url, describeBody, now.Add(-10*time.Minute), 5*time.Minute, testSecret)
		}, 400, "RequestExpired"},
		{"signed in the future", func() string { return presign(t, h.url, describeBody, now.Add(10*time.Minute), time.Hour, testSecret) }, 400, "RequestExpired"},
		{"wrong secret", func() string { return presign(t, h.url, describeBody, now, 0, "other") }, 403, "SignatureDoesNotMatch"},
		{"tampered", func() string {
			return strings.Replace(presign(t, h.url, describeBody, now, 0, testSecret), "DescribeInstances", "DescribeTags", 1)
		}, 403, "SignatureDoesNotMatch"},
		{"parameter added", func() string { return presign(t, h.url, describeBody, now, 0, testSecret) + "&DryRun=true" }, 403, "SignatureDoesNotMatch"},
		{"expires too long", func() string { return presign(t, h.url, describeBody, now, 8*24*time.Hour, testSecret) }, 400, "IncompleteSignature"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			u := tt.url()
			if pu, err := url.Parse(u); err != nil || pu.Hostname() != "127.0.0.1" {
				t.Fatalf("presigned URL %q is not on loopback", u)
			}
			resp, err := http.Get(u)
			if err != nil {
				t.Fatal(err)
			}
			body, _ := io.ReadAll(resp.Body)
			resp.Body.Close()
			code := ""
			if resp.StatusCode != 200 {
				code = between(string(body), "<Code>", "</Code>")
			}
			if resp.StatusCode != tt.status || code != tt.code {
				t.Errorf("answer %d %q, want %d %q: %s", resp.StatusCode, code, tt.status, tt.code, body)
			}
		})
	}
}

func between(s, open, close string) string {
	_, rest, _ := strings.Cut(s, open)
	v, _, _ := strings.Cut(rest, close)
	return v
}
