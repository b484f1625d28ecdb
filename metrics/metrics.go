// Package metrics exports imds's data plane, store health and build as
// Prometheus metrics for /metrics on the control listener.
//
// Outcome counts come from dataplane.Counters, read at scrape time, so
// they cost the data plane nothing beyond its atomic adds. Request counts
// and latencies by method, IMDS version and status class come from the
// data plane's After hook (Metrics.Observe). Every label takes few values:
// unknown methods become "other", refusal reasons are the data plane's
// fixed set, and series per instance exist only when asked for.
package metrics

import (
	"net/http"
	"runtime"
	"sync/atomic"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/collectors"
	"github.com/prometheus/client_golang/prometheus/promhttp"

	"github.com/imds-dev/imds/dataplane"
)

// DefaultBuckets are the latency histogram's upper bounds in seconds: the
// data plane answers in tens of microseconds, a slow store or an injected
// fault in up to seconds.
var DefaultBuckets = []float64{.00005, .0001, .00025, .0005, .001, .0025, .005, .01, .025, .1, .5, 2.5}

// Options configure New. The zero value of each field means the
// documented default.
type Options struct {
	// Counters are the data plane's outcome counters, read at each scrape;
	// nil: their metrics are left out.
	Counters *dataplane.Counters
	// Health reports the store's health, as imds.HealthReporter does; nil:
	// the store is reported up.
	Health func() error
	// Version is the build's version in imds_build_info; default "dev".
	Version string
	// PerInstance adds request counts labelled by instance id. Off by
	// default: the number of series then grows with the fleet.
	PerInstance bool
	// Buckets are the latency histogram's upper bounds in seconds; default
	// DefaultBuckets.
	Buckets []float64
}

// Metrics holds imds's metrics in a registry of its own. Observe is meant
// for dataplane.Hooks.After; all methods are safe for concurrent use.
type Metrics struct {
	reg         *prometheus.Registry
	requests    *prometheus.CounterVec   // method, version, code
	latency     *prometheus.HistogramVec // method, version, code
	tokens      *prometheus.CounterVec   // result
	perInstance *prometheus.CounterVec   // instance, version, result; nil unless asked for

	// series caches the children of requests and latency, so the hot path
	// skips the label hashing after a combination's first request.
	series [len(methods) + 1][3][len(codeClasses)]atomic.Pointer[series]
	// issued is the tokens counter's hottest child, looked up once.
	issued prometheus.Counter
}

type series struct {
	requests prometheus.Counter
	latency  prometheus.Observer
}

// New returns Metrics with every collector registered, the Go runtime's
// and the process's included.
func New(o Options) *Metrics {
	if o.Version == "" {
		o.Version = "dev"
	}
	if len(o.Buckets) == 0 {
		o.Buckets = DefaultBuckets
	}
	labels := []string{"method", "version", "code"}
	m := &Metrics{
		reg: prometheus.NewRegistry(),
		requests: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "imds_http_requests_total",
			Help: "Data-plane requests answered, by method, IMDS version (v1: no token header, v2: token header, none: answered before the token was looked at) and status class (dropped: connection closed without an answer).",
		}, labels),
		latency: prometheus.NewHistogramVec(prometheus.HistogramOpts{
			Name:    "imds_http_request_duration_seconds",
			Help:    "Time to answer a data-plane request, by method, IMDS version and status class.",
			Buckets: o.Buckets,
		}, labels),
		tokens: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "imds_token_requests_total",
			Help: "Requests on the token path, by result: issued, or the reason they were refused.",
		}, []string{"result"}),
	}
	m.issued = m.tokens.WithLabelValues("issued")
	m.reg.MustRegister(m.requests, m.latency, m.tokens,
		newStateCollector(o.Counters, o.Health, o.Version),
		collectors.NewGoCollector(),
		collectors.NewProcessCollector(collectors.ProcessCollectorOpts{}))
	if o.PerInstance {
		m.perInstance = prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "imds_instance_requests_total",
			Help: "Data-plane requests per instance, by IMDS version and result (served or refused).",
		}, []string{"instance", "version", "result"})
		m.reg.MustRegister(m.perInstance)
	}
	return m
}

// Registry returns the registry behind Handler, for further collectors.
func (m *Metrics) Registry() *prometheus.Registry { return m.reg }

// Handler serves the metrics in Prometheus's exposition formats.
func (m *Metrics) Handler() http.Handler {
	return promhttp.HandlerFor(m.reg, promhttp.HandlerOpts{
		Registry:      m.reg,
		ErrorHandling: promhttp.ContinueOnError,
	})
}

// Observe counts one answered data-plane request.
func (m *Metrics) Observe(r *http.Request, out dataplane.Outcome, took time.Duration) {
	mi, vi, ci := methodIndex(r.Method), min(max(out.Version, 0), 2), codeIndex(out.Status)
	slot := &m.series[mi][vi][ci]
	s := slot.Load()
	if s == nil {
		lv := []string{methodLabel(mi), versions[vi], codeClasses[ci]}
		s = &series{requests: m.requests.WithLabelValues(lv...), latency: m.latency.WithLabelValues(lv...)}
		slot.Store(s)
	}
	s.requests.Inc()
	s.latency.Observe(took.Seconds())

	if out.TokenRequest {
		if out.Refusal == "" {
			m.issued.Inc()
		} else {
			m.tokens.WithLabelValues(refusalLabel(out.Refusal)).Inc()
		}
	}
	if m.perInstance != nil && out.Instance != nil {
		result := "served"
		if out.Refusal != "" {
			result = "refused"
		}
		m.perInstance.WithLabelValues(out.Instance.ID, versions[vi], result).Inc()
	}
}

// goVersion is reported in imds_build_info.
var goVersion = runtime.Version()
