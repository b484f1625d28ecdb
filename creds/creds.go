// Package creds produces the temporary credentials an instance receives for
// its IAM role, and renders them in the exact JSON layout EC2 uses.
//
// Generated credentials are derived, not stored: each rotation period has one
// set per instance, role and delivery version, computed with HKDF from a seed.
// Replicas that share the seed serve the same credentials, nothing needs a
// background refresher, and a restart does not change what a client holds.
package creds

import (
	"crypto/hkdf"
	"crypto/sha256"
	"encoding/base64"
	"time"

	"github.com/imds-dev/imds"
)

// Delivery versions, as the ec2:RoleDelivery condition key names them.
const (
	DeliveryV1 = "1.0" // fetched without a token
	DeliveryV2 = "2.0" // fetched with a session token
)

// Credentials are one set of role credentials.
type Credentials struct {
	AccessKeyID     string
	SecretAccessKey string
	Token           string
	LastUpdated     time.Time
	Expiration      time.Time
}

// Schedule sets how long credentials live and how often a new set appears.
// Each set is published at the start of its period and expires Lifetime
// later, so a client always receives credentials with at least
// Lifetime-Period left (one hour with the defaults; EC2 promises five
// minutes, botocore wants more than its 10-minute refresh window plus jitter).
type Schedule struct {
	Lifetime time.Duration // default 6h, as observed on EC2
	Period   time.Duration // default 5h
}

// DefaultSchedule is the schedule used when none is configured.
var DefaultSchedule = Schedule{Lifetime: 6 * time.Hour, Period: 5 * time.Hour}

// NextRotation returns the moment after now at which a new set appears.
func (s Schedule) NextRotation(now time.Time) time.Time {
	start := s.periodStart(now)
	return start.Add(s.Period)
}

func (s Schedule) periodStart(now time.Time) time.Time {
	p := int64(s.Period)
	return time.Unix(0, now.UnixNano()/p*p).UTC()
}

// Generator derives credentials from a secret seed.
type Generator struct {
	seed     []byte
	schedule Schedule
}

// NewGenerator returns a generator with the given seed (at least 32 random
// bytes) and schedule.
func NewGenerator(seed []byte, s Schedule) *Generator {
	if s.Lifetime <= 0 || s.Period <= 0 || s.Period > s.Lifetime {
		s = DefaultSchedule
	}
	return &Generator{seed: seed, schedule: s}
}

// Schedule returns the generator's schedule.
func (g *Generator) Schedule() Schedule { return g.schedule }

// For returns the credentials current at now for the instance's role and the
// given delivery version. Static credentials from the profile win; when they
// carry no expiration, a rolling one from the schedule is reported.
func (g *Generator) For(in *imds.Instance, delivery string, now time.Time) Credentials {
	start := g.schedule.periodStart(now)
	if st := in.IAM.Static; st != nil {
		c := Credentials{
			AccessKeyID:     st.AccessKeyID,
			SecretAccessKey: st.SecretAccessKey,
			Token:           st.SessionToken,
			LastUpdated:     start,
			Expiration:      st.Expiration.UTC(),
		}
		if st.Expiration.IsZero() {
			c.Expiration = start.Add(g.schedule.Lifetime)
		}
		return c
	}

	return g.derive(in.ID, in.IAM.RoleName, delivery, start)
}

// Identity returns the instance identity credentials (identity-credentials/
// ec2/security-credentials/ec2-instance) current at now.
func (g *Generator) Identity(instanceID string, now time.Time) Credentials {
	return g.derive(instanceID, "ec2-instance", "identity", g.schedule.periodStart(now))
}

func (g *Generator) derive(instanceID, role, delivery string, start time.Time) Credentials {
	info := instanceID + "\x00" + role + "\x00" + delivery + "\x00" + start.Format(time.RFC3339)
	material, err := hkdf.Key(sha256.New, g.seed, nil, info, 16+30+120)
	if err != nil {
		// hkdf.Key fails only for lengths beyond 255 hash blocks.
		panic("creds: hkdf: " + err.Error())
	}
	return Credentials{
		AccessKeyID:     "ASIA" + base32Upper(material[:16], 16),
		SecretAccessKey: base64.StdEncoding.EncodeToString(material[16:46]),
		Token:           "IQoJb3JpZ2luX2Vj" + base64.StdEncoding.EncodeToString(material[46:]),
		LastUpdated:     start,
		Expiration:      start.Add(g.schedule.Lifetime),
	}
}

const upperAlnum = "ABCDEFGHIJKLMNOPQRSTUVWXYZ234567"

// base32Upper maps each byte to one of 32 upper-case characters, the alphabet
// of AWS access key ids.
func base32Upper(b []byte, n int) string {
	out := make([]byte, n)
	for i := range out {
		out[i] = upperAlnum[b[i]&31]
	}
	return string(out)
}
