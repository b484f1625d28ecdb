package fleet_test

import (
	"errors"
	"fmt"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	awshttp "github.com/aws/aws-sdk-go-v2/aws/transport/http"
	"github.com/aws/aws-sdk-go-v2/service/ec2"
	"github.com/aws/aws-sdk-go-v2/service/ec2/types"
	"github.com/aws/smithy-go"

	"github.com/imds-dev/imds/test/fleet/harness"
)

// outageLength is how long etcd stays away.
const outageLength = 10 * time.Second

// testOutage takes etcd away for outageLength in two ways, frozen
// (SIGSTOP: connections stay open and hang, Debian's server only) and
// killed then restarted on its data, while reads stream in.
func testOutage(t *testing.T, c *cluster) {
	tests := []struct {
		name       string
		down, up   func(testing.TB)
		debianOnly bool
		hopLimit   int32 // what the control call refused during the outage asks for
	}{
		{"pause", c.etcd.Pause, c.etcd.Resume, true, 3},
		{"kill", c.etcd.Kill, c.etcd.Restart, false, 4},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if tt.debianOnly && !c.etcd.Debian {
				t.Skipf("needs %s to stop it with SIGSTOP", harness.DebianEtcd)
			}
			outage(t, c, tt.name, tt.down, tt.up, tt.hopLimit)
		})
	}
}

// outage runs one outage: reads never fail, health says degraded, a
// control call fails promptly in EC2's terms, and after etcd's return a
// new change reaches every replica.
func outage(t *testing.T, c *cluster, name string, down, up func(testing.TB), hopLimit int32) {
	for i, r := range c.replicas {
		if _, err := harness.WaitReady(r.ControlURL, 5*time.Second); err != nil {
			t.Fatalf("replica %d before the outage: %v", i+1, err)
		}
	}
	l := startLoad(c, 6)
	defer l.finish()
	time.Sleep(500 * time.Millisecond)

	l.phase.Store(duringOutage)
	downAt := time.Now()
	down(t)
	checkDegraded(t, c)
	checkControlFails(t, c, hopLimit)
	time.Sleep(time.Until(downAt.Add(outageLength)))

	l.phase.Store(afterOutage)
	upAt := time.Now()
	up(t)
	// A replica reconnects within its client's backoff (2 s at most);
	// once all say ready, a change must reach all of them at once.
	for i, r := range c.replicas {
		if _, err := harness.WaitReady(r.ControlURL, 5*time.Second); err != nil {
			t.Fatalf("replica %d after the outage: %v", i+1, err)
		}
		t.Logf("replica %d ready again %v after etcd's return", i+1, time.Since(upAt).Round(time.Millisecond))
	}
	checkPropagates(t, c, name, upAt)
	reportRefused(t, c, hopLimit)
	time.Sleep(500 * time.Millisecond)

	l.finish()
	t.Logf("reads: %d before, %d during, %d after the outage; %d failed; slowest %v",
		l.ok[beforeOutage].Load(), l.ok[duringOutage].Load(), l.ok[afterOutage].Load(),
		l.failed.Load(), time.Duration(l.slowest.Load()).Round(time.Microsecond))
	if n := l.failed.Load(); n > 0 {
		t.Errorf("%d reads failed, first: %s", n, strings.Join(l.errs, "; "))
	}
	if l.ok[duringOutage].Load() == 0 {
		t.Error("no read happened during the outage")
	}
}

// checkDegraded waits for every replica to notice the outage: /readyz 503
// and /healthz 200 saying degraded, with the store's reason.
func checkDegraded(t *testing.T, c *cluster) {
	t.Helper()
	for i, r := range c.replicas {
		d, ok := pollUntil(5*time.Second, func() bool {
			status, _, err := harness.Health(r.ControlURL, "/readyz")
			return err == nil && status == http.StatusServiceUnavailable
		})
		if !ok {
			t.Errorf("replica %d: /readyz not 503 %v into the outage", i+1, d)
			continue
		}
		status, rep, err := harness.Health(r.ControlURL, "/healthz")
		if err != nil || status != http.StatusOK || rep.Status != "degraded" || !strings.Contains(rep.Store, "etcd") {
			t.Errorf("replica %d: /healthz = %d %+v %v, want 200, degraded, an etcd reason", i+1, status, rep, err)
		}
		if i == 0 {
			t.Logf("replica 1 /healthz during the outage: %+v", rep)
		}
		t.Logf("replica %d: /readyz 503 after %v more", i+1, d.Round(time.Millisecond))
	}
}

// checkControlFails makes a control call during the outage: it must fail
// within a few seconds with EC2's Unavailable (503, XML body the SDK can
// read), not hang and not answer InternalError.
func checkControlFails(t *testing.T, c *cluster, hopLimit int32) {
	t.Helper()
	ctx, cancel := harness.CallTimeout()
	defer cancel()
	start := time.Now()
	_, err := c.ec2(t, 1).ModifyInstanceMetadataOptions(ctx, &ec2.ModifyInstanceMetadataOptionsInput{
		InstanceId: aws.String(batchID), HttpPutResponseHopLimit: aws.Int32(hopLimit),
	})
	took := time.Since(start)
	t.Logf("control call during the outage: %v after %v", err, took.Round(time.Millisecond))
	if err == nil {
		t.Fatal("ModifyInstanceMetadataOptions succeeded with etcd away")
	}
	if took > 5*time.Second {
		t.Errorf("control call took %v to fail, want a few seconds at most", took)
	}
	var api smithy.APIError
	if !errors.As(err, &api) || api.ErrorCode() != "Unavailable" || api.ErrorMessage() == "" {
		t.Errorf("control call error = %v, want EC2 code Unavailable with a message", err)
	}
	var resp *awshttp.ResponseError
	if !errors.As(err, &resp) || resp.HTTPStatusCode() != http.StatusServiceUnavailable {
		t.Errorf("control call error = %v, want HTTP 503", err)
	}
}

// checkPropagates tags the web instance through replica 1 and waits for
// every replica's data plane to show the tag in the instance's metadata.
func checkPropagates(t *testing.T, c *cluster, name string, upAt time.Time) {
	t.Helper()
	key, value := "outage-"+name, fmt.Sprint(upAt.UnixNano())
	ctx, cancel := harness.CallTimeout()
	defer cancel()
	_, err := c.ec2(t, 0).CreateTags(ctx, &ec2.CreateTagsInput{
		Resources: []string{webID}, Tags: []types.Tag{{Key: aws.String(key), Value: aws.String(value)}},
	})
	if err != nil {
		t.Fatalf("CreateTags on replica 1 after etcd's return: %v", err)
	}
	ackAt := time.Now()

	from := harness.From("127.0.0.11")
	tok, err := harness.Token(from, c.replicas[0].DataURL, 300)
	if err != nil {
		t.Fatal(err)
	}
	for i, r := range c.replicas {
		_, ok := pollUntil(3*time.Second, func() bool {
			status, body, err := harness.Get(from, r.DataURL, "/latest/meta-data/tags/instance/"+key, tok)
			return err == nil && status == http.StatusOK && body == value
		})
		lag := time.Since(ackAt)
		switch {
		case !ok:
			t.Errorf("replica %d: tag %s not served 3s after replica 1 took it", i+1, key)
		case lag > time.Second:
			t.Errorf("replica %d served the new tag %v after replica 1 took it, want a second at most", i+1, lag)
		default:
			t.Logf("replica %d serves the new tag within %v of replica 1 taking it", i+1, lag.Round(time.Millisecond))
		}
	}
}

// reportRefused logs whether the change refused during the outage took
// effect once etcd returned. Either is allowed: Unavailable says the call
// may be retried, not that it left no trace (a frozen etcd can still
// apply a write its client gave up on), and the call is idempotent.
func reportRefused(t *testing.T, c *cluster, hopLimit int32) {
	t.Helper()
	ctx, cancel := harness.CallTimeout()
	defer cancel()
	out, err := c.ec2(t, 2).DescribeInstances(ctx, &ec2.DescribeInstancesInput{InstanceIds: []string{batchID}})
	if err != nil {
		t.Fatalf("DescribeInstances on replica 3: %v", err)
	}
	got := aws.ToInt32(out.Reservations[0].Instances[0].MetadataOptions.HttpPutResponseHopLimit)
	t.Logf("the refused change (hop limit %d) took effect after all: %v", hopLimit, got == hopLimit)
}
