package dataplane

import (
	"net/http"
	"strconv"
)

// errInternalServerError is the 500 page. The data plane never answers 500
// by itself (SPEC.md 9.1); fault injection does, in the family of the 503.
var errInternalServerError = newPage(http.StatusInternalServerError, "text/html",
	utf8Page("500 - Internal Server Error"), "")

// pagesByStatus are the prepared error pages another package may send.
var pagesByStatus = map[int]*errorPage{
	http.StatusBadRequest:          errBadRequest,
	http.StatusUnauthorized:        errUnauthorized,
	http.StatusForbidden:           errForbidden,
	http.StatusNotFound:            errNotFound,
	http.StatusTooManyRequests:     errTooManyRequests,
	http.StatusInternalServerError: errInternalServerError,
	http.StatusServiceUnavailable:  errServiceUnavailable,
}

// WriteErrorPage answers w with the data plane's own error page for status,
// byte for byte what the service sends: Server: EC2ws, Content-Length,
// Connection: close unless keepAlive, and for 429 Retry-After: 1. A status
// without a prepared page gets the UTF-8 template titled with its code and
// reason. It returns status. Fault injection uses it so that an injected
// failure cannot be told from a real one.
func WriteErrorPage(w http.ResponseWriter, status int, keepAlive bool) int {
	p, ok := pagesByStatus[status]
	if !ok {
		p = newPage(status, "text/html", utf8Page(strconv.Itoa(status)+" - "+http.StatusText(status)), "")
	}
	s := Server{keepAlive: keepAlive}
	return s.writeError(w, p)
}
