package identity

import (
	"bytes"
	"crypto"
	"crypto/rand"
	"crypto/rsa"
	"crypto/sha256"
	"encoding/base64"
	"fmt"

	"github.com/smallstep/pkcs7"
)

// Line widths of the served base64 bodies. Observed signature bodies wrap at
// 76 (SPEC 5.2); the PKCS#7 bodies wrap at 64 as in the Vault reports of
// BL-11, whose users strip the newlines before decoding.
const (
	signatureWidth = 76
	pkcs7Width     = 64
)

// Signatures holds the three signature bodies of
// dynamic/instance-identity/, exactly as they are served: bare base64,
// LF-separated lines, no trailing LF and no PEM armour.
type Signatures struct {
	// Signature is an RSA PKCS#1 v1.5 SHA-256 signature over the document
	// bytes, wrapped at 76 columns.
	Signature []byte
	// PKCS7 is a DER PKCS#7 SignedData with the document embedded, wrapped
	// at 64 columns. EC2 signs this body with DSA and SHA-1; imds uses the
	// RSA key and SHA-256 of RSA2048 instead. A verifier has to be pointed
	// at an imds certificate anyway, since nothing we sign chains to AWS's
	// DSA certificate; crypto/x509 stopped verifying DSA in Go 1.16; and
	// some platforms' OpenSSL policies refuse SHA-1. Verifiers read the
	// algorithms from the SignedData itself, so AWS's openssl smime recipe
	// works unchanged.
	PKCS7 []byte
	// RSA2048 is a DER PKCS#7 SignedData (RSA-2048, SHA-256) with the
	// document embedded and the signer's certificate included, wrapped at
	// 64 columns.
	RSA2048 []byte
}

// Sign signs doc, which must be the exact bytes served as the document. It
// costs two RSA signatures, so callers should sign once per document and
// cache the result; the PKCS#7 bodies carry a signing time, so two calls give
// different (equally valid) bytes.
func (s *Signer) Sign(doc []byte) (Signatures, error) {
	digest := sha256.Sum256(doc)
	raw, err := rsa.SignPKCS1v15(rand.Reader, s.key, crypto.SHA256, digest[:])
	if err != nil {
		return Signatures{}, fmt.Errorf("sign document: %w", err)
	}
	der, err := s.signedData(doc)
	if err != nil {
		return Signatures{}, err
	}

	// One SignedData serves both PKCS#7 bodies; they are separate slices so
	// that a caller changing one cannot change the other.
	p7 := wrapBase64(der, pkcs7Width)
	return Signatures{
		Signature: wrapBase64(raw, signatureWidth),
		PKCS7:     p7,
		RSA2048:   bytes.Clone(p7),
	}, nil
}

// signedData returns a DER PKCS#7 SignedData over doc with doc embedded.
// The digest is set on this SignedData rather than through the library's
// process-wide default, which other code could change.
func (s *Signer) signedData(doc []byte) ([]byte, error) {
	sd, err := pkcs7.NewSignedData(doc)
	if err != nil {
		return nil, fmt.Errorf("pkcs7: %w", err)
	}
	sd.SetDigestAlgorithm(pkcs7.OIDDigestAlgorithmSHA256)
	if err := sd.AddSigner(s.cert, s.key, pkcs7.SignerInfoConfig{}); err != nil {
		return nil, fmt.Errorf("pkcs7 add signer: %w", err)
	}
	der, err := sd.Finish()
	if err != nil {
		return nil, fmt.Errorf("pkcs7 finish: %w", err)
	}
	return der, nil
}

// wrapBase64 encodes b as standard base64 in lines of width characters
// joined by LF, with no LF after the last line.
func wrapBase64(b []byte, width int) []byte {
	enc := base64.StdEncoding.EncodeToString(b)
	out := make([]byte, 0, len(enc)+len(enc)/width)
	for len(enc) > width {
		out = append(out, enc[:width]...)
		out = append(out, '\n')
		enc = enc[width:]
	}
	return append(out, enc...)
}
