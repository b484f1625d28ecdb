package control

import (
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
)

// Ensure shared-credentials files parse as the AWS CLI reads them, and
// incomplete or contradictory ones are refused.
func TestParseCredentials(t *testing.T) {
	tests := []struct {
		name    string
		file    string
		want    map[string]string
		wantErr string
	}{
		{"default", "[default]\naws_access_key_id = AKIA1\naws_secret_access_key = s1\n", map[string]string{"AKIA1": "s1"}, ""},
		{"profiles and comments", "# keys\n[default]\naws_access_key_id=AKIA1\naws_secret_access_key=s1\n; other\n[ci]\nregion = eu-west-1\nAWS_ACCESS_KEY_ID = AKIA2\naws_secret_access_key = s/2+x\n",
			map[string]string{"AKIA1": "s1", "AKIA2": "s/2+x"}, ""},
		{"profile without keys is skipped", "[sso]\nsso_start_url = https://x\n[default]\naws_access_key_id = AKIA1\naws_secret_access_key = s1\n", map[string]string{"AKIA1": "s1"}, ""},
		{"missing secret", "[default]\naws_access_key_id = AKIA1\n", nil, "needs both"},
		{"no keys", "[default]\n", nil, "no profile"},
		{"conflict", "[a]\naws_access_key_id = AKIA1\naws_secret_access_key = s1\n[b]\naws_access_key_id = AKIA1\naws_secret_access_key = s2\n", nil, "twice"},
		{"outside section", "aws_access_key_id = AKIA1\n", nil, "outside"},
		{"bad header", "[default\n", nil, "section header"},
		{"not key value", "[default]\nnonsense\n", nil, "key = value"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := ParseCredentials([]byte(tt.file))
			if tt.wantErr != "" {
				if err == nil || !strings.Contains(err.Error(), tt.wantErr) {
					t.Fatalf("ParseCredentials error = %v, want one containing %q", err, tt.wantErr)
				}
				return
			}
			if err != nil {
				t.Fatalf("ParseCredentials: %v", err)
			}
			if len(got) != len(tt.want) {
				t.Fatalf("keys = %v, want %v", got, tt.want)
			}
			for k, v := range tt.want {
				if got[k] != v {
					t.Errorf("secret of %s = %q, want %q", k, got[k], v)
				}
			}
		})
	}
}

// Ensure the first start writes a 0600 file with an AKIA key and a 40
// character secret, and later starts keep it.
func TestEnsureCredentials(t *testing.T) {
	path := filepath.Join(t.TempDir(), "state", "imds", CredentialsFileName)
	keys, created, err := EnsureCredentials(path)
	if err != nil || !created {
		t.Fatalf("EnsureCredentials = %v, %v; want a new file", created, err)
	}
	fi, err := os.Stat(path)
	if err != nil {
		t.Fatal(err)
	}
	if fi.Mode().Perm() != 0o600 {
		t.Errorf("mode = %v, want 0600", fi.Mode().Perm())
	}
	if len(keys) != 1 {
		t.Fatalf("keys = %d, want 1", len(keys))
	}
	idRe := regexp.MustCompile(`^AKIA[A-Z2-7]{16}$`)
	for id, secret := range keys {
		if !idRe.MatchString(id) || len(secret) != 40 {
			t.Errorf("key %q with a %d-character secret, want AKIA+16 and 40", id, len(secret))
		}
	}

	again, created, err := EnsureCredentials(path)
	if err != nil || created {
		t.Fatalf("second EnsureCredentials = %v, %v; want the existing file", created, err)
	}
	for id, secret := range keys {
		if again[id] != secret {
			t.Errorf("second start changed the key")
		}
	}
}
