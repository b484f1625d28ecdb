package clients_test

import (
	"strings"
	"testing"
)

// Ensure the AWS CLI, given no keys, finds the role's credentials through
// imds: `aws configure list` shows them with type iam-role.
func TestAWSCLI_ConfigureList(t *testing.T) {
	t.Parallel()
	for _, mode := range []struct{ name, config string }{
		{"optional", ""},
		{"required", tokensRequired},
	} {
		t.Run(mode.name, func(t *testing.T) {
			t.Parallel()
			aws := needTool(t, "aws", botocoreInstall)
			s := startIMDS(t, serveOptions{config: mode.config})
			mark := s.mark()
			out := runClient(t, clientEnv(t, s.URL, true), aws, "configure", "list")
			requests := s.accessSince(mark)
			want := servedCredentials(t, s)

			rows := map[string][]string{}
			for _, line := range strings.Split(string(out), "\n") {
				if f := strings.Fields(line); len(f) >= 3 {
					rows[f[0]] = f
				}
			}
			for name, suffix := range map[string]string{
				"access_key": last4(want.AccessKeyId),
				"secret_key": last4(want.SecretAccessKey),
			} {
				row := rows[name]
				if len(row) < 3 || row[2] != "iam-role" || !strings.HasSuffix(row[1], suffix) {
					t.Errorf("aws configure list: %s row = %q, want a value ending %q of type iam-role\n%s", name, row, suffix, out)
				}
			}
			checkTokenRequests(t, requests, oneCredentialFetch)
		})
	}
}

func last4(s string) string {
	if len(s) < 4 {
		return s
	}
	return s[len(s)-4:]
}
