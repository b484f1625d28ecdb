package metrics

import (
	"crypto/rand"
	"errors"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	dto "github.com/prometheus/client_model/go"
	"github.com/prometheus/common/expfmt"
	"github.com/prometheus/common/model"

	"github.com/imds-dev/imds"
	"github.com/imds-dev/imds/config"
	"github.com/imds-dev/imds/creds"
	"github.com/imds-dev/imds/dataplane"
	"github.com/imds-dev/imds/token"
	"github.com/imds-dev/imds/tree"
)

// rig is a data plane on a loopback port feeding Metrics, and the
// metrics endpoint serving them.
type rig struct {
	t       *testing.T
	plane   string
	metrics string
	view    *dataplane.View
	down    atomic.Bool // the store's health
}

func newRig(t *testing.T, o Options) *rig {
	t.Helper()
	rg := &rig{t: t}
	seed := make([]byte, 32)
	rand.Read(seed)
	opts := tree.Options{Creds: creds.NewGenerator(seed, creds.DefaultSchedule)}
	rg.view = dataplane.NewView(config.DefaultInstance(time.Now()),
		func(in *imds.Instance, now time.Time) *tree.Tree { return tree.Build(in, opts, now) })
	ring, err := token.NewKeyRing(time.Now())
	if err != nil {
		t.Fatal(err)
	}
	o.Counters = new(dataplane.Counters)
	o.Health = func() error {
		if rg.down.Load() {
			return errors.New("store unavailable")
		}
		return nil
	}
	m := New(o)
	dp := dataplane.New(dataplane.Config{
		Directory: dataplane.Single{View: rg.view},
		Tokens:    token.NewAuthority(ring, nil),
		Counters:  o.Counters,
		Hooks:     dataplane.Hooks{After: m.Observe},
	})
	ps := httptest.NewUnstartedServer(dp)
	ps.Config.ConnContext = dataplane.ConnContext
	ps.Start()
	t.Cleanup(ps.Close)
	ms := httptest.NewServer(m.Handler())
	t.Cleanup(ms.Close)
	rg.plane, rg.metrics = ps.URL, ms.URL
	return rg
}

// do sends one data-plane request and returns its body.
func (rg *rig) do(method, path string, header map[string]string) string {
	rg.t.Helper()
	req, err := http.NewRequest(method, rg.plane+path, nil)
	if err != nil {
		rg.t.Fatal(err)
	}
	for k, v := range header {
		req.Header.Set(k, v)
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		rg.t.Fatalf("%s %s: %v", method, path, err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return string(b)
}

// scrape reads /metrics with Prometheus's text parser.
func (rg *rig) scrape() map[string]*dto.MetricFamily {
	rg.t.Helper()
	resp, err := http.Get(rg.metrics)
	if err != nil {
		rg.t.Fatal(err)
	}
	defer resp.Body.Close()
	p := expfmt.NewTextParser(model.UTF8Validation)
	fams, err := p.TextToMetricFamilies(resp.Body)
	if err != nil {
		rg.t.Fatalf("parse /metrics: %v", err)
	}
	return fams
}

// value returns the value of the series of name whose labels include
// labels ("k=v,k=v"), or -1 when there is none: a counter's or gauge's
// value, a histogram's count.
func value(fams map[string]*dto.MetricFamily, name, labels string) float64 {
	f := fams[name]
	if f == nil {
		return -1
	}
	for _, m := range f.Metric {
		if !hasLabels(m, labels) {
			continue
		}
		switch {
		case m.Counter != nil:
			return m.Counter.GetValue()
		case m.Gauge != nil:
			return m.Gauge.GetValue()
		case m.Histogram != nil:
			return float64(m.Histogram.GetSampleCount())
		}
	}
	return -1
}

func hasLabels(m *dto.Metric, labels string) bool {
	have := map[string]string{}
	for _, l := range m.Label {
		have[l.GetName()] = l.GetValue()
	}
	for _, kv := range strings.Split(labels, ",") {
		if k, v, ok := strings.Cut(kv, "="); ok && have[k] != v {
			return false
		}
	}
	return true
}

// TestMetrics_Observe scrapes /metrics as requests are made.
func TestMetrics_Observe(t *testing.T) {
	// Ensure counters read at scrape time and those fed by the After hook
	// move with each kind of request, with bounded label values.
	rg := newRig(t, Options{Version: "v9.9.9-test"})
	var tok string
	type want struct {
		name, labels string
		value        float64
	}
	steps := []struct {
		name string
		do   func()
		want []want
	}{
		{"v1 get", func() { rg.do("GET", "/latest/meta-data/", nil) }, []want{
			{"imds_metadata_requests_total", "version=v1", 1},
			{"imds_http_requests_total", "method=GET,version=v1,code=2xx", 1},
			{"imds_http_request_duration_seconds", "method=GET,version=v1,code=2xx", 1},
		}},
		{"token", func() {
			tok = rg.do("PUT", "/latest/api/token", map[string]string{"X-aws-ec2-metadata-token-ttl-seconds": "60"})
		}, []want{
			{"imds_tokens_issued_total", "", 1},
			{"imds_token_requests_total", "result=issued", 1},
			{"imds_http_requests_total", "method=PUT,version=none,code=2xx", 1},
		}},
		{"v2 get", func() { rg.do("GET", "/latest/meta-data/", map[string]string{"X-aws-ec2-metadata-token": tok}) }, []want{
			{"imds_metadata_requests_total", "version=v2", 1},
			{"imds_http_requests_total", "method=GET,version=v2,code=2xx", 1},
		}},
		{"bad ttl", func() {
			rg.do("PUT", "/latest/api/token", map[string]string{"X-aws-ec2-metadata-token-ttl-seconds": "0"})
		}, []want{
			{"imds_tokens_refused_total", "", 1},
			{"imds_token_requests_total", "result=bad-ttl", 1},
			{"imds_http_requests_total", "method=PUT,version=none,code=4xx", 1},
		}},
		{"bad token", func() { rg.do("GET", "/latest/meta-data/", map[string]string{"X-aws-ec2-metadata-token": "forged"}) }, []want{
			{"imds_refusals_total", "reason=bad-token", 1},
			{"imds_http_requests_total", "method=GET,version=v2,code=4xx", 1},
		}},
		{"unknown method", func() { rg.do("BREW", "/latest/meta-data/", nil) }, []want{
			{"imds_refusals_total", "reason=method", 1},
			{"imds_http_requests_total", "method=other,version=none,code=4xx", 1},
		}},
		{"not found", func() { rg.do("GET", "/latest/meta-data/nothing-here", nil) }, []want{
			{"imds_not_found_total", "", 1},
			{"imds_metadata_requests_total", "version=v1", 2},
			{"imds_http_requests_total", "method=GET,version=v1,code=4xx", 1},
		}},
		{"tokens required", func() {
			in := *rg.view.Instance()
			in.Options.HTTPTokens = imds.TokensRequired
			rg.view.Set(&in)
			rg.do("GET", "/latest/meta-data/", nil)
		}, []want{
			{"imds_refusals_total", "reason=no-token", 1},
			{"imds_http_requests_total", "method=GET,version=v1,code=4xx", 2},
			{"imds_metadata_requests_total", "version=v1", 2},
		}},
		{"store down", func() { rg.down.Store(true) }, []want{
			{"imds_store_up", "", 0},
			{"imds_build_info", "version=v9.9.9-test", 1},
		}},
	}
	fams := rg.scrape()
	if v := value(fams, "imds_store_up", ""); v != 1 {
		t.Fatalf("imds_store_up = %v before any request, want 1", v)
	}
	if v := value(fams, "imds_metadata_requests_total", "version=v1"); v != 0 {
		t.Fatalf("imds_metadata_requests_total{version=v1} = %v before any request, want 0", v)
	}
	for _, st := range steps {
		t.Run(st.name, func(t *testing.T) {
			st.do()
			fams := rg.scrape()
			for _, w := range st.want {
				if got := value(fams, w.name, w.labels); got != w.value {
					t.Errorf("%s{%s} = %v, want %v", w.name, w.labels, got, w.value)
				}
			}
		})
	}
	if _, ok := rg.scrape()["imds_instance_requests_total"]; ok {
		t.Error("per-instance series exported without PerInstance")
	}
}

// TestMetrics_PerInstance checks the per-instance option.
func TestMetrics_PerInstance(t *testing.T) {
	// Ensure per-instance series appear when asked for, labelled by
	// instance id, version and result.
	rg := newRig(t, Options{PerInstance: true})
	id := rg.view.Instance().ID
	rg.do("GET", "/latest/meta-data/", nil)
	rg.do("GET", "/latest/meta-data/", nil)
	rg.do("PUT", "/latest/meta-data/", nil)
	fams := rg.scrape()
	tests := []struct {
		labels string
		want   float64
	}{
		{"instance=" + id + ",version=v1,result=served", 2},
		{"instance=" + id + ",version=none,result=refused", 1},
	}
	for _, tt := range tests {
		t.Run(tt.labels, func(t *testing.T) {
			if got := value(fams, "imds_instance_requests_total", tt.labels); got != tt.want {
				t.Errorf("imds_instance_requests_total{%s} = %v, want %v", tt.labels, got, tt.want)
			}
		})
	}
}

// TestLabels bounds label values.
func TestLabels(t *testing.T) {
	// Ensure unknown methods, statuses and refusal reasons map to fixed values.
	tests := []struct{ got, want string }{
		{methodLabel(methodIndex("GET")), "GET"},
		{methodLabel(methodIndex("get")), "other"},
		{methodLabel(methodIndex(strings.Repeat("X", 100))), "other"},
		{codeClasses[codeIndex(0)], "dropped"},
		{codeClasses[codeIndex(200)], "2xx"},
		{codeClasses[codeIndex(503)], "5xx"},
		{codeClasses[codeIndex(999)], "dropped"},
		{refusalLabel(dataplane.RefusedBadTTL), "bad-ttl"},
		{refusalLabel("made-up"), "other"},
	}
	for _, tt := range tests {
		if tt.got != tt.want {
			t.Errorf("label = %q, want %q", tt.got, tt.want)
		}
	}
}
