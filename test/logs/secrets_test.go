// Package logs_test proves that imds's logs never carry a secret: no
// IMDSv2 token, no role's secret access key or session token, no control
// plane secret, in the data plane's access and anomaly logs or the control
// plane's logs, with slog's text and JSON handlers alike.
package logs_test

import (
	"bytes"
	"context"
	"encoding/json"
	"io"
	"log/slog"
	"net"
	"net/http"
	"net/netip"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/credentials"
	"github.com/aws/aws-sdk-go-v2/service/ec2"
	"github.com/aws/aws-sdk-go-v2/service/ec2/types"

	"github.com/imds-dev/imds"
	"github.com/imds-dev/imds/audit"
	"github.com/imds-dev/imds/config"
	"github.com/imds-dev/imds/control"
	"github.com/imds-dev/imds/creds"
	"github.com/imds-dev/imds/dataplane"
	"github.com/imds-dev/imds/internal/signedclient"
	"github.com/imds-dev/imds/metrics"
	"github.com/imds-dev/imds/store/mem"
	"github.com/imds-dev/imds/token"
	"github.com/imds-dev/imds/tree"
)

// lockedBuffer is a log sink shared by the servers' goroutines.
type lockedBuffer struct {
	mu  sync.Mutex
	buf bytes.Buffer
}

func (b *lockedBuffer) Write(p []byte) (int, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.Write(p)
}

func (b *lockedBuffer) String() string {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.String()
}

// stranger is the loopback address no instance owns, to draw the data
// plane's anomaly warning.
var stranger = netip.MustParseAddr("127.0.0.2")

// directory answers every caller but stranger with view.
type directory struct{ view *dataplane.View }

func (d directory) Lookup(a netip.Addr) *dataplane.View {
	if a == stranger {
		return nil
	}
	return d.view
}

// world is a data plane and a control plane on loopback, logging at Debug
// to one buffer, with the audit and metrics hooked in as `imds serve` has
// them.
type world struct {
	t       *testing.T
	plane   string // data-plane base URL
	control string // control-listener base URL
	keyID   string
	secret  string // the control plane's secret key
}

func newWorld(t *testing.T, logger *slog.Logger) *world {
	t.Helper()
	seed := make([]byte, 32)
	for i := range seed {
		seed[i] = byte(i)
	}
	opts := tree.Options{Creds: creds.NewGenerator(seed, creds.DefaultSchedule)}
	in := config.DefaultInstance(time.Now())
	view := dataplane.NewView(in, func(in *imds.Instance, now time.Time) *tree.Tree { return tree.Build(in, opts, now) })
	ring, err := token.NewKeyRing(time.Now())
	if err != nil {
		t.Fatal(err)
	}
	rec := audit.NewRecorder(audit.Options{})
	m := metrics.New(metrics.Options{})
	plane := dataplane.New(dataplane.Config{
		Directory: directory{view},
		Tokens:    token.NewAuthority(ring, nil),
		AccessLog: logger.With("component", "access"),
		Logger:    logger.With("component", "dataplane"),
		Hooks:     dataplane.Hooks{After: audit.Chain(rec.Observe, m.Observe)},
	})
	w := &world{t: t}
	w.plane = serve(t, dataplane.HTTPServer(plane, logger))

	st := mem.New()
	if err := st.Put(context.Background(), in); err != nil {
		t.Fatal(err)
	}
	w.keyID, w.secret = control.NewKey()
	ctl := control.New(control.Config{
		Store:  st,
		Apply:  view.Set,
		Keys:   map[string]string{w.keyID: w.secret},
		Logger: logger.With("component", "control"),
	})
	mux := http.NewServeMux()
	mux.Handle("/", ctl)
	mux.Handle("/imds/audit", audit.Handler(rec, ctl.Authenticate))
	mux.Handle("/metrics", m.Handler())
	w.control = serve(t, &http.Server{Handler: mux, ErrorLog: slog.NewLogLogger(logger.Handler(), slog.LevelWarn)})
	return w
}

// serve runs srv on a loopback port and returns its base URL.
func serve(t *testing.T, srv *http.Server) string {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	go srv.Serve(ln)
	t.Cleanup(func() { srv.Close() })
	return "http://" + ln.Addr().String()
}

// get sends one data-plane request, from the given local address when
// from is valid, and returns the status and body.
func (w *world) get(method, path string, from netip.Addr, header map[string][]string) (int, string) {
	w.t.Helper()
	d := &net.Dialer{}
	if from.IsValid() {
		d.LocalAddr = &net.TCPAddr{IP: from.AsSlice()}
	}
	c := &http.Client{Transport: &http.Transport{DialContext: d.DialContext, Proxy: nil}}
	req, err := http.NewRequest(method, w.plane+path, nil)
	if err != nil {
		w.t.Fatal(err)
	}
	for k, v := range header {
		req.Header[k] = v
	}
	resp, err := c.Do(req)
	if err != nil {
		w.t.Fatalf("%s %s: %v", method, path, err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return resp.StatusCode, string(b)
}

// roleCredentials is the JSON a credentials leaf answers with.
type roleCredentials struct {
	AccessKeyID     string `json:"AccessKeyId"`
	SecretAccessKey string
	Token           string
}

// driveDataPlane issues tokens, fetches credentials and makes refused
// requests of every kind that carry a secret. It returns the secrets.
func (w *world) driveDataPlane() (secrets map[string]string, role roleCredentials) {
	w.t.Helper()
	var none netip.Addr
	ttl := map[string][]string{"X-Aws-Ec2-Metadata-Token-Ttl-Seconds": {"21600"}}
	_, tok := w.get("PUT", "/latest/api/token", none, ttl)
	_, tok2 := w.get("PUT", "/latest/api/token", none, ttl)
	if len(tok) < 20 || tok == tok2 {
		w.t.Fatalf("tokens %q and %q", tok, tok2)
	}
	withTok := map[string][]string{"X-Aws-Ec2-Metadata-Token": {tok}}
	secrets = map[string]string{"token": tok, "second token": tok2}

	for name, path := range map[string]string{
		"role":     "/latest/meta-data/iam/security-credentials/app-role",
		"identity": "/latest/meta-data/identity-credentials/ec2/security-credentials/ec2-instance",
	} {
		status, body := w.get("GET", path, none, withTok)
		var c roleCredentials
		if err := json.Unmarshal([]byte(body), &c); status != 200 || err != nil || c.SecretAccessKey == "" || c.Token == "" {
			w.t.Fatalf("GET %s = %d %q", path, status, body)
		}
		secrets[name+" secret access key"] = c.SecretAccessKey
		secrets[name+" session token"] = c.Token
		if name == "role" {
			role = c
		}
	}

	// Requests that carry a token where it does not belong, or are refused
	// while carrying one.
	refused := []struct {
		method, path string
		from         netip.Addr
		header       map[string][]string
	}{
		{"GET", "/latest/meta-data/?token=" + tok, none, nil},
		{"GET", "/latest/meta-data/", none, map[string][]string{"Authorization": {"Bearer " + tok}}},
		{"GET", "/latest/meta-data/", none, map[string][]string{"X-Aws-Ec2-Metadata-Token": {tok}, "X-Forwarded-For": {"192.0.2.1"}}},
		{"GET", "/latest/meta-data/", none, map[string][]string{"X-Aws-Ec2-Metadata-Token": {tok, tok2}}},
		{"GET", "/latest/meta-data/", none, map[string][]string{"X-Aws-Ec2-Metadata-Token": {tok[:len(tok)-2] + "AA"}}},
		{"PUT", "/latest/api/token", none, map[string][]string{"X-Aws-Ec2-Metadata-Token-Ttl-Seconds": {tok}}},
		{"PUT", "/2021-03-23/api/token", none, withTok},
		{"POST", "/latest/meta-data/", none, withTok},
		{"GET", "/latest/meta-data/", stranger, withTok},
	}
	for _, r := range refused {
		w.get(r.method, r.path, r.from, r.header)
	}
	return secrets, role
}

// driveControlPlane changes the instance with the control key, and makes
// calls refused for a wrong secret and for the role's own credentials.
func (w *world) driveControlPlane(role roleCredentials) {
	w.t.Helper()
	ctx := context.Background()
	client := func(id, secret, session string) *ec2.Client {
		return ec2.New(ec2.Options{
			BaseEndpoint:     aws.String(w.control),
			Region:           "us-east-1",
			Credentials:      credentials.NewStaticCredentialsProvider(id, secret, session),
			RetryMaxAttempts: 1,
		})
	}
	good := client(w.keyID, w.secret, "")
	id := config.DefaultInstance(time.Now()).ID
	if _, err := good.CreateTags(ctx, &ec2.CreateTagsInput{Resources: []string{id}, Tags: []types.Tag{{Key: aws.String("Name"), Value: aws.String("web")}}}); err != nil {
		w.t.Fatalf("CreateTags: %v", err)
	}
	if _, err := good.ModifyInstanceMetadataOptions(ctx, &ec2.ModifyInstanceMetadataOptionsInput{
		InstanceId: aws.String(id), HttpTokens: types.HttpTokensStateRequired,
	}); err != nil {
		w.t.Fatalf("ModifyInstanceMetadataOptions: %v", err)
	}
	if _, err := good.DescribeInstances(ctx, &ec2.DescribeInstancesInput{InstanceIds: []string{"i-00000000000000000"}}); err == nil {
		w.t.Fatal("DescribeInstances of an unknown id succeeded")
	}
	bad := client(w.keyID, w.secret[:len(w.secret)-1]+"x", "")
	if _, err := bad.DescribeInstances(ctx, &ec2.DescribeInstancesInput{}); err == nil {
		w.t.Fatal("a wrong secret was accepted")
	}
	stolen := client(role.AccessKeyID, role.SecretAccessKey, role.Token)
	if _, err := stolen.DescribeInstances(ctx, &ec2.DescribeInstancesInput{}); err == nil {
		w.t.Fatal("the role's credentials were accepted by the control plane")
	}

	// imds's own JSON endpoints, signed and not.
	file := filepath.Join(w.t.TempDir(), "credentials")
	os.WriteFile(file, []byte("[default]\naws_access_key_id = "+w.keyID+"\naws_secret_access_key = "+w.secret+"\n"), 0o600)
	sc, err := signedclient.New(ctx, signedclient.Options{Endpoint: w.control, CredentialsFile: file})
	if err != nil {
		w.t.Fatal(err)
	}
	if err := sc.Do(ctx, "GET", "/imds/audit", nil, nil); err != nil {
		w.t.Fatalf("GET /imds/audit: %v", err)
	}
	resp, err := http.Get(w.control + "/imds/audit")
	if err != nil {
		w.t.Fatal(err)
	}
	resp.Body.Close()
}

// isolateAWS keeps the SDK away from any real configuration or metadata
// address, as /work/shared/testenv.sh does for a shell.
func isolateAWS(t *testing.T, plane string) {
	t.Setenv("AWS_EC2_METADATA_SERVICE_ENDPOINT", plane)
	t.Setenv("AWS_EC2_METADATA_SERVICE_ENDPOINT_MODE", "IPv4")
	t.Setenv("AWS_ACCESS_KEY_ID", "AKIAIOSFODNN7EXAMPLE")
	t.Setenv("AWS_SECRET_ACCESS_KEY", "wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY")
	t.Setenv("AWS_REGION", "us-east-1")
	t.Setenv("AWS_CONTAINER_CREDENTIALS_RELATIVE_URI", "")
	t.Setenv("AWS_CONTAINER_CREDENTIALS_FULL_URI", "")
	t.Setenv("HOME", t.TempDir())
	for _, k := range []string{"AWS_PROFILE", "AWS_CONFIG_FILE", "AWS_SHARED_CREDENTIALS_FILE"} {
		t.Setenv(k, "")
		os.Unsetenv(k)
	}
}

// TestLogs_NoSecrets searches every log line for every secret.
func TestLogs_NoSecrets(t *testing.T) {
	// Ensure no token, secret access key, session token or control secret
	// reaches the logs, whole or as its second half, in either format.
	for _, format := range []string{"text", "json"} {
		t.Run(format, func(t *testing.T) {
			var sink lockedBuffer
			hopts := &slog.HandlerOptions{Level: slog.LevelDebug}
			h := slog.Handler(slog.NewTextHandler(&sink, hopts))
			if format == "json" {
				h = slog.NewJSONHandler(&sink, hopts)
			}
			w := newWorld(t, slog.New(h))
			isolateAWS(t, w.plane)
			secrets, role := w.driveDataPlane()
			w.driveControlPlane(role)
			secrets["control secret"] = w.secret

			// After the change to IMDSv2-only, one more refusal.
			w.get("GET", "/latest/meta-data/", netip.Addr{}, nil)

			logs := sink.String()
			refusal := "refusal=no-token"
			if format == "json" {
				refusal = `"refusal":"no-token"`
			}
			for _, want := range []string{"/latest/api/token", "security-credentials/app-role",
				"request from an address no instance owns", "metadata options changed",
				"SignatureDoesNotMatch", "AuthFailure", refusal} {
				if !strings.Contains(logs, want) {
					t.Errorf("logs lack %q, so the test proves less than it claims:\n%s", want, logs)
				}
			}
			for name, s := range secrets {
				for _, part := range []string{s, s[len(s)/2:]} {
					for _, line := range strings.Split(logs, "\n") {
						if strings.Contains(line, part) {
							t.Errorf("the %s reaches the log:\n%s", name, line)
						}
					}
				}
			}
		})
	}
}
