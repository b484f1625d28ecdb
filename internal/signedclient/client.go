// Package signedclient is how imds's own commands (audit, fault, event)
// call the control listener: JSON over HTTP, signed with SigV4 using keys
// from an AWS shared-credentials file, and kept on loopback unless the user
// allows otherwise.
package signedclient

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"io"
	"net"
	"net/http"
	"strings"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	v4 "github.com/aws/aws-sdk-go-v2/aws/signer/v4"
	"github.com/aws/aws-sdk-go-v2/config"

	"github.com/imds-dev/imds/internal/loopback"
)

// DefaultEndpoint is where `imds serve` puts its control listener.
const DefaultEndpoint = "http://127.0.0.1:1339"

// Client calls imds's JSON endpoints on the control listener.
type Client struct {
	endpoint string
	creds    aws.Credentials
	http     *http.Client
	signer   *v4.Signer
	region   string
}

// Options configure New.
type Options struct {
	Endpoint        string // default DefaultEndpoint
	CredentialsFile string // AWS shared-credentials file; required
	Profile         string // default "default"
	AllowRemote     bool   // allow a non-loopback endpoint
}

// New returns a client, reading the profile's keys with the AWS SDK's own
// parser of shared-credentials files.
func New(ctx context.Context, o Options) (*Client, error) {
	if o.Endpoint == "" {
		o.Endpoint = DefaultEndpoint
	}
	if o.Profile == "" {
		o.Profile = "default"
	}
	if err := loopback.CheckURL(o.Endpoint, o.AllowRemote); err != nil {
		return nil, err
	}
	if o.CredentialsFile == "" {
		return nil, fmt.Errorf("no control credentials file given")
	}
	shared, err := config.LoadSharedConfigProfile(ctx, o.Profile, func(lo *config.LoadSharedConfigOptions) {
		lo.CredentialsFiles = []string{o.CredentialsFile}
		lo.ConfigFiles = []string{}
	})
	if err != nil {
		return nil, fmt.Errorf("read control credentials %s: %w", o.CredentialsFile, err)
	}
	if !shared.Credentials.HasKeys() {
		return nil, fmt.Errorf("control credentials %s: profile %q has no keys", o.CredentialsFile, o.Profile)
	}
	tr := &http.Transport{Proxy: nil, DialContext: (&net.Dialer{Timeout: 5 * time.Second}).DialContext}
	if !o.AllowRemote {
		tr.DialContext = (&net.Dialer{Timeout: 5 * time.Second, Control: loopback.DialControl}).DialContext
	}
	return &Client{
		endpoint: strings.TrimRight(o.Endpoint, "/"),
		creds:    shared.Credentials,
		http: &http.Client{Transport: tr, Timeout: 30 * time.Second,
			CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }},
		signer: v4.NewSigner(),
		region: "us-east-1",
	}, nil
}

// Error is a non-2xx answer from the control listener.
type Error struct {
	Status int
	Body   string
}

func (e *Error) Error() string {
	return fmt.Sprintf("control plane answered %d: %s", e.Status, strings.TrimSpace(e.Body))
}

// Do sends a signed request with in encoded as JSON (nil: no body) and
// decodes a JSON answer into out (nil: ignored).
func (c *Client) Do(ctx context.Context, method, path string, in, out any) error {
	var body []byte
	if in != nil {
		var err error
		if body, err = json.Marshal(in); err != nil {
			return fmt.Errorf("encode request: %w", err)
		}
	}
	req, err := http.NewRequestWithContext(ctx, method, c.endpoint+path, bytes.NewReader(body))
	if err != nil {
		return err
	}
	if in != nil {
		req.Header.Set("Content-Type", "application/json")
	}
	sum := sha256.Sum256(body)
	if err := c.signer.SignHTTP(ctx, c.creds, req, hex.EncodeToString(sum[:]), "ec2", c.region, time.Now()); err != nil {
		return fmt.Errorf("sign request: %w", err)
	}
	resp, err := c.http.Do(req)
	if err != nil {
		return fmt.Errorf("%s %s: %w", method, path, err)
	}
	defer resp.Body.Close()
	data, err := io.ReadAll(io.LimitReader(resp.Body, 16<<20))
	if err != nil {
		return fmt.Errorf("read answer: %w", err)
	}
	if resp.StatusCode/100 != 2 {
		return &Error{Status: resp.StatusCode, Body: string(data)}
	}
	if out == nil || len(data) == 0 {
		return nil
	}
	if err := json.Unmarshal(data, out); err != nil {
		return fmt.Errorf("decode answer: %w", err)
	}
	return nil
}
