package identity

import (
	"bytes"
	"errors"
	"strings"
	"testing"
)

// Ensure Verify accepts genuine bodies, wrapped or not, and names exactly
// the bodies that fail when the document or a signature is tampered with.
func TestVerify(t *testing.T) {
	s := testSigner(t)
	doc := specDocument().Marshal()
	sigs, err := s.Sign(doc)
	if err != nil {
		t.Fatalf("Sign: %v", err)
	}
	otherDoc := bytes.Replace(doc, []byte("t2.micro"), []byte("t2.large"), 1)
	otherSigs, err := s.Sign(otherDoc)
	if err != nil {
		t.Fatalf("Sign: %v", err)
	}
	stranger, err := GenerateSigner()
	if err != nil {
		t.Fatalf("GenerateSigner: %v", err)
	}
	flat := func(b []byte) []byte { return bytes.ReplaceAll(b, []byte("\n"), nil) }

	tests := []struct {
		name string
		doc  []byte
		sigs Signatures
		cert []byte
		bad  string // failing bodies as "signature,pkcs7,rsa2048"; "" means success
	}{
		{name: "genuine", doc: doc, sigs: sigs, cert: s.CertificatePEM()},
		{name: "unwrapped bodies", doc: doc, cert: s.CertificatePEM(),
			sigs: Signatures{flat(sigs.Signature), flat(sigs.PKCS7), flat(sigs.RSA2048)}},
		{name: "tampered document", doc: otherDoc, sigs: sigs, cert: s.CertificatePEM(),
			bad: "signature,pkcs7,rsa2048"},
		{name: "trailing newline added", doc: append(bytes.Clone(doc), '\n'), sigs: sigs,
			cert: s.CertificatePEM(), bad: "signature,pkcs7,rsa2048"},
		{name: "signature of another document", doc: doc, cert: s.CertificatePEM(),
			sigs: Signatures{otherSigs.Signature, sigs.PKCS7, sigs.RSA2048}, bad: "signature"},
		{name: "pkcs7 of another document", doc: doc, cert: s.CertificatePEM(),
			sigs: Signatures{sigs.Signature, otherSigs.PKCS7, sigs.RSA2048}, bad: "pkcs7"},
		{name: "rsa2048 not base64", doc: doc, cert: s.CertificatePEM(),
			sigs: Signatures{sigs.Signature, sigs.PKCS7, []byte("!!!")}, bad: "rsa2048"},
		{name: "rsa2048 empty", doc: doc, cert: s.CertificatePEM(),
			sigs: Signatures{sigs.Signature, sigs.PKCS7, nil}, bad: "rsa2048"},
		{name: "other certificate", doc: doc, sigs: sigs, cert: stranger.CertificatePEM(),
			bad: "signature,pkcs7,rsa2048"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			err := Verify(tt.doc, tt.sigs, tt.cert)
			if tt.bad == "" {
				if err != nil {
					t.Fatalf("Verify() = %v, want nil", err)
				}
				return
			}
			var ve *VerifyError
			if !errors.As(err, &ve) {
				t.Fatalf("Verify() = %v, want a *VerifyError", err)
			}
			var got []string
			for _, f := range ve.fields() {
				if f.err != nil {
					got = append(got, f.name)
				}
			}
			if g := strings.Join(got, ","); g != tt.bad {
				t.Errorf("failed bodies = %q, want %q (%v)", g, tt.bad, err)
			}
		})
	}
}

// Ensure a PKCS#7 that carries a forger's certificate is checked against
// the given certificate, not the one it brings along.
func TestVerify_ForgedCertificate(t *testing.T) {
	s := testSigner(t)
	forger, err := GenerateSigner()
	if err != nil {
		t.Fatalf("GenerateSigner: %v", err)
	}
	doc := specDocument().Marshal()
	forged, err := forger.Sign(doc)
	if err != nil {
		t.Fatalf("Sign: %v", err)
	}
	err = Verify(doc, forged, s.CertificatePEM())
	var ve *VerifyError
	if !errors.As(err, &ve) || ve.PKCS7 == nil || ve.RSA2048 == nil {
		t.Fatalf("Verify(forged) = %v, want pkcs7 and rsa2048 failures", err)
	}
}

// Ensure an unreadable certificate is a plain error, not a VerifyError.
func TestVerify_BadCertificate(t *testing.T) {
	err := Verify([]byte("{}"), Signatures{}, []byte("not a certificate"))
	var ve *VerifyError
	if err == nil || errors.As(err, &ve) {
		t.Fatalf("Verify() = %v, want a certificate error", err)
	}
}
