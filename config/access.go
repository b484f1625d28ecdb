package config

import (
	"encoding/base64"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strings"

	"go.yaml.in/yaml/v3"

	"github.com/imds-dev/imds"
)

// keyPair reads the launch key pair, the usual case. key-pair: ~ leaves the
// instance without keys, so public-keys/ answers 404.
func (x *instanceDecoder) keyPair(v *yaml.Node, p string) error {
	x.renames["public-keys[0]"] = "key-pair"
	x.in.PublicKeys = nil
	if isNull(v) {
		return nil
	}
	k, err := x.publicKey(v, p)
	if err != nil {
		return err
	}
	x.in.PublicKeys = []imds.PublicKey{k}
	return nil
}

// publicKeys reads several keys, served under public-keys/0, 1, ... in
// the order given.
func (x *instanceDecoder) publicKeys(v *yaml.Node, p string) error {
	x.in.PublicKeys = nil
	return x.list(v, p, false, func(_ int, item *yaml.Node, ip string) error {
		k, err := x.publicKey(item, ip)
		x.in.PublicKeys = append(x.in.PublicKeys, k)
		return err
	})
}

func (x *instanceDecoder) publicKey(v *yaml.Node, p string) (imds.PublicKey, error) {
	var k imds.PublicKey
	_, err := x.fields(v, p, map[string]field{
		"name": x.strTo(&k.Name),
		"public-key": func(v *yaml.Node, p string) error {
			s, err := x.str(v, p)
			// EC2 serves the key line with a final newline (BL-05),
			// whether or not the file's scalar has one.
			if s = strings.TrimSpace(s); s != "" {
				k.OpenSSH = s + "\n"
			}
			return err
		},
	})
	return k, err
}

// iamProfile reads the instance profile. Keys not given keep the built-in
// profile's values, so iam: {} is the default role and
// iam: {credentials: ...} gives it static credentials. iam: none and iam: ~
// remove the profile: iam/ then answers 404, as on an instance without one.
func (x *instanceDecoder) iamProfile(v *yaml.Node, p string) error {
	if v.Kind == yaml.ScalarNode && (isNull(v) || v.Value == "none") {
		x.in.IAM = nil
		return nil
	}
	if v.Kind != yaml.MappingNode {
		return x.fail(v, p, `must be a mapping, "none" or ~, not %s`, describe(v))
	}
	prof := imds.IAMProfile{}
	if x.in.IAM != nil {
		prof = *x.in.IAM
	}
	set, err := x.fields(v, p, map[string]field{
		"role":        x.strTo(&prof.RoleName),
		"profile-arn": x.strTo(&prof.ProfileARN),
		"profile-id":  x.strTo(&prof.ProfileID),
		"credentials": func(v *yaml.Node, p string) (err error) {
			prof.Static, err = x.staticCredentials(v, p)
			return err
		},
	})
	x.iam = set
	x.in.IAM = &prof
	return err
}

// staticCredentials reads credentials to serve instead of derived ones.
func (x *instanceDecoder) staticCredentials(v *yaml.Node, p string) (*imds.StaticCredentials, error) {
	if isNull(v) {
		return nil, nil
	}
	c := &imds.StaticCredentials{}
	_, err := x.fields(v, p, map[string]field{
		"access-key-id":     x.strTo(&c.AccessKeyID),
		"secret-access-key": x.strTo(&c.SecretAccessKey),
		"session-token":     x.strTo(&c.SessionToken),
		"expiration":        x.timeTo(&c.Expiration),
	})
	return c, err
}

// userData reads inline text. user-data: ~ (or "") means none, so
// /latest/user-data answers 404.
func (x *instanceDecoder) userData(v *yaml.Node, p string) error {
	s, err := x.str(v, p)
	if err != nil {
		return err
	}
	return x.setUserData(v, p, []byte(s))
}

// userDataBase64 reads user data as the EC2 API carries it; line breaks
// inside the base64 are ignored.
func (x *instanceDecoder) userDataBase64(v *yaml.Node, p string) error {
	x.renames["user-data"] = "user-data-base64"
	s, err := x.str(v, p)
	if err != nil {
		return err
	}
	s = strings.Join(strings.Fields(s), "")
	if base64.StdEncoding.DecodedLen(len(s)) > 2*MaxUserData {
		return x.fail(v, p, "more than EC2's %d bytes", MaxUserData)
	}
	b, err := base64.StdEncoding.DecodeString(s)
	if err != nil {
		if b, err = base64.RawStdEncoding.DecodeString(s); err != nil {
			return x.fail(v, p, "not valid base64")
		}
	}
	return x.setUserData(v, p, b)
}

// userDataFile reads user data byte for byte from a regular file, for
// binary or gzip payloads. A relative path starts at the config file's
// directory.
func (x *instanceDecoder) userDataFile(v *yaml.Node, p string) error {
	x.renames["user-data"] = "user-data-file"
	name, err := x.str(v, p)
	if err != nil || name == "" {
		x.in.UserData = nil
		return err
	}
	b, err := readFile(x.relative(name), MaxUserData+1)
	if err != nil {
		return x.fail(v, p, "%v", err)
	}
	return x.setUserData(v, p, b)
}

// readFile reads at most limit bytes of a regular file. Devices and pipes
// are refused: /dev/zero would never end and /dev/stdin would wait.
func readFile(name string, limit int64) ([]byte, error) {
	f, err := os.Open(name)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	if st, err := f.Stat(); err != nil {
		return nil, err
	} else if !st.Mode().IsRegular() {
		return nil, fmt.Errorf("%s is not a regular file", name)
	}
	return io.ReadAll(io.LimitReader(f, limit))
}

func (x *instanceDecoder) setUserData(v *yaml.Node, p string, b []byte) error {
	if len(b) > MaxUserData {
		return x.fail(v, p, "more than EC2's %d bytes", MaxUserData)
	}
	x.in.UserData = nil
	if len(b) > 0 {
		x.in.UserData = b
	}
	return nil
}

// relative resolves a path given in the file against the file's directory.
func (d *decoder) relative(name string) string {
	if filepath.IsAbs(name) {
		return name
	}
	return filepath.Join(d.baseDir, name)
}
