package control

import (
	"bufio"
	"bytes"
	"crypto/rand"
	"errors"
	"fmt"
	"io/fs"
	"math/big"
	"os"
	"path/filepath"
	"strings"
)

// CredentialsFileName is the name of the generated credentials file in the
// data directory.
const CredentialsFileName = "control-credentials"

// ParseCredentials reads an AWS shared-credentials file: INI sections named
// after profiles, each with aws_access_key_id and aws_secret_access_key.
// Every complete profile becomes a key; other settings are ignored. It
// returns secrets keyed by access key id.
func ParseCredentials(data []byte) (map[string]string, error) {
	type profile struct{ id, secret string }
	var (
		profiles []*profile
		names    []string
		cur      *profile
	)
	sc := bufio.NewScanner(bytes.NewReader(data))
	for n := 1; sc.Scan(); n++ {
		line := strings.TrimSpace(sc.Text())
		switch {
		case line == "" || line[0] == '#' || line[0] == ';':
		case line[0] == '[':
			name, ok := strings.CutSuffix(line[1:], "]")
			if !ok || strings.TrimSpace(name) == "" {
				return nil, fmt.Errorf("line %d: malformed section header", n)
			}
			cur = &profile{}
			profiles = append(profiles, cur)
			names = append(names, strings.TrimSpace(name))
		default:
			k, v, ok := strings.Cut(line, "=")
			if !ok {
				return nil, fmt.Errorf("line %d: expected key = value", n)
			}
			if cur == nil {
				return nil, fmt.Errorf("line %d: setting outside a [profile] section", n)
			}
			switch strings.ToLower(strings.TrimSpace(k)) {
			case "aws_access_key_id":
				cur.id = strings.TrimSpace(v)
			case "aws_secret_access_key":
				cur.secret = strings.TrimSpace(v)
			}
		}
	}
	if err := sc.Err(); err != nil {
		return nil, err
	}

	keys := map[string]string{}
	for i, p := range profiles {
		if p.id == "" && p.secret == "" {
			continue
		}
		if p.id == "" || p.secret == "" {
			return nil, fmt.Errorf("profile %s: needs both aws_access_key_id and aws_secret_access_key", names[i])
		}
		if old, ok := keys[p.id]; ok && old != p.secret {
			return nil, fmt.Errorf("profile %s: access key id %s appears twice with different secrets", names[i], p.id)
		}
		keys[p.id] = p.secret
	}
	if len(keys) == 0 {
		return nil, errors.New("no profile has aws_access_key_id and aws_secret_access_key")
	}
	return keys, nil
}

// LoadCredentials reads and parses the credentials file at path.
func LoadCredentials(path string) (map[string]string, error) {
	data, err := os.ReadFile(path)
	if err != nil {
		return nil, fmt.Errorf("read control credentials: %w", err)
	}
	keys, err := ParseCredentials(data)
	if err != nil {
		return nil, fmt.Errorf("parse control credentials %s: %w", path, err)
	}
	return keys, nil
}

// EnsureCredentials loads the credentials file at path, first writing one
// with a new random key under profile [default] when there is none. It
// reports whether it wrote the file. The file is created with mode 0600 and
// never replaced, so a second start keeps the key clients already have.
func EnsureCredentials(path string) (keys map[string]string, created bool, err error) {
	if err := os.MkdirAll(filepath.Dir(path), 0o700); err != nil {
		return nil, false, fmt.Errorf("create data directory: %w", err)
	}
	id, secret := NewKey()
	f, err := os.OpenFile(path, os.O_WRONLY|os.O_CREATE|os.O_EXCL, 0o600)
	switch {
	case errors.Is(err, fs.ErrExist):
		keys, err := LoadCredentials(path)
		return keys, false, err
	case err != nil:
		return nil, false, fmt.Errorf("create control credentials: %w", err)
	}
	body := fmt.Sprintf("# imds control-plane key; point AWS_SHARED_CREDENTIALS_FILE here.\n"+
		"[default]\naws_access_key_id = %s\naws_secret_access_key = %s\n", id, secret)
	_, werr := f.WriteString(body)
	if cerr := f.Close(); werr == nil {
		werr = cerr
	}
	if werr != nil {
		os.Remove(path)
		return nil, false, fmt.Errorf("write control credentials: %w", werr)
	}
	return map[string]string{id: secret}, true, nil
}

// NewKey returns a random access key id in AWS's form (AKIA and 16
// uppercase letters or digits) and a 40-character secret.
func NewKey() (id, secret string) {
	const idChars = "ABCDEFGHIJKLMNOPQRSTUVWXYZ234567"
	const secretChars = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/"
	return "AKIA" + randomString(16, idChars), randomString(40, secretChars)
}

func randomString(n int, alphabet string) string {
	b := make([]byte, n)
	max := big.NewInt(int64(len(alphabet)))
	for i := range b {
		k, err := rand.Int(rand.Reader, max)
		if err != nil {
			panic("crypto/rand failed: " + err.Error()) // never returns an error on supported systems
		}
		b[i] = alphabet[k.Int64()]
	}
	return string(b)
}
