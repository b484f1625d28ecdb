package main

import (
	"bytes"
	"context"
	"net"
	"net/http"
	"net/http/httptest"
	"net/url"
	"os"
	"path/filepath"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/imds-dev/imds/identity"
	"github.com/imds-dev/imds/internal/loopback"
)

// isolateAWSEnv does what /work/shared/testenv.sh does for a shell: every
// SDK lookup stays on the loopback endpoint, credentials are fake and HOME
// is a throwaway directory, so no real AWS file is read.
func isolateAWSEnv(t *testing.T, endpoint string) {
	t.Helper()
	u, err := url.Parse(endpoint)
	if err != nil || !loopback.IsLiteral(u.Hostname()) {
		t.Fatalf("test endpoint %q is not loopback", endpoint)
	}
	for k, v := range map[string]string{
		"AWS_EC2_METADATA_SERVICE_ENDPOINT":      endpoint,
		"AWS_EC2_METADATA_SERVICE_ENDPOINT_MODE": "IPv4",
		"AWS_ACCESS_KEY_ID":                      "AKIAIOSFODNN7EXAMPLE",
		"AWS_SECRET_ACCESS_KEY":                  "wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY",
		"AWS_DEFAULT_REGION":                     "us-east-1",
		"AWS_REGION":                             "us-east-1",
		"AWS_CONTAINER_CREDENTIALS_RELATIVE_URI": "",
		"AWS_CONTAINER_CREDENTIALS_FULL_URI":     "",
		"HOME":                                   t.TempDir(),
	} {
		t.Setenv(k, v)
	}
	for _, k := range []string{"AWS_PROFILE", "AWS_CONFIG_FILE", "AWS_SHARED_CREDENTIALS_FILE", "IMDS_ENDPOINT"} {
		t.Setenv(k, "") // restores the old value after the test
		os.Unsetenv(k)
	}
}

// fakeIMDS serves a token and the four identity bodies the way imds does,
// insisting on the token it issued. It counts the requests it answers.
type fakeIMDS struct {
	doc  []byte
	sigs identity.Signatures
	skip string // a body answered 404, to test a missing endpoint
	puts atomic.Int32
	gets atomic.Int32
}

const fakeToken = "AQAEAFake-token_value=="

func (f *fakeIMDS) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	if r.Method == http.MethodPut && r.URL.Path == "/latest/api/token" {
		ttl := r.Header.Get("X-Aws-Ec2-Metadata-Token-Ttl-Seconds")
		if ttl == "" {
			http.Error(w, "missing ttl", http.StatusBadRequest)
			return
		}
		f.puts.Add(1)
		w.Header().Set("X-Aws-Ec2-Metadata-Token-Ttl-Seconds", ttl)
		w.Write([]byte(fakeToken))
		return
	}
	if r.Method != http.MethodGet {
		http.Error(w, "method", http.StatusMethodNotAllowed)
		return
	}
	if r.Header.Get("X-Aws-Ec2-Metadata-Token") != fakeToken {
		http.Error(w, "no token", http.StatusUnauthorized)
		return
	}
	f.gets.Add(1)
	name, ok := strings.CutPrefix(r.URL.Path, "/latest/dynamic/instance-identity/")
	bodies := map[string][]byte{
		"document":  f.doc,
		"signature": f.sigs.Signature,
		"pkcs7":     f.sigs.PKCS7,
		"rsa2048":   f.sigs.RSA2048,
	}
	body, found := bodies[name]
	if !ok || !found || name == f.skip {
		http.NotFound(w, r)
		return
	}
	w.Header().Set("Content-Type", "text/plain")
	w.Write(body)
}

func testDocument() []byte {
	return identity.Document{
		AccountID:        "123456789012",
		Architecture:     "x86_64",
		AvailabilityZone: "eu-west-1a",
		ImageID:          "ami-0c7217cdde317cfec",
		InstanceID:       "i-0b02d936754a6d637",
		InstanceType:     "t3.micro",
		PendingTime:      time.Date(2024, 2, 15, 14, 12, 11, 0, time.UTC),
		PrivateIP:        "10.0.0.12",
		Region:           "eu-west-1",
		Version:          "2017-09-30",
	}.Marshal()
}

// Ensure runVerify fetches the identity bodies through the SDK client with a
// token, reports each signature, and names exactly the bodies that fail.
func TestRunVerify(t *testing.T) {
	signer, err := identity.GenerateSigner()
	if err != nil {
		t.Fatalf("GenerateSigner: %v", err)
	}
	stranger, err := identity.GenerateSigner()
	if err != nil {
		t.Fatalf("GenerateSigner: %v", err)
	}
	doc := testDocument()
	sigs, err := signer.Sign(doc)
	if err != nil {
		t.Fatalf("Sign: %v", err)
	}
	otherDoc := bytes.Replace(doc, []byte("t3.micro"), []byte("m5.large"), 1)
	otherSigs, err := signer.Sign(otherDoc)
	if err != nil {
		t.Fatalf("Sign: %v", err)
	}
	dir := t.TempDir()
	certFile := filepath.Join(dir, "cert.pem")
	strangerFile := filepath.Join(dir, "stranger.pem")
	writeFile(t, certFile, signer.CertificatePEM())
	writeFile(t, strangerFile, stranger.CertificatePEM())

	tests := []struct {
		name    string
		doc     []byte
		sigs    identity.Signatures
		skip    string
		cert    string
		wantOut []string
		wantErr string // substring; "" means success
	}{
		{name: "genuine", doc: doc, sigs: sigs, cert: certFile,
			wantOut: []string{"signature: ok", "pkcs7: ok", "rsa2048: ok",
				"instanceId: i-0b02d936754a6d637", "region: eu-west-1"}},
		{name: "tampered document", doc: otherDoc, sigs: sigs, cert: certFile,
			wantOut: []string{"signature: failed", "pkcs7: failed", "rsa2048: failed"},
			wantErr: "did not verify: signature, pkcs7, rsa2048"},
		{name: "rsa2048 of another document", doc: doc, cert: certFile,
			sigs:    identity.Signatures{Signature: sigs.Signature, PKCS7: sigs.PKCS7, RSA2048: otherSigs.RSA2048},
			wantOut: []string{"signature: ok", "pkcs7: ok", "rsa2048: failed"},
			wantErr: "did not verify: rsa2048"},
		{name: "other certificate", doc: doc, sigs: sigs, cert: strangerFile,
			wantErr: "did not verify: signature, pkcs7, rsa2048"},
		{name: "missing pkcs7", doc: doc, sigs: sigs, cert: certFile, skip: "pkcs7",
			wantErr: "fetch instance-identity/pkcs7"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			f := &fakeIMDS{doc: tt.doc, sigs: tt.sigs, skip: tt.skip}
			srv := httptest.NewServer(f)
			defer srv.Close()
			isolateAWSEnv(t, srv.URL)

			var stdout, stderr bytes.Buffer
			err := runVerify(context.Background(), []string{"--endpoint", srv.URL, "--cert", tt.cert}, &stdout, &stderr)
			if tt.wantErr == "" && err != nil {
				t.Fatalf("runVerify() = %v, want nil\nstdout:\n%s", err, stdout.String())
			}
			if tt.wantErr != "" && (err == nil || !strings.Contains(err.Error(), tt.wantErr)) {
				t.Fatalf("runVerify() = %v, want error containing %q", err, tt.wantErr)
			}
			for _, want := range tt.wantOut {
				if !strings.Contains(stdout.String(), want) {
					t.Errorf("stdout lacks %q:\n%s", want, stdout.String())
				}
			}
			if tt.wantErr != "" && strings.Contains(stdout.String(), "instanceId:") {
				t.Errorf("stdout names the instance of an unverified document:\n%s", stdout.String())
			}
			if f.puts.Load() == 0 || f.gets.Load() == 0 {
				t.Errorf("server saw %d token PUTs and %d GETs, want both", f.puts.Load(), f.gets.Load())
			}
		})
	}
}

// Ensure runVerify refuses bad arguments and non-loopback endpoints before
// sending anything, and takes its default endpoint from IMDS_ENDPOINT.
func TestRunVerify_Arguments(t *testing.T) {
	f := &fakeIMDS{}
	srv := httptest.NewServer(f)
	defer srv.Close()
	isolateAWSEnv(t, srv.URL)
	certFile := filepath.Join(t.TempDir(), "cert.pem")
	writeFile(t, certFile, []byte("not a certificate"))

	tests := []struct {
		name    string
		env     string // IMDS_ENDPOINT
		args    []string
		wantErr string
	}{
		{name: "no cert", args: []string{"--endpoint", srv.URL}, wantErr: "--cert is required"},
		{name: "unreadable cert", args: []string{"--cert", "/nonexistent/cert.pem"}, wantErr: "read certificate"},
		{name: "stray argument", args: []string{"--cert", certFile, "extra"}, wantErr: "unexpected argument"},
		{name: "unknown flag", args: []string{"--nope"}, wantErr: "not defined"},
		{name: "link-local endpoint", args: []string{"--cert", certFile, "--endpoint", "http://169.254.169.254"},
			wantErr: "not a loopback address"},
		{name: "private endpoint", args: []string{"--cert", certFile, "--endpoint", "http://10.1.2.3:1338"},
			wantErr: "not a loopback address"},
		{name: "named host", args: []string{"--cert", certFile, "--endpoint", "http://metadata.example"},
			wantErr: "not a loopback address"},
		{name: "remote endpoint from env", env: "http://[fd00:ec2::254]", args: []string{"--cert", certFile},
			wantErr: "not a loopback address"},
		{name: "no scheme", args: []string{"--cert", certFile, "--endpoint", "127.0.0.1:1338"},
			wantErr: "parse endpoint"},
		{name: "host as scheme", args: []string{"--cert", certFile, "--endpoint", "localhost:1338"},
			wantErr: "not an http or https url"},
		// Reaches the server, then fails on the certificate file's content.
		{name: "endpoint from env", env: srv.URL, args: []string{"--cert", certFile},
			wantErr: "parse certificate"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if tt.env != "" {
				t.Setenv("IMDS_ENDPOINT", tt.env)
			}
			before := f.puts.Load() + f.gets.Load()
			var stdout, stderr bytes.Buffer
			err := runVerify(context.Background(), tt.args, &stdout, &stderr)
			if err == nil || !strings.Contains(err.Error(), tt.wantErr) {
				t.Fatalf("runVerify(%q) = %v, want error containing %q", tt.args, err, tt.wantErr)
			}
			if err.Error() != strings.ToLower(err.Error()[:1])+err.Error()[1:] {
				t.Errorf("error %q does not start in lowercase", err)
			}
			reached := f.puts.Load()+f.gets.Load() > before
			if reached != (tt.env == srv.URL) {
				t.Errorf("server reached = %v, want %v", reached, tt.env == srv.URL)
			}
		})
	}
}

// Ensure the dial guard refuses every address outside loopback, whatever
// name or redirect led to it.
func TestDialLoopbackOnly(t *testing.T) {
	tests := []struct {
		addr string
		ok   bool
	}{
		{"127.0.0.1:1338", true},
		{"127.9.9.9:80", true},
		{"[::1]:1338", true},
		{"[::ffff:127.0.0.1]:1338", true},
		{"169.254.169.254:80", false},
		{"[fd00:ec2::254]:80", false},
		{"169.254.170.2:80", false},
		{"10.0.0.1:80", false},
		{"localhost:80", false}, // names are resolved before Control runs
	}
	for _, tt := range tests {
		t.Run(tt.addr, func(t *testing.T) {
			err := loopback.DialControl("tcp", tt.addr, nil)
			if (err == nil) != tt.ok {
				t.Errorf("loopback.DialControl(%q) = %v, want ok %v", tt.addr, err, tt.ok)
			}
		})
	}
}

// Ensure checkVerifyEndpoint accepts loopback spellings and, with
// --allow-remote, anything else that is an http(s) URL.
func TestCheckVerifyEndpoint(t *testing.T) {
	tests := []struct {
		url         string
		allowRemote bool
		ok          bool
	}{
		{"http://127.0.0.1:1338", false, true},
		{"http://localhost:1338", false, true},
		{"http://LOCALHOST", false, true},
		{"http://[::1]:1338/", false, true},
		{"https://127.0.0.2", false, true},
		{"http://169.254.169.254", false, false},
		{"http://169.254.169.254", true, true},
		{"ftp://127.0.0.1", false, false},
		{"http://", false, false},
	}
	for _, tt := range tests {
		t.Run(tt.url, func(t *testing.T) {
			err := checkVerifyEndpoint(tt.url, tt.allowRemote)
			if (err == nil) != tt.ok {
				t.Errorf("checkVerifyEndpoint(%q, %v) = %v, want ok %v", tt.url, tt.allowRemote, err, tt.ok)
			}
		})
	}
}

func writeFile(t *testing.T, path string, b []byte) {
	t.Helper()
	if err := os.WriteFile(path, b, 0o600); err != nil {
		t.Fatalf("write %s: %v", path, err)
	}
}

// Ensure the client runVerify hands to the SDK keeps the dial guard and no
// proxy, and drops the guard only for --allow-remote. Checked on the client
// itself, so the test never sends a packet anywhere.
func TestVerifyHTTPClient(t *testing.T) {
	for _, allowRemote := range []bool{false, true} {
		c := verifyHTTPClient(allowRemote)
		if c.GetTransport().Proxy != nil {
			t.Errorf("verifyHTTPClient(%v) uses a proxy", allowRemote)
		}
		// imds.New adds its timeouts through the same builder; the guard
		// must survive that copy.
		control := c.WithDialerOptions(func(*net.Dialer) {}).GetDialer().Control
		if guarded := control != nil; guarded == allowRemote {
			t.Fatalf("verifyHTTPClient(%v): dial guard present = %v", allowRemote, guarded)
		}
		if control != nil && control("tcp", "169.254.169.254:80", nil) == nil {
			t.Errorf("dial guard let 169.254.169.254 through")
		}
	}
}
