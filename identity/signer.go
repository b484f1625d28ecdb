package identity

import (
	"crypto/rand"
	"crypto/rsa"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/pem"
	"errors"
	"fmt"
	"math/big"
	"time"
)

// keyBits is the RSA size EC2 uses for the rsa2048 and signature bodies.
const keyBits = 2048

// certLifetime is long because verifiers pin the certificate: AWS's own
// identity certificates are valid for decades, and rotating ours means
// handing every verifier a new file.
const certLifetime = 30 * 365 * 24 * time.Hour

// Signer holds the RSA key and self-signed certificate that sign identity
// documents. It never changes after construction and is safe for concurrent
// use.
type Signer struct {
	key     *rsa.PrivateKey
	cert    *x509.Certificate
	certPEM []byte
}

// GenerateSigner makes a fresh RSA-2048 key and a self-signed certificate for
// it. Signatures made with it verify only against [Signer.CertificatePEM], so
// the caller must publish that certificate (and keep [Signer.KeyPEM] if the
// same signatures are to verify after a restart).
func GenerateSigner() (*Signer, error) {
	key, err := rsa.GenerateKey(rand.Reader, keyBits)
	if err != nil {
		return nil, fmt.Errorf("generate rsa key: %w", err)
	}
	serial, err := rand.Int(rand.Reader, new(big.Int).Lsh(big.NewInt(1), 128))
	if err != nil {
		return nil, fmt.Errorf("generate serial: %w", err)
	}

	// Backdate by an hour so that a PKCS#7 signing time, which is truncated
	// to the second, never falls before NotBefore on a fresh certificate.
	now := time.Now().Add(-time.Hour).UTC().Truncate(time.Second)
	tmpl := &x509.Certificate{
		SerialNumber:          serial,
		Subject:               pkix.Name{CommonName: "imds instance identity", Organization: []string{"imds"}},
		NotBefore:             now,
		NotAfter:              now.Add(certLifetime),
		KeyUsage:              x509.KeyUsageDigitalSignature,
		BasicConstraintsValid: true,
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, &key.PublicKey, key)
	if err != nil {
		return nil, fmt.Errorf("create certificate: %w", err)
	}
	cert, err := x509.ParseCertificate(der)
	if err != nil {
		return nil, fmt.Errorf("parse new certificate: %w", err)
	}
	return newSigner(key, cert), nil
}

// LoadSigner builds a Signer from a PEM private key (PKCS#1 "RSA PRIVATE KEY"
// or PKCS#8 "PRIVATE KEY") and the PEM certificate that goes with it. The key
// must be RSA of at least 2048 bits and must match the certificate, since a
// mismatch would only show up later as signatures no verifier accepts.
func LoadSigner(keyPEM, certPEM []byte) (*Signer, error) {
	key, err := parseKey(keyPEM)
	if err != nil {
		return nil, err
	}
	cert, err := parseCertificate(certPEM)
	if err != nil {
		return nil, err
	}
	if !key.PublicKey.Equal(cert.PublicKey) {
		return nil, errors.New("key does not match certificate")
	}
	return newSigner(key, cert), nil
}

func newSigner(key *rsa.PrivateKey, cert *x509.Certificate) *Signer {
	return &Signer{
		key:     key,
		cert:    cert,
		certPEM: pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: cert.Raw}),
	}
}

// CertificatePEM returns the signer's certificate as one PEM block: the file
// to give verifiers (openssl -certfile, Vault, SPIRE) in place of AWS's
// regional certificate. The caller may keep but must not modify the slice.
func (s *Signer) CertificatePEM() []byte { return s.certPEM }

// KeyPEM returns the private key as a PKCS#8 PEM block, for persisting a
// generated signer so that its certificate stays valid across restarts. It
// is secret; write it with 0600 permissions.
func (s *Signer) KeyPEM() []byte {
	// Marshalling a valid RSA key cannot fail.
	der, _ := x509.MarshalPKCS8PrivateKey(s.key)
	return pem.EncodeToMemory(&pem.Block{Type: "PRIVATE KEY", Bytes: der})
}

func parseKey(keyPEM []byte) (*rsa.PrivateKey, error) {
	block, _ := pem.Decode(keyPEM)
	if block == nil {
		return nil, errors.New("parse key: no pem block")
	}
	var key any
	var err error
	switch block.Type {
	case "RSA PRIVATE KEY":
		key, err = x509.ParsePKCS1PrivateKey(block.Bytes)
	case "PRIVATE KEY":
		key, err = x509.ParsePKCS8PrivateKey(block.Bytes)
	default:
		return nil, fmt.Errorf("parse key: unexpected pem type %q", block.Type)
	}
	if err != nil {
		return nil, fmt.Errorf("parse key: %w", err)
	}
	rsaKey, ok := key.(*rsa.PrivateKey)
	if !ok {
		return nil, fmt.Errorf("parse key: %T is not an rsa key", key)
	}
	if n := rsaKey.N.BitLen(); n < keyBits {
		return nil, fmt.Errorf("parse key: rsa key has %d bits, want at least %d", n, keyBits)
	}
	return rsaKey, nil
}

// parseCertificate reads the first CERTIFICATE block of certPEM, skipping
// anything before it, and insists on an RSA public key.
func parseCertificate(certPEM []byte) (*x509.Certificate, error) {
	rest := certPEM
	for {
		var block *pem.Block
		block, rest = pem.Decode(rest)
		if block == nil {
			return nil, errors.New("parse certificate: no certificate pem block")
		}
		if block.Type != "CERTIFICATE" {
			continue
		}
		cert, err := x509.ParseCertificate(block.Bytes)
		if err != nil {
			return nil, fmt.Errorf("parse certificate: %w", err)
		}
		if _, ok := cert.PublicKey.(*rsa.PublicKey); !ok {
			return nil, fmt.Errorf("parse certificate: %T is not an rsa key", cert.PublicKey)
		}
		return cert, nil
	}
}
