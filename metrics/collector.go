package metrics

import (
	"sync/atomic"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/imds-dev/imds/dataplane"
)

// stateCollector reads the data plane's counters and the store's health
// at scrape time.
type stateCollector struct {
	counters *dataplane.Counters // nil: counter metrics left out
	health   func() error        // nil: always up
	version  string

	metadata, refusals, tokensIssued, tokensRefused *prometheus.Desc
	notFound, hopLimit, storeUp, buildInfo          *prometheus.Desc
}

func newStateCollector(c *dataplane.Counters, health func() error, version string) *stateCollector {
	return &stateCollector{
		counters: c,
		health:   health,
		version:  version,
		metadata: prometheus.NewDesc("imds_metadata_requests_total",
			"Metadata requests answered from the tree, by IMDS version: v1 without a token (EC2's MetadataNoToken), v2 with a valid one.",
			[]string{"version"}, nil),
		refusals: prometheus.NewDesc("imds_refusals_total",
			"Data-plane requests refused, by reason; no-token is EC2's MetadataNoTokenRejected. Refused token requests are in imds_tokens_refused_total and imds_token_requests_total.",
			[]string{"reason"}, nil),
		tokensIssued: prometheus.NewDesc("imds_tokens_issued_total",
			"IMDSv2 tokens issued.", nil, nil),
		tokensRefused: prometheus.NewDesc("imds_tokens_refused_total",
			"Token requests refused with 400 or 403 (bad TTL, X-Forwarded-For, dated token path).", nil, nil),
		notFound: prometheus.NewDesc("imds_not_found_total",
			"Metadata requests answered 404.", nil, nil),
		hopLimit: prometheus.NewDesc("imds_hop_limit_failures_total",
			"Token answers sent with the default TTL because the socket refused the hop limit.", nil, nil),
		storeUp: prometheus.NewDesc("imds_store_up",
			"1 while the instance store is in step with its backend, else 0.", nil, nil),
		buildInfo: prometheus.NewDesc("imds_build_info",
			"Always 1; the labels name the build.", []string{"version", "go_version"}, nil),
	}
}

// Describe sends every descriptor the collector may send.
func (c *stateCollector) Describe(ch chan<- *prometheus.Desc) {
	for _, d := range []*prometheus.Desc{c.metadata, c.refusals, c.tokensIssued, c.tokensRefused,
		c.notFound, c.hopLimit, c.storeUp, c.buildInfo} {
		ch <- d
	}
}

// Collect reads the counters and the health once per scrape.
func (c *stateCollector) Collect(ch chan<- prometheus.Metric) {
	up := 1.0
	if c.health != nil && c.health() != nil {
		up = 0
	}
	ch <- prometheus.MustNewConstMetric(c.storeUp, prometheus.GaugeValue, up)
	ch <- prometheus.MustNewConstMetric(c.buildInfo, prometheus.GaugeValue, 1, c.version, goVersion)
	if c.counters == nil {
		return
	}

	n := c.counters
	counter := func(d *prometheus.Desc, v *atomic.Uint64, labels ...string) {
		ch <- prometheus.MustNewConstMetric(d, prometheus.CounterValue, float64(v.Load()), labels...)
	}
	counter(c.metadata, &n.RequestsV1, "v1")
	counter(c.metadata, &n.RequestsV2, "v2")
	counter(c.refusals, &n.RefusedNoToken, dataplane.RefusedNoToken)
	counter(c.refusals, &n.RefusedBadToken, dataplane.RefusedBadToken)
	counter(c.refusals, &n.RefusedExpired, dataplane.RefusedExpired)
	counter(c.refusals, &n.EndpointDisabled, dataplane.RefusedDisabled)
	counter(c.refusals, &n.UnknownSource, dataplane.RefusedUnknownSource)
	counter(c.refusals, &n.IPv6Refused, dataplane.RefusedIPv6)
	counter(c.refusals, &n.MethodNotAllowed, dataplane.RefusedMethod)
	counter(c.refusals, &n.ForwardedRefused, dataplane.RefusedForwarded)
	counter(c.tokensIssued, &n.TokensIssued)
	counter(c.tokensRefused, &n.TokensRefused)
	counter(c.notFound, &n.NotFound)
	counter(c.hopLimit, &n.HopLimitFailures)
}
