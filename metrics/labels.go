package metrics

import (
	"net/http"

	"github.com/imds-dev/imds/dataplane"
)

// methods are the method label's values; any other method is "other".
var methods = [...]string{
	http.MethodGet, http.MethodHead, http.MethodPut, http.MethodPost, http.MethodDelete,
	http.MethodPatch, http.MethodOptions, http.MethodConnect, http.MethodTrace,
}

func methodIndex(m string) int {
	for i, name := range methods {
		if m == name {
			return i
		}
	}
	return len(methods)
}

func methodLabel(i int) string {
	if i == len(methods) {
		return "other"
	}
	return methods[i]
}

// versions are the version label's values, indexed by Outcome.Version.
var versions = [3]string{"none", "v1", "v2"}

// codeClasses are the code label's values: a status's class, or
// "dropped" for a connection closed without an answer.
var codeClasses = [...]string{"dropped", "1xx", "2xx", "3xx", "4xx", "5xx"}

func codeIndex(status int) int {
	if status < 100 || status > 599 {
		return 0
	}
	return status / 100
}

// refusals are the refusal reasons the data plane names; any other
// becomes "other".
var refusals = map[string]bool{
	dataplane.RefusedUnknownSource: true, dataplane.RefusedIPv6: true,
	dataplane.RefusedDisabled: true, dataplane.RefusedFault: true,
	dataplane.RefusedDatedTokenPath: true, dataplane.RefusedMethod: true,
	dataplane.RefusedForwarded: true, dataplane.RefusedBadTTL: true,
	dataplane.RefusedInternal: true, dataplane.RefusedNoToken: true,
	dataplane.RefusedBadToken: true, dataplane.RefusedExpired: true,
}

func refusalLabel(reason string) string {
	if refusals[reason] {
		return reason
	}
	return "other"
}
