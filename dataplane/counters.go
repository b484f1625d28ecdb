package dataplane

import "sync/atomic"

// Counters count data-plane outcomes. They are plain atomics so that the hot
// path pays a few nanoseconds; the metrics endpoint reads them.
type Counters struct {
	RequestsV1       atomic.Uint64 // answered without a token
	RequestsV2       atomic.Uint64 // answered with a valid token
	RefusedNoToken   atomic.Uint64 // 401: token required but absent
	RefusedBadToken  atomic.Uint64 // 401: malformed, forged or another instance's
	RefusedExpired   atomic.Uint64 // 401: expired token
	TokensIssued     atomic.Uint64
	TokensRefused    atomic.Uint64 // token PUTs answered 400 or 403
	EndpointDisabled atomic.Uint64 // 403: http-endpoint disabled
	NotFound         atomic.Uint64
	UnknownSource    atomic.Uint64 // no instance owns the source address
	IPv6Refused      atomic.Uint64 // closed: IPv6 endpoint disabled
	MethodNotAllowed atomic.Uint64
	ForwardedRefused atomic.Uint64 // 403: X-Forwarded-For with a token
	HopLimitFailures atomic.Uint64 // the socket refused the hop limit
}
