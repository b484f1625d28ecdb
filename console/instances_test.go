package console

import (
	"fmt"
	"net/http"
	"net/netip"
	"strings"
	"testing"
	"time"

	"github.com/imds-dev/imds"
	"github.com/imds-dev/imds/audit"
	"github.com/imds-dev/imds/config"
)

func testNow() time.Time { return time.Date(2026, 12, 4, 16, 0, 0, 0, time.UTC) }

// TestConsole_Instances checks the instances table.
func TestConsole_Instances(t *testing.T) {
	// Ensure each instance shows its addresses, options and IMDSv1 usage
	// with the busiest caller, and markup from the store is escaped.
	other := config.DefaultInstance(testNow())
	other.ID = "i-0ddddddddddddddd1"
	other.Options.HTTPTokens = imds.TokensRequired
	other.Tags = []imds.Tag{{Key: "Name", Value: "<script>x</script>"}}
	other.Interfaces[0].IPv6s = []netip.Addr{netip.MustParseAddr("2001:db8::5")}
	last := testNow().Add(-time.Minute)
	usage := func() audit.Report {
		return audit.Report{Instances: []audit.InstanceUsage{{
			InstanceID: testID, Served: 7, Refused: 2, LastSeen: last,
			Callers: []audit.Caller{{Process: audit.Process{PID: 4242, Command: "python3 /opt/legacy/poll_metadata.py --every 30s --region us-east-1"}, Requests: 9}},
		}}}
	}
	h := newHarness(t, harnessOptions{more: []*imds.Instance{other}, usage: usage})
	h.login()
	a := h.get("/console/")
	if a.StatusCode != http.StatusOK {
		t.Fatalf("status %d", a.StatusCode)
	}
	for _, want := range []string{
		testID, "172.31.1.2", "203.0.113.25", "2001:db8::5", "imds-default",
		"IMDSv2 optional", "IMDSv2 required",
		`<td class="num">7</td>`, `<td class="num">2</td>`, day(last) + "<br>" + clock(last),
		`<code>python3</code> <small>pid 4242 · 9 calls</small>`,
		"/opt/legacy/poll_metadata.py --ever…",
		`title="python3 /opt/legacy/poll_metadata.py --every 30s --region us-east-1"`,
		"no IMDSv1 calls",
		"&lt;script&gt;x&lt;/script&gt;",
		`href="/console/instances/` + testID + `/metadata-options"`,
	} {
		if !strings.Contains(a.Body, want) {
			t.Errorf("table lacks %s", want)
		}
	}
	if strings.Contains(a.Body, "<script>") {
		t.Error("a tag value reached the page unescaped")
	}
}

// TestConsole_InstancesPages checks paging through a fleet.
func TestConsole_InstancesPages(t *testing.T) {
	// Ensure pages follow each other by id without gaps or repeats.
	var more []*imds.Instance
	for i := 1; i <= 4; i++ {
		in := config.DefaultInstance(testNow())
		in.ID = fmt.Sprintf("i-0%016x", i)
		more = append(more, in)
	}
	h := newHarness(t, harnessOptions{more: more, pageSize: 2})
	h.login()

	var seen []string
	next := "/console/"
	for range 5 {
		a := h.get(next)
		for _, part := range strings.Split(a.Body, `<td class="id"><code>`)[1:] {
			seen = append(seen, part[:strings.Index(part, "<")])
		}
		i := strings.Index(a.Body, `href="/console/?after=`)
		if i < 0 {
			break
		}
		next = a.Body[i+len(`href="`):]
		next = next[:strings.Index(next, `"`)]
	}
	want := []string{"i-00000000000000001", "i-00000000000000002", "i-00000000000000003", "i-00000000000000004", testID}
	if strings.Join(seen, " ") != strings.Join(want, " ") {
		t.Errorf("pages showed %v, want %v", seen, want)
	}
}

// TestConsole_SignedOut checks what a browser without a session gets.
func TestConsole_SignedOut(t *testing.T) {
	// Ensure every page but the login form sends the browser to sign in.
	h := newHarness(t, harnessOptions{})
	for _, path := range []string{"/console/", optionsPath} {
		a := h.get(path)
		if a.StatusCode != http.StatusSeeOther || a.Header.Get("Location") != "/console/login" {
			t.Errorf("GET %s: status %d to %q, want 303 to the login", path, a.StatusCode, a.Header.Get("Location"))
		}
	}
	if a := h.get("/console/nothing"); a.StatusCode != http.StatusNotFound {
		t.Errorf("GET /console/nothing: status %d, want 404", a.StatusCode)
	}
}

// TestConsole_Headers checks the security headers.
func TestConsole_Headers(t *testing.T) {
	// Ensure every page forbids framing, foreign content and caching.
	h := newHarness(t, harnessOptions{})
	h.login()
	for _, path := range []string{"/console/login", "/console/", optionsPath, "/console/nothing"} {
		a := h.get(path)
		for name, want := range map[string]string{
			"Content-Security-Policy": "default-src 'self'",
			"X-Frame-Options":         "DENY",
			"X-Content-Type-Options":  "nosniff",
			"Cache-Control":           "no-store",
		} {
			if got := a.Header.Get(name); !strings.Contains(got, want) {
				t.Errorf("GET %s: %s = %q, want %q", path, name, got, want)
			}
		}
	}
	css := h.get("/console/static/console.css")
	if css.StatusCode != http.StatusOK || !strings.HasPrefix(css.Header.Get("Content-Type"), "text/css") {
		t.Errorf("style sheet: status %d, type %q", css.StatusCode, css.Header.Get("Content-Type"))
	}
}
