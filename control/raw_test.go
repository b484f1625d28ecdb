package control

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/xml"
	"io"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	v4 "github.com/aws/aws-sdk-go-v2/aws/signer/v4"
)

// rawCall is one hand-built request to the control plane.
type rawCall struct {
	method      string
	query       string // raw query string
	body        string // raw form body, POST only
	keyID       string // default testKeyID
	secret      string // default testSecret
	at          time.Time
	service     string // default ec2
	unsigned    bool
	contentType string                // default form encoding
	tamper      func(r *http.Request) // runs after signing
}

// send signs and sends c, and returns the status and the EC2 error code of
// the answer ("" for success).
func (h *harness) send(c rawCall) (int, string) {
	h.t.Helper()
	if c.method == "" {
		c.method = http.MethodPost
	}
	u := h.url + "/"
	if c.query != "" {
		u += "?" + c.query
	}
	req, err := http.NewRequest(c.method, u, strings.NewReader(c.body))
	if err != nil {
		h.t.Fatal(err)
	}
	if c.contentType != "" {
		req.Header.Set("Content-Type", c.contentType)
	} else if c.method == http.MethodPost {
		req.Header.Set("Content-Type", "application/x-www-form-urlencoded; charset=utf-8")
	}
	if !c.unsigned {
		signRequest(h.t, req, []byte(c.body), c)
	}
	if c.tamper != nil {
		c.tamper(req)
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		h.t.Fatal(err)
	}
	defer resp.Body.Close()
	body, _ := io.ReadAll(resp.Body)
	if resp.StatusCode == http.StatusOK {
		return resp.StatusCode, ""
	}
	var doc errorDoc
	if err := xml.Unmarshal(body, &doc); err != nil || len(doc.Errors) != 1 || doc.RequestID == "" {
		h.t.Fatalf("error body is not EC2's shape: %q", body)
	}
	return resp.StatusCode, doc.Errors[0].Code
}

func signRequest(t testing.TB, req *http.Request, body []byte, c rawCall) {
	t.Helper()
	keyID, secret, service, at := c.keyID, c.secret, c.service, c.at
	if keyID == "" {
		keyID = testKeyID
	}
	if secret == "" {
		secret = testSecret
	}
	if service == "" {
		service = "ec2"
	}
	if at.IsZero() {
		at = time.Now()
	}
	sum := sha256.Sum256(body)
	creds := aws.Credentials{AccessKeyID: keyID, SecretAccessKey: secret}
	if err := v4.NewSigner().SignHTTP(context.Background(), creds, req, hex.EncodeToString(sum[:]), service, "eu-west-1", at); err != nil {
		t.Fatal(err)
	}
}

const describeBody = "Action=DescribeInstances&Version=2016-11-15"

// Ensure every kind of bad authentication is refused with EC2's code and
// status, and a good signature on GET and POST is accepted.
func TestServer_Authentication(t *testing.T) {
	h := newHarness(t)
	tests := []struct {
		name   string
		call   rawCall
		status int
		code   string
	}{
		{"signed POST", rawCall{body: describeBody}, 200, ""},
		{"signed GET", rawCall{method: "GET", query: describeBody}, 200, ""},
		{"unsigned", rawCall{body: describeBody, unsigned: true}, 403, "MissingAuthenticationToken"},
		{"unknown key", rawCall{body: describeBody, keyID: "AKIAUNKNOWNUNKNOWN00"}, 401, "AuthFailure"},
		{"wrong secret", rawCall{body: describeBody, secret: "not-the-secret"}, 403, "SignatureDoesNotMatch"},
		{"tampered body", rawCall{body: describeBody, tamper: func(r *http.Request) {
			r.Body = io.NopCloser(strings.NewReader("Action=DescribeInstances&Version=2016-11-16"))
		}}, 403, "SignatureDoesNotMatch"},
		{"tampered query", rawCall{method: "GET", query: describeBody, tamper: func(r *http.Request) {
			r.URL.RawQuery += "&DryRun=true"
		}}, 403, "SignatureDoesNotMatch"},
		{"tampered signed header", rawCall{body: describeBody, tamper: func(r *http.Request) {
			r.Header.Set("Content-Type", "application/x-www-form-urlencoded")
		}}, 403, "SignatureDoesNotMatch"},
		{"six minutes old", rawCall{body: describeBody, at: time.Now().Add(-6 * time.Minute)}, 400, "RequestExpired"},
		{"six minutes ahead", rawCall{body: describeBody, at: time.Now().Add(6 * time.Minute)}, 400, "RequestExpired"},
		{"four minutes old", rawCall{body: describeBody, at: time.Now().Add(-4 * time.Minute)}, 200, ""},
		{"other service", rawCall{body: describeBody, service: "s3"}, 403, "SignatureDoesNotMatch"},
		{"algorithm", rawCall{body: describeBody, tamper: func(r *http.Request) {
			r.Header.Set("Authorization", strings.Replace(r.Header.Get("Authorization"), "AWS4-HMAC-SHA256", "AWS4-HMAC-SHA1", 1))
		}}, 400, "IncompleteSignature"},
		{"no signature", rawCall{body: describeBody, tamper: func(r *http.Request) {
			a := r.Header.Get("Authorization")
			r.Header.Set("Authorization", a[:strings.Index(a, ", Signature=")])
		}}, 400, "IncompleteSignature"},
		{"short scope", rawCall{body: describeBody, tamper: func(r *http.Request) {
			r.Header.Set("Authorization", strings.Replace(r.Header.Get("Authorization"), "/aws4_request", "", 1))
		}}, 400, "IncompleteSignature"},
		{"no date", rawCall{body: describeBody, tamper: func(r *http.Request) { r.Header.Del("X-Amz-Date") }}, 400, "IncompleteSignature"},
		{"bad date", rawCall{body: describeBody, tamper: func(r *http.Request) { r.Header.Set("X-Amz-Date", "yesterday") }}, 400, "IncompleteSignature"},
		{"two authorizations", rawCall{body: describeBody, tamper: func(r *http.Request) {
			r.Header.Add("Authorization", r.Header.Get("Authorization"))
		}}, 400, "IncompleteSignature"},
		{"session token", rawCall{body: describeBody, tamper: func(r *http.Request) { r.Header.Set("X-Amz-Security-Token", "x") }}, 401, "AuthFailure"},
		{"presign without signature", rawCall{method: "GET", query: describeBody + "&X-Amz-Algorithm=AWS4-HMAC-SHA256", unsigned: true}, 400, "IncompleteSignature"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			status, code := h.send(tt.call)
			if status != tt.status || code != tt.code {
				t.Errorf("answer %d %q, want %d %q", status, code, tt.status, tt.code)
			}
		})
	}
}

// Ensure bad input gets an EC2 error with a 4xx status, never a 500.
func TestServer_BadInput(t *testing.T) {
	h := newHarness(t)
	modify := "Action=ModifyInstanceMetadataOptions&Version=2016-11-15&InstanceId=" + testID
	tests := []struct {
		name   string
		call   rawCall
		status int
		code   string
	}{
		{"no action", rawCall{body: "Version=2016-11-15"}, 400, "MissingParameter"},
		{"unknown action", rawCall{body: "Action=Frobnicate&Version=2016-11-15"}, 400, "InvalidAction"},
		{"unimplemented action", rawCall{body: "Action=StopInstances&Version=2016-11-15"}, 400, "UnsupportedOperation"},
		{"no version", rawCall{body: "Action=DescribeInstances"}, 400, "MissingParameter"},
		{"old version", rawCall{body: "Action=DescribeInstances&Version=2014-10-01"}, 400, "NoSuchVersion"},
		{"repeated parameter", rawCall{body: modify + "&HttpTokens=required&HttpTokens=optional"}, 400, "InvalidParameterValue"},
		{"repeated across query and body", rawCall{query: "Action=DescribeInstances", body: describeBody}, 400, "InvalidParameterValue"},
		{"unknown parameter", rawCall{body: modify + "&HttpColour=blue"}, 400, "UnknownParameter"},
		{"lowercase parameter", rawCall{body: modify + "&httptokens=required"}, 400, "UnknownParameter"},
		{"missing instance id", rawCall{body: "Action=ModifyInstanceMetadataOptions&Version=2016-11-15&HttpTokens=required"}, 400, "MissingParameter"},
		{"hop limit not a number", rawCall{body: modify + "&HttpPutResponseHopLimit=two"}, 400, "InvalidParameterValue"},
		{"hop limit huge", rawCall{body: modify + "&HttpPutResponseHopLimit=99999999999999999999"}, 400, "InvalidParameterValue"},
		{"dry run not a bool", rawCall{body: modify + "&DryRun=maybe"}, 400, "InvalidParameterValue"},
		{"bad escape", rawCall{body: describeBody + "&Filter.1.Name=%zz"}, 400, "MalformedQueryString"},
		{"not utf-8", rawCall{body: describeBody + "&Filter.1.Name=%ff"}, 400, "MalformedQueryString"},
		{"index zero", rawCall{body: describeBody + "&InstanceId.0=" + testID}, 400, "UnknownParameter"},
		{"leading zero index", rawCall{body: describeBody + "&InstanceId.01=" + testID}, 400, "UnknownParameter"},
		{"max results with ids", rawCall{body: describeBody + "&MaxResults=5&InstanceId.1=" + testID}, 400, "InvalidParameterCombination"},
		{"max results too small", rawCall{body: describeBody + "&MaxResults=4"}, 400, "InvalidParameterValue"},
		{"bad next token", rawCall{body: describeBody + "&NextToken=xyz"}, 400, "InvalidParameterValue"},
		{"filter without values", rawCall{body: describeBody + "&Filter.1.Name=instance-id"}, 400, "InvalidParameterValue"},
		{"json body", rawCall{body: `{"Action":"DescribeInstances"}`, contentType: "application/json"}, 400, "InvalidParameterValue"},
		{"tag without key", rawCall{body: "Action=CreateTags&Version=2016-11-15&ResourceId.1=" + testID + "&Tag.1.Value=x"}, 400, "MissingParameter"},
		{"tag key too long", rawCall{body: "Action=CreateTags&Version=2016-11-15&ResourceId.1=" + testID + "&Tag.1.Key=" + strings.Repeat("k", 129)}, 400, "InvalidParameterValue"},
		{"tag bad resource", rawCall{body: "Action=CreateTags&Version=2016-11-15&ResourceId.1=nonsense&Tag.1.Key=a"}, 400, "InvalidID"},
		{"tags dry run", rawCall{body: "Action=CreateTags&Version=2016-11-15&ResourceId.1=" + testID + "&Tag.1.Key=a&DryRun=true"}, 412, "DryRunOperation"},
		{"method", rawCall{method: "PUT", body: describeBody}, 400, "UnsupportedOperation"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			status, code := h.send(tt.call)
			if status != tt.status || code != tt.code {
				t.Errorf("answer %d %q, want %d %q", status, code, tt.status, tt.code)
			}
		})
	}
	if h.lastApplied() != nil {
		t.Errorf("a refused call reached the data plane: %+v", h.lastApplied())
	}
}

// Ensure a body over the cap is refused before it is read in full.
func TestServer_BodyCap(t *testing.T) {
	h := newHarness(t)
	big := describeBody + "&Filter.1.Name=instance-id&Filter.1.Value.1=" + strings.Repeat("x", DefaultMaxBody)
	status, code := h.send(rawCall{body: big})
	if status != http.StatusRequestEntityTooLarge || code != "RequestEntityTooLarge" {
		t.Errorf("answer %d %q, want 413 RequestEntityTooLarge", status, code)
	}
	status, code = h.send(rawCall{body: describeBody, tamper: func(r *http.Request) {
		r.Header.Set("Content-Type", "application/json")
	}})
	if status != 403 || code != "SignatureDoesNotMatch" {
		t.Errorf("changed content type: %d %q", status, code)
	}
}
