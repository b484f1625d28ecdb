package clients_test

import (
	"os"
	"os/exec"
	"path/filepath"
	"testing"
)

// Ensure the PKCS#7 signatures imds serves verify with openssl smime the
// way AWS documents for EC2, against the certificate `imds serve
// --identity-cert` wrote, and that `imds verify` accepts all of them.
func TestOpenSSL_SmimeVerify(t *testing.T) {
	t.Parallel()
	openssl := needTool(t, "openssl", "apt-get install -y openssl")
	dir := t.TempDir()
	cert := filepath.Join(dir, "imds-cert.pem")
	s := startIMDS(t, serveOptions{identityCert: cert})

	doc := filepath.Join(dir, "document")
	if err := os.WriteFile(doc, fetch(t, s, "/latest/dynamic/instance-identity/document"), 0o600); err != nil {
		t.Fatal(err)
	}
	for _, name := range []string{"pkcs7", "rsa2048"} {
		t.Run(name, func(t *testing.T) {
			body := fetch(t, s, "/latest/dynamic/instance-identity/"+name)
			pem := filepath.Join(dir, name+".pem")
			wrapped := "-----BEGIN PKCS7-----\n" + string(body) + "\n-----END PKCS7-----\n"
			if err := os.WriteFile(pem, []byte(wrapped), 0o600); err != nil {
				t.Fatal(err)
			}
			cmd := exec.Command(openssl, "smime", "-verify", "-inform", "PEM", "-in", pem,
				"-certfile", cert, "-noverify", "-content", doc)
			if out, err := cmd.CombinedOutput(); err != nil {
				t.Errorf("openssl smime -verify %s: %v\n%s", name, err, out)
			}
		})
	}

	t.Run("imds verify", func(t *testing.T) {
		runClient(t, clientEnv(t, s.URL, false), imdsBin, "verify", "--endpoint", s.URL, "--cert", cert)
	})
}
