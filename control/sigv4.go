package control

import (
	"context"
	"crypto/hmac"
	"crypto/sha256"
	"encoding/hex"
	"net/http"
	"net/url"
	"slices"
	"strings"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	v4 "github.com/aws/aws-sdk-go-v2/aws/signer/v4"
)

const (
	sigAlgorithm = "AWS4-HMAC-SHA256"
	sigService   = "ec2"
	amzDateForm  = "20060102T150405Z"
	// maxSkew is how far a request's X-Amz-Date may be from the server's
	// clock, either way.
	maxSkew = 5 * time.Minute
)

// unsignable are headers aws-sdk-go-v2's signer never signs. A request that
// lists one in SignedHeaders cannot be re-signed to compare, so it is
// refused; no AWS SDK or the CLI signs them.
var unsignable = map[string]bool{
	"authorization": true, "user-agent": true, "x-amzn-trace-id": true,
	"expect": true, "transfer-encoding": true,
}

// verifier checks AWS Signature Version 4 on requests: it re-signs the
// request it received with the secret of the key the request names, using
// aws-sdk-go-v2's signer, and compares the two signatures in constant time.
// It is safe for concurrent use.
type verifier struct {
	keys   map[string]string // secret keyed by access key id
	now    func() time.Time
	signer *v4.Signer
}

func newVerifier(keys map[string]string, now func() time.Time) *verifier {
	return &verifier{keys: keys, now: now, signer: v4.NewSigner()}
}

// authHeader is a parsed Authorization header.
type authHeader struct {
	keyID, date, region, service string
	signedHeaders                []string
	signature                    string
}

// verify returns the access key id that signed r, whose body is body, or
// the error EC2 gives for the first problem found: missing, malformed,
// unknown key, expired, wrongly scoped or wrongly signed. The signature may
// be in the Authorization header or, for a presigned URL, in the query.
func (v *verifier) verify(r *http.Request, body []byte) (string, *apiError) {
	values := r.Header.Values("Authorization")
	switch {
	case len(values) == 0 && isPresigned(r.URL.Query()):
		return v.verifyQuery(r, body)
	case len(values) == 0:
		return "", errorf(codeMissingAuth, "The request must contain either a valid (registered) AWS access key ID or X.509 certificate.")
	case len(values) > 1:
		return "", errorf(codeIncompleteSignature, "The request carries more than one Authorization header.")
	}
	h, err := parseAuthorization(values[0])
	if err != nil {
		return "", err
	}
	signedAt, err := signingTime(r, h)
	if err != nil {
		return "", err
	}
	secret, err := v.check(h, signedAt, r.Header.Get("X-Amz-Security-Token"))
	if err != nil {
		return "", err
	}
	if skew := v.now().Sub(signedAt); skew > maxSkew || skew < -maxSkew {
		return "", errorf(codeRequestExpired, "Request has expired.")
	}
	want, err := v.expected(r, body, h, secret, signedAt)
	if err != nil {
		return "", err
	}
	return h.keyID, compareSignatures(want, h.signature)
}

// check looks up the key and checks the credential scope; it returns the
// key's secret.
func (v *verifier) check(h authHeader, signedAt time.Time, securityToken string) (string, *apiError) {
	secret, ok := v.keys[h.keyID]
	if !ok {
		return "", errorf(codeAuthFailure, "AWS was not able to validate the provided access credentials")
	}
	if securityToken != "" {
		// imds's keys are long-term keys; no session token belongs to them.
		return "", errorf(codeAuthFailure, "The security token included in the request is invalid.")
	}
	if h.service != sigService {
		return "", errorf(codeSignatureMismatch, "Credential should be scoped to correct service: '%s'.", sigService)
	}
	if day := signedAt.Format("20060102"); h.date != day {
		return "", errorf(codeSignatureMismatch, "Date in Credential scope does not match YYYYMMDD from ISO-8601 version of date from HTTP: '%s' != '%s'",
			h.date, day)
	}
	return secret, nil
}

// compareSignatures compares in constant time.
func compareSignatures(want, got string) *apiError {
	if !hmac.Equal([]byte(want), []byte(got)) {
		return errorf(codeSignatureMismatch, "The request signature we calculated does not match the signature you provided. Check your AWS Secret Access Key and signing method.")
	}
	return nil
}

// expected re-signs a copy of r that carries only the headers the client
// signed, and returns the signature the client should have sent.
func (v *verifier) expected(r *http.Request, body []byte, h authHeader, secret string, at time.Time) (string, *apiError) {
	req, err := signedCopy(r, h, r.URL.RawQuery)
	if err != nil {
		return "", err
	}
	creds := aws.Credentials{AccessKeyID: h.keyID, SecretAccessKey: secret}
	if err := v.signer.SignHTTP(context.Background(), creds, req, payloadHash(body), sigService, h.region, at); err != nil {
		return "", errorf(codeInternal, "An internal error has occurred.")
	}
	_, sig, _ := strings.Cut(req.Header.Get("Authorization"), "Signature=")
	return sig, nil
}

// signedCopy returns a request like r with the given query and only the
// headers h lists, which is what the signer must see to reproduce the
// client's canonical request.
func signedCopy(r *http.Request, h authHeader, rawQuery string) (*http.Request, *apiError) {
	scheme := "http"
	if r.TLS != nil {
		scheme = "https"
	}
	u := &url.URL{Scheme: scheme, Host: r.Host, Path: r.URL.Path, RawPath: r.URL.RawPath, RawQuery: rawQuery}
	req := &http.Request{Method: r.Method, URL: u, Host: r.Host, Header: http.Header{}}
	for _, name := range h.signedHeaders {
		switch {
		case name == "host":
		case name == "content-length":
			req.ContentLength = r.ContentLength
		case unsignable[name]:
			return nil, errorf(codeSignatureMismatch, "The header %s cannot be part of the signature here; do not sign it.", name)
		default:
			req.Header[http.CanonicalHeaderKey(name)] = r.Header.Values(name)
		}
	}
	return req, nil
}

// payloadHash is the hex SHA-256 of the body. The server always hashes the
// body it received, so a client cannot sign one body and send another.
func payloadHash(body []byte) string {
	sum := sha256.Sum256(body)
	return hex.EncodeToString(sum[:])
}

// parseAuthorization splits "AWS4-HMAC-SHA256 Credential=AKID/20260101/
// us-east-1/ec2/aws4_request, SignedHeaders=host;x-amz-date, Signature=hex".
func parseAuthorization(s string) (authHeader, *apiError) {
	var h authHeader
	rest, ok := strings.CutPrefix(s, sigAlgorithm+" ")
	if !ok {
		alg, _, _ := strings.Cut(s, " ")
		return h, errorf(codeIncompleteSignature, "Unsupported AWS 'algorithm': '%s'. Sign requests with %s.", alg, sigAlgorithm)
	}
	fields := map[string]string{}
	for part := range strings.SplitSeq(rest, ",") {
		k, val, ok := strings.Cut(strings.TrimSpace(part), "=")
		if !ok {
			return h, errorf(codeIncompleteSignature, "Authorization header has a malformed element: '%s'.", strings.TrimSpace(part))
		}
		if _, dup := fields[k]; dup {
			return h, errorf(codeIncompleteSignature, "Authorization header repeats '%s'.", k)
		}
		fields[k] = val
	}
	return parseAuthFields(fields)
}

// parseAuthFields checks and splits the Credential, SignedHeaders and
// Signature elements, from a header or a presigned query alike.
func parseAuthFields(fields map[string]string) (authHeader, *apiError) {
	var h authHeader
	for _, k := range []string{"Credential", "SignedHeaders", "Signature"} {
		if fields[k] == "" {
			return h, errorf(codeIncompleteSignature, "Authorization requires '%s' parameter.", k)
		}
	}

	scope := strings.Split(fields["Credential"], "/")
	if len(scope) != 5 || scope[0] == "" || scope[2] == "" || scope[4] != "aws4_request" {
		return h, errorf(codeIncompleteSignature, "Credential must have the form <access key id>/<date>/<region>/<service>/aws4_request.")
	}
	h.keyID, h.date, h.region, h.service = scope[0], scope[1], scope[2], scope[3]

	h.signedHeaders = strings.Split(fields["SignedHeaders"], ";")
	for _, name := range h.signedHeaders {
		if name == "" || name != strings.ToLower(name) {
			return h, errorf(codeIncompleteSignature, "SignedHeaders must list lowercase header names separated by ';'.")
		}
	}
	if !slices.Contains(h.signedHeaders, "host") {
		return h, errorf(codeIncompleteSignature, "The host header must be signed.")
	}

	h.signature = fields["Signature"]
	if len(h.signature) != 64 || !isLowerHex(h.signature) {
		return h, errorf(codeIncompleteSignature, "Signature must be 64 lowercase hexadecimal digits.")
	}
	return h, nil
}

// signingTime reads X-Amz-Date, which must be present and signed.
func signingTime(r *http.Request, h authHeader) (time.Time, *apiError) {
	vals := r.Header.Values("X-Amz-Date")
	if len(vals) != 1 {
		return time.Time{}, errorf(codeIncompleteSignature, "The request must carry exactly one X-Amz-Date header.")
	}
	if !slices.Contains(h.signedHeaders, "x-amz-date") {
		return time.Time{}, errorf(codeIncompleteSignature, "The x-amz-date header must be signed.")
	}
	t, err := time.Parse(amzDateForm, vals[0])
	if err != nil {
		return time.Time{}, errorf(codeIncompleteSignature, "X-Amz-Date must have the form YYYYMMDDTHHMMSSZ, not '%s'.", vals[0])
	}
	return t, nil
}

func isLowerHex(s string) bool {
	for i := 0; i < len(s); i++ {
		c := s[i]
		if (c < '0' || c > '9') && (c < 'a' || c > 'f') {
			return false
		}
	}
	return true
}
