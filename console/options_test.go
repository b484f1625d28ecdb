package console

import (
	"net/http"
	"net/url"
	"strings"
	"testing"

	"github.com/imds-dev/imds"
	"github.com/imds-dev/imds/config"
)

const optionsPath = "/console/instances/" + testID + "/metadata-options"

// TestConsole_OptionsGuard checks the form's protection against forgery.
func TestConsole_OptionsGuard(t *testing.T) {
	// Ensure a change is taken only from a signed-in session's own form on
	// the console's origin, and a refused one changes nothing.
	tests := []struct {
		name       string
		token      string // "{session}" is the session's token
		headers    []string
		signedOut  bool
		wantStatus int
		wantBody   string
	}{
		{"own form", "{session}", nil, false, http.StatusSeeOther, ""},
		{"own form, referer only", "{session}", []string{"Origin", "", "Referer", "{url}/console/"}, false, http.StatusSeeOther, ""},
		{"missing token", "", nil, false, http.StatusForbidden, "form token is missing or wrong"},
		{"wrong token", "AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA", nil, false, http.StatusForbidden, "form token is missing or wrong"},
		{"cross-origin with the right token", "{session}", []string{"Origin", "http://127.0.0.2:8080"}, false, http.StatusForbidden, "another site"},
		{"other port", "{session}", []string{"Origin", "http://127.0.0.1:1"}, false, http.StatusForbidden, "another site"},
		{"cross-site fetch", "{session}", []string{"Sec-Fetch-Site", "same-site"}, false, http.StatusForbidden, "another site"},
		{"foreign referer", "{session}", []string{"Origin", "", "Referer", "http://evil.test/page"}, false, http.StatusForbidden, "another site"},
		{"no origin or referer", "{session}", []string{"Origin", ""}, false, http.StatusForbidden, "neither"},
		{"signed out", "{session}", nil, true, http.StatusForbidden, "not signed in"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			h := newHarness(t, harnessOptions{})
			tok := strings.ReplaceAll(tt.token, "{session}", h.login())
			for i := range tt.headers {
				tt.headers[i] = strings.ReplaceAll(tt.headers[i], "{url}", h.url)
			}
			if tt.signedOut {
				h.client = newClient(t)
			}
			form := url.Values{"http_tokens": {imds.TokensRequired}, "hop_limit": {"2"}}
			if tok != "" {
				form.Set("csrf_token", tok)
			}
			a := h.post(optionsPath, form, tt.headers...)
			if a.StatusCode != tt.wantStatus {
				t.Fatalf("status %d, want %d\n%s", a.StatusCode, tt.wantStatus, a.Body)
			}
			if !strings.Contains(a.Body, tt.wantBody) {
				t.Errorf("body lacks %q:\n%s", tt.wantBody, a.Body)
			}
			changed := h.instance(testID).Options.HTTPTokens == imds.TokensRequired
			if changed != (tt.wantStatus == http.StatusSeeOther) || (h.appliedCount() > 0) != changed {
				t.Errorf("stored tokens %q, %d applied, after status %d",
					h.instance(testID).Options.HTTPTokens, h.appliedCount(), a.StatusCode)
			}
		})
	}
}

// TestConsole_Options checks the "Modify instance metadata options" form.
func TestConsole_Options(t *testing.T) {
	// Ensure a good change reaches the store and the data plane and is
	// confirmed once, and a bad one is shown with the field's or EC2's
	// message, changing nothing.
	terminated := config.DefaultInstance(testNow())
	terminated.ID, terminated.State = "i-0aaaaaaaaaaaaaaaa", "terminated"
	badTag := config.DefaultInstance(testNow())
	badTag.ID = "i-0bbbbbbbbbbbbbbbb"
	badTag.Tags = append(badTag.Tags, imds.Tag{Key: "has space", Value: "x"})

	tests := []struct {
		name       string
		id         string
		form       url.Values
		wantStatus int
		wantBody   string
		want       imds.MetadataOptions // checked when the change is taken
	}{
		{"imdsv2 only", testID, url.Values{
			"http_tokens": {"required"}, "http_endpoint": {"enabled"}, "http_protocol_ipv6": {"disabled"},
			"instance_metadata_tags": {"disabled"}, "hop_limit": {"2"},
		}, http.StatusSeeOther, "", imds.MetadataOptions{
			HTTPTokens: "required", HTTPEndpoint: "enabled", HTTPProtocolIPv6: "disabled",
			InstanceMetadataTags: "disabled", HTTPPutHopLimit: 2,
		}},
		{"hop limit alone", testID, url.Values{"hop_limit": {" 64 "}}, http.StatusSeeOther, "", func() imds.MetadataOptions {
			o := imds.DefaultMetadataOptions()
			o.HTTPPutHopLimit = 64
			return o
		}()},
		{"hop limit not a number", testID, url.Values{"hop_limit": {"two"}}, http.StatusBadRequest, "Enter a whole number from 1 to 64.", imds.MetadataOptions{}},
		{"hop limit empty", testID, url.Values{"hop_limit": {""}}, http.StatusBadRequest, "Enter a whole number from 1 to 64.", imds.MetadataOptions{}},
		{"hop limit too high", testID, url.Values{"hop_limit": {"65"}}, http.StatusBadRequest,
			"The HttpPutResponseHopLimit must be between 1 and 64, not 65.", imds.MetadataOptions{}},
		{"hop limit zero", testID, url.Values{"hop_limit": {"0"}}, http.StatusBadRequest,
			"The HttpPutResponseHopLimit must be between 1 and 64, not 0.", imds.MetadataOptions{}},
		{"unknown tokens value", testID, url.Values{"http_tokens": {"always"}}, http.StatusBadRequest,
			"Value (always) for parameter HttpTokens is invalid.", imds.MetadataOptions{}},
		{"markup in a value", testID, url.Values{"http_endpoint": {"<b>on</b>"}}, http.StatusBadRequest,
			"Value (&lt;b&gt;on&lt;/b&gt;) for parameter HttpEndpoint is invalid.", imds.MetadataOptions{}},
		{"terminated instance", terminated.ID, url.Values{"http_tokens": {"required"}}, http.StatusBadRequest,
			"is not in a state from which it can be modified", imds.MetadataOptions{}},
		{"tags that cannot be paths", badTag.ID, url.Values{"instance_metadata_tags": {"enabled"}}, http.StatusBadRequest,
			"cannot be exposed in instance metadata", imds.MetadataOptions{}},
		{"unknown instance", "i-0cccccccccccccccc", url.Values{"http_tokens": {"required"}}, http.StatusNotFound, "no instance with that id", imds.MetadataOptions{}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			h := newHarness(t, harnessOptions{more: []*imds.Instance{terminated, badTag}})
			tok := h.login()
			path := "/console/instances/" + tt.id + "/metadata-options"
			if tt.wantStatus != http.StatusNotFound {
				if a := h.get(path); a.StatusCode != http.StatusOK || !strings.Contains(a.Body, "Modify instance metadata options") {
					t.Fatalf("GET form: status %d", a.StatusCode)
				}
			}
			tt.form.Set("csrf_token", tok)
			a := h.post(path, tt.form)
			if a.StatusCode != tt.wantStatus {
				t.Fatalf("status %d, want %d\n%s", a.StatusCode, tt.wantStatus, a.Body)
			}
			if !strings.Contains(a.Body, tt.wantBody) {
				t.Errorf("body lacks %q:\n%s", tt.wantBody, a.Body)
			}
			if tt.wantStatus != http.StatusSeeOther {
				if n := h.appliedCount(); n != 0 {
					t.Errorf("%d changes applied after a refusal", n)
				}
				return
			}

			got := h.instance(tt.id).Options
			if got != tt.want {
				t.Errorf("stored %+v, want %+v", got, tt.want)
			}
			h.mu.Lock()
			applied := h.applied
			h.mu.Unlock()
			if len(applied) != 1 || applied[0].Options != tt.want {
				t.Errorf("applied %d changes, want 1 with %+v", len(applied), tt.want)
			}
			list := h.get("/console/")
			if !strings.Contains(list.Body, "Metadata options of "+tt.id+" changed") {
				t.Errorf("no confirmation on the next page:\n%s", list.Body)
			}
			if again := h.get("/console/"); strings.Contains(again.Body, "changed:") {
				t.Error("confirmation shown twice")
			}
		})
	}
}

// TestConsole_OptionsForm checks that the form shows the stored values.
func TestConsole_OptionsForm(t *testing.T) {
	// Ensure each radio group has the stored value checked and the hop
	// limit filled in.
	h := newHarness(t, harnessOptions{})
	h.login()
	a := h.get(optionsPath)
	for _, want := range []string{
		`name="http_tokens" value="optional" checked`,
		`name="http_endpoint" value="enabled" checked`,
		`name="instance_metadata_tags" value="disabled" checked`,
		`name="hop_limit" type="number" min="1" max="64" value="1"`,
	} {
		if !strings.Contains(a.Body, want) {
			t.Errorf("form lacks %s", want)
		}
	}
	if a := h.get("/console/instances/i-nope/metadata-options"); a.StatusCode != http.StatusNotFound {
		t.Errorf("malformed id: status %d, want 404", a.StatusCode)
	}
}
