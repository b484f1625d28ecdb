package fleet_test

import (
	"net/http"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/ec2"
	"github.com/aws/aws-sdk-go-v2/service/ec2/types"

	"github.com/imds-dev/imds/test/fleet/harness"
)

// cluster is three `imds serve` replicas sharing one etcd, all with the
// same control key and the instances of describe-instances.json.
type cluster struct {
	etcd     *harness.Etcd
	creds    harness.Credentials
	replicas []*harness.Replica
}

func startCluster(t *testing.T) *cluster {
	t.Helper()
	c := &cluster{etcd: harness.StartEtcd(t), creds: harness.WriteCredentials(t)}
	for range 3 {
		c.replicas = append(c.replicas, harness.StartReplica(t, imdsBin,
			"--store", c.etcd.Spec("/fleet"),
			"--control-credentials", c.creds.Path,
			"--instances", inventory))
	}
	for i, r := range c.replicas {
		if _, err := harness.WaitReady(r.ControlURL, 5*time.Second); err != nil {
			t.Fatalf("replica %d: %v", i+1, err)
		}
	}
	return c
}

// ec2 returns an EC2 client for replica i (0-based) of c.
func (c *cluster) ec2(t *testing.T, i int) *ec2.Client {
	t.Helper()
	return harness.EC2(t, c.replicas[i].ControlURL, c.creds)
}

// Ensure three replicas on one etcd act as one service: a change made
// through one replica is enforced by the others, a token issued by one is
// honoured by the others for its own instance only, and an etcd outage
// costs no data-plane read while control calls fail promptly.
func TestReplicas_SharedEtcd(t *testing.T) {
	c := startCluster(t)
	t.Logf("etcd: %s (Debian server: %v)", c.etcd.Endpoint, c.etcd.Debian)
	t.Run("ChangeEnforcedByOthers", func(t *testing.T) { testChangeEnforced(t, c) })
	t.Run("TokenAcrossReplicas", func(t *testing.T) { testTokenAcross(t, c) })
	t.Run("EtcdOutage", func(t *testing.T) { testOutage(t, c) })
}

// testChangeEnforced sets http-tokens through replica 1 and watches every
// replica's data plane answer a token-less GET from the instance's address
// accordingly: at once on replica 1, within a second elsewhere.
func testChangeEnforced(t *testing.T, c *cluster) {
	tests := []struct {
		id, src string
		tokens  types.HttpTokensState
		want    int
	}{
		{webID, "127.0.0.11", types.HttpTokensStateOptional, http.StatusOK},
		{webID, "127.0.0.11", types.HttpTokensStateRequired, http.StatusUnauthorized},
		{apiID, "127.0.0.12", types.HttpTokensStateRequired, http.StatusUnauthorized},
		{apiID, "127.0.0.32", types.HttpTokensStateOptional, http.StatusOK},
	}
	for _, tt := range tests {
		t.Run(string(tt.tokens)+"/"+tt.src, func(t *testing.T) {
			ctx, cancel := harness.CallTimeout()
			defer cancel()
			_, err := c.ec2(t, 0).ModifyInstanceMetadataOptions(ctx, &ec2.ModifyInstanceMetadataOptionsInput{
				InstanceId: aws.String(tt.id), HttpTokens: tt.tokens,
			})
			if err != nil {
				t.Fatalf("ModifyInstanceMetadataOptions(%s, %s) on replica 1: %v", tt.id, tt.tokens, err)
			}
			acked := time.Now()
			from := harness.From(tt.src)
			for i, r := range c.replicas {
				lag := waitStatus(t, from, r.DataURL, tt.want, 2*time.Second)
				if i == 0 && lag > 0 {
					t.Errorf("replica 1 enforced its own change %v after answering, want before", lag)
				}
				t.Logf("replica %d seen enforcing %s %v after the answer", i+1, tt.tokens, time.Since(acked).Round(time.Microsecond))
			}

			// The other replicas' control planes describe it too.
			out, err := c.ec2(t, 2).DescribeInstances(ctx, &ec2.DescribeInstancesInput{InstanceIds: []string{tt.id}})
			if err != nil {
				t.Fatalf("DescribeInstances on replica 3: %v", err)
			}
			if got := out.Reservations[0].Instances[0].MetadataOptions.HttpTokens; got != tt.tokens {
				t.Errorf("replica 3 describes http-tokens %q, want %q", got, tt.tokens)
			}
		})
	}
}

// waitStatus polls a token-less GET of instance-id until it answers want
// and returns how long that took; 0 when the first GET did.
func waitStatus(t *testing.T, from *http.Client, base string, want int, limit time.Duration) time.Duration {
	t.Helper()
	start := time.Now()
	for polls := 0; ; polls++ {
		status, _, err := harness.Get(from, base, "/latest/meta-data/instance-id", "")
		if err != nil {
			t.Fatalf("GET %s: %v", base, err)
		}
		if status == want {
			if polls == 0 {
				return 0
			}
			return time.Since(start)
		}
		if time.Since(start) > limit {
			t.Fatalf("GET %s: status %d after %v, want %d", base, status, limit, want)
		}
		time.Sleep(time.Millisecond)
	}
}

// testTokenAcross takes a token from replica 2 for the web instance and
// uses it on the other replicas from each instance's address.
func testTokenAcross(t *testing.T, c *cluster) {
	tok, err := harness.Token(harness.From("127.0.0.11"), c.replicas[1].DataURL, 300)
	if err != nil {
		t.Fatalf("token from replica 2: %v", err)
	}
	tests := []struct {
		name    string
		replica int // 0-based
		src     string
		want    int
	}{
		{"same instance on replica 1", 0, "127.0.0.11", http.StatusOK},
		{"same instance, other address, on replica 3", 2, "127.0.0.21", http.StatusOK},
		{"same instance on replica 2", 1, "127.0.0.11", http.StatusOK},
		{"other instance on replica 1", 0, "127.0.0.12", http.StatusUnauthorized},
		{"other instance on replica 2", 1, "127.0.0.13", http.StatusUnauthorized},
		{"other instance on replica 3", 2, "127.0.0.32", http.StatusUnauthorized},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			status, body, err := harness.Get(harness.From(tt.src), c.replicas[tt.replica].DataURL,
				"/latest/meta-data/instance-id", tok)
			if err != nil {
				t.Fatal(err)
			}
			if status != tt.want {
				t.Fatalf("GET from %s on replica %d = %d, want %d", tt.src, tt.replica+1, status, tt.want)
			}
			if tt.want == http.StatusOK && body != webID {
				t.Errorf("GET from %s on replica %d = %q, want %q", tt.src, tt.replica+1, body, webID)
			}
		})
	}
}

// pollUntil calls ok every few milliseconds until it reports true or limit
// passes, and returns how long it took and whether it succeeded.
func pollUntil(limit time.Duration, ok func() bool) (time.Duration, bool) {
	start := time.Now()
	for {
		if ok() {
			return time.Since(start), true
		}
		if time.Since(start) > limit {
			return time.Since(start), false
		}
		time.Sleep(5 * time.Millisecond)
	}
}
