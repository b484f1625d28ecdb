package main

import (
	"context"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"strings"

	awshttp "github.com/aws/aws-sdk-go-v2/aws/transport/http"
	"github.com/aws/aws-sdk-go-v2/feature/ec2/imds"

	"github.com/imds-dev/imds/identity"
	"github.com/imds-dev/imds/internal/loopback"
)

// defaultVerifyEndpoint is where "imds serve" listens unless told otherwise.
const defaultVerifyEndpoint = "http://127.0.0.1:1338"

// runVerify implements "imds verify": it fetches the identity document and
// its three signatures from a running imds through aws-sdk-go-v2's IMDS
// client, as a workload would, and checks them against the certificate the
// server signs with. It prints one line per signature body and, when all
// verify, the document's instance ID and region.
//
// Only loopback endpoints are allowed without --allow-remote, and the check
// is repeated on every dial, so neither a name that resolves elsewhere nor a
// redirect can carry a request to a real metadata address.
func runVerify(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	fs := flag.NewFlagSet("verify", flag.ContinueOnError)
	fs.SetOutput(stderr)
	// The endpoint a workload would use is the natural default: the one
	// `imds serve` told the user to export. The loopback check below still
	// applies to it.
	defEndpoint := defaultVerifyEndpoint
	for _, name := range []string{"IMDS_ENDPOINT", "AWS_EC2_METADATA_SERVICE_ENDPOINT"} {
		if v := os.Getenv(name); v != "" {
			defEndpoint = v
			break
		}
	}
	endpoint := fs.String("endpoint", defEndpoint, "imds base `URL` (default from IMDS_ENDPOINT, else AWS_EC2_METADATA_SERVICE_ENDPOINT)")
	certFile := fs.String("cert", "", "`file` holding the certificate PEM the server signs with (required)")
	allowRemote := fs.Bool("allow-remote", false, "allow an endpoint that is not a loopback address")
	if err := fs.Parse(args); err != nil {
		return err
	}
	if fs.NArg() > 0 {
		return fmt.Errorf("unexpected argument %q", fs.Arg(0))
	}
	if *certFile == "" {
		return errors.New("--cert is required")
	}
	certPEM, err := os.ReadFile(*certFile)
	if err != nil {
		return fmt.Errorf("read certificate: %w", err)
	}
	if err := checkVerifyEndpoint(*endpoint, *allowRemote); err != nil {
		return err
	}

	client := imds.New(imds.Options{
		Endpoint: *endpoint,
		// The user asked for this endpoint by name, so AWS_EC2_METADATA_DISABLED
		// (meant for SDK discovery) does not apply.
		ClientEnableState: imds.ClientEnabled,
		HTTPClient:        verifyHTTPClient(*allowRemote),
	})
	doc, sigs, err := fetchIdentity(ctx, client)
	if err != nil {
		return err
	}
	return reportVerify(stdout, doc, sigs, certPEM)
}

// fetchIdentity reads the document and the three signature bodies.
func fetchIdentity(ctx context.Context, c *imds.Client) ([]byte, identity.Signatures, error) {
	var sigs identity.Signatures
	doc, err := fetchIdentityBody(ctx, c, "instance-identity/document")
	if err != nil {
		return nil, sigs, err
	}
	bodies := []struct {
		name string
		dst  *[]byte
	}{
		{"signature", &sigs.Signature},
		{"pkcs7", &sigs.PKCS7},
		{"rsa2048", &sigs.RSA2048},
	}
	for _, b := range bodies {
		if *b.dst, err = fetchIdentityBody(ctx, c, "instance-identity/"+b.name); err != nil {
			return nil, sigs, err
		}
	}
	return doc, sigs, nil
}

func fetchIdentityBody(ctx context.Context, c *imds.Client, path string) ([]byte, error) {
	out, err := c.GetDynamicData(ctx, &imds.GetDynamicDataInput{Path: path})
	if err != nil {
		return nil, fmt.Errorf("fetch %s: %w", path, err)
	}
	defer out.Content.Close()
	b, err := io.ReadAll(out.Content)
	if err != nil {
		return nil, fmt.Errorf("read %s: %w", path, err)
	}
	return b, nil
}

// reportVerify prints a line per signature body and returns an error naming
// the bodies that failed. The document's identity is printed only once all
// three verify, since until then it is unproven.
func reportVerify(w io.Writer, doc []byte, sigs identity.Signatures, certPEM []byte) error {
	err := identity.Verify(doc, sigs, certPEM)
	var ve *identity.VerifyError
	if err != nil && !errors.As(err, &ve) {
		return err // the certificate itself is unusable
	}
	if ve == nil {
		ve = &identity.VerifyError{}
	}

	var failed []string
	for _, r := range []struct {
		name string
		err  error
	}{{"signature", ve.Signature}, {"pkcs7", ve.PKCS7}, {"rsa2048", ve.RSA2048}} {
		if r.err != nil {
			fmt.Fprintf(w, "%s: failed: %v\n", r.name, r.err)
			failed = append(failed, r.name)
			continue
		}
		fmt.Fprintf(w, "%s: ok\n", r.name)
	}
	if len(failed) > 0 {
		return fmt.Errorf("identity document did not verify: %s", strings.Join(failed, ", "))
	}

	var d imds.InstanceIdentityDocument
	if err := json.Unmarshal(doc, &d); err != nil {
		return fmt.Errorf("decode document: %w", err)
	}
	fmt.Fprintf(w, "instanceId: %s\nregion: %s\n", d.InstanceID, d.Region)
	return nil
}

// checkVerifyEndpoint refuses endpoints that are not http(s) URLs, and, unless
// remote ones are allowed, any that is not on loopback.
func checkVerifyEndpoint(raw string, allowRemote bool) error {
	return loopback.CheckURL(raw, allowRemote)
}

// verifyHTTPClient returns the SDK's usual client without proxies (they
// would hide where a request goes) and, unless remote endpoints are
// allowed, with a dialer that refuses every non-loopback address.
func verifyHTTPClient(allowRemote bool) *awshttp.BuildableClient {
	c := awshttp.NewBuildableClient().WithTransportOptions(func(tr *http.Transport) {
		tr.Proxy = nil
	})
	if allowRemote {
		return c
	}
	return c.WithDialerOptions(func(d *net.Dialer) { d.Control = loopback.DialControl })
}
