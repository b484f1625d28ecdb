package control

import (
	"context"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	v4 "github.com/aws/aws-sdk-go-v2/aws/signer/v4"
)

// Query parameters of a presigned request.
const (
	qAlgorithm     = "X-Amz-Algorithm"
	qCredential    = "X-Amz-Credential"
	qDate          = "X-Amz-Date"
	qSignedHeaders = "X-Amz-SignedHeaders"
	qSignature     = "X-Amz-Signature"
	qExpires       = "X-Amz-Expires"
	qToken         = "X-Amz-Security-Token"
	// maxExpires is the longest validity a presigned URL may ask for.
	maxExpires = 7 * 24 * time.Hour
)

// isPresigned reports whether the query carries a signature.
func isPresigned(q url.Values) bool { return q.Has(qSignature) || q.Has(qAlgorithm) }

// presignParam reports whether a query parameter belongs to a presigned
// URL's signature rather than to the action.
func presignParam(name string) bool { return strings.HasPrefix(name, "X-Amz-") }

// verifyQuery checks a presigned request: the signature and its scope are
// in the query. It is valid from X-Amz-Date (less the allowed skew) for
// X-Amz-Expires seconds, or for the allowed skew when that is absent.
func (v *verifier) verifyQuery(r *http.Request, body []byte) (string, *apiError) {
	q := r.URL.Query()
	get := func(name string) (string, *apiError) {
		if len(q[name]) != 1 {
			return "", errorf(codeIncompleteSignature, "The query must carry exactly one %s.", name)
		}
		return q.Get(name), nil
	}
	fields := map[string]string{}
	for _, name := range []string{qAlgorithm, qCredential, qDate, qSignedHeaders, qSignature} {
		val, err := get(name)
		if err != nil {
			return "", err
		}
		fields[strings.TrimPrefix(name, "X-Amz-")] = val
	}
	if fields["Algorithm"] != sigAlgorithm {
		return "", errorf(codeIncompleteSignature, "Unsupported AWS 'algorithm': '%s'. Sign requests with %s.", fields["Algorithm"], sigAlgorithm)
	}
	h, err := parseAuthFields(fields)
	if err != nil {
		return "", err
	}
	signedAt, perr := time.Parse(amzDateForm, fields["Date"])
	if perr != nil {
		return "", errorf(codeIncompleteSignature, "X-Amz-Date must have the form YYYYMMDDTHHMMSSZ, not '%s'.", fields["Date"])
	}
	secret, err := v.check(h, signedAt, q.Get(qToken))
	if err != nil {
		return "", err
	}
	valid, err := presignValidity(q)
	if err != nil {
		return "", err
	}
	now := v.now()
	if signedAt.After(now.Add(maxSkew)) || now.After(signedAt.Add(valid)) {
		return "", errorf(codeRequestExpired, "Request has expired.")
	}

	unsigned := url.Values{}
	for k, vals := range q {
		if k != qSignature {
			unsigned[k] = vals
		}
	}
	req, err := signedCopy(r, h, unsigned.Encode())
	if err != nil {
		return "", err
	}
	creds := aws.Credentials{AccessKeyID: h.keyID, SecretAccessKey: secret}
	uri, _, serr := v.signer.PresignHTTP(context.Background(), creds, req, payloadHash(body), sigService, h.region, signedAt,
		func(o *v4.SignerOptions) { o.DisableHeaderHoisting = true })
	if serr != nil {
		return "", errorf(codeInternal, "An internal error has occurred.")
	}
	i := strings.LastIndex(uri, qSignature+"=")
	if i < 0 {
		return "", errorf(codeInternal, "An internal error has occurred.")
	}
	return h.keyID, compareSignatures(uri[i+len(qSignature)+1:], h.signature)
}

// presignValidity reads X-Amz-Expires.
func presignValidity(q url.Values) (time.Duration, *apiError) {
	vals, ok := q[qExpires]
	if !ok {
		return maxSkew, nil
	}
	n, err := strconv.Atoi(vals[0])
	if len(vals) != 1 || err != nil || n < 1 || time.Duration(n)*time.Second > maxExpires {
		return 0, errorf(codeIncompleteSignature, "X-Amz-Expires must be a number of seconds from 1 to %d.", int(maxExpires/time.Second))
	}
	return time.Duration(n) * time.Second, nil
}
