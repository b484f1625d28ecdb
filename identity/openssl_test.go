package identity

import (
	"bytes"
	"encoding/base64"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
)

// opensslDir writes the served files of one signed document into a temporary
// directory, as a user following AWS's instructions would, and returns it.
// It skips the test when openssl is not installed.
func opensslDir(t *testing.T, doc []byte) string {
	t.Helper()
	if _, err := exec.LookPath("openssl"); err != nil {
		t.Skip("openssl not installed; stock-tool checks skipped")
	}
	s := testSigner(t)
	sigs, err := s.Sign(doc)
	if err != nil {
		t.Fatalf("Sign: %v", err)
	}
	sig, err := base64.StdEncoding.DecodeString(string(sigs.Signature))
	if err != nil {
		t.Fatalf("decode signature: %v", err)
	}

	dir := t.TempDir()
	files := map[string][]byte{
		"doc.json": doc,
		// One changed byte, which every check must notice.
		"tampered.json": bytes.Replace(doc, []byte("us-east-1"), []byte("us-east-2"), 1),
		"cert.pem":      s.CertificatePEM(),
		"sig.bin":       sig,
		// The BL-11 recipe: armour lines around the body, plus the LF
		// that echo adds after it.
		"pkcs7.pem":   armour(sigs.PKCS7),
		"rsa2048.pem": armour(sigs.RSA2048),
		// Bodies with the line breaks stripped (tr -d '\n').
		"pkcs7.b64":   bytes.ReplaceAll(sigs.PKCS7, []byte("\n"), nil),
		"rsa2048.b64": bytes.ReplaceAll(sigs.RSA2048, []byte("\n"), nil),
	}
	for name, b := range files {
		if err := os.WriteFile(filepath.Join(dir, name), b, 0o600); err != nil {
			t.Fatalf("write %s: %v", name, err)
		}
	}
	return dir
}

func armour(body []byte) []byte {
	return []byte("-----BEGIN PKCS7-----\n" + string(body) + "\n-----END PKCS7-----\n")
}

// runIn runs a command in dir and returns its combined output.
func runIn(t *testing.T, dir, name string, args ...string) (string, error) {
	t.Helper()
	cmd := exec.Command(name, args...)
	cmd.Dir = dir
	out, err := cmd.CombinedOutput()
	return string(out), err
}

// Ensure both PKCS#7 bodies pass openssl smime -verify with the imds
// certificate, both with -noverify as AWS documents and with the
// certificate as trust anchor, and fail against a changed document.
func TestSigner_SignOpenSSLSMIME(t *testing.T) {
	doc := specDocument().Marshal()
	dir := opensslDir(t, doc)

	tests := []struct {
		body, content string
		trust         []string
		ok            bool
	}{
		{"pkcs7", "doc.json", []string{"-noverify"}, true},
		{"pkcs7", "doc.json", []string{"-CAfile", "cert.pem"}, true},
		{"pkcs7", "tampered.json", []string{"-noverify"}, false},
		{"rsa2048", "doc.json", []string{"-noverify"}, true},
		{"rsa2048", "doc.json", []string{"-CAfile", "cert.pem"}, true},
		{"rsa2048", "tampered.json", []string{"-noverify"}, false},
	}
	for _, tt := range tests {
		t.Run(tt.body+" "+tt.content+" "+tt.trust[0], func(t *testing.T) {
			args := append([]string{"smime", "-verify", "-inform", "PEM",
				"-in", tt.body + ".pem", "-content", tt.content, "-certfile", "cert.pem",
				"-out", "out.json"}, tt.trust...)
			out, err := runIn(t, dir, "openssl", args...)
			ok := err == nil && strings.Contains(out, "Verification successful")
			if ok != tt.ok {
				t.Fatalf("openssl %s: ok = %v, want %v (%v)\n%s",
					strings.Join(args, " "), ok, tt.ok, err, out)
			}
			if !tt.ok {
				return
			}
			got, err := os.ReadFile(filepath.Join(dir, "out.json"))
			if err != nil || !bytes.Equal(got, doc) {
				t.Errorf("verified content = %q (%v), want the document", got, err)
			}
		})
	}
}

// Ensure the PKCS#7 bodies stay valid base64 DER once their line breaks
// are removed, and say SHA-256 and RSA inside.
func TestSigner_SignOpenSSLPrint(t *testing.T) {
	if _, err := exec.LookPath("base64"); err != nil {
		t.Skip("base64 not installed; decode check skipped")
	}
	dir := opensslDir(t, specDocument().Marshal())
	for _, body := range []string{"pkcs7", "rsa2048"} {
		t.Run(body, func(t *testing.T) {
			// Two steps rather than a pipe, so a base64 failure is not hidden
			// behind openssl's exit status.
			script := "base64 -d < " + body + ".b64 > " + body + ".der && " +
				"openssl pkcs7 -inform DER -in " + body + ".der -print -noout"
			out, err := runIn(t, dir, "sh", "-c", script)
			if err != nil {
				t.Fatalf("%s: %v\n%s", script, err, out)
			}
			for _, want := range []string{"pkcs7-signedData", "sha256", "imds instance identity"} {
				if !strings.Contains(out, want) {
					t.Errorf("openssl pkcs7 -print output lacks %q", want)
				}
			}
		})
	}
}

// Ensure openssl dgst verifies the raw signature over the document bytes
// and rejects it over one changed byte.
func TestSigner_SignOpenSSLDgst(t *testing.T) {
	doc := specDocument().Marshal()
	dir := opensslDir(t, doc)
	if out, err := runIn(t, dir, "openssl", "x509", "-in", "cert.pem", "-pubkey", "-noout", "-out", "pubkey.pem"); err != nil {
		t.Fatalf("extract public key: %v\n%s", err, out)
	}

	tests := []struct {
		file string
		ok   bool
	}{
		{"doc.json", true},
		{"tampered.json", false},
	}
	for _, tt := range tests {
		t.Run(tt.file, func(t *testing.T) {
			out, err := runIn(t, dir, "openssl", "dgst", "-sha256", "-verify", "pubkey.pem",
				"-signature", "sig.bin", tt.file)
			if ok := err == nil && strings.Contains(out, "Verified OK"); ok != tt.ok {
				t.Errorf("openssl dgst -verify %s: ok = %v, want %v\n%s", tt.file, ok, tt.ok, out)
			}
		})
	}
}
