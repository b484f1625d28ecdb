package clients_test

import (
	"os"
	"path/filepath"
	"testing"
	"time"
)

const nodeInstall = "npm ci --prefix test/clients/js"

// Ensure the JavaScript SDK's fromInstanceMetadata returns the credentials
// imds serves, over IMDSv2, with tokens optional or required and with the
// IMDSv1 fallback allowed or blocked.
func TestNodeSDK_FromInstanceMetadata(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name   string
		config string
		args   []string
	}{
		{"optional", "", nil},
		{"required", tokensRequired, nil},
		{"required/no v1 fallback", tokensRequired, []string{"--v1-disabled"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			node := needTool(t, "node", "apt-get install -y nodejs npm")
			dir := clientDir("js")
			if _, err := os.Stat(filepath.Join(dir, "node_modules", "@smithy", "credential-provider-imds")); err != nil {
				missing(t, "@smithy/credential-provider-imds is not installed", nodeInstall)
			}

			s := startIMDS(t, serveOptions{config: tt.config})
			mark := s.mark()
			args := append([]string{filepath.Join(dir, "imds_creds.mjs")}, tt.args...)
			var got struct {
				AccessKeyID     string `json:"accessKeyId"`
				SecretAccessKey string `json:"secretAccessKey"`
				SessionToken    string `json:"sessionToken"`
				Expiration      string `json:"expiration"`
			}
			decodeJSON(t, runClient(t, clientEnv(t, s.URL, true), node, args...), &got)
			requests := s.accessSince(mark)
			want := servedCredentials(t, s)

			if got.AccessKeyID != want.AccessKeyId || got.SecretAccessKey != want.SecretAccessKey ||
				got.SessionToken != want.Token {
				t.Errorf("fromInstanceMetadata() key = %q, want the served %q", got.AccessKeyID, want.AccessKeyId)
			}
			exp, err := time.Parse(time.RFC3339, got.Expiration)
			if err != nil || !exp.Equal(want.expiration(t)) {
				t.Errorf("fromInstanceMetadata() expiration = %q, want the served %q", got.Expiration, want.Expiration)
			}
			checkTokenRequests(t, requests, oneCredentialFetch)
		})
	}
}
