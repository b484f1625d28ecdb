package creds

import (
	"encoding/json"
	"regexp"
	"testing"
	"time"

	"github.com/imds-dev/imds"
)

func instance() *imds.Instance {
	return &imds.Instance{ID: "i-0123456789abcdef0", IAM: &imds.IAMProfile{RoleName: "app-role"}}
}

// TestGenerator_For checks the shape and stability of derived credentials.
func TestGenerator_For(t *testing.T) {
	// Ensure credentials are well-formed, stable within a period, distinct
	// per delivery and per period, and equal across generators sharing a seed.
	seed := []byte("0123456789abcdef0123456789abcdef")
	g := NewGenerator(seed, DefaultSchedule)
	now := time.Date(2026, 12, 4, 16, 14, 0, 0, time.UTC)
	c := g.For(instance(), DeliveryV1, now)

	if !regexp.MustCompile(`^ASIA[A-Z2-7]{16}$`).MatchString(c.AccessKeyID) {
		t.Errorf("AccessKeyID = %q", c.AccessKeyID)
	}
	if len(c.SecretAccessKey) != 40 {
		t.Errorf("SecretAccessKey has %d characters, want 40", len(c.SecretAccessKey))
	}
	if c.LastUpdated.After(now) || c.Expiration.Sub(now) < time.Hour {
		t.Errorf("LastUpdated %v, Expiration %v at %v", c.LastUpdated, c.Expiration, now)
	}
	if again := g.For(instance(), DeliveryV1, now.Add(time.Minute)); again != c {
		t.Error("credentials changed within one period")
	}
	if other := NewGenerator(seed, DefaultSchedule).For(instance(), DeliveryV1, now); other != c {
		t.Error("two generators with one seed disagree")
	}
	if v2 := g.For(instance(), DeliveryV2, now); v2.AccessKeyID == c.AccessKeyID {
		t.Error("v1 and v2 deliveries share keys")
	}
	next := g.For(instance(), DeliveryV1, g.Schedule().NextRotation(now))
	if next.AccessKeyID == c.AccessKeyID || !next.Expiration.After(c.Expiration) {
		t.Error("no new set after rotation")
	}
}

// TestGenerator_Static checks operator-given credentials.
func TestGenerator_Static(t *testing.T) {
	// Ensure static credentials are served as given, with a rolling expiry
	// when none is set.
	in := instance()
	in.IAM.Static = &imds.StaticCredentials{AccessKeyID: "AKIAEXAMPLE", SecretAccessKey: "s", SessionToken: "t"}
	now := time.Date(2026, 12, 4, 16, 0, 0, 0, time.UTC)
	c := NewGenerator(nil, Schedule{}).For(in, DeliveryV2, now)
	if c.AccessKeyID != "AKIAEXAMPLE" || c.Token != "t" || !c.Expiration.After(now.Add(time.Hour)) {
		t.Errorf("static credentials = %+v", c)
	}
}

// TestCredentials_Render checks the exact layout.
func TestCredentials_Render(t *testing.T) {
	// Ensure the document has EC2's member order, spacing and timestamps.
	c := Credentials{
		AccessKeyID: "ASIAIOSFODNN7EXAMPLE", SecretAccessKey: "wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY", Token: "IQoJ",
		LastUpdated: time.Date(2022, 2, 13, 13, 17, 17, 0, time.UTC), Expiration: time.Date(2022, 2, 13, 19, 41, 45, 0, time.UTC),
	}
	want := "{\n  \"Code\" : \"Success\",\n  \"LastUpdated\" : \"2022-02-13T13:17:17Z\",\n  \"Type\" : \"AWS-HMAC\",\n" +
		"  \"AccessKeyId\" : \"ASIAIOSFODNN7EXAMPLE\",\n  \"SecretAccessKey\" : \"wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY\",\n" +
		"  \"Token\" : \"IQoJ\",\n  \"Expiration\" : \"2022-02-13T19:41:45Z\"\n}"
	if got := string(c.Render()); got != want {
		t.Errorf("Render =\n%s\nwant\n%s", got, want)
	}
	var m map[string]string
	if err := json.Unmarshal(c.Render(), &m); err != nil {
		t.Fatal(err)
	}
}
