package config

import (
	"bytes"
	"encoding/base64"
	"net/netip"
	"reflect"
	"strings"
	"testing"
	"time"

	"github.com/imds-dev/imds"
	"github.com/imds-dev/imds/creds"
	"github.com/imds-dev/imds/identity"
)

func mustParse(t *testing.T, yaml, dir string) *File {
	t.Helper()
	f, err := Parse("imds.yaml", []byte(yaml), dir, testNow)
	if err != nil {
		t.Fatalf("Parse() error = %v", err)
	}
	for _, in := range f.Instances {
		if err := Validate(in); err != nil {
			t.Fatalf("Validate(parsed) = %v", err)
		}
	}
	return f
}

// Ensure the commented example the README points to loads, validates and
// means what its comments say.
func TestLoad_Example(t *testing.T) {
	f, err := Load("../examples/imds.yaml", testNow)
	if err != nil {
		t.Fatalf("Load(example) error = %v", err)
	}
	if len(f.Instances) != 1 {
		t.Fatalf("Load(example) has %d instances, want 1", len(f.Instances))
	}
	in := f.Instances[0]
	if err := Validate(in); err != nil {
		t.Fatalf("Validate(example) = %v", err)
	}

	if want := []string{"127.0.0.1:1338", "[::1]:1338"}; !reflect.DeepEqual(f.Listen, want) {
		t.Errorf("Listen = %q, want %q", f.Listen, want)
	}
	if f.Versions[0] != "1.0" || f.Versions[len(f.Versions)-1] != "2021-03-23" {
		t.Errorf("Versions = %q", f.Versions)
	}
	if f.KeepAlive == nil || *f.KeepAlive || f.AccessLog == nil || !*f.AccessLog {
		t.Errorf("KeepAlive, AccessLog = %v, %v; want false, true", f.KeepAlive, f.AccessLog)
	}
	if f.Credentials != creds.DefaultSchedule {
		t.Errorf("Credentials = %+v, want %+v", f.Credentials, creds.DefaultSchedule)
	}

	if in.LaunchTime != time.Date(2026, 1, 15, 9, 30, 0, 0, time.UTC) {
		t.Errorf("LaunchTime = %v", in.LaunchTime)
	}
	if len(in.Interfaces) != 2 || in.Interfaces[1].DeviceIndex != 1 || in.Interfaces[1].SubnetID != in.Interfaces[0].SubnetID {
		t.Errorf("Interfaces = %+v, want a derived secondary in the primary's subnet", in.Interfaces)
	}
	if got := in.Tags[2]; got != (imds.Tag{Key: "aws:autoscaling:groupName", Value: "web-asg"}) {
		t.Errorf("Tags[2] = %+v", got)
	}
	if in.PublicKeys[0].OpenSSH != DefaultPublicKey {
		t.Errorf("key = %q, want %q", in.PublicKeys[0].OpenSSH, DefaultPublicKey)
	}
	if string(in.UserData) != DefaultUserData {
		t.Errorf("UserData = %q, want %q", in.UserData, DefaultUserData)
	}
	if in.Options.HTTPPutHopLimit != 2 || !in.Options.TagsEnabled() {
		t.Errorf("Options = %+v", in.Options)
	}
	if len(in.Events.Maintenance) != 2 || in.Events.AutoScaling.State != "InService" {
		t.Errorf("Events = %+v", in.Events)
	}
}

// Ensure a tiny file gives the built-in instance with just its changes,
// and values derived from them stay coherent.
func TestParse_Minimal(t *testing.T) {
	def := DefaultInstance(testNow)
	tests := []struct {
		name  string
		yaml  string
		check func(t *testing.T, in *imds.Instance)
	}{
		{"empty file", "", func(t *testing.T, in *imds.Instance) {
			if !reflect.DeepEqual(in, def) {
				t.Errorf("instance = %+v, want the built-in one", in)
			}
		}},
		{"empty instance", "instance: {}\n", func(t *testing.T, in *imds.Instance) {
			if !reflect.DeepEqual(in, def) {
				t.Errorf("instance = %+v, want the built-in one", in)
			}
		}},
		{"region only", "instance:\n  region: eu-west-1\n", func(t *testing.T, in *imds.Instance) {
			p := in.Placement
			if p.AvailabilityZone != "eu-west-1a" || p.AvailabilityZoneID != "euw1-az1" {
				t.Errorf("placement = %+v, want eu-west-1a, euw1-az1", p)
			}
		}},
		{"zone only", "instance:\n  availability-zone: ap-southeast-2c\n", func(t *testing.T, in *imds.Instance) {
			if p := in.Placement; p.Region != "ap-southeast-2" || p.AvailabilityZoneID != "apse2-az3" {
				t.Errorf("placement = %+v, want ap-southeast-2, apse2-az3", p)
			}
		}},
		{"local zone only", "instance:\n  availability-zone: us-west-2-lax-1a\n", func(t *testing.T, in *imds.Instance) {
			if p := in.Placement; p.Region != "us-west-2" || p.AvailabilityZoneID != "usw2-lax1-az1" {
				t.Errorf("placement = %+v, want us-west-2, usw2-lax1-az1", p)
			}
		}},
		{"china region", "instance:\n  region: cn-north-1\n", func(t *testing.T, in *imds.Instance) {
			if !strings.HasPrefix(in.IAM.ProfileARN, "arn:aws-cn:iam::") {
				t.Errorf("profile ARN = %s, want the aws-cn partition", in.IAM.ProfileARN)
			}
		}},
		{"account only", "instance:\n  account-id: \"111122223333\"\n", func(t *testing.T, in *imds.Instance) {
			if in.Interfaces[0].OwnerID != "111122223333" {
				t.Errorf("owner = %s, want the account", in.Interfaces[0].OwnerID)
			}
			if in.IAM.ProfileARN != "arn:aws:iam::111122223333:instance-profile/app-role" || in.IAM.ProfileID == def.IAM.ProfileID {
				t.Errorf("profile = %+v, want one in the account", in.IAM)
			}
		}},
		{"id only", "instance:\n  id: i-0aaaaaaaaaaaaaaaa\n", func(t *testing.T, in *imds.Instance) {
			ni, dn := in.Interfaces[0], def.Interfaces[0]
			if ni.ID == dn.ID || ni.MAC == dn.MAC || ni.PrivateIPv4s[0] == dn.PrivateIPv4s[0] {
				t.Errorf("interface = %+v, want its own id, MAC and address", ni)
			}
			if !ni.SubnetIPv4CIDR.Contains(ni.PrivateIPv4s[0]) {
				t.Errorf("address %s outside subnet %s", ni.PrivateIPv4s[0], ni.SubnetIPv4CIDR)
			}
		}},
		{"interface outside the default VPC", "instance:\n  network-interfaces:\n    - private-ips: [10.1.2.3]\n      ipv6s: [\"2001:db8:1:2::5\"]\n",
			func(t *testing.T, in *imds.Instance) {
				ni := in.Interfaces[0]
				if ni.SubnetIPv4CIDR != netip.MustParsePrefix("10.1.2.0/24") || ni.VPCIPv4CIDRs[0] != netip.MustParsePrefix("10.1.0.0/16") {
					t.Errorf("subnet %s, vpc %s; want 10.1.2.0/24 in 10.1.0.0/16", ni.SubnetIPv4CIDR, ni.VPCIPv4CIDRs)
				}
				if ni.SubnetIPv6CIDRs[0] != netip.MustParsePrefix("2001:db8:1:2::/64") || ni.VPCIPv6CIDRs[0] != netip.MustParsePrefix("2001:db8:1::/56") {
					t.Errorf("IPv6 subnet %s, vpc %s", ni.SubnetIPv6CIDRs, ni.VPCIPv6CIDRs)
				}
				if ni.SubnetID == def.Interfaces[0].SubnetID || ni.VPCID == def.Interfaces[0].VPCID {
					t.Errorf("subnet and VPC ids %s, %s are the built-in ones", ni.SubnetID, ni.VPCID)
				}
				if !reflect.DeepEqual(ni.SecurityGroups, def.Interfaces[0].SecurityGroups) {
					t.Errorf("security groups = %+v, want the built-in ones", ni.SecurityGroups)
				}
			}},
		{"no key, no role, no user data", "instance:\n  key-pair: ~\n  iam: none\n  user-data: ~\n  tags: {}\n",
			func(t *testing.T, in *imds.Instance) {
				if in.PublicKeys != nil || in.IAM != nil || in.UserData != nil || in.Tags != nil {
					t.Errorf("keys %v, iam %v, user data %q, tags %v; want none", in.PublicKeys, in.IAM, in.UserData, in.Tags)
				}
			}},
		{"iam null", "instance:\n  iam: ~\n", func(t *testing.T, in *imds.Instance) {
			if in.IAM != nil {
				t.Errorf("IAM = %+v, want nil", in.IAM)
			}
		}},
		{"iam empty keeps the default", "instance:\n  iam: {}\n", func(t *testing.T, in *imds.Instance) {
			if !reflect.DeepEqual(in.IAM, def.IAM) {
				t.Errorf("IAM = %+v, want %+v", in.IAM, def.IAM)
			}
		}},
		{"role only", "instance:\n  iam: {role: batch}\n", func(t *testing.T, in *imds.Instance) {
			if in.IAM.ProfileARN != "arn:aws:iam::123456789012:instance-profile/batch" || !profileIDRe.MatchString(in.IAM.ProfileID) {
				t.Errorf("IAM = %+v", in.IAM)
			}
		}},
		{"profile ARN only", "instance:\n  iam: {profile-arn: \"arn:aws:iam::123456789012:instance-profile/team/batch\"}\n",
			func(t *testing.T, in *imds.Instance) {
				if in.IAM.RoleName != "batch" {
					t.Errorf("role = %q, want batch", in.IAM.RoleName)
				}
			}},
		{"static credentials", "instance:\n  iam:\n    credentials:\n      access-key-id: ASIAEXAMPLE1234567890\n" +
			"      secret-access-key: secret\n      session-token: token\n", func(t *testing.T, in *imds.Instance) {
			want := &imds.StaticCredentials{AccessKeyID: "ASIAEXAMPLE1234567890", SecretAccessKey: "secret", SessionToken: "token"}
			if in.IAM.RoleName != "app-role" || !reflect.DeepEqual(in.IAM.Static, want) {
				t.Errorf("IAM = %+v, static %+v", in.IAM, in.IAM.Static)
			}
		}},
		{"public keys", "instance:\n  public-keys:\n    - {name: a, public-key: \"ssh-rsa AAAAB3Nza a\"}\n" +
			"    - name: b\n      public-key: |\n        ssh-ed25519 AAAAC3Nz b\n", func(t *testing.T, in *imds.Instance) {
			want := []imds.PublicKey{{Name: "a", OpenSSH: "ssh-rsa AAAAB3Nza a\n"}, {Name: "b", OpenSSH: "ssh-ed25519 AAAAC3Nz b\n"}}
			if !reflect.DeepEqual(in.PublicKeys, want) {
				t.Errorf("PublicKeys = %+v, want %+v", in.PublicKeys, want)
			}
		}},
		{"spot makes a spot instance", "instance:\n  events: {spot: {action: stop}}\n", func(t *testing.T, in *imds.Instance) {
			if in.LifeCycle != "spot" || in.Events.Spot.Action != imds.SpotStop {
				t.Errorf("life cycle %q, spot %+v", in.LifeCycle, in.Events.Spot)
			}
		}},
		{"scalar lists", "instance:\n  product-codes: abc123\n  network-interfaces:\n    - private-ips: 10.0.0.5\n",
			func(t *testing.T, in *imds.Instance) {
				if len(in.ProductCodes) != 1 || in.Interfaces[0].PrivateIPv4s[0] != netip.MustParseAddr("10.0.0.5") {
					t.Errorf("product codes %q, addresses %v", in.ProductCodes, in.Interfaces[0].PrivateIPv4s)
				}
			}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			f := mustParse(t, tt.yaml, t.TempDir())
			if len(f.Instances) != 1 {
				t.Fatalf("got %d instances, want 1", len(f.Instances))
			}
			tt.check(t, f.Instances[0])
		})
	}
}

// Ensure YAML merge keys work for sharing values between fleet instances,
// with the instance's own keys winning.
func TestParse_MergeKeys(t *testing.T) {
	f := mustParse(t, "instances:\n"+
		"  - &base\n    id: i-0123456789abcdef1\n    region: eu-west-1\n    instance-type: t3.micro\n"+
		"  - <<: *base\n    id: i-0123456789abcdef2\n", t.TempDir())
	a, b := f.Instances[0], f.Instances[1]
	if b.ID != "i-0123456789abcdef2" || b.Placement.Region != "eu-west-1" || b.InstanceType != "t3.micro" {
		t.Errorf("merged instance = %s %s %s", b.ID, b.Placement.Region, b.InstanceType)
	}
	if a.Interfaces[0].PrivateIPv4s[0] == b.Interfaces[0].PrivateIPv4s[0] {
		t.Errorf("both instances have address %s", a.Interfaces[0].PrivateIPv4s[0])
	}
}

// Ensure derived ids, MACs and addresses are the same on every start.
func TestParse_Deterministic(t *testing.T) {
	yaml := "instances:\n  - id: i-0123456789abcdef1\n  - id: i-0123456789abcdef2\n" +
		"    network-interfaces: [{private-ips: [10.0.0.5]}, {private-ips: [10.0.1.5]}]\n" +
		"    events: {maintenance: [{code: system-reboot, not-before: +1h}]}\n"
	a := mustParse(t, yaml, t.TempDir())
	b, err := Parse("other.yaml", []byte(yaml), t.TempDir(), testNow.Add(time.Hour))
	if err != nil {
		t.Fatal(err)
	}
	for i := range a.Instances {
		x, y := a.Instances[i], b.Instances[i]
		if !reflect.DeepEqual(x.Interfaces, y.Interfaces) {
			t.Errorf("instance %d interfaces differ between starts:\n%+v\n%+v", i, x.Interfaces, y.Interfaces)
		}
		for j := range x.Events.Maintenance {
			if x.Events.Maintenance[j].ID != y.Events.Maintenance[j].ID {
				t.Errorf("event ids differ: %s, %s", x.Events.Maintenance[j].ID, y.Events.Maintenance[j].ID)
			}
		}
	}
	if m := a.Instances[1].Interfaces; m[0].MAC == m[1].MAC || m[0].ID == m[1].ID {
		t.Errorf("interfaces share MAC or id: %+v", m)
	}
}

// Ensure tags keep the file's order, which tags/instance serves.
func TestParse_TagOrder(t *testing.T) {
	f := mustParse(t, "instance:\n  tags:\n    Zeta: \"1\"\n    alpha: two\n    Mid: 3\n    empty:\n    aws:cloudformation:stack-name: s\n", t.TempDir())
	want := []imds.Tag{
		{Key: "Zeta", Value: "1"}, {Key: "alpha", Value: "two"}, {Key: "Mid", Value: "3"},
		{Key: "empty", Value: ""}, {Key: "aws:cloudformation:stack-name", Value: "s"},
	}
	if got := f.Instances[0].Tags; !reflect.DeepEqual(got, want) {
		t.Errorf("Tags = %+v, want %+v", got, want)
	}
}

// Ensure binary user data is read byte for byte, whichever way it is given.
func TestParse_UserData(t *testing.T) {
	dir := t.TempDir()
	binary := []byte{0x1f, 0x8b, 0x08, 0x00, 0x00, 0x0d, 0x0a, 0x80, 0xff, 0xfe, 0x00, 0x7f, '\r', '\n'}
	writeFile(t, dir, "ud.gz", binary)
	tests := []struct {
		name string
		yaml string
		want []byte
	}{
		{"file", "instance:\n  user-data-file: ud.gz\n", binary},
		{"base64", "instance:\n  user-data-base64: " + base64.StdEncoding.EncodeToString(binary) + "\n", binary},
		{"base64 folded", "instance:\n  user-data-base64: |\n    IyEvYmlu\n    L3NoCg==\n", []byte("#!/bin/sh\n")},
		{"inline block keeps the final newline", "instance:\n  user-data: |\n    #!/bin/sh\n    echo hi\n", []byte("#!/bin/sh\necho hi\n")},
		{"inline strip", "instance:\n  user-data: |-\n    x\n", []byte("x")},
		{"empty is none", "instance:\n  user-data: \"\"\n", nil},
		{"empty file is none", "instance:\n  user-data-file: ~\n", nil},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got := mustParse(t, tt.yaml, dir).Instances[0].UserData
			if !bytes.Equal(got, tt.want) || (got == nil) != (tt.want == nil) {
				t.Errorf("UserData = %q, want %q", got, tt.want)
			}
		})
	}
}

// Ensure EC2's 16384-byte limit is enforced after decoding, in every form.
func TestParse_UserDataLimit(t *testing.T) {
	dir := t.TempDir()
	for _, n := range []int{MaxUserData, MaxUserData + 1} {
		data := bytes.Repeat([]byte{0xa5}, n)
		file := writeFile(t, dir, "ud.bin", data)
		text := strings.Repeat("x", n)
		for _, yaml := range []string{
			"instance:\n  user-data-file: " + file + "\n",
			"instance:\n  user-data-base64: " + base64.StdEncoding.EncodeToString(data) + "\n",
			"instance:\n  user-data: " + text + "\n",
		} {
			f, err := Parse("imds.yaml", []byte(yaml), dir, testNow)
			switch {
			case n == MaxUserData && (err != nil || len(f.Instances[0].UserData) != n):
				t.Errorf("%.40s... with %d bytes: error %v", yaml, n, err)
			case n > MaxUserData && (err == nil || !strings.HasPrefix(err.Error(), "imds.yaml:2: instance.user-data")):
				t.Errorf("%.40s... with %d bytes: error %v, want the limit", yaml, n, err)
			}
		}
	}
}

// Ensure event times given relative to the start land where they say.
func TestParse_RelativeEvents(t *testing.T) {
	f := mustParse(t, "instance:\n  events:\n"+
		"    spot: {action: hibernate, after: 2m}\n"+
		"    rebalance: {after: 1m}\n"+
		"    autoscaling: {state: \"Warmed:Stopped\", after: 30s}\n"+
		"    maintenance:\n"+
		"      - {code: system-reboot, not-before: +24h}\n"+
		"      - {code: instance-stop, after: 5m, not-before: -48h, not-after: -46h, not-before-deadline: +96h, state: completed}\n"+
		"      - {id: instance-event-0123456789abcdef0, code: system-maintenance, not-before: \"2026-05-01T00:00:00Z\", not-after: \"2026-05-01T02:00:00+02:00\"}\n", t.TempDir())
	ev := f.Instances[0].Events
	at := func(d time.Duration) time.Time { return testNow.Add(d) }

	if s := ev.Spot; s.Action != "hibernate" || s.NoticeTime != at(2*time.Minute) || s.ActionTime != at(4*time.Minute) {
		t.Errorf("Spot = %+v, want notice at +2m acting at +4m", s)
	}
	if ev.Rebalance.NoticeTime != at(time.Minute) {
		t.Errorf("Rebalance = %+v, want +1m", ev.Rebalance)
	}
	if a := ev.AutoScaling; a.State != "Warmed:Stopped" || a.Since != at(30*time.Second) {
		t.Errorf("AutoScaling = %+v", a)
	}

	m := ev.Maintenance
	if m[0].NotBefore != at(24*time.Hour) || m[0].NotAfter != at(26*time.Hour) || !m[0].PostedAt.IsZero() ||
		m[0].State != imds.EventActive || m[0].Description != "scheduled reboot" || !eventIDRe.MatchString(m[0].ID) {
		t.Errorf("Maintenance[0] = %+v, want +24h to +26h, active, always visible", m[0])
	}
	if m[1].PostedAt != at(5*time.Minute) || m[1].NotBefore != at(-48*time.Hour) || m[1].NotAfter != at(-46*time.Hour) || m[1].NotBeforeDeadline != at(96*time.Hour) ||
		m[1].State != imds.EventCompleted || m[1].ID == m[0].ID {
		t.Errorf("Maintenance[1] = %+v", m[1])
	}
	if m[2].ID != "instance-event-0123456789abcdef0" || m[2].NotAfter != m[2].NotBefore {
		t.Errorf("Maintenance[2] = %+v, want its own id and an instant window", m[2])
	}
}

// Ensure an absolute maintenance window that ends before it starts is
// caught even when one end is relative.
func TestParse_MixedEventTimes(t *testing.T) {
	_, err := Parse("imds.yaml", []byte("instance:\n  events:\n    maintenance:\n"+
		"      - {code: system-reboot, not-before: \"2027-01-01T00:00:00Z\", not-after: +1h}\n"), "", testNow)
	if err == nil || !strings.HasPrefix(err.Error(), "imds.yaml:4: instance.events.maintenance[0].not-after: comes before not-before") {
		t.Errorf("Parse() error = %v", err)
	}
}

// Ensure the server settings are read, with schedule defaults that keep
// clients supplied with fresh credentials.
func TestParse_Settings(t *testing.T) {
	dir := t.TempDir()
	signer, err := identity.GenerateSigner()
	if err != nil {
		t.Fatal(err)
	}
	writeFile(t, dir, "key.pem", signer.KeyPEM())
	writeFile(t, dir, "cert.pem", signer.CertificatePEM())
	seed := strings.Repeat("ab", 32)

	f := mustParse(t, "listen: 127.0.0.1:0\nkeep-alive: true\n"+
		"identity: {key-file: key.pem, cert-file: cert.pem}\n"+
		"credentials: {lifetime: 15m, seed: "+seed+"}\n", dir)
	if !reflect.DeepEqual(f.Listen, []string{"127.0.0.1:0"}) || f.KeepAlive == nil || !*f.KeepAlive || f.AccessLog != nil {
		t.Errorf("Listen %q, KeepAlive %v, AccessLog %v", f.Listen, f.KeepAlive, f.AccessLog)
	}
	if !bytes.Equal(f.IdentityKeyPEM, signer.KeyPEM()) || !bytes.Equal(f.IdentityCertPEM, signer.CertificatePEM()) {
		t.Errorf("identity PEMs not read")
	}
	if want := (creds.Schedule{Lifetime: 15 * time.Minute, Period: 10 * time.Minute}); f.Credentials != want {
		t.Errorf("Credentials = %+v, want %+v", f.Credentials, want)
	}
	if len(f.CredentialSeed) != 32 || f.CredentialSeed[0] != 0xab {
		t.Errorf("CredentialSeed = %x", f.CredentialSeed)
	}

	g := mustParse(t, "credentials: {rotate-every: 2h}\n", dir)
	if want := (creds.Schedule{Lifetime: 3 * time.Hour, Period: 2 * time.Hour}); g.Credentials != want {
		t.Errorf("Credentials = %+v, want %+v", g.Credentials, want)
	}
}

// Ensure Default is what a missing file means.
func TestDefault(t *testing.T) {
	f := Default(testNow)
	if len(f.Instances) != 1 || f.Instances[0].ID != DefaultInstance(testNow).ID || f.Credentials != creds.DefaultSchedule {
		t.Errorf("Default() = %+v", f)
	}
	if err := Validate(f.Instances[0]); err != nil {
		t.Errorf("Validate(DefaultInstance) = %v", err)
	}
}
