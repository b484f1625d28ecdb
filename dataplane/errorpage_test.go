package dataplane

import (
	"net/http/httptest"
	"strconv"
	"strings"
	"testing"
)

// Ensure WriteErrorPage sends the same page, with the same headers, as the
// data plane does for the status, and a templated page for any other status.
func TestWriteErrorPage(t *testing.T) {
	for _, tt := range []struct {
		status    int
		keepAlive bool
		title     string
		retry     string
		close     string
	}{
		{500, false, "500 - Internal Server Error", "", "close"},
		{503, false, "503 - Service Unavailable", "", "close"},
		{429, false, "429 - Too Many Requests", "1", "close"},
		{429, true, "429 - Too Many Requests", "1", ""},
		{404, false, "404 - Not Found", "", "close"},
		{502, false, "502 - Bad Gateway", "", "close"},
	} {
		t.Run(tt.title, func(t *testing.T) {
			w := httptest.NewRecorder()
			if got := WriteErrorPage(w, tt.status, tt.keepAlive); got != tt.status {
				t.Errorf("WriteErrorPage = %d, want %d", got, tt.status)
			}
			h := w.Result().Header
			body := w.Body.String()
			if w.Code != tt.status || !strings.Contains(body, "<title>"+tt.title+"</title>") {
				t.Errorf("answer %d %q, want %d with title %q", w.Code, body, tt.status, tt.title)
			}
			if h.Get("Server") != "EC2ws" || h.Get("Content-Type") != "text/html" ||
				h.Get("Content-Length") != strconv.Itoa(len(body)) {
				t.Errorf("headers %v", h)
			}
			if h.Get("Retry-After") != tt.retry || h.Get("Connection") != tt.close {
				t.Errorf("Retry-After %q Connection %q, want %q %q",
					h.Get("Retry-After"), h.Get("Connection"), tt.retry, tt.close)
			}
		})
	}
}
