package control_test

import (
	"context"
	"net/http"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/credentials"
	"github.com/aws/aws-sdk-go-v2/service/ec2"
	"github.com/aws/aws-sdk-go-v2/service/ec2/types"
)

// ec2Client returns aws-sdk-go-v2's EC2 client aimed at the control plane
// with the pair's key; it reads nothing from the environment.
func ec2Client(t testing.TB, p *pair) *ec2.Client {
	t.Helper()
	if err := checkLoopback(p.ControlURL); err != nil {
		t.Fatal(err)
	}
	// The default retryer stays on; see the control package's harness.
	return ec2.New(ec2.Options{
		BaseEndpoint: aws.String(p.ControlURL),
		Region:       "us-east-1",
		Credentials:  credentials.NewStaticCredentialsProvider(p.KeyID, p.Secret, ""),
	})
}

// toggle sets http-tokens to the i-th state of required, optional, ... and
// returns the status a token-less GET must get afterwards.
func toggle(t testing.TB, c *ec2.Client, i int) int {
	t.Helper()
	state, want := types.HttpTokensStateRequired, http.StatusUnauthorized
	if i%2 == 1 {
		state, want = types.HttpTokensStateOptional, http.StatusOK
	}
	_, err := c.ModifyInstanceMetadataOptions(context.Background(), &ec2.ModifyInstanceMetadataOptionsInput{
		InstanceId: aws.String(instanceID), HttpTokens: state,
	})
	if err != nil {
		t.Fatalf("ModifyInstanceMetadataOptions(%s): %v", state, err)
	}
	return want
}

// enforcementLag polls the data plane with token-less GETs until it answers
// want and returns how long that took after the control answer; 0 when the
// first GET already saw the change.
func enforcementLag(t testing.TB, p *pair, want int) time.Duration {
	t.Helper()
	answered := time.Now()
	for polls := 0; ; polls++ {
		if status, _ := p.plainGet(t, "/latest/meta-data/instance-id"); status == want {
			if polls == 0 {
				return 0
			}
			return time.Since(answered)
		}
		if time.Since(answered) > 5*time.Second {
			t.Fatalf("data plane still not answering %d five seconds after the control answer", want)
		}
	}
}

// Ensure a change made with aws-sdk-go-v2's EC2 client is enforced by the
// data plane before the client has its answer, every time.
func TestGoSDK_EnforcedBeforeAnswer(t *testing.T) {
	p := startPair(t)
	c := ec2Client(t, p)
	for i := range 40 {
		want := toggle(t, c, i)
		if lag := enforcementLag(t, p, want); lag != 0 {
			t.Fatalf("change %d enforced %v after the answer, want before", i, lag)
		}
	}
}

// BenchmarkModifyInstanceMetadataOptions measures the round trip of
// ModifyInstanceMetadataOptions with aws-sdk-go-v2 (signing, verifying,
// storing, applying) and reports, outside the timed part, how long after
// each answer the data plane first enforced the change: max-lag-ns is 0
// when every change was enforced before its answer was sent.
func BenchmarkModifyInstanceMetadataOptions(b *testing.B) {
	p := startPair(b)
	c := ec2Client(b, p)
	var late int
	var maxLag time.Duration
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		want := toggle(b, c, i)
		b.StopTimer()
		if lag := enforcementLag(b, p, want); lag > 0 {
			late++
			maxLag = max(maxLag, lag)
		}
		b.StartTimer()
	}
	b.ReportMetric(float64(maxLag.Nanoseconds()), "max-lag-ns")
	b.ReportMetric(float64(late), "late")
}
