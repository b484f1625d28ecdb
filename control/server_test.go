package control

import (
	"bytes"
	"context"
	"io"
	"log/slog"
	"net/http"
	"regexp"
	"strings"
	"sync"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/ec2"
)

// Ensure a successful answer is XML in EC2's namespace with a request id,
// and an error has EC2's shape, as the SDKs' parsers expect.
func TestServer_ResponseShape(t *testing.T) {
	h := newHarness(t)
	for _, tt := range []struct {
		name, body, pattern string
		status              int
	}{
		{"success", describeBody,
			`^<\?xml version="1.0" encoding="UTF-8"\?>\s*<DescribeInstancesResponse xmlns="http://ec2.amazonaws.com/doc/2016-11-15/"><requestId>[0-9a-f-]{36}</requestId><reservationSet><item>`, 200},
		{"error", "Action=DescribeInstances&Version=2016-11-15&InstanceId.1=i-0000000000000000f",
			`^<\?xml version="1.0" encoding="UTF-8"\?>\s*<Response><Errors><Error><Code>InvalidInstanceID.NotFound</Code><Message>The instance ID (?:'|&#39;)i-0000000000000000f(?:'|&#39;) does not exist</Message></Error></Errors><RequestID>[0-9a-f-]{36}</RequestID></Response>$`, 400},
	} {
		t.Run(tt.name, func(t *testing.T) {
			req, err := http.NewRequest(http.MethodPost, h.url+"/", strings.NewReader(tt.body))
			if err != nil {
				t.Fatal(err)
			}
			req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
			signRequest(t, req, []byte(tt.body), rawCall{})
			resp, err := http.DefaultClient.Do(req)
			if err != nil {
				t.Fatal(err)
			}
			body, _ := io.ReadAll(resp.Body)
			resp.Body.Close()
			if resp.StatusCode != tt.status || resp.Header.Get("Content-Type") != "text/xml;charset=UTF-8" {
				t.Errorf("status %d, Content-Type %q", resp.StatusCode, resp.Header.Get("Content-Type"))
			}
			if !regexp.MustCompile(tt.pattern).Match(body) {
				t.Errorf("body does not match %s:\n%s", tt.pattern, body)
			}
		})
	}
}

// Ensure neither the secret nor the signature reaches the logs, whatever
// the outcome, while refusals and changes are logged.
func TestServer_LogsNoSecrets(t *testing.T) {
	var buf bytes.Buffer
	h := newHarness(t)
	h.server.log = slog.New(slog.NewTextHandler(&buf, &slog.HandlerOptions{Level: slog.LevelDebug}))
	h.send(rawCall{body: "Action=ModifyInstanceMetadataOptions&Version=2016-11-15&InstanceId=" + testID + "&HttpTokens=required"})
	h.send(rawCall{body: describeBody, secret: "wrong"})
	h.send(rawCall{body: describeBody, tamper: func(r *http.Request) { r.Header.Set("X-Amz-Date", "bad") }})
	logs := buf.String()
	if !strings.Contains(logs, "metadata options changed") || !strings.Contains(logs, "SignatureDoesNotMatch") {
		t.Errorf("logs lack the change or the refusal:\n%s", logs)
	}
	for _, secret := range []string{testSecret, "wrong", "Signature="} {
		if strings.Contains(logs, secret) {
			t.Errorf("logs contain %q:\n%s", secret, logs)
		}
	}
}

// Ensure concurrent changes reach the data plane in the order the store
// took them, so the last version applied is the stored one.
func TestServer_ConcurrentChangesApplyInOrder(t *testing.T) {
	h := newHarness(t)
	var wg sync.WaitGroup
	for i := range 16 {
		wg.Go(func() {
			_, err := h.client.ModifyInstanceMetadataOptions(context.Background(), &ec2.ModifyInstanceMetadataOptionsInput{
				InstanceId: aws.String(testID), HttpPutResponseHopLimit: aws.Int32(int32(i + 1)),
			})
			if err != nil {
				t.Errorf("modify: %v", err)
			}
		})
	}
	wg.Wait()
	if got, want := h.lastApplied().Options.HTTPPutHopLimit, h.instance(testID).Options.HTTPPutHopLimit; got != want {
		t.Errorf("last applied hop limit %d, stored %d", got, want)
	}
}
