package fleet_test

import (
	"fmt"
	"net/http"
	"slices"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/ec2"
	"github.com/aws/aws-sdk-go-v2/service/ec2/types"

	"github.com/imds-dev/imds/test/fleet/harness"
)

// changes is how many changes the propagation benchmark times.
const changes = 200

// Ensure (report, not assert) how soon a change made through one replica's
// control plane is enforced by another replica's data plane through etcd:
// http-tokens toggled on one instance through replica 1 while replica 2 is
// polled with token-less GETs from that instance's address.
func TestFleet_Propagation(t *testing.T) {
	needBench(t)
	etcd := harness.StartEtcd(t)
	creds := harness.WriteCredentials(t)
	file := writeInventory(t, 100)
	var rs []*harness.Replica
	for range 2 {
		rs = append(rs, harness.StartReplica(t, imdsBin, "--store", etcd.Spec("/bench"),
			"--control-credentials", creds.Path, "--instances", file, "--by-source"))
	}
	ctl := harness.EC2(t, rs[0].ControlURL, creds)
	const target = 42
	id, src := instanceID(target), address(target)
	c := newClient()

	var fromCall, fromAnswer, calls []time.Duration
	for i := range changes {
		state, want := types.HttpTokensStateOptional, http.StatusOK
		if i%2 == 1 {
			state, want = types.HttpTokensStateRequired, http.StatusUnauthorized
		}
		ctx, cancel := harness.CallTimeout()
		sent := time.Now()
		_, err := ctl.ModifyInstanceMetadataOptions(ctx, &ec2.ModifyInstanceMetadataOptionsInput{
			InstanceId: aws.String(id), HttpTokens: state,
		})
		cancel()
		answered := time.Now()
		if err != nil {
			t.Fatalf("change %d: %v", i, err)
		}
		for {
			status, _, err := call(c, http.MethodGet, rs[1].DataURL+"/latest/meta-data/instance-id", src, nil)
			if err != nil {
				t.Fatalf("change %d: poll replica 2: %v", i, err)
			}
			if status == want {
				break
			}
			if time.Since(sent) > 5*time.Second {
				t.Fatalf("change %d not enforced by replica 2 within 5s", i)
			}
		}
		enforced := time.Now()
		fromCall = append(fromCall, enforced.Sub(sent))
		fromAnswer = append(fromAnswer, enforced.Sub(answered))
		calls = append(calls, answered.Sub(sent))
	}

	kind := "embedded etcd"
	if etcd.Debian {
		kind = "Debian's etcd"
	}
	for _, m := range []struct {
		what, target string
		lat          []time.Duration
	}{
		{"change-to-enforced on replica 2, from sending the call to replica 1", "p99 ≤ 100 ms", fromCall},
		{"enforced on replica 2 after replica 1 answered", "", fromAnswer},
		{"control call round trip on replica 1 (etcd write included)", "", calls},
	} {
		p50, p99, top := quantiles(m.lat)
		report.add(fmt.Sprintf("%s, %s, %d changes: p50 / p99 / max", m.what, kind, changes),
			fmt.Sprintf("%s / %s / %s", ms(p50), ms(p99), ms(top)), m.target)
		t.Logf("%s: p50 %v, p99 %v, max %v", m.what, p50, p99, top)
	}
}

func quantiles(lat []time.Duration) (p50, p99, top time.Duration) {
	s := slices.Sorted(slices.Values(lat))
	at := func(q float64) time.Duration { return s[int(q*float64(len(s)-1))] }
	return at(0.5), at(0.99), s[len(s)-1]
}

func ms(d time.Duration) string { return fmt.Sprintf("%.1f ms", float64(d)/1e6) }
