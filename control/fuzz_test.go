package control

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"testing"
	"time"
	"unicode/utf8"

	"github.com/aws/aws-sdk-go-v2/aws"
	v4 "github.com/aws/aws-sdk-go-v2/aws/signer/v4"

	"github.com/imds-dev/imds/config"
	"github.com/imds-dev/imds/store/mem"
)

var querySeeds = []string{
	"",
	"Action=DescribeInstances&Version=2016-11-15",
	"Action=ModifyInstanceMetadataOptions&Version=2016-11-15&InstanceId=i-0123456789abcdef0&HttpTokens=required",
	"Filter.1.Name=tag%3AName&Filter.1.Value.1=web*&Filter.1.Value.2=a%5C*b",
	"a=1&&b=2&",
	"a=%zz",
	"a=%ff%fe",
	"=x",
	"a=1&a=2",
	"Tag.1.Key=+space+&Tag.1.Value=%E2%82%AC",
	"InstanceId.0=x&InstanceId.01=y&InstanceId.100001=z",
}

// Ensure the query parser never panics, refuses rather than guesses, and
// keeps only names and values that survive a round trip unchanged.
func FuzzParseQuery(f *testing.F) {
	for _, s := range querySeeds {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		p := params{}
		if err := parseQuery(s, p); err != nil {
			if err.Code != codeMalformedQuery && err.Code != codeInvalidValue {
				t.Fatalf("parseQuery(%q) code %q", s, err.Code)
			}
			return
		}
		enc := url.Values{}
		for k, v := range p {
			if !printableName(k) || !utf8.ValidString(v) {
				t.Fatalf("parseQuery(%q) kept %q=%q", s, k, v)
			}
			enc.Set(k, v)
		}
		again := params{}
		if err := parseQuery(enc.Encode(), again); err != nil || len(again) != len(p) {
			t.Fatalf("round trip of %q: %v, %d params, want %d", s, err, len(again), len(p))
		}
		for k, v := range p {
			if again[k] != v {
				t.Fatalf("round trip of %q changed %q: %q to %q", s, k, v, again[k])
			}
		}
		// The list readers must accept whatever the parser kept.
		p.list("InstanceId")
		for _, g := range p.groups("Filter") {
			g.Fields.list("Value")
		}
	})
}

// Ensure no correctly signed body, whatever it holds, gets a 5xx answer or
// panics the handler.
func FuzzServer_SignedBody(f *testing.F) {
	for _, s := range querySeeds {
		f.Add(s)
	}
	f.Add(describeBody + "&MaxResults=5&NextToken=aW1kczE6aS0w")
	f.Add("Action=CreateTags&Version=2016-11-15&ResourceId.1=i-0123456789abcdef0&Tag.1.Key=a&Tag.1.Value=b")
	f.Add("Action=DeleteTags&Version=2016-11-15&ResourceId.1=i-0123456789abcdef0")
	f.Add("Action=DescribeTags&Version=2016-11-15&Filter.1.Name=key&Filter.1.Value.1=*")
	f.Add("Action=ModifyInstanceMetadataDefaults&Version=2016-11-15&HttpPutResponseHopLimit=-1")

	store := mem.New()
	store.Put(context.Background(), config.DefaultInstance(time.Now()))
	srv := New(Config{Store: store, Keys: map[string]string{testKeyID: testSecret}})
	signer := v4.NewSigner()
	creds := aws.Credentials{AccessKeyID: testKeyID, SecretAccessKey: testSecret}

	f.Fuzz(func(t *testing.T, body string) {
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
		if w.Code == http.StatusForbidden {
			t.Fatalf("body %q: a correct signature was refused: %s", body, w.Body)
		}
	})
}
