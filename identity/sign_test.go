package identity

import (
	"bytes"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/rsa"
	"crypto/x509"
	"encoding/pem"
	"regexp"
	"sync"
	"testing"
)

// sharedSigner saves generating an RSA key in every test.
var sharedSigner = sync.OnceValues(GenerateSigner)

func testSigner(t *testing.T) *Signer {
	t.Helper()
	s, err := sharedSigner()
	if err != nil {
		t.Fatalf("GenerateSigner: %v", err)
	}
	return s
}

var base64Body = regexp.MustCompile(`^[A-Za-z0-9+/=\n]+$`)

// checkWrapped fails unless body is bare base64 in lines of exactly width
// characters, the last one shorter or equal, with no trailing LF.
func checkWrapped(t *testing.T, name string, body []byte, width int) {
	t.Helper()
	if !base64Body.Match(body) {
		t.Fatalf("%s is not bare base64: %q", name, body)
	}
	lines := bytes.Split(body, []byte("\n"))
	for i, line := range lines {
		last := i == len(lines)-1
		if (!last && len(line) != width) || (last && (len(line) == 0 || len(line) > width)) {
			t.Fatalf("%s line %d has %d characters, want %d", name, i, len(line), width)
		}
	}
}

// Ensure Sign returns the three bodies in the served shape and that they
// verify, on every call.
func TestSigner_Sign(t *testing.T) {
	s := testSigner(t)
	doc := specDocument().Marshal()
	for i := range 2 {
		sigs, err := s.Sign(doc)
		if err != nil {
			t.Fatalf("Sign #%d: %v", i, err)
		}
		checkWrapped(t, "signature", sigs.Signature, 76)
		checkWrapped(t, "pkcs7", sigs.PKCS7, 64)
		checkWrapped(t, "rsa2048", sigs.RSA2048, 64)
		if err := Verify(doc, sigs, s.CertificatePEM()); err != nil {
			t.Fatalf("Verify after Sign #%d: %v", i, err)
		}
	}
}

// Ensure wrapBase64 breaks lines at the width and never ends with a LF.
func TestWrapBase64(t *testing.T) {
	tests := []struct {
		in    string
		width int
		want  string
	}{
		{"", 4, ""},
		{"abc", 4, "YWJj"},
		{"abcdef", 4, "YWJj\nZGVm"},
		{"abcdefg", 4, "YWJj\nZGVm\nZw=="},
	}
	for _, tt := range tests {
		t.Run(tt.in, func(t *testing.T) {
			if got := string(wrapBase64([]byte(tt.in), tt.width)); got != tt.want {
				t.Errorf("wrapBase64(%q, %d) = %q, want %q", tt.in, tt.width, got, tt.want)
			}
		})
	}
}

// Ensure LoadSigner accepts PKCS#1 and PKCS#8 RSA keys that match the
// certificate and refuses everything else.
func TestLoadSigner(t *testing.T) {
	s := testSigner(t)
	other, err := GenerateSigner()
	if err != nil {
		t.Fatalf("GenerateSigner: %v", err)
	}
	pkcs1 := pem.EncodeToMemory(&pem.Block{Type: "RSA PRIVATE KEY", Bytes: x509.MarshalPKCS1PrivateKey(s.key)})
	small, err := rsa.GenerateKey(rand.Reader, 1024)
	if err != nil {
		t.Fatalf("generate small key: %v", err)
	}
	ec, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatalf("generate ec key: %v", err)
	}

	tests := []struct {
		name    string
		key     []byte
		cert    []byte
		wantErr bool
	}{
		{name: "pkcs8", key: s.KeyPEM(), cert: s.CertificatePEM()},
		{name: "pkcs1", key: pkcs1, cert: s.CertificatePEM()},
		{name: "cert after other blocks", key: s.KeyPEM(), cert: append(s.KeyPEM(), s.CertificatePEM()...)},
		{name: "wrong cert", key: s.KeyPEM(), cert: other.CertificatePEM(), wantErr: true},
		{name: "small key", key: pkcs8PEM(t, small), cert: s.CertificatePEM(), wantErr: true},
		{name: "ec key", key: pkcs8PEM(t, ec), cert: s.CertificatePEM(), wantErr: true},
		{name: "not pem", key: []byte("nope"), cert: s.CertificatePEM(), wantErr: true},
		{name: "no cert", key: s.KeyPEM(), cert: s.KeyPEM(), wantErr: true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := LoadSigner(tt.key, tt.cert)
			if tt.wantErr {
				if err == nil {
					t.Fatal("LoadSigner succeeded, want error")
				}
				return
			}
			if err != nil {
				t.Fatalf("LoadSigner: %v", err)
			}
			if !bytes.Equal(got.CertificatePEM(), s.CertificatePEM()) {
				t.Error("loaded certificate differs from the original")
			}
			doc := []byte("{}")
			sigs, err := got.Sign(doc)
			if err != nil {
				t.Fatalf("Sign: %v", err)
			}
			if err := Verify(doc, sigs, s.CertificatePEM()); err != nil {
				t.Errorf("Verify: %v", err)
			}
		})
	}
}

// Ensure a generated certificate says what it is and lasts for decades.
func TestGenerateSigner(t *testing.T) {
	cert, err := parseCertificate(testSigner(t).CertificatePEM())
	if err != nil {
		t.Fatalf("parse certificate: %v", err)
	}
	if cert.Subject.CommonName != "imds instance identity" {
		t.Errorf("CommonName = %q", cert.Subject.CommonName)
	}
	if years := cert.NotAfter.Sub(cert.NotBefore).Hours() / 24 / 365; years < 20 {
		t.Errorf("certificate valid for %.1f years, want at least 20", years)
	}
	if n := cert.PublicKey.(*rsa.PublicKey).N.BitLen(); n != 2048 {
		t.Errorf("key has %d bits, want 2048", n)
	}
}

func pkcs8PEM(t *testing.T, key any) []byte {
	t.Helper()
	der, err := x509.MarshalPKCS8PrivateKey(key)
	if err != nil {
		t.Fatalf("marshal pkcs8: %v", err)
	}
	return pem.EncodeToMemory(&pem.Block{Type: "PRIVATE KEY", Bytes: der})
}
