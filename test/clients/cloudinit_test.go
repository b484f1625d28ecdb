package clients_test

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
)

const cloudInitInstall = "apt-get install -y cloud-init"

// cloudInit runs py/cloudinit_crawl.py with Debian's python, where the
// cloud-init package lives, and decodes its JSON output into v.
func cloudInit(t testing.TB, s *imdsServer, command string, v any) {
	t.Helper()
	python := needPython(t, "/usr/bin/python3", cloudInitInstall, "cloudinit.sources.DataSourceEc2")
	script := filepath.Join(clientDir("py"), "cloudinit_crawl.py")
	decodeJSON(t, runClient(t, clientEnv(t, s.URL, false), python, script, command), v)
}

// crawledMetadata is the part of cloud-init's meta-data dict the tests read.
type crawledMetadata struct {
	InstanceID string         `json:"instance-id"`
	PublicKeys map[string]any `json:"public-keys"`
	Tags       struct {
		Instance map[string]string `json:"instance"`
	} `json:"tags"`
	Placement map[string]string `json:"placement"`
	IAM       struct {
		Info map[string]any `json:"info"`
	} `json:"iam"`
	Network struct {
		Interfaces struct {
			Macs map[string]map[string]any `json:"macs"`
		} `json:"interfaces"`
	} `json:"network"`
}

// check reports what the built-in instance, or examples/imds.yaml which
// shares its values, should have produced; nics is the interface count.
func (md crawledMetadata) check(t testing.TB, nics int) {
	t.Helper()
	if md.InstanceID != "i-0123456789abcdef0" {
		t.Errorf("meta-data instance-id = %q, want i-0123456789abcdef0", md.InstanceID)
	}
	// A key line ending in LF, as EC2 serves it (BL-05), comes out of
	// cloud-init's leaf decoder as a list of one line.
	key, _ := md.PublicKeys["my-key"].(string)
	if lines, ok := md.PublicKeys["my-key"].([]any); ok && len(lines) == 1 {
		key, _ = lines[0].(string)
	}
	if len(md.PublicKeys) != 1 || !strings.HasPrefix(key, "ssh-ed25519 ") {
		t.Errorf("meta-data public-keys = %v, want {my-key: ssh-ed25519 ...}", md.PublicKeys)
	}
	if md.Placement["availability-zone"] != "us-east-1a" || md.Placement["region"] != "us-east-1" {
		t.Errorf("meta-data placement = %v, want us-east-1a in us-east-1", md.Placement)
	}
	if md.IAM.Info["Code"] != "Success" {
		t.Errorf("meta-data iam/info = %v, want a parsed JSON object with Code Success", md.IAM.Info)
	}
	mac, ok := md.Network.Interfaces.Macs["0e:49:61:0f:c3:11"]
	if !ok || len(md.Network.Interfaces.Macs) != nics || mac["device-number"] != "0" {
		t.Errorf("meta-data network.interfaces.macs = %v, want %d with 0e:49:61:0f:c3:11 as device-number 0", md.Network.Interfaces.Macs, nics)
	}
}

// checkNo404 reports every request answered 404. cloud-init fetches only
// what a listing names, so a 404 means imds listed something it does not
// serve (and cloud-init's crawl would give up).
func checkNo404(t testing.TB, requests []accessEntry) {
	t.Helper()
	for _, r := range requests {
		if r.Status == 404 {
			t.Errorf("request %v: a listed entry answered 404", r)
		}
	}
}

// Ensure cloud-init's EC2 helpers, used as off EC2 (IMDSv1, dated API
// version), crawl the whole tree: public keys by name, network interfaces,
// JSON leaves parsed, user data byte for byte, the identity document.
func TestCloudInit_GetInstanceMetadata(t *testing.T) {
	t.Parallel()
	s := startIMDS(t, serveOptions{})
	mark := s.mark()
	var got struct {
		UserData string          `json:"user_data"`
		MetaData crawledMetadata `json:"meta_data"`
		Identity struct {
			Document map[string]any `json:"document"`
		} `json:"identity"`
	}
	cloudInit(t, s, "helper", &got)
	requests := s.accessSince(mark)

	got.MetaData.check(t, 1)
	if got.UserData != "#!/bin/sh\necho hi\n" {
		t.Errorf("get_instance_userdata = %q, want %q", got.UserData, "#!/bin/sh\necho hi\n")
	}
	if doc := got.Identity.Document; doc["instanceId"] != "i-0123456789abcdef0" || doc["region"] != "us-east-1" {
		t.Errorf("get_instance_identity document = %v, want i-0123456789abcdef0 in us-east-1", doc)
	}
	checkNo404(t, requests)
	for _, r := range requests {
		if r.Method != "GET" || !strings.HasPrefix(r.Path, "/2021-03-23/") {
			t.Errorf("request %v: want only GETs under /2021-03-23/", r)
		}
	}
	if len(requests) < 40 {
		t.Errorf("crawl made %d requests, want the whole tree (40 or more)", len(requests))
	}
}

// Ensure cloud-init's EC2 datasource, as it runs on EC2, finds imds: it
// gets a token, probes for the newest API version it knows (2021-03-23),
// and crawls with the token, in optional and required mode alike, and
// over the fuller tree of examples/imds.yaml (tags, a second interface,
// IPv6, events) without meeting a 404.
func TestCloudInit_DataSourceEc2(t *testing.T) {
	t.Parallel()
	example, err := os.ReadFile(filepath.Join(moduleRoot, "examples", "imds.yaml"))
	if err != nil {
		t.Fatalf("read the example config: %v", err)
	}
	for _, mode := range []struct {
		name, config string
		nics         int
	}{
		{"optional", "", 1},
		{"required", tokensRequired, 1},
		{"examples/imds.yaml", string(example), 2},
	} {
		t.Run(mode.name, func(t *testing.T) {
			t.Parallel()
			s := startIMDS(t, serveOptions{config: mode.config})
			mark := s.mark()
			var got struct {
				Found            bool
				MetadataAddress  string `json:"metadata_address"`
				APIVersion       string `json:"api_version"`
				InstanceID       string `json:"instance_id"`
				AvailabilityZone string `json:"availability_zone"`
				Region           string
				PublicKeys       []string        `json:"public_keys"`
				UserData         string          `json:"user_data"`
				MetaData         crawledMetadata `json:"meta_data"`
			}
			cloudInit(t, s, "datasource", &got)
			requests := s.accessSince(mark)

			if !got.Found {
				t.Fatalf("DataSourceEc2 found no data; requests: %v", requests)
			}
			if got.MetadataAddress != s.URL || got.APIVersion != "2021-03-23" {
				t.Errorf("DataSourceEc2 chose %s version %s, want %s version 2021-03-23", got.MetadataAddress, got.APIVersion, s.URL)
			}
			if got.InstanceID != "i-0123456789abcdef0" || got.AvailabilityZone != "us-east-1a" || got.Region != "us-east-1" {
				t.Errorf("DataSourceEc2 = %s in %s (%s), want i-0123456789abcdef0 in us-east-1a (us-east-1)",
					got.InstanceID, got.AvailabilityZone, got.Region)
			}
			if len(got.PublicKeys) != 1 || !strings.HasPrefix(got.PublicKeys[0], "ssh-ed25519 ") {
				t.Errorf("get_public_ssh_keys() = %q, want the one ssh-ed25519 key", got.PublicKeys)
			}
			if got.UserData != "#!/bin/sh\necho hi\n" {
				t.Errorf("userdata_raw = %q, want %q", got.UserData, "#!/bin/sh\necho hi\n")
			}
			got.MetaData.check(t, mode.nics)
			if mode.nics > 1 && got.MetaData.Tags.Instance["Name"] != "web-1" {
				t.Errorf("meta-data tags/instance = %v, want Name web-1 among them", got.MetaData.Tags.Instance)
			}

			checkNo404(t, requests)
			if len(requests) < 2 || requests[0] != (accessEntry{Method: "PUT", Path: "/latest/api/token", Status: 200}) ||
				requests[1] != (accessEntry{Method: "GET", Path: "/2021-03-23/meta-data/instance-id", Status: 200, Token: true}) {
				t.Errorf("requests begin %v, want a token PUT then the 2021-03-23 probe", firstN(requests, 2))
			}
			if n := countRequests(requests)["PUT 200"]; n != 1 {
				t.Errorf("%d token PUTs, want 1", n)
			}
			for _, r := range requests[1:] {
				if !r.Token {
					t.Errorf("request %v: no token", r)
				}
			}
		})
	}
}

func firstN(r []accessEntry, n int) []accessEntry {
	return r[:min(n, len(r))]
}
