package config

import (
	"encoding/hex"
	"net"
	"regexp"
	"slices"
	"strconv"
	"time"

	"go.yaml.in/yaml/v3"

	"github.com/imds-dev/imds/identity"
)

// listen reads the data-plane addresses; one address may stand alone.
func (d *decoder) listen(f *File) field {
	return func(v *yaml.Node, p string) error {
		addrs, err := d.strs(v, p)
		if err != nil {
			return err
		}
		for i, a := range addrs {
			host, port, err := net.SplitHostPort(a)
			n, perr := strconv.ParseUint(port, 10, 16)
			if err != nil || perr != nil || n == 0 && port != "0" {
				return d.locate(index(p, i), "\""+a+"\" is not host:port such as 127.0.0.1:1338 or [::1]:1338")
			}
			if host != "" && net.ParseIP(host) == nil && host != "localhost" {
				return d.locate(index(p, i), "host \""+host+"\" must be an IP address or localhost")
			}
		}
		f.Listen = addrs
		return nil
	}
}

var versionRe = regexp.MustCompile(`^[0-9]{4}-[0-9]{2}-[0-9]{2}$`)

// versions reads the API versions GET / lists before latest, which the
// data plane always adds: 1.0 and dates.
func (d *decoder) versions(f *File) field {
	return func(v *yaml.Node, p string) error {
		vs, err := d.strs(v, p)
		if err != nil {
			return err
		}
		for i, s := range vs {
			_, terr := time.Parse(time.DateOnly, s)
			switch {
			case s == "latest":
				return d.locate(index(p, i), "latest is always listed; leave it out")
			case s != "1.0" && (!versionRe.MatchString(s) || terr != nil):
				return d.locate(index(p, i), "\""+s+"\" is not a version such as 2021-03-23 or 1.0")
			case slices.Contains(vs[:i], s):
				return d.locate(index(p, i), s+" is listed twice")
			}
		}
		f.Versions = vs
		return nil
	}
}

func (d *decoder) optionalBool(dst **bool) field {
	return func(v *yaml.Node, p string) error {
		b, err := d.boolean(v, p)
		*dst = &b
		return err
	}
}

// maxPEM bounds the identity files; a key and certificate take a few KiB.
const maxPEM = 1 << 20

// identity reads the key and certificate that sign identity documents and
// checks that they belong together, so a mismatch stops the start rather
// than producing signatures no verifier accepts.
func (d *decoder) identity(f *File) field {
	return func(v *yaml.Node, p string) error {
		files := map[string]*[]byte{"key-file": &f.IdentityKeyPEM, "cert-file": &f.IdentityCertPEM}
		read := func(key string) field {
			return func(v *yaml.Node, p string) error {
				name, err := d.str(v, p)
				if err != nil || name == "" {
					return err
				}
				b, err := readFile(d.relative(name), maxPEM+1)
				if err != nil {
					return d.fail(v, p, "%v", err)
				}
				if len(b) > maxPEM {
					return d.fail(v, p, "more than %d bytes; not a PEM file", maxPEM)
				}
				*files[key] = b
				return nil
			}
		}
		if _, err := d.fields(v, p, map[string]field{"key-file": read("key-file"), "cert-file": read("cert-file")}); err != nil {
			return err
		}
		switch {
		case f.IdentityKeyPEM == nil && f.IdentityCertPEM == nil:
			return nil
		case f.IdentityKeyPEM == nil || f.IdentityCertPEM == nil:
			return d.fail(v, p, "key-file and cert-file go together")
		}
		if _, err := identity.LoadSigner(f.IdentityKeyPEM, f.IdentityCertPEM); err != nil {
			return d.locate(p+".key-file", err.Error())
		}
		return nil
	}
}

// Bounds of the credential schedule. STS sessions last at least 15
// minutes, and SDKs refresh within the last 5 to 15 minutes, so a new set
// must appear at least 5 minutes before the old one expires.
const (
	minLifetime   = 15 * time.Minute
	minFreshness  = 5 * time.Minute
	minRotation   = time.Minute
	minSeedLength = 32
)

// credentials reads the role credential schedule and seed. Given only a
// lifetime, sets rotate with at most an hour (a third of the lifetime)
// left; given only a period, sets live an hour longer than it.
func (d *decoder) credentials(f *File) field {
	return func(v *yaml.Node, p string) error {
		var s struct{ lifetime, period time.Duration }
		var seed string
		set, err := d.fields(v, p, map[string]field{
			"lifetime":     d.durationTo(&s.lifetime),
			"rotate-every": d.durationTo(&s.period),
			"seed":         d.strTo(&seed),
		})
		if err != nil {
			return err
		}
		switch {
		case set["lifetime"] && !set["rotate-every"]:
			s.period = s.lifetime - min(time.Hour, s.lifetime/3)
		case set["rotate-every"] && !set["lifetime"]:
			s.lifetime = s.period + time.Hour
		case !set["lifetime"]:
			s.lifetime, s.period = f.Credentials.Lifetime, f.Credentials.Period
		}
		switch {
		case s.lifetime < minLifetime:
			return d.locate(p+".lifetime", "must be at least "+minLifetime.String())
		case s.period < minRotation:
			return d.locate(p+".rotate-every", "must be at least "+minRotation.String())
		case s.lifetime-s.period < minFreshness:
			return d.locate(p+".rotate-every", "must leave at least "+minFreshness.String()+
				" before sets expire (lifetime "+s.lifetime.String()+")")
		}
		f.Credentials.Lifetime, f.Credentials.Period = s.lifetime, s.period

		if seed != "" {
			b, err := hex.DecodeString(seed)
			switch {
			case err != nil:
				return d.locate(p+".seed", "not hexadecimal")
			case len(b) < minSeedLength:
				return d.locate(p+".seed", "must be at least "+strconv.Itoa(minSeedLength)+" bytes ("+
					strconv.Itoa(2*minSeedLength)+" hex digits)")
			}
			f.CredentialSeed = b
		}
		return nil
	}
}

func (d *decoder) durationTo(dst *time.Duration) field {
	return func(v *yaml.Node, p string) (err error) {
		*dst, err = d.duration(v, p)
		return err
	}
}
