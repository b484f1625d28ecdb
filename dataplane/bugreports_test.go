package dataplane

// One test per case of cases/BUG-REPORTS.md. Each case is a fault someone
// reported against a real metadata client, mock or proxy; each test pins the
// whole kind of fault, not only the reported input. Cases that need the
// control plane, real SDKs, throttling or config validation are left to their
// own suites; here only what the data plane alone can show is checked.
// SPEC.md's checklist lives in conformance_test.go and is not repeated.

import (
	"bufio"
	"bytes"
	"compress/gzip"
	"crypto/rand"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"net/netip"
	"regexp"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"golang.org/x/net/ipv4"
	"golang.org/x/net/ipv6"

	"github.com/imds-dev/imds"
	"github.com/imds-dev/imds/config"
	"github.com/imds-dev/imds/creds"
	"github.com/imds-dev/imds/identity"
	"github.com/imds-dev/imds/token"
	"github.com/imds-dev/imds/tree"
)

const (
	blTokenHdr = "X-aws-ec2-metadata-token"
	blIDPath   = "/latest/meta-data/instance-id"
	blRolePath = "/latest/meta-data/iam/security-credentials/app-role"
	blDocPath  = "/latest/dynamic/instance-identity/document"
)

var reBLTime = regexp.MustCompile(`^` + reTimestamp + `$`)

// blOptions varies the harness for the cases that need more than
// newHarness offers. Zero fields mean newHarness's behaviour.
type blOptions struct {
	schedule  creds.Schedule
	keepAlive bool
	afterHop  func(net.Conn)
	ipv6      bool                  // listen on [::1] instead of 127.0.0.1
	directory func(*View) Directory // default Single
}

// newBLHarness is newHarnessFor with blOptions. It returns nil, after
// skipping t, when an IPv6 listener is asked for and ::1 is unavailable.
func newBLHarness(t *testing.T, in *imds.Instance, o blOptions) *harness {
	t.Helper()
	clk := &clock{t: time.Date(2026, 12, 4, 16, 0, 0, 0, time.UTC)}
	seed := make([]byte, 32)
	rand.Read(seed)
	schedule := o.schedule
	if schedule.Lifetime == 0 {
		schedule = creds.DefaultSchedule
	}
	opts := tree.Options{Creds: creds.NewGenerator(seed, schedule), Sign: sharedSigner(t).Sign}
	view := NewView(in, func(in *imds.Instance, now time.Time) *tree.Tree { return tree.Build(in, opts, now) })
	ring, err := token.NewKeyRing(clk.Now())
	if err != nil {
		t.Fatal(err)
	}
	var dir Directory = Single{View: view}
	if o.directory != nil {
		dir = o.directory(view)
	}
	plane := New(Config{
		Directory: dir,
		Tokens:    token.NewAuthority(ring, clk.Now),
		Now:       clk.Now,
		KeepAlive: o.keepAlive,
		afterHop:  o.afterHop,
	})

	ts := httptest.NewUnstartedServer(plane)
	ts.Config.ConnContext = ConnContext
	if o.ipv6 {
		ln, err := net.Listen("tcp6", "[::1]:0")
		if err != nil {
			t.Skipf("no IPv6 loopback: %v", err)
			return nil
		}
		ts.Listener.Close()
		ts.Listener = ln
	}
	ts.Start()
	t.Cleanup(ts.Close)
	return &harness{t: t, url: ts.URL, plane: plane, view: view, clock: clk, ring: ring, client: ts.Client()}
}

// blInstance returns the default instance changed by mutate.
func blInstance(mutate func(*imds.Instance)) *imds.Instance {
	in := testInstance(time.Date(2026, 12, 4, 16, 0, 0, 0, time.UTC))
	if mutate != nil {
		mutate(in)
	}
	return in
}

// blAddr returns the host:port the harness listens on.
func blAddr(h *harness) string { return strings.TrimPrefix(h.url, "http://") }

// blRaw writes raw to a fresh connection to addr and reads one response,
// so that requests no Go client would send reach the server as written.
func blRaw(t *testing.T, addr, raw string) (*http.Response, []byte) {
	t.Helper()
	c, err := net.Dial("tcp", addr)
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	c.SetDeadline(time.Now().Add(5 * time.Second))
	if _, err := io.WriteString(c, raw); err != nil {
		t.Fatal(err)
	}
	return blReadResponse(t, bufio.NewReader(c), raw)
}

// blReadResponse reads the response to the raw request from br.
func blReadResponse(t *testing.T, br *bufio.Reader, raw string) (*http.Response, []byte) {
	t.Helper()
	method, _, _ := strings.Cut(raw, " ")
	resp, err := http.ReadResponse(br, &http.Request{Method: method})
	if err != nil {
		t.Fatalf("read response to %q: %v", firstLine(raw), err)
	}
	body, err := io.ReadAll(resp.Body)
	resp.Body.Close()
	if err != nil {
		t.Fatalf("read body of %q: %v", firstLine(raw), err)
	}
	return resp, body
}

func firstLine(s string) string { l, _, _ := strings.Cut(s, "\r\n"); return l }

// blPlainClient neither follows redirects nor asks for compression, so every
// response is seen exactly as the server sent it.
func blPlainClient(t *testing.T) *http.Client {
	tr := &http.Transport{DisableCompression: true}
	t.Cleanup(tr.CloseIdleConnections)
	return &http.Client{
		Transport:     tr,
		CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse },
		Timeout:       10 * time.Second,
	}
}

// blDo sends one request with c and returns the response and its body.
func blDo(t testing.TB, c *http.Client, method, url string, headers map[string]string) (*http.Response, []byte) {
	t.Helper()
	req, err := http.NewRequest(method, url, nil)
	if err != nil {
		t.Fatal(err)
	}
	for k, v := range headers {
		req.Header[k] = []string{v}
	}
	resp, err := c.Do(req)
	if err != nil {
		t.Fatalf("%s %s: %v", method, url, err)
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(resp.Body)
	if err != nil {
		t.Fatalf("%s %s: read body: %v", method, url, err)
	}
	return resp, body
}

// blTokenGet fetches path with tok and returns status and body.
func blTokenGet(h *harness, path, tok string) (int, string) {
	h.t.Helper()
	resp, body := h.do("GET", path, map[string]string{blTokenHdr: tok})
	return resp.StatusCode, body
}

// blObjectKeys returns the member names of the JSON object in body, in
// order, and fails on anything that is not one object or repeats a name.
func blObjectKeys(t *testing.T, body string) []string {
	t.Helper()
	dec := json.NewDecoder(strings.NewReader(body))
	if tok, err := dec.Token(); err != nil || tok != json.Delim('{') {
		t.Fatalf("body %q is not a JSON object", body)
	}
	var keys []string
	seen := map[string]bool{}
	for dec.More() {
		tok, err := dec.Token()
		if err != nil {
			t.Fatalf("body %q: %v", body, err)
		}
		k := tok.(string)
		if seen[k] {
			t.Fatalf("body %q repeats key %q", body, k)
		}
		seen[k] = true
		keys = append(keys, k)
		var v json.RawMessage
		if err := dec.Decode(&v); err != nil {
			t.Fatalf("body %q: value of %q: %v", body, k, err)
		}
	}
	if _, err := dec.Token(); err != nil {
		t.Fatalf("body %q: %v", body, err)
	}
	if dec.More() {
		t.Fatalf("body %q has data after the object", body)
	}
	return keys
}

// blWantEmpty checks the shape of every 401 and 403: the given status,
// no body, Content-Length 0, no TTL header, Server EC2ws.
func blWantEmpty(t *testing.T, resp *http.Response, body []byte, status int) {
	t.Helper()
	if resp.StatusCode != status {
		t.Fatalf("status %d, want %d (body %q)", resp.StatusCode, status, body)
	}
	if len(body) != 0 || resp.Header.Get("Content-Length") != "0" {
		t.Errorf("body %q, Content-Length %q; want empty and 0", body, resp.Header.Get("Content-Length"))
	}
	if _, ok := resp.Header[hdrTokenTTL]; ok {
		t.Errorf("refusal carries %s", hdrTokenTTL)
	}
	if got := resp.Header.Get("Server"); got != "EC2ws" {
		t.Errorf("Server = %q, want EC2ws", got)
	}
}

// TestBL01_TokenTTLHeader is BL-01 (tokens): a token answer that lacks the
// TTL header makes node-termination-handler and the Go SDK drop the token.
func TestBL01_TokenTTLHeader(t *testing.T) {
	// Ensure every successful token PUT echoes the granted TTL, whatever the
	// spelling of the request header, and carries a usable plain token.
	tests := []struct {
		name, header, ttl string
	}{
		{"ttl 21600", "X-aws-ec2-metadata-token-ttl-seconds", "21600"},
		{"ttl 60", "X-aws-ec2-metadata-token-ttl-seconds", "60"},
		{"ttl 1", "X-aws-ec2-metadata-token-ttl-seconds", "1"},
		{"lower-case name", "x-aws-ec2-metadata-token-ttl-seconds", "60"},
		{"upper-case name", "X-AWS-EC2-METADATA-TOKEN-TTL-SECONDS", "60"},
		{"canonical name", "X-Aws-Ec2-Metadata-Token-Ttl-Seconds", "60"},
	}
	h := newHarness(t, nil)
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			resp, body := h.do("PUT", TokenPath, map[string]string{tt.header: tt.ttl})
			if resp.StatusCode != 200 {
				t.Fatalf("status %d, want 200", resp.StatusCode)
			}
			if got := resp.Header.Values(hdrTokenTTL); len(got) != 1 || got[0] != tt.ttl {
				t.Errorf("%s = %q, want exactly [%q]", hdrTokenTTL, got, tt.ttl)
			}
			if got := resp.Header.Get("Content-Type"); got != "text/plain" {
				t.Errorf("Content-Type = %q, want text/plain", got)
			}
			if body == "" || strings.ContainsAny(body, " \t\r\n") {
				t.Errorf("token %q is empty or holds whitespace", body)
			}
			if resp.Header.Get("Content-Length") != strconv.Itoa(len(body)) {
				t.Errorf("Content-Length = %q, body has %d bytes", resp.Header.Get("Content-Length"), len(body))
			}
			if status, _ := blTokenGet(h, blIDPath, body); status != 200 {
				t.Errorf("GET with the token: status %d, want 200", status)
			}
		})
	}
}

// TestBL02_TokenTTLBounds is BL-02 (tokens): the TTL must be a decimal
// integer in 1..21600; anything else is 400, which SDKs treat as final.
func TestBL02_TokenTTLBounds(t *testing.T) {
	// Ensure out-of-range and malformed TTLs get 400 with no token and no
	// session, and that the bounds themselves are accepted.
	tests := []struct {
		name   string
		ttl    []string // header values; nil sends no header
		status int
		gap    string // known gap: skipped with this reason
	}{
		{name: "1", ttl: []string{"1"}, status: 200},
		{name: "21600", ttl: []string{"21600"}, status: 200},
		// Leading zeros still spell a decimal integer (pinned: accepted).
		{name: "00060", ttl: []string{"00060"}, status: 200},
		{name: "000060", ttl: []string{"000060"}, status: 200},
		{name: "21601", ttl: []string{"21601"}, status: 400},
		{name: "30000", ttl: []string{"30000"}, status: 400},
		{name: "0", ttl: []string{"0"}, status: 400},
		{name: "-1", ttl: []string{"-1"}, status: 400},
		{name: "abc", ttl: []string{"abc"}, status: 400},
		{name: "empty", ttl: []string{""}, status: 400},
		{name: "absent", status: 400},
		{name: "1.5", ttl: []string{"1.5"}, status: 400},
		{name: "+60", ttl: []string{"+60"}, status: 400},
		{name: "hex", ttl: []string{"0x10"}, status: 400},
		{name: "exponent", ttl: []string{"1e3"}, status: 400},
		{name: "fullwidth digits", ttl: []string{"６０"}, status: 400},
		{name: "overflow", ttl: []string{"99999999999999999999"}, status: 400},
		{name: "inner space", ttl: []string{"6 0"}, status: 400},
		// Two TTL headers that disagree make the request ambiguous; two
		// equal ones are one value (pinned).
		{name: "two different", ttl: []string{"60", "120"}, status: 400},
		{name: "two equal", ttl: []string{"60", "60"}, status: 200},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if tt.gap != "" {
				t.Skip(tt.gap)
			}
			h := newHarness(t, nil)
			req, _ := http.NewRequest("PUT", h.url+TokenPath, nil)
			if tt.ttl != nil {
				req.Header[hdrTokenTTL] = tt.ttl
			}
			resp, err := h.client.Do(req)
			if err != nil {
				t.Fatal(err)
			}
			body, _ := io.ReadAll(resp.Body)
			resp.Body.Close()
			if resp.StatusCode != tt.status {
				t.Fatalf("status %d, want %d", resp.StatusCode, tt.status)
			}
			if tt.status == 200 {
				return
			}
			if _, ok := resp.Header[hdrTokenTTL]; ok {
				t.Errorf("400 carries %s", hdrTokenTTL)
			}
			if !bytes.Contains(body, []byte("<title>400 - Bad Request</title>")) {
				t.Errorf("body %q is not the 400 page", body)
			}
			// The refused PUT opened no session: the next request is
			// still judged by the IMDSv1 rules alone.
			if resp, _ := h.do("GET", "/latest/meta-data/", nil); resp.StatusCode != 200 {
				t.Errorf("optional, GET after 400: status %d, want 200", resp.StatusCode)
			}
			h.setInstance(tokensRequired)
			if resp, _ := h.do("GET", "/latest/meta-data/", nil); resp.StatusCode != 401 {
				t.Errorf("required, GET after 400: status %d, want 401", resp.StatusCode)
			}
		})
	}

	// HTTP strips spaces around a field value before the server sees it
	// (RFC 9110 5.5), so " 60" on the wire is 60: that is framing, not a
	// lenient TTL parser.
	t.Run("surrounding whitespace", func(t *testing.T) {
		h := newHarness(t, nil)
		for _, v := range []string{" 60", "60 ", "\t60\t"} {
			resp, _ := blRaw(t, blAddr(h), "PUT /latest/api/token HTTP/1.1\r\nHost: x\r\n"+
				"X-aws-ec2-metadata-token-ttl-seconds:"+v+"\r\n\r\n")
			if resp.StatusCode != 200 || resp.Header.Get(hdrTokenTTL) != "60" {
				t.Errorf("TTL %q: status %d, echoed %q; want 200 and 60", v, resp.StatusCode, resp.Header.Get(hdrTokenTTL))
			}
		}
	})
}

// TestBL03_ForwardedFor is BL-03 (tokens): a request that went through a
// proxy gets no token; the status must be exactly 403 so SDKs fall back.
func TestBL03_ForwardedFor(t *testing.T) {
	// Ensure X-Forwarded-For, in any spelling and with any value, makes
	// token PUTs and tokened GETs 403 with an empty body.
	tests := []struct {
		name    string
		setup   func(*imds.Instance)
		method  string
		path    string
		headers map[string]string // "TOK" is replaced by a valid token
		status  int
	}{
		{"PUT", nil, "PUT", TokenPath, map[string]string{ttlHeader: "60", "X-Forwarded-For": "203.0.113.7"}, 403},
		{"PUT lower-case name", nil, "PUT", TokenPath, map[string]string{ttlHeader: "60", "x-forwarded-for": "203.0.113.7"}, 403},
		{"PUT odd-case name", nil, "PUT", TokenPath, map[string]string{ttlHeader: "60", "X-FORWARDED-for": "203.0.113.7"}, 403},
		// Pinned: the header's presence is what counts, not its value.
		{"PUT empty value", nil, "PUT", TokenPath, map[string]string{ttlHeader: "60", "X-Forwarded-For": ""}, 403},
		{"PUT loopback value", nil, "PUT", TokenPath, map[string]string{ttlHeader: "60", "X-Forwarded-For": "127.0.0.1"}, 403},
		// SPEC 7.1 order: the proxy check comes before the TTL check.
		{"PUT bad ttl", nil, "PUT", TokenPath, map[string]string{ttlHeader: "0", "X-Forwarded-For": "203.0.113.7"}, 403},
		{"PUT tokens required", tokensRequired, "PUT", TokenPath, map[string]string{ttlHeader: "60", "X-Forwarded-For": "203.0.113.7"}, 403},
		{"PUT control", nil, "PUT", TokenPath, map[string]string{ttlHeader: "60"}, 200},
		// Pinned as the kube2iam reporters saw it: a token plus the header
		// is 403 too, checked before the token, so a proxy never learns
		// whether a token is good.
		{"GET with token", nil, "GET", blIDPath, map[string]string{blTokenHdr: "TOK", "X-Forwarded-For": "203.0.113.7"}, 403},
		{"GET with token, lower-case", nil, "GET", blIDPath, map[string]string{blTokenHdr: "TOK", "x-forwarded-for": "203.0.113.7"}, 403},
		{"GET with garbage token", nil, "GET", blIDPath, map[string]string{blTokenHdr: "garbage", "X-Forwarded-For": "203.0.113.7"}, 403},
		// Pinned: an IMDSv1 GET carries no token to protect and is served
		// (or refused for lack of a token) as usual.
		{"GET without token", nil, "GET", blIDPath, map[string]string{"X-Forwarded-For": "203.0.113.7"}, 200},
		{"GET without token, required", tokensRequired, "GET", blIDPath, map[string]string{"X-Forwarded-For": "203.0.113.7"}, 401},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			h := newHarness(t, tt.setup)
			headers := map[string]string{}
			for k, v := range tt.headers {
				if v == "TOK" {
					v = h.token("60")
				}
				headers[k] = v
			}
			resp, body := h.do(tt.method, tt.path, headers)
			if tt.status != 403 {
				if resp.StatusCode != tt.status {
					t.Fatalf("status %d, want %d", resp.StatusCode, tt.status)
				}
				return
			}
			blWantEmpty(t, resp, []byte(body), 403)
		})
	}
}

// TestBL05_PublicKeys is BL-05 (paths): public-keys/ lists "index=name",
// and each key is reached by index, never by name.
func TestBL05_PublicKeys(t *testing.T) {
	// Ensure the listing, the per-key directory and the key text are
	// served as EC2 lays them out, for one key and for several.
	const other = "ssh-rsa AAAAB3NzaC1yc2EAAAADAQABAAABAQC7 other\n"
	twoKeys := func(in *imds.Instance) {
		in.PublicKeys = append(in.PublicKeys, imds.PublicKey{Name: "other", OpenSSH: other})
	}
	noKeys := func(in *imds.Instance) { in.PublicKeys = nil }
	const pk = "/latest/meta-data/public-keys/"
	tests := []struct {
		name   string
		setup  func(*imds.Instance)
		path   string
		status int
		body   string
	}{
		{"listing without slash", nil, "/latest/meta-data/public-keys", 200, "0=my-key"},
		{"two keys", twoKeys, pk, 200, "0=my-key\n1=other"},
		{"second key formats", twoKeys, pk + "1", 200, "openssh-key"},
		// Pinned: the key text is served byte for byte as configured.
		// Real EC2 ends it with LF (BL-05), and so does the built-in key.
		{"key as configured", nil, pk + "0/openssh-key", 200, config.DefaultPublicKey},
		{"key ending in LF kept", twoKeys, pk + "1/openssh-key", 200, other},
		{"key with trailing slash", twoKeys, pk + "1/openssh-key/", 200, other},
		{"by name", nil, pk + "my-key/openssh-key", 404, page404},
		{"by name, directory", nil, pk + "my-key/", 404, page404},
		{"listing entry as a path", nil, pk + "0=my-key", 404, page404},
		{"index out of range", twoKeys, pk + "2/openssh-key", 404, page404},
		{"padded index", nil, pk + "00/openssh-key", 404, page404},
		{"negative index", nil, pk + "-1", 404, page404},
		{"unknown format", nil, pk + "0/pem-key", 404, page404},
		{"no keys", noKeys, pk, 404, page404},
		{"no keys, without slash", noKeys, "/latest/meta-data/public-keys", 404, page404},
		{"no keys, key 0", noKeys, pk + "0/openssh-key", 404, page404},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			h := newHarness(t, tt.setup)
			resp, body := h.do("GET", tt.path, nil)
			if resp.StatusCode != tt.status || body != tt.body {
				t.Errorf("GET %s = %d %q, want %d %q", tt.path, resp.StatusCode, body, tt.status, tt.body)
			}
		})
	}
}

// TestBL06_IAMDocuments is BL-06 (credentials): SDKs read the IAM JSON
// documents case-sensitively and insist on Code "Success".
func TestBL06_IAMDocuments(t *testing.T) {
	// Ensure every credential-shaped document, whatever its delivery, has
	// exactly EC2's capitalised members in EC2's order.
	credKeys := []string{"Code", "LastUpdated", "Type", "AccessKeyId", "SecretAccessKey", "Token", "Expiration"}
	static := func(in *imds.Instance) {
		in.IAM.Static = &imds.StaticCredentials{AccessKeyID: "ASIAEXAMPLESTATIC123", SecretAccessKey: "c2VjcmV0",
			SessionToken: "dG9rZW4=", Expiration: time.Date(2026, 12, 4, 18, 0, 0, 0, time.UTC)}
	}
	const idc = "/latest/meta-data/identity-credentials/ec2/"
	tests := []struct {
		name  string
		setup func(*imds.Instance)
		path  string
		v2    bool
		keys  []string
	}{
		{"iam/info", nil, "/latest/meta-data/iam/info", false, []string{"Code", "LastUpdated", "InstanceProfileArn", "InstanceProfileId"}},
		{"iam/info with token", nil, "/latest/meta-data/iam/info", true, []string{"Code", "LastUpdated", "InstanceProfileArn", "InstanceProfileId"}},
		{"role, v1", nil, blRolePath, false, credKeys},
		{"role, v2", nil, blRolePath, true, credKeys},
		{"role, tokens required", tokensRequired, blRolePath, true, credKeys},
		{"role, static", static, blRolePath, false, credKeys},
		{"role, static v2", static, blRolePath, true, credKeys},
		{"identity credentials", nil, idc + "security-credentials/ec2-instance", false, credKeys},
		{"identity info", nil, idc + "info", false, []string{"Code", "LastUpdated", "AccountId"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			h := newHarness(t, tt.setup)
			headers := map[string]string{}
			if tt.v2 {
				headers[blTokenHdr] = h.token("60")
			}
			resp, body := h.do("GET", tt.path, headers)
			if resp.StatusCode != 200 {
				t.Fatalf("status %d, want 200", resp.StatusCode)
			}
			if got := blObjectKeys(t, body); strings.Join(got, ",") != strings.Join(tt.keys, ",") {
				t.Errorf("keys %q, want %q", got, tt.keys)
			}
			var doc map[string]string
			if err := json.Unmarshal([]byte(body), &doc); err != nil {
				t.Fatalf("members are not all strings: %v", err)
			}
			if doc["Code"] != "Success" {
				t.Errorf("Code = %q, want Success", doc["Code"])
			}
			if !reBLTime.MatchString(doc["LastUpdated"]) {
				t.Errorf("LastUpdated = %q", doc["LastUpdated"])
			}
			if _, isCreds := doc["AccessKeyId"]; isCreds && doc["Type"] != "AWS-HMAC" {
				t.Errorf("Type = %q, want AWS-HMAC", doc["Type"])
			}
		})
	}
}

// TestBL07_Placement is BL-07 (paths): the zone lives under placement/,
// never at the top level.
func TestBL07_Placement(t *testing.T) {
	// Ensure placement/ is a directory of its leaves, optional ones
	// included when configured, and nothing leaks to the top level.
	full := func(in *imds.Instance) {
		in.Placement.GroupName = "pg-1"
		in.Placement.PartitionNumber = 3
		in.Placement.HostID = "h-0123456789abcdef0"
	}
	const md = "/latest/meta-data/"
	tests := []struct {
		name   string
		setup  func(*imds.Instance)
		path   string
		status int
		body   string
	}{
		{"listing", nil, md + "placement/", 200, "availability-zone\navailability-zone-id\nregion"},
		{"listing, all optional", full, md + "placement", 200,
			"availability-zone\navailability-zone-id\ngroup-name\nhost-id\npartition-number\nregion"},
		{"zone", nil, md + "placement/availability-zone", 200, "us-east-1a"},
		{"zone id", nil, md + "placement/availability-zone-id", 200, "use1-az4"},
		{"group name", full, md + "placement/group-name", 200, "pg-1"},
		{"partition", full, md + "placement/partition-number", 200, "3"},
		{"host", full, md + "placement/host-id", 200, "h-0123456789abcdef0"},
		{"no group by default", nil, md + "placement/group-name", 404, page404},
		{"top-level zone", nil, md + "availability-zone", 404, page404},
		{"top-level region", nil, md + "region", 404, page404},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			h := newHarness(t, tt.setup)
			resp, body := h.do("GET", tt.path, nil)
			if resp.StatusCode != tt.status || body != tt.body {
				t.Errorf("GET %s = %d %q, want %d %q", tt.path, resp.StatusCode, body, tt.status, tt.body)
			}
		})
	}
}

// TestBL08_LocalZoneRegion is BL-08 (paths): clients that cut the zone's
// last letter get Local Zones wrong, so placement/region must be served,
// and the zone must answer with botocore's trailing slash. Refusing a
// region that is not the zone's parent is config validation, tested there.
func TestBL08_LocalZoneRegion(t *testing.T) {
	// Ensure region, zone and document agree for Local Zones and standard
	// zones, with and without a trailing slash.
	tests := []struct{ zone, region string }{
		{"us-west-2-lax-1a", "us-west-2"},
		{"us-east-1-atl-2a", "us-east-1"},
		{"us-west-2a", "us-west-2"},
	}
	for _, tt := range tests {
		t.Run(tt.zone, func(t *testing.T) {
			h := newHarness(t, func(in *imds.Instance) {
				in.Placement.AvailabilityZone = tt.zone
				in.Placement.Region = tt.region
				in.Placement.AvailabilityZoneID = ""
			})
			if got := h.get("/latest/meta-data/placement/region"); got != tt.region {
				t.Errorf("region = %q, want %q", got, tt.region)
			}
			for _, p := range []string{"availability-zone", "availability-zone/"} {
				if got := h.get("/latest/meta-data/placement/" + p); got != tt.zone {
					t.Errorf("%s = %q, want %q", p, got, tt.zone)
				}
			}
			var doc struct{ Region, AvailabilityZone string }
			if err := json.Unmarshal([]byte(h.get(blDocPath)), &doc); err != nil {
				t.Fatal(err)
			}
			if doc.Region != tt.region || doc.AvailabilityZone != tt.zone {
				t.Errorf("document region %q zone %q, want %q %q", doc.Region, doc.AvailabilityZone, tt.region, tt.zone)
			}
		})
	}
}

// TestBL09_SpotNotice is BL-09 (events): the spot notice is 404 until an
// interruption is scheduled, then {"action","time"} with lower-case keys.
func TestBL09_SpotNotice(t *testing.T) {
	// Ensure both spot leaves 404 without a notice, and that each action
	// is served in the layout node-termination-handler parses.
	const spot = "/latest/meta-data/spot/"
	t.Run("no interruption", func(t *testing.T) {
		h := newHarness(t, nil)
		for _, p := range []string{spot + "instance-action", spot + "termination-time", spot, "/latest/meta-data/spot"} {
			if resp, body := h.do("GET", p, nil); resp.StatusCode != 404 || body != page404 {
				t.Errorf("GET %s = %d, want 404 with the 404 page", p, resp.StatusCode)
			}
		}
	})

	// Pinned: termination-time is served for terminate only; the reports
	// cover terminate alone and the leaf's name says what it is for.
	tests := []struct {
		action      string
		termination bool
	}{
		{imds.SpotTerminate, true},
		{imds.SpotStop, false},
		{imds.SpotHibernate, false},
	}
	for _, tt := range tests {
		t.Run(tt.action, func(t *testing.T) {
			h := newHarness(t, nil)
			start := h.clock.Now()
			// A sub-second, non-UTC action time must still come out as
			// whole seconds with Z.
			at := start.Add(2*time.Minute + 300*time.Millisecond).In(time.FixedZone("X", 3600))
			h.setInstance(func(in *imds.Instance) {
				in.Events.Spot = &imds.SpotNotice{Action: tt.action, NoticeTime: start.Add(time.Second), ActionTime: at}
			})
			if resp, _ := h.do("GET", spot+"instance-action", nil); resp.StatusCode != 404 {
				t.Fatalf("before the notice time: status %d, want 404", resp.StatusCode)
			}
			h.clock.Advance(time.Second)

			body := h.get(spot + "instance-action")
			if keys := blObjectKeys(t, body); strings.Join(keys, ",") != "action,time" {
				t.Errorf("keys %q, want action,time", keys)
			}
			var notice struct {
				Action string `json:"action"`
				Time   string `json:"time"`
			}
			if err := json.Unmarshal([]byte(body), &notice); err != nil {
				t.Fatal(err)
			}
			if notice.Action != tt.action || notice.Time != "2026-12-04T16:02:00Z" {
				t.Errorf("notice = %+v, want %s at 2026-12-04T16:02:00Z", notice, tt.action)
			}
			if _, err := time.Parse(time.RFC3339, notice.Time); err != nil {
				t.Errorf("time does not parse as RFC 3339: %v", err)
			}

			resp, term := h.do("GET", spot+"termination-time", nil)
			switch {
			case tt.termination && (resp.StatusCode != 200 || term != notice.Time):
				t.Errorf("termination-time = %d %q, want 200 %q", resp.StatusCode, term, notice.Time)
			case !tt.termination && resp.StatusCode != 404:
				t.Errorf("termination-time for %s: status %d, want 404", tt.action, resp.StatusCode)
			}
		})
	}
}

// TestBL10_MaintenanceEvents is BL-10 (events): scheduled events are an
// array with GMT dates, and NotAfter is never empty.
func TestBL10_MaintenanceEvents(t *testing.T) {
	// Ensure every event time uses EC2's date form and parses with
	// node-termination-handler's layout, also for open-ended events.
	reGMT := regexp.MustCompile(`^\d{1,2} [A-Z][a-z]{2} \d{4} \d\d:\d\d:\d\d GMT$`)
	reEventID := regexp.MustCompile(`^instance-event-[0-9a-f]{17}$`)
	const nthLayout = "2 Jan 2006 15:04:05 GMT"
	paris := time.FixedZone("CET", 3600)
	tests := []struct {
		name      string
		event     imds.MaintenanceEvent
		scheduled bool
		// want holds exact values of some members.
		want map[string]string
	}{
		{"system-reboot", imds.MaintenanceEvent{ID: "instance-event-0d59937288b749b32", Code: "system-reboot",
			Description: "scheduled reboot", State: imds.EventActive,
			NotBefore: time.Date(2027, 1, 21, 9, 0, 43, 0, time.UTC), NotAfter: time.Date(2027, 1, 21, 11, 0, 43, 0, time.UTC)},
			true, map[string]string{"NotBefore": "21 Jan 2027 09:00:43 GMT", "State": "active"}},
		// Pinned: with no end, NotAfter repeats NotBefore (an empty
		// string broke node-termination-handler, issue #315).
		{"instance-stop without end", imds.MaintenanceEvent{ID: "instance-event-1d59937288b749b32", Code: "instance-stop",
			Description: "stop", NotBefore: time.Date(2027, 1, 21, 9, 0, 0, 0, time.UTC)},
			true, map[string]string{"NotAfter": "21 Jan 2027 09:00:00 GMT", "State": "active"}},
		// Pinned: days 1-9 are not zero-padded, as in the user guide.
		{"single-digit day", imds.MaintenanceEvent{ID: "instance-event-2d59937288b749b32", Code: "system-maintenance",
			Description: "d", NotBefore: time.Date(2027, 2, 5, 9, 0, 0, 0, time.UTC), NotAfter: time.Date(2027, 2, 5, 10, 0, 0, 0, time.UTC)},
			true, map[string]string{"NotBefore": "5 Feb 2027 09:00:00 GMT"}},
		{"local times become GMT", imds.MaintenanceEvent{ID: "instance-event-3d59937288b749b32", Code: "system-reboot",
			Description: "d", NotBefore: time.Date(2027, 1, 21, 10, 0, 0, 0, paris), NotAfter: time.Date(2027, 1, 21, 11, 0, 0, 0, paris),
			NotBeforeDeadline: time.Date(2027, 1, 28, 10, 0, 0, 0, paris)},
			true, map[string]string{"NotBefore": "21 Jan 2027 09:00:00 GMT", "NotBeforeDeadline": "28 Jan 2027 09:00:00 GMT"}},
		{"completed goes to history", imds.MaintenanceEvent{ID: "instance-event-4d59937288b749b32", Code: "system-reboot",
			Description: "d", State: imds.EventCompleted, NotBefore: time.Date(2026, 11, 1, 9, 0, 0, 0, time.UTC),
			NotAfter: time.Date(2026, 11, 1, 10, 0, 0, 0, time.UTC)},
			false, map[string]string{"State": "completed"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			h := newHarness(t, func(in *imds.Instance) { in.Events.Maintenance = []imds.MaintenanceEvent{tt.event} })
			full, empty := "scheduled", "history"
			if !tt.scheduled {
				full, empty = empty, full
			}
			if got := h.get("/latest/meta-data/events/maintenance/" + empty); got != "[]" {
				t.Errorf("%s = %q, want []", empty, got)
			}
			var events []map[string]string
			if err := json.Unmarshal([]byte(h.get("/latest/meta-data/events/maintenance/"+full)), &events); err != nil {
				t.Fatalf("%s is not an array of string objects: %v", full, err)
			}
			if len(events) != 1 {
				t.Fatalf("%s has %d events, want 1", full, len(events))
			}
			ev := events[0]
			for _, k := range []string{"NotBefore", "NotAfter", "Code", "Description", "EventId", "State"} {
				if _, ok := ev[k]; !ok {
					t.Errorf("event lacks %s", k)
				}
			}
			for _, k := range []string{"NotBefore", "NotAfter", "NotBeforeDeadline"} {
				v, ok := ev[k]
				if !ok && k == "NotBeforeDeadline" {
					continue
				}
				if !reGMT.MatchString(v) {
					t.Errorf("%s = %q, not EC2's date form", k, v)
				}
				if _, err := time.Parse(nthLayout, v); err != nil {
					t.Errorf("%s = %q does not parse: %v", k, v, err)
				}
			}
			if !reEventID.MatchString(ev["EventId"]) {
				t.Errorf("EventId = %q", ev["EventId"])
			}
			for k, want := range tt.want {
				if ev[k] != want {
					t.Errorf("%s = %q, want %q", k, ev[k], want)
				}
			}
		})
	}
}

// TestBL11_IdentitySignatures is BL-11 (identity): verifiers fail unless
// the signatures cover the exact bytes served as the document and the
// bodies are bare, wrapped base64.
func TestBL11_IdentitySignatures(t *testing.T) {
	// Ensure the served bodies verify against the served document, keep
	// their format, and decode with the newlines stripped.
	h := newHarness(t, nil)
	const dir = "/latest/dynamic/instance-identity/"
	if got := h.get(dir); got != "document\npkcs7\nrsa2048\nsignature" {
		t.Errorf("listing = %q", got)
	}
	doc := h.get(dir + "document")
	sigs := identity.Signatures{
		Signature: []byte(h.get(dir + "signature")),
		PKCS7:     []byte(h.get(dir + "pkcs7")),
		RSA2048:   []byte(h.get(dir + "rsa2048")),
	}
	if err := identity.Verify([]byte(doc), sigs, sharedSigner(t).CertificatePEM()); err != nil {
		t.Errorf("served signatures do not verify the served document: %v", err)
	}

	reBody := regexp.MustCompile(`^[A-Za-z0-9+/=\n]+$`)
	for name, body := range map[string][]byte{"signature": sigs.Signature, "pkcs7": sigs.PKCS7, "rsa2048": sigs.RSA2048} {
		t.Run(name, func(t *testing.T) {
			width := 64
			if name == "signature" {
				width = 76
			}
			if !reBody.Match(body) || bytes.Contains(body, []byte("-----")) || bytes.HasSuffix(body, []byte("\n")) {
				t.Fatalf("body is not bare base64 without a final LF: %q", body)
			}
			lines := bytes.Split(body, []byte("\n"))
			for i, l := range lines {
				if len(l) > width || (i < len(lines)-1 && len(l) != width) {
					t.Errorf("line %d has %d columns, want %d", i, len(l), width)
				}
			}
			if _, err := base64.StdEncoding.DecodeString(string(bytes.ReplaceAll(body, []byte("\n"), nil))); err != nil {
				t.Errorf("body with newlines stripped does not decode: %v", err)
			}
		})
	}

	// The same bytes whatever the route: a dated version and a tokened
	// request must not get a re-rendered document or new signatures.
	for _, p := range []string{"/2021-03-23/dynamic/instance-identity/", dir} {
		status, got := blTokenGet(h, p+"document", h.token("60"))
		if status != 200 || got != doc {
			t.Errorf("%sdocument differs from %sdocument", p, dir)
		}
		if got := h.get(p + "pkcs7"); got != string(sigs.PKCS7) {
			t.Errorf("%spkcs7 changed between requests", p)
		}
	}
}

// TestBL12_UserDataBytes is BL-12 (paths): user data is payload, served
// byte for byte; gzip stays gzip and is not a transfer encoding.
func TestBL12_UserDataBytes(t *testing.T) {
	// Ensure any byte string up to EC2's 16 KiB limit comes back exactly,
	// on every route to it, with no Content-Encoding.
	var gz bytes.Buffer
	zw := gzip.NewWriter(&gz)
	zw.Write([]byte("#!/bin/sh\necho hi\n"))
	zw.Close()
	all := make([]byte, 256)
	for i := range all {
		all[i] = byte(i)
	}
	big := make([]byte, 16384)
	rand.Read(big)
	tests := []struct {
		name string
		data []byte
	}{
		{"gzip", gz.Bytes()},
		{"every byte value", all},
		{"NUL and high bytes", []byte("a\x00b\x80\xff\xfe")},
		{"16384 bytes", big},
		{"CRLF kept", []byte("line1\r\nline2\r\n")},
		{"no final LF", []byte("#!/bin/sh\necho hi")},
		{"base64 text stays text", []byte("IyEvYmluL3NoCg==")},
		{"one byte", []byte("x")},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			h := newHarness(t, func(in *imds.Instance) { in.UserData = tt.data })
			c := blPlainClient(t)
			tok := h.token("60")
			routes := []struct {
				path    string
				headers map[string]string
			}{
				{"/latest/user-data", map[string]string{"Accept-Encoding": "gzip"}},
				{"/latest/user-data/", nil},
				{"/2009-04-04/user-data", nil},
				{"/latest/user-data", map[string]string{blTokenHdr: tok}},
			}
			for _, r := range routes {
				resp, body := blDo(t, c, "GET", h.url+r.path, r.headers)
				if resp.StatusCode != 200 || !bytes.Equal(body, tt.data) {
					t.Errorf("GET %s: status %d, %d bytes differ from the %d configured", r.path, resp.StatusCode, len(body), len(tt.data))
				}
				if ce := resp.Header.Get("Content-Encoding"); ce != "" {
					t.Errorf("GET %s: Content-Encoding %q", r.path, ce)
				}
				if resp.Header.Get("Content-Length") != strconv.Itoa(len(tt.data)) {
					t.Errorf("GET %s: Content-Length %q, want %d", r.path, resp.Header.Get("Content-Length"), len(tt.data))
				}
				if ct := resp.Header.Get("Content-Type"); ct != "application/octet-stream" {
					t.Errorf("GET %s: Content-Type %q", r.path, ct)
				}
			}
		})
	}
	t.Run("none", func(t *testing.T) {
		h := newHarness(t, noUserData)
		for _, p := range []string{"/latest/user-data/", "/2009-04-04/user-data"} {
			if resp, body := h.do("GET", p, nil); resp.StatusCode != 404 || body != page404 {
				t.Errorf("GET %s = %d, want 404 with the 404 page", p, resp.StatusCode)
			}
		}
	})
}

// TestBL14_Bursts is BL-14 (robustness), without the throttling part: many
// clients at once must all be served, and every token must stand alone.
func TestBL14_Bursts(t *testing.T) {
	// Ensure 200 concurrent token PUTs all succeed with distinct, valid
	// tokens and 1000 concurrent credential GETs all get the same 200.
	h := newHarness(t, nil)
	c := blPlainClient(t)

	const puts = 200
	tokens := make([]string, puts)
	var wg sync.WaitGroup
	errs := make(chan error, 1000)
	for i := range tokens {
		wg.Add(1)
		go func() {
			defer wg.Done()
			tok, err := blTry(c, "PUT", h.url+TokenPath, map[string]string{ttlHeader: "60"})
			tokens[i] = tok
			if err != nil {
				errs <- err
			}
		}()
	}
	wg.Wait()
	blDrain(t, errs)
	distinct := map[string]bool{}
	for _, tok := range tokens {
		distinct[tok] = true
	}
	if len(distinct) != puts {
		t.Errorf("%d distinct tokens of %d", len(distinct), puts)
	}
	for _, tok := range tokens {
		wg.Add(1)
		go func() {
			defer wg.Done()
			if _, err := blTry(c, "GET", h.url+blIDPath, map[string]string{blTokenHdr: tok}); err != nil {
				errs <- err
			}
		}()
	}
	wg.Wait()
	blDrain(t, errs)

	const gets = 1000
	bodies := make([]string, gets)
	for i := range bodies {
		wg.Add(1)
		go func() {
			defer wg.Done()
			body, err := blTry(c, "GET", h.url+blRolePath, nil)
			bodies[i] = body
			if err != nil {
				errs <- err
			}
		}()
	}
	wg.Wait()
	blDrain(t, errs)
	for i, b := range bodies {
		if b != bodies[0] {
			t.Fatalf("response %d differs from response 0", i)
		}
	}
	var doc map[string]string
	if err := json.Unmarshal([]byte(bodies[0]), &doc); err != nil || doc["Code"] != "Success" {
		t.Errorf("credentials %q do not parse: %v", bodies[0], err)
	}
}

// blTry sends one request from a goroutine and reports anything but a 200.
func blTry(c *http.Client, method, url string, headers map[string]string) (string, error) {
	req, err := http.NewRequest(method, url, nil)
	if err != nil {
		return "", err
	}
	for k, v := range headers {
		req.Header.Set(k, v)
	}
	resp, err := c.Do(req)
	if err != nil {
		return "", fmt.Errorf("%s %s: %w", method, url, err)
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(resp.Body)
	if err != nil {
		return "", fmt.Errorf("%s %s: read body: %w", method, url, err)
	}
	if resp.StatusCode != 200 {
		return "", fmt.Errorf("%s %s: status %d", method, url, resp.StatusCode)
	}
	return string(body), nil
}

// blDrain reports the first few errors collected by concurrent requests.
func blDrain(t *testing.T, errs chan error) {
	t.Helper()
	for n := 0; ; n++ {
		select {
		case err := <-errs:
			if n < 5 {
				t.Error(err)
			}
		default:
			if n > 0 {
				t.Fatalf("%d requests failed", n)
			}
			return
		}
	}
}

// TestBL15_AvailabilityProbe is BL-15 (client-compat): SDKs probe
// instance-id and a few other paths first, and every miss must be the same
// IMDS 404, not a framework page.
func TestBL15_AvailabilityProbe(t *testing.T) {
	// Ensure the probe paths answer and every kind of miss gets the one
	// 404 page.
	reID := regexp.MustCompile(`^i-[0-9a-f]{8}([0-9a-f]{9})?$`)
	for _, id := range []string{"i-0123456789abcdef0", "i-0123abcd"} {
		t.Run("probe "+id, func(t *testing.T) {
			h := newHarness(t, func(in *imds.Instance) { in.ID = id })
			if got := h.get(blIDPath); !reID.MatchString(got) || got != id {
				t.Errorf("instance-id = %q, want %q", got, id)
			}
			for _, p := range []string{"/latest/meta-data/placement/region", "/latest/meta-data/placement/availability-zone", blDocPath} {
				h.get(p)
			}
		})
	}

	misses := []string{
		"/latest/meta-data/no-such-key",
		"/nope",
		"/latest/nope",
		"/1999-01-01/meta-data/instance-id",
		"/latest/dynamic/nope",
		"/latest/meta-data/iam/security-credentials/nope",
		"/latest/meta-data/instance-id/extra",
		"/latest/user-data/extra",
		"/latest/api",
		"/latest/api/token/",
		"/latest/api/tokens",
		"/latest//meta-data/",
		"/latest/meta-data//",
		"/LATEST/meta-data/",
		"/latest/Meta-Data/",
		"/latest/meta-data/instance-id%00",
		"/latest/meta-data/%2e%2e/",
	}
	h := newHarness(t, nil)
	for _, p := range misses {
		t.Run("miss "+p, func(t *testing.T) {
			resp, body := blRaw(t, blAddr(h), "GET "+p+" HTTP/1.1\r\nHost: x\r\n\r\n")
			if resp.StatusCode != 404 || string(body) != page404 {
				t.Fatalf("status %d body %q, want 404 with the 404 page", resp.StatusCode, body)
			}
			if ct := resp.Header.Get("Content-Type"); ct != "text/html" {
				t.Errorf("Content-Type = %q, want text/html", ct)
			}
		})
	}
}

// TestBL16_RoleListingSlash is BL-16 (paths): SDKs build the role listing
// URL with and without a slash, and both must give the bare role name.
func TestBL16_RoleListingSlash(t *testing.T) {
	// Ensure the role listing and the role's credentials answer the same
	// with and without a trailing slash, for v1 and v2, and that without a
	// profile every IAM path is 404.
	const sc = "/latest/meta-data/iam/security-credentials"
	h := newHarness(t, nil)
	tok := h.token("60")
	for _, v2 := range []bool{false, true} {
		headers := map[string]string{}
		if v2 {
			headers[blTokenHdr] = tok
		}
		name := fmt.Sprintf("v2=%v", v2)
		pairs := [][2]string{{sc, sc + "/"}, {sc + "/app-role", sc + "/app-role/"}}
		for _, pair := range pairs {
			r1, b1 := h.do("GET", pair[0], headers)
			r2, b2 := h.do("GET", pair[1], headers)
			if r1.StatusCode != 200 || r2.StatusCode != 200 || b1 != b2 {
				t.Errorf("%s: %s = %d, %s = %d, bodies equal %v", name, pair[0], r1.StatusCode, pair[1], r2.StatusCode, b1 == b2)
			}
			if r1.Header.Get("Content-Type") != "text/plain" || r2.Header.Get("Content-Type") != "text/plain" {
				t.Errorf("%s: Content-Type not text/plain", name)
			}
		}
		if _, b := h.do("GET", sc, headers); b != "app-role" {
			t.Errorf("%s: role listing %q, want app-role", name, b)
		}
	}
	if resp, _ := h.do("GET", sc+"/App-Role", nil); resp.StatusCode != 404 {
		t.Errorf("role names are case-sensitive: App-Role gave %d", resp.StatusCode)
	}

	t.Run("no profile", func(t *testing.T) {
		h := newHarness(t, noIAM)
		for _, p := range []string{"/latest/meta-data/iam", "/latest/meta-data/iam/", "/latest/meta-data/iam/info",
			sc, sc + "/", sc + "/app-role"} {
			if resp, _ := h.do("GET", p, nil); resp.StatusCode != 404 {
				t.Errorf("GET %s = %d, want 404", p, resp.StatusCode)
			}
		}
	})
}

// TestBL17_TokenPutWireShapes is BL-17 (robustness): SDKs frame the empty
// token PUT in several ways, and a 411 or 400 stops them cold.
func TestBL17_TokenPutWireShapes(t *testing.T) {
	// Ensure every framing of a token PUT gets a token; a body is ignored.
	const head = "PUT /latest/api/token HTTP/1.1\r\nHost: 127.0.0.1\r\nX-aws-ec2-metadata-token-ttl-seconds: 60\r\n"
	tests := []struct {
		name   string
		raw    string
		status int
	}{
		{"no length", head + "\r\n", 200},
		{"length 0", head + "Content-Length: 0\r\n\r\n", 200},
		{"chunked, empty", head + "Transfer-Encoding: chunked\r\n\r\n0\r\n\r\n", 200},
		{"chunked, with data", head + "Transfer-Encoding: chunked\r\n\r\n5\r\nhello\r\n0\r\n\r\n", 200},
		{"5-byte body", head + "Content-Length: 5\r\n\r\nhello", 200},
		{"100 KiB body", head + "Content-Length: 102400\r\n\r\n" + strings.Repeat("x", 102400), 200},
		// The server answers at once and never needs the announced body.
		{"expect 100-continue", head + "Content-Length: 5\r\nExpect: 100-continue\r\n\r\n", 200},
		// aws-sdk-ruby's wire log (issue #3162).
		{"ruby shape", head + "Content-Length: 0\r\nContent-Type: application/x-www-form-urlencoded\r\n" +
			"Accept-Encoding: gzip;q=1.0,deflate;q=0.6,identity;q=0.3\r\nAccept: */*\r\nUser-Agent: aws-sdk-ruby3/3.0\r\n\r\n", 200},
		// Pinned: HTTP/1.0 has no Host requirement and old tools still
		// speak it, so it gets a token too.
		{"HTTP/1.0 without Host", "PUT /latest/api/token HTTP/1.0\r\nX-aws-ec2-metadata-token-ttl-seconds: 60\r\n\r\n", 200},
		// Pinned: HTTP/1.1 without Host is refused by net/http before the
		// handler runs (RFC 9112 3.2 requires Host); no SDK sends that.
		{"HTTP/1.1 without Host", "PUT /latest/api/token HTTP/1.1\r\nX-aws-ec2-metadata-token-ttl-seconds: 60\r\n\r\n", 400},
	}
	h := newHarness(t, nil)
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			resp, body := blRaw(t, blAddr(h), tt.raw)
			if resp.StatusCode != tt.status {
				t.Fatalf("status %d, want %d (body %q)", resp.StatusCode, tt.status, body)
			}
			if tt.status != 200 {
				return
			}
			if resp.Header.Get(hdrTokenTTL) != "60" {
				t.Errorf("TTL header %q, want 60", resp.Header.Get(hdrTokenTTL))
			}
			if ce := resp.Header.Get("Content-Encoding"); ce != "" {
				t.Errorf("token sent with Content-Encoding %q", ce)
			}
			if resp.Header.Get("Content-Length") != strconv.Itoa(len(body)) {
				t.Errorf("Content-Length %q, body %d bytes", resp.Header.Get("Content-Length"), len(body))
			}
			if status, _ := blTokenGet(h, blIDPath, string(body)); status != 200 {
				t.Errorf("the token does not work: status %d", status)
			}
		})
	}
	t.Run("HTTP/1.0 GET without Host", func(t *testing.T) {
		resp, body := blRaw(t, blAddr(h), "GET /latest/meta-data/instance-id HTTP/1.0\r\n\r\n")
		if resp.StatusCode != 200 || string(body) != "i-0123456789abcdef0" {
			t.Errorf("status %d body %q", resp.StatusCode, body)
		}
	})
}

// TestBL21_CredentialExpiry is BL-21 (credentials), beyond the default
// schedule that TestServer_CredentialsRotate covers: what is served always
// has five minutes left, and operator-given credentials are served even
// when they have already expired.
func TestBL21_CredentialExpiry(t *testing.T) {
	t.Run("15-minute credentials", func(t *testing.T) {
		// Ensure a short schedule still rotates at least 5 minutes ahead.
		h := newBLHarness(t, blInstance(nil), blOptions{schedule: creds.Schedule{Lifetime: 15 * time.Minute, Period: 10 * time.Minute}})
		first := blCreds(t, h)
		h.clock.Advance(11 * time.Minute)
		second := blCreds(t, h)
		if second.AccessKeyId == first.AccessKeyId || !second.expires.After(first.expires) {
			t.Errorf("after 11 minutes: key %s (was %s), expiry %v (was %v); want a new set", second.AccessKeyId, first.AccessKeyId, second.expires, first.expires)
		}
		for i := 0; i < 120; i++ {
			c := blCreds(t, h)
			now := h.clock.Now()
			if left := c.expires.Sub(now); left < 5*time.Minute {
				t.Fatalf("at %v credentials have %v left, want at least 5m", now, left)
			}
			if c.updated.After(now) {
				t.Fatalf("at %v LastUpdated is %v", now, c.updated)
			}
			h.clock.Advance(37 * time.Second)
		}
	})
	t.Run("expired static credentials", func(t *testing.T) {
		// Ensure past-dated operator credentials are served as they are,
		// with Code Success: SDKs cope with expired ones, not with errors.
		past := time.Date(2026, 12, 4, 15, 0, 0, 0, time.UTC)
		h := newHarness(t, func(in *imds.Instance) {
			in.IAM.Static = &imds.StaticCredentials{AccessKeyID: "ASIAEXAMPLESTATIC123", SecretAccessKey: "c2VjcmV0",
				SessionToken: "dG9rZW4=", Expiration: past}
		})
		var doc map[string]string
		if err := json.Unmarshal([]byte(h.get(blRolePath)), &doc); err != nil {
			t.Fatal(err)
		}
		if doc["Code"] != "Success" || doc["Expiration"] != "2026-12-04T15:00:00Z" || doc["AccessKeyId"] != "ASIAEXAMPLESTATIC123" {
			t.Errorf("static credentials served as %v", doc)
		}
	})
}

type blCredSet struct {
	AccessKeyId, Expiration, LastUpdated string
	expires, updated                     time.Time
}

// blCreds fetches and parses the role's credentials.
func blCreds(t *testing.T, h *harness) blCredSet {
	t.Helper()
	var c blCredSet
	if err := json.Unmarshal([]byte(h.get(blRolePath)), &c); err != nil {
		t.Fatal(err)
	}
	if !reBLTime.MatchString(c.Expiration) || !reBLTime.MatchString(c.LastUpdated) {
		t.Fatalf("timestamps %q %q", c.Expiration, c.LastUpdated)
	}
	c.expires, _ = time.Parse(creds.TimeLayout, c.Expiration)
	c.updated, _ = time.Parse(creds.TimeLayout, c.LastUpdated)
	return c
}

// TestBL22_TokenLifetime is BL-22 (tokens): clients and server disagreeing
// at the boundary made SDKs see 401s early; a bad token is never served as
// IMDSv1.
func TestBL22_TokenLifetime(t *testing.T) {
	t.Run("boundaries", func(t *testing.T) {
		// Ensure a token is valid at TTL-0.5s and refused at exactly TTL,
		// counted from the millisecond it was issued.
		for _, ttl := range []int{1, 2, 60, 21600} {
			for _, offset := range []time.Duration{0, 999 * time.Millisecond} {
				name := fmt.Sprintf("ttl %d issued at +%v", ttl, offset)
				t.Run(name, func(t *testing.T) {
					h := newHarness(t, nil)
					h.clock.Advance(offset)
					tok := h.token(strconv.Itoa(ttl))
					life := time.Duration(ttl) * time.Second

					h.clock.Advance(life - 500*time.Millisecond)
					resp, _ := h.do("GET", blIDPath, map[string]string{blTokenHdr: tok})
					if resp.StatusCode != 200 || resp.Header.Get(hdrTokenTTL) != "1" {
						t.Fatalf("at TTL-0.5s: status %d, remaining %q; want 200 and 1", resp.StatusCode, resp.Header.Get(hdrTokenTTL))
					}
					h.clock.Advance(499 * time.Millisecond)
					if status, _ := blTokenGet(h, blIDPath, tok); status != 200 {
						t.Fatalf("at TTL-1ms: status %d, want 200", status)
					}
					h.clock.Advance(time.Millisecond)
					resp, body := h.do("GET", blIDPath, map[string]string{blTokenHdr: tok})
					blWantEmpty(t, resp, []byte(body), 401)
				})
			}
		}
	})
	t.Run("expired is not IMDSv1", func(t *testing.T) {
		// Ensure an expired token gets 401 in either mode while no token
		// at all is IMDSv1, and that a fresh token fixes it at once.
		for _, required := range []bool{false, true} {
			h := newHarness(t, nil)
			if required {
				h.setInstance(tokensRequired)
			}
			tok := h.token("2")
			h.clock.Advance(2500 * time.Millisecond)
			resp, body := h.do("GET", blIDPath, map[string]string{blTokenHdr: tok})
			blWantEmpty(t, resp, []byte(body), 401)
			want := 200
			if required {
				want = 401
			}
			if resp, _ := h.do("GET", blIDPath, nil); resp.StatusCode != want {
				t.Errorf("required=%v, no token: status %d, want %d", required, resp.StatusCode, want)
			}
			if status, body := blTokenGet(h, blIDPath, h.token("60")); status != 200 || body != "i-0123456789abcdef0" {
				t.Errorf("required=%v, retry with a fresh token: %d %q", required, status, body)
			}
		}
	})
	t.Run("restart", func(t *testing.T) {
		// Ensure a token from before a restart (new key ring) is refused:
		// tokens are not persisted.
		h := newHarness(t, nil)
		tok := h.token("21600")
		restarted := newHarnessFor(t, testInstance(h.clock.Now()), h.clock, nil)
		resp, body := restarted.do("GET", blIDPath, map[string]string{blTokenHdr: tok})
		blWantEmpty(t, resp, []byte(body), 401)
	})
}

// TestBL23_IdentityDocument is BL-23 (identity): the document must hold
// all fifteen keys, null for what is unset, and agree with the leaves.
func TestBL23_IdentityDocument(t *testing.T) {
	// Ensure the key set, the nulls and the cross-checks the Java SDK and
	// node-termination-handler rely on.
	allKeys := []string{"accountId", "architecture", "availabilityZone", "billingProducts", "devpayProductCodes",
		"marketplaceProductCodes", "imageId", "instanceId", "instanceType", "kernelId", "pendingTime", "privateIp",
		"ramdiskId", "region", "version"}
	nullable := []string{"billingProducts", "marketplaceProductCodes", "kernelId", "ramdiskId"}
	full := func(in *imds.Instance) {
		in.KernelID = "aki-0123456789abcdef0"
		in.RamdiskID = "ari-0123456789abcdef0"
		in.BillingProducts = []string{"bp-6ba54002"}
		in.ProductCodes = []string{"code1", "code2"}
	}
	for _, tt := range []struct {
		name  string
		setup func(*imds.Instance)
	}{{"defaults", nil}, {"everything set", full}} {
		t.Run(tt.name, func(t *testing.T) {
			h := newHarness(t, tt.setup)
			body := h.get(blDocPath)
			keys := blObjectKeys(t, body)
			if strings.Join(keys, ",") != strings.Join(allKeys, ",") {
				t.Errorf("keys %q, want %q", keys, allKeys)
			}
			var doc map[string]any
			if err := json.Unmarshal([]byte(body), &doc); err != nil {
				t.Fatal(err)
			}
			for _, k := range nullable {
				if isNull := doc[k] == nil; isNull != (tt.setup == nil) {
					t.Errorf("%s = %v; null %v, want %v", k, doc[k], isNull, tt.setup == nil)
				}
			}
			// Pinned: DevPay is retired and the model has no field for it.
			if doc["devpayProductCodes"] != nil {
				t.Errorf("devpayProductCodes = %v, want null", doc["devpayProductCodes"])
			}
			if s, _ := doc["pendingTime"].(string); !reBLTime.MatchString(s) {
				t.Errorf("pendingTime = %v", doc["pendingTime"])
			}
			if doc["version"] != "2017-09-30" {
				t.Errorf("version = %v", doc["version"])
			}
			acct, _ := doc["accountId"].(string)
			if !regexp.MustCompile(`^\d{12}$`).MatchString(acct) {
				t.Errorf("accountId = %v", doc["accountId"])
			}
			var info struct{ InstanceProfileArn string }
			json.Unmarshal([]byte(h.get("/latest/meta-data/iam/info")), &info)
			if !strings.HasPrefix(info.InstanceProfileArn, "arn:aws:iam::"+acct+":") {
				t.Errorf("accountId %s differs from the profile ARN %s", acct, info.InstanceProfileArn)
			}
			if tt.setup == nil {
				return
			}
			if doc["kernelId"] != h.get("/latest/meta-data/kernel-id") || doc["ramdiskId"] != h.get("/latest/meta-data/ramdisk-id") {
				t.Errorf("kernel/ramdisk %v %v disagree with the leaves", doc["kernelId"], doc["ramdiskId"])
			}
			codes, _ := json.Marshal(doc["marketplaceProductCodes"])
			if string(codes) != `["code1","code2"]` || h.get("/latest/meta-data/product-codes") != "code1\ncode2" {
				t.Errorf("product codes %s disagree with the leaf", codes)
			}
		})
	}
}

// TestBL24_DirectorySlash is BL-24 (paths): a redirect for a slash-less
// directory sent a proxied client to the real IMDS address; no path may
// redirect and no header may name the link-local address.
func TestBL24_DirectorySlash(t *testing.T) {
	// Ensure every directory and leaf of a fully populated tree answers
	// 200 with and without a trailing slash, with equal bodies, and that
	// nothing anywhere is a 3xx or mentions 169.254.169.254.
	h := newHarness(t, func(in *imds.Instance) {
		tagsEnabled(in)
		start := time.Date(2026, 12, 4, 16, 0, 0, 0, time.UTC)
		in.Events.Spot = &imds.SpotNotice{Action: imds.SpotTerminate, NoticeTime: start, ActionTime: start.Add(2 * time.Minute)}
		in.Events.Rebalance = &imds.RebalanceNotice{NoticeTime: start}
	})
	c := blPlainClient(t)
	check := func(t *testing.T, resp *http.Response) {
		t.Helper()
		if resp.StatusCode >= 300 && resp.StatusCode < 400 {
			t.Errorf("redirect %d", resp.StatusCode)
		}
		for k, vs := range resp.Header {
			for _, v := range vs {
				if k == "Location" || strings.Contains(v, "169.254.169.254") {
					t.Errorf("header %s: %s", k, v)
				}
			}
		}
	}

	named := []string{"meta-data", "meta-data/iam", "meta-data/iam/security-credentials", "meta-data/placement",
		"meta-data/network/interfaces/macs", "meta-data/public-keys/0", "meta-data/tags/instance",
		"meta-data/events/maintenance", "meta-data/spot", "dynamic", "dynamic/instance-identity"}
	paths := h.view.Tree(h.clock.Now()).Paths()
	for _, p := range named {
		if !contains(paths, p) {
			t.Errorf("tree lacks %s", p)
		}
	}
	tok := h.token("60")
	for _, p := range paths {
		for _, prefix := range []string{"/latest/", "/2018-09-24/"} {
			for _, headers := range []map[string]string{nil, {blTokenHdr: tok}} {
				plain, slashed := prefix+p, prefix+p+"/"
				if p == "" {
					plain, slashed = strings.TrimSuffix(prefix, "/"), prefix
				}
				r1, b1 := blDo(t, c, "GET", h.url+plain, headers)
				r2, b2 := blDo(t, c, "GET", h.url+slashed, headers)
				check(t, r1)
				check(t, r2)
				if r1.StatusCode != 200 || r2.StatusCode != 200 || !bytes.Equal(b1, b2) {
					t.Errorf("%s: %d and with slash %d, bodies equal %v", plain, r1.StatusCode, r2.StatusCode, bytes.Equal(b1, b2))
				}
			}
		}
	}

	// Odd request targets answer 200 or 404, never a redirect. The empty
	// path of an absolute-form target is the root (RFC 9112 3.2.2).
	host := blAddr(h)
	odd := []struct {
		target string
		status int
	}{
		{"http://" + host, 200},
		{"http://" + host + "/latest/meta-data", 200},
		{"//latest/meta-data/", 404},
		{"/latest//meta-data/", 404},
		{"/./latest/meta-data/", 404},
		{"/latest/meta-data/./", 404},
		{"/latest/meta-data/..", 404},
		{"/latest/meta-data/iam/security-credentials//", 404},
		{"/latest/meta-data/%2e%2e/", 404},
		// Pinned: routing is on the decoded path (SPEC 2.4), so %2F is a
		// slash; no served name contains one.
		{"/latest/meta-data/iam%2fsecurity-credentials", 200},
		{"/latest/meta-data/?", 200},
		{"/latest?x=/", 200},
	}
	for _, o := range odd {
		t.Run(o.target, func(t *testing.T) {
			resp, _ := blRaw(t, host, "GET "+o.target+" HTTP/1.1\r\nHost: "+host+"\r\n\r\n")
			check(t, resp)
			if resp.StatusCode != o.status {
				t.Errorf("status %d, want %d", resp.StatusCode, o.status)
			}
		})
	}
	// A token PUT never redirects either; the slash form is not the token
	// path (SPEC 7.3).
	resp, _ := blRaw(t, host, "PUT /latest/api/token/ HTTP/1.1\r\nHost: x\r\nX-aws-ec2-metadata-token-ttl-seconds: 60\r\n\r\n")
	check(t, resp)
	if resp.StatusCode != 405 || resp.Header.Get("Allow") != "GET, HEAD" {
		t.Errorf("PUT /latest/api/token/: status %d Allow %q, want 405 GET, HEAD", resp.StatusCode, resp.Header.Get("Allow"))
	}
}

// TestBL27_Rebalance is BL-27 (events): the rebalance recommendation is 404
// until it fires, then {"noticeTime"} for the rest of the instance's life.
func TestBL27_Rebalance(t *testing.T) {
	// Ensure the notice appears at its time, in seconds, with one key, and
	// stays; events/ always lists maintenance/.
	const path = "/latest/meta-data/events/recommendations/rebalance"
	h := newHarness(t, nil)
	start := h.clock.Now()
	h.setInstance(func(in *imds.Instance) {
		in.Events.Rebalance = &imds.RebalanceNotice{NoticeTime: start.Add(90*time.Second + 750*time.Millisecond)}
	})
	if resp, _ := h.do("GET", path, nil); resp.StatusCode != 404 {
		t.Fatalf("before: status %d, want 404", resp.StatusCode)
	}
	if got := h.get("/latest/meta-data/events/"); got != "maintenance/" {
		t.Errorf("events/ before = %q, want maintenance/", got)
	}
	h.clock.Advance(91 * time.Second)
	for _, later := range []time.Duration{0, 24 * time.Hour} {
		h.clock.Advance(later)
		body := h.get(path)
		if keys := blObjectKeys(t, body); len(keys) != 1 || keys[0] != "noticeTime" {
			t.Errorf("keys %q, want noticeTime", keys)
		}
		var n struct{ NoticeTime string }
		json.Unmarshal([]byte(body), &n)
		if n.NoticeTime != "2026-12-04T16:01:30Z" {
			t.Errorf("+%v: noticeTime %q, want 2026-12-04T16:01:30Z", later, n.NoticeTime)
		}
		if got := h.get("/latest/meta-data/events/"); got != "maintenance/\nrecommendations/" {
			t.Errorf("events/ = %q", got)
		}
	}
}

// TestBL28_HopLimit is BL-28 (options): the token answer leaves with the
// instance's hop limit as its IP TTL, and nothing else inherits it.
func TestBL28_HopLimit(t *testing.T) {
	// Ensure the socket's TTL (IPv6 hop limit) equals the configured limit
	// while the token goes out and is back to the default for the next
	// request on the same keep-alive connection.
	for _, v6 := range []bool{false, true} {
		for _, hops := range []int{1, 2, 64} {
			t.Run(fmt.Sprintf("ipv6=%v hops=%d", v6, hops), func(t *testing.T) {
				blHopCase(t, v6, hops)
			})
		}
	}
	t.Run("refusals and GETs are not limited", func(t *testing.T) {
		// Pinned: only a 200 carrying a token is limited; a refused PUT
		// or a GET carries no token and leaves at the normal TTL.
		var calls atomic.Int32
		h := newBLHarness(t, blInstance(func(in *imds.Instance) { in.Options.HTTPPutHopLimit = 2 }),
			blOptions{afterHop: func(net.Conn) { calls.Add(1) }})
		h.do("PUT", TokenPath, map[string]string{ttlHeader: "0"})
		h.do("PUT", TokenPath, map[string]string{ttlHeader: "60", "X-Forwarded-For": "203.0.113.7"})
		h.do("GET", blIDPath, nil)
		h.do("GET", TokenPath, nil)
		if n := calls.Load(); n != 0 {
			t.Errorf("hop limit set %d times, want 0", n)
		}
	})
}

// blHopCase runs one hop-limit case over a raw keep-alive connection.
func blHopCase(t *testing.T, v6 bool, hops int) {
	var (
		mu       sync.Mutex
		during   = -1
		hopConn  net.Conn
		readHops = func(c net.Conn) (int, error) {
			if v6 {
				return ipv6.NewConn(c).HopLimit()
			}
			return ipv4.NewConn(c).TTL()
		}
	)
	in := blInstance(func(in *imds.Instance) {
		in.Options.HTTPPutHopLimit = hops
		in.Options.HTTPProtocolIPv6 = imds.Enabled
	})
	h := newBLHarness(t, in, blOptions{keepAlive: true, ipv6: v6, afterHop: func(c net.Conn) {
		n, err := readHops(c)
		if err != nil {
			t.Errorf("read hop limit: %v", err)
		}
		mu.Lock()
		during, hopConn = n, c
		mu.Unlock()
	}})

	c, err := net.Dial("tcp", blAddr(h))
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	c.SetDeadline(time.Now().Add(5 * time.Second))
	// Both ends get the kernel's default when the socket is made.
	def, err := readHops(c)
	if err != nil {
		t.Fatal(err)
	}
	br := bufio.NewReader(c)
	put := "PUT /latest/api/token HTTP/1.1\r\nHost: x\r\nX-aws-ec2-metadata-token-ttl-seconds: 60\r\n\r\n"
	io.WriteString(c, put)
	resp, tok := blReadResponse(t, br, put)
	if resp.StatusCode != 200 || resp.Close {
		t.Fatalf("PUT: status %d, close %v; want 200 on a kept connection", resp.StatusCode, resp.Close)
	}
	for k := range resp.Header {
		if strings.Contains(strings.ToLower(k), "hop") {
			t.Errorf("the hop limit shows as header %s", k)
		}
	}
	get := "GET /latest/meta-data/instance-id HTTP/1.1\r\nHost: x\r\nX-aws-ec2-metadata-token: " + string(tok) + "\r\n\r\n"
	io.WriteString(c, get)
	if resp, _ := blReadResponse(t, br, get); resp.StatusCode != 200 {
		t.Fatalf("GET on the same connection: status %d", resp.StatusCode)
	}

	mu.Lock()
	defer mu.Unlock()
	if during != hops {
		t.Errorf("TTL while the token went out = %d, want %d", during, hops)
	}
	if hopConn == nil {
		t.Fatal("the hop hook never ran")
	}
	// The GET was answered after the restore, and nothing has touched
	// the socket since.
	if after, err := readHops(hopConn); err != nil || after != def {
		t.Errorf("TTL after the token = %d (%v), want the default %d", after, err, def)
	}
	if n := h.plane.Counters().HopLimitFailures.Load(); n != 0 {
		t.Errorf("%d hop limit failures", n)
	}
}

// blFleet is a Directory of several instances keyed by source address.
type blFleet map[netip.Addr]*View

func (f blFleet) Lookup(a netip.Addr) *View { return f[a] }

// TestBL30_SourceAttribution is BL-30 (robustness), the data-plane part:
// each source address is one instance, an unknown one is refused, and no
// answer ever carries another instance's data. Tokens bound to their
// instance are case 47 of the conformance tests.
func TestBL30_SourceAttribution(t *testing.T) {
	// Ensure per-source answers on loopback aliases, and the pinned 403
	// with an empty body for a source no instance owns.
	a, b := blInstance(nil), blInstance(func(in *imds.Instance) { in.ID = "i-0fedcba9876543210" })
	var viewB *View
	h := newBLHarness(t, a, blOptions{directory: func(va *View) Directory {
		viewB = NewView(b, va.build)
		return blFleet{
			netip.MustParseAddr("127.0.0.2"): va,
			netip.MustParseAddr("127.0.0.4"): va,
			netip.MustParseAddr("127.0.0.3"): viewB,
		}
	}})
	from := func(src string) *http.Client {
		d := &net.Dialer{LocalAddr: &net.TCPAddr{IP: net.ParseIP(src)}}
		tr := &http.Transport{DialContext: d.DialContext, DisableKeepAlives: true}
		return &http.Client{Transport: tr, Timeout: 5 * time.Second}
	}
	for src, want := range map[string]string{"127.0.0.2": a.ID, "127.0.0.4": a.ID, "127.0.0.3": b.ID} {
		if _, body := blDo(t, from(src), "GET", h.url+blIDPath, nil); string(body) != want {
			t.Errorf("from %s: instance-id %q, want %q", src, body, want)
		}
	}
	_, tok := blDo(t, from("127.0.0.2"), "PUT", h.url+TokenPath, map[string]string{ttlHeader: "60"})
	if resp, _ := blDo(t, from("127.0.0.4"), "GET", h.url+blIDPath, map[string]string{blTokenHdr: string(tok)}); resp.StatusCode != 200 {
		t.Errorf("A's token from A's other address: status %d, want 200", resp.StatusCode)
	}
	resp, body := blDo(t, from("127.0.0.3"), "GET", h.url+blIDPath, map[string]string{blTokenHdr: string(tok)})
	blWantEmpty(t, resp, body, 401)

	// Pinned: a source no instance owns gets 403 with an empty body,
	// never a default instance.
	resp, body = blDo(t, from("127.0.0.5"), "GET", h.url+blIDPath, nil)
	blWantEmpty(t, resp, body, 403)
	resp, body = blDo(t, from("127.0.0.5"), "PUT", h.url+TokenPath, map[string]string{ttlHeader: "60"})
	blWantEmpty(t, resp, body, 403)

	var wg sync.WaitGroup
	errs := make(chan error, 50)
	for i := 0; i < 50; i++ {
		src, want := "127.0.0.2", a.ID
		if i%2 == 1 {
			src, want = "127.0.0.3", b.ID
		}
		wg.Add(1)
		go func() {
			defer wg.Done()
			body, err := blTry(from(src), "GET", h.url+blIDPath, nil)
			if err == nil && body != want {
				err = fmt.Errorf("from %s: %q, want %q", src, body, want)
			}
			if err != nil {
				errs <- err
			}
		}()
	}
	wg.Wait()
	blDrain(t, errs)
}

// TestBL31_ResponseHeaders is BL-31 (client-compat): clients branch on
// Content-Type and detect EC2 by Server, so every answer must carry
// EC2's headers, JSON bodies included.
func TestBL31_ResponseHeaders(t *testing.T) {
	// Ensure every path of a full tree, with and without a token, and
	// every error answers with text/plain (octet-stream for user data),
	// Server: EC2ws, an exact Content-Length and no chunking.
	h := newHarness(t, func(in *imds.Instance) {
		tagsEnabled(in)
		in.Events.Rebalance = &imds.RebalanceNotice{NoticeTime: time.Date(2026, 12, 4, 15, 0, 0, 0, time.UTC)}
	})
	c := blPlainClient(t)
	check := func(t *testing.T, what string, resp *http.Response, body []byte, ctype string) {
		t.Helper()
		if got := resp.Header.Get("Server"); got != "EC2ws" {
			t.Errorf("%s: Server = %q", what, got)
		}
		if ctype != "" && resp.Header.Get("Content-Type") != ctype {
			t.Errorf("%s: Content-Type = %q, want %q", what, resp.Header.Get("Content-Type"), ctype)
		}
		if len(resp.TransferEncoding) > 0 || resp.Header.Get("Content-Length") != strconv.Itoa(len(body)) {
			t.Errorf("%s: Content-Length %q, Transfer-Encoding %v, body %d bytes", what, resp.Header.Get("Content-Length"), resp.TransferEncoding, len(body))
		}
		// net/http moves Connection: close into resp.Close.
		if !resp.Close {
			t.Errorf("%s: no Connection: close", what)
		}
		if lm := resp.Header.Get("Last-Modified"); lm != "" {
			if _, err := http.ParseTime(lm); err != nil {
				t.Errorf("%s: Last-Modified %q: %v", what, lm, err)
			}
		}
	}

	tok := h.token("60")
	for _, p := range h.view.Tree(h.clock.Now()).Paths() {
		ctype := "text/plain"
		if p == "user-data" {
			ctype = "application/octet-stream"
		}
		for _, headers := range []map[string]string{nil, {blTokenHdr: tok}} {
			resp, body := blDo(t, c, "GET", h.url+"/latest/"+p, headers)
			if resp.StatusCode != 200 {
				t.Errorf("GET /latest/%s: status %d", p, resp.StatusCode)
			}
			check(t, "GET /latest/"+p, resp, body, ctype)
			head, _ := blDo(t, c, "HEAD", h.url+"/latest/"+p, headers)
			if head.Header.Get("Content-Length") != strconv.Itoa(len(body)) || head.Header.Get("Content-Type") != ctype {
				t.Errorf("HEAD /latest/%s: Content-Length %q, Content-Type %q", p, head.Header.Get("Content-Length"), head.Header.Get("Content-Type"))
			}
		}
	}

	resp, body := blDo(t, c, "PUT", h.url+TokenPath, map[string]string{ttlHeader: "60"})
	check(t, "token", resp, body, "text/plain")
	errorCases := []struct {
		name    string
		method  string
		path    string
		headers map[string]string
		status  int
	}{
		{"400", "PUT", TokenPath, map[string]string{ttlHeader: "0"}, 400},
		{"401", "GET", blIDPath, map[string]string{blTokenHdr: "bad"}, 401},
		{"403", "PUT", TokenPath, map[string]string{ttlHeader: "60", "X-Forwarded-For": "203.0.113.7"}, 403},
		{"404", "GET", "/latest/meta-data/nope", nil, 404},
		{"405", "POST", blIDPath, nil, 405},
		{"405 token", "GET", TokenPath, nil, 405},
	}
	for _, e := range errorCases {
		resp, body := blDo(t, c, e.method, h.url+e.path, e.headers)
		if resp.StatusCode != e.status {
			t.Errorf("%s: status %d", e.name, resp.StatusCode)
		}
		check(t, e.name, resp, body, "")
	}
}

// TestBL32_EndpointDisabled is BL-32 (options): a disabled endpoint must
// answer 403 at once on every path, so SDKs give up instead of timing out.
func TestBL32_EndpointDisabled(t *testing.T) {
	// Ensure every method and path gets a fast, empty 403 while disabled,
	// and that enabling again works without a restart.
	h := newHarness(t, nil)
	oldTok := h.token("21600")
	h.setInstance(endpointDisabled)
	tests := []struct {
		name    string
		method  string
		path    string
		headers map[string]string
	}{
		{"token PUT", "PUT", TokenPath, map[string]string{ttlHeader: "60"}},
		{"token PUT, bad TTL", "PUT", TokenPath, map[string]string{ttlHeader: "0"}},
		{"token PUT, forwarded", "PUT", TokenPath, map[string]string{ttlHeader: "60", "X-Forwarded-For": "203.0.113.7"}},
		{"dated token PUT", "PUT", "/2021-03-23/api/token", map[string]string{ttlHeader: "60"}},
		{"GET token path", "GET", TokenPath, nil},
		{"OPTIONS token path", "OPTIONS", TokenPath, nil},
		{"GET without token", "GET", blIDPath, nil},
		{"GET with earlier token", "GET", blIDPath, map[string]string{blTokenHdr: oldTok}},
		{"GET with garbage token", "GET", blIDPath, map[string]string{blTokenHdr: "garbage"}},
		{"GET /", "GET", "/", nil},
		{"GET dated", "GET", "/2009-04-04/meta-data/", nil},
		{"GET unknown", "GET", "/latest/meta-data/nope", nil},
		{"GET user-data", "GET", "/latest/user-data", nil},
		{"HEAD", "HEAD", blIDPath, nil},
		{"POST", "POST", blIDPath, nil},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			fastest := time.Hour
			for i := 0; i < 3; i++ {
				start := time.Now()
				resp, body := h.do(tt.method, tt.path, tt.headers)
				fastest = min(fastest, time.Since(start))
				blWantEmpty(t, resp, []byte(body), 403)
			}
			if fastest > 50*time.Millisecond {
				t.Errorf("fastest of 3 took %v, want under 50ms", fastest)
			}
		})
	}

	// Pinned: tokens are stateless, so one issued before the endpoint was
	// disabled works again once it is enabled.
	h.setInstance(func(in *imds.Instance) { in.Options.HTTPEndpoint = imds.Enabled })
	if resp, _ := h.do("PUT", TokenPath, map[string]string{ttlHeader: "60"}); resp.StatusCode != 200 {
		t.Errorf("re-enabled token PUT: status %d", resp.StatusCode)
	}
	if status, _ := blTokenGet(h, blIDPath, oldTok); status != 200 {
		t.Errorf("re-enabled, earlier token: status %d, want 200", status)
	}
}
