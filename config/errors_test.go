package config

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

var testNow = time.Date(2026, 3, 4, 5, 6, 7, 0, time.UTC)

// Ensure every kind of mistake is reported with the file, the line and the
// field path, and that nothing half-loads.
func TestParse_Errors(t *testing.T) {
	dir := t.TempDir()
	writeFile(t, dir, "big.bin", make([]byte, MaxUserData+1))
	writeFile(t, dir, "small.bin", []byte("hi"))

	tests := []struct {
		name string
		yaml string
		want string // the error's start: file:line: field: problem
	}{
		// Syntax and shape.
		{"syntax", "instance:\n  id: [\n", "imds.yaml:2: did not find expected node content"},
		{"two documents", "instance: {}\n---\nlisten: []\n", "imds.yaml:2: a config holds one YAML document"},
		{"unknown top-level key", "listen: []\ninstnace: {}\n", "imds.yaml:2: instnace: unknown field"},
		{"unknown instance key", "instance:\n  id: i-0123456789abcdef0\n  instnace-type: m5.large\n",
			"imds.yaml:3: instance.instnace-type: unknown field"},
		{"unknown interface key", "instance:\n  network-interfaces:\n    - private-ips: [10.0.0.5]\n      macc: x\n",
			"imds.yaml:4: instance.network-interfaces[0].macc: unknown field"},
		{"repeated key", "instance:\n  id: i-0123456789abcdef0\n  id: i-0123456789abcdef1\n",
			"imds.yaml:3: instance.id: repeated (first at line 2)"},
		{"mapping expected", "instance: [1, 2]\n", "imds.yaml:1: instance: must be a mapping, not a list"},
		{"list expected", "instance:\n  network-interfaces: {id: x}\n",
			"imds.yaml:2: instance.network-interfaces: must be a list, not a mapping"},
		{"string expected", "instance:\n  region: [us-east-1]\n",
			"imds.yaml:2: instance.region: must be a string, not a list"},
		{"integer expected", "instance:\n  launch-index: two\n",
			`imds.yaml:2: instance.launch-index: must be an integer, not "two"`},
		{"bool expected", "instance:\n  monitoring: maybe\n",
			`imds.yaml:2: instance.monitoring: must be true or false, not "maybe"`},
		{"time expected", "instance:\n  launch-time: yesterday\n",
			`imds.yaml:2: instance.launch-time: must be an RFC 3339 time`},
		{"duration expected", "instance:\n  events:\n    spot:\n      after: soon\n",
			`imds.yaml:4: instance.events.spot.after: must be a duration such as 90s, 2m or 6h, not "soon"`},
		{"negative delay", "instance:\n  events:\n    rebalance: {after: -1m}\n",
			"imds.yaml:3: instance.events.rebalance.after: must not be negative"},
		{"relative time", "instance:\n  events:\n    maintenance:\n      - code: system-reboot\n        not-before: tomorrow\n",
			"imds.yaml:5: instance.events.maintenance[0].not-before: must be an RFC 3339 time or a duration"},
		{"address", "instance:\n  network-interfaces:\n    - private-ips:\n        - 10.0.0.5\n        - 300.1.1.1\n",
			`imds.yaml:5: instance.network-interfaces[0].private-ips[1]: not an IP address: "300.1.1.1"`},
		{"cidr", "instance:\n  network-interfaces:\n    - private-ips: [10.0.0.5]\n      subnet-cidr: 10.0.0.0/33\n",
			`imds.yaml:4: instance.network-interfaces[0].subnet-cidr: not a CIDR block: "10.0.0.0/33"`},
		{"alias expansion", aliasBomb(), "imds.yaml:4: file expands to more than 200000 nodes"},

		// Instance values (Validate).
		{"metadata option spelling", "instance:\n  metadata-options:\n    http-tokens: requird\n",
			`imds.yaml:3: instance.metadata-options.http-tokens: must be "optional" or "required", not "requird"`},
		{"hop limit", "instance:\n  metadata-options:\n    http-put-response-hop-limit: 65\n",
			"imds.yaml:3: instance.metadata-options.http-put-response-hop-limit: must be 1 to 64, not 65"},
		{"instance id", "instance:\n  id: i-123\n", `imds.yaml:2: instance.id: "i-123" is not an instance id`},
		{"account id", "instance:\n  account-id: 1234\n", `imds.yaml:2: instance.account-id: "1234" is not 12 digits`},
		{"image id", "instance:\n  ami-id: ami-xyz\n", `imds.yaml:2: instance.ami-id: "ami-xyz" is not an image id`},
		{"architecture", "instance:\n  architecture: amd64\n",
			`imds.yaml:2: instance.architecture: must be "x86_64", "arm64" or "i386", not "amd64"`},
		{"zone outside region", "instance:\n  region: us-east-1\n  availability-zone: us-west-2a\n",
			`imds.yaml:3: instance.availability-zone: "us-west-2a" is not in region "us-east-1"`},
		{"local zone outside region", "instance:\n  region: us-east-1\n  availability-zone: us-west-2-lax-1a\n",
			`imds.yaml:3: instance.availability-zone: "us-west-2-lax-1a" is not in region "us-east-1"`},
		{"zone name", "instance:\n  availability-zone: mars\n",
			`imds.yaml:2: instance.availability-zone: "mars" is not an availability zone`},
		{"zone id", "instance:\n  availability-zone-id: usw2-az1\n",
			`imds.yaml:2: instance.availability-zone-id: "usw2-az1" is not a zone id of region "us-east-1"`},
		{"partition number", "instance:\n  partition-number: 9\n",
			"imds.yaml:2: instance.partition-number: must be 1 to 7 (0 for none), not 9"},
		{"mac spelling", "instance:\n  network-interfaces:\n    - mac: 0E:49:61:0F:C3:11\n      private-ips: [10.0.0.5]\n",
			`imds.yaml:3: instance.network-interfaces[0].mac: "0E:49:61:0F:C3:11" is not a MAC address in lowercase colon form`},
		{"repeated mac", "instance:\n  network-interfaces:\n    - {mac: 0e:00:00:00:00:01, private-ips: [10.0.0.5]}\n" +
			"    - {mac: 0e:00:00:00:00:01, private-ips: [10.0.0.6]}\n",
			"imds.yaml:4: instance.network-interfaces[1].mac: 0e:00:00:00:00:01 repeats network-interfaces[0]"},
		{"repeated device index", "instance:\n  network-interfaces:\n    - {private-ips: [10.0.0.5]}\n" +
			"    - {device-index: 0, private-ips: [10.0.0.6]}\n",
			"imds.yaml:4: instance.network-interfaces[1].device-index: interfaces must be listed by increasing device-index"},
		{"primary without address", "instance:\n  network-interfaces:\n    - subnet-cidr: 10.0.0.0/24\n",
			"imds.yaml:3: instance.network-interfaces[0].private-ips: the interface needs a private IPv4 address"},
		{"more public than private", "instance:\n  network-interfaces:\n    - private-ips: [10.0.0.5]\n" +
			"      public-ips: [203.0.113.1, 203.0.113.2]\n",
			"imds.yaml:4: instance.network-interfaces[0].public-ips: 2 public addresses for 1 private ones"},
		{"address outside subnet", "instance:\n  network-interfaces:\n    - private-ips: [10.0.0.5, 10.0.1.5]\n",
			"imds.yaml:3: instance.network-interfaces[0].private-ips[1]: 10.0.1.5 is outside the subnet"},
		{"host bits in subnet", "instance:\n  network-interfaces:\n    - private-ips: [10.0.0.5]\n      subnet-cidr: 10.0.0.5/24\n",
			"imds.yaml:4: instance.network-interfaces[0].subnet-cidr: 10.0.0.5/24 has host bits set; use 10.0.0.0/24"},
		{"instance security group", "instance:\n  security-groups:\n    - {id: sg-1, name: web}\n",
			`imds.yaml:3: instance.security-groups[0].id: "sg-1" is not a security group id`},
		{"unservable tag key", "instance:\n  metadata-options: {instance-metadata-tags: enabled}\n  tags:\n    Name: web\n    bad key: x\n",
			`imds.yaml:5: instance.tags["bad key"]: key "bad key" cannot be served while instance-metadata-tags is enabled`},
		{"reserved tag key", "instance:\n  metadata-options: {instance-metadata-tags: enabled}\n  tags:\n    _index: x\n",
			`imds.yaml:4: instance.tags._index: key "_index" cannot be served`},
		{"key pair line", "instance:\n  key-pair: {name: k, public-key: not a key}\n",
			"imds.yaml:2: instance.key-pair.public-key: must be one OpenSSH public key line"},
		{"key pair and public keys", "instance:\n  key-pair: ~\n  public-keys: []\n",
			"imds.yaml:3: instance.public-keys: conflicts with key-pair (line 2)"},
		{"block device name", "instance:\n  block-devices:\n    disk0: /dev/xvda\n",
			`imds.yaml:3: instance.block-devices.disk0: "disk0" is not a virtual device name`},
		{"role name", "instance:\n  iam:\n    role: app role\n",
			`imds.yaml:3: instance.iam.role: "app role" is not a role name`},
		{"profile account", "instance:\n  account-id: \"111122223333\"\n  iam:\n    profile-arn: arn:aws:iam::123456789012:instance-profile/x\n",
			"imds.yaml:4: instance.iam.profile-arn: account 123456789012 differs from account-id 111122223333"},
		{"iam scalar", "instance:\n  iam: nobody\n", `imds.yaml:2: instance.iam: must be a mapping, "none" or ~, not "nobody"`},
		{"static credentials", "instance:\n  iam:\n    credentials: {access-key-id: ASIAEXAMPLE1234567890}\n",
			"imds.yaml:3: instance.iam.credentials.secret-access-key: required"},

		// User data.
		{"user data too large", "instance:\n  user-data-file: big.bin\n",
			"imds.yaml:2: instance.user-data-file: more than EC2's 16384 bytes"},
		{"user data twice", "instance:\n  user-data: hi\n  user-data-file: small.bin\n",
			"imds.yaml:3: instance.user-data-file: conflicts with user-data (line 2)"},
		{"user data file missing", "instance:\n  user-data-file: missing.bin\n",
			"imds.yaml:2: instance.user-data-file: open "},
		{"user data base64", "instance:\n  user-data-base64: \"!!\"\n",
			"imds.yaml:2: instance.user-data-base64: not valid base64"},

		// Events.
		{"spot action", "instance:\n  events:\n    spot: {action: reboot}\n",
			`imds.yaml:3: instance.events.spot.action: must be "terminate", "stop" or "hibernate", not "reboot"`},
		{"spot on demand", "instance:\n  life-cycle: on-demand\n  events:\n    spot: {after: 1m}\n",
			`imds.yaml:4: instance.events.spot: only Spot instances are interrupted; life-cycle is "on-demand"`},
		{"maintenance code", "instance:\n  events:\n    maintenance:\n      - code: reboot\n        not-before: +1h\n",
			`imds.yaml:4: instance.events.maintenance[0].code: must be "instance-reboot", "system-reboot", ` +
				`"system-maintenance", "instance-retirement" or "instance-stop", not "reboot"`},
		{"maintenance without start", "instance:\n  events:\n    maintenance:\n      - code: system-reboot\n",
			"imds.yaml:4: instance.events.maintenance[0].not-before: required"},
		{"maintenance window", "instance:\n  events:\n    maintenance:\n      - code: system-reboot\n        not-before: +2h\n        not-after: +1h\n",
			"imds.yaml:6: instance.events.maintenance[0].not-after: comes before not-before"},
		{"maintenance id", "instance:\n  events:\n    maintenance:\n      - {id: event-1, code: system-reboot, not-before: +1h}\n",
			`imds.yaml:4: instance.events.maintenance[0].id: "event-1" is not an event id`},
		{"autoscaling state", "instance:\n  events:\n    autoscaling:\n      state: Running\n",
			`imds.yaml:4: instance.events.autoscaling.state: must be "Detached", "InService"`},

		// Several instances.
		{"instance and instances", "instance: {}\ninstances: [{}]\n", "imds.yaml:2: instances: conflicts with instance (line 1)"},
		{"no instances", "instances: []\n", "imds.yaml:1: instances: must list at least one instance"},
		{"repeated instance id", "instances:\n  - id: i-0123456789abcdef1\n  - id: i-0123456789abcdef1\n",
			"imds.yaml:3: instances[1].id: i-0123456789abcdef1 repeats instances[0]"},
		{"shared address", "instances:\n  - id: i-0123456789abcdef1\n    network-interfaces: [{private-ips: [10.0.0.5]}]\n" +
			"  - id: i-0123456789abcdef2\n    network-interfaces: [{private-ips: [10.0.0.5]}]\n",
			"imds.yaml:5: instances[1].network-interfaces: address 10.0.0.5 is also used by instances[0]"},
		{"second instance field", "instances:\n  - {}\n  - id: i-0123456789abcdef2\n    metadata-options: {http-endpoint: off}\n",
			`imds.yaml:4: instances[1].metadata-options.http-endpoint: must be "enabled" or "disabled", not "off"`},

		// Server settings.
		{"listen", "listen: [127.0.0.1]\n", `imds.yaml:1: listen[0]: "127.0.0.1" is not host:port`},
		{"listen host", "listen: example.com:80\n", `imds.yaml:1: listen[0]: host "example.com" must be an IP address or localhost`},
		{"version latest", "versions:\n  - 2021-03-23\n  - latest\n", "imds.yaml:3: versions[1]: latest is always listed; leave it out"},
		{"version date", "versions: [2021-13-01]\n", `imds.yaml:1: versions[0]: "2021-13-01" is not a version`},
		{"identity half", "identity:\n  key-file: big.bin\n", "imds.yaml:2: identity: key-file and cert-file go together"},
		{"identity key", "identity:\n  key-file: big.bin\n  cert-file: big.bin\n", "imds.yaml:2: identity.key-file: "},
		{"rotation too late", "credentials:\n  lifetime: 1h\n  rotate-every: 58m\n",
			"imds.yaml:3: credentials.rotate-every: must leave at least 5m0s before sets expire (lifetime 1h0m0s)"},
		{"lifetime too short", "credentials:\n  lifetime: 5m\n", "imds.yaml:2: credentials.lifetime: must be at least 15m0s"},
		{"seed hex", "credentials:\n  seed: xyz\n", "imds.yaml:2: credentials.seed: not hexadecimal"},
		{"seed length", "credentials:\n  seed: abcd\n", "imds.yaml:2: credentials.seed: must be at least 32 bytes (64 hex digits)"},
		{"keep-alive", "keep-alive: yes\n", `imds.yaml:1: keep-alive: must be true or false, not "yes"`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			f, err := Parse("imds.yaml", []byte(tt.yaml), dir, testNow)
			if err == nil {
				t.Fatalf("Parse() = nil error, want %q", tt.want)
			}
			if f != nil {
				t.Errorf("Parse() returned a File with error %v", err)
			}
			if !strings.HasPrefix(err.Error(), tt.want) {
				t.Errorf("Parse() error\n got %s\nwant %s...", err, tt.want)
			}
			var located *Error
			if !errors.As(err, &located) || located.Line == 0 {
				t.Errorf("Parse() error %v is not a located *Error", err)
			}
		})
	}
}

// Ensure Load names the file as given and reports a missing file.
func TestLoad_Errors(t *testing.T) {
	dir := t.TempDir()
	path := filepath.Join(dir, "imds.yaml")
	if err := os.WriteFile(path, []byte("instance:\n  region: 7\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	_, err := Load(path, testNow)
	if want := path + ":2: instance.region: "; err == nil || !strings.HasPrefix(err.Error(), want) {
		t.Errorf("Load() error = %v, want prefix %q", err, want)
	}
	if _, err := Load(filepath.Join(dir, "missing.yaml"), testNow); err == nil || !errors.Is(err, os.ErrNotExist) {
		t.Errorf("Load(missing) error = %v, want not-exist", err)
	}
}

// aliasBomb is a small file whose merge keys expand exponentially.
func aliasBomb() string {
	var b strings.Builder
	b.WriteString("instance:\n  tags:\n    <<:\n      - &l0 {k: v}\n")
	for i := 1; i <= 7; i++ {
		refs := strings.Repeat(fmt.Sprintf("*l%d, ", i-1), 9) + fmt.Sprintf("*l%d", i-1)
		fmt.Fprintf(&b, "      - &l%d {<<: [%s]}\n", i, refs)
	}
	return b.String()
}

func writeFile(t *testing.T, dir, name string, data []byte) string {
	t.Helper()
	path := filepath.Join(dir, name)
	if err := os.WriteFile(path, data, 0o600); err != nil {
		t.Fatal(err)
	}
	return path
}
