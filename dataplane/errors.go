package dataplane

import (
	"net/http"
	"strconv"
	"strings"
)

// The error pages of the metadata service. The 404 page is the one EC2's own
// mock serves and is widely reproduced as EC2's; 400 and 429 use the second
// template of that mock. 401 and 403 have empty bodies: real 401s carry none
// (aws-sdk-cpp broke on exactly that), and the 403 of a refused token request
// is empty too (kube2iam reports). 405 is empty with an Allow header, as
// observed. See SPEC.md 9.2 and cases BL-03, BL-22, BL-32.
const (
	page404 = `<?xml version="1.0" encoding="iso-8859-1"?>
<!DOCTYPE html PUBLIC "-//W3C//DTD XHTML 1.0 Transitional//EN"
	"http://www.w3.org/TR/xhtml1/DTD/xhtml1-transitional.dtd">
<html xmlns="http://www.w3.org/1999/xhtml" xml:lang="en" lang="en">
 <head>
  <title>404 - Not Found</title>
 </head>
 <body>
  <h1>404 - Not Found</h1>
 </body>
</html>`

	pageUTF8 = `<?xml version="1.0" encoding="UTF-8"?>
<!DOCTYPE html PUBLIC "-//W3C//DTD XHTML 1.0 Transitional//EN" "http://www.w3.org/TR/xhtml1/DTD/xhtml1-transitional.dtd">
<html xmlns="http://www.w3.org/1999/xhtml" xml:lang="en" lang="en">
 <head>
  <title>TITLE</title>
 </head>
 <body>
  <h1>TITLE</h1>
 </body>
</html>`
)

// errorPage is a fully prepared error answer.
type errorPage struct {
	status      int
	contentType []string
	body        []byte
	length      []string
	allow       []string
}

func newPage(status int, contentType string, body string, allow string) *errorPage {
	p := &errorPage{
		status:      status,
		contentType: []string{contentType},
		body:        []byte(body),
		length:      []string{strconv.Itoa(len(body))},
	}
	if allow != "" {
		p.allow = []string{allow}
	}
	return p
}

func utf8Page(title string) string { return strings.ReplaceAll(pageUTF8, "TITLE", title) }

// Error answers, one per failure kind.
var (
	errNotFound           = newPage(http.StatusNotFound, "text/html", page404, "")
	errBadRequest         = newPage(http.StatusBadRequest, "text/html", utf8Page("400 - Bad Request"), "")
	errUnauthorized       = newPage(http.StatusUnauthorized, "text/plain", "", "")
	errForbidden          = newPage(http.StatusForbidden, "text/plain", "", "")
	errServiceUnavailable = newPage(http.StatusServiceUnavailable, "text/html", utf8Page("503 - Service Unavailable"), "")
	errTooManyRequests    = newPage(http.StatusTooManyRequests, "text/html", utf8Page("429 - Too Many Requests"), "")
	errMethodMetadata     = newPage(http.StatusMethodNotAllowed, "text/plain", "", "GET, HEAD")
	errMethodToken        = newPage(http.StatusMethodNotAllowed, "text/plain", "", "OPTIONS, PUT")
	optionsToken          = newPage(http.StatusOK, "text/plain", "", "OPTIONS, PUT")
	retryAfterOneSecond   = []string{"1"}
)

// writeError sends p and returns its status. Every answer of the data plane, errors included,
// carries Server: EC2ws and Content-Length.
func (s *Server) writeError(w http.ResponseWriter, p *errorPage) int {
	h := w.Header()
	s.commonHeaders(h)
	h["Content-Type"] = p.contentType
	h["Content-Length"] = p.length
	if p.allow != nil {
		h["Allow"] = p.allow
	}
	if p == errTooManyRequests {
		h["Retry-After"] = retryAfterOneSecond
	}
	w.WriteHeader(p.status)
	w.Write(p.body)
	return p.status
}
