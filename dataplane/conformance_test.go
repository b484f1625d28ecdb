package dataplane

import (
	"encoding/json"
	"regexp"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/imds-dev/imds"
)

// check is one case of SPEC.md's conformance checklist (section 13). Fields
// left zero are not checked. "TOK" in a header value is replaced with a fresh
// token of TTL 21600.
type check struct {
	name     string
	setup    func(*imds.Instance)
	method   string
	path     string
	headers  map[string]string
	status   int
	body     string         // exact body, when not empty
	bodyRE   *regexp.Regexp // body pattern
	ctype    string         // exact Content-Type
	hdr      map[string]string
	noHeader []string
	// unconfirmed marks cases SPEC.md labels (U): our pinned choice, kept
	// in this table so that evidence from EC2 changes one line.
	unconfirmed bool
}

const versionList = "1.0\n2007-01-19\n2007-03-01\n2007-08-29\n2007-10-10\n2007-12-15\n2008-02-01\n" +
	"2008-09-01\n2009-04-04\n2011-01-01\n2011-05-01\n2012-01-12\n2014-02-25\n2014-11-05\n" +
	"2015-10-20\n2016-04-19\n2016-06-30\n2016-09-02\n2018-03-28\n2018-08-17\n2018-09-24\n" +
	"2019-10-01\n2020-10-27\n2021-01-03\n2021-03-23\nlatest"

const rootListing = "ami-id\nami-launch-index\nami-manifest-path\nblock-device-mapping/\nevents/\n" +
	"hostname\niam/\nidentity-credentials/\ninstance-action\ninstance-id\ninstance-life-cycle\n" +
	"instance-type\nlocal-hostname\nlocal-ipv4\nmac\nmetrics/\nnetwork/\nplacement/\nprofile\n" +
	"public-hostname\npublic-ipv4\npublic-keys/\nreservation-id\nsecurity-groups\nservices/"

var (
	reInstanceID = regexp.MustCompile(`^i-[0-9a-f]{8,17}$`)
	reTimestamp  = `\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ`
)

func noUserData(in *imds.Instance) { in.UserData = nil }
func noIAM(in *imds.Instance)      { in.IAM = nil }
func noPublic(in *imds.Instance) {
	in.Interfaces[0].PublicIPv4s = nil
}
func tokensRequired(in *imds.Instance)   { in.Options.HTTPTokens = imds.TokensRequired }
func endpointDisabled(in *imds.Instance) { in.Options.HTTPEndpoint = imds.Disabled }
func tagsEnabled(in *imds.Instance) {
	in.Options.InstanceMetadataTags = imds.Enabled
	in.Tags = []imds.Tag{{Key: "Name", Value: "web-1"}, {Key: "Env", Value: "dev"}}
}

var ttlHeader = "X-aws-ec2-metadata-token-ttl-seconds"

// TestServer_Conformance runs every request-level case of SPEC.md 13.
func TestServer_Conformance(t *testing.T) {
	// Ensure each checklist case answers as the checklist says.
	cases := []check{
		// Top level and listings.
		{name: "01 version list", path: "/", status: 200, body: versionList, ctype: "text/plain"},
		{name: "02 latest without slash", path: "/latest", status: 200, body: "dynamic\nmeta-data\nuser-data"},
		{name: "02 latest with slash", path: "/latest/", status: 200, body: "dynamic\nmeta-data\nuser-data"},
		{name: "03 latest without user data", setup: noUserData, path: "/latest/", status: 200, body: "dynamic\nmeta-data", unconfirmed: true},
		{name: "04 meta-data listing", path: "/latest/meta-data/", status: 200, body: rootListing, ctype: "text/plain"},
		{name: "05 meta-data without slash", path: "/latest/meta-data", status: 200, body: rootListing},
		{name: "06 slash on a leaf", path: "/latest/meta-data/placement/availability-zone/", status: 200, body: "us-east-1a"},
		{name: "07 instance-id", path: "/latest/meta-data/instance-id", status: 200, bodyRE: reInstanceID, ctype: "text/plain"},
		{name: "08 dated version", path: "/2021-03-23/meta-data/instance-id", status: 200, body: "i-0123456789abcdef0"},
		{name: "09 oldest cloud-init version", path: "/2009-04-04/meta-data/", status: 200, body: rootListing},
		{name: "10 unknown version", path: "/1999-01-01/meta-data/", status: 404, body: page404, ctype: "text/html"},
		{name: "11 unknown leaf", path: "/latest/meta-data/no-such-thing", status: 404, body: page404},
		{name: "12 query string ignored", path: "/latest/meta-data/instance-id?x=1", status: 200, body: "i-0123456789abcdef0", unconfirmed: true},
		{name: "13 HEAD", method: "HEAD", path: "/latest/meta-data/instance-id", status: 200, body: "", hdr: map[string]string{"Content-Length": "19"}},
		{name: "14 POST", method: "POST", path: "/latest/meta-data/instance-id", status: 405, body: "", hdr: map[string]string{"Allow": "GET, HEAD"}, unconfirmed: true},
		{name: "15 security groups", path: "/latest/meta-data/security-groups", status: 200, body: "default\nweb"},
		{name: "16 public keys", path: "/latest/meta-data/public-keys/", status: 200, body: "0=my-key"},
		{name: "16 public key 0 with slash", path: "/latest/meta-data/public-keys/0/", status: 200, body: "openssh-key"},
		{name: "16 public key 0", path: "/latest/meta-data/public-keys/0", status: 200, body: "openssh-key"},
		{name: "17 openssh key", path: "/latest/meta-data/public-keys/0/openssh-key", status: 200,
			body: "ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIHSbKC/Tyzio1vc4GGYroC7pgz1seBpelVi0rVVGtoqK my-key\n"},
		{name: "18 macs", path: "/latest/meta-data/network/interfaces/macs/", status: 200, body: "0e:49:61:0f:c3:11/"},
		{name: "18 device number", path: "/latest/meta-data/network/interfaces/macs/0e:49:61:0f:c3:11/device-number", status: 200, body: "0"},
		{name: "19 no public ipv4", setup: noPublic, path: "/latest/meta-data/public-ipv4", status: 404},
		{name: "20 no ipv6", path: "/latest/meta-data/ipv6", status: 404},
		{name: "21 region", path: "/latest/meta-data/placement/region", status: 200, body: "us-east-1"},

		// IAM and identity.
		{name: "22 iam listing", path: "/latest/meta-data/iam/", status: 200, body: "info\nsecurity-credentials/"},
		{name: "23 role name", path: "/latest/meta-data/iam/security-credentials/", status: 200, body: "app-role"},
		{name: "24 credentials", path: "/latest/meta-data/iam/security-credentials/app-role", status: 200, ctype: "text/plain",
			bodyRE: regexp.MustCompile(`^\{\n  "Code" : "Success",\n  "LastUpdated" : "` + reTimestamp + `",\n  "Type" : "AWS-HMAC",\n` +
				`  "AccessKeyId" : "ASIA[A-Z2-7]{16}",\n  "SecretAccessKey" : "[A-Za-z0-9+/]{40}",\n  "Token" : "[A-Za-z0-9+/=]+",\n` +
				`  "Expiration" : "` + reTimestamp + `"\n\}$`)},
		{name: "25 other role", path: "/latest/meta-data/iam/security-credentials/other-role", status: 404},
		{name: "26 iam info", path: "/latest/meta-data/iam/info", status: 200,
			bodyRE: regexp.MustCompile(`^\{\n  "Code" : "Success",\n  "LastUpdated" : "` + reTimestamp + `",\n` +
				`  "InstanceProfileArn" : "arn:aws:iam::123456789012:instance-profile/app-role",\n  "InstanceProfileId" : "AIPA[A-Z0-9]+"\n\}$`)},
		{name: "27 no profile: iam", setup: noIAM, path: "/latest/meta-data/iam/", status: 404},
		{name: "27 no profile: role list", setup: noIAM, path: "/latest/meta-data/iam/security-credentials/", status: 404},
		{name: "29 extended credentials off", path: "/latest/meta-data/iam/security-credentials-extended/", status: 404, unconfirmed: true},
		{name: "33 monitoring", path: "/latest/dynamic/fws/instance-monitoring", status: 200, body: "disabled"},

		// User data.
		{name: "34 user data", path: "/latest/user-data", status: 200, body: "#!/bin/sh\necho hi\n", ctype: "application/octet-stream"},
		{name: "36 no user data", setup: noUserData, path: "/latest/user-data", status: 404, body: page404},

		// Tokens.
		{name: "39 ttl 0", method: "PUT", path: TokenPath, headers: map[string]string{ttlHeader: "0"}, status: 400, bodyRE: regexp.MustCompile(`<title>400 - Bad Request</title>`)},
		{name: "39 ttl 21601", method: "PUT", path: TokenPath, headers: map[string]string{ttlHeader: "21601"}, status: 400},
		{name: "39 ttl abc", method: "PUT", path: TokenPath, headers: map[string]string{ttlHeader: "abc"}, status: 400},
		{name: "39 ttl -5", method: "PUT", path: TokenPath, headers: map[string]string{ttlHeader: "-5"}, status: 400},
		{name: "39 no ttl", method: "PUT", path: TokenPath, status: 400},
		{name: "40 forwarded for", method: "PUT", path: TokenPath, headers: map[string]string{ttlHeader: "60", "X-Forwarded-For": "1.2.3.4"},
			status: 403, noHeader: []string{ttlHeader}, unconfirmed: true},
		{name: "41 dated token path", method: "PUT", path: "/2021-03-23/api/token", headers: map[string]string{ttlHeader: "60"}, status: 403},
		{name: "42 GET token path", path: TokenPath, status: 405, body: "", hdr: map[string]string{"Allow": "OPTIONS, PUT"}},
		{name: "44 garbage token, optional", path: "/latest/meta-data/instance-id", headers: map[string]string{"X-aws-ec2-metadata-token": "garbage"},
			status: 401, body: "", unconfirmed: true},
		{name: "45 required without token", setup: tokensRequired, path: "/latest/meta-data/instance-id", status: 401},
		{name: "45 required with token", setup: tokensRequired, path: "/latest/meta-data/instance-id",
			headers: map[string]string{"X-aws-ec2-metadata-token": "TOK"}, status: 200, body: "i-0123456789abcdef0"},
		{name: "46 required: token issue", setup: tokensRequired, method: "PUT", path: TokenPath, headers: map[string]string{ttlHeader: "60"}, status: 200},

		// Options.
		{name: "49 disabled: GET", setup: endpointDisabled, path: "/latest/meta-data/", status: 403},
		{name: "49 disabled: PUT", setup: endpointDisabled, method: "PUT", path: TokenPath, headers: map[string]string{ttlHeader: "60"}, status: 403},
		{name: "51 tags listed", setup: tagsEnabled, path: "/latest/meta-data/tags/instance", status: 200, body: "Name\nEnv"},
		{name: "51 tag value", setup: tagsEnabled, path: "/latest/meta-data/tags/instance/Name", status: 200, body: "web-1"},
		{name: "52 tags disabled", path: "/latest/meta-data/tags/instance", status: 404},

		// Events.
		{name: "54 no spot notice", path: "/latest/meta-data/spot/instance-action", status: 404},
		{name: "55 no maintenance", path: "/latest/meta-data/events/maintenance/scheduled", status: 200, body: "[]", unconfirmed: true},
		{name: "56 no rebalance", path: "/latest/meta-data/events/recommendations/rebalance", status: 404},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			h := newHarness(t, c.setup)
			method := c.method
			if method == "" {
				method = "GET"
			}
			headers := map[string]string{}
			for k, v := range c.headers {
				if v == "TOK" {
					v = h.token("21600")
				}
				headers[k] = v
			}
			resp, body := h.do(method, c.path, headers)
			if resp.StatusCode != c.status {
				t.Fatalf("%s %s: status %d, want %d (body %q)", method, c.path, resp.StatusCode, c.status, body)
			}
			if got := resp.Header.Get("Server"); got != "EC2ws" {
				t.Errorf("Server = %q, want EC2ws", got)
			}
			if c.body != "" || (c.bodyRE == nil && (c.status == 405 || method == "HEAD")) {
				if body != c.body {
					t.Errorf("body = %q, want %q", body, c.body)
				}
			}
			if c.bodyRE != nil && !c.bodyRE.MatchString(body) {
				t.Errorf("body = %q, want match %v", body, c.bodyRE)
			}
			if c.ctype != "" && resp.Header.Get("Content-Type") != c.ctype {
				t.Errorf("Content-Type = %q, want %q", resp.Header.Get("Content-Type"), c.ctype)
			}
			for k, v := range c.hdr {
				if got := resp.Header.Get(k); got != v {
					t.Errorf("%s = %q, want %q", k, got, v)
				}
			}
			for _, k := range c.noHeader {
				if _, ok := resp.Header[httpCanonical(k)]; ok {
					t.Errorf("header %s present, want absent", k)
				}
			}
			if method != "HEAD" && resp.Header.Get("Content-Length") != strconv.Itoa(len(body)) {
				t.Errorf("Content-Length = %q, body has %d bytes", resp.Header.Get("Content-Length"), len(body))
			}
		})
	}
}

// TestServer_ListingsAgreeWithLeaves crawls the tree as cloud-init does.
func TestServer_ListingsAgreeWithLeaves(t *testing.T) {
	// Ensure every listed entry answers 200 and listings never end in LF.
	h := newHarness(t, tagsEnabled)
	var crawl func(dir string)
	seen := 0
	crawl = func(dir string) {
		body := h.get(dir)
		if strings.HasSuffix(body, "\n") {
			t.Errorf("listing %s ends with LF", dir)
		}
		for _, e := range lines(body) {
			seen++
			if name, _, ok := strings.Cut(e, "="); ok && strings.HasSuffix(dir, "public-keys/") {
				crawl(dir + name + "/")
				continue
			}
			if strings.HasSuffix(e, "/") {
				crawl(dir + e)
				continue
			}
			h.get(dir + e)
		}
	}
	crawl("/latest/meta-data/")
	crawl("/latest/dynamic/")
	if seen < 60 {
		t.Errorf("crawl saw %d entries, want at least 60", seen)
	}
}

// TestServer_RootListingVariants covers cases 4, 19, 27 and 52 on the
// listing side: absent categories are not listed.
func TestServer_RootListingVariants(t *testing.T) {
	// Ensure a category that does not apply is absent from the listing.
	tests := []struct {
		name    string
		setup   func(*imds.Instance)
		present []string
		absent  []string
	}{
		{"default", nil, []string{"iam/", "public-ipv4", "public-hostname"}, []string{"tags/", "ipv6", "spot/"}},
		{"no public ip", noPublic, nil, []string{"public-ipv4", "public-hostname"}},
		{"no profile", noIAM, nil, []string{"iam/"}},
		{"tags on", tagsEnabled, []string{"tags/"}, nil},
		{"no key", func(in *imds.Instance) { in.PublicKeys = nil }, nil, []string{"public-keys/"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			h := newHarness(t, tt.setup)
			got := lines(h.get("/latest/meta-data/"))
			for _, p := range tt.present {
				if !contains(got, p) {
					t.Errorf("listing lacks %q", p)
				}
			}
			for _, a := range tt.absent {
				if contains(got, a) {
					t.Errorf("listing has %q", a)
				}
			}
		})
	}
}

// TestServer_RegionAgrees is case 21 and 30: region, zone and document agree.
func TestServer_RegionAgrees(t *testing.T) {
	// Ensure region = zone minus its letter = the document's region, and the
	// document agrees with the leaves.
	h := newHarness(t, nil)
	var doc map[string]any
	if err := json.Unmarshal([]byte(h.get("/latest/dynamic/instance-identity/document")), &doc); err != nil {
		t.Fatal(err)
	}
	az := h.get("/latest/meta-data/placement/availability-zone")
	for field, path := range map[string]string{
		"region":           "/latest/meta-data/placement/region",
		"availabilityZone": "/latest/meta-data/placement/availability-zone",
		"instanceId":       "/latest/meta-data/instance-id",
		"instanceType":     "/latest/meta-data/instance-type",
		"imageId":          "/latest/meta-data/ami-id",
		"privateIp":        "/latest/meta-data/local-ipv4",
	} {
		if got := h.get(path); doc[field] != got {
			t.Errorf("document %s = %v, %s = %q", field, doc[field], path, got)
		}
	}
	if doc["region"] != az[:len(az)-1] {
		t.Errorf("region %v is not zone %q minus its letter", doc["region"], az)
	}
}

// TestServer_Tokens covers the token cases that need more than one request.
func TestServer_Tokens(t *testing.T) {
	t.Run("37 issue", func(t *testing.T) {
		// Ensure a token is printable, has no whitespace and echoes its TTL.
		h := newHarness(t, nil)
		resp, body := h.do("PUT", TokenPath, map[string]string{ttlHeader: "21600"})
		if resp.StatusCode != 200 || resp.Header.Get(ttlHeader) != "21600" || resp.Header.Get("Content-Type") != "text/plain" {
			t.Fatalf("status %d, ttl %q, type %q", resp.StatusCode, resp.Header.Get(ttlHeader), resp.Header.Get("Content-Type"))
		}
		if !regexp.MustCompile(`^[A-Za-z0-9_-]{20,128}$`).MatchString(body) {
			t.Errorf("token %q is not URL-safe base64 of sensible length", body)
		}
	})
	t.Run("38 ttl 1 expires", func(t *testing.T) {
		// Ensure a 1-second token is refused 2 seconds later.
		h := newHarness(t, nil)
		tok := h.token("1")
		if resp, _ := h.do("GET", "/latest/meta-data/instance-id", map[string]string{"X-aws-ec2-metadata-token": tok}); resp.StatusCode != 200 {
			t.Fatalf("fresh token: status %d", resp.StatusCode)
		}
		h.clock.Advance(2 * time.Second)
		if resp, body := h.do("GET", "/latest/meta-data/instance-id", map[string]string{"X-aws-ec2-metadata-token": tok}); resp.StatusCode != 401 || body != "" {
			t.Fatalf("expired token: status %d body %q, want 401 and empty", resp.StatusCode, body)
		}
		// The same request without a token is IMDSv1 and still served.
		if resp, _ := h.do("GET", "/latest/meta-data/instance-id", nil); resp.StatusCode != 200 {
			t.Fatalf("no token: status %d", resp.StatusCode)
		}
	})
	t.Run("43 remaining ttl", func(t *testing.T) {
		// Ensure a tokened answer carries the remaining TTL, counting down.
		h := newHarness(t, nil)
		tok := h.token("21600")
		h.clock.Advance(100*time.Second + 500*time.Millisecond)
		resp, _ := h.do("GET", "/latest/meta-data/instance-id", map[string]string{"x-aws-ec2-metadata-token": tok})
		if got := resp.Header.Get(ttlHeader); got != "21499" {
			t.Errorf("remaining TTL = %q, want 21499", got)
		}
		resp, _ = h.do("GET", "/latest/meta-data/instance-id", nil)
		if _, ok := resp.Header[httpCanonical(ttlHeader)]; ok {
			t.Errorf("answer without a token carries a TTL header")
		}
	})
	t.Run("47 other instance", func(t *testing.T) {
		// Ensure a token of instance A is refused by instance B, even with a
		// shared key ring.
		a := newHarness(t, nil)
		b := newHarnessFor(t, func() *imds.Instance {
			in := testInstance(a.clock.Now())
			in.ID = "i-0fedcba9876543210"
			return in
		}(), a.clock, a.ring)
		tok := a.token("60")
		if resp, _ := b.do("GET", "/latest/meta-data/instance-id", map[string]string{"X-aws-ec2-metadata-token": tok}); resp.StatusCode != 401 {
			t.Fatalf("status %d, want 401", resp.StatusCode)
		}
	})
	t.Run("48 other replica", func(t *testing.T) {
		// Ensure a token from one replica works on another with the same keys.
		r1 := newHarness(t, nil)
		r2 := newHarnessFor(t, testInstance(r1.clock.Now()), r1.clock, r1.ring)
		tok := r1.token("60")
		if resp, _ := r2.do("GET", "/latest/meta-data/instance-id", map[string]string{"X-aws-ec2-metadata-token": tok}); resp.StatusCode != 200 {
			t.Fatalf("status %d, want 200", resp.StatusCode)
		}
	})
	t.Run("rotated key still honoured", func(t *testing.T) {
		// Ensure tokens signed before a key rotation stay valid.
		h := newHarness(t, nil)
		tok := h.token("600")
		if err := h.ring.Rotate(h.clock.Now()); err != nil {
			t.Fatal(err)
		}
		if resp, _ := h.do("GET", "/latest/meta-data/instance-id", map[string]string{"X-aws-ec2-metadata-token": tok}); resp.StatusCode != 200 {
			t.Fatalf("status %d, want 200", resp.StatusCode)
		}
	})
}

// TestServer_CredentialDelivery is case 28: v1 and v2 credentials differ.
func TestServer_CredentialDelivery(t *testing.T) {
	// Ensure requests with and without a token get different credential sets,
	// and that with tokens required only the v2 set exists.
	h := newHarness(t, nil)
	path := "/latest/meta-data/iam/security-credentials/app-role"
	v1 := h.get(path)
	_, v2 := h.do("GET", path, map[string]string{"X-aws-ec2-metadata-token": h.token("60")})
	if v1 == v2 {
		t.Fatal("v1 and v2 deliveries returned the same credentials")
	}
	h.setInstance(tokensRequired)
	_, v2req := h.do("GET", path, map[string]string{"X-aws-ec2-metadata-token": h.token("60")})
	if v2req != v2 {
		t.Errorf("required mode serves other credentials than the v2 delivery")
	}
}

// TestServer_CredentialsRotate checks BL-21: served credentials always have
// more than 20 minutes left, and a new set appears before the old expires.
func TestServer_CredentialsRotate(t *testing.T) {
	// Ensure credentials rotate ahead of expiry over a simulated day.
	h := newHarness(t, nil)
	path := "/latest/meta-data/iam/security-credentials/app-role"
	keys := map[string]bool{}
	for i := 0; i < 48; i++ {
		var c struct{ AccessKeyId, Expiration, LastUpdated string }
		if err := json.Unmarshal([]byte(h.get(path)), &c); err != nil {
			t.Fatal(err)
		}
		exp, err := time.Parse("2006-01-02T15:04:05Z", c.Expiration)
		if err != nil {
			t.Fatal(err)
		}
		last, _ := time.Parse("2006-01-02T15:04:05Z", c.LastUpdated)
		now := h.clock.Now()
		if left := exp.Sub(now); left <= 20*time.Minute {
			t.Fatalf("at %v credentials expire in %v", now, left)
		}
		if last.After(now) {
			t.Fatalf("LastUpdated %v is in the future of %v", last, now)
		}
		keys[c.AccessKeyId] = true
		h.clock.Advance(30 * time.Minute)
	}
	if len(keys) < 4 {
		t.Errorf("saw %d credential sets in 24h, want at least 4", len(keys))
	}
}

// TestServer_Events covers cases 54 to 56 with notices that appear later.
func TestServer_Events(t *testing.T) {
	// Ensure notices appear at their time with EC2's layouts.
	h := newHarness(t, nil)
	start := h.clock.Now()
	h.setInstance(func(in *imds.Instance) {
		in.Events = imds.Events{
			Spot:      &imds.SpotNotice{Action: imds.SpotTerminate, NoticeTime: start.Add(time.Minute), ActionTime: start.Add(3 * time.Minute)},
			Rebalance: &imds.RebalanceNotice{NoticeTime: start.Add(30 * time.Second)},
			Maintenance: []imds.MaintenanceEvent{{
				ID: "instance-event-0d59937288b749b32", Code: "system-reboot", Description: "scheduled reboot",
				State: imds.EventActive, NotBefore: time.Date(2027, 1, 5, 9, 0, 43, 0, time.UTC),
				NotAfter: time.Date(2027, 1, 5, 9, 17, 23, 0, time.UTC),
			}},
		}
	})
	if resp, _ := h.do("GET", "/latest/meta-data/spot/instance-action", nil); resp.StatusCode != 404 {
		t.Fatalf("spot before notice: %d", resp.StatusCode)
	}
	if contains(lines(h.get("/latest/meta-data/events/")), "recommendations/") {
		t.Fatalf("events/ lists recommendations before the notice")
	}
	h.clock.Advance(time.Minute)
	if got, want := h.get("/latest/meta-data/spot/instance-action"), `{"action": "terminate", "time": "2026-12-04T16:03:00Z"}`; got != want {
		t.Errorf("instance-action = %q, want %q", got, want)
	}
	if got := h.get("/latest/meta-data/spot/termination-time"); got != "2026-12-04T16:03:00Z" {
		t.Errorf("termination-time = %q", got)
	}
	if got := h.get("/latest/meta-data/events/recommendations/rebalance"); got != `{"noticeTime": "2026-12-04T16:00:30Z"}` {
		t.Errorf("rebalance = %q", got)
	}
	want := "[\n  {\n    \"NotBefore\" : \"5 Jan 2027 09:00:43 GMT\",\n    \"Code\" : \"system-reboot\",\n" +
		"    \"Description\" : \"scheduled reboot\",\n    \"EventId\" : \"instance-event-0d59937288b749b32\",\n" +
		"    \"NotAfter\" : \"5 Jan 2027 09:17:23 GMT\",\n    \"State\" : \"active\"\n  }\n]"
	if got := h.get("/latest/meta-data/events/maintenance/scheduled"); got != want {
		t.Errorf("scheduled =\n%s\nwant\n%s", got, want)
	}
	if got := h.get("/latest/meta-data/events/maintenance/history"); got != "[]" {
		t.Errorf("history = %q, want []", got)
	}
}

func contains(list []string, s string) bool {
	for _, v := range list {
		if v == s {
			return true
		}
	}
	return false
}

func httpCanonical(k string) string {
	parts := strings.Split(strings.ToLower(k), "-")
	for i, p := range parts {
		if p != "" {
			parts[i] = strings.ToUpper(p[:1]) + p[1:]
		}
	}
	return strings.Join(parts, "-")
}
