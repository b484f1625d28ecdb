package identity

import (
	"bytes"
	"crypto"
	"crypto/rsa"
	"crypto/sha256"
	"crypto/x509"
	"encoding/base64"
	"errors"
	"fmt"
	"strings"

	"github.com/smallstep/pkcs7"
)

// VerifyError reports which signature bodies failed; a nil field verified.
// It mirrors [Signatures] so that a caller can report each body on its own.
type VerifyError struct {
	Signature, PKCS7, RSA2048 error
}

// Error lists the failed bodies in endpoint order, e.g. "pkcs7: ...".
func (e *VerifyError) Error() string {
	var parts []string
	for _, f := range e.fields() {
		if f.err != nil {
			parts = append(parts, f.name+": "+f.err.Error())
		}
	}
	return strings.Join(parts, "; ")
}

// Unwrap returns the individual failures, for errors.Is and errors.As.
func (e *VerifyError) Unwrap() []error {
	var errs []error
	for _, f := range e.fields() {
		if f.err != nil {
			errs = append(errs, f.err)
		}
	}
	return errs
}

type namedErr struct {
	name string
	err  error
}

func (e *VerifyError) fields() []namedErr {
	return []namedErr{{"signature", e.Signature}, {"pkcs7", e.PKCS7}, {"rsa2048", e.RSA2048}}
}

// Verify checks all three signature bodies of doc against the RSA
// certificate in certPEM: the raw signature over the exact bytes, and each
// PKCS#7 body's signature, SHA-256 digest and embedded content, which must
// equal doc. The bodies may be wrapped or not. Trust in the certificate
// itself is the caller's business: only certPEM's key is used, never a
// certificate carried inside the PKCS#7. A certificate that cannot be read
// is a plain error; failed bodies come back as a *[VerifyError].
func Verify(doc []byte, sigs Signatures, certPEM []byte) error {
	cert, err := parseCertificate(certPEM)
	if err != nil {
		return err
	}
	ve := &VerifyError{
		Signature: verifySignature(doc, sigs.Signature, cert),
		PKCS7:     verifySignedData(doc, sigs.PKCS7, cert),
		RSA2048:   verifySignedData(doc, sigs.RSA2048, cert),
	}
	if ve.Signature == nil && ve.PKCS7 == nil && ve.RSA2048 == nil {
		return nil
	}
	return ve
}

func verifySignature(doc, body []byte, cert *x509.Certificate) error {
	raw, err := decodeBody(body)
	if err != nil {
		return err
	}
	digest := sha256.Sum256(doc)
	// parseCertificate guarantees an RSA key.
	pub := cert.PublicKey.(*rsa.PublicKey)
	if err := rsa.VerifyPKCS1v15(pub, crypto.SHA256, digest[:], raw); err != nil {
		return fmt.Errorf("verify: %w", err)
	}
	return nil
}

func verifySignedData(doc, body []byte, cert *x509.Certificate) error {
	der, err := decodeBody(body)
	if err != nil {
		return err
	}
	p7, err := pkcs7.Parse(der)
	if err != nil {
		return fmt.Errorf("parse: %w", err)
	}
	if len(p7.Signers) != 1 {
		return fmt.Errorf("%d signers, want 1", len(p7.Signers))
	}
	if alg := p7.Signers[0].DigestAlgorithm.Algorithm; !alg.Equal(pkcs7.OIDDigestAlgorithmSHA256) {
		return fmt.Errorf("digest algorithm %v, want sha-256", alg)
	}
	if !bytes.Equal(p7.Content, doc) {
		return errors.New("embedded content differs from document")
	}

	// Replace whatever certificates the body carries with the one we were
	// told to trust, so a forged body cannot bring its own key.
	p7.Certificates = []*x509.Certificate{cert}
	if p7.GetOnlySigner() == nil {
		return errors.New("signed by another certificate")
	}
	if err := p7.Verify(); err != nil {
		// The library's digest error spans several lines; keep ours on one.
		var mismatch *pkcs7.MessageDigestMismatchError
		if errors.As(err, &mismatch) {
			return errors.New("verify: content digest mismatch")
		}
		return fmt.Errorf("verify: %w", err)
	}
	return nil
}

// decodeBody undoes the served base64; the decoder skips the LF line breaks.
func decodeBody(body []byte) ([]byte, error) {
	if len(body) == 0 {
		return nil, errors.New("empty body")
	}
	raw, err := base64.StdEncoding.DecodeString(string(body))
	if err != nil {
		return nil, fmt.Errorf("decode base64: %w", err)
	}
	return raw, nil
}
